"""Measures: the -ELBO of some digits, the importance-weighted bound, bits per dimension, active units, the Fréchet
distance, and the class entropy and confidence of samples, each checked against a hand computation or a closed form."""

import math
import statistics

import pytest
import torch
from torch.distributions import Bernoulli, Normal

from vaelib import Digits, load_model, pretrained_path
from vaelib.core import latent, likelihood, measures
from vaelib.core.model import VAE, ModelConfig, gaussian_log_prob, kl_to_standard_normal, negative_elbo


@pytest.fixture
def images():
    return torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()


# ----- the -ELBO of a split


def test_estimate_elbo_matches_a_hand_computation(model, images):
    """Image-weighted means over the batches, with the documented z noise: generator seeded with `seed`."""
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    got = measures.estimate_elbo(model, split, batch_size=10, beta=0.25, seed=3)
    assert list(got) == ["objective", "neg_elbo", "recon", "kl"]
    generator, sums = torch.Generator().manual_seed(3), torch.zeros(4, dtype=torch.float64)
    with torch.no_grad():
        for x in (images[:10], images[10:]):
            mu, log_var = model.encode(x)
            z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator)
            sums += torch.stack(negative_elbo(model.decode_logits(z), x, mu, log_var, 0.25)).double() * len(x)
    expected = dict(zip(got, (sums / 16).tolist(), strict=True))
    assert got == pytest.approx(expected, rel=1e-6)
    assert got["objective"] == pytest.approx(got["recon"] + 0.25 * got["kl"], rel=1e-6)
    assert got["neg_elbo"] == pytest.approx(got["recon"] + got["kl"], rel=1e-6)
    assert got["kl"] > 3 and got["objective"] < got["neg_elbo"]


def test_estimate_elbo_keeps_the_model_mode(model, images):
    """Evaluated in eval mode (the same numbers as for an eval-mode model) and handed back in training mode."""
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    in_eval = measures.estimate_elbo(model, split)
    model.train()
    assert measures.estimate_elbo(model, split) == in_eval
    assert model.training and torch.is_grad_enabled()


# ----- the importance-weighted bound


def test_iwae_log_weights_match_hand_computation(model, images):
    """log w = log p(x|z) + log N(z; 0, I) - log N(z; mu, sigma^2), written out from the formulas."""
    log_w = measures.iwae_log_weights(model, images[:3], k=1, generator=torch.Generator().manual_seed(5))
    mu, log_var = model.encode(images[:3])
    eps = torch.randn((1, *mu.shape), generator=torch.Generator().manual_seed(5))[0]
    z = mu + torch.exp(0.5 * log_var) * eps
    p = torch.sigmoid(model.decode_logits(z)).double().clamp(1e-12, 1 - 1e-12)
    x = images[:3].double()
    log_px = (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    log_pz = (-0.5 * z.double() ** 2 - 0.5 * math.log(2 * math.pi)).sum(1)
    log_qz = (-0.5 * eps.double() ** 2 - 0.5 * math.log(2 * math.pi) - 0.5 * log_var.double()).sum(1)
    torch.testing.assert_close(log_w[0], (log_px + log_pz - log_qz).detach(), rtol=1e-4, atol=1e-2)


def test_iwae_log_weights_grey_16d():
    """The same hand computation with grey pixels in (0, 1) (the softplus form holds for any x, not only 0/1) and a
    16-D latent space, several draws and images; the density terms are written with torch.distributions."""
    torch.manual_seed(2)
    vae = VAE(ModelConfig(latent_dim=16)).eval()
    with torch.no_grad():
        vae.fc_mu.weight.mul_(10)
        vae.fc_log_var.bias.uniform_(-3.0, 1.0)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(6))
    log_w = measures.iwae_log_weights(vae, x, k=3, chunk=7, generator=torch.Generator().manual_seed(8))
    assert log_w.shape == (3, 5) and log_w.dtype == torch.float64
    with torch.no_grad():
        mu, log_var = (t.double() for t in vae.encode(x))
        std = torch.exp(0.5 * log_var)
        eps = torch.randn((3, 5, 16), generator=torch.Generator().manual_seed(8)).double()
        z = mu + std * eps  # (3, 5, 16)
        p = torch.sigmoid(vae.decode_logits(z.float().flatten(0, 1)).double()).view(3, 5, -1)
        xd = x.double().flatten(1)
        log_px = (xd * p.log() + (1 - xd) * (1 - p).log()).sum(-1)
        log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_qz = Normal(mu, std).log_prob(z).sum(-1)
    expected = log_px + log_pz - log_qz
    torch.testing.assert_close(log_w, expected, rtol=1e-4, atol=5e-2)
    assert (log_qz - log_pz).mean() > 5  # posteriors far from the prior: a wrong density term would show


