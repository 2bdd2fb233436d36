"""The notebooks' figures: what each draws, on which scale, and that drawing leaves a model's mode alone."""

import numpy as np
import pytest
import torch
from matplotlib.patches import Ellipse, Rectangle

from vaelib.core.model import VAE
from vaelib.notebook import figures


@pytest.fixture
def model() -> VAE:
    torch.manual_seed(0)
    return VAE().train()


def test_notebook_06_figures():
    """The figures of notebook 06 draw one panel per model, with the numbers they are given."""
    g = torch.Generator().manual_seed(0)
    codes = {"a": torch.randn(50, 2, generator=g), "b": 5 * torch.randn(50, 2, generator=g)}
    labels = torch.arange(50) % 10
    maps = figures.latent_maps_figure(codes, labels)
    panels = maps.axes[:2]
    reach = codes["b"].abs().max().item() * 1.05  # one scale for all panels, set by the widest
    assert [ax.get_title() for ax in panels] == ["a", "b"]
    assert all(ax.get_xlim() == pytest.approx((-reach, reach)) == ax.get_ylim() for ax in panels)
    assert all(len(ax.get_xticks()) > 2 for ax in panels) and panels[0].get_xlabel() == "$z_1$"
    rows = figures.image_rows_figure({"x": torch.rand(3, 1, 28, 28), "y": torch.rand(2, 1, 28, 28)})
    assert [t.get_text() for t in rows.axes[0].get_yticklabels()] == ["x", "y"]
    rd = figures.rate_distortion_figure({"β = 1": (5.0, 155.0), "β = 8": (2.0, 168.0)})
    assert [t.get_text() for t in rd.axes[0].texts] == ["β = 1", "β = 8"]
    kl = figures.kl_per_dimension_figure({"m": torch.tensor([0.0, 2.0, 1.0])})
    heights = [bar.get_height() for bar in kl.axes[0].patches]
    assert heights == [2.0, 1.0, 0.0] and "KL 3.0 nats" in kl.axes[0].get_title()


def test_posterior_ellipses_figure():
    """One ellipse per posterior on each panel, n_sigma * std on each side of mu; the zoom panel shows the window,
    outlined on the full map."""
    g = torch.Generator().manual_seed(0)
    points, labels = torch.randn(40, 2, generator=g), torch.arange(40) % 10
    mus, sigmas = torch.tensor([[0.0, 1.0], [1.0, -1.0]]), torch.tensor([[0.1, 0.2], [0.3, 0.05]])
    fig = figures.posterior_ellipses_figure(points, labels, mus, sigmas, [3, 8], n_sigma=2, window=(1.0, -1.0, 0.5))
    full, zoom = fig.axes
    assert [t.get_text() for t in full.texts] == ["3", "8"]  # each ellipse names its digit
    for ax in (full, zoom):
        ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
        assert [tuple(e.center) for e in ellipses] == [(0.0, 1.0), (1.0, -1.0)]
        widths = torch.tensor([[e.width, e.height] for e in ellipses], dtype=torch.float32)
        torch.testing.assert_close(widths, 4 * sigmas)
    assert zoom.get_xlim() == (0.5, 1.5) and zoom.get_ylim() == (-1.5, -0.5)
    assert [p.get_xy() for p in full.patches if isinstance(p, Rectangle)] == [(0.5, -1.5)]
    assert len(figures.posterior_ellipses_figure(points, labels, mus, sigmas, [3, 8]).axes) == 1


def test_density_maps_share_one_colour_scale_and_the_grid_layout():
    """Each density is drawn where latent.grid_codes put its values (bottom row first), all on one logarithmic colour
    scale reaching four decades below the highest value, so that a flat density shows beside a peaked one."""
    from vaelib.core import latent

    grid = latent.grid_codes(limit=3.0, steps=11)
    fig = figures.density_maps_figure({"z1": grid[:, 0] + 3, "flat": torch.ones(121)}, limit=3.0, points=grid[:2])
    first, second = fig.axes[:2]
    picture = first.images[0].get_array()
    assert picture[0, -1] == 6.0 and picture[-1, 0] == 0.0  # bottom right: z1 = 3; top left: z1 = -3
    assert first.images[0].get_extent() == [-3.0, 3.0, -3.0, 3.0] and first.images[0].origin == "lower"
    assert first.images[0].norm is second.images[0].norm and first.images[0].get_clim() == pytest.approx((6e-4, 6.0))
    assert type(first.images[0].norm).__name__ == "LogNorm"
    assert [ax.get_title() for ax in (first, second)] == ["z1", "flat"]


