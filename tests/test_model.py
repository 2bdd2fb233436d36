"""The model and the loss, checked against independent computations (torch.distributions, plain formulas)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from vaelib.model import VAE, ModelConfig, bernoulli_nll, kl_to_standard_normal, negative_elbo, reparameterize


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(64, 16, generator=g), torch.randn(64, 16, generator=g)
    expected = kl_divergence(Normal(mu, (0.5 * log_var).exp()), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(kl_to_standard_normal(mu, log_var), expected)


def test_kl_is_zero_for_the_prior_itself():
    assert kl_to_standard_normal(torch.zeros(3, 2), torch.zeros(3, 2)).abs().max() < 1e-7


def test_reconstruction_term_matches_direct_log_likelihood():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(8, 1, 28, 28, generator=g) * 3
    x = torch.rand(8, 1, 28, 28, generator=g).round()
    direct = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).flatten(1).sum(1)
    torch.testing.assert_close(bernoulli_nll(logits, x), direct)
    torch.testing.assert_close(bernoulli_nll(logits, x), -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1))


def test_reconstruction_term_is_finite_for_extreme_logits():
    logits = torch.tensor([[-200.0, 200.0]]).reshape(1, 1, 1, 2)
    x = torch.tensor([[1.0, 0.0]]).reshape(1, 1, 1, 2)
    assert torch.isfinite(bernoulli_nll(logits, x)).all()
    torch.testing.assert_close(bernoulli_nll(logits, x), torch.tensor([400.0]))


def test_negative_elbo_is_batch_mean_of_recon_plus_beta_kl():
    g = torch.Generator().manual_seed(2)
    logits, x = torch.randn(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    mu, log_var = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    total, recon, kl = negative_elbo(logits, x, mu, log_var, beta=0.5)
    torch.testing.assert_close(recon, bernoulli_nll(logits, x).mean())
    torch.testing.assert_close(kl, kl_to_standard_normal(mu, log_var).mean())
    torch.testing.assert_close(total, recon + 0.5 * kl)


def test_reparameterised_samples_have_the_right_mean_and_std():
    mu = torch.tensor([[1.5, -2.0]]).expand(200_000, 2)
    log_var = torch.tensor([[math.log(0.25), math.log(4.0)]]).expand(200_000, 2)
    z = reparameterize(mu, log_var, torch.Generator().manual_seed(3))
    torch.testing.assert_close(z.mean(0), torch.tensor([1.5, -2.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([0.5, 2.0]), atol=0.02, rtol=0)


def test_reparameterisation_lets_gradients_reach_mu_and_log_var():
    mu = torch.zeros(4, 2, requires_grad=True)
    log_var = torch.zeros(4, 2, requires_grad=True)
    reparameterize(mu, log_var).sum().backward()
    assert mu.grad is not None and log_var.grad is not None and log_var.grad.abs().sum() > 0


@pytest.mark.parametrize("latent_dim", [2, 8, 16])
def test_output_shapes(latent_dim):
    model = VAE(ModelConfig(latent_dim=latent_dim))
    x = torch.rand(3, 1, 28, 28)
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (3, latent_dim)
    out = model(x)
    assert out.logits.shape == (3, 1, 28, 28) and out.z.shape == (3, latent_dim)
    model.eval()
    images = model.decode(torch.randn(5, latent_dim))
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert model.sample(7).shape == (7, 1, 28, 28)


def test_architecture_is_the_documented_one():
    model = VAE()
    layers = [type(m).__name__ for m in model.encoder] + ["|"] + [type(m).__name__ for m in model.decoder]
    assert layers == [
        "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Dropout", "Flatten", "|",
        "Linear", "Unflatten", "Dropout", "ConvTranspose2d", "BatchNorm2d", "LeakyReLU", "ConvTranspose2d",
    ]  # fmt: skip
    assert model.fc_mu.in_features == 64 * 7 * 7 and model.encoder[6].p == 0.25


def test_sample_is_reproducible_with_a_seed():
    model = VAE().eval()
    a = model.sample(4, generator=torch.Generator().manual_seed(5))
    b = model.sample(4, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)


def test_loss_decreases_when_fitting_one_batch():
    torch.manual_seed(0)
    model = VAE()
    x = torch.rand(16, 1, 28, 28).round()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model.loss(x).total.item()
    for _ in range(30):
        opt.zero_grad()
        model.loss(x).total.backward()
        opt.step()
    assert model.loss(x).total.item() < first - 50


def test_latent_dim_below_one_is_refused():
    with pytest.raises(ValueError, match="latent_dim"):
        ModelConfig(latent_dim=0)


def test_dropout_matches_nn_dropout_statistics():
    from vaelib.model import Dropout

    x = torch.ones(400_000)
    torch.manual_seed(0)
    out = Dropout(0.25).train()(x)
    assert abs((out == 0).float().mean().item() - 0.25) < 0.005
    torch.testing.assert_close(out.unique(), torch.tensor([0.0, 4 / 3]))
    assert abs(out.mean().item() - 1.0) < 0.01
    assert torch.equal(Dropout(0.25).eval()(x), x)
