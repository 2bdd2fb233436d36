"""MNIST as whole tensors: a fixed train/validation/test split, and batches sliced from memory.

The classic `DataLoader(MNIST(transform=ToTensor()))` pipeline turns every image into a PIL image and back on every
epoch; here the 70,000 images are decoded once into one float tensor that can live on the training device, and a
batch is just an index into it (benchmarks/seed_reference.py is the classic pipeline, for comparison).
"""

import contextlib
import io
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import torch

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


class Digits(NamedTuple):
    """Digit images (N, 1, 28, 28) float32 in [0, 1] and their labels (N,): one split of MNIST, or part of one."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self):
        return len(self.labels)

    def to(self, device) -> "Digits":
        return Digits(self.images.to(device), self.labels.to(device))

    def head(self, n: int) -> "Digits":
        """The first n examples (train and validation are already shuffled, so there this is a random subset)."""
        return Digits(self.images[:n], self.labels[:n])

    def subset(self, n: int, seed: int = SUBSET_SEED) -> "Digits":
        """n examples drawn at random without replacement, the same ones for the same seed (the test set is
        ordered: its first half was written by other people than its second)."""
        pick = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        pick = pick.to(self.images.device)
        return Digits(self.images[pick], self.labels[pick])


class MNIST(NamedTuple):
    """55,000 training, 5,000 validation and 10,000 test images."""

    train: Digits
    val: Digits
    test: Digits


def raw_dir(root) -> Path:
    return Path(root) / "MNIST" / "raw"


def missing_files(root) -> list[str]:
    """The raw MNIST files not present under root (torchvision's layout)."""
    return [name for name in RAW_FILES if not (raw_dir(root) / name).exists()]


def _download(root: Path) -> None:
    """Let torchvision fetch MNIST; stay quiet when offline (the caller reports what is missing)."""
    import torchvision  # here only: importing it costs about 2 s, and reading the files does not need it

    print(f"Downloading MNIST (about 11 MB) to {raw_dir(root)} ...", flush=True)
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        try:
            for train in (True, False):
                torchvision.datasets.MNIST(root, train=train, download=True)
        except Exception:  # offline, proxy, server down: all end in the same actionable message
            pass


def read_idx(path) -> torch.Tensor:
    """An IDX file, MNIST's format, as a uint8 tensor: bytes 0, 0, 8 (uint8 data), the number of dimensions n,
    then n sizes as big-endian 32-bit integers, then the data (LeCun et al., yann.lecun.com/exdb/mnist)."""
    raw = Path(path).read_bytes()
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{Path(path).name} is not an IDX file of bytes")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    if len(raw) != 4 + 4 * ndim + math.prod(shape):
        raise ValueError(f"{Path(path).name} holds {len(raw)} bytes, not the {shape} its header announces")
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=4 + 4 * ndim).view(shape)


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
        train_images, train_labels, test_images, test_labels = (read_idx(raw_dir(root) / name) for name in RAW_FILES)
    except (OSError, ValueError) as err:
        raise VAEError(
            f"could not read the MNIST files in {raw_dir(root)} ({err}); delete them and run again to re-download"
        ) from None
    order = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    images, labels = _as_float(train_images[order]), train_labels.long()[order]  # shuffle the bytes, then convert
    return MNIST(
        train=Digits(images[VAL_SIZE:], labels[VAL_SIZE:]),
        val=Digits(images[:VAL_SIZE], labels[:VAL_SIZE]),
        test=Digits(_as_float(test_images), test_labels.long()),
    )


def _as_float(data: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return data.unsqueeze(1).float().div_(255)


def binarize(images: torch.Tensor, generator=None) -> torch.Tensor:
    """Draw each pixel as 1 with its grey value as the probability, else 0: x_b ~ Bernoulli(x).

    Papers train on MNIST binarised this way, afresh each time an image is used (Burda et al. 2016).
    """
    return torch.bernoulli(images, generator=generator)


def binarized(digits: Digits, seed: int = BINARIZE_SEED) -> Digits:
    """One fixed, seeded binarisation of some digits: the same 0/1 images on every call (to validate and test on)."""
    generator = torch.Generator(digits.images.device).manual_seed(seed)
    return Digits(binarize(digits.images, generator), digits.labels)


def as_data_kind(digits: Digits, data: str) -> Digits:
    """The digits as a run trained on `data` (grey or binary) validates and tests on: grey as they are, binary
    fixed-binarised."""
    if data not in DATA_KINDS:
        raise VAEError(f"unknown data kind {data!r}: use {' or '.join(DATA_KINDS)}")
    return binarized(digits) if data == "binary" else digits


def batches(digits: Digits, batch_size: int, shuffle: bool = False, generator=None) -> Iterator[Digits]:
    """Mini-batches sliced from resident digits; shuffled with `generator` (a CPU torch.Generator)."""
    n = len(digits)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(digits.images.device)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield Digits(digits.images[idx], digits.labels[idx])


def num_batches(digits: Digits, batch_size: int) -> int:
    """How many batches of batch_size (the last one may be smaller)."""
    return -(-len(digits) // batch_size)
