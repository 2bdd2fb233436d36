"""vaelib: a small convolutional variational autoencoder for MNIST, made for learning.

    import vaelib
    data = vaelib.load_mnist()
    result = vaelib.fit(vaelib.make_config("fast", epochs=10))
    model, _ = vaelib.load_model(vaelib.default_checkpoint())
    digits = model.sample(16)

The modules not imported here are used by name: vaelib.latent, vaelib.conditional, vaelib.plots,
vaelib.explorer, vaelib.classifier, vaelib.evaluation, vaelib.sampling, vaelib.live.
"""

from .checkpoint import best_path, default_checkpoint, load_checkpoint, load_model, pretrained_path, save_checkpoint
from .data import MNIST, Split, batches, load_mnist
from .device import pick_device
from .errors import VAEError
from .metrics import estimate_elbo, iwae_bound
from .model import (
    VAE,
    Losses,
    ModelConfig,
    bernoulli_nll,
    evaluating,
    kl_to_standard_normal,
    negative_elbo,
    reparameterize,
)
from .settings import quick_mode
from .trainer import RECIPES, TrainConfig, TrainResult, fit, make_config, resume

__version__ = "0.2.0"

__all__ = [
    "MNIST",
    "RECIPES",
    "VAE",
    "Losses",
    "ModelConfig",
    "Split",
    "TrainConfig",
    "TrainResult",
    "VAEError",
    "batches",
    "bernoulli_nll",
    "best_path",
    "default_checkpoint",
    "estimate_elbo",
    "evaluating",
    "fit",
    "iwae_bound",
    "kl_to_standard_normal",
    "load_checkpoint",
    "load_model",
    "load_mnist",
    "make_config",
    "negative_elbo",
    "pick_device",
    "pretrained_path",
    "quick_mode",
    "reparameterize",
    "resume",
    "save_checkpoint",
]
