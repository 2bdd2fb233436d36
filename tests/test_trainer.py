"""Training on real digits: what a run writes, the config precedence, which runs may replace the best model,
runs with beta != 1, refusing to rewind a run by accident, and one training epoch.

Crash safety, resuming and bad input are tested in test_reliability.py."""

import contextlib
import csv
import io
import json
import math
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from vaelib import checkpoint, metrics, runs, trainer
from vaelib import train as train_cli
from vaelib.errors import VAEError
from vaelib.model import VAE, ModelConfig
from vaelib.settings import display_path
from vaelib.trainer import QUICK_TRAINING, RECIPES, TrainConfig, make_config, why_not_competing

CONFIG = make_config("fast", epochs=2, batch_size=64, save_every=1, seed=3)
COLUMNS = [
    "epoch", "train_objective", "train_neg_elbo", "train_recon", "train_kl",
    "val_objective", "val_neg_elbo", "val_recon", "val_kl", "lr", "seconds",
]  # fmt: skip
WORSE = 1e6  # the validation -ELBO of a best model every run beats


def worse_best_model(root: Path) -> bytes:
    """Put a best model that any trained run beats in root/best_model/; returns its bytes."""
    path = checkpoint.best_path(root)
    model = VAE()
    payload = {"model_state": model.state_dict(), "model_config": model.config.to_dict()}
    checkpoint.save_checkpoint({**payload, "val_objective": WORSE, "val_neg_elbo": WORSE}, path)
    return path.read_bytes()


def fit_quietly(config, data, root, **kwargs) -> tuple[trainer.TrainResult, str]:
    """trainer.fit, returning what it printed too."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = trainer.fit(config, data=data, checkpoint_dir=root, device="cpu", **kwargs)
    return result, printed.getvalue()


@pytest.fixture(scope="module")
def short_run(small_mnist, tmp_path_factory):
    """CONFIG (beta = 1) trained on 512 real digits, over a worse best model: (result, printed, checkpoint root)."""
    root = tmp_path_factory.mktemp("short")
    worse_best_model(root)
    result, printed = fit_quietly(CONFIG, small_mnist, root)
    return result, printed, root


@pytest.fixture(scope="module")
def beta_run(small_mnist, tmp_path_factory):
    """The same run with beta = 0.5, over the same worse best model: (result, printed, root, best model bytes)."""
    root = tmp_path_factory.mktemp("beta")
    before = worse_best_model(root)
    result, printed = fit_quietly(replace(CONFIG, beta=0.5), small_mnist, root)
    return result, printed, root, before


# ----- a normal run


def test_short_run_writes_its_folder(short_run):
    result, _, root = short_run
    assert result.run_dir.parent == root and result.run_dir.name.startswith("run_") and not result.interrupted
    names = {p.name for p in result.run_dir.iterdir()}
    assert names == {
        "config.json", "metrics.csv", "loss.png", "last.pth", "best.pth", "vae_final.pth",
        "checkpoint_epoch_0001.pth", "checkpoint_epoch_0002.pth",
        "reconstructions_epoch_0001.png", "reconstructions_epoch_0002.png",
    }  # fmt: skip
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config == {"model": ModelConfig().to_dict(), "train": asdict(CONFIG), "device": "cpu"}
    for name in ("loss.png", "reconstructions_epoch_0002.png"):
        assert (result.run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("last.pth", "vae_final.pth", "checkpoint_epoch_0002.pth"):
        assert checkpoint.load_checkpoint(result.run_dir / name)["epoch"] == 2
    assert checkpoint.load_checkpoint(result.run_dir / "checkpoint_epoch_0001.pth")["epoch"] == 1


def test_metrics_csv_rows_and_columns(short_run, small_mnist):
    """One row per epoch with the documented columns; for beta = 1 the objective is the -ELBO, exactly; the last
    validation -ELBO is that of the final model, measured again."""
    result, _, _ = short_run
    with open(result.run_dir / "metrics.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        assert [int(row["epoch"]) for row in reader] == [1, 2]
    rows = runs.read_metrics(result.run_dir)
    assert rows == result.metrics == checkpoint.load_checkpoint(result.run_dir / "vae_final.pth")["metrics"]
    for row in rows:
        for split in ("train", "val"):
            assert row[f"{split}_objective"] == row[f"{split}_neg_elbo"]
            assert row[f"{split}_neg_elbo"] == pytest.approx(row[f"{split}_recon"] + row[f"{split}_kl"], rel=1e-6)
        assert row["lr"] > 0 and row["seconds"] > 0 and 100 < row["val_neg_elbo"] < 600
    model, _ = checkpoint.load_model(result.run_dir / "vae_final.pth")
    again = metrics.estimate_elbo(model, small_mnist.val)
    assert again["neg_elbo"] == pytest.approx(rows[-1]["val_neg_elbo"], rel=1e-4)


def test_best_model_written(short_run):
    """The run's best epoch replaces a worse best model in best_model/, and says so."""
    result, printed, root = short_run
    best = checkpoint.load_checkpoint(checkpoint.best_path(root))
    ours = checkpoint.load_checkpoint(result.run_dir / "best.pth")
    lowest = min(row["val_neg_elbo"] for row in result.metrics)
    assert best["val_neg_elbo"] == ours["val_neg_elbo"] == lowest < WORSE
    assert all(torch.equal(best["model_state"][k], v) for k, v in ours["model_state"].items())
    assert result.best_objective == min(row["val_objective"] for row in result.metrics)
    assert f"New best model: val −ELBO {lowest:.2f} (previous {WORSE:.2f})" in printed
    assert "Best model not offered" not in printed and "objective" not in printed


