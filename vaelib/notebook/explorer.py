"""Interactive latent-space explorers for JupyterLab, built from ipywidgets.

    model, _ = vaelib.load_model(vaelib.pretrained_path(2))
    LatentExplorer(model, vaelib.load_mnist().test)          # sliders over z, buttons, class picker
    InterpolationExplorer(model, vaelib.load_mnist().test)   # walk from one real digit to another

Every control has a tooltip that says what it does; `controls(widget)` lists them all with their ranges and
`controls_table(widget)` writes that list as a Markdown table (notebook 05 shows both explorers' tables).

Speed: a slider move decodes one z and sends a 28 x 28 PNG (a few hundred bytes). The latent map is a
scatter drawn once as a PNG; the marker and the path live in a tiny SVG laid over it, so moving them
never redraws the scatter.
"""

import contextlib
import math
from pathlib import Path

import ipywidgets as widgets
import torch

from vaelib.core import conditional, latent
from vaelib.core.checkpoints import default_checkpoint, load_model
from vaelib.core.data import Digits, load_mnist
from vaelib.core.errors import VAEError
from vaelib.core.latent import codes_to_images, encode_means, encode_posteriors, lerp, slerp
from vaelib.runs.images import png_bytes

from .figures import figure_png, latent_scatter_figure

DIGIT_PX = 168  # the 28 x 28 digit shown six times enlarged
STYLE = "<style>.vaelib-digit { image-rendering: pixelated; }</style>"  # sharp pixels instead of a blur


def load_explorer_model(checkpoint=None):
    """The model to explore: `checkpoint`, else your best model, else the shipped one (one-line VAEError if none)."""
    path = Path(checkpoint) if checkpoint else default_checkpoint()
    if not path.is_file():
        raise VAEError(
            f"no checkpoint at {path}: train a model first (vae-train or notebook 03) or pass checkpoint=PATH"
        )
    return load_model(path)[0]


class Projection:
    """Slider coordinates s <-> codes z: z = origin + s @ basis + residual.

    2-D latent: the identity (the sliders are z1 and z2). Larger: the first principal directions of the
    encoded digits, so the few sliders move z along the directions in which the digits vary most.
    """

    def __init__(self, codes: torch.Tensor, n_sliders: int = 4):
        dim = codes.shape[1]
        if dim <= 2:
            self.origin, self.basis = torch.zeros(dim), torch.eye(dim)
        else:
            self.origin = codes.mean(0)
            _, _, vh = torch.linalg.svd(codes - self.origin, full_matrices=False)
            self.basis = vh[: min(n_sliders, dim)]  # (k, dim), orthonormal rows
        coords = self.coords(codes)  # (N, k)
        self.limits = [max(3.0, math.ceil(2 * c.abs().max().item() * 1.05) / 2) for c in coords.T]

    def coords(self, z: torch.Tensor) -> torch.Tensor:
        """Slider coordinates of codes (..., dim) -> (..., k)."""
        return (z - self.origin) @ self.basis.T

    def plane(self, z: torch.Tensor) -> torch.Tensor:
        """Where codes (..., dim) land on the latent map: their first two slider coordinates, (..., 2)."""
        return self.coords(z)[..., :2]

    def meanings(self) -> list[str]:
        """What each slider does, in words (the sliders' tooltips)."""
        if self.is_identity:
            return [f"coordinate {i + 1} of the code z" for i in range(len(self.basis))]
        return [f"moves z along principal direction {i + 1} of the encoded digits" for i in range(len(self.basis))]

    def names(self) -> list[str]:
        return (
            [f"z{i + 1}" for i in range(len(self.basis))]
            if self.is_identity
            else [f"PC{i + 1}" for i in range(len(self.basis))]
        )

    @property
    def is_identity(self) -> bool:
        return self.basis.shape[0] == self.basis.shape[1] and self.basis.shape[1] <= 2


