"""The pixel likelihood p(x|z), its fast and all-pairs forms, and the one-module swap that shows it has one home."""

import ast
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal

from vaelib.core import likelihood, measures
from vaelib.core.data import Digits
from vaelib.core.model import VAE, ModelConfig, negative_elbo


def test_log_prob_matches_the_written_out_formula_and_torch_bernoulli():
    """log p(x|z) summed over pixels: written out, and from torch.distributions.Bernoulli."""
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(8, 1, 28, 28, generator=g) * 3
    x = torch.rand(8, 1, 28, 28, generator=g).round()
    direct = (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(1).sum(1)
    torch.testing.assert_close(likelihood.log_prob(logits, x), direct)
    torch.testing.assert_close(likelihood.log_prob(logits, x), Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1))


def test_log_prob_is_finite_for_extreme_logits():
    """Logits of ±200 for the wrong pixel value cost exactly 200 nats each, not inf or NaN."""
    logits = torch.tensor([[-200.0, 200.0]]).reshape(1, 1, 1, 2)
    x = torch.tensor([[1.0, 0.0]]).reshape(1, 1, 1, 2)
    assert torch.isfinite(likelihood.log_prob(logits, x)).all()
    torch.testing.assert_close(likelihood.log_prob(logits, x), torch.tensor([-400.0]))


def test_mean_is_the_sigmoid():
    logits = torch.linspace(-30, 30, 101)
    torch.testing.assert_close(likelihood.mean(logits), 1 / (1 + torch.exp(-logits)))


