"""Shared fixtures: every test writes checkpoints to its own temporary folder, never to the repository."""

import importlib.util
import os
from pathlib import Path

import pytest
import torch

from vaelib.core import data, settings
from vaelib.core.model import VAE, ModelConfig


@pytest.fixture(autouse=True)
def isolated_checkpoints(tmp_path, monkeypatch):
    """Point VAELIB_CHECKPOINT_DIR at a fresh folder for each test."""
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv("VAELIB_CHECKPOINT_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST root (VAELIB_DATA_DIR); tests that need it skip when the files are absent."""
    root = settings.data_dir()
    if data.missing_files(root):
        pytest.skip(f"MNIST not found under {root}; set VAELIB_DATA_DIR to a folder with MNIST/raw/")
    return root


@pytest.fixture(scope="session")
def mnist(mnist_root) -> data.MNIST:
    return data.load_mnist(mnist_root, download=False)


@pytest.fixture(scope="session")
def small_mnist(mnist) -> data.MNIST:
    """A few hundred real images per split, for fast end-to-end runs."""
    return data.MNIST(mnist.train.head(512), mnist.val.head(256), mnist.test.head(256))


@pytest.fixture
def cli_env(isolated_checkpoints):
    """Environment for CLI subprocesses: same data, isolated checkpoints, quick mode."""
    return {**os.environ, "VAELIB_CHECKPOINT_DIR": str(isolated_checkpoints), "VAELIB_QUICK": "1"}


@pytest.fixture
def synthetic() -> data.MNIST:
    """Random binary-ish 'digits': enough to exercise training without MNIST."""
    g = torch.Generator().manual_seed(0)

    def split(n):
        return data.Digits(torch.rand(n, 1, 28, 28, generator=g).round(), torch.randint(0, 10, (n,), generator=g))

    return data.MNIST(split(256), split(128), split(128))


@pytest.fixture
def labelled_digits() -> data.Digits:
    """60 random 'digits' in [0, 1], six of each class (labels 0..9 repeated)."""
    g = torch.Generator().manual_seed(1)
    return data.Digits(torch.rand(60, 1, 28, 28, generator=g), torch.arange(10).repeat(6))


@pytest.fixture
def save_model(tmp_path):
    """save_model(model, name) -> the path of a checkpoint holding only the model (as a shared model file would)."""
    from vaelib.runs.storage import save_checkpoint

    def save(model, name: str = "tiny.pth", **extra) -> Path:
        path = tmp_path / name
        save_checkpoint({"model_state": model.state_dict(), "model_config": model.config.to_dict(), **extra}, path)
        return path

    return save


@pytest.fixture
def model():
    """A small fixed VAE (random weights, eval mode) whose posteriors sit far from the prior, so the KL is large
    and the importance weights vary a lot: a missing or wrong density term would show."""
    torch.manual_seed(0)
    vae = VAE(ModelConfig(latent_dim=4)).eval()
    with torch.no_grad():
        vae.fc_mu.weight.mul_(20)
        vae.fc_log_var.bias.fill_(-2.0)
    return vae


@pytest.fixture
def judge():
    """An untrained classifier: a fixed, fast stand-in for the shipped one where only the wiring is tested."""
    from vaelib.core.classifier import Classifier

    torch.manual_seed(1)
    return Classifier().eval()


@pytest.fixture
def payload():
    """payload(model, neg_elbo, objective) -> a checkpoint dict holding the model and its validation scores."""

    def make(model: VAE, neg_elbo: float = 150.0, objective: float | None = None) -> dict:
        return {
            "model_state": model.state_dict(),
            "model_config": model.config.to_dict(),
            "val_objective": neg_elbo if objective is None else objective,
            "val_neg_elbo": neg_elbo,
            "epoch": 3,
        }

    return make


@pytest.fixture(scope="session")
def shots():
    """tools/screenshots.py as a module (tools/ is not a package): the JupyterLab machinery of the browser tests."""
    spec = importlib.util.spec_from_file_location(
        "screenshots", Path(__file__).resolve().parents[1] / "tools" / "screenshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
