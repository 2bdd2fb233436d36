"""vae-classifier: training records what it saved, and quick mode writes safe weights to the scratch folder."""

import torch

from vaelib.commands import train_classifier
from vaelib.commands.train_classifier import main as classifier_main
from vaelib.core import classifier
from vaelib.core.classifier import (
    accuracy,
    load_classifier,
)


def test_train_and_save_records_what_it_saved(small_mnist, tmp_path):
    """The record matches the saved file, and its accuracies are those of the saved weights."""
    out = tmp_path / "clf.pth"
    record = train_classifier.train_and_save(out, small_mnist, epochs=1, train_images=256, seed=3)
    assert record["train_images"] == 256 and record["epochs"] == 1 and record["seed"] == 3
    saved = torch.load(out, weights_only=True)
    assert {k: saved[k] for k in record} == record
    loaded = load_classifier(out)
    assert accuracy(loaded, small_mnist.test) == record["test_accuracy"]
    assert accuracy(loaded, small_mnist.val) == record["val_accuracy"]


def test_classifier_cli_quick_writes_safe_weights(mnist_root, tmp_path, capsys):
    """`vae-classifier --quick`: trains on the quick subset and writes weights that load weights-only."""
    out = tmp_path / "clf.pth"
    classifier_main(["--quick", "--output", str(out), "--data-dir", str(mnist_root), "--device", "cpu"])
    assert "test accuracy" in capsys.readouterr().out
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["train_images"] == train_classifier.QUICK_CLASSIFIER["train_images"] == 2048
    assert ckpt["epochs"] == train_classifier.QUICK_CLASSIFIER["epochs"] == 1
    assert 0.5 < ckpt["test_accuracy"] <= 1
    assert load_classifier(out).training is False


def test_classifier_cli_quick_keeps_explicit_epochs(mnist_root, isolated_checkpoints, capsys, monkeypatch):
    """`vae-classifier --quick --epochs 2`: the quick subset for 2 epochs, written to $VAELIB_CHECKPOINT_DIR."""
    monkeypatch.setenv("VAELIB_QUICK", "0")  # quick mode from the flag alone
    classifier_main(["--quick", "--epochs", "2", "--data_dir", str(mnist_root), "--device", "cpu"])
    out = isolated_checkpoints / classifier.FILE_NAME
    assert f"Saved {out}" in capsys.readouterr().out
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["epochs"] == 2 and ckpt["train_images"] == 2048
