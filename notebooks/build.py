"""Build the lecture notebooks from ``notebooks/src/*.txt`` and store them executed.

Usage (from the repository root)::

    .venv/bin/python notebooks/build.py             # build and execute every notebook
    .venv/bin/python notebooks/build.py 05 07       # only the notebooks whose name starts so
    .venv/bin/python notebooks/build.py --no-execute

A source file is a sequence of cells, each opened by a line ``%% md`` or ``%% code``.
The slider figure is ``autograd_lite.instruments.widgets.figure_with_sliders``; the line
``%% slider-helper`` is kept for older sources and inserts a cell importing it. Every notebook
gets, in front, a markdown cell with its "Open in Colab" badge and the Colab install cell,
both made from the one address in ``_colab.py``; the badges in ``README.md`` are
rewritten from it too. A fork changes that one line and runs this script.
"""
import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _colab  # noqa: E402

SOURCES = HERE / "src"
TIME_LIMIT = 30.0  # seconds, per notebook, top to bottom

# The slider figure lives in the library (autograd_lite/instruments/widgets.py); a source
# imports it like any other function. The old marker line still works: it inserts the import.
SLIDER_IMPORT = "from autograd_lite.instruments.widgets import figure_with_sliders"

_MARKER = re.compile(r"^%% (md|code|slider-helper)\s*$")


def parse_source(text):
    """Split a source file into (kind, text) cells."""
    cells, kind, lines = [], None, []
    for line in text.splitlines():
        match = _MARKER.match(line)
        if match:
            if kind is not None:
                cells.append((kind, "\n".join(lines).strip("\n")))
            kind, lines = match.group(1), []
            if kind == "slider-helper":
                cells.append(("code", SLIDER_IMPORT))
                kind = None
        elif kind is None:
            if line.strip():
                raise ValueError(f"text before the first '%% md' or '%% code' line: {line!r}")
        else:
            lines.append(line)
    if kind is not None:
        cells.append((kind, "\n".join(lines).strip("\n")))
    return cells


def notebook_from_source(path):
    """The unexecuted notebook for one source file."""
    name = path.stem + ".ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["colab"] = {"provenance": []}
    cells = [nbformat.v4.new_markdown_cell(_colab.badge_markdown(name)),
             nbformat.v4.new_code_cell(_colab.install_cell_source())]
    for kind, text in parse_source(path.read_text(encoding="utf-8")):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cells.append(make(text))
    for i, cell in enumerate(cells):
        cell["id"] = f"{path.stem[:2]}-{i:03d}"   # stable ids keep diffs small
    nb.cells = cells
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
    sources = sorted(SOURCES.glob("*.txt"))
    if args.prefixes:
        sources = [s for s in sources if s.stem.startswith(tuple(args.prefixes))]
    slow = []
    for src in sources:
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
    main()
