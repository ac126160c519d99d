"""The grading pipeline end to end: the battery of bad and hostile submissions, each with its score.

One class (tests/submissions/battery.py) is graded once by ``python -m graders.pipeline`` on a
demo nbgrader course built in a temporary folder; the tests then read what an instructor
reads: grades.csv, grading.log, the feedback pages, the Gradescope JSON and the gradebook.
"""
import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from graders.pipeline.demo_course import make_course

sys.path.insert(0, str(Path(__file__).parent / "submissions"))
from battery import write_battery  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")


def run_cli(*args, timeout=400):
    return subprocess.run([sys.executable, "-m", "graders.pipeline", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    course = make_course(base / "course")
    lms = base / "lms"
    out = base / "out"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    ctx = {"source_notebook": str(course / "source" / "ps1" / "problems.ipynb"),
           "gradebook": str(out / "course" / "gradebook.db"),
           "other_submission": str(lms / "lovelace_1001_555_problems.ipynb"),
           "results_dir": str(out / "results"), "port": listener.getsockname()[1]}
    expected = write_battery(course, lms, ctx)
    proc = run_cli(course, "ps1", lms, "-o", out, "--cell-timeout", 6, "--workers", 2)
    listener.close()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    return {"course": course, "lms": lms, "out": out, "expected": expected, "rows": rows,
            "stdout": proc.stdout, "stderr": proc.stderr}


def _log_line(graded, sid):
    return next(line for line in graded["stdout"].splitlines() if line.startswith(f"{sid}: "))


def test_every_battery_case_gets_its_expected_score(graded):
    wrong = {}
    for sid, (total, _) in graded["expected"].items():
        row = graded["rows"].get(sid)
        got = float(row["score"]) if row else None
        if got != total:
            wrong[sid] = (total, got, _log_line(graded, sid) if row else "missing")
    assert not wrong, json.dumps(wrong, indent=1)


def test_log_line_per_submission_says_what_was_repaired_or_why_zero(graded):
    for sid, (_, text) in graded["expected"].items():
        if text:
            assert text in _log_line(graded, sid), (sid, text)
    n = len(graded["expected"])
    assert f"] 0/{n}" in graded["stderr"] and f"] {n}/{n}" in graded["stderr"]   # the progress bar moved


def test_csv_has_nbgrader_export_columns_and_per_question_columns(graded):
    header = next(csv.reader(open(graded["out"] / "grades.csv")))
    assert header[:11] == ["assignment", "duedate", "timestamp", "student_id", "last_name",
                           "first_name", "email", "raw_score", "late_submission_penalty", "score",
                           "max_score"]
    assert header[11:14] == ["q1", "q2", "q3"]
    row = graded["rows"]["2002"]                  # Moodle "Grace Hopper"
    assert (row["first_name"], row["last_name"], row["q1"], row["q2"]) == ("Grace", "Hopper", "3", "3")
    assert graded["rows"]["1001"]["max_score"] == "8.0"


def test_gradebook_written_once_per_student_and_nbgrader_export_agrees(graded):
    work = graded["out"] / "course"
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "exported.csv",
                    "--log-level=ERROR"], cwd=work, env=env, check=True, timeout=120)
    exported = {r["student_id"]: r for r in csv.DictReader(open(work / "exported.csv"))}
    assert set(exported) == set(graded["rows"])
    for sid, row in graded["rows"].items():
        assert float(exported[sid]["raw_score"]) == float(row["raw_score"]), sid


def test_feedback_shows_results_but_no_hidden_tests_or_solutions(graded):
    page = (graded["out"] / "feedback" / "1004.html").read_text()     # the hard-coder
    assert "q1_hidden" in page and "failed" in page and "square(2.0) should be 4" in page
    for secret in ("BEGIN HIDDEN TESTS", "-7.25", "for _v in", "relative error", "return x * x"):
        assert secret not in page


def test_gradescope_results_json(graded):
    data = json.loads((graded["out"] / "gradescope" / "1004" / "results.json").read_text())
    assert data["score"] == 4.0, run.stdout[-3000:]
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["q1: q1_hidden"]["score"] == 0 and by_name["q1: q1_hidden"]["max_score"] == 2
    assert by_name["q3: q3_answer"]["score"] == 0          # left unanswered: zero, as nbgrader does
    answered = json.loads((graded["out"] / "gradescope" / "1001" / "results.json").read_text())
    assert answered["score"] == 6.0
    assert "score" not in answered["tests"][-1]          # q3 graded by hand later


def test_class_summary_figure_and_table(graded):
    rows = list(csv.DictReader(open(graded["out"] / "summary.csv")))
    assert [r["question"] for r in rows] == ["q1", "q2", "q3"]
    assert int(rows[0]["students"]) == len(graded["expected"])
    assert (graded["out"] / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_rerun_is_idempotent_and_resumes_without_regrading(graded):
    out = graded["out"]
    before = (out / "grades.csv").read_text()
    (out / "results" / "1004.json").unlink()           # as if the run had stopped before 1004
    proc = run_cli(graded["course"], "ps1", graded["lms"], "-o", out, "--cell-timeout", 6,
                   "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(graded['expected']) - 1} submission(s) already graded" in proc.stdout
    graded_now = [line for line in proc.stdout.splitlines() if line.split(":")[0].isdigit()]
    assert [line.split(":")[0] for line in graded_now] == ["1004"]
    assert (out / "grades.csv").read_text() == before


def test_gradescope_package_grades_one_submission_like_gradescope(graded, tmp_path):
    pkg = tmp_path / "package"
    proc = run_cli("gradescope-export", graded["course"], "ps1", "-o", pkg)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (pkg / "setup.sh").exists() and os.access(pkg / "run_autograder", os.X_OK)
    root = tmp_path / "autograder"               # Gradescope's layout
    import shutil
    shutil.copytree(pkg / "source", root / "source")
    (root / "submission").mkdir()
    shutil.copy(graded["lms"] / "hardcoder_1004_557_problems.ipynb", root / "submission" / "Copy of problems.ipynb")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    run = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 4.0, run.stdout[-3000:]
    assert {t["name"]: t.get("score") for t in data["tests"]}["q1: q1_hidden"] == 0
