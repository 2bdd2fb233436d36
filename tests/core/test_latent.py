"""Walking the latent space: lerp and slerp checked with geometry, interpolate, the manifold grid, centroids,
encoding a split and decoding codes (in eval mode, without changing the model's mode)."""

import math
from statistics import NormalDist

import pytest
import torch
from torch.distributions import Normal

from vaelib.core import latent
from vaelib.core.model import VAE, ModelConfig, gaussian_log_prob

TS = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]


@pytest.fixture
def ends() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, generator=g), torch.randn(8, generator=g)


def angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """The angle between two vectors, in float64."""
    a, b = a.double(), b.double()
    return torch.arccos((a @ b / (a.norm() * b.norm())).clamp(-1, 1)).item()


def test_lerp_endpoints_are_exact(ends):
    z0, z1 = ends
    assert torch.equal(latent.lerp(z0, z1, 0.0), z0)
    assert torch.equal(latent.lerp(z0, z1, 1.0), z1)


@pytest.mark.parametrize("t", TS)
def test_lerp_points_lie_on_the_segment(ends, t):
    """The point at t splits the segment z0-z1 in the ratio t : 1 - t (distances along it add up)."""
    z0, z1 = (z.double() for z in ends)
    p = latent.lerp(z0, z1, t)
    length = (z1 - z0).norm().item()
    assert (p - z0).norm().item() == pytest.approx(t * length, abs=1e-9)
    assert (z1 - p).norm().item() == pytest.approx((1 - t) * length, abs=1e-9)


def test_slerp_endpoints(ends):
    """The arc starts at z0 and ends at z1 (to float32 rounding)."""
    z0, z1 = ends
    torch.testing.assert_close(latent.slerp(z0, z1, 0.0), z0, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(latent.slerp(z0, z1, 1.0), z1, rtol=1e-6, atol=1e-6)


def test_slerp_keeps_a_constant_norm(ends):
    """Endpoints of equal norm: every point of the arc has that norm, and the angle from z0 grows as t·Ω.

    The control: the straight line between the same points passes well inside the sphere."""
    z0, z1 = ends
    z0, z1 = 3 * z0 / z0.norm(), 3 * z1 / z1.norm()
    omega = angle(z0, z1)
    assert omega > 1.0  # far enough apart for the two paths to differ
    for t in TS:
        p = latent.slerp(z0, z1, t)
        assert p.norm().item() == pytest.approx(3.0, rel=1e-5)
        assert angle(z0, p) == pytest.approx(t * omega, abs=1e-3)
    assert latent.lerp(z0, z1, 0.5).norm() < 3.0 * 0.9


def test_slerp_of_parallel_codes_is_the_line(ends):
    """Parallel codes: no arc to follow, slerp falls back to lerp instead of dividing by sin(0)."""
    z0, _ = ends
    for t in TS:
        torch.testing.assert_close(latent.slerp(z0, 2 * z0, t), latent.lerp(z0, 2 * z0, t))
        torch.testing.assert_close(latent.slerp(z0, z0, t), z0)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolate_shapes_and_points(ends, method):
    z0, z1 = ends
    path = latent.interpolate(z0, z1, steps=7, method=method)
    assert path.shape == (7, 8)
    one = latent.lerp if method == "lerp" else latent.slerp
    for row, t in zip(path, torch.linspace(0, 1, 7).tolist(), strict=True):
        torch.testing.assert_close(row, one(z0, z1, t))
    torch.testing.assert_close(path[0], z0, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(path[-1], z1, rtol=1e-6, atol=1e-6)
    assert latent.interpolate(z0, z1, method=method).shape == (10, 8)  # the default number of steps


def test_interpolate_rejects_an_unknown_method(ends):
    with pytest.raises(ValueError, match="method must be 'lerp' or 'slerp', got 'spline'"):
        latent.interpolate(*ends, method="spline")


def test_manifold_codes_are_prior_quantiles():
    """Row by row, top row = highest z2; each axis at the N(0, 1) quantiles 0.05 ... 0.95 (statistics.NormalDist)."""
    n = 5
    codes = latent.manifold_codes(n)
    quantiles = torch.tensor([NormalDist().inv_cdf(0.05 + 0.9 * i / (n - 1)) for i in range(n)])
    assert codes.shape == (n * n, 2)
    grid = codes.reshape(n, n, 2)  # (row, column, coordinate)
    for row in range(n):
        torch.testing.assert_close(grid[row, :, 0], quantiles, atol=1e-5, rtol=0)  # z1 grows along a row
        torch.testing.assert_close(grid[row, :, 1], quantiles[n - 1 - row].expand(n), atol=1e-5, rtol=0)


def test_manifold_codes_need_a_2d_latent():
    with pytest.raises(ValueError, match="2-D latent"):
        latent.manifold_codes(5, latent_dim=3)


def test_class_centroids():
    codes = torch.tensor([[0.0, 0.0], [2.0, 4.0], [10.0, 10.0], [1.0, -1.0], [3.0, 3.0]])
    labels = torch.tensor([0, 0, 2, 1, 1])
    centroids = latent.class_centroids(codes, labels, classes=3)
    torch.testing.assert_close(centroids, torch.tensor([[1.0, 2.0], [2.0, 1.0], [10.0, 10.0]]))


def test_nearest_codes_leave_each_code_out():
    """On a line at 0, 1, 3, 7: each code's nearest others, in order, in any chunk size."""
    codes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]])
    expected = torch.tensor([[1, 2], [0, 2], [1, 0], [2, 1]])
    for chunk in (1, 3, 1000):
        assert torch.equal(latent.nearest_codes(codes, neighbours=2, chunk=chunk), expected)