def test_iwae_chunking_does_not_change_the_weights(model, images):
    a = measures.iwae_log_weights(model, images, k=10, chunk=16, generator=torch.Generator().manual_seed(2))
    b = measures.iwae_log_weights(model, images, k=10, chunk=10_000, generator=torch.Generator().manual_seed(2))
    assert a.shape == (10, 16)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-3)


def test_a_chunk_smaller_than_the_batch_splits_the_images(model, images):
    eps = torch.randn(3, len(images), model.config.latent_dim, generator=torch.Generator().manual_seed(4))
    whole = measures.log_weights(model, images, eps, chunk=10_000)
    split = measures.log_weights(model, images, eps, chunk=5)  # 16 images: passes of 5, 5, 5 and 1
    torch.testing.assert_close(split, whole, rtol=1e-5, atol=1e-3)


def test_iwae_k1_is_the_elbo_in_expectation(model, images):
    """k = 1: the mean over many independent draws matches the -ELBO (which uses the analytic KL)."""
    split = Digits(images.repeat(16, 1, 1, 1), torch.zeros(16 * 16, dtype=torch.long))
    seeds = range(1, 9)
    iwae = [measures.iwae_bound(model, split, k=1, batch_size=256, seed=s) for s in seeds]
    elbo = [measures.estimate_elbo(model, split, seed=s)["neg_elbo"] for s in seeds]
    iwae, elbo = torch.tensor(iwae, dtype=torch.float64), torch.tensor(elbo, dtype=torch.float64)
    stderr = math.sqrt((iwae.var() + elbo.var()).item() / len(seeds))
    assert measures.estimate_elbo(model, split)["kl"] > 3  # a sizeable KL part, so a missing density term would show
    assert abs(iwae.mean() - elbo.mean()).item() < 5 * stderr + 1e-3


def test_iwae_bound_tightens_with_k(model, images):
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    bounds = [measures.iwae_bound(model, split, k=k, seed=0) for k in (1, 10, 100)]
    elbo = measures.estimate_elbo(model, split)["neg_elbo"]
    assert bounds[0] > bounds[1] > bounds[2]
    assert elbo - bounds[2] > 1.0  # a real gap on this untrained model, not rounding noise


def test_iwae_bound_keeps_the_model_mode(model, images):
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    in_eval = measures.iwae_bound(model, split, k=5)
    model.train()
    assert measures.iwae_bound(model, split, k=5) == in_eval and model.training


# ----- the likelihood itself, by a grid over a 2-D latent, and the pixel-entropy floor


def test_log_joint_matches_a_hand_computation(model, images):
    """log p(x|z) + log p(z) for every (image, code) pair, against bernoulli_nll and torch.distributions."""
    vae = VAE(ModelConfig(latent_dim=4)).eval()
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(4))
    ours = measures.log_joint(vae, images[:3], z, chunk=2)
    with torch.no_grad():
        logits = vae.decode_logits(z)  # (5, 1, 28, 28)
    for i in range(3):
        reference = likelihood.log_prob(logits, images[i].expand(5, -1, -1, -1)) + Normal(0.0, 1.0).log_prob(z).sum(1)
        assert torch.allclose(ours[i].float(), reference, rtol=1e-5, atol=1e-3)


