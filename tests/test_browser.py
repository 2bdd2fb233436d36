"""A real JupyterLab in a real (headless) browser: run notebook 05, move a latent slider, see the digit change.

The server gets a random free port, a random token and its own temporary root, config and settings folders.
The notebook is copied there with its outputs and saved widget state removed, so everything the test sees comes
from this run, and nothing (autosave included) can write to the repository's notebook. A screenshot is saved
under test-artifacts/. Outside CI the test skips when Chromium or Playwright is missing; in CI (CI=true) it fails.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_latent_interpolation.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
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
RUN_TIMEOUT_S = 240  # all cells of notebook 05 in quick mode, on a slow shared CI machine
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'  # errors and warnings


def missing_tools() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def tools():
    reason = missing_tools()
    if reason and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test must run in CI, but {reason}")
    if reason:
        pytest.skip(reason)


SETTINGS = {  # JupyterLab user settings for the test server
    # render every cell, not only those in view, so the widgets and any stderr output are in the page
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',  # no news pop-up
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(source: Path, target: Path) -> None:
    """The notebook without outputs, execution counts or saved widget state."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, target)


def request(url: str, method: str = "GET", timeout: float = 5):
    return urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout)


@pytest.fixture(scope="module")
def jupyterlab(tools, mnist_root, tmp_path_factory):
    """A JupyterLab server on a free port, rooted in a temporary folder holding a fresh copy of notebook 05."""
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "root"
    root.mkdir()
    fresh_copy(NOTEBOOK, root / NOTEBOOK.name)
    for name, text in SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "VAELIB_QUICK": "1",
        "VAELIB_DATA_DIR": str(mnist_root),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    log = open(home / "server.log", "wb")
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
                    raise RuntimeError(
                        f"JupyterLab did not start:\n{(home / 'server.log').read_text()[-3000:]}"
                    ) from None
                time.sleep(0.5)
        yield {"base": base, "token": token, "root": root}
    finally:
        shut_down(server, base, token)
        log.close()


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


@pytest.fixture
def page(tools):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def wait_for_run_all(page, timeout_s: float) -> None:
    """Wait until every code cell has run and the kernel is idle; fail at once on any stderr output."""
    state = """() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const list = panel.content.model.cells, cells = [];
        for (let i = 0; i < list.length; i++) if (list.get(i).type === 'code') cells.push(list.get(i));
        const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
        return {done: cells.filter(c => c.executionCount !== null).length, total: cells.length,
                idle: kernel !== null && kernel.status === 'idle',
                stderr: Array.from(document.querySelectorAll('STDERR_SELECTOR')).map(e => e.innerText)};
    }""".replace("STDERR_SELECTOR", STDERR)
    deadline = time.monotonic() + timeout_s
    while True:
        now = page.evaluate(state)
        assert not now["stderr"], "a cell wrote to stderr (error or warning):\n" + "\n---\n".join(now["stderr"])
        if now["done"] == now["total"] and now["idle"]:
            return
        assert time.monotonic() < deadline, f"only {now['done']} of {now['total']} cells ran in {timeout_s} s"
        time.sleep(1)


def test_latent_slider_redraws_the_digit_in_jupyterlab(jupyterlab, page):
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{jupyterlab['base']}/lab/tree/{NOTEBOOK.name}?token={jupyterlab['token']}")
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
    try:
        wait_for_run_all(page, RUN_TIMEOUT_S)
        digit = page.locator(".vaelib-latent-explorer img.vaelib-decoded")
        digit.wait_for(state="visible", timeout=60_000)
        digit.scroll_into_view_if_needed()
        assert (
            digit.evaluate("el => getComputedStyle(el).imageRendering") == "pixelated"
        )  # the explorer's style applies
        src, pixels = digit.get_attribute("src"), digit.screenshot()
        handle = page.locator(".vaelib-latent-explorer .vaelib-slider-0 .noUi-handle")
        handle.focus()
        for _ in range(10):
            handle.press("ArrowRight")
        page.wait_for_function("([el, before]) => el.src !== before", arg=[digit.element_handle(), src], timeout=30_000)
        page.wait_for_timeout(500)  # let the last of the ten updates arrive
        assert digit.screenshot() != pixels, "the image element changed its source but shows the same pixels"
        value = page.locator(".vaelib-latent-explorer .vaelib-slider-0 .widget-readout").inner_text()
        assert float(value) == pytest.approx(0.10, abs=1e-6), f"ten steps of 0.01 should read 0.10, got {value}"
    finally:
        page.screenshot(path=str(ARTIFACTS / "browser_05_latent_interpolation.png"), full_page=False)
    print(f"browser test: {time.monotonic() - started:.0f} s from opening the notebook to the changed digit")
