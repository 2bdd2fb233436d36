"""vaelib: a small convolutional variational autoencoder for MNIST, made for learning.

    import vaelib
    data = vaelib.load_mnist()
    result = vaelib.fit(vaelib.TrainConfig(epochs=10))
    model, _ = vaelib.load_model(vaelib.default_checkpoint())
    digits = model.sample(16)
"""

from .checkpoint import best_path, default_checkpoint, load_checkpoint, load_model, pretrained_path, save_checkpoint
from .data import MNIST, Split, batches, load_mnist
from .device import pick_device
from .errors import VAEError
from .metrics import estimate_elbo
from .model import VAE, Losses, ModelConfig, bernoulli_nll, kl_to_standard_normal, negative_elbo, reparameterize
from .settings import quick_mode
from .trainer import RECIPES, TrainConfig, TrainResult, fit, quick, resume

__version__ = "0.1.0"
