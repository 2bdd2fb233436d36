"""The classic MNIST pipeline, DataLoader + ToTensor: the baseline that throughput.py and time_to_quality.py measure
vaelib's data path against.

This is how the project's seed fed its model, and how most MNIST examples do: torchvision's MNIST dataset hands out
one image at a time as a PIL image, ToTensor turns it into a float tensor in [0, 1], and a DataLoader (in the main
process, no worker processes) stacks them into a batch, every epoch again. vaelib instead decodes the images once
into one tensor and slices batches out of it (vaelib.core.data).

Until vaelib 0.3 this lived in the package as `vaelib.data.torchvision_loader`; only the benchmarks use it, so it
lives here now. It reads the same raw files as vaelib (`ROOT/MNIST/raw/`) and never downloads them.
"""

from pathlib import Path

import torch
import torchvision

from vaelib.core import settings
from vaelib.core.data import SPLIT_SEED, VAL_SIZE


def torchvision_loader(root=None, batch_size: int = 128, train: bool = True, generator=None, split: bool = True):
    """`DataLoader(MNIST(transform=ToTensor()))`: batches of (images (B, 1, 28, 28) float32 in [0, 1], labels).

    train=True: shuffled (with `generator`), over the 55,000 images of vaelib's training split when `split` is true
    (the 5,000 validation images held out, chosen by the permutation vaelib.core.data.load_mnist uses), over all
    60,000 training images when it is false (what the package's loader did before 0.3). train=False: the 10,000
    test images in their file order. `root` defaults to VAELIB_DATA_DIR (vaelib.core.settings.data_dir()).
    """
    root = Path(root or settings.data_dir())
    dataset = torchvision.datasets.MNIST(root, train=train, transform=torchvision.transforms.ToTensor())
    if train and split:
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(SPLIT_SEED))
        dataset = torch.utils.data.Subset(dataset, order[VAL_SIZE:].tolist())
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=train, generator=generator)
