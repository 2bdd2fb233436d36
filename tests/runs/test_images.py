"""The pictures a run or a command writes: .npy and PNG round trips, and the loss curves."""

import io

import numpy as np
import torch
from PIL import Image

from vaelib.runs import images


def rows(beta: float, epochs: int = 3) -> list[dict]:
    """Metric rows as the trainer writes them: objective = recon + beta·KL, neg_elbo = recon + KL."""
    out = []
    for e in range(1, epochs + 1):
        row = {"epoch": e, "lr": 1e-3, "seconds": 1.0}
        for split, recon, kl in (("train", 200.0 - 10 * e, 5.0 + e), ("val", 190.0 - 10 * e, 4.0 + e)):
            row.update({f"{split}_recon": recon, f"{split}_kl": kl})
            row.update({f"{split}_objective": recon + beta * kl, f"{split}_neg_elbo": recon + kl})
        out.append(row)
    return out


def test_save_array_round_trip(tmp_path):
    """(N, 1, 28, 28) images -> a float32 .npy array (N, 28, 28) with the same values; no temporary file left."""
    digits = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0)).double()
    path = tmp_path / "digits.npy"
    images.save_array(digits, path)
    loaded = np.load(path)
    assert loaded.shape == (5, 28, 28) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, digits[:, 0].float().numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["digits.npy"]


def test_png_bytes_round_trip():
    """One digit -> a 28 x 28 grey PNG whose pixels are round(255 x); a batch -> a grid with 2-pixel padding."""
    image = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(1))
    decoded = np.array(Image.open(io.BytesIO(images.png_bytes(image))))
    assert decoded.shape == (28, 28)
    np.testing.assert_array_equal(decoded, (image[0] * 255).round().byte().numpy())
    grid = Image.open(io.BytesIO(images.png_bytes(torch.rand(6, 1, 28, 28), nrow=3)))
    assert grid.size == (2 + 3 * 30, 2 + 2 * 30)


def test_loss_figure_for_beta_1_has_no_objective_line():
    """beta = 1: objective and -ELBO are the same number, drawn once: train and validation in each panel."""
    data = rows(beta=1.0)
    fig = images.loss_figure(data)
    first, recon, kl = fig.axes
    assert [line.get_label() for line in first.get_lines()] == ["train", "validation"]
    np.testing.assert_array_equal(first.get_lines()[1].get_ydata(), [row["val_neg_elbo"] for row in data])
    np.testing.assert_array_equal(recon.get_lines()[0].get_ydata(), [row["train_recon"] for row in data])
    np.testing.assert_array_equal(kl.get_lines()[1].get_ydata(), [row["val_kl"] for row in data])


def test_loss_figure_shows_the_objective_for_beta():
    """beta != 1: the first panel adds the trained objective (recon + β·KL), dashed, for train and validation."""
    data = rows(beta=0.5)
    first = images.loss_figure(data).axes[0]
    lines = {line.get_label(): line for line in first.get_lines()}
    assert set(lines) == {"train", "validation", "train objective (recon + β·KL)", "val objective (recon + β·KL)"}
    np.testing.assert_array_equal(lines["validation"].get_ydata(), [row["val_neg_elbo"] for row in data])
    objective = lines["val objective (recon + β·KL)"]
    np.testing.assert_array_equal(objective.get_ydata(), [row["val_objective"] for row in data])
    assert objective.get_linestyle() == "--"
    assert all(o < n for o, n in zip(objective.get_ydata(), lines["validation"].get_ydata(), strict=True))


def test_save_figure_writes_a_png(tmp_path):
    images.save_figure(images.loss_figure(rows(beta=1.0)), tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(tmp_path / "loss.png").size == (1100, 320)
