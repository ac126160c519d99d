"""End to end, as a student sees it: JupyterLab in headless Chromium, the tanh/derivative
widget, a slider moved with the keyboard, and a plot that must change.

Uses Debian's ``chromium`` (``apt-get install chromium``) driven by Python Playwright through
its executable path; no browser is ever downloaded. Skips, saying why, when either is missing.
Screenshots are kept in pytest's tmp dir (printed on failure).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_autograd_in_practice.ipynb"
GRAPH_NOTEBOOK = NOTEBOOK.with_name("03_forward_mode.ipynb")     # stored with graph drawings
SERVER_START_TIMEOUT = 90      # seconds
KERNEL_START_TIMEOUT = 60      # seconds
RUN_ALL_TIMEOUT = 120_000      # milliseconds: kernel start plus all cells
REDRAW_TIMEOUT = 30            # seconds for the figure to change after the slider moves

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) "
                "to run the browser test", allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Python playwright is not installed (pip install playwright)")
pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")

pytestmark = pytest.mark.timeout(400)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url, method="GET"):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving temporary copies of two lecture notebooks."""
    root = tmp_path / "root"
    root.mkdir()
    for notebook in (NOTEBOOK, GRAPH_NOTEBOOK):
        shutil.copy(notebook, root / notebook.name)
    settings = tmp_path / "lab-settings"
    # Render every cell (no windowing), so the widget cell exists in the page wherever it is.
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited early; log: {tmp_path / 'jupyterlab.log'}")
            try:
                _get_json(f"{base}/api/status?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s")
                time.sleep(0.5)
        yield base, token, tmp_path
    finally:
        try:
            for kernel in _get_json(f"{base}/api/kernels?token={token}") or []:
                _get_json(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        except OSError:
            pass
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def _wait_for_idle_kernel(page, base, token, timeout=KERNEL_START_TIMEOUT):
    """Accept the kernel chooser if a fresh JupyterLab shows it, then wait for an idle kernel."""
    deadline = time.monotonic() + timeout
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    while time.monotonic() < deadline:
        if accept.count() and accept.first.is_visible():
            accept.first.click()
        kernels = _get_json(f"{base}/api/kernels?token={token}") or []
        if kernels and all(k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.5)
    pytest.fail(f"no idle kernel within {timeout} s of opening the notebook")


def _wait_for_settled_redraw(image, src_before, shots, quiet=1.5):
    """Wait until the figure differs from ``src_before`` and has stopped changing.

    Each key press may redraw the output (the old <img> is replaced), so the last one only
    counts once the figure has kept the same content for ``quiet`` seconds."""
    deadline = time.monotonic() + REDRAW_TIMEOUT
    last, since = src_before, time.monotonic()
    while True:
        try:
            src = image.get_attribute("src", timeout=2_000)
        except playwright_api.Error:          # between a clear and the new image
            src = None
        now = time.monotonic()
        if src != last:
            last, since = src, now
        elif src is not None and src != src_before and now - since >= quiet:
            return
        if now > deadline:
            changed = "changed but kept changing" if last != src_before else "did not change"
            pytest.fail(f"the plot {changed} within {REDRAW_TIMEOUT} s of moving the slider; "
                        f"screenshots in {shots}")
        time.sleep(0.25)


def _screenshot(image, path, attempts=3):
    """A screenshot of the current figure, trying again if a redraw replaced the element."""
    for attempt in range(attempts):
        try:
            return image.screenshot(path=str(path))
        except playwright_api.Error:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def test_moving_the_tanh_slider_redraws_the_plot(lab):
    base, token, tmp_path = lab
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=60_000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=60_000)
            _wait_for_idle_kernel(page, base, token)

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            slider_cell = page.locator(".jp-CodeCell", has=page.locator(".widget-slider"))
            slider_cell.first.wait_for(state="visible", timeout=RUN_ALL_TIMEOUT)
            cell = slider_cell.first
            image = cell.locator(".jp-OutputArea-output img").last
            image.wait_for(state="visible", timeout=30_000)
            image.scroll_into_view_if_needed()
            src_before = image.get_attribute("src")
            before = _screenshot(image, shots / "before.png")
            readout_before = cell.locator(".widget-readout").first.inner_text()

            handle = cell.locator(".noUi-handle, .ui-slider-handle").first
            handle.focus()
            for _ in range(10):
                handle.press("ArrowRight")
            _wait_for_settled_redraw(image, src_before, shots)
            after = _screenshot(image, shots / "after.png")
            readout_after = cell.locator(".widget-readout").first.inner_text()
        except Exception:
            page.screenshot(path=str(shots / "failure.png"), full_page=True)
            print(f"failure screenshot: {shots / 'failure.png'}; server log: "
                  f"{tmp_path / 'jupyterlab.log'}")
            raise
        finally:
            browser.close()
    print(f"screenshots: {shots}; slider {readout_before} -> {readout_after}")
    assert readout_after != readout_before, "the slider value did not move"
    assert before != after, f"before/after screenshots are identical; see {shots}"


def test_an_unrun_fresh_notebook_shows_its_graph_drawings(lab):
    """A fresh clone is untrusted, and JupyterLab renders no SVG there: the stored PNG shows."""
    base, token, tmp_path = lab
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{GRAPH_NOTEBOOK.name}?token={token}", timeout=60_000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=60_000)
            images = page.locator(".jp-OutputArea-output img")
            images.first.wait_for(state="attached", timeout=30_000)
            widths = images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
            text = page.locator(".jp-Notebook").inner_text()
        finally:
            browser.close()
    assert widths and all(0 < w <= 900 for w in widths), widths
    assert "<computational graph" not in text, "a drawing shows as its text fallback"