def test_paths_on_the_latent_map_avoid_the_digit_colours():
    """Interpolation paths are drawn in black, told apart by line style and marker, never in a digit's colour."""
    from matplotlib.colors import to_rgba

    g = torch.Generator().manual_seed(0)
    path = torch.randn(5, 2, generator=g)
    fig = figures.latent_scatter_figure(
        torch.randn(30, 2, generator=g), torch.arange(30) % 10, paths={"a": path, "b": path}
    )
    lines = fig.axes[0].get_lines()
    digit_colours = {to_rgba(colour) for colour in figures.DIGIT_COLOURS}
    assert len(lines) == 2 and all(to_rgba(line.get_color()) not in digit_colours for line in lines)
    assert lines[0].get_linestyle() != lines[1].get_linestyle() and lines[0].get_marker() != lines[1].get_marker()


def test_bounds_figure_draws_the_bounds_and_both_reference_lines():
    fig = figures.bounds_figure({1: 132.4, 10: 130.0, 1000: 128.5}, neg_elbo=132.0, exact=128.4)
    ax = fig.axes[0]
    curve, elbo, exact = ax.lines
    assert list(curve.get_xdata()) == [1, 10, 1000] and list(curve.get_ydata()) == [132.4, 130.0, 128.5]
    assert elbo.get_ydata()[0] == 132.0 and exact.get_ydata()[0] == 128.4 and ax.get_xscale() == "log"
    assert len(figures.bounds_figure({1: 1.0}, neg_elbo=1.0).axes[0].lines) == 2  # no exact line when unknown


def test_true_posterior_figure_normalises_the_map_and_draws_q():
    codes = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 11), torch.linspace(-1, 1, 11), indexing="xy"), -1)
    codes = codes.reshape(-1, 2) + torch.tensor([2.0, 3.0])  # a window away from the origin
    log_p = -((codes - torch.tensor([2.2, 3.1])) ** 2).sum(1) / 0.02  # a narrow bump at (2.2, 3.1)
    fig = figures.true_posterior_figure({"a": (codes, log_p, torch.tensor([2.0, 3.0]), torch.tensor([0.1, 0.2]))})
    ax = fig.axes[0]
    picture = ax.images[0].get_array()
    assert [t.get_text() for t in ax.texts] == ["1σ", "2σ"] and len(fig.legends[0].get_texts()) == 4
    assert abs(picture.sum() - 1) < 1e-6 and ax.images[0].get_extent() == [1.0, 3.0, 2.0, 4.0]
    sizes = [(e.width, e.height) for e in ax.patches if isinstance(e, Ellipse)]
    assert np.allclose(sizes, [(0.2, 0.4), (0.4, 0.8)])
    posterior_mean, q_mean = (line.get_xydata()[0] for line in ax.lines)
    assert np.allclose(posterior_mean, [2.2, 3.1], atol=0.01) and np.allclose(q_mean, [2.0, 3.0])


def test_digit_colours_are_ten_distinct_colours_and_the_overlapping_classes_differ_most():
    from matplotlib.colors import to_rgb

    rgb = torch.tensor([to_rgb(colour) for colour in figures.DIGIT_COLOURS])
    assert len(set(figures.DIGIT_COLOURS)) == 10
    lightness = rgb @ torch.tensor([0.299, 0.587, 0.114])  # 3, 5 and 8 sit together in the 2-D plane: far apart
    assert min(abs(lightness[a] - lightness[b]) for a, b in ((3, 5), (3, 8), (5, 8))) > 0.15


def test_captioned_mosaic_puts_a_caption_under_each_image():
    fig = figures.captioned_mosaic_figure(torch.rand(3, 1, 28, 28), ["a", "b", "c"], nrow=2)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", ""] and len(fig.axes) == 4


def test_manifold_figure_marks_every_column_and_row():
    from vaelib.core import latent

    codes = latent.manifold_codes(n=6)
    fig = figures.manifold_figure(torch.rand(36, 1, 28, 28), codes, title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{v:.1f}" for v in codes[:6, 0].tolist()]
    assert len(ax.get_yticklabels()) == 6 and ax.get_title() == "t"
