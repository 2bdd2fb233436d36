"""How good is a model: the negative ELBO and the importance-weighted bound on a set of digits, the exact likelihood
of a 2-D model, active latent units, and the Fréchet distance, class entropy and confidence that score samples."""

import math

import torch
from tqdm import tqdm

from . import likelihood
from .data import Digits, batches, num_batches
from .latent import encode_posteriors, grid_codes
from .model import PIXELS, Losses, evaluating, gaussian_log_prob, kl_to_standard_normal, negative_elbo, reparameterize

ELBO_SEED = 0  # the same z noise every time, so two evaluations of one model agree exactly
ACTIVE_THRESHOLD = 0.01  # a latent unit is active when Var_x[mu(x)] exceeds this


def estimate_elbo(model, digits: Digits, batch_size: int = 1000, beta: float = 1.0, seed: int = ELBO_SEED) -> dict:
    """Means over `digits` in eval mode, one z per image, as floats: the fields of model.Losses
    ({'objective', 'neg_elbo', 'recon', 'kl'}; the objective weighs the KL by `beta`)."""
    generator = torch.Generator(digits.images.device).manual_seed(seed)
    sums = torch.zeros(len(Losses._fields), dtype=torch.float64)
    with evaluating(model):
        for batch in batches(digits, batch_size):
            mu, log_var = model.encode(batch.images)
            z = reparameterize(mu, log_var, generator)
            terms = negative_elbo(model.decode_logits(z), batch.images, mu, log_var, beta)
            sums += torch.stack([t.double().cpu() for t in terms]) * len(batch)
    return dict(zip(Losses._fields, (sums / len(digits)).tolist(), strict=True))


def neg_elbo_per_image(model, digits: Digits, batch_size: int = 1000, seed: int = ELBO_SEED) -> torch.Tensor:
    """The one-sample −ELBO of each image, recon + KL, in eval mode: (N,) float64 nats. With the same seed its draws
    of z are estimate_elbo's, so its mean is estimate_elbo's neg_elbo; differences between two models on the same
    images give a paired comparison (standard_error of the differences)."""
    generator = torch.Generator(digits.images.device).manual_seed(seed)
    values = []
    with evaluating(model):
        for batch in batches(digits, batch_size):
            mu, log_var = model.encode(batch.images)
            logits = model.decode_logits(reparameterize(mu, log_var, generator))
            recon = -likelihood.log_prob(logits, batch.images)  # (B,)
            values.append((recon + kl_to_standard_normal(mu, log_var).sum(dim=1)).double().cpu())
    return torch.cat(values)


def elbo_noise(model, digits: Digits, seed: int = ELBO_SEED) -> float:
    """The Monte Carlo error of the one-sample −ELBO's mean over `digits`: how far another draw of z would move it.

    Two independent draws per image give a_i and b_i; (a_i - b_i)² / 2 estimates the variance of image i's value, and
    the mean's error is sqrt(Σ_i var_i) / N. It is what the z noise alone adds, not how the images vary.
    """
    a, b = neg_elbo_per_image(model, digits, seed=seed), neg_elbo_per_image(model, digits, seed=seed + 1)
    return math.sqrt(((a - b).pow(2) / 2).sum().item()) / len(a)


def bits_per_dim(nats_per_image: float, dims: int = PIXELS) -> float:
    """Nats per image -> bits per pixel: divide by the 784 pixels and by ln 2."""
    return nats_per_image / (dims * math.log(2))


