"""The classifier that judges generated digits: shapes, batch-size independence, clear errors, the shipped weights."""

import pytest
import torch

from vaelib.core import classifier
from vaelib.core.classifier import (
    Classifier,
    accuracy,
    default_path,
    image_features,
    load_classifier,
    predict,
    predict_proba,
)
from vaelib.core.errors import VAEError


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


def test_fit_classifier_is_reproducible(small_mnist):
    a = classifier.fit_classifier(small_mnist.train.head(128), epochs=1, seed=5)
    b = classifier.fit_classifier(small_mnist.train.head(128), epochs=1, seed=5)
    assert not a.training
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
