"""Training: the config, one epoch, and a whole run with its checkpoints (the command is in train.py)."""

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

import torch
from tqdm.auto import tqdm

from . import plots, runs, settings
from .atomic import remove_temporaries
from .checkpoint import best_path, load_checkpoint, save_checkpoint, stored_val_loss, update_best
from .data import MNIST, Split, batches, load_mnist, num_batches
from .device import describe, keep_freed_memory, pick_device
from .errors import VAEError
from .metrics import estimate_elbo
from .model import VAE, ModelConfig


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults are the original design's; see RECIPES for faster settings."""

    epochs: int = 500
    batch_size: int = 128
    learning_rate: float = 1e-4
    beta: float = 1.0  # weight of the KL term (1 = the true ELBO)
    seed: int = 0
    save_every: int = 10  # epochs between numbered checkpoints and reconstruction images
    schedule: str = "constant"  # "constant" or "onecycle" (warm up, then anneal the learning rate)
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, fp32 elsewhere), "bf16" or "fp32"
    train_images: int | None = None  # train on only the first N training images (quick mode)


RECIPES = {
    "original": {},
    "fast": {"learning_rate": 8e-3, "schedule": "onecycle", "batch_size": 64},
}
QUICK = {"epochs": 2, "train_images": 2048, "save_every": 1}
RECON_IMAGES = 10  # validation digits shown in the reconstruction images


def quick(config: TrainConfig) -> TrainConfig:
    """The same config shrunk to a smoke test: a small subset and two epochs."""
    return replace(config, **QUICK)


class TrainResult(NamedTuple):
    run_dir: Path
    metrics: list
    best_val: float
    interrupted: bool


class NonFiniteLoss(VAEError):
    """The loss became NaN or infinite: the step is skipped and training stops."""


def use_bf16(device: torch.device, precision: str) -> bool:
    if precision == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return precision == "bf16"


def train_epoch(model, optimizer, scheduler, split: Split, config: TrainConfig, generator, epoch: int) -> dict:
    """One pass over `split` in shuffled mini-batches; returns the mean loss terms."""
    model.train()
    device = split.images.device
    bf16 = use_bf16(device, config.precision)
    sums, seen = torch.zeros(3, dtype=torch.float64), 0
    steps = tqdm(
        batches(split, config.batch_size, shuffle=True, generator=generator),
        total=num_batches(split, config.batch_size),
        desc=f"epoch {epoch}/{config.epochs}",
        leave=False,
        mininterval=0.5,
    )
    for step, batch in enumerate(steps, 1):
        x = batch.images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            losses = model.loss(x, config.beta)
        terms = torch.stack(losses).detach().double().cpu()
        if not torch.isfinite(terms).all():
            raise NonFiniteLoss(
                f"training stopped: the loss became {terms[0].item()} at epoch {epoch}, step {step}; "
                f"try a smaller --learning_rate (checkpoints and the best model are untouched)"
            )
        optimizer.zero_grad(set_to_none=True)
        losses.total.backward()
        optimizer.step()
        scheduler.step()
        sums += terms * len(batch)
        seen += len(batch)
        steps.set_postfix(loss=f"{sums[0].item() / seen:.2f}", refresh=False)
    loss, recon, kl = (sums / seen).tolist()
    return {"loss": loss, "recon": recon, "kl": kl}


