"""Reading checkpoints: weights-only loading, one-line errors for bad files, and where the shipped models live."""

from pathlib import Path

import pytest
import torch

import vaelib
from vaelib.core import checkpoints, settings
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE, ModelConfig
from vaelib.runs import storage


def test_round_trip_gives_identical_outputs(tmp_path, payload):
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=8)).eval()
    with torch.no_grad():  # make BatchNorm running stats non-trivial, so they must be saved too
        model.encoder[1].running_mean.uniform_()
        model.decoder[4].running_var.uniform_(0.5, 2)
    storage.save_checkpoint(payload(model), tmp_path / "m.pth")
    loaded, meta = checkpoints.load_model(tmp_path / "m.pth")
    x, z = torch.rand(4, 1, 28, 28), torch.randn(4, 8)
    torch.testing.assert_close(loaded.encode(x), model.encode(x), rtol=0, atol=0)
    torch.testing.assert_close(loaded.decode(z), model.decode(z), rtol=0, atol=0)
    assert loaded.config == model.config and not loaded.training and meta["epoch"] == 3


def test_saved_file_loads_with_weights_only(tmp_path, payload):
    storage.save_checkpoint(payload(VAE()), tmp_path / "m.pth")
    assert torch.load(tmp_path / "m.pth", weights_only=True)["val_neg_elbo"] == 150.0


def test_missing_checkpoint(tmp_path):
    with pytest.raises(VAEError, match="checkpoint not found"):
        checkpoints.load_model(tmp_path / "nope.pth")


def test_truncated_checkpoint(tmp_path, payload):
    path = tmp_path / "m.pth"
    storage.save_checkpoint(payload(VAE()), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(VAEError, match="truncated or corrupt"):
        checkpoints.load_model(path)


def test_other_latent_size_is_named_in_the_error(tmp_path, payload):
    storage.save_checkpoint(payload(VAE(ModelConfig(latent_dim=16))), tmp_path / "m.pth")
    with pytest.raises(VAEError, match="--latent_dim 2 does not match the checkpoint's latent_dim 16"):
        checkpoints.load_model(tmp_path / "m.pth", latent_dim=2)


def test_other_architecture_is_refused(tmp_path):
    state = VAE().state_dict()
    state["encoder.0.weight"] = torch.zeros(16, 1, 3, 3)  # a narrower first layer
    storage.save_checkpoint({"model_state": state, "model_config": {"latent_dim": 2}}, tmp_path / "m.pth")
    with pytest.raises(VAEError, match="different architecture"):
        checkpoints.load_model(tmp_path / "m.pth")


def test_plain_tensor_file_is_not_a_checkpoint(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "t.pth")
    with pytest.raises(VAEError, match="not a vaelib checkpoint"):
        checkpoints.load_model(tmp_path / "t.pth")


def test_default_checkpoint_prefers_your_best_model(isolated_checkpoints, payload):
    assert checkpoints.default_checkpoint() == checkpoints.pretrained_path(2)
    storage.save_checkpoint(payload(VAE()), checkpoints.best_model_path())
    assert checkpoints.default_checkpoint() == isolated_checkpoints / "best_model" / "vae_best.pth"


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_shipped_weights_live_in_the_package(latent_dim):
    """vaelib/weights/ holds the shipped models (found through importlib.resources), small and weights-only."""
    path = checkpoints.pretrained_path(latent_dim)
    package = Path(vaelib.__file__).resolve().parent
    assert settings.weights_dir().resolve() == package / "weights"
    assert path.resolve() == package / "weights" / f"vae_latent{latent_dim}.pth"
    assert path.is_file() and path.stat().st_size < 2_000_000
    model, meta = checkpoints.load_model(path)
    assert model.config.latent_dim == latent_dim and meta["val_neg_elbo"] < 200
    assert (package / "weights" / "README.md").is_file()


def test_beta_models_are_shipped():
    """Every beta of the notebook-06 family has its 2-D model; the 16-D beta = 8 pair too; all load and record it."""
    for beta in checkpoints.BETAS:
        model, ckpt = checkpoints.load_model(checkpoints.beta_path(beta))
        assert model.config.latent_dim == 2 and ckpt["train_config"]["beta"] == beta and ckpt["epoch"] == 20
    warm = checkpoints.load_checkpoint(checkpoints.beta_path(8, latent_dim=16, warmup=True))
    assert warm["train_config"]["kl_warmup"] == 10 and warm["train_config"]["beta"] == 8
    assert checkpoints.load_checkpoint(checkpoints.beta_path(8, latent_dim=16))["train_config"].get("kl_warmup", 0) == 0


def test_missing_beta_model_lists_the_shipped_ones():
    with pytest.raises(VAEError, match=r"no shipped model vae_latent2_beta3.pth; .*vae_latent2_beta0.5.pth"):
        checkpoints.beta_path(3)
