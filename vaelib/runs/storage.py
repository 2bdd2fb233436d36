"""Checkpoints as a run stores them: written atomically, read back (older vaelib's too), and the best model of all
runs replaced under a lock, only by a better one.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (vaelib.core.checkpoints reads it with
weights-only unpickling).
"""

import contextlib
import io
from pathlib import Path

import torch

from vaelib.core.checkpoints import load_checkpoint
from vaelib.core.errors import VAEError

from .atomic import atomic_write, remove_temporaries

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


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


def load_run_checkpoint(path) -> dict:
    """A checkpoint of a run folder, with the keys used now even if vaelib 0.1 wrote it.

    vaelib 0.1 called the objective 'loss'. With beta = 1 the old loss was the -ELBO itself, kept exactly;
    otherwise the -ELBO is recon + KL.
    """
    ckpt = load_checkpoint(path)
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


def stored_score(path, key: str = "val_neg_elbo") -> float:
    """A validation number recorded in a checkpoint (default: the true -ELBO); +inf if absent or unreadable."""
    try:
        return float(load_run_checkpoint(path).get(key, float("inf")))
    except VAEError:
        return float("inf")


def update_best_model(payload: dict, path) -> tuple[bool, float]:
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
