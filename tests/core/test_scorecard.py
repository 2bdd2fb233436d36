"""The scorecard: every number vae-evaluate reports, each equal to the measure it comes from."""

import math

import pytest
import torch

from vaelib.core import measures
from vaelib.core.classifier import image_features, predict_proba
from vaelib.core.latent import encode_means
from vaelib.core.scorecard import scorecard


def test_scorecard_of_a_tiny_model(model, judge, synthetic):
    result = scorecard(
        model, synthetic.test, judge, k=5, num_samples=64, progress=False, reference=synthetic.train.images
    )
    assert result["neg_elbo"] == pytest.approx(result["recon"] + result["kl"])
    assert result["iwae"] < result["neg_elbo"]
    assert result["neg_elbo_bpd"] == pytest.approx(measures.bits_per_dim(result["neg_elbo"]))
    assert result["iwae_bpd"] == pytest.approx(measures.bits_per_dim(result["iwae"]))
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
    elbo = measures.estimate_elbo(model, test, seed=2)
    assert result["neg_elbo"] == pytest.approx(elbo["neg_elbo"], rel=1e-5)
    assert result["kl"] == pytest.approx(elbo["kl"], rel=1e-4)
    assert result["iwae"] == pytest.approx(measures.iwae_bound(model, test, k=4, seed=2), rel=1e-5)
    assert result["active_units"] == measures.active_units(encode_means(model, test))
    samples = model.sample(50, generator=torch.Generator().manual_seed(2))
    fd = measures.frechet_distance(image_features(judge, samples), image_features(judge, test.images))
    assert result["frechet_distance"] == pytest.approx(fd, rel=1e-3)
    probs = predict_proba(judge, samples)
    assert result["class_entropy"] == pytest.approx(measures.class_entropy(probs))
    assert result["mean_confidence"] == pytest.approx(measures.mean_confidence(probs), rel=1e-5)
    assert result["frechet_distance_real"] is None


def test_scorecard_compares_samples_with_real(model, judge, synthetic):
    """`real` images, when given, are what the samples' Fréchet distance is measured against (not `test`)."""
    real = synthetic.train.images[:128]
    result = scorecard(model, synthetic.test, judge, k=0, num_samples=50, seed=2, progress=False, real=real)
    samples = model.sample(50, generator=torch.Generator().manual_seed(2))
    fd = measures.frechet_distance(image_features(judge, samples), image_features(judge, real))
    assert result["frechet_distance"] == pytest.approx(fd, rel=1e-3)
    default = scorecard(model, synthetic.test, judge, k=0, num_samples=50, seed=2, progress=False)
    assert default["frechet_distance"] != pytest.approx(fd, rel=1e-3)