class LatentMap(widgets.GridBox):
    """The encoded digits as a class-coloured scatter (a PNG made once) with an SVG overlay for marker and path."""

    def __init__(self, plane: torch.Tensor, labels: torch.Tensor, limit: float, names=("z1", "z2")):
        fig = latent_scatter_figure(plane, labels, limit=limit, xlabel=names[0], ylabel=names[1], dpi=80)
        png = figure_png(fig)
        self.width, self.height = int(fig.bbox.width), int(fig.bbox.height)
        self._transform = fig.axes[0].transData  # data -> display pixels (origin bottom left), valid after the draw
        size = dict(width=f"{self.width}px", height=f"{self.height}px", margin="0", grid_area="map")
        self.background = widgets.Image(value=png, format="png", layout=widgets.Layout(**size))
        self.overlay = widgets.HTML(layout=widgets.Layout(**size))
        super().__init__([self.background, self.overlay], layout=widgets.Layout(grid_template_areas='"map"'))

    def pixels(self, points: torch.Tensor) -> torch.Tensor:
        """Map coordinates (N, 2) -> pixel positions (N, 2) in the background image (origin top left)."""
        xy = torch.as_tensor(self._transform.transform(points.detach().double().cpu().numpy()))
        return torch.stack([xy[:, 0], self.height - xy[:, 1]], dim=1)

    def draw(self, marker=None, path=None, ends=None) -> None:
        """Redraw only the overlay: a polyline through `path` (N, 2), rings at `ends`, a red dot at `marker` (2,)."""
        shapes = []
        if path is not None:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in self.pixels(path).tolist())
            shapes.append(f'<polyline points="{points}" fill="none" stroke="black" stroke-width="2"/>')
        if ends is not None:
            shapes += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="none" stroke="black" stroke-width="2"/>'
                for x, y in self.pixels(ends).tolist()
            ]
        if marker is not None:
            x, y = self.pixels(marker.reshape(1, 2))[0].tolist()
            shapes.append(
                f'<circle class="marker" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="red" stroke="white" stroke-width="2"/>'
            )
        self.overlay.value = (
            f'<svg width="{self.width}" height="{self.height}" style="position:absolute; pointer-events:none">'
            + "".join(shapes)
            + "</svg>"
        )


def digit_image(png: bytes = b"", size: int = DIGIT_PX) -> widgets.Image:
    image = widgets.Image(value=png, format="png", width=str(size), height=str(size))
    image.add_class("vaelib-digit")
    return image


class _Quiet:
    """Lets a widget set its own controls without their observers firing back (`with self._quietly(): ...`)."""

    _quiet = False

    @contextlib.contextmanager
    def _quietly(self):
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False