def test_grid_likelihood_of_a_decoder_that_ignores_z():
    """With p(x|z) the same for every z, p(x) = p(x|z): the grid must integrate the prior to 1 and add nothing."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=2)).eval()
    with torch.no_grad():
        vae.decoder[0].weight.zero_()  # the first linear layer no longer sees z
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = -likelihood.log_prob(vae.decode_logits(torch.zeros(3, 2)), x).double()
    assert torch.allclose(measures.grid_neg_log_likelihood(vae, x, steps=101), reference, atol=1e-4)


def test_grid_likelihood_needs_a_2d_latent(model, images):
    with pytest.raises(ValueError, match="2-D latent"):
        measures.grid_neg_log_likelihood(model, images)


def test_bounds_approach_the_exact_likelihood_from_above(mnist):
    """The shipped 2-D model on real digits: -ELBO >= IWAE(k=10) >= IWAE(k=1000) >= -log p(x), the gap closing,
    and the grid fine enough that a coarser one agrees to 0.01 nats."""
    model, _ = load_model(pretrained_path(2))
    x = mnist.test.images[:8]
    exact = measures.grid_neg_log_likelihood(model, x).mean().item()
    assert measures.grid_neg_log_likelihood(model, x, steps=151).mean().item() == pytest.approx(exact, abs=0.01)
    split = Digits(x, mnist.test.labels[:8])
    elbo = measures.estimate_elbo(model, split)["neg_elbo"]
    iwae = [measures.iwae_bound(model, split, k=k) for k in (10, 1000)]
    assert elbo > iwae[0] > iwae[1] > exact
    assert iwae[1] - exact < 0.25 * (elbo - exact)  # most of the gap closed


def test_pixel_entropy_is_the_reconstruction_floor():
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    floor = measures.pixel_entropy(x)
    reference = Bernoulli(probs=x.double()).entropy().flatten(1).sum(dim=1)
    assert torch.allclose(floor, reference, atol=1e-6)
    logit_x = torch.logit(x.double())
    assert torch.allclose(-likelihood.log_prob(logit_x, x.double()).double(), floor, atol=1e-6)  # reached at p = x
    assert (-likelihood.log_prob(logit_x + 0.1, x.double())).min() > floor.min()  # and any other p costs more
    assert measures.pixel_entropy(x.round()).abs().max() == 0  # binary pixels: no floor


def test_bits_per_dim():
    assert measures.bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)
    assert measures.bits_per_dim(100.0) == pytest.approx(100 / (784 * math.log(2)))


# ----- active units


def test_active_units_counts_dimensions_that_vary():
    g = torch.Generator().manual_seed(0)
    mu = torch.cat([torch.randn(1000, 3, generator=g), 0.05 * torch.randn(1000, 2, generator=g)], dim=1)
    assert measures.active_units(mu) == 3  # variances ~1, ~1, ~1, ~0.0025, ~0.0025
    assert measures.active_units(mu, threshold=1e-4) == 5


def test_active_units_of_a_model(model, images):
    mu = latent.encode_means(model, Digits(images, torch.zeros(16, dtype=torch.long)))
    assert mu.shape == (16, 4)
    expected = int((mu.double().var(dim=0) > measures.ACTIVE_THRESHOLD).sum())
    assert measures.active_units(mu) == expected and expected > 0  # fc_mu scaled by 20: the means do vary


# ----- KL per dimension, rate and distortion


def _collapse(model, dims):
    """Force mu = 0 and log_var = 0 (q = N(0, 1), the prior) on latent dimensions `dims` for every image."""
    with torch.no_grad():
        for layer in (model.fc_mu, model.fc_log_var):
            layer.weight[dims] = 0.0
            layer.bias[dims] = 0.0
    return model


def test_kl_per_dimension_hand_computation(model, images):
    """(latent_dim,) float64, non-negative, the closed-form KL of each dimension from model.encode (eval mode)
    averaged over images, and summing to the -ELBO's KL term. The model is handed back in its mode."""
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    model.train()
    kl = measures.kl_per_dimension(model, split, batch_size=5)
    assert model.training
    assert kl.shape == (4,) and kl.dtype == torch.float64 and (kl >= 0).all()
    model.eval()
    with torch.no_grad():
        mu, log_var = (t.double() for t in model.encode(images))
    by_hand = (0.5 * (mu**2 + log_var.exp() - 1 - log_var)).mean(0)
    torch.testing.assert_close(kl, by_hand, rtol=1e-5, atol=1e-6)
    assert kl.sum().item() == pytest.approx(measures.estimate_elbo(model, split)["kl"], rel=1e-5)
    assert kl.min() > 0.01  # fc_mu scaled by 20: every dimension moves away from the prior


def test_collapsed_dimension_has_zero_kl(model, images):
    """A dimension whose posterior is the prior for every image (mu = 0, log_var = 0) has KL exactly 0 and is not
    an active unit; the others keep their KL."""
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    before = measures.kl_per_dimension(model, split)
    active_before = measures.active_units(latent.encode_means(model, split))
    _collapse(model, [1])
    kl = measures.kl_per_dimension(model, split)
    assert kl[1].item() == 0.0
    torch.testing.assert_close(kl[[0, 2, 3]], before[[0, 2, 3]])
    mu = latent.encode_means(model, split)
    assert (mu[:, 1] == 0).all()
    assert measures.active_units(mu) == active_before - 1
    assert kl.sum().item() == pytest.approx(measures.estimate_elbo(model, split)["kl"], rel=1e-5)


