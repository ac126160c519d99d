"""The sandbox runs a student's cells in an IPython shell, not a Jupyter kernel (that is what
makes grading fast). A notebook must grade the same as under nbgrader, so the same cells give
the same outputs in both: streams, rich display, display updates, results and ``Out``, magics
and cell magics, warnings, errors, and matplotlib's inline figures.

Each cell runs once in a real ipykernel (nbclient, as nbgrader runs it) and once in a real
sandbox worker, and the outputs are compared after dropping what legitimately differs
(timings, the random file name IPython gives a cell, PNG bytes).
"""
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from graders.pipeline import jail
from graders.pipeline.session import START_METHODS, Worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the sandbox is Linux-only")

CELLS = [
    "import sys, warnings\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nprint('more')",
    "from IPython.display import HTML, Markdown, display\ndisplay(HTML('<b>bold</b>'))\n"
    "display(Markdown('*md*'), {'a': 1})\n3 * 7",
    "Out[2] + 1",
    "%%capture captured\nprint('kept aside')",
    "captured.stdout",
    "handle = display('first', display_id=True)\nhandle.update('second')\nprint('after')",
    "%xmode Plain",
    "a = 5\n%who_ls int",
    "len(_ih) > 0",
    "warnings.warn('careful')",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\n"
    "ax.set_xlabel('n');",
    "plt.plot([3, 2, 1])",
    "import matplotlib\nmatplotlib.get_backend()",
    "x = 1\nx;",                                    # a trailing semicolon: no output
    "def f():\n    return 1 / 0\nf()",
    "undefined_name",
    "print('still running')",
]


def _normal(outputs):
    """What a grade can depend on, without what differs between two correct runs."""
    shown = []
    for o in outputs:
        kind = o["output_type"]
        if kind == "stream":
            text = re.sub(r"^.*?(\w+Warning: )", r"\1", o["text"], flags=re.M)  # drop the path
            shown.append(("stream", o["name"], text))
        elif kind in ("display_data", "execute_result"):
            data = o["data"]
            text = data.get("text/plain", "")
            text = re.sub(r"at 0x[0-9a-f]+", "at 0x…", text)
            shown.append((kind, sorted(data), text if "image/png" not in data else "<figure>",
                          o.get("execution_count")))
        elif kind == "error":
            shown.append(("error", o["ename"], o["evalue"]))
    return shown


def _in_a_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    return [_normal(cell.outputs) for cell in nb.cells]


SILENT = {"x = 1\nx;", "%%capture captured\nprint('kept aside')"}


def _in_the_sandbox(start_method):
    base = Path(tempfile.mkdtemp(prefix="shell-test-"))
    try:
        (base / "root").mkdir()
        (base / "scratch").mkdir()
        spec = jail.Spec(mode="none", root_dir=str(base / "root"), scratch=str(base / "scratch"),
                         uid=-1, read_only=jail.default_read_only())
        worker = Worker(spec, str(base / "diag"), start_method)
        worker.start(60)
        try:
            return [_normal(worker.request({"op": "run", "code": code}, 30)["outputs"])
                    for code in CELLS]
        finally:
            worker.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def in_a_kernel():
    return _in_a_kernel()


@pytest.fixture(scope="module", params=START_METHODS)
def in_the_sandbox(request):
    return _in_the_sandbox(request.param)


def test_the_comparison_sees_outputs(in_a_kernel):
    for code, outputs in zip(CELLS, in_a_kernel):
        assert bool(outputs) == (code not in SILENT), code


@pytest.mark.parametrize("index", range(len(CELLS)), ids=[c.splitlines()[0][:40] for c in CELLS])
def test_a_cell_gives_the_same_outputs_as_in_a_kernel(in_a_kernel, in_the_sandbox, index):
    assert in_the_sandbox[index] == in_a_kernel[index], CELLS[index]
