"""Every plot in the lectures has labelled axes, checked by running each notebook.

A hook registered in the kernel before any lecture cell runs looks at every open matplotlib
figure after each cell (before the inline backend shows and closes it) and reports plotting
axes that carry data but lack an x or y label. Drawings with their axes switched off (graphs)
are not plots and are left alone.
"""
import asyncio
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
MARK = "UNLABELLED AXES:"

HOOK = f'''
def _report_unlabelled_axes(*_):
    import sys
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        for ax in plt.figure(number).axes:
            if not ax.axison or not ax.has_data() or ax.name != "rectilinear":
                continue
            missing = [axis for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
                       if not label.strip()]
            if missing:
                print("{MARK}", repr(ax.get_title()), "has no", " or ".join(missing), "label")
get_ipython().events.register("post_execute", _report_unlabelled_axes)
'''


def _unlabelled(nb):
    found = []
    for index, cell in enumerate(nb.cells[1:]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and MARK in output.get("text", ""):
                found.append(f"cell {index}: {output['text'].strip()}")
    return found


async def _run_all(paths, at_once=2):
    """Run the notebooks two at a time: one kernel per core."""
    gate = asyncio.Semaphore(at_once)

    async def run(path):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        nb.cells.insert(0, nbformat.v4.new_code_cell(HOOK))
        async with gate:
            client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                    resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
            await client.async_execute()
        return path.name, _unlabelled(nb)
    return dict(await asyncio.gather(*(run(p) for p in paths)))


@pytest.fixture(scope="module")
def unlabelled():
    return asyncio.run(_run_all(NOTEBOOKS))


def test_the_hook_notices_a_plot_without_labels():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(HOOK), nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\n"
        "ax.set_xlabel('n')")]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert _unlabelled(nb) == [f"cell 0: {MARK} '' has no y label"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_plot_has_labelled_axes(unlabelled, path):
    assert unlabelled[path.name] == [], f"{path.name}: " + "; ".join(unlabelled[path.name])