def test_all_collapsed_has_no_rate(model, images):
    """Every dimension collapsed: no KL at all, no active unit, and the rate of rate_distortion is 0."""
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    _collapse(model, [0, 1, 2, 3])
    assert torch.equal(measures.kl_per_dimension(model, split), torch.zeros(4, dtype=torch.float64))
    assert measures.active_units(latent.encode_means(model, split)) == 0
    assert measures.rate_distortion(model, split)[0] == 0.0


def test_rate_distortion_is_kl_and_recon(model, images):
    split = Digits(images, torch.zeros(16, dtype=torch.long))
    elbo = measures.estimate_elbo(model, split)
    rate, distortion = measures.rate_distortion(model, split)
    assert (rate, distortion) == (elbo["kl"], elbo["recon"])
    assert rate + distortion == pytest.approx(elbo["neg_elbo"], rel=1e-6)
    other = measures.estimate_elbo(model, split, seed=7)
    assert measures.rate_distortion(model, split, seed=7) == (other["kl"], other["recon"])


# ----- the Fréchet distance


def _random_cov(n, g):
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    return a @ a.T + 0.1 * torch.eye(n, dtype=torch.float64)


def test_frechet_distance_to_itself_is_zero():
    f = torch.randn(2000, 32, generator=torch.Generator().manual_seed(0))
    assert abs(measures.frechet_distance(f, f)) < 1e-6


def test_frechet_distance_commuting_closed_form():
    """Diagonal covariances: |m1 - m2|^2 + sum (s1 - s2)^2 with s the standard deviations."""
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    s1, s2 = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([3.0, 1.0, 0.5])
    expected = (mu1 - mu2).pow(2).sum() + (s1 - s2).pow(2).sum()
    got = measures.frechet_distance_from_stats(mu1, torch.diag(s1**2), mu2, torch.diag(s2**2))
    assert got == pytest.approx(expected.item(), abs=1e-9)


def test_frechet_distance_of_general_2d_gaussians():
    """2x2: tr sqrt(A) = sqrt(tr A + 2 sqrt(det A)) for A = cov1 cov2, whose eigenvalues are positive."""
    g = torch.Generator().manual_seed(3)
    cov1, cov2 = _random_cov(2, g), _random_cov(2, g)
    a = cov1 @ cov2
    trace_sqrt = math.sqrt(a.trace() + 2 * math.sqrt(a.det()))
    mu1, mu2 = torch.tensor([0.5, -1.0]), torch.tensor([0.0, 2.0])
    expected = (mu1 - mu2).pow(2).sum().item() + cov1.trace().item() + cov2.trace().item() - 2 * trace_sqrt
    assert measures.frechet_distance_from_stats(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_symmetric_and_sampled():
    """Symmetric in its two arguments, and estimated from 200,000 samples of each Gaussian to within 2%."""
    g = torch.Generator().manual_seed(4)
    cov1, cov2 = _random_cov(5, g), _random_cov(5, g)
    mu1, mu2 = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    exact = measures.frechet_distance_from_stats(mu1, cov1, mu2, cov2)
    assert measures.frechet_distance_from_stats(mu2, cov2, mu1, cov1) == pytest.approx(exact, rel=1e-9)
    x = mu1 + torch.randn(200_000, 5, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov1).T
    y = mu2 + torch.randn(200_000, 5, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov2).T
    assert measures.frechet_distance(x, y) == pytest.approx(exact, rel=0.02)


# ----- scores of samples


def test_class_entropy_and_confidence():
    uniform = torch.eye(10).repeat(10, 1)  # 100 confident predictions, ten of each digit
    assert measures.class_entropy(uniform) == pytest.approx(math.log(10))
    assert measures.mean_confidence(uniform) == pytest.approx(1.0)
    one_digit = torch.full((50, 10), 0.05).index_fill_(1, torch.tensor([3]), 0.55)
    assert measures.class_entropy(one_digit) == pytest.approx(0.0)
    assert measures.mean_confidence(one_digit) == pytest.approx(0.55)
    two_digits = torch.eye(10)[torch.tensor([1, 1, 1, 7])]  # shares 3/4 and 1/4
    assert measures.class_entropy(two_digits) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))


def test_iwae_per_image_matches_the_log_weights(model, images):
    """Each image's bound is -logsumexp of its own k log-weights + log k, and their mean is iwae_bound."""
    split = Digits(images, torch.zeros(len(images), dtype=torch.long))
    per_image = measures.iwae_per_image(model, split, k=7, batch_size=16, seed=3)
    log_w = measures.iwae_log_weights(model, images, 7, generator=torch.Generator().manual_seed(3))
    expected = -(torch.logsumexp(log_w, dim=0) - math.log(7))
    assert per_image.shape == (len(images),) and per_image.dtype == torch.float64
    torch.testing.assert_close(per_image, expected)
    assert measures.iwae_bound(model, split, k=7, batch_size=16, seed=3) == pytest.approx(per_image.mean().item())


