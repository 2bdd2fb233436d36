"""`vae-generate` (or `python -m vaelib.generate`): decode z ~ N(0, I) into a grid of new digits.

With --digit D the codes come instead from where the training images of digit D lie in latent space
(vaelib.conditional), so the grid shows that digit.
"""

import argparse
import random
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from . import conditional, plots
from .atomic import atomic_write
from .checkpoint import best_path, default_checkpoint, load_model
from .data import load_mnist
from .device import pick_device
from .errors import ArgumentParser, VAEError, cli_errors, positive


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="vae-generate", description="Generate new digits with a trained VAE.")
    p.add_argument("--num_samples", type=positive(int), default=10, help="how many digits (default 10)")
    p.add_argument("--latent_dim", type=positive(int), help="check that the checkpoint has this latent size (default: read it from the checkpoint)")
    p.add_argument("--checkpoint", help="checkpoint to load (default: checkpoints/best_model/vae_best.pth if present, else the shipped pretrained model)")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed so you can reproduce the grid)")
    p.add_argument("--output", help="PNG to write (default: generated_YYYYmmdd_HHMMSS.png in the current directory)")
    p.add_argument("--save-array", metavar="PATH", help="also save the samples as a .npy array (N, 28, 28), float32 in [0, 1]")
    p.add_argument("--nrow", type=positive(int), default=10, help="digits per row in the grid (default 10)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--digit", type=digit, help="generate only this digit, 0-9: z is drawn from the latent region of its training images (reads MNIST)")
    p.add_argument("--data-dir", help="MNIST root for --digit, holding MNIST/raw/ (default: $VAELIB_DATA_DIR or ./data)")
    return p


def digit(text: str) -> int:
    """An argparse type for --digit: an integer from 0 to 9."""
    try:
        return conditional.check_digit(int(text))
    except (ValueError, VAEError):
        raise argparse.ArgumentTypeError(f"must be a digit from 0 to 9, got {text!r}") from None


def digit_samples(model, wanted: int, n: int, generator, data_dir=None) -> torch.Tensor:
    """n images of digit `wanted`: fit the class densities to encoded training images, sample, decode."""
    train = load_mnist(data_dir).train.head(conditional.FIT_IMAGES)
    density = conditional.fit(model, train)
    print(f"Digit {wanted}: z drawn from the latent region of {int((density.labels == wanted).sum()):,} typical training images of that digit")
    return conditional.generate(model, density, wanted, n, generator)


def writable(path, flag: str) -> Path:
    """Fail early, before any work, if `path` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise VAEError(f"{flag} {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise VAEError(f"{flag} {path}: folder {path.parent} does not exist; create it or choose another path")
    return path


def save_array(samples: torch.Tensor, path: Path) -> None:
    with atomic_write(path) as fh:
        np.save(fh, samples[:, 0].float().cpu().numpy())


@cli_errors
def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    output = writable(args.output or datetime.now().strftime("generated_%Y%m%d_%H%M%S.png"), "--output")
    array_path = writable(args.save_array, "--save-array") if args.save_array else None
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    device = pick_device(args.device)
    model, _ = load_model(checkpoint, device, latent_dim=args.latent_dim)
    which = "your best model" if checkpoint == best_path() else "the pretrained model" if not args.checkpoint else "checkpoint"
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(f"Using {which} {checkpoint} (latent_dim {model.config.latent_dim}) on {device.type}, seed {seed}")
    generator = torch.Generator().manual_seed(seed)
    if args.digit is None:
        samples = model.sample(args.num_samples, generator=generator)
    else:
        samples = digit_samples(model, args.digit, args.num_samples, generator, args.data_dir)
    try:
        plots.save_png(samples, output, nrow=args.nrow)
        if array_path:
            save_array(samples, array_path)
    except OSError as err:
        raise VAEError(f"could not write {err.filename or output}: {err.strerror}; choose another --output") from None
    print(f"Saved {args.num_samples} samples to {output}" + (f" and {array_path}" if array_path else ""))


if __name__ == "__main__":
    main()
