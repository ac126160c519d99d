"""The stored lecture notebooks: executed cleanly, in sync with their sources, Colab-ready.

The notebooks' own outputs are re-checked by ``pytest notebooks --nbval``; these tests guard
what nbval cannot see: unexecuted cells, a stale build, and the single repository address
used by the Colab badges and install cells.
"""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_config

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_course_{name}", NOTEBOOK_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(NOTEBOOK_DIR))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(NOTEBOOK_DIR))
    return module


colab = _load("_colab")
build = _load("build")

SOURCES = sorted((NOTEBOOK_DIR / "src").glob("*.py"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def _read(path):
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_source_has_a_stored_notebook_and_back():
    assert SOURCES, "no notebook sources found in notebooks/src"
    assert {s.stem for s in SOURCES} == {n.stem for n in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_executed_without_errors(path):
    nb = _read(path)
    counts = []
    for index, cell in enumerate(_code_cells(nb)):
        assert cell.execution_count is not None, f"{path.name}: code cell {index} was not executed"
        counts.append(cell.execution_count)
        for output in cell.outputs:
            assert output.output_type != "error", (
                f"{path.name}: code cell {index} stored an error: {output.ename}: {output.evalue}")
            if output.output_type == "stream":
                assert output.name != "stderr", (
                    f"{path.name}: code cell {index} wrote to stderr: {output.text[:200]}")
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: cells were not run once each, top to bottom, in one kernel: {counts}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_matches_its_source(path):
    """A stored notebook is the build of its source; edit src/*.py, then run build.py."""
    expected = build.notebook_from_source(NOTEBOOK_DIR / "src" / (path.stem + ".py"))
    stored = _read(path)
    assert [(c.cell_type, c.source) for c in stored.cells] == \
        [(c.cell_type, c.source) for c in expected.cells], \
        f"{path.name} is stale: run `.venv/bin/python notebooks/build.py {path.stem[:2]}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_jupytext_pairs_each_notebook_with_its_source(path):
    """jupytext itself, with the folder's jupytext.toml, finds the pair and writes the stored
    notebook back as exactly its source, so `jupytext --sync` and JupyterLab agree with
    build.py."""
    config = load_jupytext_config(str(NOTEBOOK_DIR))
    source = NOTEBOOK_DIR / "src" / (path.stem + ".py")
    assert config is not None, "notebooks/jupytext.toml is missing"
    assert jupytext.writes(_read(path), fmt="py:percent", config=config) == \
        source.read_text(encoding="utf-8"), \
        f"{source.name} and {path.name} differ: run `.venv/bin/python notebooks/build.py`"


@pytest.mark.parametrize("path", SOURCES, ids=[s.name for s in SOURCES])
def test_source_is_plain_python(path):
    """Markdown cells are comments and magics are commented out, so linters read a source."""
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_opens_with_badge_and_colab_install_cell(path):
    nb = _read(path)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source == colab.badge_markdown(path.name)
    first_code = _code_cells(nb)[0]
    assert first_code.source == colab.install_cell_source()
    assert colab.REPO_URL in first_code.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_mentions_no_other_repository_address(path):
    text = "\n".join(c.source for c in _read(path).cells)
    for url in re.findall(r"colab\.research\.google\.com/github/[^\s)\"']+", text):
        assert url.startswith(f"colab.research.google.com/github/{colab.github_path()}/"), url
    for url in re.findall(r"git\+[^\s)\"'{}]+", text):
        assert url == "git+", url      # the address is interpolated from REPO_URL
    assert text.count(colab.REPO_URL) == 1


def test_readme_has_a_badge_for_every_notebook_and_no_dead_links():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert colab.badge_markdown(path.name) in readme, f"README.md lacks the badge of {path.name}"
    for link in re.findall(r"\]\(([\w.-]+\.ipynb)\)", readme):
        assert (NOTEBOOK_DIR / link).exists(), f"README.md links to missing {link}"
    for url in re.findall(r"colab\.research\.google\.com/github/[^\s)]+", readme):
        assert url.startswith(f"colab.research.google.com/github/{colab.github_path()}/"), url


def _run_install_cell(monkeypatch, on_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab.install_cell_source(), "<install cell>", "exec"), {})
    return calls


def test_install_cell_does_nothing_outside_colab(monkeypatch):
    assert _run_install_cell(monkeypatch, on_colab=False) == []


def test_install_cell_pip_installs_the_course_from_the_one_address_on_colab(monkeypatch):
    calls = _run_install_cell(monkeypatch, on_colab=True)
    assert len(calls) == 1
    command = calls[0][0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert f"autograd-lite-course @ git+{colab.REPO_URL}" in command


def test_the_exercise_notebook_uses_the_same_one_address():
    """course/build.py takes the address from notebooks/_colab.py: a fork edits one line."""
    root = Path(__file__).resolve().parents[1]
    for version in ("source", "release"):
        text = (root / "course" / version / "autodiff" / "autodiff.ipynb").read_text()
        assert f"colab.research.google.com/github/{colab.github_path()}/" in text
        assert f"git+{colab.REPO_URL}" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_widget_cells_store_a_static_figure(path):
    """Without a widget front end (GitHub, nbconvert) the slider cells still show a figure."""
    for cell in _code_cells(_read(path)):
        if "figure_with_sliders(" in cell.source and "def figure_with_sliders" not in cell.source:
            kinds = [set(o.get("data", {})) for o in cell.outputs]
            assert any({"image/png", "image/svg+xml"} & k for k in kinds), \
                f"{path.name}: widget cell has no figure"
            assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_drawing_is_stored_as_png_too(path):
    """JupyterLab does not render SVG from an untrusted (freshly cloned) notebook; a PNG
    beside every SVG means a reader sees the picture before running anything."""
    for index, cell in enumerate(_code_cells(_read(path))):
        for output in cell.outputs:
            kinds = set(output.get("data", {}))
            if "image/svg+xml" in kinds:
                assert "image/png" in kinds, \
                    f"{path.name}: code cell {index} stores an SVG with no PNG beside it"


def test_source_without_its_colab_cells_is_refused(tmp_path):
    bad = tmp_path / "99_bad.py"
    bad.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n")
    with pytest.raises(ValueError, match="starts with its Colab badge"):
        build.notebook_from_source(bad)


def test_a_new_address_rewrites_the_colab_cells_of_a_source(tmp_path, monkeypatch):
    """A fork edits REPO_URL once; build.py then rewrites the badge and install cell of each
    source, and the built notebook carries the new address."""
    source = tmp_path / "01_calculus.py"
    source.write_text((NOTEBOOK_DIR / "src" / source.name).read_text(encoding="utf-8"))
    assert not build.refresh_source(source)
    monkeypatch.setattr(build._colab, "REPO_URL", "https://github.com/someone/fork")
    assert build.refresh_source(source)
    text = source.read_text(encoding="utf-8")
    assert "github/someone/fork/blob/" in text and '"https://github.com/someone/fork"' in text
    assert "autograd-lite/autograd-lite-course" not in text
    nb = build.notebook_from_source(source)
    assert nb.cells[0].source == build._colab.badge_markdown("01_calculus.ipynb")
    assert not build.refresh_source(source)
