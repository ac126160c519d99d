"""`python3 dev.py course` opens one page from which every lecture and the exercises are a
click away, in a JupyterLab rooted at the repository."""
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import dev  # noqa: E402

LANDING = ROOT / dev.LANDING_PAGE
EXERCISE = "course/release/autodiff/autodiff.ipynb"


def _links():
    return re.findall(r"\]\(([^)#]+)\)", LANDING.read_text())


def test_the_landing_page_links_every_lecture_and_the_exercises():
    links = _links()
    lectures = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert lectures and all(lecture in links for lecture in lectures), \
        f"{dev.LANDING_PAGE} should link every lecture: missing {set(lectures) - set(links)}"
    assert EXERCISE in links
    for link in links:
        assert (ROOT / link).exists(), f"{dev.LANDING_PAGE} links {link}, which does not exist"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_jupyterlab_serves_the_lectures_and_the_exercises_from_one_root(tmp_path):
    pytest.importorskip("jupyterlab")
    port, token = _free_port(), "landing-test"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", *dev.lab_args(
            "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**__import__("os").environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        base = f"http://127.0.0.1:{port}/api/contents"
        deadline = time.monotonic() + 90
        while True:
            try:
                top = _get(f"{base}/?token={token}")
                break
            except OSError:
                assert server.poll() is None, "jupyter lab exited at start-up"
                assert time.monotonic() < deadline, "jupyter lab did not start in 90 s"
                time.sleep(0.5)
        names = {item["name"] for item in top["content"]}
        assert {dev.LANDING_PAGE, "notebooks", "course", "autograd_lite"} <= names
        for path in (EXERCISE, "notebooks/01_calculus.ipynb"):
            assert _get(f"{base}/{path}?content=0&token={token}")["type"] == "notebook"
        while not list(tmp_path.glob("jpserver-file-to-run-*-open.html")):
            assert time.monotonic() < deadline, "jupyter lab was given no file to open"
            time.sleep(0.5)
        page = next(tmp_path.glob("jpserver-file-to-run-*-open.html")).read_text()
        assert f"/lab/tree/{dev.LANDING_PAGE}?" in page, "the browser should open the landing page"
    finally:
        server.terminate()
        server.wait(timeout=30)
