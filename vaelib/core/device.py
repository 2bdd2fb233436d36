"""Pick the compute device: CUDA, then Apple Metal (MPS), then CPU, unless the user names one."""

import ctypes
import sys

import torch

from .errors import VAEError


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def pick_device(requested: str | None = None) -> torch.device:
    """The device to train on: `requested` if given and usable, else the best one available."""
    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise VAEError(f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise VAEError("--device cuda was asked for but no CUDA GPU is available: use --device auto or cpu")
    if device.type == "mps" and not _mps_available():
        raise VAEError("--device mps was asked for but Apple Metal is not available: use --device auto or cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise VAEError(f"unsupported device {requested!r}: use auto, cpu, cuda, cuda:N or mps")
    return device


def describe(device: torch.device) -> str:
    """A human-readable name, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'' if threads == 1 else 's'})"
    return device.type


def keep_freed_memory(limit_bytes: int = 32 * 1024 * 1024) -> None:
    """Ask glibc to keep freed blocks up to 32 MB for reuse instead of returning them to the OS.

    Without it every CPU training step gives its activation buffers back and faults them in again
    (thousands of page faults a step, about a quarter of the step time on a small CPU). Linux only; harmless elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...): nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, limit_bytes)
    libc.mallopt(m_trim_threshold, 2 * limit_bytes)