def test_aggregate_log_density_is_the_mixture_of_posteriors():
    """One component is its Gaussian; two are their equal-weight mixture; N(0, I) components give the prior."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(7, 2, generator=g)
    mus, sigmas = torch.tensor([[0.5, -1.0], [2.0, 0.0]]), torch.tensor([[0.3, 0.2], [1.0, 0.5]])
    each = torch.distributions.Normal(mus[:, None], sigmas[:, None]).log_prob(z).sum(-1)  # (2, 7)
    torch.testing.assert_close(latent.aggregate_log_density(z, mus[:1], sigmas[:1]), each[0])
    mixture = torch.log(0.5 * each.exp().sum(0))
    for chunk in (1, 3, 500):
        torch.testing.assert_close(latent.aggregate_log_density(z, mus, sigmas, chunk=chunk), mixture)
    prior = latent.aggregate_log_density(z, torch.zeros(5, 2), torch.ones(5, 2))
    torch.testing.assert_close(prior, gaussian_log_prob(z))
    torch.testing.assert_close(gaussian_log_prob(torch.zeros(1, 2)), torch.tensor([-math.log(2 * math.pi)]))


def test_grid_codes_run_row_by_row_from_the_bottom():
    grid = latent.grid_codes(limit=2.0, steps=5)
    assert grid.shape == (25, 2)
    torch.testing.assert_close(grid[0], torch.tensor([-2.0, -2.0]))  # bottom left
    torch.testing.assert_close(grid[4], torch.tensor([2.0, -2.0]))  # bottom right: z1 grows along a row
    torch.testing.assert_close(grid[-1], torch.tensor([2.0, 2.0]))  # top right


@pytest.fixture
def model() -> VAE:
    """A random 3-D VAE in training mode, with BatchNorm running statistics that differ from a batch's own."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=3)).train()
    with torch.no_grad():
        vae.encoder[1].running_mean.uniform_(-1, 1)
        vae.encoder[4].running_var.uniform_(0.5, 2)
    return vae


def test_encode_posteriors_is_the_eval_mode_encoder(model, labelled_digits):
    """mu and sigma = exp(log_var / 2) of the eval-mode encoder, the same in any batch size, on the CPU;
    the model stays in training mode."""
    mus, sigmas = latent.encode_posteriors(model, labelled_digits, batch_size=7)
    assert model.training and mus.shape == sigmas.shape == (60, 3) and mus.device.type == "cpu"
    reference = VAE(model.config)
    reference.load_state_dict(model.state_dict())
    with torch.no_grad():
        mu, log_var = reference.eval().encode(labelled_digits.images)
    torch.testing.assert_close(mus, mu)
    torch.testing.assert_close(sigmas, torch.exp(0.5 * log_var))
    torch.testing.assert_close(latent.encode_posteriors(model, labelled_digits, batch_size=1000)[0], mus)
    torch.testing.assert_close(latent.encode_means(model, labelled_digits), mus)
    assert model.training


def test_codes_to_images_decodes_in_eval_mode(model):
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    images = latent.codes_to_images(model, z)
    assert model.training and images.shape == (5, 1, 28, 28) and not images.requires_grad
    reference = VAE(model.config)
    reference.load_state_dict(model.state_dict())
    with torch.no_grad():
        expected = torch.sigmoid(reference.eval().decode_logits(z))
    torch.testing.assert_close(images, expected)


def test_grid_moments_recover_a_gaussian():
    """A Gaussian's log-density, known only up to a constant on a shifted grid: its mean and std come back."""
    codes = latent.grid_codes(limit=1.0, steps=201) + torch.tensor([0.5, -2.0])
    mean, std = torch.tensor([0.6, -2.1]), torch.tensor([0.1, 0.2])
    log_density = Normal(mean, std).log_prob(codes).sum(1) + 123.0  # the constant must not matter
    got_mean, got_std = latent.grid_moments(codes, log_density)
    assert torch.allclose(got_mean, mean.double(), atol=1e-4) and torch.allclose(got_std, std.double(), atol=1e-3)


def test_reconstruct_decodes_the_posterior_mean_in_eval_mode():
    """Each image decoded from mu(x), in eval mode and without gradients; a training model stays in training mode."""
    torch.manual_seed(0)
    model = VAE().train()
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    recon = latent.reconstruct(model, images, batch_size=3)
    assert model.training and recon.shape == (4, 1, 28, 28) and not recon.requires_grad
    model.eval()
    with torch.no_grad():
        expected = model.decode(model.encode(images)[0])
    torch.testing.assert_close(recon, expected)
