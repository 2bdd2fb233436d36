"""Checkpoints: round trips, the best-model rule, old checkpoints, the shipped weights, and clear refusals."""

import math
from pathlib import Path

import pytest
import torch

import vaelib
from vaelib import checkpoint as ck
from vaelib import settings
from vaelib.errors import VAEError
from vaelib.model import VAE, ModelConfig


def payload(model: VAE, neg_elbo: float = 150.0, objective: float | None = None) -> dict:
    return {
        "model_state": model.state_dict(),
        "model_config": model.config.to_dict(),
        "val_objective": neg_elbo if objective is None else objective,
        "val_neg_elbo": neg_elbo,
        "epoch": 3,
    }


def old_checkpoint(beta: float = 0.5) -> dict:
    """A checkpoint as vaelib 0.1 wrote it: the objective called 'loss', no neg_elbo anywhere."""
    rows = [
        {"epoch": e, "train_loss": 300.0 - e, "train_recon": 280.0, "train_kl": 8.0,
         "val_loss": 290.0 - e, "val_recon": 270.0, "val_kl": 6.0, "lr": 1e-3, "seconds": 1.0}
        for e in (1, 2)
    ]  # fmt: skip
    return {
        "model_state": VAE().state_dict(),
        "model_config": ModelConfig().to_dict(),
        "train_config": {"beta": beta},
        "epoch": 2,
        "metrics": rows,
        "val_loss": rows[-1]["val_loss"],
    }


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
    assert torch.load(tmp_path / "m.pth", weights_only=True)["val_neg_elbo"] == 150.0


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path):
    """A second save replaces the first, and no temporary file of atomic_write is left beside it."""
    path = tmp_path / "m.pth"
    ck.save_checkpoint(payload(VAE(), 1.0), path)
    ck.save_checkpoint(payload(VAE(), 2.0), path)
    assert ck.load_checkpoint(path)["val_neg_elbo"] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]


def test_best_model_is_replaced_only_by_a_better_one(tmp_path):
    best = tmp_path / "best_model" / "vae_best.pth"
    assert ck.update_best(payload(VAE(), 160.0), best) == (True, math.inf)
    assert ck.update_best(payload(VAE(), 170.0), best) == (False, 160.0)
    assert ck.load_checkpoint(best)["val_neg_elbo"] == 160.0
    assert ck.update_best(payload(VAE(), 155.0), best) == (True, 160.0)
    assert ck.load_checkpoint(best)["val_neg_elbo"] == 155.0


def test_best_model_compares_neg_elbo_not_objective(tmp_path):
    """A low objective (recon + beta·KL with beta < 1) does not win: only the true validation -ELBO counts."""
    best = tmp_path / "vae_best.pth"
    ck.update_best(payload(VAE(), 160.0), best)
    assert ck.update_best(payload(VAE(), neg_elbo=165.0, objective=120.0), best) == (False, 160.0)
    assert ck.update_best(payload(VAE(), neg_elbo=159.0, objective=200.0), best) == (True, 160.0)
    assert ck.load_checkpoint(best)["val_objective"] == 200.0


def test_an_unreadable_best_model_is_replaced(tmp_path):
    best = tmp_path / "vae_best.pth"
    best.write_bytes(b"garbage")
    assert ck.update_best(payload(VAE(), 200.0), best) == (True, math.inf)
    assert ck.load_checkpoint(best)["val_neg_elbo"] == 200.0


def test_stored_score_reads_a_key_or_inf(tmp_path):
    path = tmp_path / "m.pth"
    ck.save_checkpoint(payload(VAE(), neg_elbo=150.0, objective=140.0), path)
    assert ck.stored_score(path) == 150.0
    assert ck.stored_score(path, "val_objective") == 140.0
    assert ck.stored_score(path, "no_such_key") == math.inf
    assert ck.stored_score(tmp_path / "missing.pth") == math.inf
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    assert ck.stored_score(tmp_path / "bad.pth") == math.inf


