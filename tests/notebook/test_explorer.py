"""The latent explorers driven from Python (no browser): every widget action redraws what it should.

Class-conditional sampling is tested in test_conditional.py, `vae-generate --digit` in test_sampling.py."""

import io

import ipywidgets as widgets
import pytest
import torch
from PIL import Image

from vaelib.core import conditional, latent
from vaelib.core.data import Digits
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE, ModelConfig
from vaelib.notebook import explorer
from vaelib.runs import images


def tiny_model(latent_dim: int = 2, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(latent_dim=latent_dim)).eval()


@pytest.fixture
def digits(labelled_digits) -> Digits:
    """60 random 'digits', six of each class."""
    return labelled_digits


def png_of(model, z: torch.Tensor) -> bytes:
    """What the explorers must show for code z: the PNG of its decoded digit."""
    return images.png_bytes(latent.codes_to_images(model, z.unsqueeze(0)))


def marker_xy(lmap: explorer.LatentMap, point: torch.Tensor) -> str:
    x, y = lmap.pixels(point.reshape(1, 2))[0].tolist()
    return f'class="marker" cx="{x:.1f}" cy="{y:.1f}"'


# ----- LatentExplorer


def test_sliders_redraw_the_digit_and_marker(digits):
    model = tiny_model()
    ex = explorer.LatentExplorer(model, digits)
    assert [s.description for s in ex.sliders] == ["z1", "z2"]
    before = ex.image.value
    ex.sliders[0].value = 1.25
    ex.sliders[1].value = -0.5
    expected = torch.tensor([1.25, -0.5])
    assert torch.allclose(ex.z, expected)
    assert ex.image.value != before
    assert ex.image.value == png_of(model, expected)
    assert Image.open(io.BytesIO(ex.image.value)).size == (28, 28)
    assert marker_xy(ex.map, expected) in ex.map.overlay.value


def test_map_pixels_follow_the_axes(digits):
    """A code at the centre of the map lands in the middle of the axes; larger z1 is further right, larger z2 higher."""
    ex = explorer.LatentExplorer(tiny_model(), digits)
    (x0, y0), (x1, y1) = ex.map.pixels(torch.tensor([[0.0, 0.0], [1.0, 1.0]])).tolist()
    assert 0 < x0 < ex.map.width and 0 < y0 < ex.map.height
    assert x1 > x0 and y1 < y0
    assert x1 - x0 == pytest.approx(y0 - y1, rel=1e-3)  # equal aspect