def log_weights(model, x: torch.Tensor, eps: torch.Tensor, chunk: int = 1024, q=None) -> torch.Tensor:
    """log w = log p(x|z) + log p(z) - log q(z|x) at the codes z = mu(x) + sigma(x) * eps: eps (n, B, D) -> (n, B)
    float64, in eval mode. The importance weights of the IWAE bound, and at eps on a grid, the integrand of the ELBO.
    q = (mu, log_var), each (B, D), puts another Gaussian in the encoder's place.

    Decodes at most `chunk` images at once (fewer images per pass when B alone exceeds it), so memory stays bounded
    whatever n and B are; log p(x|z) is the likelihood's no-gradient fast form, which keeps the loop near the
    decoder's own speed (benchmarks/iwae_speed.py).
    """
    with evaluating(model):
        mu, log_var = (t.float() for t in (model.encode(x) if q is None else q))  # (B, D) each
        sigma, target = torch.exp(0.5 * log_var), x.float().reshape(len(x), -1)  # (B, D), (B, 784)
        per_pass, images = max(1, chunk // len(x)), max(1, min(len(x), chunk))  # codes per image, images per pass
        rows = []
        for part in eps.split(per_pass):
            row = []
            for i in range(0, len(x), images):
                at = slice(i, i + images)
                z = mu[at] + sigma[at] * part[:, at].to(mu.device)  # (n, b, D)
                logits = model.decode_logits(z.flatten(0, 1)).float().reshape(*z.shape[:2], -1)  # (n, b, 784)
                log_px = likelihood.log_prob_fast(logits, target[at])  # (n, b)
                log_ratio = gaussian_log_prob(z) - gaussian_log_prob(z, mu[at], log_var[at])  # log p(z) - log q(z|x)
                row.append((log_px + log_ratio).double())
            rows.append(torch.cat(row, dim=1))
    return torch.cat(rows)


def iwae_log_weights(model, x: torch.Tensor, k: int, chunk: int = 4096, generator=None) -> torch.Tensor:
    """log w_i for k draws z_i ~ q(z|x) of each image x (B, 1, 28, 28): (k, B) float64 (see log_weights).

    The codes are drawn chunk // B per image at a time, so `chunk` is part of what a seed means (4096 reproduces the
    recorded bounds); log_weights then decodes them in passes of its own size.
    """
    per_pass = max(1, chunk // len(x))
    device = next(model.parameters()).device
    with evaluating(model):
        q = model.encode(x)  # once: every pass below decodes new codes of the same posteriors
    draws = (
        torch.randn((min(per_pass, k - start), len(x), model.config.latent_dim), generator=generator, device=device)
        for start in range(0, k, per_pass)
    )  # drawn pass by pass as they are needed: memory stays bounded
    return torch.cat([log_weights(model, x, eps, q=q) for eps in draws])


def iwae_per_image(
    model,
    digits: Digits,
    k: int = 1000,
    batch_size: int = 50,
    seed: int = ELBO_SEED,
    chunk: int = 4096,
    progress: bool = False,
) -> torch.Tensor:
    """The importance-weighted bound (Burda et al. 2016) of -log p(x) for each image of `digits`, (N,) float64 nats.

    -log (1/k) sum_i w_i with k importance samples per image: an upper bound on -log p(x) that is
    never looser than the -ELBO (k = 1 gives the ELBO) and tightens as k grows.
    """
    generator = torch.Generator(digits.images.device).manual_seed(seed)
    bounds = []
    steps = tqdm(
        batches(digits, batch_size),
        total=num_batches(digits, batch_size),
        desc=f"IWAE k={k}",
        disable=None if progress else True,  # None: only in a terminal
        leave=False,
    )
    with evaluating(model):
        for batch in steps:
            log_w = iwae_log_weights(model, batch.images, k, chunk, generator)  # (k, B)
            bounds.append(-(torch.logsumexp(log_w, dim=0) - math.log(k)).cpu())
    return torch.cat(bounds)


def iwae_bound(model, digits: Digits, k: int = 1000, batch_size: int = 50, seed: int = ELBO_SEED, **kwargs) -> float:
    """Mean importance-weighted bound of -log p(x) over `digits`, in nats per image (see iwae_per_image)."""
    return iwae_per_image(model, digits, k, batch_size, seed, **kwargs).mean().item()


def log_joint(model, x: torch.Tensor, z: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """log p(x, z) = log p(x|z) + log p(z) of every image x (B, 1, 28, 28) with every code z (M, D): (B, M) float64.

    The decoder runs once per code whatever B is (the likelihood's all-pairs form). Normalised over z, this is the
    true posterior p(z|x) = p(x, z) / p(x) that the encoder's q(z|x) approximates.
    """
    target = x.float().reshape(len(x), -1)  # (B, 784)
    log_px = []
    with evaluating(model):
        for z_chunk in z.split(chunk):
            logits = model.decode_logits(z_chunk.to(x.device)).float().reshape(len(z_chunk), -1)  # (m, 784)
            log_px.append(likelihood.log_prob_pairs(logits, target).double().cpu())  # (B, m)
    return torch.cat(log_px, dim=1) + gaussian_log_prob(z.double().cpu())  # (B, M)


def grid_neg_log_likelihood(model, x: torch.Tensor, limit: float = 5.0, steps: int = 301, chunk: int = 1024):
    """-log p(x) itself, not a bound, for a model with a 2-D latent: (B,) float64 nats per image.

    p(x) = ∫ p(x|z) p(z) dz is approximated by the sum of p(x, z_g) Δ² over a steps x steps grid of z_g on
    [-limit, limit]² with cell area Δ². The integrand is smooth in z, so the sum converges fast as the grid gets
    finer, and outside the grid lies 1 - (1 - 2 Φ(-limit))² of the prior's mass (6e-7 at limit 5). All images
    share the grid's steps² decodes, and the sum runs chunk by chunk, so memory stays at B x chunk. Feasible in two
    dimensions only: in 16, a grid this fine would have 301^16 points, which is why bounds exist.
    """
    if model.config.latent_dim != 2:
        raise ValueError(f"a grid over z needs a 2-D latent; this model has latent_dim {model.config.latent_dim}")
    total = torch.full((len(x),), -math.inf, dtype=torch.float64)
    for codes in grid_codes(limit, steps).split(chunk):
        total = torch.logaddexp(total, torch.logsumexp(log_joint(model, x, codes, chunk), dim=1))  # (B,)
    return -(total + 2 * math.log(2 * limit / (steps - 1)))  # + log Δ²


def posterior_kl(
    model, x: torch.Tensor, neg_log_px: torch.Tensor, width: float = 6.0, steps: int = 41, q=None, chunk: int = 1024
):
    """KL(q(z|x) ‖ p(z|x)) of each image (B,) float64 nats, by quadrature, for a model with a 2-D latent; q = (mu,
    log_var), each (B, D), measures another Gaussian than the encoder's.

    KL = E_q[log q(z|x) - log p(z|x)] = E_q[-log w(z)] - (-log p(x)), with log w = log p(x, z) - log q(z|x): the
    expectation is a weighted sum over a steps x steps grid of codes z = mu + sigma * e, e on [-width, width]², each
    weighted by q's density there (normalised; q's mass outside ±6σ is 4e-9). -log p(x) comes from
    grid_neg_log_likelihood. This is the ELBO's gap computed as a divergence between two densities, not as a
    difference of two bounds.
    """
    axis = torch.linspace(-width, width, steps)
    eps = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).reshape(-1, 1, 2).expand(-1, len(x), -1)
    weights = torch.softmax(gaussian_log_prob(eps[:, 0].double()), dim=0)[:, None]  # (S², 1): q at the grid, sums to 1
    neg_elbo = -(weights * log_weights(model, x, eps.contiguous(), chunk, q=q)).sum(dim=0)  # (B,): E_q[-log w]
    return neg_elbo - neg_log_px.double()


def pixel_entropy(images: torch.Tensor) -> torch.Tensor:
    """The reconstruction term's floor: the summed binary entropy of each image's pixels, (B,) float64 nats.

    For a pixel of grey value x, the Bernoulli reconstruction term -[x log p + (1 - x) log(1 - p)] is smallest at
    p = x, where it equals H(x) = -x log x - (1 - x) log(1 - x). So no decoder, however good, scores below the sum of
    H over an image's pixels. H is 0 only at x = 0 and x = 1: on binarised digits the floor is 0, on grey ones it
    is not, which is one reason grey-level nats cannot be compared with the binarised numbers papers report.
    """
    x = images.double().flatten(1)  # (B, 784)
    return 0.0 - (torch.special.xlogy(x, x) + torch.special.xlogy(1 - x, 1 - x)).sum(dim=1)  # 0.0 -: no -0.0


def standard_error(values: torch.Tensor) -> float:
    """Standard error of the mean of per-image values: std / sqrt(N), what a score on a subset is uncertain by."""
    values = values.double()
    return (values.std(unbiased=True) / math.sqrt(len(values))).item() if len(values) > 1 else math.nan


def rate_distortion(model, digits: Digits, seed: int = ELBO_SEED) -> tuple[float, float]:
    """(rate, distortion) in nats per image, as Alemi et al. 2018 ("Fixing a broken ELBO") name the ELBO's parts:
    the rate is the KL term, what the codes cost; the distortion is the reconstruction term, what they fail to say."""
    elbo = estimate_elbo(model, digits, seed=seed)
    return elbo["kl"], elbo["recon"]


def kl_per_dimension(model, digits: Digits, batch_size: int = 1000) -> torch.Tensor:
    """Mean KL(q(z_j|x) ‖ N(0, 1)) of each latent dimension j over `digits`, (latent_dim,) in float64 nats.

    The KL of a diagonal Gaussian is a sum over dimensions, so these add up to the ELBO's KL term. A dimension
    whose KL is near 0 has q(z_j|x) = N(0, 1) for every x: its posterior has collapsed onto the prior and it
    carries no information about the image.
    """
    return posterior_kl_per_dimension(*encode_posteriors(model, digits, batch_size))


def posterior_kl_per_dimension(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """kl_per_dimension from posteriors already encoded: means (N, D) and standard deviations (N, D) -> (D,)."""
    return kl_to_standard_normal(mu, 2 * sigma.log()).double().mean(dim=0)


@torch.no_grad()
def active_units(mu: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Latent dimensions the encoder really uses: Var_x[mu(x)] above `threshold` (Burda et al. 2016).

    mu: (N, latent_dim) encoder means over a data set. An inactive unit has the same mean for every
    image, so its posterior collapses onto the prior and it carries no information.
    """
    return int((mu.double().var(dim=0, unbiased=True) > threshold).sum())


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance_from_stats(mu1, cov1, mu2, cov2) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2):

    |mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr sqrt(cov1 cov2).
    tr sqrt(cov1 cov2) = sum of the square roots of the eigenvalues of sqrt(cov1) cov2 sqrt(cov1),
    a symmetric PSD matrix with the same eigenvalues, so it is computed exactly in float64.
    """
    mu1, cov1, mu2, cov2 = (torch.as_tensor(t, dtype=torch.float64) for t in (mu1, cov1, mu2, cov2))
    root1 = _sqrtm_psd(cov1)
    middle = root1 @ cov2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu1 - mu2).pow(2).sum() + cov1.trace() + cov2.trace() - 2 * trace_sqrt)


def feature_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (F,) and covariance (F, F) of features (N, F), in float64."""
    f = features.double()
    return f.mean(dim=0), torch.cov(f.T)


def frechet_distance(features1: torch.Tensor, features2: torch.Tensor) -> float:
    """Fréchet distance between two feature sets (N1, F) and (N2, F), each summarised by a Gaussian."""
    return frechet_distance_from_stats(*feature_stats(features1), *feature_stats(features2))


def class_entropy(probs: torch.Tensor) -> float:
    """Entropy in nats of the histogram of predicted classes: log 10 ~ 2.30 when all ten digits are equally common.

    probs: (N, 10) classifier probabilities; each sample counts for its most likely class.
    """
    counts = torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1]).double()
    p = counts / counts.sum()
    return float(-(p[p > 0] * p[p > 0].log()).sum())


def mean_confidence(probs: torch.Tensor) -> float:
    """Mean probability of the predicted class: near 1 when samples look like clear digits."""
    return float(probs.max(dim=1).values.mean())
