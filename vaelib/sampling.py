"""New digits: from the prior N(0, I), or from the latent region of one digit class."""

import torch

from . import conditional
from .data import load_mnist
from .latent import codes_to_images


def prior_samples(model, n: int, seed: int, batch_size: int = 1000) -> torch.Tensor:
    """n digits decoded from z ~ N(0, I), (n, 1, 28, 28) on the CPU, decoded `batch_size` at a time.

    All n codes are drawn at once on the CPU, so a seed gives the same digits on every device and batch size.
    """
    z = torch.randn(n, model.config.latent_dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([codes_to_images(model, z[i : i + batch_size]) for i in range(0, n, batch_size)])


def generate_digits(model, n: int, generator, digit: int | None = None, data_dir=None) -> torch.Tensor:
    """What `vae-generate` draws: n digits from the prior, or, with `digit`, n of that digit.

    For a digit, the class densities are fitted to encoded training images (vaelib.conditional; reads MNIST).
    """
    if digit is None:
        return model.sample(n, generator=generator)
    train = load_mnist(data_dir).train.head(conditional.FIT_IMAGES)
    density = conditional.class_densities(model, train)
    count = int((density.labels == digit).sum())
    print(f"Digit {digit}: z drawn from the latent region of {count:,} typical training images of that digit")
    return conditional.sample_digits(model, density, digit, n, generator)
