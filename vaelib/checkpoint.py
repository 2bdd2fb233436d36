"""Checkpoints: atomic writes, weights-only loading, the best-model rule and where models live.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
`torch.load(weights_only=True)`: a file from a stranger cannot run code on your machine.
"""

import contextlib
import io
import pickle
import warnings
from pathlib import Path

import torch

from . import settings
from .atomic import atomic_write, remove_temporaries
from .errors import VAEError
from .model import VAE, ModelConfig

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

BEST_NAME = "vae_best.pth"


def best_path(checkpoint_dir=None) -> Path:
    return Path(checkpoint_dir or settings.checkpoint_dir()) / "best_model" / BEST_NAME


def pretrained_path(latent_dim: int = 2) -> Path:
    """The model shipped inside the package for this latent size (2 or 16)."""
    return settings.weights_dir() / f"vae_latent{latent_dim}.pth"


BETAS = (0, 0.5, 1, 2, 4, 8)  # the shipped 2-D models of one recipe, one per KL weight (notebook 06)


def beta_path(beta: float, latent_dim: int = 2, warmup: bool = False) -> Path:
    """A shipped model trained with KL weight `beta` (2-D: each of BETAS; 16-D: 8, also with KL warm-up).

    The 2-D and 16-D models trained with beta = 1 in the same recipe are beta_path(1) and pretrained_path(16).
    """
    name = f"vae_latent{latent_dim}_beta{beta:g}{'_warmup' if warmup else ''}.pth"
    path = settings.weights_dir() / name
    if not path.is_file():
        shipped = ", ".join(sorted(p.name for p in settings.weights_dir().glob("vae_latent*_beta*.pth")))
        raise VAEError(f"no shipped model {name}; the shipped beta models are: {shipped}")
    return path


def default_checkpoint(checkpoint_dir=None) -> Path:
    """Your best model if you trained one, otherwise the shipped 2-D pretrained model."""
    best = best_path(checkpoint_dir)
    return best if best.exists() else pretrained_path(2)


def save_checkpoint(payload: dict, path) -> None:
    """Write atomically (see atomic.py): a crash leaves the old complete file or the new one.

    The payload is serialised in memory first, so a full disk is an OSError from the write
    (torch's zip writer would report it as an opaque RuntimeError).
    """
    path = Path(path)
    serialised = io.BytesIO()
    torch.save(payload, serialised)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            fh.write(serialised.getbuffer())
    except OSError as err:
        reason = err.strerror or str(err)
        raise VAEError(
            f"could not write checkpoint {path}: {reason}; free disk space or pick a writable --checkpoint-dir "
            f"(earlier checkpoints are intact)"
        ) from None


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
    return _with_current_names(ckpt)


def _with_current_names(ckpt: dict) -> dict:
    """Checkpoints from vaelib 0.1 called the objective 'loss': add the names used now (objective, neg_elbo).

    With beta = 1 the old loss was the -ELBO itself, kept exactly; otherwise the -ELBO is recon + KL.
    """
    beta = ckpt.get("train_config", {}).get("beta", 1.0)
    for row in ckpt.get("metrics", []):
        for split in ("train", "val"):
            if f"{split}_loss" in row and f"{split}_objective" not in row:
                row[f"{split}_objective"] = row.pop(f"{split}_loss")
                exact = row[f"{split}_objective"] if beta == 1 else row[f"{split}_recon"] + row[f"{split}_kl"]
                row[f"{split}_neg_elbo"] = exact
    if "val_loss" in ckpt and "val_objective" not in ckpt:
        ckpt["val_objective"] = ckpt.pop("val_loss")
        rows = ckpt.get("metrics") or []
        ckpt["val_neg_elbo"] = rows[-1]["val_neg_elbo"] if rows else ckpt["val_objective"]
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


def export_model(src, dst) -> Path:
    """Copy a checkpoint without its optimizer and RNG state: the small file to share or commit."""
    keep = ("model_state", "model_config", "train_config", "epoch", "metrics", "val_objective", "val_neg_elbo")
    ckpt = load_checkpoint(src)
    save_checkpoint({k: ckpt[k] for k in keep if k in ckpt}, dst)
    return Path(dst)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path):
    """Hold an OS-level exclusive lock on lock_path (released on exit, even if the process dies)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        else:
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        yield


def stored_score(path, key: str = "val_neg_elbo") -> float:
    """A validation number recorded in a checkpoint (default: the true -ELBO); +inf if absent or unreadable."""
    try:
        return float(load_checkpoint(path).get(key, float("inf")))
    except VAEError:
        return float("inf")


def update_best(payload: dict, path) -> tuple[bool, float]:
    """Replace the best model at `path` only if payload['val_neg_elbo'] (the true validation -ELBO) beats it.

    Returns (replaced, previous_best). A lock makes concurrent runs compare and write one at a time.
    """
    path = Path(path)
    try:
        with _exclusive_lock(path.parent / ".lock"):
            remove_temporaries(path.parent, path.name)  # left by a writer killed mid-save; writers hold this lock
            previous = stored_score(path)
            if payload["val_neg_elbo"] < previous:
                save_checkpoint(payload, path)
                return True, previous
            return False, previous
    except OSError as err:
        raise VAEError(
            f"could not update the best model {path}: {err.strerror or err}; make {path.parent} a writable folder "
            f"(this run's own checkpoints are intact)"
        ) from None