class LatentExplorer(_Quiet, widgets.VBox):
    """Sliders over the latent space, the decoded digit, the latent map and buttons to jump around in it.

    For a 2-D model the sliders are z1 and z2; for a larger one they move z along the first
    `n_sliders` principal directions of the encoded digits. `density` (from vaelib.core.conditional, normally
    fitted to training images) drives the class picker; by default it is fitted to `digits` itself.
    """

    def __init__(self, model, digits: Digits, density=None, n_sliders: int = 4, seed: int = 0):
        super().__init__()
        self.model, self.digits = model, digits
        self.codes, sigmas = encode_posteriors(model, digits)  # (N, latent_dim) each
        self.labels = digits.labels.cpu()
        self.density = (
            density if density is not None else conditional.densities_from_codes(self.codes, sigmas, self.labels)
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.projection = Projection(self.codes, n_sliders)
        names = self.projection.names()
        self.sliders = [
            widgets.FloatSlider(
                value=0.0,
                min=-lim,
                max=lim,
                step=0.01,
                description=name,
                readout_format=".2f",
                continuous_update=True,
                tooltip=what,
            )
            for name, lim, what in zip(names, self.projection.limits, self.projection.meanings(), strict=True)
        ]
        for i, slider in enumerate(self.sliders):
            slider.add_class(f"vaelib-slider-{i}")
            slider.observe(self._on_slider, names="value")
        self.image = digit_image()
        self.image.add_class("vaelib-decoded")
        self.add_class("vaelib-latent-explorer")
        self.map = LatentMap(self.projection.plane(self.codes), self.labels, max(self.projection.limits[:2]), names[:2])
        self.random_button = widgets.Button(
            description="Random z", icon="random", tooltip="a random code from the prior N(0, I)"
        )
        self.nearest_button = widgets.Button(
            description="Nearest digit", icon="crosshairs", tooltip="snap to the nearest real test digit"
        )
        self.digit_buttons = [
            widgets.Button(
                description=str(d),
                layout=widgets.Layout(width="36px"),
                tooltip="a code drawn from the region of this digit's class (class densities, notebook 04)",
            )
            for d in conditional.DIGITS
        ]
        self.random_button.on_click(lambda _: self.sample_prior())
        self.nearest_button.on_click(lambda _: self.snap_to_nearest())
        for d, button in enumerate(self.digit_buttons):
            button.on_click(lambda _, d=d: self.sample_digit(d))
        self.nearest_image = digit_image(size=56)
        self.nearest_image.layout.display = "none"  # until a nearest digit is shown
        self.info = widgets.HTML()
        self._residual = torch.zeros(self.codes.shape[1])
        left = widgets.VBox([self.image, *self.sliders, widgets.HBox([self.random_button, self.nearest_button])])
        picker = widgets.HBox([widgets.Label("Generate a digit:"), *self.digit_buttons])
        self.children = [
            widgets.HTML(STYLE),
            widgets.HBox([left, self.map]),
            picker,
            widgets.HBox([self.nearest_image, self.info]),
        ]
        self.set_z(torch.zeros(self.codes.shape[1]) if self.projection.is_identity else self.projection.origin)

    @property
    def z(self) -> torch.Tensor:
        """The current code (latent_dim,): what the sliders (plus any part outside their span) say."""
        s = torch.tensor([slider.value for slider in self.sliders], dtype=torch.float32)
        return self.projection.origin + s @ self.projection.basis + self._residual

    def set_z(self, z: torch.Tensor, note: str = "") -> None:
        """Jump to code z: move the sliders there (clamped to their range; the rest is kept aside) and redraw once."""
        z = z.detach().float().cpu().reshape(-1)
        s = self.projection.coords(z)
        with self._quietly():
            for slider, value in zip(self.sliders, s.tolist(), strict=True):
                slider.value = min(max(value, slider.min), slider.max)
        shown = torch.tensor([slider.value for slider in self.sliders], dtype=torch.float32)
        self._residual = z - self.projection.origin - shown @ self.projection.basis
        self.info.value = note
        self._render()

    def sample_prior(self) -> None:
        """Jump to a random z from the prior N(0, I)."""
        self.set_z(torch.randn(self.codes.shape[1], generator=self.generator), "a random z from the prior N(0, I)")

    def sample_digit(self, digit: int) -> None:
        """Jump to a z drawn from the density of one digit class (class-conditional generation)."""
        z = self.density.sample(digit, 1, self.generator)[0]
        self.set_z(z, f"a z drawn from the density of class <b>{digit}</b>")

    def snap_to_nearest(self) -> int:
        """Jump to the code of the test digit nearest to the current z; show that digit. Returns its index."""
        index = int((self.codes - self.z).pow(2).sum(1).argmin())
        self.set_z(
            self.codes[index],
            f"nearest test digit: <b>#{index}</b>, labelled <b>{int(self.labels[index])}</b> (left: the real image)",
        )
        self.nearest_image.value = png_bytes(self.digits.images[index].cpu())
        self.nearest_image.layout.display = None
        return index

    def _on_slider(self, change) -> None:
        if not self._quiet:
            self._render()

    def _render(self) -> None:
        z = self.z
        self.image.value = png_bytes(codes_to_images(self.model, z.unsqueeze(0)))
        self.map.draw(marker=self.projection.plane(z))

    @classmethod
    def from_checkpoint(cls, checkpoint=None, digits: Digits | None = None, **kwargs) -> "LatentExplorer":
        """Load `checkpoint` (default: your best model, else the pretrained one) and explore the MNIST test set."""
        return cls(load_explorer_model(checkpoint), digits if digits is not None else load_mnist().test, **kwargs)


class InterpolationExplorer(_Quiet, widgets.VBox):
    """Walk from one real test digit to another: pick the two ends, slide t from 0 to 1, choose lerp or slerp."""

    def __init__(self, model, digits: Digits, start: int = 0, end: int = 1, steps: int = 10):
        super().__init__()
        self.model, self.digits, self.steps = model, digits, steps
        self.codes = encode_means(model, digits)
        self.labels = digits.labels.cpu()
        self.projection = Projection(self.codes, n_sliders=2)
        self.start_index, self.end_index = (
            widgets.BoundedIntText(
                value=i,
                min=0,
                max=len(digits) - 1,
                description=d,
                layout=widgets.Layout(width="180px"),
                tooltip=f"the index of the {which} digit in the test set",
            )
            for i, d, which in ((start, "from #", "start"), (end, "to #", "end"))
        )
        self.start_class, self.end_class = (
            widgets.Dropdown(
                options=list(conditional.DIGITS),
                value=int(self.labels[i]),
                description="digit",
                layout=widgets.Layout(width="140px"),
                tooltip=f"the class of the {which} digit: picking one jumps to the first test digit of that class",
            )
            for i, which in ((start, "start"), (end, "end"))
        )
        self.t = widgets.FloatSlider(
            value=0.5,
            min=0.0,
            max=1.0,
            step=0.01,
            description="t",
            readout_format=".2f",
            tooltip="how far along the path: 0 is the start digit's code, 1 the end digit's",
        )
        self.t.add_class("vaelib-slider-t")
        self.method = widgets.ToggleButtons(
            options=["lerp", "slerp"],
            value="lerp",
            description="path",
            tooltip="the path between the two codes: a straight line (lerp) or an arc (slerp)",
            tooltips=["a straight line", "an arc that keeps the length typical"],
        )
        self.image, self.strip = digit_image(), widgets.Image(format="png")
        self.strip.add_class("vaelib-digit")
        self.image.add_class("vaelib-decoded")
        self.add_class("vaelib-interpolation-explorer")
        self.start_image, self.end_image = digit_image(size=56), digit_image(size=56)
        self.map = LatentMap(
            self.projection.plane(self.codes), self.labels, max(self.projection.limits[:2]), self.projection.names()[:2]
        )
        for index, klass in ((self.start_index, self.start_class), (self.end_index, self.end_class)):
            index.observe(self._on_index, names="value")
            klass.observe(lambda change, index=index: self._on_class(change, index), names="value")
        self.t.observe(lambda _: self._render_t(), names="value")
        self.method.observe(lambda _: self._render_path(), names="value")
        ends = widgets.VBox(
            [
                widgets.HBox([self.start_image, widgets.VBox([self.start_index, self.start_class])]),
                widgets.HBox([self.end_image, widgets.VBox([self.end_index, self.end_class])]),
            ]
        )
        left = widgets.VBox([ends, self.method, self.t, self.image])
        self.children = [widgets.HTML(STYLE), widgets.HBox([left, self.map]), self.strip]
        self._render_path()

    @property
    def ends(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes (encoder means) of the two chosen test digits."""
        return self.codes[self.start_index.value], self.codes[self.end_index.value]

    @property
    def z(self) -> torch.Tensor:
        """The code at the current t along the chosen path, (latent_dim,)."""
        z0, z1 = self.ends
        return (slerp if self.method.value == "slerp" else lerp)(z0, z1, self.t.value)

    def walk(self, steps: int | None = None) -> torch.Tensor:
        """The codes of the whole path, (steps, latent_dim), t evenly spaced from 0 to 1."""
        return latent.interpolate(*self.ends, steps=steps or self.steps, method=self.method.value)

    def _on_index(self, change) -> None:
        """A new end picked by index: show its class in the dropdown (without jumping) and redraw."""
        with self._quietly():
            self.start_class.value = int(self.labels[self.start_index.value])
            self.end_class.value = int(self.labels[self.end_index.value])
        self._render_path()

    def _on_class(self, change, index: widgets.BoundedIntText) -> None:
        """A class picked: jump that end to the first test digit of the class."""
        if self._quiet:
            return
        index.value = int(torch.nonzero(self.labels == change["new"])[0])

    def _render_path(self) -> None:
        for image, i in ((self.start_image, self.start_index.value), (self.end_image, self.end_index.value)):
            image.value = png_bytes(self.digits.images[i].cpu())
        self.strip.value = png_bytes(codes_to_images(self.model, self.walk()), nrow=self.steps)
        self.strip.width = str(2 * (30 * self.steps + 2))  # shown twice enlarged (28 px digits + 2 px gaps)
        self._render_t()

    def _render_t(self) -> None:
        z = self.z
        self.image.value = png_bytes(codes_to_images(self.model, z.unsqueeze(0)))
        self.map.draw(
            marker=self.projection.plane(z),
            path=self.projection.plane(self.walk(50)),
            ends=self.projection.plane(torch.stack(self.ends)),
        )


# ----- the controls of an explorer, read from the widgets themselves

CONTROL_KINDS = (  # (widget class, what the table calls it); subclasses first
    (widgets.FloatSlider, "slider"),
    (widgets.IntSlider, "slider"),
    (widgets.BoundedIntText, "integer box"),
    (widgets.BoundedFloatText, "number box"),
    (widgets.Dropdown, "dropdown"),
    (widgets.ToggleButtons, "toggle buttons"),
    (widgets.Button, "button"),
)


def control_kind(widget) -> str | None:
    """What kind of control `widget` is ("slider", "integer box", ...), or None when it is not one a learner uses."""
    return next((name for cls, name in CONTROL_KINDS if isinstance(widget, cls)), None)


def controls(widget) -> list[dict]:
    """Every control inside `widget`, in the order shown (depth first through its boxes), as read from the widgets.

    Each is a dict: description (its label), kind (see CONTROL_KINDS), min and max (sliders and number boxes, else
    None), options (dropdowns and toggle buttons, else None), step (sliders, else None), value (now: right after
    the explorer is made, its default) and tooltip (what it does).
    """
    found = []

    def visit(w) -> None:
        kind = control_kind(w)
        if kind is not None:
            bounded = hasattr(w, "min") and hasattr(w, "max")
            found.append(
                {
                    "description": w.description,
                    "kind": kind,
                    "min": w.min if bounded else None,
                    "max": w.max if bounded else None,
                    "options": tuple(w.options) if hasattr(w, "options") else None,
                    "step": w.step if kind == "slider" else None,
                    "value": getattr(w, "value", None),
                    "tooltip": w.tooltip or "",
                }
            )
        for child in getattr(w, "children", ()):
            visit(child)

    visit(widget)
    return found


def _number(value, step) -> str:
    """A control's number at the decimals of its float step (0.01 -> 2), else as short as exact; a true minus."""
    if isinstance(value, float):
        if isinstance(step, float) and step > 0:
            text = f"{value:.{max(0, -math.floor(math.log10(step)))}f}"
        else:
            text = f"{value:g}"
    else:
        text = str(value)
    return text.replace("-", "−")


def _options(options) -> str:
    names = [str(option) for option in options]
    return ", ".join(names) if len(names) <= 4 else f"{names[0]}, {names[1]}, …, {names[-1]}"


def control_rows(widget) -> list[list[str]]:
    """The rows of controls_table: control, kind, range or options, step, value, what it does. Runs of three or
    more controls that differ only in their label (the digit buttons) share one row, labelled "first … last"."""
    rows = []
    for c in controls(widget):
        step = c["step"]
        if c["min"] is not None:
            span = f"{_number(c['min'], step)} to {_number(c['max'], step)}"
        elif c["options"] is not None:
            span = _options(c["options"])
        else:
            span = ""
        value = "" if c["kind"] == "button" else _number(c["value"], step)
        rows.append(
            [c["description"], c["kind"], span, "" if step is None else _number(step, step), value, c["tooltip"]]
        )
    merged, i = [], 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1][1:] == rows[i][1:]:
            j += 1
        if j - i >= 2:
            merged.append([f"{rows[i][0]} … {rows[j][0]}", *rows[i][1:]])
        else:
            merged.extend(rows[i : j + 1])
        i = j + 1
    return merged


def controls_table(widget) -> str:
    """The controls of `widget` as a Markdown table (show it with IPython.display.Markdown)."""
    header = ["control", "kind", "range or options", "step", "value", "what it does"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in control_rows(widget):
        cells = [cell.replace("|", "\\|") for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
