"""The classifier that scores generated digits: shapes, batching, the shipped weights, training and saving, and the
`vae-classifier` command (vaelib/train_classifier.py)."""

import pytest
import torch

from vaelib import classifier
from vaelib.classifier import (
    Classifier,
    accuracy,
    default_path,
    image_features,
    load_classifier,
    predict,
    predict_proba,
)
from vaelib.errors import VAEError
from vaelib.train_classifier import main as classifier_main


def test_classifier_shapes():
    clf = Classifier().eval()
    x = torch.rand(7, 1, 28, 28)
    assert clf(x).shape == (7, 10)
    assert image_features(clf, x, batch_size=3).shape == (7, classifier.FEATURE_DIM)
    probs = predict_proba(clf, x)
    torch.testing.assert_close(probs.sum(1), torch.ones(7))
    assert predict(clf, x).tolist() == probs.argmax(1).tolist()


def test_predictions_do_not_depend_on_batch_size():
    """Chunked inference equals one pass of the eval-mode network, and a training-mode classifier stays in training."""
    torch.manual_seed(0)
    clf = Classifier().train()
    x = torch.rand(25, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = clf(x)
        feats = clf.features(x)
    torch.testing.assert_close(predict_proba(clf, x, batch_size=4), torch.softmax(logits, dim=1))
    torch.testing.assert_close(image_features(clf, x, batch_size=7), feats)
    assert clf.training


def test_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(VAEError, match="vae-classifier"):
        load_classifier(tmp_path / "nope.pth")


def test_corrupt_classifier_is_a_clear_error(tmp_path):
    (tmp_path / "clf.pth").write_bytes(b"not a classifier")
    with pytest.raises(VAEError, match="not a vaelib classifier or is corrupt"):
        load_classifier(tmp_path / "clf.pth")


def test_shipped_classifier_is_small_and_safe():
    """The shipped weights: under 1 MB, loadable with weights_only, with the recorded test accuracy."""
    if not default_path().exists():
        pytest.fail(f"{default_path()} is missing: train it with `vae-classifier`")
    assert default_path().stat().st_size < 1_000_000
    ckpt = torch.load(default_path(), weights_only=True)
    assert ckpt["test_accuracy"] >= 0.985


def test_shipped_classifier_test_accuracy(mnist):
    """Re-measured on the 10,000 real test images."""
    clf = load_classifier()
    assert accuracy(clf, mnist.test) >= 0.985


def test_train_and_save_records_what_it_saved(small_mnist, tmp_path):
    """The record matches the saved file, and its accuracies are those of the saved weights."""
    out = tmp_path / "clf.pth"
    record = classifier.train_and_save(out, small_mnist, epochs=1, train_images=256, seed=3)
    assert record["train_images"] == 256 and record["epochs"] == 1 and record["seed"] == 3
    saved = torch.load(out, weights_only=True)
    assert {k: saved[k] for k in record} == record
    loaded = load_classifier(out)
    assert accuracy(loaded, small_mnist.test) == record["test_accuracy"]
    assert accuracy(loaded, small_mnist.val) == record["val_accuracy"]


def test_fit_classifier_is_reproducible(small_mnist):
    a = classifier.fit_classifier(small_mnist.train.head(128), epochs=1, seed=5)
    b = classifier.fit_classifier(small_mnist.train.head(128), epochs=1, seed=5)
    assert not a.training
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


def test_classifier_cli_quick_writes_safe_weights(mnist_root, tmp_path, capsys):
    """`vae-classifier --quick`: trains on the quick subset and writes weights that load weights-only."""
    out = tmp_path / "clf.pth"
    classifier_main(["--quick", "--output", str(out), "--data-dir", str(mnist_root), "--device", "cpu"])
    assert "test accuracy" in capsys.readouterr().out
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["train_images"] == classifier.QUICK_CLASSIFIER["train_images"] == 2048
    assert ckpt["epochs"] == classifier.QUICK_CLASSIFIER["epochs"] == 1
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
