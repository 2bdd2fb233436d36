"""Training runs on real digits: what a run writes, which runs may replace the best model, runs with beta != 1,
refusing to rewind a run by accident, the KL warm-up, and runs on binary digits."""

import contextlib
import csv
import io
import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from vaelib.commands import train as train_cli
from vaelib.core import checkpoints, data, measures, training
from vaelib.core.data import Digits
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE, ModelConfig
from vaelib.core.settings import display_path
from vaelib.core.training import TrainConfig, make_config
from vaelib.runs import folder, run, storage
from vaelib.runs.run import why_not_competing

CONFIG = make_config("fast", epochs=2, batch_size=64, save_every=1, seed=3)


COLUMNS = [
    "epoch", "train_objective", "train_neg_elbo", "train_recon", "train_kl",
    "val_objective", "val_neg_elbo", "val_recon", "val_kl", "lr", "seconds",
]  # fmt: skip


WORSE = 1e6  # the validation -ELBO of a best model every run beats


def worse_best_model(root: Path) -> bytes:
    """Put a best model that any trained run beats in root/best_model/; returns its bytes."""
    path = checkpoints.best_model_path(root)
    model = VAE()
    payload = {"model_state": model.state_dict(), "model_config": model.config.to_dict()}
    storage.save_checkpoint({**payload, "val_objective": WORSE, "val_neg_elbo": WORSE}, path)
    return path.read_bytes()


def fit_quietly(config, data, root, **kwargs) -> tuple[run.TrainResult, str]:
    """run.fit, returning what it printed too."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = run.fit(config, mnist=data, checkpoint_dir=root, device="cpu", **kwargs)
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
        assert checkpoints.load_checkpoint(result.run_dir / name)["epoch"] == 2
    assert checkpoints.load_checkpoint(result.run_dir / "checkpoint_epoch_0001.pth")["epoch"] == 1


def test_metrics_csv_rows_and_columns(short_run, small_mnist):
    """One row per epoch with the documented columns; for beta = 1 the objective is the -ELBO, exactly; the last
    validation -ELBO is that of the final model, measured again."""
    result, _, _ = short_run
    with open(result.run_dir / "metrics.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        assert [int(row["epoch"]) for row in reader] == [1, 2]
    rows = folder.read_metrics(result.run_dir)
    assert rows == result.metrics == checkpoints.load_checkpoint(result.run_dir / "vae_final.pth")["metrics"]
    for row in rows:
        for split in ("train", "val"):
            assert row[f"{split}_objective"] == row[f"{split}_neg_elbo"]
            assert row[f"{split}_neg_elbo"] == pytest.approx(row[f"{split}_recon"] + row[f"{split}_kl"], rel=1e-6)
        assert row["lr"] > 0 and row["seconds"] > 0 and 100 < row["val_neg_elbo"] < 600
    model, _ = checkpoints.load_model(result.run_dir / "vae_final.pth")
    again = measures.estimate_elbo(model, small_mnist.val)
    assert again["neg_elbo"] == pytest.approx(rows[-1]["val_neg_elbo"], rel=1e-4)


def test_best_model_written(short_run):
    """The run's best epoch replaces a worse best model in best_model/, and says so."""
    result, printed, root = short_run
    best = checkpoints.load_checkpoint(checkpoints.best_model_path(root))
    ours = checkpoints.load_checkpoint(result.run_dir / "best.pth")
    lowest = min(row["val_neg_elbo"] for row in result.metrics)
    assert best["val_neg_elbo"] == ours["val_neg_elbo"] == lowest < WORSE
    assert all(torch.equal(best["model_state"][k], v) for k, v in ours["model_state"].items())
    assert result.best_objective == min(row["val_objective"] for row in result.metrics)
    assert f"New best model: val −ELBO {lowest:.2f} (previous {WORSE:.2f})" in printed
    assert "Best model not offered" not in printed and "objective" not in printed


