"""Evaluation: the IWAE bound, active units, the Fréchet distance, sample scores, the classifier and the CLI."""

import json
import math
import subprocess
import sys

import pytest
import torch

from vaelib import VAE, ModelConfig, Split, latent, metrics, save_checkpoint
from vaelib.classifier import Classifier, accuracy, default_path, features, load_classifier, predict, predict_proba
from vaelib.errors import VAEError
from vaelib.evaluate import evaluate, format_table


@pytest.fixture
def model():
    """A small fixed VAE (random weights, eval mode) whose posteriors sit far from the prior, so the KL is large
    and the importance weights vary a lot: a missing or wrong density term would show."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=4)).eval()
    with torch.no_grad():
        vae.fc_mu.weight.mul_(20)
        vae.fc_log_var.bias.fill_(-2.0)
    return vae


@pytest.fixture
def images():
    return torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()


def test_iwae_log_weights_match_a_hand_computed_density(model, images):
    """log w = log p(x|z) + log N(z; 0, I) - log N(z; mu, sigma^2), written out from the formulas."""
    log_w = metrics.iwae_log_weights(model, images[:3], k=1, generator=torch.Generator().manual_seed(5))
    mu, log_var = model.encode(images[:3])
    eps = torch.randn((1, *mu.shape), generator=torch.Generator().manual_seed(5))[0]
    z = mu + torch.exp(0.5 * log_var) * eps
    p = torch.sigmoid(model.decode_logits(z)).double().clamp(1e-12, 1 - 1e-12)
    x = images[:3].double()
    log_px = (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    log_pz = (-0.5 * z.double() ** 2 - 0.5 * math.log(2 * math.pi)).sum(1)
    log_qz = (-0.5 * eps.double() ** 2 - 0.5 * math.log(2 * math.pi) - 0.5 * log_var.double()).sum(1)
    torch.testing.assert_close(log_w[0], (log_px + log_pz - log_qz).detach(), rtol=1e-4, atol=1e-2)


def test_iwae_chunking_does_not_change_the_weights(model, images):
    a = metrics.iwae_log_weights(model, images, k=10, chunk=16, generator=torch.Generator().manual_seed(2))
    b = metrics.iwae_log_weights(model, images, k=10, chunk=10_000, generator=torch.Generator().manual_seed(2))
    assert a.shape == (10, 16)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-3)


def test_iwae_with_one_sample_is_the_elbo_in_expectation(model, images):
    """k = 1: the mean over many independent draws matches the -ELBO (which uses the analytic KL)."""
    split = Split(images.repeat(16, 1, 1, 1), torch.zeros(16 * 16, dtype=torch.long))
    seeds = range(1, 9)
    iwae = torch.tensor([metrics.iwae_bound(model, split, k=1, batch_size=256, seed=s) for s in seeds], dtype=torch.float64)
    elbo = torch.tensor([metrics.estimate_elbo(model, split, seed=s)["loss"] for s in seeds], dtype=torch.float64)
    stderr = math.sqrt((iwae.var() + elbo.var()).item() / len(seeds))
    assert metrics.estimate_elbo(model, split)["kl"] > 3  # a sizeable KL part, so a missing density term would show
    assert abs(iwae.mean() - elbo.mean()).item() < 5 * stderr + 1e-3


def test_iwae_bound_tightens_with_k(model, images):
    split = Split(images, torch.zeros(16, dtype=torch.long))
    bounds = [metrics.iwae_bound(model, split, k=k, seed=0) for k in (1, 10, 100)]
    elbo = metrics.estimate_elbo(model, split)["loss"]
    assert bounds[0] > bounds[1] > bounds[2]
    assert elbo - bounds[2] > 1.0  # a real gap on this untrained model, not rounding noise


def test_bits_per_dim():
    assert metrics.bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)
    assert metrics.bits_per_dim(100.0) == pytest.approx(100 / (784 * math.log(2)))


def test_active_units_counts_dimensions_that_vary():
    g = torch.Generator().manual_seed(0)
    mu = torch.cat([torch.randn(1000, 3, generator=g), 0.05 * torch.randn(1000, 2, generator=g)], dim=1)
    assert metrics.active_units(mu) == 3  # variances ~1, ~1, ~1, ~0.0025, ~0.0025


def test_active_units_of_a_model(model, images):
    mu = latent.encode_means(model, Split(images, torch.zeros(16, dtype=torch.long)))
    assert mu.shape == (16, 4)
    assert 0 <= metrics.active_units(mu) <= 4


def _random_cov(n, g):
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    return a @ a.T + 0.1 * torch.eye(n, dtype=torch.float64)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    f = torch.randn(2000, 32, generator=torch.Generator().manual_seed(0))
    assert abs(metrics.frechet_distance(f, f)) < 1e-6


def test_frechet_distance_of_commuting_gaussians_has_a_closed_form():
    """Diagonal covariances: |m1 - m2|^2 + sum (s1 - s2)^2 with s the standard deviations."""
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    s1, s2 = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([3.0, 1.0, 0.5])
    expected = (mu1 - mu2).pow(2).sum() + (s1 - s2).pow(2).sum()
    got = metrics.frechet_distance_from_stats(mu1, torch.diag(s1**2), mu2, torch.diag(s2**2))
    assert got == pytest.approx(expected.item(), abs=1e-9)


def test_frechet_distance_of_general_2d_gaussians():
    """2x2: tr sqrt(A) = sqrt(tr A + 2 sqrt(det A)) for A = cov1 cov2, whose eigenvalues are positive."""
    g = torch.Generator().manual_seed(3)
    cov1, cov2 = _random_cov(2, g), _random_cov(2, g)
    a = cov1 @ cov2
    trace_sqrt = math.sqrt(a.trace() + 2 * math.sqrt(a.det()))
    mu1, mu2 = torch.tensor([0.5, -1.0]), torch.tensor([0.0, 2.0])
    expected = (mu1 - mu2).pow(2).sum().item() + cov1.trace().item() + cov2.trace().item() - 2 * trace_sqrt
    assert metrics.frechet_distance_from_stats(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_symmetric_and_estimated_from_samples():
    g = torch.Generator().manual_seed(4)
    cov1, cov2 = _random_cov(5, g), _random_cov(5, g)
    mu1, mu2 = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    exact = metrics.frechet_distance_from_stats(mu1, cov1, mu2, cov2)
    assert metrics.frechet_distance_from_stats(mu2, cov2, mu1, cov1) == pytest.approx(exact, rel=1e-9)
    x = mu1 + torch.randn(200_000, 5, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov1).T
    y = mu2 + torch.randn(200_000, 5, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov2).T
    assert metrics.frechet_distance(x, y) == pytest.approx(exact, rel=0.02)


def test_class_entropy_and_confidence():
    uniform = torch.eye(10).repeat(10, 1)  # 100 confident predictions, ten of each digit
    assert metrics.class_entropy(uniform) == pytest.approx(math.log(10))
    assert metrics.mean_confidence(uniform) == pytest.approx(1.0)
    one_digit = torch.full((50, 10), 0.05).index_fill_(1, torch.tensor([3]), 0.55)
    assert metrics.class_entropy(one_digit) == pytest.approx(0.0)
    assert metrics.mean_confidence(one_digit) == pytest.approx(0.55)


def test_evaluate_a_tiny_model_quickly(model, synthetic):
    torch.manual_seed(0)
    result = evaluate(model, synthetic.test, Classifier().eval(), k=5, num_samples=64, progress=False, reference=synthetic.train.images)
    assert result["neg_elbo"] == pytest.approx(result["recon"] + result["kl"])
    assert result["iwae"] < result["neg_elbo"]
    assert result["neg_elbo_bpd"] == pytest.approx(metrics.bits_per_dim(result["neg_elbo"]))
    assert 0 <= result["class_entropy"] <= math.log(10) + 1e-9
    assert 0.1 <= result["mean_confidence"] <= 1
    assert result["frechet_distance"] > result["frechet_distance_real"] > 0  # random digits are closer to random digits
    assert result["seconds"] < 30
    assert "IWAE bound, k=5" in format_table(result)


def test_classifier_shapes():
    clf = Classifier().eval()
    x = torch.rand(7, 1, 28, 28)
    assert clf(x).shape == (7, 10)
    assert features(clf, x, batch_size=3).shape == (7, 128)
    probs = predict_proba(clf, x)
    torch.testing.assert_close(probs.sum(1), torch.ones(7))
    assert predict(clf, x).tolist() == probs.argmax(1).tolist()


def test_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(VAEError, match="vae-classifier"):
        load_classifier(tmp_path / "nope.pth")


def test_committed_classifier_is_small_and_safe_to_load():
    if not default_path().exists():
        pytest.fail(f"{default_path()} is missing: train it with `vae-classifier`")
    assert default_path().stat().st_size < 1_000_000
    ckpt = torch.load(default_path(), weights_only=True)
    assert ckpt["test_accuracy"] >= 0.985


def test_committed_classifier_accuracy_on_real_test_images(mnist):
    clf = load_classifier()
    assert accuracy(clf, mnist.test) >= 0.985


def test_cli_json_on_real_data(mnist_root, cli_env, isolated_checkpoints, tmp_path):
    """`vae-evaluate --json` in quick mode, on a freshly initialised model: parses, and the numbers hang together."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=2))
    path = tmp_path / "tiny.pth"
    save_checkpoint({"model_state": vae.state_dict(), "model_config": vae.config.to_dict()}, path)
    env = {**cli_env, "VAELIB_DATA_DIR": str(mnist_root), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "vaelib.evaluate", "--checkpoint", str(path), "--json", "--num-samples", "100"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "RuntimeWarning" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["test_images"] == 500 and result["iwae_k"] == 10 and result["num_samples"] == 100
    assert result["iwae"] <= result["neg_elbo"]
    assert result["checkpoint"] == str(path)
    assert result["frechet_distance"] > 10 * result["frechet_distance_real"]  # an untrained model is far from real digits


def test_cli_missing_checkpoint_is_one_line(tmp_path, capsys):
    from vaelib.evaluate import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--checkpoint", str(tmp_path / "none.pth"), "--device", "cpu"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: checkpoint not found") and len(err.splitlines()) == 1


def test_classifier_cli_quick_writes_weights_that_load_safely(mnist_root, tmp_path, capsys):
    from vaelib import classifier

    out = tmp_path / "clf.pth"
    classifier.main(["--quick", "--output", str(out), "--data-dir", str(mnist_root), "--device", "cpu"])
    assert "test accuracy" in capsys.readouterr().out
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["train_images"] == classifier.QUICK_IMAGES and 0.5 < ckpt["test_accuracy"] <= 1
    assert load_classifier(out).training is False
