"""vae-generate: digits from the prior or of one class, reproducible by seed, and `--digit` on real data."""

import numpy as np
import torch

import vaelib
from vaelib.commands import generate
from vaelib.commands.generate import generate_digits
from vaelib.core import conditional
from vaelib.core.classifier import load_classifier, predict
from vaelib.core.model import VAE, ModelConfig
from vaelib.runs import images


def tiny_model(latent_dim: int = 2, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(latent_dim=latent_dim)).eval()


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
    assert out.read_bytes() == images.png_bytes(expected)