def test_a_tie_keeps_the_best_model_and_says_equals(short_run, small_mnist, tmp_path):
    """The same config and seed again: the same validation -ELBO, so the older best model stays, called a tie."""
    result, _, root = short_run
    before = checkpoints.best_model_path(root).read_bytes()
    shutil.copytree(checkpoints.best_model_path(root).parent, checkpoints.best_model_path(tmp_path).parent)
    again, printed = fit_quietly(CONFIG, small_mnist, tmp_path)
    lowest = min(row["val_neg_elbo"] for row in again.metrics)
    assert lowest == min(row["val_neg_elbo"] for row in result.metrics)
    assert f"Best model kept: its val −ELBO {lowest:.2f} equals this run's {lowest:.2f}" in printed
    assert checkpoints.best_model_path(tmp_path).read_bytes() == before


# ----- config precedence and the best-model rule


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
    assert checkpoints.best_model_path(root).read_bytes() == before
    ours = result.run_dir / "best.pth"
    reason = why_not_competing(TrainConfig(beta=0.5))
    assert f"Best model not offered: {reason}; this run's best stays in {display_path(ours)}" in printed
    assert "New best model" not in printed and "best val objective" in printed
    assert checkpoints.load_checkpoint(ours)["val_objective"] == result.best_objective
    kept = [p.name for p in checkpoints.best_model_path(root).parent.iterdir() if p.suffix == ".pth"]
    assert kept == ["vae_best.pth"]


def test_beta_run_metrics_show_both(beta_run):
    """Its rows hold the trained objective recon + 0.5·KL and the true -ELBO recon + KL; with beta < 1 the objective
    is the smaller. The epoch lines print both."""
    result, printed, _, _ = beta_run
    rows = folder.read_metrics(result.run_dir)
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
    assert result.interrupted and checkpoints.load_checkpoint(result.run_dir / "last.pth")["epoch"] == 2
    return result.run_dir


