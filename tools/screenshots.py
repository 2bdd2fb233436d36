"""Screenshots of the two latent explorers as JupyterLab shows them, for readers without a running kernel.

    .venv/bin/python tools/screenshots.py                 # writes notebooks/images/{latent,interpolation}_explorer.png
    .venv/bin/python tools/screenshots.py --out DIR       # somewhere else

What it does, with the machinery of the browser test (tests/test_browser.py): starts JupyterLab on a free port with
a random token and its own temporary root, config and settings folders; writes there a small notebook that shows
`LatentExplorer` and `InterpolationExplorer` on the shipped 2-D model and the MNIST test digits; opens it in headless
Chromium (/usr/bin/chromium, driven by Playwright) and runs it; then uses each widget as a learner would (drags
sliders with the mouse, presses a button, picks the slerp path), waits for the decoded digit to change, and saves
an element screenshot of each widget. Works offline: MNIST is read from VAELIB_DATA_DIR (default data/), never
downloaded, and no browser is downloaded either.
"""

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "images"
NAMES = {"latent": "latent_explorer.png", "interpolation": "interpolation_explorer.png"}
MAX_BYTES = 150_000  # each PNG: small enough for the notebook's stored outputs and the README
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTINGS = {  # JupyterLab user settings for this server only
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'  # errors and warnings
VIEWPORT = {"width": 1280, "height": 1000}
RUN_TIMEOUT_S = 300  # the notebook's cells: load the model and MNIST, encode 20,000 images, two widgets
# What the screenshots show: the latent explorer moved to this code, then snapped to the nearest real test digit;
# the interpolation explorer walking from the first 1 of the test set to the first 7 along the arc, at this t.
LATENT_TARGET = {0: -0.5, 1: -2.0}  # slider index -> value: among the 0s
INTERPOLATION_T = 0.55
MARGIN = 6  # pixels of white kept around a widget when its picture is trimmed

CELLS = [
    """import vaelib
from vaelib.core import conditional
from vaelib.notebook import explorer

model, _ = vaelib.load_model(vaelib.pretrained_path(2))
mnist = vaelib.load_mnist(download=False)
density = conditional.class_densities(model, mnist.train.head(conditional.FIT_IMAGES))""",
    "explorer.LatentExplorer(model, mnist.test, density=density)",
    """start = int((mnist.test.labels == 1).nonzero()[0])
end = int((mnist.test.labels == 7).nonzero()[0])
explorer.InterpolationExplorer(model, mnist.test, start=start, end=end)""",
]


class ScreenshotError(RuntimeError):
    """Something the learner or maintainer can act on: a missing tool, MNIST, or a widget that did not respond."""


def screenshot_notebook() -> nbformat.NotebookNode:
    """The notebook JupyterLab runs: the model, the test digits, and the two explorers, each in a cell of its own."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


def missing_tools() -> str | None:
    """Why the screenshots cannot be taken here, or None."""
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, method: str = "GET", timeout: float = 5):
    return urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout)


@contextlib.contextmanager
def jupyterlab(home: Path, notebook: nbformat.NotebookNode, name: str = "explorers.ipynb", env: dict | None = None):
    """A JupyterLab server rooted in home/root, which holds `notebook` as `name`; yields (url of the notebook, log)."""
    root = home / "root"
    root.mkdir(parents=True)
    nbformat.write(notebook, root / name)
    for setting, text in SETTINGS.items():
        (home / "settings" / setting).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / setting).write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        **(env or {}),
        "OMP_NUM_THREADS": "1",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    log_path = home / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    request(f"{base}/api/status?token={token}")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise ScreenshotError(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}") from None
                    time.sleep(0.5)
            yield f"{base}/lab/tree/{name}?token={token}", log_path
        finally:
            shut_down(server, base, token)


def shut_down(server: subprocess.Popen, base: str, token: str) -> None:
    """Ask the server to stop (it shuts its kernels down), then kill its process group if it lingers."""
    try:
        request(f"{base}/api/shutdown?token={token}", method="POST")
        server.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        pass
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


KERNEL_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const list = panel.content.model.cells, cells = [];
    for (let i = 0; i < list.length; i++) if (list.get(i).type === 'code') cells.push(list.get(i));
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return {done: cells.filter(c => c.executionCount !== null).length, total: cells.length,
            idle: kernel !== null && kernel.status === 'idle',
            stderr: Array.from(document.querySelectorAll('STDERR_SELECTOR')).map(e => e.innerText)};
}""".replace("STDERR_SELECTOR", STDERR)


def kernel_state(page) -> dict:
    state = page.evaluate(KERNEL_STATE)
    if state["stderr"]:
        raise ScreenshotError("a cell wrote to stderr (error or warning):\n" + "\n---\n".join(state["stderr"]))
    return state


def open_and_run(page, url: str, timeout_s: float = RUN_TIMEOUT_S) -> None:
    """Open the notebook, run all its cells, and wait until every one ran and the kernel is idle."""
    page.goto(url)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext",
        timeout=120_000,
    )
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
    }""")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + timeout_s
    while True:
        state = kernel_state(page)
        if state["done"] == state["total"] and state["idle"]:
            return
        if time.monotonic() > deadline:
            raise ScreenshotError(f"only {state['done']} of {state['total']} cells ran in {timeout_s} s")
        time.sleep(1)


def keys_to(current: float, target: float, step: float) -> tuple[str, int]:
    """The arrow key and how many presses move a slider from `current` to `target` in steps of `step`."""
    presses = round((target - current) / step)
    return ("ArrowRight" if presses > 0 else "ArrowLeft"), abs(presses)


def track_x(left: float, width: float, value: float, low: float, high: float) -> float:
    """Where on a slider's track (pixels from `left`, `width` wide) the handle of `value` in [low, high] sits."""
    return left + width * (min(max(value, low), high) - low) / (high - low)


