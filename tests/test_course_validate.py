"""nbgrader's Validate (the button in JupyterLab's assignment list, and `nbgrader validate`)
on the student notebook: a finished notebook validates, an unfinished one is reported
question by question, and neither crashes."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    # The source notebook holds the solutions: as a student's work it must validate cleanly.
    result = _validate(ROOT / "course" / "source" / "autodiff" / "autodiff.ipynb", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_validate_reports_an_unfinished_notebook_without_crashing(tmp_path):
    result = _validate(ROOT / "course" / "release" / "autodiff" / "autodiff.ipynb", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALIDATION FAILED" in result.stdout
    assert "NotImplementedError" in result.stdout      # the unanswered cells are named
    assert "Traceback" not in result.stderr
