"""`vae-classifier` (or `python -m vaelib.train_classifier`): train the classifier that scores generated digits."""

from pathlib import Path

from . import settings
from .classifier import EPOCHS, FILE_NAME, QUICK_CLASSIFIER, train_and_save
from .cli import ArgumentParser, cli_errors, explicit_flags, positive
from .data import load_mnist
from .device import describe, pick_device


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="vae-classifier", description="Train the small MNIST classifier used to score generated digits."
    )
    p.add_argument("--epochs", type=positive(int), help=f"passes over the 55,000 training images (default {EPOCHS})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--output",
        help=f"where to write the weights (default: the package's weights/{FILE_NAME}; "
        f"in quick mode $VAELIB_CHECKPOINT_DIR/{FILE_NAME})",
    )
    p.add_device_and_data()
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_CLASSIFIER['train_images']:,} training images, {QUICK_CLASSIFIER['epochs']} epoch; "
        "explicit flags win (also: VAELIB_QUICK=1)",
    )
    return p


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    quick = args.quick or settings.quick_mode()
    output = (
        Path(args.output)
        if args.output
        else (settings.checkpoint_dir() if quick else settings.weights_dir()) / FILE_NAME
    )
    device = pick_device(args.device)
    print(f"Using device: {describe(device)}")
    chosen = {**(QUICK_CLASSIFIER if quick else {}), **explicit_flags(args, ["epochs"])}
    record = train_and_save(output, load_mnist(args.data_dir), seed=args.seed, device=device, **chosen)
    print(
        f"Trained on {record['train_images']:,} images for {record['epochs']} epochs in {record['seconds']:.0f} s: "
        f"validation accuracy {record['val_accuracy']:.2%}, test accuracy {record['test_accuracy']:.2%}"
    )
    print(f"Saved {output}")


if __name__ == "__main__":
    main()