def test_standard_error():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert measures.standard_error(values) == pytest.approx(statistics.stdev([1, 2, 3, 4]) / 2)
    assert math.isnan(measures.standard_error(torch.tensor([5.0])))


def test_neg_elbo_per_image_is_estimate_elbo_image_by_image(model, images):
    """The same draws of z as estimate_elbo: the mean of the per-image values is its neg_elbo."""
    digits = Digits(images, torch.zeros(16, dtype=torch.long))
    per_image = measures.neg_elbo_per_image(model, digits, batch_size=5, seed=3)
    assert per_image.shape == (16,) and per_image.dtype == torch.float64
    expected = measures.estimate_elbo(model, digits, batch_size=5, seed=3)["neg_elbo"]
    assert per_image.mean().item() == pytest.approx(expected, rel=1e-6)


def test_elbo_noise_is_the_spread_of_the_mean_over_draws_of_z(model, images):
    """The two-draw estimate of the mean's Monte Carlo error agrees with the spread of the mean over 200 seeds."""
    digits = Digits(images, torch.zeros(16, dtype=torch.long))
    means = torch.stack([measures.neg_elbo_per_image(model, digits, seed=s).mean() for s in range(200)])
    estimates = torch.tensor([measures.elbo_noise(model, digits, seed=s) for s in range(0, 40, 2)])
    assert estimates.mean().item() == pytest.approx(means.std().item(), rel=0.2)
    assert measures.elbo_noise(model, digits, seed=0) > 0


def test_posterior_kl_of_a_decoder_that_ignores_z_is_the_kl_to_the_prior():
    """If p(x|z) does not depend on z, the true posterior is the prior: KL(q(z|x) ‖ p(z|x)) = KL(q(z|x) ‖ N(0, I)),
    which has a closed form. The quadrature must find it, for posteriors wide and narrow, near and far."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=2)).eval()
    with torch.no_grad():
        vae.decoder[0].weight.zero_()  # the decoder no longer sees z
        vae.fc_mu.weight.mul_(30)  # posteriors spread over the plane
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    exact = measures.grid_neg_log_likelihood(vae, x, steps=101)
    with torch.no_grad():
        mu, log_var = vae.encode(x)
    expected = kl_to_standard_normal(mu, log_var).sum(1).double()
    assert torch.allclose(measures.posterior_kl(vae, x, exact), expected, rtol=1e-4, atol=1e-3)


def test_the_gap_is_the_kl_to_the_true_posterior(mnist):
    """log p(x) - ELBO = KL(q(z|x) ‖ p(z|x)): the -ELBO by Monte Carlo minus the exact -log p(x) against the KL by
    quadrature, on real digits and the shipped 2-D model."""
    model, _ = load_model(pretrained_path(2))
    x = mnist.test.images[:6]
    exact = measures.grid_neg_log_likelihood(model, x)
    neg_elbo = -measures.iwae_log_weights(model, x, k=4000, generator=torch.Generator().manual_seed(0)).mean(0)
    kl = measures.posterior_kl(model, x, exact)
    assert (kl > 0).all() and torch.allclose(neg_elbo - exact, kl, atol=0.1)


def test_posterior_kl_of_another_gaussian(mnist):
    """q = the prior itself: KL(N(0, I) ‖ p(z|x)) = E_prior[-log p(x|z)] - (-log p(x)), by quadrature both ways."""
    model, _ = load_model(pretrained_path(2))
    x = mnist.test.images[:2]
    exact = measures.grid_neg_log_likelihood(model, x)
    prior = (torch.zeros(2, 2), torch.zeros(2, 2))
    kl = measures.posterior_kl(model, x, exact, q=prior)
    codes = latent.grid_codes(6.0, 41)  # the same quadrature, written out: weights of N(0, I) on the grid
    weights = torch.softmax(gaussian_log_prob(codes), dim=0)[:, None]
    with torch.no_grad():
        neg_log_px_z = -likelihood.log_prob_pairs(model.decode_logits(codes).reshape(len(codes), -1), x.reshape(2, -1))
    expected = (weights * neg_log_px_z.T.double()).sum(0) - exact
    assert torch.allclose(kl, expected, rtol=1e-4, atol=1e-2) and (kl > 0).all()
    encoder = measures.posterior_kl(model, x, exact)
    assert (encoder < kl).all()  # the encoder's guess is far closer to the posterior than the prior is
