"""Pictures and arrays: .npy and PNG round trips, the loss curves (with the objective when beta != 1), the
reconstructions and the layer table, all computed in eval mode without changing the model's mode."""

import io

import numpy as np
import pytest
import torch
from matplotlib.patches import Ellipse, Rectangle
from PIL import Image

from vaelib import plots
from vaelib.model import VAE


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
    images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0)).double()
    path = tmp_path / "digits.npy"
    plots.save_array(images, path)
    loaded = np.load(path)
    assert loaded.shape == (5, 28, 28) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, images[:, 0].float().numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["digits.npy"]


def test_png_bytes_round_trip():
    """One digit -> a 28 x 28 grey PNG whose pixels are round(255 x); a batch -> a grid with 2-pixel padding."""
    image = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(1))
    decoded = np.array(Image.open(io.BytesIO(plots.png_bytes(image))))
    assert decoded.shape == (28, 28)
    np.testing.assert_array_equal(decoded, (image[0] * 255).round().byte().numpy())
    grid = Image.open(io.BytesIO(plots.png_bytes(torch.rand(6, 1, 28, 28), nrow=3)))
    assert grid.size == (2 + 3 * 30, 2 + 2 * 30)


def test_loss_figure_for_beta_1_has_no_objective_line():
    """beta = 1: objective and -ELBO are the same number, drawn once: train and validation in each panel."""
    data = rows(beta=1.0)
    fig = plots.loss_figure(data)
    first, recon, kl = fig.axes
    assert [line.get_label() for line in first.get_lines()] == ["train", "validation"]
    np.testing.assert_array_equal(first.get_lines()[1].get_ydata(), [row["val_neg_elbo"] for row in data])
    np.testing.assert_array_equal(recon.get_lines()[0].get_ydata(), [row["train_recon"] for row in data])
    np.testing.assert_array_equal(kl.get_lines()[1].get_ydata(), [row["val_kl"] for row in data])


def test_loss_figure_shows_the_objective_for_beta():
    """beta != 1: the first panel adds the trained objective (recon + β·KL), dashed, for train and validation."""
    data = rows(beta=0.5)
    first = plots.loss_figure(data).axes[0]
    lines = {line.get_label(): line for line in first.get_lines()}
    assert set(lines) == {"train", "validation", "train objective (recon + β·KL)", "val objective (recon + β·KL)"}
    np.testing.assert_array_equal(lines["validation"].get_ydata(), [row["val_neg_elbo"] for row in data])
    objective = lines["val objective (recon + β·KL)"]
    np.testing.assert_array_equal(objective.get_ydata(), [row["val_objective"] for row in data])
    assert objective.get_linestyle() == "--"
    assert all(o < n for o, n in zip(objective.get_ydata(), lines["validation"].get_ydata(), strict=True))


