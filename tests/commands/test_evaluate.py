"""vae-evaluate: the sizes it scores, the seeded subset, data kinds, its table and JSON, and its one-line errors."""

import json
import subprocess
import sys
from dataclasses import asdict

import pytest
import torch

from vaelib import MNIST, VAE, Digits, ModelConfig
from vaelib.commands import evaluate as evaluation
from vaelib.commands.evaluate import build_parser as evaluate_build_parser
from vaelib.commands.evaluate import format_scorecard
from vaelib.commands.evaluate import main as evaluate_main
from vaelib.core import data, measures
from vaelib.core.classifier import image_features, load_classifier
from vaelib.core.scorecard import scorecard
from vaelib.core.training import TrainConfig


def test_format_scorecard_is_a_markdown_table(model, judge, synthetic):
    result = scorecard(model, synthetic.test, judge, k=3, num_samples=20, progress=False)
    table = format_scorecard(result).splitlines()
    assert table[0].startswith("| metric") and set(table[1]) <= {"|", "-", ":"}
    assert all(line.startswith("| ") and line.endswith(" |") for line in table[2:])
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in table[2:]}
    assert rows["−ELBO (nats/image), ± its z noise"] == f"{result['neg_elbo']:.2f} ± {result['neg_elbo_noise']:.2f}"
    assert rows["IWAE bound, k=3 (nats/image)"] == f"{result['iwae']:.2f} ± {result['iwae_se']:.2f}"
    assert rows["active units (Var[mu] > 0.01)"] == f"{result['active_units']} of 4"
    assert not any("real training digits" in name for name in rows)  # no reference given: no such row
    with_real = format_scorecard({**result, "frechet_distance_real": 12.345})
    assert "| 12.35 |" in with_real and "same for 20 real training digits" in with_real


@pytest.fixture
def recorded(monkeypatch, save_model):
    """evaluate_checkpoint with scorecard replaced by a recorder and 1,200 test images whose labels are their
    indices (each image is blank but for its first pixel, index / 1200): the sizes it picks. `sizes.picked` holds the
    labels of the test images scored and the real images passed for the Fréchet distance, last call."""
    calls = []

    def record(model, test, classifier, k, num_samples, batch_size, seed, reference, real):
        calls.append({"test_images": len(test), "k": k, "num_samples": num_samples, "reference": len(reference)})
        sizes.picked = {"labels": test.labels, "images": test.images, "real": real}
        return {"recorded": True}

    images = torch.zeros(1200, 1, 28, 28)
    images[:, 0, 0, 0] = torch.arange(1200) / 1200
    indexed = Digits(images, torch.arange(1200))
    monkeypatch.setattr(evaluation, "scorecard", record)
    monkeypatch.setattr(evaluation, "load_mnist", lambda data_dir=None: MNIST(indexed, indexed.head(10), indexed))
    path = save_model(VAE())

    def sizes(quick=False, **explicit):
        result = evaluation.evaluate_checkpoint(path, torch.device("cpu"), quick, seed=4, **explicit)
        assert result == {"checkpoint": str(path), "device": "cpu", "seed": 4, "data": "grey", "recorded": True}
        return calls.pop()

    return sizes


def test_evaluate_checkpoint_sizes(recorded):
    """Defaults, then quick mode, then the sizes given explicitly (they win)."""
    assert recorded() == {"test_images": 1200, "k": 1000, "num_samples": 10_000, "reference": 1200}
    assert recorded(quick=True) == {"test_images": 500, "k": 10, "num_samples": 500, "reference": 500}
    assert recorded(quick=True, k=50) == {"test_images": 500, "k": 50, "num_samples": 500, "reference": 500}
    assert recorded(test_images=300, num_samples=7) == {"test_images": 300, "k": 1000, "num_samples": 7, "reference": 7}
    assert recorded(k=0) == {"test_images": 1200, "k": 0, "num_samples": 10_000, "reference": 1200}
    assert evaluation.QUICK_EVALUATION == {"test_images": 500, "k": 10, "num_samples": 500}


