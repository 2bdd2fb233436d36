"""Device choice: CUDA, then Apple MPS, then CPU, with the availability checks mocked."""

import pytest
import torch

from vaelib.core import device as dev
from vaelib.core.errors import VAEError


@pytest.fixture
def available(monkeypatch):
    def set_available(cuda=False, mps=False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(dev, "_mps_available", lambda: mps)

    return set_available


@pytest.mark.parametrize(
    "cuda, mps, expected", [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_auto_prefers_cuda_then_mps_then_cpu(available, cuda, mps, expected):
    available(cuda=cuda, mps=mps)
    assert dev.pick_device().type == expected
    assert dev.pick_device("auto").type == expected


def test_explicit_cpu_is_always_allowed(available):
    available(cuda=True, mps=True)
    assert dev.pick_device("cpu") == torch.device("cpu")


def test_explicit_cuda_index(available):
    available(cuda=True)
    assert dev.pick_device("cuda:1") == torch.device("cuda:1")


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_unavailable_device_is_a_clear_error(available, name):
    available(cuda=False, mps=False)
    with pytest.raises(VAEError, match=f"--device {name} was asked for"):
        dev.pick_device(name)


@pytest.mark.parametrize("name", ["gpu", "tpu", "meta"])
def test_unknown_device_is_a_clear_error(available, name):
    with pytest.raises(VAEError, match="device"):
        dev.pick_device(name)
