"""The figures of the notebooks: digits in mosaics and rows, latent maps, densities, bounds and posteriors.

Figures are built with matplotlib.figure.Figure (not pyplot), so nothing here touches global plotting state; in a
notebook a returned Figure shows itself.
"""

import io

import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Ellipse, Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image

from vaelib.core.latent import grid_moments
from vaelib.runs.images import mosaic

# Paths over a latent map are black, told apart by line and marker: no colour of the digits' palette.
PATH_STYLES = (
    {"color": "black", "ls": "-", "marker": "o", "markerfacecolor": "black"},
    {"color": "black", "ls": "--", "marker": "s", "markerfacecolor": "white"},
    {"color": "black", "ls": ":", "marker": "^", "markerfacecolor": "white"},
)


def mosaic_figure(images: torch.Tensor, nrow: int = 10, title: str | None = None, scale: float = 0.6) -> Figure:
    """A figure showing images in a mosaic of nrow columns."""
    picture = mosaic(images, nrow)
    rows = -(-len(images) // nrow)
    fig = Figure(figsize=(scale * min(nrow, len(images)), scale * rows + (0.4 if title else 0)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def digit_legend(ax, labels=range(10), **kwargs) -> None:
    """A legend with one coloured dot per digit class (tab10 colours, the ones latent_scatter uses)."""
    handles = [Line2D([], [], ls="", marker="o", color=colormaps["tab10"](d), label=str(d)) for d in labels]
    ax.legend(handles=handles, title="digit", **kwargs)


def latent_scatter_figure(
    points: torch.Tensor,
    labels: torch.Tensor,
    limit: float | None = None,
    size: float = 4.0,
    xlabel: str = "$z_1$",
    ylabel: str = "$z_2$",
    title: str | None = None,
    dpi: int = 100,
    paths: dict | None = None,
) -> Figure:
    """Codes (N, 2) as dots coloured by their digit class, on square axes of ±limit (default: fit the data).

    `paths` maps a name to codes (M, 2) drawn as a black line with markers (PATH_STYLES), e.g. an interpolation.
    """
    fig = Figure(figsize=(size + 0.9, size), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    points, labels = points.detach().cpu(), labels.detach().cpu()
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=3, alpha=0.6, linewidths=0)
    if limit is not None:
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
    ax.set(xlabel=xlabel, ylabel=ylabel, aspect="equal")
    if title:
        ax.set_title(title)
    digit_legend(ax, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", markerscale=0.8)
    for i, (name, codes) in enumerate((paths or {}).items()):
        codes = codes.detach().cpu()
        ax.plot(codes[:, 0], codes[:, 1], lw=1.5, markersize=5, label=name, **PATH_STYLES[i % len(PATH_STYLES)])
    if paths:
        fig.legend(loc="outside lower center", ncols=len(paths), fontsize="small")
    return fig


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes at its own dpi and size (no tight cropping, so axes stay where transData says)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def gif_bytes(images: torch.Tensor, scale: int = 4, duration_ms: int = 80, bounce: bool = True) -> bytes:
    """An animated GIF of images (N, 1, 28, 28), each frame enlarged `scale` times; bounce plays it back and forth."""
    frames = images.detach().float().cpu().clamp(0, 1)[:, 0].mul(255).round().byte().numpy()
    pictures = [Image.fromarray(f).resize((28 * scale, 28 * scale), Image.Resampling.NEAREST) for f in frames]
    if bounce:
        pictures += pictures[-2:0:-1]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0)
    return buf.getvalue()


def confusion_figure(confusion: torch.Tensor, title: str | None = None, size: float = 4.5) -> Figure:
    """A 10 x 10 table of counts (rows: the digit asked for, columns: what the classifier saw), as row percentages."""
    percent = 100 * confusion.double() / confusion.sum(1, keepdim=True).clamp(min=1)
    fig = Figure(figsize=(size, size), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(percent.numpy(), cmap="Blues", vmin=0, vmax=100)
    for row in range(10):
        for col, value in enumerate(percent[row].tolist()):
            if value < 0.5:
                continue
            color = "white" if value > 60 else "black"
            ax.text(col, row, f"{value:.0f}", ha="center", va="center", fontsize=7, color=color)
    ax.set(xticks=range(10), yticks=range(10), xlabel="recognised as", ylabel="asked for")
    if title:
        ax.set_title(title)
    return fig


def class_examples_figure(digits, per_class: int = 10, scale: float = 0.5) -> Figure:
    """The first `per_class` images of each digit, one row per class 0-9 (shuffled splits: typical ones)."""
    rows = [digits.images[digits.labels == digit][:per_class] for digit in range(10)]
    picture = mosaic(torch.cat(rows), nrow=per_class)  # (3, H, W)
    fig = Figure(figsize=(scale * per_class + 0.5, scale * 10), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set(xticks=[], yticks=[2 + 30 * d + 14 for d in range(10)], yticklabels=[str(d) for d in range(10)])
    ax.set_ylabel("digit")
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def class_counts_figure(splits: dict) -> Figure:
    """Grouped bars: the share of each digit in every split, in percent. splits: {"train": Digits, ...}."""
    fig = Figure(figsize=(9, 3), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(splits)
    for i, (name, digits) in enumerate(splits.items()):
        counts = torch.bincount(digits.labels.cpu(), minlength=10).double()
        share = (100 * counts / counts.sum()).tolist()
        offsets = [d + (i - (len(splits) - 1) / 2) * width for d in range(10)]
        ax.bar(offsets, share, width, label=f"{name} ({len(digits):,})")
    ax.set(xticks=range(10), xlabel="digit", ylabel="% of the split", title="share of each digit", ylim=(0, 14))
    ax.legend(loc="upper center", ncols=len(splits))
    ax.grid(axis="y", alpha=0.3)
    return fig


def pixel_histogram_figure(images: torch.Tensor, bins: int = 50) -> Figure:
    """Histogram of all pixel intensities in [0, 1] on a log scale: mostly black, a peak at white, little between."""
    counts = torch.histc(images.detach().float().cpu(), bins=bins, min=0.0, max=1.0)
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.stairs(counts.numpy(), torch.linspace(0, 1, bins + 1).numpy(), fill=True)
    ax.set(yscale="log", xlabel="pixel intensity", ylabel="pixels (log scale)", title="pixel intensities")
    return fig


def reconstruction_history_figure(originals: torch.Tensor, snapshots: list, scale: float = 0.5) -> Figure:
    """Originals on top, then one row of reconstructions per (epoch, images) snapshot: watch them sharpen."""
    stack = torch.cat([originals.cpu()] + [images.cpu() for _, images in snapshots])
    picture = mosaic(stack, nrow=len(originals))
    rows = 1 + len(snapshots)
    fig = Figure(figsize=(scale * len(originals) + 1, scale * rows + 0.3), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    labels = ["original"] + [f"epoch {epoch}" for epoch, _ in snapshots]
    ax.set(xticks=[], yticks=[2 + 30 * r + 14 for r in range(rows)], yticklabels=labels)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def manifold_figure(images: torch.Tensor, codes: torch.Tensor, scale: float = 0.32) -> Figure:
    """The decoded n x n grid of 2-D codes (from latent.manifold_codes), with z1 and z2 marked on the axes."""
    n = int(round(len(codes) ** 0.5))
    picture = mosaic(images, nrow=n)
    fig = Figure(figsize=(scale * n + 1, scale * n + 1), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    centres = [2 + 30 * i + 14 for i in range(n)]
    step = max(1, n // 5)
    ax.set_xticks(centres[::step], [f"{v:.1f}" for v in codes[:n, 0][::step].tolist()])
    ax.set_yticks(centres[::step], [f"{v:.1f}" for v in codes[::n, 1][::step].tolist()])
    ax.set(xlabel="z1", ylabel="z2", title="decoded grid over the prior's quantiles")
    return fig


def latent_maps_figure(maps: dict, labels: torch.Tensor, size: float = 2.6, prior: bool = True) -> Figure:
    """Several 2-D latent maps side by side: `maps` names codes (N, 2), all coloured by the same `labels`.

    Each panel has its own scale, written in its title; with `prior`, dashed circles mark where 68 % and 95 %
    of z ~ N(0, I) fall (radius 1.51 and 2.45), the region prior samples come from.
    """
    fig = Figure(figsize=(size * len(maps) + 0.8, size + 0.5), layout="constrained")
    labels = labels.detach().cpu()
    for ax, (name, codes) in zip(fig.subplots(1, len(maps), squeeze=False)[0], maps.items(), strict=True):
        codes = codes.detach().cpu()
        ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=2, alpha=0.5, linewidths=0)
        if prior:
            for radius in (1.51, 2.45):
                ax.add_patch(Circle((0, 0), radius, fill=False, ls="--", lw=1, color="black"))
        reach = max(3.0, codes.abs().max().item() * 1.05)
        ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"{name}\n(±{reach:.3g})", fontsize="medium")
    digit_legend(fig.axes[-1], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", markerscale=0.8)
    return fig


def image_rows_figure(rows: dict, scale: float = 0.45) -> Figure:
    """One row of images per entry of `rows` (name -> images (N, 1, 28, 28)), the name on the left."""
    names = list(rows)
    per_row = max(len(images) for images in rows.values())
    picture = mosaic(torch.cat([images.cpu() for images in rows.values()]), nrow=per_row)
    fig = Figure(figsize=(scale * per_row + 1.4, scale * len(names) + 0.3), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set(xticks=[], yticks=[2 + 30 * r + 14 for r in range(len(names))], yticklabels=names)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def rate_distortion_figure(points: dict, title: str = "rate against distortion") -> Figure:
    """Each model as a point (rate = KL, distortion = reconstruction, nats per image), labelled by name.

    Dashed lines of slope -1 are lines of equal −ELBO = rate + distortion: moving along one trades the two parts
    without changing the bound.
    """
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.add_subplot()
    rates = [rate for rate, _ in points.values()]
    distortions = [distortion for _, distortion in points.values()]
    ax.plot(rates, distortions, color="0.6", lw=1, zorder=1)
    ax.scatter(rates, distortions, zorder=2)
    for name, (rate, distortion) in points.items():
        ax.annotate(name, (rate, distortion), textcoords="offset points", xytext=(6, 4), fontsize="small")
    lows = sorted(rate + distortion for rate, distortion in points.values())
    top = max(rates) * 1.1 + 1
    for total in lows[:1] + lows[-1:]:
        ax.plot([0, top], [total, total - top], ls="--", lw=0.8, color="0.4")
    ax.set(xlabel="rate: KL term (nats per image)", ylabel="distortion: reconstruction term (nats per image)")
    ax.set(xlim=(0, top), ylim=(min(distortions) - 10, max(distortions) + 10), title=title)
    ax.grid(alpha=0.3)
    return fig


def kl_per_dimension_figure(kls: dict) -> Figure:
    """Bars of the mean KL of each latent dimension (nats), one panel per model (name -> (latent_dim,) tensor),
    dimensions sorted from most to least informative so collapsed ones gather on the right."""
    fig = Figure(figsize=(3.6 * len(kls), 2.8), layout="constrained")
    axes = fig.subplots(1, len(kls), squeeze=False, sharey=True)[0]
    for ax, (name, kl) in zip(axes, kls.items(), strict=True):
        values = kl.detach().double().cpu().sort(descending=True).values
        ax.bar(range(1, len(values) + 1), values.numpy())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=f"{name}: KL {values.sum():.1f} nats", xlabel="dimension, most informative first")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("mean KL (nats)")
    return fig


def posterior_ellipses_figure(
    points: torch.Tensor,
    labels: torch.Tensor,
    mus: torch.Tensor,
    stds: torch.Tensor,
    n_sigma: float = 2.0,
    window: tuple[float, float, float] | None = None,
    size: float = 4.0,
) -> Figure:
    """The latent map (points (N, 2) coloured by labels) with an n_sigma ellipse of q(z|x) around a few codes.

    Each ellipse is centred on mu (M, 2) with half-axes n_sigma * std (M, 2), along z1 and z2 (the posterior is a
    diagonal Gaussian): the patch of codes the decoder is trained to turn into that image. `window` = (z1, z2,
    half_width) adds a second panel zoomed on that square, outlined on the first.
    """
    panels = 1 if window is None else 2
    fig = Figure(figsize=(size * panels + 0.9, size), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    points, labels = points.detach().cpu(), labels.detach().cpu()
    mus, stds = mus.detach().cpu(), stds.detach().cpu()
    for ax, dots in zip(axes, (3, 12), strict=False):
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=dots, alpha=0.6, lw=0)
        for (x, y), (sx, sy) in zip(mus.tolist(), stds.tolist(), strict=True):
            ax.add_patch(Ellipse((x, y), 2 * n_sigma * sx, 2 * n_sigma * sy, fill=False, color="black", lw=1))
        ax.plot(mus[:, 0], mus[:, 1], ls="", marker="+", color="black", markersize=5)
        ax.set(xlabel="$z_1$", ylabel="$z_2$", aspect="equal")
    axes[0].set_title(f"{n_sigma:g}σ ellipses of q(z|x) for {len(mus)} test digits", fontsize="medium")
    if window is not None:
        x, y, half = window
        axes[1].set(xlim=(x - half, x + half), ylim=(y - half, y + half))
        axes[1].set_title("zoomed on the dashed square", fontsize="medium")
        axes[0].add_patch(Rectangle((x - half, y - half), 2 * half, 2 * half, fill=False, ls="--", color="black"))
    digit_legend(axes[-1], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", markerscale=0.8)
    return fig


def density_maps_figure(densities: dict, limit: float, points: torch.Tensor | None = None, size: float = 3.4) -> Figure:
    """Densities over the latent plane side by side, on one colour scale, so they compare at a glance.

    `densities` maps a name to values (steps * steps,) at latent.grid_codes(limit, steps); `points` (M, 2), e.g. the
    prior samples that land where the codes are sparse, are marked with white crosses on every panel.
    """
    fig = Figure(figsize=(size * len(densities) + 0.8, size), layout="constrained")
    axes = fig.subplots(1, len(densities), squeeze=False)[0]
    top = max(values.max().item() for values in densities.values())
    for ax, (name, values) in zip(axes, densities.items(), strict=True):
        steps = int(round(len(values) ** 0.5))
        picture = values.detach().cpu().reshape(steps, steps).numpy()  # row 0 = bottom edge (z2 = -limit)
        image = ax.imshow(picture, origin="lower", extent=(-limit, limit, -limit, limit), vmin=0, vmax=top)
        if points is not None:
            ax.scatter(points[:, 0], points[:, 1], marker="x", s=8, color="white", lw=0.7)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
        ax.set(title=name, xlabel="$z_1$", ylabel="$z_2$")
    fig.colorbar(image, ax=axes, shrink=0.85, label="density")
    return fig


def bounds_figure(bounds: dict, neg_elbo: float, exact: float | None = None) -> Figure:
    """The importance-weighted bound against k (k -> nats per image, log x-axis), with the −ELBO it starts from
    and, when known, the −log p(x) it closes in on from above."""
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ks = list(bounds)
    ax.plot(ks, list(bounds.values()), marker="o", label="IWAE bound, k samples")
    ax.axhline(neg_elbo, ls="--", color="0.4", label="−ELBO")
    if exact is not None:
        ax.axhline(exact, color="black", label="−log p(x), by integration")
    ax.set_xscale("log")
    ax.set(xlabel="k (importance samples per image)", ylabel="nats per image", title="how loose is the bound?")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def true_posterior_figure(panels: dict, size: float = 3.3) -> Figure:
    """The true posterior p(z|x) beside the encoder's guess q(z|x), one panel per image.

    `panels` maps a title to (codes (S², 2) on an even grid as latent.grid_codes makes it, shifted anywhere;
    log p(x, z) at those codes (S²,); q's mean (2,) and standard deviation (2,)). The posterior is drawn as a map,
    normalised over the window; q as its 1σ and 2σ ellipses, with both means marked.
    """
    fig = Figure(figsize=(size * len(panels), size + 0.3), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, (codes, log_p, mu, std)) in zip(axes, panels.items(), strict=True):
        codes, mu, std = codes.detach().cpu().double(), mu.detach().cpu().double(), std.detach().cpu().double()
        steps = int(round(len(codes) ** 0.5))
        weights = torch.softmax(log_p.detach().cpu().double(), dim=0)  # p(z|x) on the window, sums to 1
        lo, hi = codes.min(0).values.tolist(), codes.max(0).values.tolist()
        picture = weights.reshape(steps, steps).numpy()  # row 0 = the lowest z2
        ax.imshow(picture, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="Blues")
        for n in (1, 2):
            ellipse = Ellipse(mu.tolist(), 2 * n * std[0].item(), 2 * n * std[1].item(), fill=False, color="black")
            ax.add_patch(ellipse)
        mean, _ = grid_moments(codes, log_p)
        ax.plot(*mean.tolist(), marker="o", color="tab:blue", markeredgecolor="white", label="mean of p(z|x)")
        ax.plot(*mu.tolist(), marker="+", color="black", markersize=9, label="mean of q(z|x)")
        ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", aspect="equal")
    axes[0].legend(loc="lower left", fontsize="x-small")
    return fig
