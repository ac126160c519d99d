"""A small nbgrader course with every kind of graded cell, shaped like nbgrader's own example.

nbgrader's documentation course (assignment ps1, students bitdiddle and hacker) has 13 points
in autograded test cells, manually graded answers and a task cell. This course is our own,
with the same kinds and the same total: autograded tests (4 points, one with hidden tests), a
written answer graded by hand (3), a code answer graded by hand (2) and a task cell (4).
``make(root)`` writes it, releases it and puts the two students' notebooks in ``submitted/``.
"""
import subprocess
import sys
from pathlib import Path

import nbformat

from graders.pipeline.demo_course import nbgrader_env

ASSIGNMENT, NOTEBOOK = "ps1", "problem1"


def _meta(grade_id, *, solution=False, grade=False, task=False, points=None, locked=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": (not solution) if locked is None else locked,
            "schema_version": 3, "solution": solution, "task": task}
    if grade or task:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Problem 1\nWrite `squares(n)`, the list of the first n squares.", metadata=_meta("intro")),
        code("def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(1, n + 1)]\n"
             "    ### END SOLUTION", metadata=_meta("squares", solution=True)),
        code("assert squares(3) == [1, 4, 9], 'squares(3)'\n### BEGIN HIDDEN TESTS\n"
             "assert squares(5) == [1, 4, 9, 16, 25], 'squares(5)'\n### END HIDDEN TESTS",
             metadata=_meta("test_squares", grade=True, points=2)),
        code("assert squares(0) == [], 'squares(0)'", metadata=_meta("test_squares_empty", grade=True,
                                                                        points=2)),
        md("Why does a list comprehension read better here?", metadata=_meta("question")),
        md("### BEGIN SOLUTION\nIt says what the list holds.\n### END SOLUTION",
           metadata=_meta("written", solution=True, grade=True, points=3)),
        code("### BEGIN SOLUTION\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
             "plt.plot(squares(10))\n### END SOLUTION",
             metadata=_meta("plot", solution=True, grade=True, points=2)),
        md("**Task (4 points).** Explain in a sentence or two, in the cell below, how the plot "
           "grows.", metadata=_meta("task", task=True, points=4)),
        md("It grows like n squared.", metadata={}),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


ANSWERS = {
    "bitdiddle": {"squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]",
                  "written": "Comprehensions say what the list holds.",
                  "plot": "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                          "plt.plot(squares(10))"},
    "hacker": {"squares": "def squares(n):\n    return [1, 4, 9][:n] if n else [0]"},
}


def make(root):
    root = Path(root)
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'manual'\n")
    nbformat.write(source_notebook(), str(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force",
                    "--log-level=WARN"], cwd=root, check=True, env=nbgrader_env())
    release = nbformat.read(str(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), as_version=4)
    for student, answers in ANSWERS.items():
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = answers[gid]
        target = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
    return root
