"""Training, around the step in model.py: the settings (TrainConfig and its recipes) and one epoch of shuffled
mini-batches with the KL weight, the precision and the running means. Whole runs, with their files, are the run
shell's (vaelib.runs.run); nothing here writes a file."""

from dataclasses import dataclass, replace

import torch
from tqdm import tqdm

from .data import DATA_KINDS, Digits, batches, binarize, num_batches
from .errors import VAEError
from .model import Losses, NonFiniteLoss, train_step


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved with every checkpoint. The defaults are the original design's; RECIPES has faster ones."""

    epochs: int = 500
    batch_size: int = 128
    learning_rate: float = 1e-4
    beta: float = 1.0  # weight of the KL term (1 = the true ELBO)
    seed: int = 0
    save_every: int = 10  # epochs between numbered checkpoints and reconstruction images
    schedule: str = "constant"  # "constant" or "onecycle" (warm up, then anneal the learning rate)
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, fp32 elsewhere), "bf16" or "fp32"
    train_images: int | None = None  # train on only the first N training images (quick mode)
    kl_warmup: int = 0  # epochs over which the KL weight ramps linearly from 0 to beta (0: no warm-up)
    data: str = "grey"  # "grey" (the original design) or "binary" (each pixel drawn afresh as Bernoulli(grey))
    free_bits: float = 0.0  # λ: each latent dimension is charged at least λ nats of KL (0: off)

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise VAEError(f"unknown schedule {self.schedule!r}: use {' or '.join(SCHEDULES)}")
        if self.data not in DATA_KINDS:
            raise VAEError(f"unknown data kind {self.data!r}: use {' or '.join(DATA_KINDS)}")


SCHEDULES = ("constant", "onecycle")
RECIPES = {
    "original": {},
    "fast": {"learning_rate": 8e-3, "schedule": "onecycle", "batch_size": 64},
}
QUICK_TRAINING = {"epochs": 2, "train_images": 2048, "save_every": 1}  # quick mode: a smoke test in seconds


def make_config(recipe: str = "original", quick: bool = False, **explicit) -> TrainConfig:
    """The original defaults, then the recipe, then quick mode, then the settings given explicitly (they win)."""
    if recipe not in RECIPES:
        raise VAEError(f"unknown recipe {recipe!r}: use {' or '.join(RECIPES)}")
    return replace(TrainConfig(), **{**RECIPES[recipe], **(QUICK_TRAINING if quick else {}), **explicit})


def make_scheduler(optimizer, config: TrainConfig, steps_per_epoch: int):
    """The learning-rate schedule, stepped after every batch: one-cycle (warm up, then anneal) or constant."""
    if config.schedule == "onecycle":
        total = config.epochs * steps_per_epoch
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=total)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


def train_epoch(model, optimizer, scheduler, digits: Digits, config: TrainConfig, generator, epoch: int) -> dict:
    """One pass over `digits` in shuffled mini-batches (model.train_step on each); the means of the Losses fields."""
    model.train()
    device = digits.images.device
    meter, steps = LossMeter(), _progress(digits, config, generator, epoch)
    for step, batch in enumerate(steps, 1):
        x, beta = _inputs(batch.images, config.data), kl_weight(config, epoch, step / len(steps))
        try:
            losses = train_step(model, optimizer, x, beta, config.free_bits, autocast(device, config.precision))
        except NonFiniteLoss as err:
            raise NonFiniteLoss(
                f"{err} at epoch {epoch}, step {step}; try a smaller --learning_rate "
                f"(checkpoints and the best model are untouched)"
            ) from None
        scheduler.step()  # the learning rate for the next step
        meter.add(losses, len(batch))
        steps.set_postfix(objective=f"{meter.means()['objective']:.2f}", refresh=False)
    return meter.means()


class LossMeter:
    """Running means of the Losses fields over the images seen, in float64."""

    def __init__(self):
        self.sums, self.seen = torch.zeros(len(Losses._fields), dtype=torch.float64), 0

    def add(self, losses: Losses, n: int) -> None:
        self.sums += torch.stack(losses).detach().double().cpu() * n
        self.seen += n

    def means(self) -> dict:
        return dict(zip(Losses._fields, (self.sums / self.seen).tolist(), strict=True))


def kl_weight(config: TrainConfig, epoch: int, done: float = 1.0) -> float:
    """The KL weight at `done` (0 to 1) of `epoch`: beta, ramped linearly from 0 over the first kl_warmup epochs."""
    if config.kl_warmup <= 0:
        return config.beta
    return config.beta * min(1.0, (epoch - 1 + done) / config.kl_warmup)


def use_bf16(device: torch.device, precision: str) -> bool:
    """bf16 where it pays: by default on a CUDA GPU that supports it, never on a CPU (slow without native bf16)."""
    if precision == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return precision == "bf16"


def autocast(device: torch.device, precision: str):
    """bf16 autocast for the forward pass where use_bf16 says so, a no-op elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16(device, precision))


def _inputs(images: torch.Tensor, data: str) -> torch.Tensor:
    """A batch as the model sees it: channels-last (faster convolutions on CPU), and for binary data a fresh
    0/1 draw of every pixel (from torch's global generator, which checkpoints save)."""
    x = binarize(images) if data == "binary" else images
    return x.contiguous(memory_format=torch.channels_last)


def _progress(digits: Digits, config: TrainConfig, generator, epoch: int):
    """The epoch's shuffled batches behind a progress bar that disappears when the epoch ends.

    The bar is drawn only in a terminal (disable=None: off when stderr is not a TTY). In a notebook the epoch
    lines are the progress report, so a saved notebook shows finished epochs, never a frozen "0%" bar.
    """
    steps = batches(digits, config.batch_size, shuffle=True, generator=generator)
    return tqdm(
        steps,
        total=num_batches(digits, config.batch_size),
        desc=f"epoch {epoch}/{config.epochs}",
        leave=False,
        mininterval=0.5,
        disable=None,
    )
