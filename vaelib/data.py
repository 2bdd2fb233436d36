"""MNIST as whole tensors: a fixed train/validation/test split, and batches sliced from memory.

The classic `DataLoader(MNIST(transform=ToTensor()))` pipeline turns every image into a PIL image
and back on every epoch; here the 70,000 images are decoded once into one float tensor that can live
on the training device, and a batch is just an index into it.
"""

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import torch
import torchvision

from . import settings
from .errors import VAEError

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
VAL_SIZE = 5_000  # held out from the 60,000 training images
SPLIT_SEED = 0  # the split never changes, whatever seed a run uses
DATA_KINDS = ("grey", "binary")  # grey: pixels in [0, 1] (the original design); binary: pixels drawn as 0 or 1
BINARIZE_SEED = 0  # the one fixed binarisation of validation and test images
SUBSET_SEED = 0  # the test images scored when only some are (vae-evaluate --test_images)


class Split(NamedTuple):
    """Images (N, 1, 28, 28) float32 in [0, 1] and their digit labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self):
        return len(self.labels)

    def to(self, device) -> "Split":
        return Split(self.images.to(device), self.labels.to(device))

    def head(self, n: int) -> "Split":
        """The first n examples (train and validation are already shuffled, so there this is a random subset)."""
        return Split(self.images[:n], self.labels[:n])

    def subset(self, n: int, seed: int = SUBSET_SEED) -> "Split":
        """n examples drawn at random without replacement, the same ones for the same seed (the test set is
        ordered: its first half was written by other people than its second)."""
        pick = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        pick = pick.to(self.images.device)
        return Split(self.images[pick], self.labels[pick])


class MNIST(NamedTuple):
    """55,000 training, 5,000 validation and 10,000 test images."""

    train: Split
    val: Split
    test: Split


def raw_dir(root) -> Path:
    return Path(root) / "MNIST" / "raw"


def missing_files(root) -> list[str]:
    """The raw MNIST files not present under root (torchvision's layout)."""
    return [name for name in RAW_FILES if not (raw_dir(root) / name).exists()]


def _download(root: Path) -> None:
    """Let torchvision fetch MNIST; stay quiet when offline (the caller reports what is missing)."""
    print(f"Downloading MNIST (about 11 MB) to {raw_dir(root)} ...", flush=True)
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        try:
            for train in (True, False):
                torchvision.datasets.MNIST(root, train=train, download=True)
        except Exception:  # offline, proxy, server down: all end in the same actionable message
            pass


def load_mnist(root=None, download: bool = True) -> MNIST:
    """Load MNIST from root (default: settings.data_dir()), downloading it first if allowed and missing."""
    root = Path(root or settings.data_dir())
    if missing_files(root) and download:
        _download(root)
    missing = missing_files(root)
    if missing:
        raise VAEError(
            f"MNIST not found: {raw_dir(root)} lacks {', '.join(missing)}. "
            f"Connect to the internet and run again to download it, or point --data-dir / VAELIB_DATA_DIR "
            f"at a folder that holds MNIST/raw/ with the four files."
        )
    try:
        train = torchvision.datasets.MNIST(root, train=True, download=False)
        test = torchvision.datasets.MNIST(root, train=False, download=False)
    except Exception as err:
        raise VAEError(
            f"could not read the MNIST files in {raw_dir(root)} ({err}); delete them and run again to re-download"
        ) from None
    order = torch.randperm(len(train.targets), generator=torch.Generator().manual_seed(SPLIT_SEED))
    images, labels = _as_float(train.data)[order], train.targets[order]
    return MNIST(
        train=Split(images[VAL_SIZE:], labels[VAL_SIZE:]),
        val=Split(images[:VAL_SIZE], labels[:VAL_SIZE]),
        test=Split(_as_float(test.data), test.targets),
    )


def _as_float(data: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return data.unsqueeze(1).float().div_(255)


def binarize(images: torch.Tensor, generator=None) -> torch.Tensor:
    """Draw each pixel as 1 with its grey value as the probability, else 0: x_b ~ Bernoulli(x).

    Papers train on MNIST binarised this way, afresh each time an image is used (Burda et al. 2016).
    """
    return torch.bernoulli(images, generator=generator)


def binarized(split: Split, seed: int = BINARIZE_SEED) -> Split:
    """One fixed, seeded binarisation of a split: the same 0/1 images on every call (to validate and test on)."""
    generator = torch.Generator(split.images.device).manual_seed(seed)
    return Split(binarize(split.images, generator), split.labels)


def as_data_kind(split: Split, kind: str) -> Split:
    """The split as a run of that data kind validates and tests on: grey as it is, binary fixed-binarised."""
    if kind not in DATA_KINDS:
        raise VAEError(f"unknown data kind {kind!r}: use {' or '.join(DATA_KINDS)}")
    return binarized(split) if kind == "binary" else split


def batches(split: Split, batch_size: int, shuffle: bool = False, generator=None) -> Iterator[Split]:
    """Mini-batches sliced from a resident split; shuffled with `generator` (a CPU torch.Generator)."""
    n = len(split)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(split.images.device)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield Split(split.images[idx], split.labels[idx])


def num_batches(split: Split, batch_size: int) -> int:
    return -(-len(split) // batch_size)


def torchvision_loader(root=None, batch_size: int = 128, train: bool = True, generator=None):
    """The classic per-image pipeline, DataLoader + ToTensor: the baseline the fast path is measured against."""
    dataset = torchvision.datasets.MNIST(
        Path(root or settings.data_dir()), train=train, transform=torchvision.transforms.ToTensor()
    )
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=train, generator=generator)