# ----- config precedence and the best-model rule


def test_make_config_precedence():
    """The original defaults, then the recipe, then quick mode, then explicit settings (they win)."""
    assert make_config() == TrainConfig()
    fast = make_config("fast")
    assert (fast.learning_rate, fast.schedule, fast.batch_size, fast.epochs) == (8e-3, "onecycle", 64, 500)
    assert fast == replace(TrainConfig(), **RECIPES["fast"])
    quick = make_config("fast", quick=True)
    assert (quick.epochs, quick.train_images, quick.save_every, quick.learning_rate) == (2, 2048, 1, 8e-3)
    assert QUICK_TRAINING == {"epochs": 2, "train_images": 2048, "save_every": 1}
    mine = make_config("fast", True, epochs=6, batch_size=32, save_every=3)
    mine_by_hand = {**RECIPES["fast"], "epochs": 6, "batch_size": 32, "save_every": 3, "train_images": 2048}
    assert mine == replace(TrainConfig(), **mine_by_hand) and mine.batch_size == 32 and mine.schedule == "onecycle"
    assert make_config("original", False, learning_rate=1e-3).learning_rate == 1e-3


def test_unknown_recipe_is_refused():
    with pytest.raises(VAEError, match="unknown recipe 'slow': use original or fast"):
        make_config("slow")


def test_why_not_competing():
    """Only the VAE's own objective (beta = 1) may replace the best model; other betas are told why not."""
    assert why_not_competing(TrainConfig()) is None
    assert why_not_competing(make_config("fast", True, epochs=3)) is None
    for beta in (0.0, 0.5, 4.0):
        reason = why_not_competing(TrainConfig(beta=beta))
        assert f"{beta:g}·KL" in reason and "β = 1" in reason and "\n" not in reason


def test_beta_run_keeps_best_model(beta_run):
    """A beta = 0.5 run never replaces best_model/vae_best.pth, even a worse one (which a beta = 1 run replaces,
    see test_best_model_written), says why, and keeps its own best.pth."""
    result, printed, root, before = beta_run
    assert checkpoint.best_path(root).read_bytes() == before
    ours = result.run_dir / "best.pth"
    reason = why_not_competing(TrainConfig(beta=0.5))
    assert f"Best model not offered: {reason}; this run's best stays in {display_path(ours)}" in printed
    assert "New best model" not in printed and "best val objective" in printed
    assert checkpoint.load_checkpoint(ours)["val_objective"] == result.best_objective
    assert [p.name for p in checkpoint.best_path(root).parent.iterdir() if p.suffix == ".pth"] == ["vae_best.pth"]


def test_beta_run_metrics_show_both(beta_run):
    """Its rows hold the trained objective recon + 0.5·KL and the true -ELBO recon + KL; with beta < 1 the objective
    is the smaller. The epoch lines print both."""
    result, printed, _, _ = beta_run
    rows = runs.read_metrics(result.run_dir)
    for row in rows:
        for split in ("train", "val"):
            recon, kl = row[f"{split}_recon"], row[f"{split}_kl"]
            assert row[f"{split}_objective"] == pytest.approx(recon + 0.5 * kl, rel=1e-6)
            assert row[f"{split}_neg_elbo"] == pytest.approx(recon + kl, rel=1e-6)
            assert row[f"{split}_objective"] < row[f"{split}_neg_elbo"] and kl > 0
    assert result.best_objective == min(row["val_objective"] for row in rows)
    assert printed.count("objective ") >= 2  # each epoch line shows the objective beside the -ELBO


