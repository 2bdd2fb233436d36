"""Pictures: loss curves, image grids and reconstructions, as matplotlib Figures or PNG files.

Figures are built with matplotlib.figure.Figure (not pyplot), so nothing here needs a display or
touches global plotting state; in a notebook a returned Figure shows itself.
"""

import io

import torch
from matplotlib.figure import Figure
from PIL import Image
from torchvision.utils import make_grid

from .atomic import atomic_write

PARTS = (("loss", "total  −ELBO"), ("recon", "reconstruction"), ("kl", "KL"))


def loss_figure(rows: list[dict]) -> Figure:
    """Train and validation curves of total, reconstruction and KL (nats per image) against epoch."""
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    epochs = [row["epoch"] for row in rows]
    for ax, (key, title) in zip(fig.subplots(1, 3), PARTS):
        ax.plot(epochs, [row[f"train_{key}"] for row in rows], marker=".", label="train")
        ax.plot(epochs, [row[f"val_{key}"] for row in rows], marker=".", label="validation")
        ax.set(title=title, xlabel="epoch", ylabel="nats per image")
        ax.grid(alpha=0.3)
    ax.legend()
    return fig


def save_figure(fig: Figure, path) -> None:
    """Write a figure as PNG atomically (the loss plot is rewritten every epoch)."""
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=100)


def grid(images: torch.Tensor, nrow: int = 10, padding: int = 2) -> torch.Tensor:
    """(N, 1, 28, 28) images -> one (3, H, W) grid image in [0, 1]."""
    return make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)


def grid_figure(images: torch.Tensor, nrow: int = 10, title: str | None = None, scale: float = 0.6) -> Figure:
    """A figure showing images in a grid of nrow columns."""
    picture = grid(images, nrow)
    rows = -(-len(images) // nrow)
    fig = Figure(figsize=(scale * min(nrow, len(images)), scale * rows + (0.4 if title else 0)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def png_bytes(images: torch.Tensor, nrow: int = 10) -> bytes:
    """Encode images (one (1, 28, 28) image or a batch) as a PNG file in memory."""
    batch = images if images.dim() == 4 else images.unsqueeze(0)
    array = grid(batch, nrow, padding=0 if len(batch) == 1 else 2)[0].mul(255).round().byte().numpy()
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def save_png(images: torch.Tensor, path, nrow: int = 10) -> None:
    """Write an image grid as a PNG file (atomically)."""
    data = png_bytes(images, nrow)
    with atomic_write(path) as fh:
        fh.write(data)


@torch.no_grad()
def reconstructions(model, images: torch.Tensor) -> torch.Tensor:
    """Originals stacked above their reconstructions (decoded from the posterior mean): (2N, 1, 28, 28)."""
    was_training = model.training
    model.eval()
    mu, _ = model.encode(images)
    recon = model.decode(mu)
    model.train(was_training)
    return torch.cat([images, recon.float()])
