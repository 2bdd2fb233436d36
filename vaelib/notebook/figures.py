"""The figures of the notebooks: digits in mosaics and rows, latent maps, densities, bounds and posteriors.

Figures are built with matplotlib.figure.Figure (not pyplot), so nothing here touches global plotting state; in a
notebook a returned Figure shows itself.
"""

import io

import torch
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Ellipse, Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image

from vaelib.core.latent import grid_moments
from vaelib.runs.images import mosaic

# One colour per digit, from Paul Tol's colour-blind-safe "muted" scheme (personal.sron.nl/~pault), placed so that the
# classes that overlap in a 2-D latent plane get colours far apart: 3, 5, 8 (indigo, sand, rose) and 4, 9 (green,
# purple).
DIGIT_COLOURS = (
    "#88CCEE", "#999933", "#44AA99", "#332288", "#117733", "#DDCC77", "#882255", "#777777", "#CC6677", "#AA4499"
)  # fmt: skip
DIGITS = ListedColormap(DIGIT_COLOURS, name="digits")
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
    """A legend with one coloured dot per digit class, in the colours every latent map uses (DIGIT_COLOURS)."""
    handles = [Line2D([], [], ls="", marker="o", color=DIGIT_COLOURS[d], label=str(d)) for d in labels]
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
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=DIGITS, vmin=-0.5, vmax=9.5, s=3, alpha=0.6, linewidths=0)
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


def manifold_figure(images: torch.Tensor, codes: torch.Tensor, title: str, scale: float = 0.32) -> Figure:
    """The decoded n x n grid of 2-D codes (from latent.manifold_codes), each column's z1 and each row's z2 marked."""
    n = int(round(len(codes) ** 0.5))
    picture = mosaic(images, nrow=n)
    fig = Figure(figsize=(scale * n + 1, scale * n + 1), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
    centres = [2 + 30 * i + 14 for i in range(n)]
    ax.set_xticks(centres, [f"{v:.1f}" for v in codes[:n, 0].tolist()], rotation=90, fontsize="x-small")
    ax.set_yticks(centres, [f"{v:.1f}" for v in codes[::n, 1].tolist()], fontsize="x-small")
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
    return fig


def latent_maps_figure(maps: dict, labels: torch.Tensor, size: float = 2.6, prior: bool = True) -> Figure:
    """Several 2-D latent maps side by side, on one scale with ticks: `maps` names codes (N, 2), all coloured by the
    same `labels`. With `prior`, dashed circles mark where 68 % and 95 % of z ~ N(0, I) fall (radius 1.51 and 2.45),
    the region prior samples come from."""
    fig = Figure(figsize=(size * len(maps) + 0.9, size + 0.6), layout="constrained")
    axes = fig.subplots(1, len(maps), squeeze=False, sharex=True, sharey=True)[0]
    labels = labels.detach().cpu()
    reach = max(3.0, max(codes.detach().abs().max().item() for codes in maps.values()) * 1.05)
    for ax, (name, codes) in zip(axes, maps.items(), strict=True):
        codes = codes.detach().cpu()
        ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=DIGITS, vmin=-0.5, vmax=9.5, s=2, alpha=0.5, linewidths=0)
        if prior:
            for radius in (1.51, 2.45):
                ax.add_patch(Circle((0, 0), radius, fill=False, ls="--", lw=1, color="black"))
        ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal", xlabel="$z_1$")
        ax.set_title(name, fontsize="medium")
    axes[0].set_ylabel("$z_2$")
    digit_legend(axes[-1], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", markerscale=0.8)
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
    for i, total in enumerate(lows[:1] + lows[-1:]):
        label = "equal −ELBO = rate + distortion (lowest, highest)" if i == 0 else None
        ax.plot([0, top], [total, total - top], ls="--", lw=0.8, color="0.4", label=label)
    ax.legend(loc="upper right", fontsize="small")
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
    sigmas: torch.Tensor,
    digits: list[int],
    n_sigma: float = 2.0,
    window: tuple[float, float, float] | None = None,
    size: float = 4.0,
) -> Figure:
    """The latent map (points (N, 2) coloured by labels) with an n_sigma ellipse of q(z|x) around a few codes.

    Each ellipse is centred on mu (M, 2) with half-axes n_sigma * sigma (M, 2), along z1 and z2 (the posterior is a
    diagonal Gaussian): the patch of codes the decoder is trained to turn into that image, labelled with the image's
    digit (`digits`, M labels). `window` = (z1, z2, half_width) adds a second panel zoomed on that square, outlined
    on the first.
    """
    panels = 1 if window is None else 2
    fig = Figure(figsize=(size * panels + 0.9, size), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    points, labels = points.detach().cpu(), labels.detach().cpu()
    mus, sigmas = mus.detach().cpu(), sigmas.detach().cpu()
    for ax, dots in zip(axes, (3, 12), strict=False):
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=DIGITS, vmin=-0.5, vmax=9.5, s=dots, alpha=0.6, lw=0)
        for (x, y), (sx, sy), digit in zip(mus.tolist(), sigmas.tolist(), digits, strict=True):
            ax.add_patch(Ellipse((x, y), 2 * n_sigma * sx, 2 * n_sigma * sy, fill=False, color="black", lw=1))
            ax.annotate(str(digit), (x + n_sigma * sx, y + n_sigma * sy), fontsize="small", fontweight="bold",
                        annotation_clip=True)  # fmt: skip
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
    """Densities over the latent plane side by side, on one logarithmic colour scale, so that both a peaked density
    and a flat one show their shape, and they compare at a glance.

    `densities` maps a name to values (steps * steps,) at latent.grid_codes(limit, steps); `points` (M, 2), e.g. the
    prior samples that land where the codes are sparse, are marked with white crosses on every panel.
    """
    fig = Figure(figsize=(size * len(densities) + 0.9, size), layout="constrained")
    axes = fig.subplots(1, len(densities), squeeze=False)[0]
    top = max(values.max().item() for values in densities.values())
    scale = LogNorm(vmin=top * 1e-4, vmax=top, clip=True)  # four decades below the highest density
    for ax, (name, values) in zip(axes, densities.items(), strict=True):
        steps = int(round(len(values) ** 0.5))
        picture = values.detach().cpu().reshape(steps, steps).numpy()  # row 0 = bottom edge (z2 = -limit)
        image = ax.imshow(picture, origin="lower", extent=(-limit, limit, -limit, limit), norm=scale)
        if points is not None:
            ax.scatter(points[:, 0], points[:, 1], marker="x", s=8, color="white", lw=0.7)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit))
        ax.set(title=name, xlabel="$z_1$", ylabel="$z_2$")
    fig.colorbar(image, ax=axes, shrink=0.85, label="density (log scale)")
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


