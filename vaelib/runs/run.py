"""A training run: the epochs of core.training, validated in eval mode, written to a run folder, safe to stop.

    result = fit(make_config("fast", epochs=10))   # a new run folder under checkpoints/
    resume(result.run_dir / "last.pth")             # continue a run that was stopped

Each epoch writes its files in a fixed order, last.pth last (the commit point: see Run), so Ctrl-C or a crash at
any moment leaves a run that resumes where it stopped. Runs that train the VAE's own objective compete for
checkpoints/best_model/ on the validation −ELBO.
"""

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import torch
from tqdm import tqdm

from vaelib.core import settings
from vaelib.core.checkpoints import best_model_path
from vaelib.core.data import MNIST, as_data_kind, load_mnist
from vaelib.core.device import describe, keep_freed_memory, pick_device
from vaelib.core.errors import VAEError
from vaelib.core.latent import reconstruct
from vaelib.core.measures import estimate_elbo
from vaelib.core.model import VAE, ModelConfig, NonFiniteLoss
from vaelib.core.settings import display_path
from vaelib.core.training import TrainConfig, make_scheduler, train_epoch

from . import folder, images
from .atomic import remove_temporaries
from .storage import load_run_checkpoint, save_checkpoint, stored_score, update_best_model

RECON_IMAGES = 10  # validation digits shown in the reconstruction images


def why_not_competing(config: TrainConfig) -> str | None:
    """None if a run with this config may replace checkpoints/best_model/, else the reason it may not.

    Only the VAE's own objective (beta = 1) competes, on the true validation -ELBO: a run that trains
    another objective would otherwise replace a better VAE with a lower-looking number.
    """
    if config.beta != 1:
        return f"it trains reconstruction + {config.beta:g}·KL, not the VAE's own objective (β = 1)"
    if config.free_bits:
        return f"it trains with free bits (λ = {config.free_bits:g} nats per dimension), not the VAE's own objective"
    if config.data != "grey":
        return f"its nats are measured on {config.data} digits, not on the grey ones of the other runs"
    return None


class TrainResult(NamedTuple):
    """What fit and resume return: the run folder, its per-epoch rows (as in metrics.csv), its best epoch's
    validation objective (the true −ELBO when β = 1), and whether it was interrupted."""

    run_dir: Path
    metrics: list
    best_objective: float
    interrupted: bool


