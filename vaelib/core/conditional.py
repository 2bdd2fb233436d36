"""Class-conditional digits from an unconditional VAE: model where each class lives in latent space, sample there.

The VAE never saw a label, but its encoder puts images of one digit close together. Fit a density to
the codes of each class of (part of) the training set, draw z from the density of class d and decode it:
a "d". Three densities, all fitted to the same encoded training images:

- "gaussian": one full-covariance Gaussian per class over the encoder means. Simple, but in a 2-D latent
  plane the classes are curved, overlapping blobs and a Gaussian spills over into its neighbours.
- "posterior": the aggregate posterior of the class, the mixture of q(z|x) over its training images.
  Sampling picks a random training image of the class and draws z ~ N(mu(x), sigma(x)^2).
- "typical" (the default): the aggregate posterior of the class's *typical* images only, those whose code
  has a majority of its own class among its nearest codes. Where two classes overlap, the decoder draws the
  majority class, so sampling a 4 from inside the 9s gives a 9; leaving those images out trades some
  variety (unusual handwriting) for digits that come out as asked.
"""

from typing import NamedTuple

import torch

from .classifier import predict
from .data import Digits
from .errors import VAEError
from .latent import codes_to_images, encode_posteriors

DIGITS = range(10)
FIT_IMAGES = 10_000  # training images encoded to fit the densities: about 1,000 per class, a second to encode
NEIGHBOURS = 20  # codes that vote on whether an image is typical of its class


def check_digit(digit) -> int:
    """The digit as an int, or a one-line VAEError when it is not one of 0-9."""
    if isinstance(digit, bool) or not isinstance(digit, int) or digit not in DIGITS:
        raise VAEError(f"digit must be an integer from 0 to 9, got {digit!r}")
    return digit


class ClassGaussians(NamedTuple):
    """One Gaussian N(mean_d, cov_d) per digit d over the encoder means; scale_tril is cov's Cholesky factor."""

    means: torch.Tensor  # (10, latent_dim)
    scale_trils: torch.Tensor  # (10, latent_dim, latent_dim)

    def sample(self, digit: int, n: int, generator=None) -> torch.Tensor:
        """n codes (n, latent_dim) of class digit."""
        d = check_digit(digit)
        eps = torch.randn(n, self.means.shape[1], generator=generator)
        return self.means[d] + eps @ self.scale_trils[d].T


class ClassPosteriors(NamedTuple):
    """The aggregate posterior of each class: q(z|x) of every training image, with its label."""

    mus: torch.Tensor  # (N, latent_dim)
    sigmas: torch.Tensor  # (N, latent_dim)
    labels: torch.Tensor  # (N,)

    def sample(self, digit: int, n: int, generator=None) -> torch.Tensor:
        """n codes (n, latent_dim): pick training images of class digit at random, draw z ~ q(z|x) for each."""
        members = torch.nonzero(self.labels == check_digit(digit)).squeeze(1)
        if len(members) == 0:
            raise VAEError(f"no training image of digit {digit} was encoded; fit on digits that include it")
        pick = members[torch.randint(len(members), (n,), generator=generator)]
        eps = torch.randn(n, self.mus.shape[1], generator=generator)
        return self.mus[pick] + self.sigmas[pick] * eps


def fit_gaussians(mus: torch.Tensor, labels: torch.Tensor) -> ClassGaussians:
    """Mean and full covariance of the codes of each class (a little jitter keeps every covariance invertible)."""
    means, trils = [], []
    for d in DIGITS:
        codes = mus[labels == d].double()  # (N_d, latent_dim)
        if len(codes) < 2:
            raise VAEError(f"need at least 2 encoded images of digit {d} to fit its Gaussian, got {len(codes)}")
        cov = torch.cov(codes.T).reshape(mus.shape[1], mus.shape[1]) + 1e-6 * torch.eye(
            mus.shape[1], dtype=torch.float64
        )
        means.append(codes.mean(0))
        trils.append(torch.linalg.cholesky(cov))
    return ClassGaussians(torch.stack(means).float(), torch.stack(trils).float())


def typical(mus: torch.Tensor, labels: torch.Tensor, neighbours: int = NEIGHBOURS, chunk: int = 1000) -> torch.Tensor:
    """(N,) bool: True where most of the `neighbours` codes nearest to an image's code share its label (a vote).

    A class with no typical image keeps all of its images.
    """
    votes = []
    for start in range(0, len(mus), chunk):
        distances = torch.cdist(mus[start : start + chunk], mus)  # (chunk, N)
        nearest = distances.topk(neighbours + 1, largest=False).indices[:, 1:]  # (chunk, neighbours), not itself
        votes.append((labels[nearest] == labels[start : start + chunk, None]).float().mean(1))
    keep = torch.cat(votes) > 0.5
    has_typical = torch.zeros(10, dtype=torch.bool).index_fill_(0, labels[keep], True)
    return keep | ~has_typical[labels]


def densities_from_codes(mus: torch.Tensor, sigmas: torch.Tensor, labels: torch.Tensor, kind: str = "typical"):
    """The class densities of encoded images: kind 'typical', 'posterior' or 'gaussian' (see the module docstring)."""
    if kind == "typical":
        keep = typical(mus, labels)
        return ClassPosteriors(mus[keep], sigmas[keep], labels[keep])
    if kind == "posterior":
        return ClassPosteriors(mus, sigmas, labels)
    if kind == "gaussian":
        return fit_gaussians(mus, labels)
    raise ValueError(f"kind must be 'typical', 'posterior' or 'gaussian', got {kind!r}")


def class_densities(model, digits: Digits, kind: str = "typical"):
    """Encode `digits` (normally mnist.train.head(FIT_IMAGES)) and fit the class densities of that kind."""
    mus, sigmas = encode_posteriors(model, digits)
    return densities_from_codes(mus, sigmas, digits.labels.cpu(), kind)


def sample_digits(model, density, digit: int, n: int, generator=None) -> torch.Tensor:
    """n images (n, 1, 28, 28) of the requested digit, decoded from the class density."""
    return codes_to_images(model, density.sample(digit, n, generator))


class Recognition(NamedTuple):
    """How a classifier labels generated digits: confusion[d, c] = samples asked as d and recognised as c."""

    confusion: torch.Tensor  # (10, 10) counts

    @property
    def rates(self) -> torch.Tensor:
        """Per requested digit, the fraction recognised as that digit, (10,)."""
        return self.confusion.diagonal() / self.confusion.sum(1)

    @property
    def mean(self) -> float:
        return self.rates.mean().item()


def recognition(model, density, classifier, per_class: int = 100, seed: int = 0) -> Recognition:
    """Generate per_class digits of each class with a fixed seed and count what the classifier sees."""
    generator = torch.Generator().manual_seed(seed)
    confusion = torch.zeros(10, 10, dtype=torch.long)
    for d in DIGITS:
        predicted = predict(classifier, sample_digits(model, density, d, per_class, generator))
        confusion[d] += torch.bincount(predicted, minlength=10)
    return Recognition(confusion)