def test_test_images_is_a_seeded_subset(recorded):
    """test_images = N scores Digits.subset(N) of the test set: N distinct images in test-set order from all of it,
    not the first N (the test set is ordered by writer), the same ones every time; a grey model compares its
    samples with those very images, and all of them is the whole test set in order."""
    recorded(test_images=300)
    picked = recorded.picked
    labels, index = picked["labels"], (picked["images"][:, 0, 0, 0] * 1200).round().long()
    assert torch.equal(labels, index) and len(set(labels.tolist())) == 300
    assert torch.equal(labels, labels.sort().values) and labels.max() > 600
    order = Digits(torch.zeros(1200, 1, 1, 1), torch.arange(1200))
    assert torch.equal(labels, order.subset(300, seed=data.SUBSET_SEED).labels)
    assert torch.equal(picked["real"], picked["images"])
    recorded(quick=True)
    assert torch.equal(recorded.picked["labels"], order.subset(500).labels)
    recorded(test_images=300)
    assert torch.equal(recorded.picked["labels"], labels)
    recorded()
    assert torch.equal(recorded.picked["labels"], torch.arange(1200))


def test_test_images_help_says_random():
    text = evaluate_build_parser().format_help()
    assert "first N" not in text


# ----- skipping the bound, KL per dimension, binary digits


@pytest.fixture
def binary_checkpoint(save_model, mnist, monkeypatch):
    """A 2-D model saved as a binary run saves it (train_config data = binary), MNIST from the session fixture. Its
    encoder means are scaled up so that its scores on grey, fixed-binary and other-binary digits differ by tenths of
    a nat (a random decoder's Bernoulli likelihood is linear in x, so only the codes tell the three apart)."""
    monkeypatch.setattr(evaluation, "load_mnist", lambda data_dir=None: mnist)
    torch.manual_seed(3)
    model = VAE(ModelConfig(latent_dim=2)).eval()
    with torch.no_grad():
        model.fc_mu.weight.mul_(20)
    return save_model(model, "binary.pth", train_config=asdict(TrainConfig(data="binary"))), model


def evaluate_quietly(path, **kwargs) -> dict:
    return evaluation.evaluate_checkpoint(path, torch.device("cpu"), k=2, num_samples=50, test_images=200, **kwargs)


def test_binary_checkpoint_scored_on_binary(binary_checkpoint, mnist, capsys):
    """A model trained on binary digits is scored, by default, on the fixed binarisation of the seeded test subset
    (-ELBO and IWAE bound as the metrics give them there), its samples compared with the grey test digits."""
    path, model = binary_checkpoint
    result = evaluate_quietly(path)
    assert result["data"] == "binary" and result["test_images"] == 200
    real = mnist.test.subset(200)
    test = data.as_data_kind(mnist.test, "binary").subset(200)  # each test image keeps its one binarisation
    assert result["neg_elbo"] == pytest.approx(measures.estimate_elbo(model, test)["neg_elbo"], abs=1e-3)
    assert result["iwae"] == pytest.approx(measures.iwae_bound(model, test, k=2), abs=1e-3)
    assert sum(result["kl_per_dim"]) == pytest.approx(result["kl"], rel=1e-5)
    for other in (real, data.binarized(mnist.test, seed=1).subset(200)):  # grey, and another binarisation
        assert abs(result["neg_elbo"] - measures.estimate_elbo(model, other)["neg_elbo"]) > 0.1
    judge = load_classifier()
    fd = measures.frechet_distance(
        image_features(judge, model.sample(50, generator=torch.Generator().manual_seed(0))),
        image_features(judge, real.images),
    )
    assert result["frechet_distance"] == pytest.approx(fd, rel=1e-3)
    err = capsys.readouterr().err
    assert "warning" not in err and "200 binary test images" in err
    assert "| 200 (binary) |" in format_scorecard(result)


def test_binary_checkpoint_scored_on_grey(binary_checkpoint, mnist, capsys):
    """data = "grey" overrides what the checkpoint records, with a warning on stderr."""
    path, model = binary_checkpoint
    result = evaluate_quietly(path, data="grey")
    assert result["data"] == "grey"
    real = mnist.test.subset(200)
    assert result["neg_elbo"] == pytest.approx(measures.estimate_elbo(model, real)["neg_elbo"], abs=1e-3)
    err = capsys.readouterr().err
    assert f"warning: {path} was trained on binary digits; scoring it on grey ones" in err


