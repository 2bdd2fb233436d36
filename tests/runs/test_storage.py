"""Checkpoints as a run stores them: atomic saves, the best-model rule, stored scores, and old run folders read back."""

import math

from vaelib.core import checkpoints
from vaelib.core.model import VAE, ModelConfig
from vaelib.runs import storage


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


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path, payload):
    """A second save replaces the first, and no temporary file of atomic_write is left beside it."""
    path = tmp_path / "m.pth"
    storage.save_checkpoint(payload(VAE(), 1.0), path)
    storage.save_checkpoint(payload(VAE(), 2.0), path)
    assert checkpoints.load_checkpoint(path)["val_neg_elbo"] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]


def test_best_model_is_replaced_only_by_a_better_one(tmp_path, payload):
    best = tmp_path / "best_model" / "vae_best.pth"
    assert storage.update_best_model(payload(VAE(), 160.0), best) == (True, math.inf)
    assert storage.update_best_model(payload(VAE(), 170.0), best) == (False, 160.0)
    assert checkpoints.load_checkpoint(best)["val_neg_elbo"] == 160.0
    assert storage.update_best_model(payload(VAE(), 155.0), best) == (True, 160.0)
    assert checkpoints.load_checkpoint(best)["val_neg_elbo"] == 155.0


def test_best_model_compares_neg_elbo_not_objective(tmp_path, payload):
    """A low objective (recon + beta·KL with beta < 1) does not win: only the true validation -ELBO counts."""
    best = tmp_path / "vae_best.pth"
    storage.update_best_model(payload(VAE(), 160.0), best)
    assert storage.update_best_model(payload(VAE(), neg_elbo=165.0, objective=120.0), best) == (False, 160.0)
    assert storage.update_best_model(payload(VAE(), neg_elbo=159.0, objective=200.0), best) == (True, 160.0)
    assert checkpoints.load_checkpoint(best)["val_objective"] == 200.0


def test_an_unreadable_best_model_is_replaced(tmp_path, payload):
    best = tmp_path / "vae_best.pth"
    best.write_bytes(b"garbage")
    assert storage.update_best_model(payload(VAE(), 200.0), best) == (True, math.inf)
    assert checkpoints.load_checkpoint(best)["val_neg_elbo"] == 200.0


def test_stored_score_reads_a_key_or_inf(tmp_path, payload):
    path = tmp_path / "m.pth"
    storage.save_checkpoint(payload(VAE(), neg_elbo=150.0, objective=140.0), path)
    assert storage.stored_score(path) == 150.0
    assert storage.stored_score(path, "val_objective") == 140.0
    assert storage.stored_score(path, "no_such_key") == math.inf
    assert storage.stored_score(tmp_path / "missing.pth") == math.inf
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    assert storage.stored_score(tmp_path / "bad.pth") == math.inf


def test_old_checkpoint_gets_the_new_names(tmp_path, payload):
    """A vaelib 0.1 checkpoint (val_loss, train_loss) loads with val_objective and val_neg_elbo = recon + KL, in the
    run shell; the core's reader hands it over as it is."""
    path = tmp_path / "old.pth"
    storage.save_checkpoint(old_checkpoint(beta=0.5), path)
    ckpt = storage.load_run_checkpoint(path)
    assert "val_loss" not in ckpt and ckpt["val_objective"] == 288.0
    assert "val_objective" not in checkpoints.load_checkpoint(path)
    assert ckpt["val_neg_elbo"] == 270.0 + 6.0
    for row, epoch in zip(ckpt["metrics"], (1, 2), strict=True):
        assert not {"train_loss", "val_loss"} & set(row)
        assert row["train_objective"] == 300.0 - epoch and row["train_neg_elbo"] == 280.0 + 8.0
        assert row["val_objective"] == 290.0 - epoch and row["val_neg_elbo"] == 270.0 + 6.0
    assert storage.stored_score(path) == 276.0  # so an old best model still takes part in the best-model rule
    assert storage.update_best_model(payload(VAE(), 280.0), path) == (False, 276.0)
    assert storage.update_best_model(payload(VAE(), 270.0), path) == (True, 276.0)


def test_old_checkpoint_without_metrics_is_upgraded(tmp_path):
    path = tmp_path / "old.pth"
    storage.save_checkpoint({**old_checkpoint(), "metrics": [], "val_loss": 1.0}, path)
    ckpt = storage.load_run_checkpoint(path)
    assert ckpt["val_objective"] == ckpt["val_neg_elbo"] == 1.0


def test_old_beta1_checkpoint_objective_is_neg_elbo(tmp_path):
    """For beta = 1 the old 'loss' was the -ELBO itself: after the upgrade objective and neg_elbo are equal."""
    old = old_checkpoint(beta=1.0)
    for row in old["metrics"]:
        row.update(val_recon=0.1, val_kl=0.2, val_loss=0.3)  # 0.1 + 0.2 != 0.3 in floating point
    old["val_loss"] = 0.3
    storage.save_checkpoint(old, tmp_path / "old.pth")
    ckpt = storage.load_run_checkpoint(tmp_path / "old.pth")
    assert all(row["val_objective"] == row["val_neg_elbo"] for row in ckpt["metrics"])
    assert ckpt["val_objective"] == ckpt["val_neg_elbo"]