def snapshot(folder) -> dict:
    return {p: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_resume_refuses_to_rewind(stopped_after_2, small_mnist):
    """Resuming from a checkpoint older than last.pth would retrain and overwrite later epochs: one line that names
    them and --rewind, and nothing on disk changes."""
    run_dir = stopped_after_2
    before = snapshot(run_dir.parent)
    with pytest.raises(VAEError) as refused:
        run.resume(run_dir / "checkpoint_epoch_0001.pth", mnist=small_mnist, checkpoint_dir=run_dir.parent)
    message = str(refused.value)
    assert "\n" not in message and "--rewind" in message and "overwrite epochs 2-2" in message
    assert "checkpoint_epoch_0001.pth holds epoch 1" in message and f"{run_dir / 'last.pth'} holds epoch 2" in message
    assert snapshot(run_dir.parent) == before


def test_rewind_flag_allows_it(stopped_after_2, small_mnist, monkeypatch, capsys):
    """`vae-train --resume OLDER` is refused in one line; with --rewind it retrains from there and finishes the run."""
    run_dir, older = stopped_after_2, str(stopped_after_2 / "checkpoint_epoch_0001.pth")
    monkeypatch.setattr(run, "load_mnist", lambda *args, **kwargs: small_mnist)
    before = snapshot(run_dir.parent)
    with pytest.raises(SystemExit) as exited:
        train_cli.main(["--resume", older, "--device", "cpu"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "--rewind" in err
    assert snapshot(run_dir.parent) == before

    train_cli.main(["--resume", older, "--rewind", "--device", "cpu"])
    assert f"Resuming {display_path(run_dir)} at epoch 2 of 3" in capsys.readouterr().out
    assert [row["epoch"] for row in folder.read_metrics(run_dir)] == [1, 2, 3]
    assert checkpoints.load_checkpoint(run_dir / "vae_final.pth")["epoch"] == 3


# ----- one epoch


def test_why_not_competing_new_settings():
    """Runs on binary digits are measured in other nats than the grey runs: they do not compete (one-line reason);
    a beta = 1 run with a warm-up ends on the VAE's own objective: it does."""
    reason = why_not_competing(TrainConfig(data="binary"))
    assert reason and "binary" in reason and "grey" in reason and "\n" not in reason
    assert why_not_competing(TrainConfig(beta=1, data="grey")) is None
    assert why_not_competing(TrainConfig(kl_warmup=10)) is None


@contextlib.contextmanager
def recording_training():
    """While active, VAE.loss records the input x and the KL weight of every training-mode call, training.batches
    the (grey) batches it hands to the training loop, and the run's estimate_elbo the digits it validates on."""
    seen = {"x": [], "weights": [], "grey": [], "val": []}
    loss, batches, estimate_elbo = VAE.loss, training.batches, run.estimate_elbo

    def record_loss(self, x, beta=1.0, free_bits=0.0):
        if self.training:
            seen["x"].append(x.detach().clone())
            seen["weights"].append(beta)
        return loss(self, x, beta, free_bits)

    def record_batches(*args, **kwargs):
        for batch in batches(*args, **kwargs):
            seen["grey"].append(batch)
            yield batch

    def record_estimate(model, digits, *args, **kwargs):
        seen["val"].append(digits)
        return estimate_elbo(model, digits, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VAE, "loss", record_loss)
        patch.setattr(training, "batches", record_batches)
        patch.setattr(run, "estimate_elbo", record_estimate)
        yield seen


def test_kl_warmup_run_competes(small_mnist, tmp_path):
    """beta = 1, a 2-epoch warm-up, 3 steps an epoch: VAE.loss gets the weights 1/6, 2/6, ..., 1 (beta times the
    share of the warm-up done after each step); the training objective is below the -ELBO, validation measures the
    full objective, and the run replaces a worse best model (it ends on the VAE's own objective)."""
    config = replace(CONFIG, kl_warmup=2, train_images=192)
    before = worse_best_model(tmp_path)
    with recording_training() as seen:
        result, printed = fit_quietly(config, small_mnist, tmp_path)
    assert seen["weights"] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0], abs=1e-12)
    for row in result.metrics:
        assert row["train_objective"] < row["train_neg_elbo"] and row["val_objective"] == row["val_neg_elbo"]
    assert checkpoints.best_model_path(tmp_path).read_bytes() != before
    assert "New best model" in printed and "Best model not offered" not in printed
    assert json.loads((result.run_dir / "config.json").read_text())["train"]["kl_warmup"] == 2


# ----- binary digits


BINARY = replace(CONFIG, data="binary")


@pytest.fixture(scope="module")
def binary_run(small_mnist, tmp_path_factory):
    """CONFIG on binary digits over a worse best model, recording what it trains on:
    (result, printed, root, best model bytes, recorded batches)."""
    root = tmp_path_factory.mktemp("binary")
    before = worse_best_model(root)
    with recording_training() as seen:
        result, printed = fit_quietly(BINARY, small_mnist, root)
    return result, printed, root, before, seen


def fingerprint(images: torch.Tensor) -> list[float]:
    """One number per image that tells different digits apart: a fixed random projection of the pixels."""
    weights = torch.rand(784, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return [round(v, 6) for v in (images.flatten(1).double() @ weights).tolist()]


def test_binary_run_trains_on_fresh_draws(binary_run, small_mnist):
    """Every image the model trains on is 0/1, drawn from its grey digit (black stays 0, white 1, mid-grey pixels
    are 1 about as often as their value: a threshold would make them all 0); each digit appears once an epoch
    and is drawn afresh: its epoch-2 draw differs from its epoch-1 draw."""
    *_, seen = binary_run
    assert len(seen["x"]) == len(seen["grey"]) == 2 * 8  # 512 images, batches of 64, 2 epochs
    for x, batch in zip(seen["x"], seen["grey"], strict=True):
        assert x.shape == batch.images.shape and set(x.unique().tolist()) == {0.0, 1.0}
        assert (x[batch.images == 0] == 0).all() and (x[batch.images == 1] == 1).all()
    x, grey = torch.cat(seen["x"]), torch.cat([b.images for b in seen["grey"]])
    mid = (grey > 0.2) & (grey < 0.4)
    assert mid.sum() > 1000 and 0.25 < x[mid].mean() < 0.35
    first = dict(zip(fingerprint(grey[:512]), x[:512], strict=True))
    second = dict(zip(fingerprint(grey[512:]), x[512:], strict=True))
    assert len(first) == 512 and first.keys() == second.keys() == set(fingerprint(small_mnist.train.images))
    # two draws of a digit differ in sum_p 2 p (1 - p) pixels on average (a few MNIST digits have no grey pixel)
    spread = dict(zip(fingerprint(grey[:512]), (2 * grey[:512] * (1 - grey[:512])).flatten(1).sum(1), strict=True))
    fresh = [key for key in first if spread[key] > 10]
    assert len(fresh) > 500 and all(not torch.equal(first[key], second[key]) for key in fresh)


def test_binary_epochs_draw_afresh(small_mnist):
    """One real digit repeated 64 times, one batch an epoch, two epochs of train_epoch: every copy is its own 0/1
    draw, and the 128 draws average to the grey digit (within 5 standard errors per pixel)."""
    grey = small_mnist.train.images[:1]
    digits = Digits(grey.repeat(64, 1, 1, 1), small_mnist.train.labels[:1].repeat(64))
    config = replace(BINARY, schedule="constant")
    torch.manual_seed(0)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    generator = torch.Generator().manual_seed(0)
    with recording_training() as seen:
        for epoch in (1, 2):
            training.train_epoch(model, optimizer, scheduler, digits, config, generator, epoch)
    first, second = seen["x"]
    draws = torch.cat([first, second])
    assert set(draws.unique().tolist()) == {0.0, 1.0}
    assert len({tuple(row) for row in draws.flatten(1).tolist()}) == 128  # all different draws
    stderr = (grey[0] * (1 - grey[0]) / 128).sqrt()
    assert ((draws.mean(0) - grey[0]).abs() <= 5 * stderr + 1e-6).all()


def test_binary_run_validates_on_fixed_draws(binary_run, small_mnist):
    """Every epoch validates on the one fixed binarisation of the validation images (the same 0/1 images each
    epoch), and its val_neg_elbo is estimate_elbo of that epoch's model there; config.json and the checkpoints
    record data = binary."""
    result, *_, seen = binary_run
    val = data.as_data_kind(small_mnist.val, "binary")
    assert len(seen["val"]) == 2
    for digits in seen["val"]:
        assert torch.equal(digits.images, val.images) and torch.equal(digits.labels, small_mnist.val.labels)
    for row, name in zip(result.metrics, ["checkpoint_epoch_0001.pth", "vae_final.pth"], strict=True):
        model, ckpt = checkpoints.load_model(result.run_dir / name)
        assert ckpt["train_config"]["data"] == "binary" and ckpt["epoch"] == row["epoch"]
        assert row["val_neg_elbo"] == pytest.approx(measures.estimate_elbo(model, val)["neg_elbo"], abs=1e-3)
    assert json.loads((result.run_dir / "config.json").read_text())["train"] == asdict(BINARY)


def test_binary_run_keeps_best_model(binary_run):
    """A binary run does not replace even a worse best model, and says why."""
    result, printed, root, before, _ = binary_run
    assert checkpoints.best_model_path(root).read_bytes() == before
    ours = result.run_dir / "best.pth"
    reason = why_not_competing(BINARY)
    assert f"Best model not offered: {reason}; this run's best stays in {display_path(ours)}" in printed
    assert "New best model" not in printed and ours.is_file()


def test_binary_resume_is_bit_for_bit(binary_run, small_mnist, tmp_path):
    """A binary run stopped after epoch 1 and resumed ends exactly as the uninterrupted one: the 0/1 draws come from
    the generator the checkpoint saves, so the same metrics (all but the seconds) and the same weights."""
    reference = binary_run[0]

    def stop(row, model):
        raise KeyboardInterrupt

    stopped, _ = fit_quietly(BINARY, small_mnist, tmp_path, on_epoch=stop)
    assert stopped.interrupted and [row["epoch"] for row in stopped.metrics] == [1]
    with contextlib.redirect_stdout(io.StringIO()):
        resumed = run.resume(stopped.run_dir / "last.pth", mnist=small_mnist, checkpoint_dir=tmp_path)
    assert resumed.run_dir == stopped.run_dir and not resumed.interrupted
    keys = [k for k in folder.METRIC_FIELDS if k != "seconds"]

    def numbers(rows):
        return [[row[k] for k in keys] for row in rows]

    assert numbers(resumed.metrics) == numbers(folder.read_metrics(stopped.run_dir)) == numbers(reference.metrics)
    for name in ("vae_final.pth", "best.pth", "checkpoint_epoch_0002.pth"):
        got = checkpoints.load_checkpoint(stopped.run_dir / name)["model_state"]
        want = checkpoints.load_checkpoint(reference.run_dir / name)["model_state"]
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want), name
