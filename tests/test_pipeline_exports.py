"""``autograde-class``'s numbers are nbgrader's: grades.csv against ``nbgrader export``, on a course
with task cells and hand-graded cells; and the class summary keeps pending hand grading apart."""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import manual_course  # noqa: E402

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not (BIN / "nbgrader").exists(), reason="nbgrader not installed")


def _env():
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    course = manual_course.make(base / "course")
    theirs = base / "nbgrader"
    shutil.copytree(course, theirs)
    for args in (["autograde", "ps1"], ["export", "--to", "export.csv"]):
        proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=theirs, env=_env(),
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    out = base / "out"
    proc = subprocess.run([sys.executable, "-m", "graders.pipeline", str(course), "ps1",
                           str(course / "submitted"), "-o", str(out), "--no-progress"],
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    read = lambda p: {r["student_id"]: r for r in csv.DictReader(open(p))}  # noqa: E731
    return read(theirs / "export.csv"), read(out / "grades.csv"), out


def test_max_and_raw_scores_are_nbgraders(both):
    theirs, ours, _ = both
    assert set(theirs) == set(ours) == {"bitdiddle", "hacker"}
    for sid in theirs:
        assert float(ours[sid]["max_score"]) == float(theirs[sid]["max_score"]) == 13.0, sid
        assert float(ours[sid]["raw_score"]) == float(theirs[sid]["raw_score"]), sid
        assert float(ours[sid]["score"]) == float(theirs[sid]["score"]), sid
    assert float(ours["bitdiddle"]["raw_score"]) == 4.0 and float(ours["hacker"]["raw_score"]) == 0.0


def test_pending_hand_grading_is_counted_in_points_and_kept_out_of_the_summary(both):
    _, ours, out = both
    # bitdiddle answered everything: 3 + 2 + 4 points await a grader; hacker left the written
    # answer and the plot untouched (nbgrader scores them 0 at once), so only the task waits
    assert ours["bitdiddle"]["points_pending_hand_grading"] == "9"
    assert ours["hacker"]["points_pending_hand_grading"] == "4"
    rows = list(csv.DictReader(open(out / "summary.csv")))
    by_q = {r["question"]: r for r in rows}
    task = by_q["task"]
    assert task["pending"] == "2" and task["mean"] == "pending"
    assert task["full_marks"] == "0" and task["zero"] == "0"
    written = by_q["written"]
    assert written["pending"] == "1" and written["zero"] == "1"        # hacker's, unanswered
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"
