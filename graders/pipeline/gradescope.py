"""Past one machine: a Gradescope autograder package that grades with the same pipeline.

``autograde-class gradescope-export COURSE_ROOT ASSIGNMENT -o DIR`` writes DIR/ with
``setup.sh``, ``run_autograder`` and ``source/`` (a copy of the course root with its check
modules and secret, the private course copy with the generated release and gradebook, and
the ``graders`` and ``autograd_lite`` packages); zip DIR's contents and upload them as the
autograder. The package holds the hidden checks and the course secret: upload it to
Gradescope only, never anywhere public. On Gradescope, ``run_autograder`` calls
``gradescope-run``, which grades /autograder/submission (any notebook names) exactly as the
class pipeline does (repair, sandbox, guarded tests) and writes
/autograder/results/results.json. ``AUTOGRADER_ROOT`` and ``AUTOGRADER_PYTHON`` override the
root and interpreter (the tests use them to run the package in a temporary folder).
"""
import argparse
import json
import shutil
import stat
import sys
import tempfile
from pathlib import Path

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when building the autograder image.
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv
python3 -m pip install --upgrade pip
python3 -m pip install "numpy>=1.23" "nbformat>=5" "nbclient>=0.7" "ipykernel>=6" "jupyter_client>=8" \\
    "nbgrader>=0.9" "matplotlib>=3.5"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{AUTOGRADER_PYTHON:-python3}}"
export PYTHONPATH="$ROOT/source/code${{PYTHONPATH:+:$PYTHONPATH}}"
mkdir -p "$ROOT/results"
exec "$PY" -m graders.pipeline gradescope-run --root "$ROOT" --assignment {assignment}
"""


def export(course_root, assignment, dest):
    from .grade import prepare_course
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "source" / "code").mkdir(parents=True)
    from .grade import NBGRADER_FOLDERS
    keep_source = lambda folder, names: [n for n in names if n in NBGRADER_FOLDERS and  # noqa: E731
                                         not (n == "source" and Path(folder) == Path(course_root))]
    shutil.copytree(course_root, dest / "source" / "course-root", ignore=keep_source)
    prepare_course(dest / "source" / "course-root", assignment, dest / "source" / "course")
    repo = Path(__file__).resolve().parents[2]
    for package in ("graders", "autograd_lite"):
        shutil.copytree(repo / package, dest / "source" / "code" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment))):
        path = dest / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        shutil.copy(path, dest / "source" / name)
    return dest


def run(root, assignment):
    """Grade /autograder/submission and write /autograder/results/results.json."""
    from . import discover, grade, report
    root = Path(root)
    work = root / "source" / "course"
    templates = grade.load_templates(work, assignment)
    results_path = root / "results" / "results.json"
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        sub_dir = Path(tmp) / "student"
        shutil.copytree(root / "submission", sub_dir)
        subs, _ = discover.discover(Path(tmp), list(templates), assignment,
                                    rules=[r"^(?P<student_id>student)/(?:.*/)?(?P<file>[^/]+)$"])
        if not subs:
            results_path.write_text(json.dumps({"score": 0, "output": "No .ipynb notebook was found in "
                                                "your submission. Upload your notebook file.", "tests": []}))
            return 0
        out = Path(tmp) / "out"
        subs[0].student_id = _gradescope_student(root) or subs[0].student_id
        results = grade.grade_class(subs[:1], work, assignment, out, root / "source" / "course-root",
                                    workers=1, log=print)
        res = next(iter(results.values()))
        results_path.write_text(json.dumps(report.gradescope_json(res), indent=1))
    return 0


def _gradescope_student(root):
    """The submitter's Gradescope user id, from the metadata Gradescope writes beside the
    submission (it seeds the student's hidden inputs)."""
    try:
        meta = json.loads((Path(root) / "submission_metadata.json").read_text())
        return str(meta["users"][0]["id"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""


def main(argv):
    p = argparse.ArgumentParser(prog="autograde-class " + argv[0])
    if argv[0] == "gradescope-export":
        p.add_argument("course_root")
        p.add_argument("assignment")
        p.add_argument("-o", "--out", required=True)
        args = p.parse_args(argv[1:])
        dest = export(args.course_root, args.assignment, args.out)
        print(f"Gradescope autograder written to {dest}: zip its contents and upload them")
        return 0
    p.add_argument("--root", default="/autograder")
    p.add_argument("--assignment", required=True)
    args = p.parse_args(argv[1:])
    return run(args.root, args.assignment)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
