"""tools/screenshots.py: pictures of the two explorers for readers without a kernel (notebook 05, the README).

The pieces run everywhere; the whole command (JupyterLab in headless Chromium, about a minute and a half on a
two-core machine) runs where the browser test runs: in CI (CI=true) it must, elsewhere it skips when Chromium or
Playwright is missing. It writes to a temporary folder, never to notebooks/images/.
"""

import ast
import os
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_screenshots_are_there_and_small(shots):
    """The pictures notebook 05 shows and the README links to: PNGs of a readable size, under the size limit."""
    for name in shots.NAMES.values():
        width, height, size = shots.check_png(ROOT / "notebooks" / "images" / name)
        assert 500 <= width <= 1200 and 300 <= height <= 900 and size <= shots.MAX_BYTES


def test_the_notebook_shows_both_explorers_on_the_shipped_model(shots):
    nb = shots.screenshot_notebook()
    sources = [cell.source for cell in nb.cells]
    for source in sources:
        ast.parse(source)
    code = "\n".join(sources)
    assert "vaelib.pretrained_path(2)" in code and "load_mnist(download=False)" in code  # offline
    last_lines = [source.splitlines()[-1] for source in sources]  # a cell displays its last expression
    assert any(line.startswith("explorer.LatentExplorer(") for line in last_lines)
    assert any(line.startswith("explorer.InterpolationExplorer(") for line in last_lines)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_keys_to_reach_a_slider_value(shots):
    assert shots.keys_to(0.0, 0.1, 0.01) == ("ArrowRight", 10)
    assert shots.keys_to(-0.49, -0.5, 0.01) == ("ArrowLeft", 1)
    assert shots.keys_to(0.55, 0.55, 0.01)[1] == 0


def test_track_position_of_a_value(shots):
    assert shots.track_x(100, 200, 0.0, -5, 5) == 200
    assert shots.track_x(100, 200, -5.0, -5, 5) == 100 and shots.track_x(100, 200, 9.0, -5, 5) == 300  # clamped
    assert shots.track_x(0, 120, 0.25, 0.0, 1.0) == 30


def test_trim_frames_the_widget_in_a_small_margin(shots, tmp_path):
    path = tmp_path / "widget.png"
    picture = Image.new("RGB", (400, 300), "white")
    picture.paste(Image.new("RGB", (150, 120), "black"), (20, 30))
    picture.save(path)
    shots.trim(path, margin=6)
    with Image.open(path) as trimmed:
        assert trimmed.size == (162, 132)
        assert trimmed.getpixel((0, 0)) == (255, 255, 255) and trimmed.getpixel((6, 6)) == (0, 0, 0)


def test_check_png_refuses_what_is_not_a_widget_picture(shots, tmp_path):
    small = tmp_path / "tiny.png"
    Image.new("RGB", (50, 50), "white").save(small)
    with pytest.raises(shots.ScreenshotError, match="not a PNG of a widget"):
        shots.check_png(small)
    jpeg = tmp_path / "widget.jpg"
    Image.new("RGB", (400, 300), "white").save(jpeg, format="JPEG")
    with pytest.raises(shots.ScreenshotError, match="not a PNG"):
        shots.check_png(jpeg)
    large = tmp_path / "noise.png"
    Image.effect_noise((400, 400), 100).convert("RGB").save(large)
    with pytest.raises(shots.ScreenshotError, match="more than the 1,000 allowed"):
        shots.check_png(large, max_bytes=1000)


def test_missing_mnist_is_a_clear_error(shots, tmp_path, monkeypatch):
    monkeypatch.setattr(shots, "missing_tools", lambda: None)
    with pytest.raises(shots.ScreenshotError, match=r"^MNIST not found under .*VAELIB_DATA_DIR"):
        shots.take_screenshots(tmp_path / "out", data_dir=tmp_path / "empty")


def test_take_screenshots_in_jupyterlab(shots, mnist_root, tmp_path):
    """The whole command: both explorers run in JupyterLab, respond to the mouse, and are saved as PNGs."""
    reason = shots.missing_tools()
    if reason and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the screenshot test must run in CI, but {reason}")
    if reason:
        pytest.skip(reason)
    paths = shots.take_screenshots(tmp_path, data_dir=mnist_root)
    assert set(paths) == {"latent", "interpolation"}
    for path in paths.values():
        width, height, size = shots.check_png(path)
        assert width >= 500 and height >= 300, f"{path.name} is {width} x {height}: not the whole widget"
