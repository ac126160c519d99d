"""nbgrader's Validate (the button in JupyterLab's assignment list, and `nbgrader validate`)
on the student notebook: a finished notebook validates, an unfinished one is reported
question by question, and neither crashes."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(not (BIN / "nbgrader").exists(), reason="nbgrader not installed")


def _validate(notebook, tmp_path):
    work = tmp_path / "student"
    work.mkdir()
    target = work / "autodiff.ipynb"
    shutil.copy(notebook, target)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "nbgrader"), "validate", str(target)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)


def test_validate_accepts_a_finished_notebook(tmp_path):
    # The release with the model answers filled in, as a student who finished would have it
    # (students validate without the instructor's hidden checks, which are not installed).
    sys.path.insert(0, str(ROOT / "tests" / "submissions"))
    from autodiff_battery import notebook
    finished = tmp_path / "finished.ipynb"
    nb = notebook(ROOT / "course")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "The gradient's cost stays a small multiple of the function's."
    nbformat.write(nb, str(finished))
    result = _validate(finished, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_validate_reports_an_unfinished_notebook_without_crashing(tmp_path):
    result = _validate(ROOT / "course" / "release" / "autodiff" / "autodiff.ipynb", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALIDATION FAILED" in result.stdout
    assert "NotImplementedError" in result.stdout      # the unanswered cells are named
    assert "Traceback" not in result.stderr