class Run:
    """Everything a training run carries between epochs, and how it writes its folder.

    The commit-point rule: an epoch's files are written in a fixed order (best.pth if the epoch has the lowest
    validation objective so far, the run's best epoch; the numbered checkpoint, metrics.csv, loss.png, the
    reconstructions) and last.pth last of all.
    A crash before last.pth makes the resumed run redo that epoch, rewriting each of those files the same
    way; vae_final.pth is written once the run is over, so a folder that holds it is a finished run.
    """

    def __init__(self, config: TrainConfig, model_config: ModelConfig, device, steps_per_epoch: int):
        self.config, self.model_config, self.device = config, model_config, device
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)  # shuffling order
        self.model = VAE(model_config).to(device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.scheduler = make_scheduler(self.optimizer, config, steps_per_epoch)
        self.epoch, self.metrics, self.best_objective = 0, [], math.inf
        self.saved_epoch = 0  # the epoch whose state last.pth holds
        self.run_dir: Path | None = None

    def payload(self) -> dict:
        """A checkpoint: plain tensors, numbers and strings only, so it loads with weights_only=True."""
        rng = {"torch": torch.get_rng_state(), "shuffle": self.generator.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        last = self.metrics[-1] if self.metrics else {}
        return {
            "model_state": self.model.state_dict(),
            "model_config": self.model_config.to_dict(),
            "train_config": asdict(self.config),
            "epoch": self.epoch,
            "metrics": list(self.metrics),
            "val_objective": last.get("val_objective", math.inf),
            "val_neg_elbo": last.get("val_neg_elbo", math.inf),
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": self.scheduler.state_dict(),
            "rng_state": rng,
        }

    def restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt["model_state"])
        self.optimizer.load_state_dict(ckpt["optimizer_state"])
        self.scheduler.load_state_dict(ckpt["scheduler_state"])
        self.epoch, self.metrics = ckpt["epoch"], list(ckpt["metrics"])
        self.saved_epoch = self.epoch
        torch.set_rng_state(ckpt["rng_state"]["torch"])
        self.generator.set_state(ckpt["rng_state"]["shuffle"])
        if "cuda" in ckpt["rng_state"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(ckpt["rng_state"]["cuda"], self.device)

    def save(self, name: str) -> Path:
        path = self.run_dir / name
        save_checkpoint(self.payload(), path)
        return path

    @property
    def last(self) -> Path:
        return self.run_dir / "last.pth"

    def record_epoch(self, row: dict, recon_images: torch.Tensor) -> None:
        """Add the epoch's row and write its files in commit-point order (see the class docstring)."""
        epoch, every = row["epoch"], self.config.save_every
        self.epoch, self.metrics = epoch, self.metrics + [row]
        if row["val_objective"] < self.best_objective:
            self.save("best.pth")
            self.best_objective = row["val_objective"]  # only once best.pth holds it (Ctrl-C may land mid-save)
        if epoch % every == 0:
            self.save(f"checkpoint_epoch_{epoch:04d}.pth")
        folder.write_metrics(self.metrics, self.run_dir)
        images.save_figure(images.loss_figure(self.metrics), self.run_dir / "loss.png")
        if epoch == 1 or epoch % every == 0 or epoch == self.config.epochs:
            pairs = torch.cat([recon_images.cpu(), reconstruct(self.model, recon_images)])  # originals above
            images.save_png(pairs, self.run_dir / f"reconstructions_epoch_{epoch:04d}.png")
        self.save("last.pth")  # the commit point
        self.saved_epoch = epoch

    def offer_best_model(self, checkpoint_dir) -> None:
        """Replace checkpoints/best_model/vae_best.pth with this run's best epoch if it competes and is better."""
        ours = self.run_dir / "best.pth"
        if not ours.exists():  # interrupted before the first epoch's best was saved
            return
        reason = why_not_competing(self.config)
        if reason:
            print(f"Best model not offered: {reason}; this run's best stays in {display_path(ours)}")
            return
        payload, target = load_run_checkpoint(ours), best_model_path(checkpoint_dir)
        replaced, previous = update_best_model(payload, target)
        if replaced:
            was = f"previous {previous:.2f}" if math.isfinite(previous) else "no previous best"
            print(f"New best model: val −ELBO {payload['val_neg_elbo']:.2f} ({was}) -> {display_path(target)}")
        else:
            verdict = "equals" if payload["val_neg_elbo"] == previous else "beats"  # a tie keeps the older model
            print(
                f"Best model kept: its val −ELBO {previous:.2f} {verdict} this run's "
                f"{payload['val_neg_elbo']:.2f} ({display_path(target)})"
            )

    def finish(self, checkpoint_dir) -> Path:
        """Offer the best model, then write vae_final.pth: the mark of a finished run."""
        self.offer_best_model(checkpoint_dir)
        return self.save("vae_final.pth")


def _log_epoch(row: dict, epochs: int) -> None:
    objective = f"objective {row['val_objective']:7.2f}  " if row["val_objective"] != row["val_neg_elbo"] else ""
    tqdm.write(
        f"epoch {row['epoch']:>4}/{epochs}  "
        f"train −ELBO {row['train_neg_elbo']:7.2f} (recon {row['train_recon']:6.2f} + KL {row['train_kl']:5.2f})  "
        f"val −ELBO {row['val_neg_elbo']:7.2f} (recon {row['val_recon']:6.2f} + KL {row['val_kl']:5.2f})  "
        f"{objective}{row['seconds']:5.1f} s"
    )


def _run_epochs(run: Run, mnist: MNIST, checkpoint_dir, on_epoch=None) -> TrainResult:
    """The epoch loop shared by new and resumed runs: train, validate, record; then finish the run."""
    config = run.config
    train = mnist.train.head(config.train_images) if config.train_images else mnist.train
    train, val = train.to(run.device), as_data_kind(mnist.val, config.data).to(run.device)
    recon_images = val.images[:RECON_IMAGES]
    try:
        folder.write_metrics(run.metrics, run.run_dir)  # on resume: drops rows of epochs after the checkpoint
        while run.epoch < config.epochs:
            epoch, start = run.epoch + 1, time.perf_counter()
            trained = train_epoch(run.model, run.optimizer, run.scheduler, train, config, run.generator, epoch)
            validated = estimate_elbo(run.model, val, beta=config.beta)
            if not math.isfinite(validated["objective"]):  # NaN weights or NaN images: stop before saving anything
                raise NonFiniteLoss(
                    f"training stopped: the validation loss became {validated['objective']} after epoch {epoch}; "
                    "check the images for NaN or try a smaller --learning_rate "
                    "(checkpoints and the best model are untouched)"
                )
            row = {
                "epoch": epoch,
                **{f"train_{name}": value for name, value in trained.items()},
                **{f"val_{name}": value for name, value in validated.items()},
            }
            row.update(lr=run.optimizer.param_groups[0]["lr"], seconds=time.perf_counter() - start)
            _log_epoch(row, config.epochs)
            run.record_epoch(row, recon_images)
            if on_epoch is not None:
                on_epoch(row, run.model)
        final = run.finish(checkpoint_dir)
    except KeyboardInterrupt:
        print(f"\nInterrupted: {display_path(run.last)} holds the run after epoch {run.saved_epoch} of {config.epochs}")
        print(f"Resume with: vae-train --resume {display_path(run.last)}")
        run.offer_best_model(checkpoint_dir)
        return TrainResult(run.run_dir, run.metrics[: run.saved_epoch], run.best_objective, interrupted=True)
    except OSError as err:
        raise VAEError(
            f"could not write {err.filename or 'to ' + str(run.run_dir)}: {err.strerror or err}; free disk space, "
            f"then resume with: vae-train --resume {display_path(run.last)} (it holds epoch {run.saved_epoch})"
        ) from None
    best = "val −ELBO" if config.beta == 1 else "val objective"
    print(f"Finished {config.epochs} epochs: final model {display_path(final)}, best {best} {run.best_objective:.2f}")
    return TrainResult(run.run_dir, run.metrics, run.best_objective, interrupted=False)


def _refuse_rewind(path: Path, epoch: int, last: Path, rewind: bool) -> None:
    """A one-line VAEError when resuming from `path` would silently retrain and overwrite later epochs."""
    later = load_run_checkpoint(last)["epoch"] if last.is_file() and path.resolve() != last.resolve() else epoch
    if later > epoch and not rewind:
        raise VAEError(
            f"{path.name} holds epoch {epoch}, but {last} holds epoch {later}: resuming from it would retrain and "
            f"overwrite epochs {epoch + 1}-{later}; resume from {last}, or add --rewind to do that on purpose"
        )


def _setup(device, mnist, data_dir, config: TrainConfig):
    """Resolve the device (and say which), load MNIST if not given, count steps per epoch."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    print(f"Using device: {describe(device)}")
    if device.type == "cpu":
        keep_freed_memory()
    mnist = mnist or load_mnist(data_dir)
    train_size = min(config.train_images or len(mnist.train), len(mnist.train))
    return device, mnist, -(-train_size // config.batch_size)


def fit(
    config=TrainConfig(),
    model_config=ModelConfig(),
    *,
    mnist=None,
    data_dir=None,
    device=None,
    checkpoint_dir=None,
    on_epoch=None,
):
    """Train a new model; writes a run folder under checkpoint_dir and returns a TrainResult.

    `mnist` is the MNIST tuple to train on (default: load_mnist(data_dir)); `on_epoch(row, model)` is called after
    every epoch (for live plots in notebooks).
    """
    device, mnist, steps = _setup(device, mnist, data_dir, config)
    checkpoint_dir = Path(checkpoint_dir or settings.checkpoint_dir())
    run = Run(config, model_config, device, steps)
    run.run_dir = folder.new_run_dir(checkpoint_dir)
    try:
        folder.write_config(
            {"model": model_config.to_dict(), "train": asdict(config), "device": str(device)}, run.run_dir
        )
    except OSError as err:
        raise VAEError(
            f"could not write {run.run_dir / 'config.json'}: {err.strerror}; "
            "free disk space or pick another --checkpoint-dir"
        ) from None
    run.save("last.pth")  # epoch 0: a run interrupted in its first epoch can still be resumed
    print(f"Run folder: {display_path(run.run_dir)}")
    return _run_epochs(run, mnist, checkpoint_dir, on_epoch)


def resume(path, *, rewind=False, mnist=None, data_dir=None, device=None, checkpoint_dir=None, on_epoch=None):
    """Continue the run that wrote checkpoint `path`, in the same run folder, from where it stopped.

    A checkpoint older than the run's last.pth is refused unless `rewind`: resuming from it retrains,
    and overwrites, the epochs after it.
    """
    ckpt = load_run_checkpoint(path)
    if "train_config" not in ckpt or "optimizer_state" not in ckpt:
        raise VAEError(
            f"{path} holds a model but no training state (it is not from a run folder); it cannot be resumed"
        )
    run_dir = Path(path).resolve().parent
    if not (run_dir / "config.json").is_file():  # e.g. best_model/vae_best.pth, or a copy someone shared
        raise VAEError(f"{path} is not in its run folder (no config.json beside it); resume from that run's last.pth")
    config, final = TrainConfig(**ckpt["train_config"]), run_dir / "vae_final.pth"
    if final.is_file():
        done = f"a finished run of {config.epochs} epochs (final model {display_path(final)})"
        print(f"Nothing to do: {display_path(run_dir)} is {done}.")
        best = stored_score(run_dir / "best.pth", "val_objective")
        return TrainResult(run_dir, load_run_checkpoint(final)["metrics"], best, interrupted=False)
    _refuse_rewind(Path(path), ckpt["epoch"], run_dir / "last.pth", rewind)
    device, mnist, steps = _setup(device, mnist, data_dir, config)
    run = Run(config, ModelConfig(**ckpt["model_config"]), device, steps)
    run.restore(ckpt)
    run.run_dir, run.best_objective = run_dir, stored_score(run_dir / "best.pth", "val_objective")
    remove_temporaries(run_dir)  # left by a process killed mid-save
    if run.epoch < config.epochs:
        print(f"Resuming {display_path(run_dir)} at epoch {run.epoch + 1} of {config.epochs}")
    else:  # killed after the last epoch, before the best model and vae_final.pth were written
        print(f"Finishing {display_path(run_dir)}: all {config.epochs} epochs are done")
    return _run_epochs(run, mnist, Path(checkpoint_dir or settings.checkpoint_dir()), on_epoch)
