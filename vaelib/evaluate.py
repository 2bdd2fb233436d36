"""`vae-evaluate` (or `python -m vaelib.evaluate`): how good is a trained VAE, in numbers (see vaelib.evaluation)."""

import json
from pathlib import Path

from . import settings
from .checkpoint import default_checkpoint
from .cli import ArgumentParser, cli_errors, explicit_flags, positive
from .data import DATA_KINDS
from .device import pick_device
from .evaluation import EVALUATION_DEFAULTS, QUICK_EVALUATION, evaluate_checkpoint, format_scorecard


def build_parser() -> ArgumentParser:
    quick = QUICK_EVALUATION
    p = ArgumentParser(prog="vae-evaluate", description="Evaluate a trained VAE on the MNIST test set.")
    p.add_argument(
        "--checkpoint",
        help="checkpoint to evaluate (default: checkpoints/best_model/vae_best.pth, else the shipped 2-D model)",
    )
    p.add_argument(
        "--k",
        type=positive(int, zero_ok=True),
        help=f"importance samples per image for the IWAE bound; 0 skips it (default {EVALUATION_DEFAULTS['k']}: "
        f"{EVALUATION_DEFAULTS['k']:,} decoder passes per test image, the slow part: about 8 minutes for all 10,000 "
        "test images on a 2-core CPU, where 1,000 took 50 s; a progress bar in a terminal shows the time left)",
    )
    p.add_argument(
        "--data",
        choices=DATA_KINDS,
        help="score on grey or on (one fixed binarisation of) binary test digits (default: what the model was "
        "trained on, recorded in its checkpoint)",
    )
    p.add_argument(
        "--num_samples",
        type=positive(int),
        help=f"digits drawn from the prior to score samples (default {EVALUATION_DEFAULTS['num_samples']})",
    )
    p.add_argument(
        "--test_images",
        type=positive(int),
        help="score N test images drawn at random, the same ones every time (default: all 10,000)",
    )
    p.add_argument(
        "--batch_size",
        type=positive(int),
        default=50,
        help="test images per IWAE batch; lower it if memory runs out (default 50)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for the z noise and the samples (default 0)")
    p.add_device_and_data()
    p.add_argument("--classifier", help="classifier weights (default: the shipped classifier.pth)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout instead of a table")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {quick['test_images']} test images, k={quick['k']}, {quick['num_samples']} samples; "
        "explicit flags win (also: VAELIB_QUICK=1)",
    )
    return p


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    device = pick_device(args.device)
    quick = args.quick or settings.quick_mode()
    result = evaluate_checkpoint(
        checkpoint,
        device,
        quick,
        args.data_dir,
        args.classifier,
        args.seed,
        args.batch_size,
        args.data,
        **explicit_flags(args, ("k", "num_samples", "test_images")),
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_scorecard(result))
        print(f"({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