def set_slider(page, slider, value: float, low: float, high: float, step: float = 0.01) -> None:
    """Drag the handle of `slider` (a locator of an ipywidgets slider) to `value` with the mouse, then correct the
    last pixel's worth with the arrow keys until its readout shows `value` exactly."""
    handle, track = slider.locator(".noUi-handle"), slider.locator(".noUi-target")
    handle.scroll_into_view_if_needed()
    grip, box = handle.bounding_box(), track.bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track_x(box["x"], box["width"], value, low, high), y, steps=12)
    page.mouse.up()
    readout = slider.locator(".widget-readout")
    for _ in range(3):
        current = float(readout.inner_text().replace("−", "-"))
        key, presses = keys_to(current, value, step)
        if presses == 0:
            return
        handle.focus()
        for _ in range(presses):
            handle.press(key)
    raise ScreenshotError(f"the slider reads {readout.inner_text()}, not {value}")


def wait_until_settled(page, image, before: str, timeout_s: float = 30) -> None:
    """Wait until `image` (a locator of an <img>) shows a source other than `before`, the kernel is idle, and the
    source has stayed the same for a moment (the last of several updates has arrived)."""
    deadline, last, steady = time.monotonic() + timeout_s, None, 0
    while steady < 3:
        if time.monotonic() > deadline:
            raise ScreenshotError("the decoded digit did not change after moving the slider")
        src = image.get_attribute("src")
        steady = steady + 1 if src == last and src != before and kernel_state(page)["idle"] else 0
        last = src
        time.sleep(0.3)