def test_save_figure_writes_a_png(tmp_path):
    plots.save_figure(plots.loss_figure(rows(beta=1.0)), tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(tmp_path / "loss.png").size == (1100, 320)


@pytest.fixture
def model() -> VAE:
    torch.manual_seed(0)
    return VAE().train()


def test_reconstructions_keep_the_training_mode(model):
    """Originals above their reconstructions, decoded from the posterior mean in eval mode; still training after."""
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    stacked = plots.reconstructions(model, images)
    assert model.training and stacked.shape == (8, 1, 28, 28) and not stacked.requires_grad
    assert torch.equal(stacked[:4], images)
    model.eval()
    with torch.no_grad():
        expected = model.decode(model.encode(images)[0])
    torch.testing.assert_close(stacked[4:], expected)


def test_layer_table_counts_every_parameter(model):
    """One row per layer of a real forward pass: the parameters add up to the model's, the shapes are the documented
    ones, z sits right after fc_log_var; the model stays in training mode."""
    table = plots.layer_table(model, batch_size=3)
    assert model.training
    assert sum(row["params"] for row in table) == sum(p.numel() for p in model.parameters())
    by_name = {row["layer"]: row for row in table}
    assert by_name["x"]["output"] == (3, 1, 28, 28) and by_name["encoder.7"]["output"] == (3, 3136)
    assert by_name["fc_mu"]["output"] == by_name["z"]["output"] == (3, 2)
    assert by_name["decoder.6"]["output"] == (3, 1, 28, 28)
    names = [row["layer"] for row in table]
    assert names.index("z") == names.index("fc_log_var") + 1
    assert plots.format_layer_table(table).splitlines()[-1].split()[-1] == f"{sum(r['params'] for r in table):,}"


def test_notebook_06_figures():
    """The figures of notebook 06 draw one panel per model, with the numbers they are given."""
    g = torch.Generator().manual_seed(0)
    codes = {"a": torch.randn(50, 2, generator=g), "b": 5 * torch.randn(50, 2, generator=g)}
    labels = torch.arange(50) % 10
    maps = plots.latent_maps_figure(codes, labels)
    titles = [ax.get_title() for ax in maps.axes]
    assert len(maps.axes) == 2 and titles[0].startswith("a") and f"±{codes['b'].abs().max() * 1.05:.3g}" in titles[1]
    rows = plots.image_rows_figure({"x": torch.rand(3, 1, 28, 28), "y": torch.rand(2, 1, 28, 28)})
    assert [t.get_text() for t in rows.axes[0].get_yticklabels()] == ["x", "y"]
    rd = plots.rate_distortion_figure({"β = 1": (5.0, 155.0), "β = 8": (2.0, 168.0)})
    assert [t.get_text() for t in rd.axes[0].texts] == ["β = 1", "β = 8"]
    kl = plots.kl_per_dimension_figure({"m": torch.tensor([0.0, 2.0, 1.0])})
    heights = [bar.get_height() for bar in kl.axes[0].patches]
    assert heights == [2.0, 1.0, 0.0] and "KL 3.0 nats" in kl.axes[0].get_title()


def test_posterior_ellipses_figure():
    """One ellipse per posterior on each panel, n_sigma * std on each side of mu; the zoom panel shows the window,
    outlined on the full map."""
    g = torch.Generator().manual_seed(0)
    points, labels = torch.randn(40, 2, generator=g), torch.arange(40) % 10
    mus, stds = torch.tensor([[0.0, 1.0], [1.0, -1.0]]), torch.tensor([[0.1, 0.2], [0.3, 0.05]])
    fig = plots.posterior_ellipses_figure(points, labels, mus, stds, n_sigma=2, window=(1.0, -1.0, 0.5))
    full, zoom = fig.axes
    for ax in (full, zoom):
        ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
        assert [tuple(e.center) for e in ellipses] == [(0.0, 1.0), (1.0, -1.0)]
        widths = torch.tensor([[e.width, e.height] for e in ellipses], dtype=torch.float32)
        torch.testing.assert_close(widths, 4 * stds)
    assert zoom.get_xlim() == (0.5, 1.5) and zoom.get_ylim() == (-1.5, -0.5)
    assert [p.get_xy() for p in full.patches if isinstance(p, Rectangle)] == [(0.5, -1.5)]
    assert len(plots.posterior_ellipses_figure(points, labels, mus, stds).axes) == 1


def test_density_maps_share_one_colour_scale_and_the_grid_layout():
    """Each density is drawn where latent.plane_grid put its values (bottom row first), all on one colour scale."""
    from vaelib import latent

    grid = latent.plane_grid(limit=3.0, steps=11)
    fig = plots.density_maps_figure({"z1": grid[:, 0] + 3, "flat": torch.ones(121)}, limit=3.0, points=grid[:2])
    first, second = fig.axes[:2]
    picture = first.images[0].get_array()
    assert picture[0, -1] == 6.0 and picture[-1, 0] == 0.0  # bottom right: z1 = 3; top left: z1 = -3
    assert first.images[0].get_extent() == [-3.0, 3.0, -3.0, 3.0] and first.images[0].origin == "lower"
    assert first.images[0].get_clim() == second.images[0].get_clim() == (0.0, 6.0)
    assert [ax.get_title() for ax in (first, second)] == ["z1", "flat"]


def test_paths_on_the_latent_map_avoid_the_digit_colours():
    """Interpolation paths are drawn in black, told apart by line style and marker, never in a digit's colour."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    g = torch.Generator().manual_seed(0)
    path = torch.randn(5, 2, generator=g)
    fig = plots.latent_scatter_figure(
        torch.randn(30, 2, generator=g), torch.arange(30) % 10, paths={"a": path, "b": path}
    )
    lines = fig.axes[0].get_lines()
    digit_colours = {to_rgba(colormaps["tab10"](d)) for d in range(10)}
    assert len(lines) == 2 and all(to_rgba(line.get_color()) not in digit_colours for line in lines)
    assert lines[0].get_linestyle() != lines[1].get_linestyle() and lines[0].get_marker() != lines[1].get_marker()


def test_bounds_figure_draws_the_bounds_and_both_reference_lines():
    fig = plots.bounds_figure({1: 132.4, 10: 130.0, 1000: 128.5}, neg_elbo=132.0, exact=128.4)
    ax = fig.axes[0]
    curve, elbo, exact = ax.lines
    assert list(curve.get_xdata()) == [1, 10, 1000] and list(curve.get_ydata()) == [132.4, 130.0, 128.5]
    assert elbo.get_ydata()[0] == 132.0 and exact.get_ydata()[0] == 128.4 and ax.get_xscale() == "log"
    assert len(plots.bounds_figure({1: 1.0}, neg_elbo=1.0).axes[0].lines) == 2  # no exact line when unknown


def test_true_posterior_figure_normalises_the_map_and_draws_q():
    codes = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 11), torch.linspace(-1, 1, 11), indexing="xy"), -1)
    codes = codes.reshape(-1, 2) + torch.tensor([2.0, 3.0])  # a window away from the origin
    log_p = -((codes - torch.tensor([2.2, 3.1])) ** 2).sum(1) / 0.02  # a narrow bump at (2.2, 3.1)
    fig = plots.true_posterior_figure({"a": (codes, log_p, torch.tensor([2.0, 3.0]), torch.tensor([0.1, 0.2]))})
    ax = fig.axes[0]
    picture = ax.images[0].get_array()
    assert abs(picture.sum() - 1) < 1e-6 and ax.images[0].get_extent() == [1.0, 3.0, 2.0, 4.0]
    sizes = [(e.width, e.height) for e in ax.patches if isinstance(e, Ellipse)]
    assert np.allclose(sizes, [(0.2, 0.4), (0.4, 0.8)])
    posterior_mean, q_mean = (line.get_xydata()[0] for line in ax.lines)
    assert np.allclose(posterior_mean, [2.2, 3.1], atol=0.01) and np.allclose(q_mean, [2.0, 3.0])