def test_prior_button_is_reproducible_and_consistent(digits):
    model = tiny_model()
    ex = explorer.LatentExplorer(model, digits, seed=5)
    ex.random_button.click()
    expected = torch.randn(2, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(ex.z, expected)
    assert ex.image.value == png_of(model, expected)


def test_snap_to_nearest_real_digit(digits):
    model = tiny_model()
    ex = explorer.LatentExplorer(model, digits)
    target = ex.codes[17] + 1e-3
    ex.set_z(target)
    ex.nearest_button.click()
    index = int((ex.codes - target).pow(2).sum(1).argmin())
    assert torch.equal(ex.z, ex.codes[index])
    assert f"#{index}" in ex.info.value and f"<b>{int(digits.labels[index])}</b>" in ex.info.value
    assert ex.nearest_image.value == images.png_bytes(digits.images[index])
    assert ex.image.value == png_of(model, ex.codes[index])


def test_class_picker_samples_from_the_class_density(digits):
    """With zero posterior spread every sample is exactly the code of an image of the requested class."""
    model = tiny_model()
    codes = latent.encode_means(model, digits)
    density = conditional.ClassPosteriors(codes, torch.zeros_like(codes), digits.labels)
    ex = explorer.LatentExplorer(model, digits, density=density)
    for d in (3, 8):
        ex.digit_buttons[d].click()
        matches = torch.nonzero((codes == ex.z).all(1)).squeeze(1)
        assert len(matches) and (digits.labels[matches] == d).all()
        assert ex.image.value == png_of(model, ex.z)
        assert f"<b>{d}</b>" in ex.info.value


def test_larger_latent_uses_principal_directions(digits):
    model = tiny_model(latent_dim=6)
    ex = explorer.LatentExplorer(model, digits, n_sliders=3)
    basis = ex.projection.basis
    assert [s.description for s in ex.sliders] == ["PC1", "PC2", "PC3"]
    assert torch.allclose(basis @ basis.T, torch.eye(3), atol=1e-5)
    spread = ex.projection.coords(ex.codes).var(0)
    assert spread[0] >= spread[1] >= spread[2]  # sorted by variance explained
    start = ex.z
    ex.sliders[1].value = 0.75
    expected = start + (0.75 - float(ex.projection.coords(start)[1])) * basis[1]
    assert torch.allclose(ex.z, expected, atol=1e-5)
    assert ex.image.value == png_of(model, ex.z)
    ex.nearest_button.click()  # a real code is reproduced exactly, also the part outside the sliders' span
    assert any(torch.allclose(ex.z, c, atol=1e-6) for c in ex.codes)


def test_from_checkpoint_without_one_is_clear(tmp_path):
    with pytest.raises(VAEError, match=r"^no checkpoint at .*missing\.pth: train a model first"):
        explorer.LatentExplorer.from_checkpoint(tmp_path / "missing.pth", digits=None)


def test_from_checkpoint_loads_any_checkpoint(save_model, digits):
    model = tiny_model()
    path = save_model(model)
    ex = explorer.LatentExplorer.from_checkpoint(path, digits=digits)
    ex.sliders[0].value = 0.5
    assert ex.image.value == png_of(model, torch.tensor([0.5, 0.0]))


# ----- InterpolationExplorer


def test_interpolation_slider_and_toggle(digits):
    model = tiny_model()
    ie = explorer.InterpolationExplorer(model, digits, start=2, end=7)
    z0, z1 = ie.codes[2], ie.codes[7]
    ie.t.value = 0.3
    assert torch.allclose(ie.z, z0 + 0.3 * (z1 - z0))
    assert ie.image.value == png_of(model, latent.lerp(z0, z1, 0.3))
    lerp_picture = ie.image.value
    ie.method.value = "slerp"
    assert ie.image.value == png_of(model, latent.slerp(z0, z1, 0.3))
    assert ie.image.value != lerp_picture
    assert ie.strip.value == images.png_bytes(latent.codes_to_images(model, ie.walk()), nrow=10)
    torch.testing.assert_close(ie.walk(), latent.interpolate(z0, z1, 10, "slerp"))
    ie.t.value = 1.0
    assert torch.allclose(ie.z, z1, atol=1e-5)
    assert marker_xy(ie.map, ie.projection.plane(ie.z)) in ie.map.overlay.value


def test_interpolation_ends_by_class_and_index(digits):
    model = tiny_model()
    ie = explorer.InterpolationExplorer(model, digits, start=0, end=1)
    ie.end_class.value = 4
    first_four = int(torch.nonzero(digits.labels == 4)[0])
    assert ie.end_index.value == first_four
    assert ie.end_image.value == images.png_bytes(digits.images[first_four])
    assert torch.equal(ie.ends[1], ie.codes[first_four])
    ie.start_index.value = 25  # picking by index shows the class without jumping elsewhere
    assert ie.start_class.value == int(digits.labels[25]) and ie.start_index.value == 25
    ie.t.value = 0.0
    assert ie.image.value == png_of(model, ie.codes[25])


def test_walk_is_the_chosen_path(digits):
    """InterpolationExplorer.walk(): the codes of the whole path between the two ends, lerp or slerp."""
    ie = explorer.InterpolationExplorer(tiny_model(), digits, start=3, end=9, steps=6)
    z0, z1 = ie.codes[3], ie.codes[9]
    assert ie.walk().shape == (6, 2) and ie.walk(steps=4).shape == (4, 2)
    torch.testing.assert_close(ie.walk(), latent.interpolate(z0, z1, 6, "lerp"))
    ie.method.value = "slerp"
    torch.testing.assert_close(ie.walk(4), latent.interpolate(z0, z1, 4, "slerp"))
    assert not torch.allclose(ie.walk(4)[1:-1], latent.interpolate(z0, z1, 4, "lerp")[1:-1])


def test_explorers_leave_the_model_mode_alone(digits):
    """A model in training mode is explored in eval mode (no dropout noise: the same z shows the same digit)
    and is still in training mode afterwards."""
    model = tiny_model().train()
    ex = explorer.LatentExplorer(model, digits)
    ex.sliders[0].value = 0.7
    first = ex.image.value
    ex.sliders[0].value = 0.0
    ex.sliders[0].value = 0.7
    assert ex.image.value == first == png_of(model, torch.tensor([0.7, 0.0]))
    ie = explorer.InterpolationExplorer(model, digits, start=0, end=5)
    ie.t.value = 0.4
    assert ie.image.value == png_of(model, ie.z)
    assert model.training and all(m.training for m in model.modules())


# ----- controls(): every control and its range, read from the widgets


def test_controls_of_the_latent_explorer(digits):
    ex = explorer.LatentExplorer(tiny_model(), digits)
    found = explorer.controls(ex)
    assert [c["description"] for c in found] == ["z1", "z2", "Random z", "Nearest digit", *map(str, range(10))]
    assert [c["kind"] for c in found] == ["slider"] * 2 + ["button"] * 12
    for c, slider, limit in zip(found, ex.sliders, ex.projection.limits, strict=False):
        assert (c["min"], c["max"], c["step"], c["value"]) == (-limit, limit, 0.01, slider.value)
        assert c["options"] is None
    assert all(c["tooltip"] for c in found), "every control says what it does"
    ex.sliders[1].value = 0.25  # read live from the widget, not from a list kept beside it
    assert explorer.controls(ex)[1]["value"] == 0.25


def test_controls_of_the_interpolation_explorer(digits):
    ie = explorer.InterpolationExplorer(tiny_model(), digits, start=3, end=8)
    found = explorer.controls(ie)
    assert [(c["description"], c["kind"]) for c in found] == [
        ("from #", "integer box"),
        ("digit", "dropdown"),
        ("to #", "integer box"),
        ("digit", "dropdown"),
        ("path", "toggle buttons"),
        ("t", "slider"),
    ]
    start, start_class, end, end_class, path, t = found
    assert (start["min"], start["max"], start["value"]) == (0, len(digits) - 1, 3)
    assert end["value"] == 8 and end_class["value"] == int(digits.labels[8])
    assert start_class["options"] == tuple(range(10)) and start_class["value"] == int(digits.labels[3])
    assert path["options"] == ("lerp", "slerp") and path["value"] == "lerp"
    assert (t["min"], t["max"], t["step"], t["value"]) == (0.0, 1.0, 0.01, 0.5)
    assert start_class["tooltip"] != end_class["tooltip"], "the two 'digit' dropdowns are told apart"


def test_controls_in_more_dimensions_name_the_principal_directions(digits):
    ex = explorer.LatentExplorer(tiny_model(latent_dim=6), digits, n_sliders=3)
    sliders = [c for c in explorer.controls(ex) if c["kind"] == "slider"]
    assert [c["description"] for c in sliders] == ["PC1", "PC2", "PC3"]
    assert all("principal direction" in c["tooltip"] for c in sliders)


def test_controls_table_is_markdown_read_from_the_widget(digits):
    ex = explorer.LatentExplorer(tiny_model(), digits)
    lines = explorer.controls_table(ex).splitlines()
    assert lines[0] == "| control | kind | range or options | step | value | what it does |"
    assert lines[1] == "|---|---|---|---|---|---|"
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert all(len(row) == 6 for row in rows)
    limit = ex.projection.limits[0]
    assert rows[0][:5] == ["z1", "slider", f"−{limit:.2f} to {limit:.2f}", "0.01", "0.00"]
    assert [row[0] for row in rows] == ["z1", "z2", "Random z", "Nearest digit", "0 … 9"]  # ten buttons, one row
    ie = explorer.InterpolationExplorer(tiny_model(), digits, start=0, end=1)
    table = explorer.controls_table(ie)
    assert f"| from # | integer box | 0 to {len(digits) - 1} |  | 0 |" in table
    assert "| digit | dropdown | 0, 1, …, 9 |" in table and "| path | toggle buttons | lerp, slerp |  | lerp |" in table


def test_controls_table_edge_cases():
    box = widgets.VBox(
        [
            widgets.HTML("not a control"),
            widgets.HBox([widgets.IntSlider(value=3, min=1, max=9, description="n", tooltip="a | b")]),
            widgets.Button(description="a", tooltip="same"),
            widgets.Button(description="b", tooltip="same"),  # two alike stay two rows; three or more merge
        ]
    )
    assert [c["description"] for c in explorer.controls(box)] == ["n", "a", "b"]
    lines = explorer.controls_table(box).splitlines()
    assert lines[2] == "| n | slider | 1 to 9 | 1 | 3 | a \\| b |"  # a pipe in a tooltip cannot split the row
    assert len(lines) == 5
    assert explorer.controls(widgets.VBox()) == [] and len(explorer.controls_table(widgets.VBox()).splitlines()) == 2