class Run:
    """Everything a training run carries between epochs, and how to save and restore it."""

    def __init__(self, config: TrainConfig, model_config: ModelConfig, device, steps_per_epoch: int):
        self.config, self.model_config, self.device = config, model_config, device
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)  # shuffling order
        self.model = VAE(model_config).to(device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        if config.schedule == "onecycle":
            total = config.epochs * steps_per_epoch
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, config.learning_rate, total_steps=total)
        elif config.schedule == "constant":
            self.scheduler = torch.optim.lr_scheduler.ConstantLR(self.optimizer, factor=1.0, total_iters=0)
        else:
            raise VAEError(f"unknown schedule {config.schedule!r}: use constant or onecycle")
        self.epoch, self.metrics, self.best_val = 0, [], math.inf
        self.run_dir: Path | None = None

    def payload(self) -> dict:
        """A checkpoint: plain tensors, numbers and strings only, so it loads with weights_only=True."""
        rng = {"torch": torch.get_rng_state(), "shuffle": self.generator.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "model_state": self.model.state_dict(),
            "model_config": self.model_config.to_dict(),
            "train_config": asdict(self.config),
            "epoch": self.epoch,
            "metrics": list(self.metrics),
            "val_loss": self.metrics[-1]["val_loss"] if self.metrics else math.inf,
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": self.scheduler.state_dict(),
            "rng_state": rng,
        }

    def restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt["model_state"])
        self.optimizer.load_state_dict(ckpt["optimizer_state"])
        self.scheduler.load_state_dict(ckpt["scheduler_state"])
        self.epoch, self.metrics = ckpt["epoch"], list(ckpt["metrics"])
        torch.set_rng_state(ckpt["rng_state"]["torch"])
        self.generator.set_state(ckpt["rng_state"]["shuffle"])
        if "cuda" in ckpt["rng_state"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(ckpt["rng_state"]["cuda"], self.device)

    def save(self, name: str) -> Path:
        path = self.run_dir / name
        save_checkpoint(self.payload(), path)
        return path


def _log_epoch(row: dict, epochs: int) -> None:
    tqdm.write(
        f"epoch {row['epoch']:>4}/{epochs}  "
        f"train −ELBO {row['train_loss']:7.2f} (recon {row['train_recon']:6.2f} + KL {row['train_kl']:5.2f})  "
        f"val −ELBO {row['val_loss']:7.2f} (recon {row['val_recon']:6.2f} + KL {row['val_kl']:5.2f})  "
        f"{row['seconds']:5.1f} s"
    )


def _offer_best(run: Run, checkpoint_dir) -> None:
    """Replace checkpoints/best_model/vae_best.pth with this run's best only if it is better; say which."""
    ours = run.run_dir / "best.pth"
    if not ours.exists():  # interrupted before the first epoch's best was saved
        return
    payload, target = load_checkpoint(ours), best_path(checkpoint_dir)
    replaced, previous = update_best(payload, target)
    if replaced:
        was = f"previous {previous:.2f}" if math.isfinite(previous) else "no previous best"
        print(f"New best model: val −ELBO {payload['val_loss']:.2f} ({was}) -> {target}")
    else:
        print(f"Best model kept: its val −ELBO {previous:.2f} beats this run's {payload['val_loss']:.2f} ({target})")


def _run_epochs(run: Run, data: MNIST, checkpoint_dir, on_epoch=None) -> TrainResult:
    """The epoch loop shared by new and resumed runs.

    last.pth is written last in each epoch, and vae_final.pth last of all: a crash before either makes
    the resumed run redo that epoch (or the finishing steps), rewriting every file it writes.
    """
    config = run.config
    train_split = data.train.head(config.train_images) if config.train_images else data.train
    train_split, val_split = train_split.to(run.device), data.val.to(run.device)
    shown = val_split.images[:RECON_IMAGES]
    last, saved = run.run_dir / "last.pth", run.epoch  # saved: the epoch whose state last.pth holds
    try:
        runs.write_metrics(run.metrics, run.run_dir)  # on resume: drops rows of epochs after the checkpoint
        while run.epoch < config.epochs:
            epoch, start = run.epoch + 1, time.perf_counter()
            train = train_epoch(run.model, run.optimizer, run.scheduler, train_split, config, run.generator, epoch)
            val = estimate_elbo(run.model, val_split, beta=config.beta)
            if not math.isfinite(val["loss"]):  # NaN weights or NaN images: stop before saving anything
                raise NonFiniteLoss(
                    f"training stopped: the validation loss became {val['loss']} after epoch {epoch}; check the images "
                    f"for NaN or try a smaller --learning_rate (checkpoints and the best model are untouched)"
                )
            row = {"epoch": epoch, **{f"train_{k}": v for k, v in train.items()}, **{f"val_{k}": v for k, v in val.items()}}
            row.update(lr=run.optimizer.param_groups[0]["lr"], seconds=time.perf_counter() - start)
            run.epoch, run.metrics = epoch, run.metrics + [row]
            _log_epoch(row, config.epochs)
            if val["loss"] < run.best_val:
                run.save("best.pth")
                run.best_val = val["loss"]  # only once best.pth holds it (Ctrl-C may land mid-save)
            if epoch % config.save_every == 0:
                run.save(f"checkpoint_epoch_{epoch:04d}.pth")
            runs.write_metrics(run.metrics, run.run_dir)
            plots.save_figure(plots.loss_figure(run.metrics), run.run_dir / "loss.png")
            if epoch == 1 or epoch % config.save_every == 0 or epoch == config.epochs:
                plots.save_png(plots.reconstructions(run.model, shown), run.run_dir / f"reconstructions_epoch_{epoch:04d}.png")
            run.save("last.pth")  # the epoch's commit point
            saved = epoch
            if on_epoch is not None:
                on_epoch(row, run.model)
        _offer_best(run, checkpoint_dir)
        final = run.save("vae_final.pth")  # written last: a run folder holding vae_final.pth is finished
    except KeyboardInterrupt:
        print(f"\nInterrupted: {last} holds the run after epoch {saved} of {config.epochs}")
        print(f"Resume with: vae-train --resume {last}")
        _offer_best(run, checkpoint_dir)
        return TrainResult(run.run_dir, run.metrics[:saved], run.best_val, interrupted=True)
    except OSError as err:
        raise VAEError(
            f"could not write {err.filename or 'to ' + str(run.run_dir)}: {err.strerror or err}; free disk space, "
            f"then resume with: vae-train --resume {last} (it holds epoch {saved})"
        ) from None
    print(f"Finished {config.epochs} epochs: final model {final}, best val −ELBO {run.best_val:.2f}")
    return TrainResult(run.run_dir, run.metrics, run.best_val, interrupted=False)


def _setup(device, data, data_dir, config: TrainConfig):
    """Resolve the device (and say which), load the data if not given, count steps per epoch."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    print(f"Using device: {describe(device)}")
    if device.type == "cpu":
        keep_freed_memory()
    data = data or load_mnist(data_dir)
    train_size = min(config.train_images or len(data.train), len(data.train))
    return device, data, -(-train_size // config.batch_size)


def fit(
    config=TrainConfig(), model_config=ModelConfig(), *, data=None, data_dir=None, device=None, checkpoint_dir=None, on_epoch=None
):
    """Train a new model; writes a run folder under checkpoint_dir and returns a TrainResult.

    `data` is an MNIST tuple (default: load_mnist(data_dir)); `on_epoch(row, model)` is called after every
    epoch (for live plots in notebooks).
    """
    device, data, steps = _setup(device, data, data_dir, config)
    checkpoint_dir = Path(checkpoint_dir or settings.checkpoint_dir())
    run = Run(config, model_config, device, steps)
    run.run_dir = runs.new_run_dir(checkpoint_dir)
    try:
        runs.write_config({"model": model_config.to_dict(), "train": asdict(config), "device": str(device)}, run.run_dir)
    except OSError as err:
        raise VAEError(f"could not write {run.run_dir / 'config.json'}: {err.strerror}; free disk space or pick another --checkpoint-dir") from None
    run.save("last.pth")  # epoch 0: a run interrupted in its first epoch can still be resumed
    print(f"Run folder: {run.run_dir}")
    return _run_epochs(run, data, checkpoint_dir, on_epoch)


def resume(path, *, data=None, data_dir=None, device=None, checkpoint_dir=None, on_epoch=None):
    """Continue the run that wrote checkpoint `path`, in the same run folder, from where it stopped."""
    ckpt = load_checkpoint(path)
    if "train_config" not in ckpt or "optimizer_state" not in ckpt:
        raise VAEError(f"{path} holds a model but no training state (it is not from a run folder); it cannot be resumed")
    run_dir = Path(path).resolve().parent
    if not (run_dir / "config.json").is_file():  # e.g. best_model/vae_best.pth, or a copy someone shared
        raise VAEError(f"{path} is not in its run folder (no config.json beside it); resume from that run's last.pth")
    config, final = TrainConfig(**ckpt["train_config"]), run_dir / "vae_final.pth"
    if final.is_file():
        print(f"Nothing to do: {run_dir} is a finished run of {config.epochs} epochs (final model {final}).")
        return TrainResult(run_dir, load_checkpoint(final)["metrics"], stored_val_loss(run_dir / "best.pth"), interrupted=False)
    device, data, steps = _setup(device, data, data_dir, config)
    run = Run(config, ModelConfig(**ckpt["model_config"]), device, steps)
    run.restore(ckpt)
    run.run_dir, run.best_val = run_dir, stored_val_loss(run_dir / "best.pth")
    remove_temporaries(run_dir)  # left by a process killed mid-save
    if run.epoch < config.epochs:
        print(f"Resuming {run_dir} at epoch {run.epoch + 1} of {config.epochs}")
    else:  # killed after the last epoch, before the best model and vae_final.pth were written
        print(f"Finishing {run_dir}: all {config.epochs} epochs are done")
    return _run_epochs(run, data, Path(checkpoint_dir or settings.checkpoint_dir()), on_epoch)