def test_fast_form_equals_log_prob_at_every_scale():
    """The in-place form the importance-weighted loop uses: logits from -120 to 120, grey and binary pixels."""
    g = torch.Generator().manual_seed(2)
    n, b = 3, 4
    logits = torch.cat([torch.linspace(-120, 120, n * b * 784 // 2), 5 * torch.randn(n * b * 784 // 2, generator=g)])
    logits = logits[torch.randperm(len(logits), generator=g)].reshape(n, b, 784)
    x = torch.cat([torch.rand(2, 784, generator=g), torch.rand(2, 784, generator=g).round()])
    expected = torch.stack(
        [likelihood.log_prob(logits[i].reshape(b, 1, 28, 28), x.reshape(b, 1, 28, 28)) for i in range(n)]
    )
    torch.testing.assert_close(likelihood.log_prob_fast(logits.clone(), x), expected, rtol=1e-6, atol=1e-3)


def test_pairs_form_is_every_image_with_every_code():
    g = torch.Generator().manual_seed(3)
    logits, x = 4 * torch.randn(5, 784, generator=g), torch.rand(3, 784, generator=g)
    pairs = likelihood.log_prob_pairs(logits.clone(), x)  # (3, 5)
    for i in range(3):
        for m in range(5):
            expected = likelihood.log_prob(logits[m].reshape(1, 1, 28, 28), x[i].reshape(1, 1, 28, 28))[0]
            torch.testing.assert_close(pairs[i, m], expected, rtol=1e-6, atol=1e-3)


# ----- one home: swap in a Gaussian likelihood, and every measure built on p(x|z) follows

SIGMA = 0.3  # the fixed standard deviation of the Gaussian pixels


def gaussian_pixels(monkeypatch) -> None:
    """Replace the four functions of vaelib.core.likelihood (and nothing else) by a Gaussian p(x|z) = N(l, σ²)."""

    def log_prob(logits, x):
        return Normal(logits.float(), SIGMA).log_prob(x.float()).flatten(1).sum(1)

    def log_prob_fast(logits, x):  # (n, B, P), (B, P) -> (n, B)
        return Normal(logits, SIGMA).log_prob(x.float()).sum(-1)

    def log_prob_pairs(logits, x):  # (M, P), (B, P) -> (B, M)
        return Normal(logits[None], SIGMA).log_prob(x.float()[:, None]).sum(-1)

    monkeypatch.setattr(likelihood, "log_prob", log_prob)
    monkeypatch.setattr(likelihood, "mean", lambda logits: logits)
    monkeypatch.setattr(likelihood, "log_prob_fast", log_prob_fast)
    monkeypatch.setattr(likelihood, "log_prob_pairs", log_prob_pairs)


def by_hand(model, x, z) -> torch.Tensor:
    """log p(x|z) of a Gaussian decoder written out: -½ Σ_p [log 2πσ² + (x_p - l_p)² / σ²], (B,) for (B, D) codes."""
    with torch.no_grad():
        logits = model.decode_logits(z).flatten(1).double()
    x = x.flatten(1).double()
    return -0.5 * (math.log(2 * math.pi * SIGMA**2) + (x - logits) ** 2 / SIGMA**2).sum(1)


@pytest.fixture
def gaussian_model(monkeypatch):
    gaussian_pixels(monkeypatch)
    torch.manual_seed(0)
    return VAE(ModelConfig(latent_dim=2)).eval()


@pytest.fixture
def images():
    return torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(5))


def test_swapped_likelihood_reaches_the_loss(gaussian_model, images):
    g = torch.Generator().manual_seed(6)
    logits, mu, log_var = torch.randn(4, 1, 28, 28, generator=g), torch.randn(4, 2, generator=g), torch.zeros(4, 2)
    recon = negative_elbo(logits, images, mu, log_var).recon
    expected = -(-0.5 * (math.log(2 * math.pi * SIGMA**2) + (images - logits) ** 2 / SIGMA**2)).flatten(1).sum(1).mean()
    torch.testing.assert_close(recon, expected)
    assert recon.item() != pytest.approx(-Bernoulli(logits=logits).log_prob(images.round()).flatten(1).sum(1).mean())


def test_swapped_likelihood_reaches_the_importance_weighted_bound(gaussian_model, images):
    """iwae_per_image against the bound written out: the same z draws, log w = log p(x|z) + log p(z) - log q(z|x)."""
    k, seed = 6, 3
    bounds = measures.iwae_per_image(gaussian_model, Digits(images, torch.zeros(4)), k=k, batch_size=4, seed=seed)
    with torch.no_grad():
        mu, log_var = gaussian_model.encode(images)
    eps = torch.randn((k, 4, 2), generator=torch.Generator().manual_seed(seed))  # the loop's draws, one pass
    sigma = torch.exp(0.5 * log_var)
    expected = []
    for i in range(4):
        z = mu[i] + sigma[i] * eps[:, i]  # (k, 2)
        log_w = (
            by_hand(gaussian_model, images[i : i + 1].expand(k, -1, -1, -1), z)
            + Normal(0.0, 1.0).log_prob(z).sum(1).double()
            - Normal(mu[i], sigma[i]).log_prob(z).sum(1).double()
        )
        expected.append(-(torch.logsumexp(log_w, 0) - math.log(k)))
    torch.testing.assert_close(bounds, torch.stack(expected), rtol=1e-5, atol=1e-3)


def test_swapped_likelihood_reaches_the_joint_and_the_exact_likelihood(gaussian_model, images):
    z = torch.randn(7, 2, generator=torch.Generator().manual_seed(7))
    joint = measures.log_joint(gaussian_model, images, z, chunk=3)  # (4, 7)
    prior = Normal(0.0, 1.0).log_prob(z).sum(1).double()
    for i in range(4):
        torch.testing.assert_close(
            joint[i], by_hand(gaussian_model, images[i].expand(7, -1, -1, -1), z) + prior, rtol=1e-6, atol=1e-3
        )
    # a decoder that ignores z: p(x) = p(x|z) for every z, so the grid must return the Gaussian likelihood itself
    with torch.no_grad():
        gaussian_model.decoder[0].weight.zero_()
    exact = measures.grid_neg_log_likelihood(gaussian_model, images, steps=101)
    torch.testing.assert_close(exact, -by_hand(gaussian_model, images, torch.zeros(4, 2)), rtol=0, atol=1e-3)


LIKELIHOOD_CALLS = {"binary_cross_entropy", "binary_cross_entropy_with_logits", "softplus", "logsigmoid"}


def likelihood_calls(source: str) -> set[str]:
    """The names of Bernoulli-likelihood functions a module's source uses (as attributes or bare names)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in LIKELIHOOD_CALLS:
            found.add(name)
    return found


def test_no_other_module_writes_the_likelihood():
    """One home for the formula: only vaelib/core/likelihood.py calls the Bernoulli likelihood's building blocks."""
    package = Path(likelihood.__file__).resolve().parents[1]
    assert likelihood_calls("import torch.nn.functional as F\nF.binary_cross_entropy(p, x)") == {"binary_cross_entropy"}
    others = {
        str(path.relative_to(package)): calls
        for path in sorted(package.rglob("*.py"))
        if path.name != "likelihood.py" and (calls := likelihood_calls(path.read_text()))
    }
    assert not others
    assert likelihood_calls(Path(likelihood.__file__).read_text())  # the home itself does use them