def true_posterior_figure(panels: dict, size: float = 3.4) -> Figure:
    """The true posterior p(z|x) beside the encoder's guess q(z|x), one panel per image.

    `panels` maps a title to (codes (S², 2) on an even grid as latent.grid_codes makes it, shifted anywhere;
    log p(x, z) at those codes (S²,); q's mean (2,) and standard deviation (2,)). The posterior is drawn as a map,
    normalised over the window (its colour bar: the share of the window's probability in each cell); q as its 1σ
    and 2σ ellipses, labelled, with both means marked.
    """
    fig = Figure(figsize=(size * len(panels) + 0.6, size + 0.5), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, (codes, log_p, mu, sigma)) in zip(axes, panels.items(), strict=True):
        codes, mu, sigma = codes.detach().cpu().double(), mu.detach().cpu().double(), sigma.detach().cpu().double()
        steps = int(round(len(codes) ** 0.5))
        weights = torch.softmax(log_p.detach().cpu().double(), dim=0)  # p(z|x) on the window, sums to 1
        lo, hi = codes.min(0).values.tolist(), codes.max(0).values.tolist()
        picture = weights.reshape(steps, steps).numpy()  # row 0 = the lowest z2
        image = ax.imshow(picture, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="Blues")
        fig.colorbar(image, ax=ax, shrink=0.8, label="p(z|x), share per cell")
        for n, style in ((1, "-"), (2, "--")):
            width, height = 2 * n * sigma[0].item(), 2 * n * sigma[1].item()
            ax.add_patch(Ellipse(mu.tolist(), width, height, fill=False, color="black", ls=style))
            ax.annotate(f"{n}σ", (mu[0].item(), mu[1].item() + n * sigma[1].item()), fontsize="x-small",
                        ha="center", va="bottom", annotation_clip=True)  # fmt: skip
        mean, _ = grid_moments(codes, log_p)
        ax.plot(*mean.tolist(), marker="o", color="tab:blue", markeredgecolor="white", ls="", label="mean of p(z|x)")
        ax.plot(*mu.tolist(), marker="+", color="black", markersize=9, ls="", label="mean of q(z|x)")
        ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", aspect="equal", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    handles = axes[0].get_legend_handles_labels()[0] + [
        Line2D([], [], color="black", ls="-", label="q(z|x): 1σ ellipse"),
        Line2D([], [], color="black", ls="--", label="q(z|x): 2σ ellipse"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small")
    return fig


def captioned_mosaic_figure(images: torch.Tensor, captions: list[str], nrow: int = 10, scale: float = 0.75) -> Figure:
    """Images (N, 1, 28, 28) in rows of nrow, each with its caption underneath (e.g. what a classifier read)."""
    rows = -(-len(images) // nrow)
    fig = Figure(figsize=(scale * nrow, (scale + 0.25) * rows), layout="constrained")
    axes = fig.subplots(rows, nrow, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(images):
            ax.imshow(images[i, 0].detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(captions[i], y=-0.32, fontsize="x-small")
    return fig