def calm(page) -> None:
    """No focus ring, no hover state, no blinking caret in the picture."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(2, 2)
    page.wait_for_timeout(300)


def slider_range(slider) -> tuple[float, float]:
    """A slider's (min, max), read from its noUiSlider handle's ARIA attributes."""
    handle = slider.locator(".noUi-handle")
    return float(handle.get_attribute("aria-valuemin")), float(handle.get_attribute("aria-valuemax"))


def shoot_latent_explorer(page, path: Path) -> None:
    """Drag z1 and z2 to LATENT_TARGET, wait for the digit, snap to the nearest test digit, save the widget."""
    widget = page.locator(".vaelib-latent-explorer")
    digit = widget.locator("img.vaelib-decoded")
    for index, value in LATENT_TARGET.items():
        slider = widget.locator(f".vaelib-slider-{index}")
        before = digit.get_attribute("src")
        set_slider(page, slider, value, *slider_range(slider))
        wait_until_settled(page, digit, before)
    before = digit.get_attribute("src")
    widget.get_by_role("button", name="Nearest digit").click()
    widget.locator("text=nearest test digit").wait_for(timeout=30_000)
    with contextlib.suppress(ScreenshotError):  # the nearest code may decode to the very same picture
        wait_until_settled(page, digit, before, timeout_s=5)
    calm(page)
    widget.screenshot(path=str(path))


def shoot_interpolation_explorer(page, path: Path) -> None:
    """Pick the slerp path, drag t to INTERPOLATION_T, wait for the digit, save the widget."""
    widget = page.locator(".vaelib-interpolation-explorer")
    digit = widget.locator("img.vaelib-decoded")
    before = digit.get_attribute("src")
    widget.get_by_role("button", name="slerp").click()
    wait_until_settled(page, digit, before)
    before = digit.get_attribute("src")
    slider = widget.locator(".vaelib-slider-t")
    set_slider(page, slider, INTERPOLATION_T, 0.0, 1.0)
    wait_until_settled(page, digit, before)
    calm(page)
    widget.screenshot(path=str(path))


def trim(path: Path, margin: int = MARGIN) -> None:
    """Cut the white the output area leaves around the widget, then frame it in `margin` pixels of white; re-save."""
    from PIL import Image, ImageChops

    with Image.open(path) as image:
        picture = image.convert("RGB")
    box = ImageChops.difference(picture, Image.new("RGB", picture.size, "white")).getbbox()
    if box is not None:
        picture = picture.crop(box)
    framed = Image.new("RGB", (picture.width + 2 * margin, picture.height + 2 * margin), "white")
    framed.paste(picture, (margin, margin))
    framed.save(path, format="PNG", optimize=True)


def check_png(path: Path, max_bytes: int = MAX_BYTES) -> tuple[int, int, int]:
    """(width, height, bytes) of a saved screenshot; ScreenshotError when it is not a PNG, empty, or too large."""
    from PIL import Image

    size = path.stat().st_size
    with Image.open(path) as image:
        if image.format != "PNG" or min(image.size) < 100:
            raise ScreenshotError(f"{path} is not a PNG of a widget ({image.format}, {image.size})")
        width, height = image.size
    if size > max_bytes:
        raise ScreenshotError(f"{path} has {size:,} bytes, more than the {max_bytes:,} allowed")
    return width, height, size


def take_screenshots(out: Path = OUT, data_dir: Path | None = None) -> dict[str, Path]:
    """Run both explorers in JupyterLab in a headless browser and save a PNG of each under `out`."""
    from vaelib.core import data, settings

    reason = missing_tools()
    if reason:
        raise ScreenshotError(f"cannot take screenshots: {reason}")
    data_dir = Path(data_dir or settings.data_dir())
    if data.missing_files(data_dir):
        raise ScreenshotError(f"MNIST not found under {data_dir}: set VAELIB_DATA_DIR to a folder with MNIST/raw/")
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / name for kind, name in NAMES.items()}
    with tempfile.TemporaryDirectory(prefix="vaelib-screenshots-") as home:
        env = {"VAELIB_DATA_DIR": str(data_dir), "VAELIB_QUICK": ""}
        with jupyterlab(Path(home), screenshot_notebook(), env=env) as (url, _), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                open_and_run(page, url)
                shoot_latent_explorer(page, paths["latent"])
                shoot_interpolation_explorer(page, paths["interpolation"])
            finally:
                browser.close()
    for path in paths.values():
        trim(path)
        check_png(path)
    return paths


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder for the PNGs (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        paths = take_screenshots(args.out)
    except ScreenshotError as error:
        sys.exit(f"screenshots: {error}")
    for path in paths.values():
        width, height, size = check_png(path)
        print(f"wrote {path} ({width} x {height} px, {size / 1000:.0f} kB)")
    print(f"in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
