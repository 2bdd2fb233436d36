"""The maintainer script that made every shipped model: tools/export_model.py keeps the weights and drops the rest."""

import subprocess
import sys
from pathlib import Path

import torch

from vaelib.core.model import VAE
from vaelib.runs import storage

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "export_model.py"


def export(src, dst) -> dict:
    done = subprocess.run([sys.executable, str(SCRIPT), str(src), str(dst)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return torch.load(dst, weights_only=True)


def test_export_drops_the_training_state(tmp_path, payload):
    model = VAE()
    full = {**payload(model, 150.0, 140.0), "optimizer_state": {"x": torch.zeros(3)}, "rng_state": {}, "metrics": []}
    storage.save_checkpoint(full, tmp_path / "last.pth")
    shared = export(tmp_path / "last.pth", tmp_path / "shared.pth")
    assert set(shared) == {"model_state", "model_config", "epoch", "metrics", "val_objective", "val_neg_elbo"}
    assert shared["val_objective"] == 140.0 and shared["val_neg_elbo"] == 150.0
    assert all(torch.equal(shared["model_state"][k], v) for k, v in model.state_dict().items())


def test_export_gives_an_old_checkpoint_the_current_names(tmp_path, payload):
    """A vaelib 0.1 file (val_loss, train_loss) comes out with val_objective and val_neg_elbo: how the two default
    shipped models were re-exported in 0.3."""
    old = {**payload(VAE()), "train_config": {"beta": 1.0}, "val_loss": 157.0}
    del old["val_objective"], old["val_neg_elbo"]
    old["metrics"] = [{"epoch": 1, "train_loss": 160.0, "val_loss": 157.0, "val_recon": 150.0, "val_kl": 7.0}]
    storage.save_checkpoint(old, tmp_path / "old.pth")
    shared = export(tmp_path / "old.pth", tmp_path / "new.pth")
    assert "val_loss" not in shared and shared["val_objective"] == shared["val_neg_elbo"] == 157.0
    assert shared["metrics"][0]["val_neg_elbo"] == 157.0 and "train_loss" not in shared["metrics"][0]
