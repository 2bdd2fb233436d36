"""vaelib: a small convolutional variational autoencoder for MNIST, made for learning.

    import vaelib
    from vaelib.runs import fit

    mnist = vaelib.load_mnist()                                # 55,000 train / 5,000 validation / 10,000 test
    result = fit(vaelib.make_config("fast", epochs=10))        # a training run with its folder of checkpoints
    model, _ = vaelib.load_model(vaelib.default_checkpoint())  # your best model, else the shipped one
    digits = model.sample(16)                                  # (16, 1, 28, 28) in [0, 1]

The package has four parts, one folder each; the core never imports the others:
- vaelib.core: what a learner reads: the model and its loss (core/model.py, core/likelihood.py), the data, the
  training epoch, the measures, the latent space. The names below come from it.
- vaelib.runs: the run shell: fit and resume, run folders, checkpoints written safely, the best model.
- vaelib.commands: vae-train, vae-generate, vae-evaluate and vae-classifier.
- vaelib.notebook: what only the notebooks use: figures, tables, live training plots, the latent explorers.
"""

from .core.checkpoints import default_checkpoint, load_checkpoint, load_model, pretrained_path
from .core.data import MNIST, Digits, batches, load_mnist
from .core.device import pick_device
from .core.errors import VAEError
from .core.measures import estimate_elbo, iwae_bound
from .core.model import (
    VAE,
    Losses,
    ModelConfig,
    evaluating,
    gaussian_log_prob,
    kl_to_standard_normal,
    negative_elbo,
    reparameterize,
    train_step,
)
from .core.settings import quick_mode
from .core.training import RECIPES, TrainConfig, make_config

__version__ = "0.3.0"

__all__ = [
    "MNIST",
    "RECIPES",
    "VAE",
    "Digits",
    "Losses",
    "ModelConfig",
    "TrainConfig",
    "VAEError",
    "batches",
    "default_checkpoint",
    "estimate_elbo",
    "evaluating",
    "gaussian_log_prob",
    "iwae_bound",
    "kl_to_standard_normal",
    "load_checkpoint",
    "load_mnist",
    "load_model",
    "make_config",
    "negative_elbo",
    "pick_device",
    "pretrained_path",
    "quick_mode",
    "reparameterize",
    "train_step",
]