def test_beta_run_creates_no_best_model(small_mnist, tmp_path):
    """With no best model yet, a beta = 2 run still does not make one: best_model/ is never created. Its objective
    weighs the KL more, so it is the larger of the two."""
    config = replace(CONFIG, beta=2.0, epochs=1, train_images=128)
    result, printed = fit_quietly(config, small_mnist, tmp_path)
    assert not (tmp_path / "best_model").exists() and "Best model not offered" in printed
    (row,) = result.metrics
    assert row["val_objective"] > row["val_neg_elbo"]
    assert row["val_objective"] == pytest.approx(row["val_recon"] + 2 * row["val_kl"], rel=1e-6)


# ----- refusing to rewind


@pytest.fixture
def stopped_after_2(small_mnist, tmp_path) -> Path:
    """A 3-epoch run stopped (as by Ctrl-C) after epoch 2: its folder holds last.pth (epoch 2) and the numbered
    checkpoints of epochs 1 and 2."""

    def stop(row, model):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    result, _ = fit_quietly(replace(CONFIG, epochs=3), small_mnist, tmp_path / "root", on_epoch=stop)
    assert result.interrupted and checkpoint.load_checkpoint(result.run_dir / "last.pth")["epoch"] == 2
    return result.run_dir


def snapshot(folder) -> dict:
    return {p: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_resume_refuses_to_rewind(stopped_after_2, small_mnist):
    """Resuming from a checkpoint older than last.pth would retrain and overwrite later epochs: one line that names
    them and --rewind, and nothing on disk changes."""
    run_dir = stopped_after_2
    before = snapshot(run_dir.parent)
    with pytest.raises(VAEError) as refused:
        trainer.resume(run_dir / "checkpoint_epoch_0001.pth", data=small_mnist, checkpoint_dir=run_dir.parent)
    message = str(refused.value)
    assert "\n" not in message and "--rewind" in message and "overwrite epochs 2-2" in message
    assert "checkpoint_epoch_0001.pth holds epoch 1" in message and f"{run_dir / 'last.pth'} holds epoch 2" in message
    assert snapshot(run_dir.parent) == before


def test_rewind_flag_allows_it(stopped_after_2, small_mnist, monkeypatch, capsys):
    """`vae-train --resume OLDER` is refused in one line; with --rewind it retrains from there and finishes the run."""
    run_dir, older = stopped_after_2, str(stopped_after_2 / "checkpoint_epoch_0001.pth")
    monkeypatch.setattr(trainer, "load_mnist", lambda *args, **kwargs: small_mnist)
    before = snapshot(run_dir.parent)
    with pytest.raises(SystemExit) as exited:
        train_cli.main(["--resume", older, "--device", "cpu"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "--rewind" in err
    assert snapshot(run_dir.parent) == before

    train_cli.main(["--resume", older, "--rewind", "--device", "cpu"])
    assert f"Resuming {display_path(run_dir)} at epoch 2 of 3" in capsys.readouterr().out
    assert [row["epoch"] for row in runs.read_metrics(run_dir)] == [1, 2, 3]
    assert checkpoint.load_checkpoint(run_dir / "vae_final.pth")["epoch"] == 3


# ----- one epoch


def test_train_epoch_leaves_model_training(small_mnist):
    """train_epoch trains: the model ends in training mode (even if it came in eval mode), the weights move, the
    schedule takes one step per batch, the shuffle generator moves on; the means keep the Losses relations."""
    config = replace(CONFIG, beta=0.25, schedule="constant")
    torch.manual_seed(0)
    model = VAE().eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    generator = torch.Generator().manual_seed(0)
    split = small_mnist.train.head(256)
    means = trainer.train_epoch(model, optimizer, scheduler, split, config, generator, epoch=1)
    assert model.training and torch.is_grad_enabled()
    assert scheduler.last_epoch == math.ceil(256 / config.batch_size)
    assert not torch.equal(model.fc_mu.weight, weights["fc_mu.weight"])
    assert not torch.equal(generator.get_state(), torch.Generator().manual_seed(0).get_state())
    assert set(means) == {"objective", "neg_elbo", "recon", "kl"}
    assert means["objective"] == pytest.approx(means["recon"] + 0.25 * means["kl"], rel=1e-6)
    assert means["neg_elbo"] == pytest.approx(means["recon"] + means["kl"], rel=1e-6)
