"""`vae-train` (or `python -m vaelib.train`): train the VAE on MNIST from the command line."""

import sys

from vaelib.core import settings
from vaelib.core.data import DATA_KINDS
from vaelib.core.model import ModelConfig
from vaelib.core.training import QUICK_TRAINING, RECIPES, SCHEDULES, TrainConfig, make_config
from vaelib.runs.run import fit, resume

from .cli import ArgumentParser, cli_errors, console, dropout_rate, explicit_flags, positive

TRAIN_DEFAULTS = TrainConfig()
MODEL_DEFAULTS = ModelConfig()
OVERRIDES = (
    "epochs", "batch_size", "learning_rate", "beta", "kl_warmup", "free_bits", "seed", "save_every", "schedule",
    "precision", "data",
)  # fmt: skip


def build_parser() -> ArgumentParser:
    quick = QUICK_TRAINING
    p = ArgumentParser(prog="vae-train", description="Train the convolutional VAE on MNIST.")
    p.add_argument("--epochs", type=positive(int), help=f"number of epochs (default {TRAIN_DEFAULTS.epochs})")
    p.add_argument("--latent_dim", type=positive(int), default=2, help="size of the latent space z (default 2)")
    p.add_argument("--batch_size", type=positive(int), help=f"images per step (default {TRAIN_DEFAULTS.batch_size})")
    p.add_argument(
        "--learning_rate", type=positive(float), help=f"Adam learning rate (default {TRAIN_DEFAULTS.learning_rate})"
    )
    p.add_argument(
        "--beta",
        type=positive(float, zero_ok=True),
        help="weight of the KL term (default 1: the true ELBO; other values keep their own best model)",
    )
    p.add_argument(
        "--kl-warmup",
        type=positive(int, zero_ok=True),
        metavar="EPOCHS",
        help="ramp the KL weight linearly from 0 to --beta over the first EPOCHS epochs (default 0: no warm-up)",
    )
    p.add_argument(
        "--free-bits",
        type=positive(float, zero_ok=True),
        metavar="λ",
        help="charge each latent dimension at least λ nats of KL (free bits, Kingma et al. 2016; default 0: off; "
        "such runs keep their own best model)",
    )
    p.add_argument(
        "--dropout",
        type=dropout_rate,
        default=MODEL_DEFAULTS.dropout,
        help=f"share of activations dropped in encoder and decoder while training (default {MODEL_DEFAULTS.dropout})",
    )
    p.add_argument(
        "--data",
        choices=DATA_KINDS,
        help="grey (the original design) or binary: each pixel drawn afresh as 0/1 with its grey value as the "
        "probability, as papers train (default grey; such runs keep their own best model)",
    )
    p.add_argument("--seed", type=int, help=f"random seed (default {TRAIN_DEFAULTS.seed})")
    p.add_device_and_data()
    p.add_argument(
        "--checkpoint-dir",
        help="where run folders and best_model/ go (default: $VAELIB_CHECKPOINT_DIR or ./checkpoints)",
    )
    p.add_argument(
        "--save-every",
        type=positive(int),
        help=f"epochs between numbered checkpoints (default {TRAIN_DEFAULTS.save_every})",
    )
    p.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="original",
        help="preset: original (the defaults) or fast (one-cycle schedule up to learning rate 8e-3, batch 64); "
        "explicit flags win",
    )
    p.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule (default constant)")
    p.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        help="auto: bf16 autocast on CUDA, fp32 elsewhere (default auto)",
    )
    p.add_argument(
        "--resume", metavar="PATH", help="continue the run that wrote this checkpoint (its settings are reused)"
    )
    p.add_argument(
        "--rewind",
        action="store_true",
        help="with --resume: accept a checkpoint older than the run's last.pth (retrains, overwriting later epochs)",
    )
    p.add_quick(quick["train_images"], quick["epochs"])
    return p


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    where = dict(device=args.device, data_dir=args.data_dir, checkpoint_dir=args.checkpoint_dir)
    try:
        if args.resume:
            result = resume(args.resume, rewind=args.rewind, **where)
        else:
            quick = args.quick or settings.quick_mode()
            config = make_config(args.recipe, quick, **explicit_flags(args, OVERRIDES))
            result = fit(config, ModelConfig(latent_dim=args.latent_dim, dropout=args.dropout), **where)
    except KeyboardInterrupt:  # Ctrl-C outside the epoch loop (inside it, the run saves and says how to resume)
        print("\nInterrupted; the checkpoints written so far are intact.", file=sys.stderr)
        raise SystemExit(130) from None
    if result.interrupted:
        raise SystemExit(130)


entry = console(main)  # what `vae-...` and `python -m` run (cli.console); tests call main()

if __name__ == "__main__":
    entry()
