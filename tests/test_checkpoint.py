"""Checkpoints: round trips, the best-model rule, and clear refusals of files that are not ours."""

import math

import pytest
import torch

from vaelib import checkpoint as ck
from vaelib.errors import VAEError
from vaelib.model import VAE, ModelConfig


def payload(model: VAE, val_loss: float = 150.0) -> dict:
    return {"model_state": model.state_dict(), "model_config": model.config.to_dict(), "val_loss": val_loss, "epoch": 3}


def test_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=8)).eval()
    with torch.no_grad():  # make BatchNorm running stats non-trivial, so they must be saved too
        model.encoder[1].running_mean.uniform_()
        model.decoder[4].running_var.uniform_(0.5, 2)
    ck.save_checkpoint(payload(model), tmp_path / "m.pth")
    loaded, meta = ck.load_model(tmp_path / "m.pth")
    x, z = torch.rand(4, 1, 28, 28), torch.randn(4, 8)
    torch.testing.assert_close(loaded.encode(x), model.encode(x), rtol=0, atol=0)
    torch.testing.assert_close(loaded.decode(z), model.decode(z), rtol=0, atol=0)
    assert loaded.config == model.config and not loaded.training and meta["epoch"] == 3


def test_saved_file_loads_with_weights_only(tmp_path):
    ck.save_checkpoint(payload(VAE()), tmp_path / "m.pth")
    assert torch.load(tmp_path / "m.pth", weights_only=True)["val_loss"] == 150.0


def test_save_replaces_atomically_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "m.pth"
    ck.save_checkpoint(payload(VAE(), 1.0), path)
    ck.save_checkpoint(payload(VAE(), 2.0), path)
    assert ck.load_checkpoint(path)["val_loss"] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]


def test_best_model_is_replaced_only_by_a_better_one(tmp_path):
    best = tmp_path / "best_model" / "vae_best.pth"
    assert ck.update_best(payload(VAE(), 160.0), best) == (True, math.inf)
    assert ck.update_best(payload(VAE(), 170.0), best) == (False, 160.0)
    assert ck.load_checkpoint(best)["val_loss"] == 160.0
    assert ck.update_best(payload(VAE(), 155.0), best) == (True, 160.0)
    assert ck.load_checkpoint(best)["val_loss"] == 155.0


def test_an_unreadable_best_model_is_replaced(tmp_path):
    best = tmp_path / "vae_best.pth"
    best.write_bytes(b"garbage")
    assert ck.update_best(payload(VAE(), 200.0), best)[0]


def test_missing_checkpoint(tmp_path):
    with pytest.raises(VAEError, match="checkpoint not found"):
        ck.load_model(tmp_path / "nope.pth")


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "m.pth"
    ck.save_checkpoint(payload(VAE()), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(VAEError, match="truncated or corrupt"):
        ck.load_model(path)


def test_other_latent_size_is_named_in_the_error(tmp_path):
    ck.save_checkpoint(payload(VAE(ModelConfig(latent_dim=16))), tmp_path / "m.pth")
    with pytest.raises(VAEError, match="--latent_dim 2 does not match the checkpoint's latent_dim 16"):
        ck.load_model(tmp_path / "m.pth", latent_dim=2)


def test_other_architecture_is_refused(tmp_path):
    state = VAE().state_dict()
    state["encoder.0.weight"] = torch.zeros(16, 1, 3, 3)  # a narrower first layer
    ck.save_checkpoint({"model_state": state, "model_config": {"latent_dim": 2}}, tmp_path / "m.pth")
    with pytest.raises(VAEError, match="different architecture"):
        ck.load_model(tmp_path / "m.pth")


def test_plain_tensor_file_is_not_a_checkpoint(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "t.pth")
    with pytest.raises(VAEError, match="not a vaelib checkpoint"):
        ck.load_model(tmp_path / "t.pth")


def test_default_checkpoint_prefers_your_best_model(isolated_checkpoints):
    assert ck.default_checkpoint() == ck.pretrained_path(2)
    ck.save_checkpoint(payload(VAE()), ck.best_path())
    assert ck.default_checkpoint() == isolated_checkpoints / "best_model" / "vae_best.pth"