def test_grey_checkpoint_on_binary_warns(save_model, mnist, monkeypatch, capsys):
    """A model file with no train_config counts as grey-trained: no warning by default, one for binary."""
    monkeypatch.setattr(evaluation, "load_mnist", lambda data_dir=None: mnist)
    path = save_model(VAE())
    assert evaluate_quietly(path)["data"] == "grey" and "warning" not in capsys.readouterr().err
    assert evaluate_quietly(path, data="binary")["data"] == "binary"
    assert "trained on grey digits; scoring it on binary ones" in capsys.readouterr().err


def test_evaluate_cli_data_and_k0(binary_checkpoint, capsys):
    """`vae-evaluate --data grey --k 0 --json` on the binary model: grey scores, no bound (null), a warning; the table
    form says skipped."""
    path, _ = binary_checkpoint
    argv = ["--checkpoint", str(path), "--k", "0", "--num_samples", "30", "--test_images", "50", "--device", "cpu"]
    evaluate_main([*argv, "--data", "grey", "--json"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["data"] == "grey" and result["iwae"] is None and result["iwae_k"] == 0
    assert "trained on binary digits" in captured.err
    evaluate_main(argv)
    out = capsys.readouterr().out
    assert "| 50 (binary) |" in out and "skipped (k=0)" in out


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
    assert "| test images " in captured.out and "| 60 (grey) |" in captured.out and "IWAE bound, k=2" in captured.out
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


def table_rows(table: str) -> dict:
    return {line.split("|")[1].strip(): line.split("|")[2].strip() for line in table.splitlines()[2:]}


def test_scorecard_k0_skips_the_bound(model, judge, synthetic):
    """k = 0: no IWAE bound (None in the dict, 'skipped' in the table), everything else as with k > 0."""
    skipped = scorecard(model, synthetic.test, judge, k=0, num_samples=20, progress=False)
    full = scorecard(model, synthetic.test, judge, k=3, num_samples=20, progress=False)
    assert skipped["iwae"] is None and skipped["iwae_bpd"] is None and skipped["iwae_k"] == 0
    same = ("neg_elbo", "recon", "kl", "active_units", "kl_per_dim", "frechet_distance", "class_entropy")
    assert {key: skipped[key] for key in same} == {key: full[key] for key in same}
    rows = table_rows(format_scorecard(skipped))
    assert rows["IWAE bound, k=0 (nats/image)"] == rows["IWAE bound, k=0 (bits/dim)"] == "skipped (k=0)"
    assert json.loads(json.dumps(skipped))["iwae"] is None  # --json writes null


def test_scorecard_kl_per_dim(model, judge, synthetic):
    """kl_per_dim: one float per latent dimension, measures.kl_per_dimension on the test images, adding up to the
    KL; the table lists them largest first."""
    result = scorecard(model, synthetic.test, judge, k=2, num_samples=20, progress=False)
    kl = result["kl_per_dim"]
    assert isinstance(kl, list) and len(kl) == 4 and all(isinstance(v, float) and v >= 0 for v in kl)
    assert sum(kl) == pytest.approx(result["kl"], rel=1e-5)
    assert kl == pytest.approx(measures.kl_per_dimension(model, synthetic.test).tolist(), rel=1e-5)
    shown = table_rows(format_scorecard(result))["KL per dimension, largest first"]
    assert shown == " ".join(f"{v:.2f}" for v in sorted(kl, reverse=True))


def test_scorecard_reports_the_bound_s_standard_error(model, mnist):
    """iwae_se is the standard error of the per-image bounds, shown as ± in the table."""
    test = mnist.test.subset(40)
    result = scorecard(model, test, load_classifier(), k=3, num_samples=20, progress=False)
    per_image = measures.iwae_per_image(model, test, k=3)
    assert result["iwae_se"] == pytest.approx(measures.standard_error(per_image), rel=1e-6) and result["iwae_se"] > 0
    assert f"{result['iwae']:.2f} ± {result['iwae_se']:.2f}" in format_scorecard(result)
