"""Build the course notebook from its source: the instructor version, its release, the visible data.

    python course/build.py            # course/source/autodiff/autodiff.ipynb + graders/visible_cases.json
    python course/build.py --release  # ... and regenerate course/release/ with nbgrader

The notebook's source is ``course/src/autodiff.py``, in jupytext's percent format: one
``# %%`` header per cell, carrying the cell's nbgrader metadata (grade id, points, solution,
locked). Editors, linters and diffs read it as Python. This script fills in what is computed:

- ``{{colab_badge}}`` and ``{{install_spec}}``, from the repository address in notebooks/_colab.py;
- ``{{points qN}}`` in each question's header and ``{{points_table}}`` in the introduction, from
  the points in the cells' metadata, so the stated points cannot drift from the graded ones.

It also writes ``graders/visible_cases.json``: the visible examples of every question with
their expected values, computed by the instructor's reference solutions
(``course/autodiff_instructor``), so the public visible checks carry numbers, not solutions.
``--release`` runs ``nbgrader generate_assignment`` in a temporary copy of the course (its
gradebook never lands in the repository) and copies the student version back.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

COURSE = Path(__file__).resolve().parent
ROOT = COURSE.parent
# The public repository students open the notebook from, kept with the lecture notebooks'
# in notebooks/_colab.py: a fork changes that one line.
sys.path.insert(0, str(ROOT / "notebooks"))
from _colab import REPO_URL as REPOSITORY, BRANCH  # noqa: E402
ASSIGNMENT = "autodiff"
NOTEBOOK = "autodiff.ipynb"
NOTEBOOK_SOURCE = COURSE / "src" / "autodiff.py"
SOURCE = COURSE / "source" / ASSIGNMENT / NOTEBOOK
RELEASE = COURSE / "release" / ASSIGNMENT / NOTEBOOK
VISIBLE_CASES = ROOT / "graders" / "visible_cases.json"
QUESTION = re.compile(r"^## Question (\d+) \(\{\{points (q\d+)\}\}\)\. (.+)$", re.M)


def colab_url():
    path = REPOSITORY.replace("https://github.com/", "")
    return (f"https://colab.research.google.com/github/{path}/blob/{BRANCH}/course/release/"
            f"{ASSIGNMENT}/{NOTEBOOK}")


def install_spec():
    return f"autograd-lite-course @ git+{REPOSITORY}@{BRANCH}"


def read_source(path=NOTEBOOK_SOURCE):
    return jupytext.read(str(path), fmt="py:percent")


def points(nb):
    """{question: (autograded, by hand)} from the cells' nbgrader metadata."""
    result = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        question = meta["grade_id"].split("_")[0]
        auto, manual = result.get(question, (0, 0))
        kind = "manual" if meta.get("solution") else "auto"
        result[question] = (auto + meta["points"], manual) if kind == "auto" else \
            (auto, manual + meta["points"])
    return result


def titles(nb):
    found = {}
    for cell in nb.cells:
        for number, question, title in QUESTION.findall(cell.source):
            found[question] = title.strip()
    return found


def _points_text(auto, manual):
    text = f"{auto + manual} points: {auto} checked automatically"
    return text + (f", {manual} graded by hand" if manual else "")


def points_table(plan, names):
    rows = "\n".join(f"| {q[1:]} | {names[q]} | {a} | {m} | {a + m} |" for q, (a, m) in plan.items())
    auto = sum(a for a, _ in plan.values())
    manual = sum(m for _, m in plan.values())
    return (f"| Question | Topic | Autograded | By hand | Points |\n|---|---|---|---|---|\n{rows}\n"
            f"| | **Total** | **{auto}** | **{manual}** | **{auto + manual}** |")


def build_notebook(path=NOTEBOOK_SOURCE):
    """The instructor's notebook, with everything computed filled in."""
    nb = read_source(path)
    plan, names = points(nb), titles(nb)
    if sorted(plan) != sorted(names):
        raise RuntimeError(f"questions with points {sorted(plan)} and with headers {sorted(names)} "
                           "differ")
    fill = {"colab_badge": f"[![Open In Colab](https://colab.research.google.com/assets/"
                           f"colab-badge.svg)]({colab_url()})",
            "install_spec": install_spec(), "points_table": points_table(plan, names)}
    fill.update({f"points {q}": _points_text(*plan[q]) for q in plan})
    for i, cell in enumerate(nb.cells):
        cell.source = re.sub(r"\{\{([a-z_ 0-9]+)\}\}", lambda m: fill[m.group(1)], cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "nbgrader"}
        cell["id"] = f"cell-{i:02d}"       # stable ids: rebuilding changes nothing
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(nb)
    return nb


def write_source(path=SOURCE):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(), str(path))
    return path


def visible_cases_bytes():
    """The visible examples and their expected values, as plain data."""
    sys.path.insert(0, str(COURSE))
    sys.path.insert(0, str(ROOT))
    from autodiff_instructor import reference
    from graders import plain
    return plain.encode(reference.visible_cases())


def write_visible_cases(path=VISIBLE_CASES):
    Path(path).write_bytes(visible_cases_bytes())
    return path


def nbgrader_command():
    exe = Path(sys.executable).with_name("nbgrader")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]


def nbgrader_environment():
    """nbgrader runs the ``alembic`` executable from PATH: put the interpreter's bin first."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generate_release(course=COURSE, into=None):
    """Run nbgrader generate_assignment on a temporary copy of ``course``; return the release dir."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "course"
        shutil.copytree(course, root, ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "gradebook.db", "__pycache__"))
        env = nbgrader_environment()
        subprocess.run(nbgrader_command() + ["generate_assignment", ASSIGNMENT, "--force",
                                             f"--db=sqlite:///{root / 'gradebook.db'}"],
                       cwd=root, check=True, capture_output=True, text=True, env=env)
        target = Path(into) if into else course / "release"
        if target.exists():
            shutil.rmtree(target / ASSIGNMENT, ignore_errors=True)
        shutil.copytree(root / "release" / ASSIGNMENT, target / ASSIGNMENT)
        return target / ASSIGNMENT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="store_true",
                        help="also regenerate course/release with nbgrader generate_assignment")
    args = parser.parse_args(argv)
    print("wrote", write_source())
    print("wrote", write_visible_cases())
    if args.release:
        print("wrote", generate_release())


if __name__ == "__main__":
    main()
