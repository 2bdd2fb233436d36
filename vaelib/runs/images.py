"""The pictures a run or a command writes: image mosaics as PNG files (and .npy arrays), and the loss curves.

Figures are built with matplotlib.figure.Figure (not pyplot), so nothing here needs a display or touches global
plotting state; in a notebook a returned Figure shows itself.
"""

import io

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torchvision.utils import make_grid

from .atomic import atomic_write

PARTS = (("neg_elbo", "−ELBO = reconstruction + KL"), ("recon", "reconstruction"), ("kl", "KL"))


def mosaic(images: torch.Tensor, nrow: int = 10, padding: int = 2) -> torch.Tensor:
    """Images (N, 1, 28, 28) laid out in rows of nrow, white between them: one (3, H, W) picture in [0, 1]."""
    return make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)


def png_bytes(images: torch.Tensor, nrow: int = 10) -> bytes:
    """Encode images (one (1, 28, 28) image or a batch) as a PNG file in memory."""
    batch = images if images.dim() == 4 else images.unsqueeze(0)
    array = mosaic(batch, nrow, padding=0 if len(batch) == 1 else 2)[0].mul(255).round().byte().numpy()
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def save_png(images: torch.Tensor, path, nrow: int = 10) -> None:
    """Write a mosaic of images as a PNG file (atomically)."""
    data = png_bytes(images, nrow)
    with atomic_write(path) as fh:
        fh.write(data)


def save_array(images: torch.Tensor, path) -> None:
    """Write images (N, 1, 28, 28) as a .npy array (N, 28, 28), float32 in [0, 1], atomically."""
    with atomic_write(path) as fh:
        np.save(fh, images[:, 0].float().cpu().numpy())


def loss_figure(rows: list[dict]) -> Figure:
    """Train and validation curves of the −ELBO, reconstruction and KL (nats per image) against epoch.

    When the run trains another objective (beta != 1), the first panel also shows it, dashed, labelled as such.
    """
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    epochs = [row["epoch"] for row in rows]
    axes = fig.subplots(1, 3)
    for ax, (key, title) in zip(axes, PARTS, strict=True):
        ax.plot(epochs, [row[f"train_{key}"] for row in rows], marker=".", color="C0", label="train")
        ax.plot(epochs, [row[f"val_{key}"] for row in rows], marker=".", color="C1", label="validation")
        ax.set(title=title, xlabel="epoch", ylabel="nats per image")
        ax.grid(alpha=0.3)
    if any(row["val_objective"] != row["val_neg_elbo"] for row in rows):
        for split, color in (("train", "C0"), ("val", "C1")):
            axes[0].plot(
                epochs,
                [row[f"{split}_objective"] for row in rows],
                ls="--",
                color=color,
                label=f"{split} objective (recon + β·KL)",
            )
        axes[0].legend(fontsize="small")
    axes[-1].legend()
    return fig


def save_figure(fig: Figure, path) -> None:
    """Write a figure as PNG atomically (the loss plot is rewritten every epoch)."""
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=100)
