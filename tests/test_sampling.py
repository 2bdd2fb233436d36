"""New digits: prior samples (reproducible by seed), digits of one class on real data, and `vae-generate --digit`."""

import numpy as np
import pytest
import torch

import vaelib
from vaelib import conditional, generate, plots
from vaelib.classifier import load_classifier, predict
from vaelib.model import VAE, ModelConfig
from vaelib.sampling import generate_digits, prior_samples


def tiny_model(latent_dim: int = 2, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(latent_dim=latent_dim)).eval()


def test_prior_samples_reproducible_by_seed():
    """The same seed gives the same digits (those of VAE.sample with a generator of that seed); another seed others."""
    model = tiny_model()
    a, b = prior_samples(model, 30, seed=4), prior_samples(model, 30, seed=4)
    assert a.shape == (30, 1, 28, 28) and a.device.type == "cpu"
    assert torch.equal(a, b)
    assert torch.equal(a, model.sample(30, torch.Generator().manual_seed(4)))
    assert not torch.allclose(a, prior_samples(model, 30, seed=5))


@pytest.mark.parametrize("batch_size", [8, 64, 96])
def test_prior_samples_batch_size_independent(batch_size):
    """Drawn in batches of any size that is a multiple of 8, the 200 digits are those of one big batch."""
    model = tiny_model()
    one_batch = prior_samples(model, 200, seed=1, batch_size=200)
    torch.testing.assert_close(prior_samples(model, 200, seed=1, batch_size=batch_size), one_batch, rtol=0, atol=1e-6)


@pytest.mark.parametrize("latent_dim, batch_size", [(2, 5), (3, 1000)])
def test_prior_samples_any_batch_size(latent_dim, batch_size):
    model = tiny_model(latent_dim)
    n = 1010
    one_batch = prior_samples(model, n, seed=1, batch_size=n)
    torch.testing.assert_close(prior_samples(model, n, seed=1, batch_size=batch_size), one_batch, rtol=0, atol=1e-6)


def test_generate_digits_from_the_prior():
    model = tiny_model()
    digits = generate_digits(model, 9, torch.Generator().manual_seed(2))
    assert torch.equal(digits, model.sample(9, torch.Generator().manual_seed(2)))


def test_generate_digits_of_one_class(mnist_root, capsys):
    """With the shipped 16-D model, on real MNIST: the class densities of conditional.py, and digits the project's
    classifier reads as the digit asked for."""
    model, _ = vaelib.load_model(vaelib.pretrained_path(16))
    digits = generate_digits(model, 40, torch.Generator().manual_seed(3), digit=7, data_dir=mnist_root)
    assert "Digit 7: z drawn from the latent region of" in capsys.readouterr().out
    train = vaelib.load_mnist(mnist_root, download=False).train.head(conditional.FIT_IMAGES)
    density = conditional.class_densities(model, train)
    expected = conditional.sample_digits(model, density, 7, 40, torch.Generator().manual_seed(3))
    torch.testing.assert_close(digits, expected)
    assert (predict(load_classifier(), digits) == 7).float().mean() >= 0.9


def test_generate_cli_digit_writes_that_digit(mnist_root, save_model, tmp_path, capsys):
    """`vae-generate --digit 7` writes the PNG and the array of exactly the digits generate_digits draws."""
    model = tiny_model()
    path = save_model(model)
    out, array = tmp_path / "sevens.png", tmp_path / "sevens.npy"
    argv = ["--digit", "7", "--num_samples", "6", "--seed", "3", "--checkpoint", str(path), "--output", str(out)]
    generate.main([*argv, "--save-array", str(array), "--device", "cpu", "--data-dir", str(mnist_root)])
    assert "Digit 7: z drawn from" in capsys.readouterr().out
    train = vaelib.load_mnist(mnist_root, download=False).train.head(conditional.FIT_IMAGES)
    density = conditional.class_densities(model, train)
    expected = conditional.sample_digits(model, density, 7, 6, torch.Generator().manual_seed(3))
    assert np.allclose(np.load(array), expected[:, 0].numpy(), atol=1e-6)
    assert out.read_bytes() == plots.png_bytes(expected)
