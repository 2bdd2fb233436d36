"""The model and the loss, checked against independent computations (torch.distributions, plain formulas)."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vaelib.core import likelihood
from vaelib.core.model import (
    VAE,
    CheapMaskDropout,
    Losses,
    ModelConfig,
    NonFiniteLoss,
    evaluating,
    gaussian_log_prob,
    kl_to_standard_normal,
    negative_elbo,
    reparameterize,
    train_step,
)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(64, 16, generator=g), torch.randn(64, 16, generator=g)
    expected = kl_divergence(Normal(mu, (0.5 * log_var).exp()), Normal(0.0, 1.0))  # (64, 16): one per dimension
    torch.testing.assert_close(kl_to_standard_normal(mu, log_var), expected)


def test_kl_is_zero_for_the_prior_itself():
    assert kl_to_standard_normal(torch.zeros(3, 2), torch.zeros(3, 2)).abs().max() < 1e-7


def test_negative_elbo_parts():
    """Losses(objective, neg_elbo, recon, kl): batch means; objective = recon + beta·KL, neg_elbo = recon + KL."""
    g = torch.Generator().manual_seed(2)
    logits, x = torch.randn(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    mu, log_var = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    losses = negative_elbo(logits, x, mu, log_var, beta=0.5)
    assert Losses._fields == ("objective", "neg_elbo", "recon", "kl")
    torch.testing.assert_close(losses.recon, -likelihood.log_prob(logits, x).mean())
    torch.testing.assert_close(losses.kl, kl_to_standard_normal(mu, log_var).sum(1).mean())
    torch.testing.assert_close(losses.objective, losses.recon + 0.5 * losses.kl)
    torch.testing.assert_close(losses.neg_elbo, losses.recon + losses.kl)
    assert losses.kl > 1 and losses.neg_elbo > losses.objective  # beta < 1 weighs a real KL less


@pytest.mark.parametrize("beta", [0.0, 0.25, 1.0, 4.0])
def test_loss_objective_and_neg_elbo_for_beta(beta):
    """model.loss(x, beta): only the objective depends on beta; the -ELBO is the same for every beta."""
    model = VAE().eval()
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(3)).round()
    torch.manual_seed(7)
    reference = model.loss(x, beta=1.0)
    torch.manual_seed(7)  # the same z noise
    losses = model.loss(x, beta=beta)
    torch.testing.assert_close(losses.neg_elbo, reference.neg_elbo)
    torch.testing.assert_close(losses.objective, reference.recon + beta * reference.kl)
    assert (losses.objective <= losses.neg_elbo) == (beta <= 1)
    if beta == 1:
        assert torch.equal(losses.objective, losses.neg_elbo)  # exactly: the best-model rule relies on it


def test_reparameterize_mean_and_std():
    mu = torch.tensor([[1.5, -2.0]]).expand(200_000, 2)
    log_var = torch.tensor([[math.log(0.25), math.log(4.0)]]).expand(200_000, 2)
    z = reparameterize(mu, log_var, torch.Generator().manual_seed(3))
    torch.testing.assert_close(z.mean(0), torch.tensor([1.5, -2.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([0.5, 2.0]), atol=0.02, rtol=0)


def test_reparameterize_passes_gradients():
    """The reparameterisation trick: gradients of z reach both mu and log_var."""
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
        "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "CheapMaskDropout", "Flatten", "|",
        "Linear", "Unflatten", "CheapMaskDropout", "ConvTranspose2d", "BatchNorm2d", "LeakyReLU", "ConvTranspose2d",
    ]  # fmt: skip
    assert model.fc_mu.in_features == 64 * 7 * 7 and model.encoder[6].p == 0.25


def test_sample_is_reproducible_with_a_seed():
    model = VAE().eval()
    a = model.sample(4, generator=torch.Generator().manual_seed(5))
    b = model.sample(4, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)


def test_sample_leaves_a_training_model_training():
    """VAE.sample decodes in eval mode (no dropout: the digits equal an eval-mode decode of the same z),
    without gradients, and hands the model back in training mode."""
    torch.manual_seed(0)
    model = VAE().train()
    samples = model.sample(6, generator=torch.Generator().manual_seed(4))
    assert model.training and all(m.training for m in model.modules())
    assert not samples.requires_grad
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = model.eval().decode(z)
    torch.testing.assert_close(samples, expected, rtol=0, atol=0)


def test_loss_decreases_when_fitting_one_batch():
    torch.manual_seed(0)
    model = VAE()
    x = torch.rand(16, 1, 28, 28).round()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model.loss(x).objective.item()
    for _ in range(30):
        opt.zero_grad()
        model.loss(x).objective.backward()
        opt.step()
    assert model.loss(x).objective.item() < first - 50


def test_latent_dim_below_one_is_refused():
    with pytest.raises(ValueError, match="latent_dim"):
        ModelConfig(latent_dim=0)


def test_cheap_mask_dropout_statistics():
    """CheapMaskDropout has nn.Dropout's maths: drops a fraction p, scales the rest by 1/(1-p), identity in eval."""
    x = torch.ones(400_000)
    torch.manual_seed(0)
    out = CheapMaskDropout(0.25).train()(x)
    assert abs((out == 0).float().mean().item() - 0.25) < 0.005
    torch.testing.assert_close(out.unique(), torch.tensor([0.0, 4 / 3]))
    assert abs(out.mean().item() - 1.0) < 0.01
    assert torch.equal(CheapMaskDropout(0.25).eval()(x), x)
    assert isinstance(CheapMaskDropout(0.25), torch.nn.Dropout)


# ----- evaluating(model)


