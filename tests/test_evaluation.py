"""Evaluation: the scorecard against the metrics it is made of, its table, the sizes evaluate_checkpoint picks
(defaults, quick mode, explicit sizes), and the `vae-evaluate` command."""

import json
import math
import subprocess
import sys

import pytest
import torch

from vaelib import MNIST, VAE, ModelConfig, Split, evaluation, metrics
from vaelib.classifier import Classifier, image_features, predict_proba
from vaelib.evaluate import main as evaluate_main
from vaelib.evaluation import format_scorecard, scorecard
from vaelib.latent import encode_means
from vaelib.sampling import prior_samples


@pytest.fixture
def model():
    """A small fixed VAE (random weights, eval mode) whose posteriors sit far from the prior."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=4)).eval()
    with torch.no_grad():
        vae.fc_mu.weight.mul_(20)
        vae.fc_log_var.bias.fill_(-2.0)
    return vae


@pytest.fixture
def judge():
    torch.manual_seed(1)
    return Classifier().eval()


def test_scorecard_of_a_tiny_model(model, judge, synthetic):
    result = scorecard(
        model, synthetic.test, judge, k=5, num_samples=64, progress=False, reference=synthetic.train.images
    )
    assert result["neg_elbo"] == pytest.approx(result["recon"] + result["kl"])
    assert result["iwae"] < result["neg_elbo"]
    assert result["neg_elbo_bpd"] == pytest.approx(metrics.bits_per_dim(result["neg_elbo"]))
    assert result["iwae_bpd"] == pytest.approx(metrics.bits_per_dim(result["iwae"]))
    assert 0 <= result["class_entropy"] <= math.log(10) + 1e-9
    assert 0.1 <= result["mean_confidence"] <= 1
    assert result["frechet_distance"] > result["frechet_distance_real"] > 0  # random digits are closer to random digits
    assert result["seconds"] < 30
    assert (result["test_images"], result["latent_dim"], result["iwae_k"], result["num_samples"]) == (128, 4, 5, 64)


def test_scorecard_matches_the_metrics(model, judge, synthetic):
    """Each number is the metric computed on its own, with the same seed; the model itself is not changed."""
    test = synthetic.test
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    result = scorecard(model, test, judge, k=4, num_samples=50, seed=2, progress=False)
    assert model.training and all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    elbo = metrics.estimate_elbo(model, test, seed=2)
    assert result["neg_elbo"] == pytest.approx(elbo["neg_elbo"], rel=1e-5)
    assert result["kl"] == pytest.approx(elbo["kl"], rel=1e-4)
    assert result["iwae"] == pytest.approx(metrics.iwae_bound(model, test, k=4, seed=2), rel=1e-5)
    assert result["active_units"] == metrics.active_units(encode_means(model, test))
    samples = prior_samples(model, 50, seed=2)
    fd = metrics.frechet_distance(image_features(judge, samples), image_features(judge, test.images))
    assert result["frechet_distance"] == pytest.approx(fd, rel=1e-3)
    probs = predict_proba(judge, samples)
    assert result["class_entropy"] == pytest.approx(metrics.class_entropy(probs))
    assert result["mean_confidence"] == pytest.approx(metrics.mean_confidence(probs), rel=1e-5)
    assert result["frechet_distance_real"] is None


def test_format_scorecard_is_a_markdown_table(model, judge, synthetic):
    result = scorecard(model, synthetic.test, judge, k=3, num_samples=20, progress=False)
    table = format_scorecard(result).splitlines()
    assert table[0].startswith("| metric") and set(table[1]) <= {"|", "-", ":"}
    assert all(line.startswith("| ") and line.endswith(" |") for line in table[2:])
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in table[2:]}
    assert rows["−ELBO (nats/image)"] == f"{result['neg_elbo']:.2f}"
    assert rows["IWAE bound, k=3 (nats/image)"] == f"{result['iwae']:.2f}"
    assert rows["active units (Var[mu] > 0.01)"] == f"{result['active_units']} of 4"
    assert not any("real training digits" in name for name in rows)  # no reference given: no such row
    with_real = format_scorecard({**result, "frechet_distance_real": 12.345})
    assert "| 12.35 |" in with_real and "same for 20 real training digits" in with_real


@pytest.fixture
def recorded(monkeypatch, save_model):
    """evaluate_checkpoint with scorecard replaced by a recorder and 1,200 blank test images: the sizes it picks."""
    calls = []

    def record(model, test, classifier, k, num_samples, batch_size, seed, reference):
        calls.append({"test_images": len(test), "k": k, "num_samples": num_samples, "reference": len(reference)})
        return {"recorded": True}

    blank = Split(torch.zeros(1200, 1, 28, 28), torch.zeros(1200, dtype=torch.long))
    monkeypatch.setattr(evaluation, "scorecard", record)
    monkeypatch.setattr(evaluation, "load_mnist", lambda data_dir=None: MNIST(blank, blank.head(10), blank))
    path = save_model(VAE())

    def sizes(quick=False, **explicit):
        result = evaluation.evaluate_checkpoint(path, torch.device("cpu"), quick, seed=4, **explicit)
        assert result == {"checkpoint": str(path), "device": "cpu", "seed": 4, "recorded": True}
        return calls.pop()

    return sizes


def test_evaluate_checkpoint_sizes(recorded):
    """Defaults, then quick mode, then the sizes given explicitly (they win)."""
    assert recorded() == {"test_images": 1200, "k": 1000, "num_samples": 10_000, "reference": 1200}
    assert recorded(quick=True) == {"test_images": 500, "k": 10, "num_samples": 500, "reference": 500}
    assert recorded(quick=True, k=50) == {"test_images": 500, "k": 50, "num_samples": 500, "reference": 500}
    assert recorded(test_images=300, num_samples=7) == {"test_images": 300, "k": 1000, "num_samples": 7, "reference": 7}
    assert evaluation.QUICK_EVALUATION == {"test_images": 500, "k": 10, "num_samples": 500}


def test_evaluate_cli_json_on_real_data(mnist_root, cli_env, save_model, tmp_path):
    """`vae-evaluate --json` in quick mode (VAELIB_QUICK=1) on a freshly initialised model: it parses, the explicit
    sizes win over quick mode's, and the numbers hang together."""
    torch.manual_seed(0)
    path = save_model(VAE(ModelConfig(latent_dim=2)))
    env = {**cli_env, "VAELIB_DATA_DIR": str(mnist_root), "OMP_NUM_THREADS": "1"}
    argv = ["--checkpoint", str(path), "--json", "--num-samples", "100", "--test_images", "300", "--device", "cpu"]
    proc = subprocess.run(
        [sys.executable, "-m", "vaelib.evaluate", *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "RuntimeWarning" not in proc.stderr and "(quick mode)" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["test_images"] == 300 and result["iwae_k"] == 10 and result["num_samples"] == 100
    assert result["iwae"] <= result["neg_elbo"]
    assert result["checkpoint"] == str(path)
    assert result["frechet_distance"] > 10 * result["frechet_distance_real"]  # an untrained model is far from digits


def test_evaluate_cli_prints_the_table(mnist_root, save_model, capsys):
    path = save_model(VAE())
    argv = ["--checkpoint", str(path), "--quick", "--k", "2", "--num_samples", "40", "--test-images", "60"]
    evaluate_main([*argv, "--data-dir", str(mnist_root), "--device", "cpu"])
    captured = capsys.readouterr()
    assert "(quick mode)" in captured.err
    assert "| test images " in captured.out and "| 60 |" in captured.out and "IWAE bound, k=2" in captured.out
    assert "Fréchet distance, 40 samples" in captured.out


def test_evaluate_cli_missing_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main(["--checkpoint", str(tmp_path / "none.pth"), "--device", "cpu"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: checkpoint not found") and "Traceback" not in err


def test_evaluate_cli_error_is_the_only_line(tmp_path, capsys):
    """A bad --checkpoint gives one line on stderr, the error, as every other command does."""
    with pytest.raises(SystemExit):
        evaluate_main(["--checkpoint", str(tmp_path / "none.pth"), "--device", "cpu"])
    assert capsys.readouterr().err.startswith("error: checkpoint not found")
