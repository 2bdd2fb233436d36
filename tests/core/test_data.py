"""MNIST loading: the fixed split, the fast batch path, and the error when the files are missing."""

import math

import pytest
import torch
import torchvision

from vaelib.core import data
from vaelib.core.errors import VAEError


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
    split = data.Digits(torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10))
    seen = torch.cat(
        [b.labels for b in data.batches(split, 3, shuffle=True, generator=torch.Generator().manual_seed(0))]
    )
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert [len(b) for b in data.batches(split, 4)] == [4, 4, 2] and data.num_batches(split, 4) == 3


def test_shuffling_is_reproducible():
    split = data.Digits(torch.zeros(50, 1, 1, 1), torch.arange(50))

    def order(seed):
        return torch.cat(
            [b.labels for b in data.batches(split, 7, shuffle=True, generator=torch.Generator().manual_seed(seed))]
        )

    assert torch.equal(order(1), order(1)) and not torch.equal(order(1), order(2))


def test_the_files_read_as_torchvision_reads_them(mnist_root, mnist):
    """read_idx against torchvision's own MNIST reader, and the images against its ToTensor: the same numbers."""
    import torchvision

    reference = torchvision.datasets.MNIST(mnist_root, train=False, transform=torchvision.transforms.ToTensor())
    for name, expected in (("t10k-images-idx3-ubyte", reference.data), ("t10k-labels-idx1-ubyte", reference.targets)):
        assert torch.equal(data.read_idx(data.raw_dir(mnist_root) / name).long(), expected.long())
    for i in (0, 1, 9999):
        image, label = reference[i]
        torch.testing.assert_close(image, mnist.test.images[i], rtol=0, atol=0)
        assert label == mnist.test.labels[i]


def test_a_file_that_is_not_idx_is_a_clear_error(tmp_path):
    raw = data.raw_dir(tmp_path)
    raw.mkdir(parents=True)
    for name in data.RAW_FILES:
        (raw / name).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")  # announces 5 bytes, holds 3
    with pytest.raises(VAEError, match="holds 11 bytes") as err:
        data.load_mnist(tmp_path, download=False)
    assert "\n" not in str(err.value) and "re-download" in str(err.value)


def test_missing_files_error_names_folder_and_files(tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(VAEError) as err:
        data.load_mnist(tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "\n" not in message
    assert all(name in message for name in data.RAW_FILES[1:]) and "--data-dir" in message


# ----- binary digits and random subsets


def test_data_constants():
    assert data.DATA_KINDS == ("grey", "binary")
    assert data.BINARIZE_SEED == 0 and data.SUBSET_SEED == 0


def test_binarize_draws_zeros_and_ones():
    """Every pixel becomes exactly 0 or 1 with its grey value as the probability: black stays 0, white stays 1, and
    the mean of many draws of an image approaches the image itself (tolerance: 5 standard errors)."""
    g = torch.Generator().manual_seed(0)
    grey = torch.rand(1, 1, 28, 28, generator=g)
    grey[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.5])
    draws = data.binarize(grey.expand(4000, 1, 28, 28), torch.Generator().manual_seed(1))
    assert draws.shape == (4000, 1, 28, 28) and draws.dtype == grey.dtype
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    assert (draws[:, 0, 0, 0] == 0).all() and (draws[:, 0, 0, 1] == 1).all()
    stderr = (grey * (1 - grey) / 4000).sqrt()
    assert ((draws.mean(0) - grey[0]).abs() <= 5 * stderr[0] + 1e-6).all()


def test_binarize_constant_image_frequency():
    """A constant 0.3 image: each pixel is 1 in about 30% of 2,000 draws, and so is the whole batch's share."""
    draws = data.binarize(torch.full((2000, 1, 28, 28), 0.3), torch.Generator().manual_seed(2))
    per_pixel = draws.mean(0)
    sd = math.sqrt(0.3 * 0.7 / 2000)  # ~0.0102
    assert (per_pixel - 0.3).abs().max() < 5 * sd
    assert draws.mean().item() == pytest.approx(0.3, abs=5 * sd / 28)


def test_binarize_generator_reproducible():
    grey = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    a = data.binarize(grey, torch.Generator().manual_seed(4))
    assert torch.equal(a, data.binarize(grey, torch.Generator().manual_seed(4)))
    assert not torch.equal(a, data.binarize(grey, torch.Generator().manual_seed(5)))


def test_binarized_split_is_fixed(mnist):
    """One fixed binarisation: the same 0/1 images on every call (and with the documented default seed), another
    seed gives other draws; the labels are those of the split, and the grey images are left alone."""
    split = mnist.val.head(200)
    before = split.images.clone()
    first, again = data.binarized(split), data.binarized(split)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, split.labels)
    assert torch.equal(first.images, data.binarized(split, seed=data.BINARIZE_SEED).images)
    assert set(first.images.unique().tolist()) == {0.0, 1.0} and first.images.shape == split.images.shape
    other = data.binarized(split, seed=1)
    assert not torch.equal(other.images, first.images) and torch.equal(other.labels, split.labels)
    assert torch.equal(split.images, before)
    # black pixels stay black, white pixels stay white
    assert (first.images[split.images == 0] == 0).all() and (first.images[split.images == 1] == 1).all()


def test_as_data_kind(mnist):
    split = mnist.val.head(50)
    assert data.as_data_kind(split, "grey") is split
    binary = data.as_data_kind(split, "binary")
    assert torch.equal(binary.images, data.binarized(split).images) and torch.equal(binary.labels, split.labels)
    with pytest.raises(VAEError) as err:
        data.as_data_kind(split, "colour")
    message = str(err.value)
    assert "\n" not in message and "'colour'" in message and "grey" in message and "binary" in message


def test_subset_picks_distinct_examples():
    """n distinct examples of the split, in increasing index order, images and labels still paired; the same for
    the same seed (the default SUBSET_SEED included), other ones for another seed."""
    n = 1000
    split = data.Digits(torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1), torch.arange(n) + 5000)
    sub = split.subset(100)
    index = sub.images.flatten().long()
    assert len(sub) == 100 and len(set(index.tolist())) == 100
    assert torch.equal(index, index.sort().values) and torch.equal(sub.labels, index + 5000)
    assert torch.equal(split.subset(100, seed=data.SUBSET_SEED).images, sub.images)
    assert torch.equal(split.subset(100).labels, sub.labels)
    assert not torch.equal(split.subset(100, seed=1).labels, sub.labels)
    assert index.max() > 500 and index.min() < 500  # spread over the split, not its first 100
    assert not torch.equal(index, torch.arange(100))
    assert torch.equal(split.subset(n).labels, split.labels)  # all of it: the split in its own order


def test_subset_of_the_test_set(mnist):
    """On real test digits each picked image is a test image with its own label, the 300 are 300 different test
    images in test-set order, and they mix both halves of the ordered test set (found by a pixel fingerprint)."""
    sub = mnist.test.subset(300)
    weights = torch.rand(784, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fingerprint = {round(v, 6): i for i, v in enumerate((mnist.test.images.flatten(1).double() @ weights).tolist())}
    found = [fingerprint[round(v, 6)] for v in (sub.images.flatten(1).double() @ weights).tolist()]
    assert len(set(found)) == 300 and found == sorted(found)
    assert torch.equal(sub.labels, mnist.test.labels[found]) and torch.equal(sub.images, mnist.test.images[found])
    assert min(found) < 5000 <= max(found)
