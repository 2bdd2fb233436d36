"""`vae-classifier` (or `python -m vaelib.train_classifier`): train the classifier that scores generated digits."""

import time
from pathlib import Path

import torch

from vaelib.core import settings
from vaelib.core.classifier import EPOCHS, FILE_NAME, accuracy, fit_classifier
from vaelib.core.data import load_mnist
from vaelib.core.device import describe, pick_device
from vaelib.runs.storage import save_checkpoint

from .cli import ArgumentParser, cli_errors, console, explicit_flags, positive

QUICK_CLASSIFIER = {"epochs": 1, "train_images": 2048}  # quick mode: a smoke test in seconds


def train_and_save(
    output, mnist, epochs: int = EPOCHS, train_images: int | None = None, seed: int = 0, device="cpu"
) -> dict:
    """Train on mnist.train (its first `train_images` if given), score it on val and test, save the weights.

    Returns the record saved beside the weights (sizes, seconds, accuracies)."""
    train = mnist.train.head(train_images) if train_images else mnist.train
    start = time.perf_counter()
    model = fit_classifier(train, epochs=epochs, seed=seed, device=device)
    record = {
        "train_images": len(train),
        "epochs": epochs,
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "val_accuracy": accuracy(model, mnist.val.to(device)),
        "test_accuracy": accuracy(model, mnist.test.to(device)),
        "torch_version": str(torch.__version__),
    }
    save_checkpoint({"model_state": {k: v.cpu() for k, v in model.state_dict().items()}, **record}, output)
    return record


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
    p.add_quick(QUICK_CLASSIFIER["train_images"], QUICK_CLASSIFIER["epochs"])
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


entry = console(main)  # what `vae-...` and `python -m` run (cli.console); tests call main()

if __name__ == "__main__":
    entry()
