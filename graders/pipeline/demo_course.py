"""A small nbgrader course (one assignment, three questions) for trying and testing the pipeline.

``make_course(root)`` writes ``nbgrader_config.py`` and ``source/ps1/problems.ipynb`` and runs
``nbgrader generate_assignment``; ``student_notebook(root, answers)`` returns the released
notebook with chosen answer cells filled in, the way a student would hand it back.
The tests convert every answer to plain floats before comparing, so an object whose ``==``
always says True earns nothing.
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ASSIGNMENT = "ps1"
NOTEBOOK = "problems"

SOLUTIONS = {
    "q1_answer": "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
    "q2_answer": ("def normalize(v):\n    ### BEGIN SOLUTION\n"
                  "    v = np.asarray(v, dtype=float)\n    return v / np.sqrt((v * v).sum())\n"
                  "    ### END SOLUTION"),
    "q3_answer": "### BEGIN SOLUTION\nSquaring doubles the relative error.\n### END SOLUTION",
}

CORRECT = {
    "q1_answer": "def square(x):\n    return x * x",
    "q2_answer": ("def normalize(v):\n    v = np.asarray(v, dtype=float)\n"
                  "    return v / np.sqrt((v * v).sum())"),
    "q3_answer": "Squaring doubles the relative error.",
}

Q1_VISIBLE = "assert float(square(3)) == 9.0, 'square(3) should be 9'\nprint('q1 visible passed')"
Q1_HIDDEN = ("assert float(square(2.0)) == 4.0, 'square(2.0) should be 4'\n"
             "### BEGIN HIDDEN TESTS\n"
             "for _v in [1.5, -7.25, 11.0]:\n"
             "    assert float(square(_v)) == _v * _v, f'square({_v}) is wrong'\n"
             "### END HIDDEN TESTS")
Q2_TESTS = ("_got = np.array(normalize([3.0, 4.0]), dtype=float)\n"
            "assert _got.shape == (2,), 'normalize should keep the shape'\n"
            "assert np.allclose(_got, [0.6, 0.8]), 'normalize([3, 4]) should be [0.6, 0.8]'\n"
            "### BEGIN HIDDEN TESTS\n"
            "_v = np.array([1.0, -2.0, 2.0])\n"
            "assert np.allclose(np.array(normalize(_v), dtype=float), _v / 3.0), 'hidden vector'\n"
            "### END HIDDEN TESTS")


def _meta(grade_id, *, solution=False, grade=False, points=None, locked=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": (not solution) if locked is None else locked,
            "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Problem set 1\nAnswer in the cells marked YOUR CODE HERE.", metadata=_meta("intro")),
        code("import numpy as np", metadata=_meta("setup")),
        md("**Q1 (3 points).** Write `square(x)`.", metadata=_meta("q1_text")),
        code(SOLUTIONS["q1_answer"], metadata=_meta("q1_answer", solution=True)),
        code(Q1_VISIBLE, metadata=_meta("q1_visible", grade=True, points=1)),
        code(Q1_HIDDEN, metadata=_meta("q1_hidden", grade=True, points=2)),
        md("**Q2 (3 points).** Write `normalize(v)`, the unit vector along `v`.",
           metadata=_meta("q2_text")),
        code(SOLUTIONS["q2_answer"], metadata=_meta("q2_answer", solution=True)),
        code(Q2_TESTS, metadata=_meta("q2_tests", grade=True, points=3)),
        md("**Q3 (2 points, graded by hand).** Why does squaring double the relative error?",
           metadata=_meta("q3_text")),
        md(SOLUTIONS["q3_answer"], metadata=_meta("q3_answer", solution=True, grade=True, points=2)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_course(root, generate=True):
    """Write the demo course under ``root`` and (by default) run ``nbgrader generate_assignment``."""
    root = Path(root)
    (root / "source" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'demo'\n")
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    if generate:
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                        "--force", "--log-level=WARN"], cwd=root, check=True, env=nbgrader_env())
    return root


def nbgrader_env():
    """The environment for nbgrader subprocesses: the venv's bin on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def student_notebook(root, answers=None):
    """The released notebook with ``answers`` ({grade_id: source}) written into answer cells."""
    nb = nbformat.read(Path(root) / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell.source = answers[grade_id]
    return nb
