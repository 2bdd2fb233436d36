"""`vae-generate` (or `python -m vaelib.generate`): decode z ~ N(0, I) into a mosaic of new digits.

With --digit D the codes come instead from where the training images of digit D lie in latent space
(vaelib.core.conditional), so the mosaic shows that digit.
"""

import argparse
import random
from datetime import datetime
from pathlib import Path

import torch

from vaelib.core import conditional
from vaelib.core.checkpoints import best_model_path, default_checkpoint, load_model
from vaelib.core.data import load_mnist
from vaelib.core.device import pick_device
from vaelib.core.errors import VAEError
from vaelib.runs import images

from .cli import ArgumentParser, cli_errors, console, positive, writable_file


def digit(text: str) -> int:
    """An argparse type for --digit: an integer from 0 to 9."""
    try:
        return conditional.check_digit(int(text))
    except (ValueError, VAEError):
        raise argparse.ArgumentTypeError(f"must be a digit from 0 to 9, got {text!r}") from None


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="vae-generate", description="Generate new digits with a trained VAE.")
    p.add_argument("--num_samples", type=positive(int), default=10, help="how many digits (default 10)")
    p.add_argument(
        "--latent_dim",
        type=positive(int),
        help="check that the checkpoint has this latent size (default: read it from the checkpoint)",
    )
    p.add_argument(
        "--checkpoint",
        help="checkpoint to load (default: checkpoints/best_model/vae_best.pth if present, else the shipped 2-D model)",
    )
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed so you can repeat the draw)")
    p.add_argument("--output", help="PNG to write (default: generated_YYYYmmdd_HHMMSS.png in the current directory)")
    p.add_argument(
        "--save-array", metavar="PATH", help="also save the samples as a .npy array (N, 28, 28), float32 in [0, 1]"
    )
    p.add_argument("--nrow", type=positive(int), default=10, help="digits per row of the mosaic (default 10)")
    p.add_argument(
        "--digit",
        type=digit,
        help="generate only this digit, 0-9: z is drawn from the latent region of its training images (reads MNIST)",
    )
    p.add_device_and_data(" for --digit")
    return p


def generate_digits(model, n: int, generator, digit: int | None = None, data_dir=None) -> torch.Tensor:
    """n digits from the prior, or, with `digit`, n of that digit, whose class densities are fitted to encoded
    training images (vaelib.core.conditional; reads MNIST)."""
    if digit is None:
        return model.sample(n, generator=generator)
    train = load_mnist(data_dir).train.head(conditional.FIT_IMAGES)
    density = conditional.class_densities(model, train)
    count = int((density.labels == digit).sum())
    print(f"Digit {digit}: z drawn from the latent region of {count:,} typical training images of that digit")
    return conditional.sample_digits(model, density, digit, n, generator)


def describe_checkpoint(checkpoint: Path, given: bool) -> str:
    """How the learner should read the model's origin: given, their own best model, or the shipped one."""
    if given:
        return "checkpoint"
    return "your best model" if checkpoint == best_model_path() else "the shipped model (no best model of yours yet)"


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    output = writable_file(args.output or datetime.now().strftime("generated_%Y%m%d_%H%M%S.png"), "--output")
    array_path = writable_file(args.save_array, "--save-array") if args.save_array else None
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    device = pick_device(args.device)
    model, _ = load_model(checkpoint, device, latent_dim=args.latent_dim)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(
        f"Using {describe_checkpoint(checkpoint, bool(args.checkpoint))} {checkpoint} "
        f"(latent_dim {model.config.latent_dim}) on {device.type}, seed {seed}"
    )
    samples = generate_digits(model, args.num_samples, torch.Generator().manual_seed(seed), args.digit, args.data_dir)
    try:
        images.save_png(samples, output, nrow=args.nrow)
        if array_path:
            images.save_array(samples, array_path)
    except OSError as err:
        raise VAEError(f"could not write {err.filename or output}: {err.strerror}; choose another --output") from None
    print(f"Saved {args.num_samples} samples to {output}" + (f" and {array_path}" if array_path else ""))


entry = console(main)  # what `vae-...` and `python -m` run (cli.console); tests call main()

if __name__ == "__main__":
    entry()