def test_old_checkpoint_gets_the_new_names(tmp_path):
    """A vaelib 0.1 checkpoint (val_loss, train_loss) loads with val_objective and val_neg_elbo = recon + KL."""
    path = tmp_path / "old.pth"
    ck.save_checkpoint(old_checkpoint(beta=0.5), path)
    ckpt = ck.load_checkpoint(path)
    assert "val_loss" not in ckpt and ckpt["val_objective"] == 288.0
    assert ckpt["val_neg_elbo"] == 270.0 + 6.0
    for row, epoch in zip(ckpt["metrics"], (1, 2), strict=True):
        assert not {"train_loss", "val_loss"} & set(row)
        assert row["train_objective"] == 300.0 - epoch and row["train_neg_elbo"] == 280.0 + 8.0
        assert row["val_objective"] == 290.0 - epoch and row["val_neg_elbo"] == 270.0 + 6.0
    assert ck.stored_score(path) == 276.0  # so an old best model still takes part in the best-model rule
    assert ck.update_best(payload(VAE(), 280.0), path) == (False, 276.0)
    assert ck.update_best(payload(VAE(), 270.0), path) == (True, 276.0)


def test_old_checkpoint_without_metrics_is_upgraded(tmp_path):
    path = tmp_path / "old.pth"
    ck.save_checkpoint({**old_checkpoint(), "metrics": [], "val_loss": 1.0}, path)
    ckpt = ck.load_checkpoint(path)
    assert ckpt["val_objective"] == ckpt["val_neg_elbo"] == 1.0


def test_old_beta1_checkpoint_objective_is_neg_elbo(tmp_path):
    """For beta = 1 the old 'loss' was the -ELBO itself: after the upgrade objective and neg_elbo are equal."""
    old = old_checkpoint(beta=1.0)
    for row in old["metrics"]:
        row.update(val_recon=0.1, val_kl=0.2, val_loss=0.3)  # 0.1 + 0.2 != 0.3 in floating point
    old["val_loss"] = 0.3
    ck.save_checkpoint(old, tmp_path / "old.pth")
    ckpt = ck.load_checkpoint(tmp_path / "old.pth")
    assert all(row["val_objective"] == row["val_neg_elbo"] for row in ckpt["metrics"])
    assert ckpt["val_objective"] == ckpt["val_neg_elbo"]


def test_export_model_drops_the_training_state(tmp_path):
    src, dst = tmp_path / "last.pth", tmp_path / "shared.pth"
    full = {**payload(VAE(), 150.0, 140.0), "optimizer_state": {"x": torch.zeros(3)}, "rng_state": {}, "metrics": []}
    ck.save_checkpoint(full, src)
    assert ck.export_model(src, dst) == dst
    shared = torch.load(dst, weights_only=True)
    assert set(shared) == {"model_state", "model_config", "epoch", "metrics", "val_objective", "val_neg_elbo"}
    assert shared["val_objective"] == 140.0 and shared["val_neg_elbo"] == 150.0


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


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_shipped_weights_live_in_the_package(latent_dim):
    """vaelib/weights/ holds the shipped models (found through importlib.resources), small and weights-only."""
    path = ck.pretrained_path(latent_dim)
    package = Path(vaelib.__file__).resolve().parent
    assert settings.weights_dir().resolve() == package / "weights"
    assert path.resolve() == package / "weights" / f"vae_latent{latent_dim}.pth"
    assert path.is_file() and path.stat().st_size < 2_000_000
    model, meta = ck.load_model(path)
    assert model.config.latent_dim == latent_dim and meta["val_neg_elbo"] < 200
    assert (package / "weights" / "README.md").is_file()


def test_beta_models_are_shipped():
    """Every beta of the notebook-06 family has its 2-D model; the 16-D beta = 8 pair too; all load and record it."""
    for beta in ck.BETAS:
        model, ckpt = ck.load_model(ck.beta_path(beta))
        assert model.config.latent_dim == 2 and ckpt["train_config"]["beta"] == beta and ckpt["epoch"] == 20
    warm = ck.load_checkpoint(ck.beta_path(8, latent_dim=16, warmup=True))
    assert warm["train_config"]["kl_warmup"] == 10 and warm["train_config"]["beta"] == 8
    assert ck.load_checkpoint(ck.beta_path(8, latent_dim=16))["train_config"].get("kl_warmup", 0) == 0


def test_missing_beta_model_lists_the_shipped_ones():
    with pytest.raises(VAEError, match=r"no shipped model vae_latent2_beta3.pth; .*vae_latent2_beta0.5.pth"):
        ck.beta_path(3)