def test_evaluating_restores_training_mode():
    model = VAE().train()
    with evaluating(model) as inside:
        assert inside is model
        assert not any(m.training for m in model.modules())  # dropout and BatchNorm too
    assert model.training and all(m.training for m in model.modules())


def test_evaluating_keeps_eval_mode():
    model = VAE().eval()
    with evaluating(model):
        pass
    assert not model.training and not any(m.training for m in model.modules())


def test_evaluating_restores_mode_after_an_error():
    model = VAE().train()
    with pytest.raises(RuntimeError, match="boom"), evaluating(model):
        raise RuntimeError("boom")
    assert model.training and torch.is_grad_enabled()


def test_evaluating_disables_grad():
    """Inside: no gradients and deterministic outputs (dropout off, BatchNorm on running statistics); after: grad on."""
    torch.manual_seed(0)
    model = VAE().train()
    x = torch.rand(4, 1, 28, 28)
    with evaluating(model):
        assert not torch.is_grad_enabled()
        mu_a, _ = model.encode(x)
        mu_b, _ = model.encode(x)
    assert torch.is_grad_enabled() and not mu_a.requires_grad
    assert torch.equal(mu_a, mu_b)
    mu_train, _ = model.encode(x)  # training mode: batch statistics and dropout change the result
    assert mu_train.requires_grad and not torch.allclose(mu_train, mu_a)


def test_sample_gives_the_same_digits_for_a_seed_on_the_cpu():
    torch.manual_seed(0)
    model = VAE().eval()
    a, b = model.sample(30, torch.Generator().manual_seed(4)), model.sample(30, torch.Generator().manual_seed(4))
    assert a.shape == (30, 1, 28, 28) and a.device.type == "cpu"
    assert torch.equal(a, b) and not torch.allclose(a, model.sample(30, torch.Generator().manual_seed(5)))


@pytest.mark.parametrize("latent_dim", [2, 3])
def test_sample_decodes_in_chunks_like_one_batch(latent_dim):
    """1,010 samples are decoded 1,000 at a time: the same digits as one decode of the same z."""
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=latent_dim)).eval()
    z = torch.randn(1010, latent_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model.decode(z)
    torch.testing.assert_close(model.sample(1010, torch.Generator().manual_seed(1)), expected, rtol=0, atol=1e-6)


# ----- the Gaussian densities of the codes


def test_gaussian_log_prob_matches_torch_normal():
    g = torch.Generator().manual_seed(8)
    z, mu, log_var = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    expected = Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
    torch.testing.assert_close(gaussian_log_prob(z, mu, log_var), expected)
    torch.testing.assert_close(gaussian_log_prob(z), Normal(0.0, 1.0).log_prob(z).sum(-1))  # the prior
    assert gaussian_log_prob(torch.zeros(1, 2)).item() == pytest.approx(-math.log(2 * math.pi))


# ----- free bits and the training step


def test_free_bits_charge_each_dimension_at_least_lambda():
    """objective = recon + β Σ_j max(λ, KL_j), KL_j the batch mean of dimension j; the -ELBO is untouched."""
    g = torch.Generator().manual_seed(9)
    logits, x = torch.randn(4, 1, 28, 28, generator=g), torch.rand(4, 1, 28, 28, generator=g)
    mu = torch.tensor([[2.0, 0.01, 0.0]]).repeat(4, 1)  # one informative dimension, two nearly collapsed
    log_var = torch.zeros(4, 3)
    plain, free = negative_elbo(logits, x, mu, log_var, beta=8), negative_elbo(logits, x, mu, log_var, 8, 0.5)
    kl_j = 0.5 * mu[0] ** 2  # (2, 0.00005, 0): KL of N(mu, 1) to N(0, 1) per dimension
    torch.testing.assert_close(free.objective, plain.recon + 8 * kl_j.clamp(min=0.5).sum())
    torch.testing.assert_close(free.neg_elbo, plain.neg_elbo)
    assert free.objective.item() == pytest.approx(plain.objective.item() + 8 * (0.5 - 0.00005 + 0.5), rel=1e-5)


def test_free_bits_stop_the_gradient_of_a_quiet_dimension():
    """Below λ a dimension's KL is charged λ whatever it carries: its mean gets no gradient from the KL term."""
    mu = torch.tensor([[0.1, 3.0]], requires_grad=True)
    losses = negative_elbo(torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 28, 28), mu, torch.zeros(1, 2), 1.0, 0.5)
    losses.objective.backward()
    assert mu.grad[0, 0] == 0 and mu.grad[0, 1] == pytest.approx(3.0)


def test_train_step_is_the_four_lines():
    """train_step = loss, zero_grad, backward, step: the same weights as the four lines written out."""
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(10)).round()
    models = []
    for by_hand in (False, True):
        torch.manual_seed(0)
        model = VAE()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(1)  # the same dropout masks and z noise
        if by_hand:
            losses = model.loss(x)
            optimizer.zero_grad()
            losses.objective.backward()
            optimizer.step()
        else:
            losses = train_step(model, optimizer, x)
        models.append((model, losses))
    (stepped, a), (written_out, b) = models
    torch.testing.assert_close(a.objective, b.objective)
    for p, q in zip(stepped.parameters(), written_out.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_train_step_stops_before_a_nan_reaches_the_weights():
    torch.manual_seed(0)
    model = VAE()
    before = [p.clone() for p in model.parameters()]
    x = torch.rand(4, 1, 28, 28)
    x[0, 0, 0, 0] = math.nan
    with pytest.raises(NonFiniteLoss, match="nan"):
        train_step(model, torch.optim.Adam(model.parameters()), x)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
