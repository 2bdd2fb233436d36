"""Reading checkpoints, and where models live: the shipped ones inside the package and your best model.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
`torch.load(weights_only=True)`: a file from a stranger cannot run code on your machine. Writing checkpoints, and
reading the run folders of older vaelib versions, is the run shell's job (vaelib.runs.storage).
"""

import pickle
import warnings
from pathlib import Path

import torch

from . import settings
from .errors import VAEError
from .model import VAE, ModelConfig

BEST_MODEL_NAME = "vae_best.pth"
BETAS = (0, 0.5, 1, 2, 4, 8)  # the shipped 2-D models of one recipe, one per KL weight (notebook 06)


def best_model_path(checkpoint_dir=None) -> Path:
    """checkpoints/best_model/vae_best.pth: the best model of all runs that compete for it (vaelib.runs.run)."""
    return Path(checkpoint_dir or settings.checkpoint_dir()) / "best_model" / BEST_MODEL_NAME


def pretrained_path(latent_dim: int = 2) -> Path:
    """The model shipped inside the package for this latent size (2 or 16)."""
    return settings.weights_dir() / f"vae_latent{latent_dim}.pth"


def beta_path(beta: float, latent_dim: int = 2, warmup: bool = False, free_bits: float = 0.0) -> Path:
    """A shipped model trained with KL weight `beta` (notebook 06): 2-D at each of BETAS; 16-D at β = 0, and at β = 8
    plain, with KL warm-up and with free bits. The β = 1 models of the same recipe are beta_path(1) and
    pretrained_path(16)."""
    extra = ("_warmup" if warmup else "") + (f"_freebits{free_bits:g}" if free_bits else "")
    name = f"vae_latent{latent_dim}_beta{beta:g}{extra}.pth"
    path = settings.weights_dir() / name
    if not path.is_file():
        shipped = ", ".join(sorted(p.name for p in settings.weights_dir().glob("vae_latent*_beta*.pth")))
        raise VAEError(f"no shipped model {name}; the shipped beta models are: {shipped}")
    return path


def default_checkpoint(checkpoint_dir=None) -> Path:
    """Your best model if you trained one, otherwise the shipped 2-D model."""
    best = best_model_path(checkpoint_dir)
    return best if best.exists() else pretrained_path(2)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint with weights-only unpickling; any problem becomes a one-line VAEError."""
    path = Path(path)
    if not path.is_file():
        raise VAEError(f"checkpoint not found: {path}; train one with vae-train or pass --checkpoint PATH")
    try:
        with warnings.catch_warnings():  # a foreign pickle protocol only earns a warning before being refused
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise VAEError(
            f"refused to load {path}: it holds Python objects that could run code, not just weights; "
            f"only use checkpoints written by vaelib"
        ) from None
    except Exception as err:
        raise VAEError(f"{path} is truncated or corrupt ({type(err).__name__}); use another checkpoint") from None
    if not isinstance(ckpt, dict) or "model_state" not in ckpt or "model_config" not in ckpt:
        raise VAEError(f"{path} is not a vaelib checkpoint (no model_state/model_config)")
    return ckpt


def load_model(path, device="cpu", latent_dim: int | None = None) -> tuple[VAE, dict]:
    """Rebuild the model saved in `path` (in eval mode) and return it with the checkpoint dict."""
    ckpt = load_checkpoint(path)
    try:
        config = ModelConfig(**ckpt["model_config"])
    except (TypeError, ValueError) as err:
        raise VAEError(f"{path} has a model config this vaelib cannot build ({err})") from None
    if latent_dim is not None and latent_dim != config.latent_dim:
        raise VAEError(
            f"--latent_dim {latent_dim} does not match the checkpoint's latent_dim {config.latent_dim} ({path}); "
            f"drop --latent_dim or pick a checkpoint trained with {latent_dim}"
        )
    model = VAE(config)
    try:
        model.load_state_dict(ckpt["model_state"])
    except RuntimeError:
        raise VAEError(
            f"{path} holds weights of a different architecture; use a checkpoint written by vaelib"
        ) from None
    return model.to(device).eval(), ckpt
