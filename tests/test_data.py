"""MNIST loading: the fixed split, the fast batch path, and the error when the files are missing."""

import pytest
import torch
import torchvision

from vaelib import data
from vaelib.errors import VAEError


def test_split_sizes_and_ranges(mnist):
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (55_000, 5_000, 10_000)
    for split in mnist:
        assert split.images.shape[1:] == (1, 28, 28) and split.images.dtype == torch.float32
        assert 0.0 <= split.images.min() and split.images.max() == 1.0
        assert set(split.labels.unique().tolist()) == set(range(10))


def test_split_is_fixed_and_disjoint(mnist_root, mnist):
    again = data.load_mnist(mnist_root, download=False)
    torch.testing.assert_close(again.val.images, mnist.val.images, rtol=0, atol=0)
    # train and validation together are the 60,000 training images, each once (compared as sorted pixel sums)
    ours = torch.cat([mnist.train.images, mnist.val.images]).flatten(1).sum(1)
    original = torchvision.datasets.MNIST(mnist_root, train=True).data.flatten(1).float().sum(1) / 255
    torch.testing.assert_close(ours.sort().values, original.sort().values)


def test_batches_cover_every_image_once():
    split = data.Split(torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10))
    seen = torch.cat(
        [b.labels for b in data.batches(split, 3, shuffle=True, generator=torch.Generator().manual_seed(0))]
    )
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert [len(b) for b in data.batches(split, 4)] == [4, 4, 2] and data.num_batches(split, 4) == 3


def test_shuffling_is_reproducible():
    split = data.Split(torch.zeros(50, 1, 1, 1), torch.arange(50))

    def order(seed):
        return torch.cat(
            [b.labels for b in data.batches(split, 7, shuffle=True, generator=torch.Generator().manual_seed(seed))]
        )

    assert torch.equal(order(1), order(1)) and not torch.equal(order(1), order(2))


def test_fast_path_matches_torchvision_to_tensor(mnist_root, mnist):
    loader = data.torchvision_loader(mnist_root, batch_size=16, train=False)
    images, labels = next(iter(loader))  # the test set is not shuffled
    torch.testing.assert_close(images, mnist.test.images[:16], rtol=0, atol=0)
    assert torch.equal(labels, mnist.test.labels[:16])


def test_missing_files_error_names_folder_and_files(tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(VAEError) as err:
        data.load_mnist(tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "\n" not in message
    assert all(name in message for name in data.RAW_FILES[1:]) and "--data-dir" in message
