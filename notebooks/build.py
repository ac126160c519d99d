"""Build the lecture notebooks from their sources in ``notebooks/src/`` and store them executed.

Usage (from the repository root)::

    .venv/bin/python notebooks/build.py             # build and execute every notebook
    .venv/bin/python notebooks/build.py 05 07       # only the notebooks whose name starts so
    .venv/bin/python notebooks/build.py --no-execute

Each lecture is a jupytext pair (``notebooks/jupytext.toml``): the source ``src/NN_name.py``
in jupytext's percent format, where ``# %% [markdown]`` opens a markdown cell and ``# %%`` a
code cell, and the stored, executed ``NN_name.ipynb``. Editors, linters and diffs read the
source as plain Python; JupyterLab with jupytext opens it as a notebook.

Every notebook opens with its "Open in Colab" badge and the Colab install cell, both made
from the one address in ``_colab.py``. When that address changes, this script rewrites those
two cells in each source and the badges in ``README.md``: a fork changes one line and runs it.
"""
import argparse
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _colab  # noqa: E402

SOURCES = HERE / "src"
FORMAT = "py:percent"
TIME_LIMIT = 30.0  # seconds, per notebook, top to bottom
# What the pairing keeps out of a source (see jupytext.toml): a lecture's cells carry no
# metadata, and the notebook's own metadata is set below.
_NO_METADATA = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}


def colab_cells(name):
    """The badge and install cells every lecture starts with."""
    return [nbformat.v4.new_markdown_cell(_colab.badge_markdown(name)),
            nbformat.v4.new_code_cell(_colab.install_cell_source())]


def read_source(path):
    """The cells of a source file, with its Colab cells made from ``_colab.py``."""
    nb = jupytext.read(str(path), fmt=FORMAT)
    fresh = colab_cells(path.stem + ".ipynb")
    head = [(c.cell_type, c.source) for c in nb.cells[:2]]
    if [c.cell_type for c in nb.cells[:2]] != ["markdown", "code"] or \
            "colab" not in head[0][1].lower():
        raise ValueError(f"{path.name}: a lecture source starts with its Colab badge (markdown) "
                         f"and install cell (code); copy the first two cells of another source")
    nb.cells[:2] = fresh
    return nb


def refresh_source(path):
    """Rewrite a source's Colab cells if ``_colab.py``'s address changed. True if rewritten."""
    old = path.read_text(encoding="utf-8")
    nb = read_source(path)
    nb.metadata = {"jupytext": dict(_NO_METADATA)}
    for cell in nb.cells:
        cell.metadata = {}
    new = jupytext.writes(nb, fmt=FORMAT)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def notebook_from_source(path):
    """The unexecuted notebook for one source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["colab"] = {"provenance": []}
    for cell in read_source(path).cells:
        make = nbformat.v4.new_markdown_cell if cell.cell_type == "markdown" \
            else nbformat.v4.new_code_cell
        nb.cells.append(make(cell.source))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem[:2]}-{i:03d}"   # stable ids keep diffs small
    return nb


def execute(nb, timeout=120):
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    return nb


_COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+/([\w.-]+\.ipynb)")


def update_readme_badges():
    """Point every Colab badge in notebooks/README.md at the address in _colab.py."""
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = _COLAB_LINK.sub(lambda m: _colab.colab_url(m.group(1)), text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print("README.md: Colab badges now point at", _colab.REPO_URL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="build only notebooks starting with these")
    parser.add_argument("--no-execute", action="store_true")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("*.py"))
    if args.prefixes:
        sources = [s for s in sources if s.stem.startswith(tuple(args.prefixes))]
    slow = []
    for src in sources:
        if refresh_source(src):
            print(f"{src.name}: rewritten as jupytext writes it, with the Colab cells for "
                  f"{_colab.REPO_URL}")
        nb = notebook_from_source(src)
        target = HERE / (src.stem + ".ipynb")
        if not args.no_execute:
            start = time.perf_counter()
            execute(nb)
            seconds = time.perf_counter() - start
            print(f"{target.name}: executed in {seconds:.1f} s", flush=True)
            if seconds > TIME_LIMIT:
                slow.append((target.name, seconds))
        nbformat.write(nb, target)
    update_readme_badges()
    if slow:
        raise SystemExit(f"notebooks over the {TIME_LIMIT:.0f} s budget: {slow}")


if __name__ == "__main__":
    try:
        main()
    except ValueError as exc:       # a malformed source: say which, without a traceback
        sys.exit(f"build.py: {exc}")
