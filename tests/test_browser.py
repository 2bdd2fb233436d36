"""A real JupyterLab in a real (headless) browser: run notebook 05, move a latent slider, see the digit change.

The server (tools/screenshots.py's `jupyterlab`, which `make screenshots` uses too) gets a random free port, a
random token and its own temporary root, config and settings folders. The notebook is copied there with its outputs
and saved widget state removed, so everything the test sees comes from this run, and nothing (autosave included) can
write to the repository's notebook. A screenshot is saved under test-artifacts/. Outside CI the test skips when
Chromium or Playwright is missing; in CI (CI=true) it fails.
"""

import os
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_latent_interpolation.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
RUN_TIMEOUT_S = 240  # all cells of notebook 05 in quick mode, on a slow shared CI machine


def fresh_copy(source: Path) -> nbformat.NotebookNode:
    """The notebook without outputs, execution counts or saved widget state."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    return nb


@pytest.fixture
def page(shots):
    reason = shots.missing_tools()
    if reason and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test must run in CI, but {reason}")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(shots.CHROMIUM), args=shots.CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def test_latent_slider_redraws_the_digit_in_jupyterlab(shots, page, mnist_root, tmp_path):
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"VAELIB_QUICK": "1", "VAELIB_DATA_DIR": str(mnist_root)}
    with shots.jupyterlab(tmp_path / "jupyterlab", fresh_copy(NOTEBOOK), NOTEBOOK.name, env) as (url, _):
        try:
            shots.open_and_run(page, url, RUN_TIMEOUT_S)  # fails at once on any stderr output
            digit = page.locator(".vaelib-latent-explorer img.vaelib-decoded")
            digit.wait_for(state="visible", timeout=60_000)
            digit.scroll_into_view_if_needed()
            style = digit.evaluate("el => getComputedStyle(el).imageRendering")
            assert style == "pixelated"  # the explorer's style applies
            src, pixels = digit.get_attribute("src"), digit.screenshot()
            handle = page.locator(".vaelib-latent-explorer .vaelib-slider-0 .noUi-handle")
            handle.focus()
            for _ in range(10):
                handle.press("ArrowRight")
            page.wait_for_function(
                "([el, before]) => el.src !== before", arg=[digit.element_handle(), src], timeout=30_000
            )
            page.wait_for_timeout(500)  # let the last of the ten updates arrive
            assert digit.screenshot() != pixels, "the image element changed its source but shows the same pixels"
            value = page.locator(".vaelib-latent-explorer .vaelib-slider-0 .widget-readout").inner_text()
            assert float(value) == pytest.approx(0.10, abs=1e-6), f"ten steps of 0.01 should read 0.10, got {value}"
        finally:
            page.screenshot(path=str(ARTIFACTS / "browser_05_latent_interpolation.png"), full_page=False)
    print(f"browser test: {time.monotonic() - started:.0f} s from opening the notebook to the changed digit")
