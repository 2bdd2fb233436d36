"""Where things live and whether we run in quick mode: the one place that reads the environment.

Environment variables (all optional):
    VAELIB_DATA_DIR        MNIST root (torchvision layout: <root>/MNIST/raw/...). Default: <project>/data
    VAELIB_CHECKPOINT_DIR  run folders and best model.                            Default: <project>/checkpoints
    VAELIB_QUICK           "1" for quick mode: small subsets and few epochs, for smoke tests and CI.

<project> is the source checkout when vaelib runs from one, else the current directory. The shipped
weights live inside the package (weights_dir()), so they come with every install, not only a clone.
"""

import os
from importlib import resources
from pathlib import Path


def project_root() -> Path:
    """The source checkout that holds this package, or the current directory for a plain install."""
    here = Path(__file__).resolve().parents[2]  # vaelib/core/settings.py -> the folder that holds vaelib/
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def quick_mode() -> bool:
    """True when VAELIB_QUICK is set to a true value (1, true, yes, on)."""
    return os.environ.get("VAELIB_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    """The MNIST root directory."""
    return Path(os.environ.get("VAELIB_DATA_DIR") or project_root() / "data")


def checkpoint_dir() -> Path:
    """The directory that holds run folders and best_model/."""
    return Path(os.environ.get("VAELIB_CHECKPOINT_DIR") or project_root() / "checkpoints")


def weights_dir() -> Path:
    """The shipped models and their provenance (README.md), installed with the package; training never writes here."""
    return Path(str(resources.files("vaelib") / "weights"))


def display_path(path) -> str:
    """A path as printed for the learner: relative to the project folder when inside it (short, and no
    machine-specific prefix in a notebook's saved output), else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(project_root().resolve()))
    except ValueError:
        return str(path)
