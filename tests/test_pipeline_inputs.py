"""What an instructor hands ``autograde-class``: LMS downloads as they really come, and mistakes.

Resubmissions are chosen by the LMS's own evidence (attempt numbers, the times stored in the
zip), never by the order files were extracted; a scratch notebook never replaces the
assignment's; a zip inside the zip is placed by its outer name; a file whose owner cannot be
told is reported, not given an invented id. Bad input gets one clear line, a non-zero exit,
no traceback, and no half-made output folder.
"""
import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from graders.pipeline import discover
from graders.pipeline.demo_course import CORRECT, make_course, student_notebook

BIN = Path(sys.executable).parent


def _nb(course, answers=None):
    return nbformat.writes(student_notebook(course, answers))


def _zip(path, entries):
    """entries: (name, text, (year, month, day, hour, minute, second)) in the order given."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, text, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), text)
    return path


def _discover(tmp_path, zip_path, names=("problems",)):
    dest = tmp_path / "x"
    dest.mkdir()
    nested = discover.extract_zip(zip_path, dest)
    return discover.discover(dest, list(names), "ps1", nested=nested)


def test_the_latest_attempt_is_graded_whatever_the_extraction_order(tmp_path):
    early, late = (2026, 3, 1, 9, 0, 0), (2026, 3, 2, 9, 0, 0)
    z = _zip(tmp_path / "canvas.zip", [
        ("lovelace_1001_900_problems-2.ipynb", "{}", early),      # attempt 2, listed first
        ("lovelace_1001_800_problems-1.ipynb", "{}", late),       # attempt 1, stamped later
        ("lovelace_1001_700_problems.ipynb", "{}", late),
        ("Grace Hopper_2002_assignsubmission_file_/problems (1).ipynb", "{}", early),
        ("Grace Hopper_2002_assignsubmission_file_/problems.ipynb", "{}", late),
    ])
    subs, problems = _discover(tmp_path, z)
    found = {s.student_id: s for s in subs}
    assert found["1001"].files["problems"].name == "lovelace_1001_900_problems-2.ipynb"
    notes = " ".join(found["1001"].notes)
    assert "(the latest attempt)" in notes
    assert "lovelace_1001_800_problems-1.ipynb" in notes and "lovelace_1001_700_problems.ipynb" in notes
    assert found["2002"].files["problems"].name == "problems.ipynb"       # the later time
    assert "graded problems.ipynb" in " ".join(found["2002"].notes)
    assert problems == []


def test_a_scratch_notebook_never_replaces_the_assignments_own(tmp_path):
    course = make_course(tmp_path / "course")
    z = _zip(tmp_path / "moodle.zip", [
        ("Grace Hopper_2002_assignsubmission_file_/problems.ipynb", _nb(course, CORRECT), (2026, 3, 1, 9, 0, 0)),
        ("Grace Hopper_2002_assignsubmission_file_/scratch.ipynb", "{}", (2026, 3, 2, 9, 0, 0)),
        ("turing_3003_555_my attempt.ipynb", "{}", (2026, 3, 2, 9, 0, 0)),
        ("turing_3003_556_final.ipynb", _nb(course, CORRECT), (2026, 3, 1, 9, 0, 0)),
    ])
    from graders.pipeline import grade
    work = grade.prepare_course(course, "ps1", tmp_path / "work")
    dest = tmp_path / "x"
    dest.mkdir()
    discover.extract_zip(z, dest)
    subs, _ = discover.discover(dest, ["problems"], "ps1",
                                resemblance=grade.resemblance(grade.load_templates(work, "ps1")))
    found = {s.student_id: s for s in subs}
    assert found["2002"].files["problems"].name == "problems.ipynb"
    assert "it has the assignment's name" in " ".join(found["2002"].notes)
    assert "skipped scratch.ipynb" in " ".join(found["2002"].notes)
    assert found["3003"].files["problems"].name == "turing_3003_556_final.ipynb"   # looks like it
    assert "it looks most like the assignment" in " ".join(found["3003"].notes)


def test_a_zip_inside_the_zip_is_placed_by_its_outer_name(tmp_path):
    inner = tmp_path / "inner.zip"
    _zip(inner, [("problems/problems.ipynb", "{}", (2026, 3, 1, 9, 0, 0))])
    z = _zip(tmp_path / "canvas.zip", [("kahan_6030_90030_problems.zip", inner.read_bytes(),
                                        (2026, 3, 1, 9, 0, 0))])
    subs, problems = _discover(tmp_path, z)
    assert [s.student_id for s in subs] == ["6030"]
    assert subs[0].last_name == "kahan"
    assert problems == []


def test_colab_names_without_an_owner_are_reported_not_given_ids(tmp_path):
    z = _zip(tmp_path / "loose.zip", [("Copy of problems.ipynb", "{}", (2026, 3, 1, 9, 0, 0)),
                                      ("Copy of problems (1).ipynb", "{}", (2026, 3, 1, 9, 0, 0)),
                                      ("ada_problems.ipynb", "{}", (2026, 3, 1, 9, 0, 0))])
    subs, problems = _discover(tmp_path, z)
    assert [s.student_id for s in subs] == ["ada"]
    assert len(problems) == 2 and all("not whose" in p for p in problems)


def test_zip_times_become_file_times(tmp_path):
    z = _zip(tmp_path / "t.zip", [("a/problems.ipynb", "{}", (2025, 1, 2, 3, 4, 6))])
    (tmp_path / "x").mkdir()
    discover.extract_zip(z, tmp_path / "x")
    import time
    assert time.localtime(os.path.getmtime(tmp_path / "x" / "a" / "problems.ipynb"))[:6] == (2025, 1, 2, 3, 4, 6)


# -- the command line --------------------------------------------------------------------------------
def run_cli(*args, timeout=600):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "graders.pipeline", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("demo") / "course")


def _bad(tmp_path, course, target, expected, *extra):
    out = tmp_path / "out"
    proc = run_cli(course, "ps1", target, "-o", out, "--no-progress", *extra)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("autograde-class: ") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists(), "no half-made output folder"
    return lines[0]


def test_a_path_that_does_not_exist(tmp_path, course):
    _bad(tmp_path, course, tmp_path / "nowhere.zip", "does not exist")


def test_a_file_that_is_not_a_zip(tmp_path, course):
    (tmp_path / "grades.txt").write_text("not a zip")
    _bad(tmp_path, course, tmp_path / "grades.txt", "neither a zip")


def test_a_truncated_zip(tmp_path, course):
    z = _zip(tmp_path / "full.zip", [(f"s{i}_{1000 + i}_{i}_problems.ipynb", _nb(course, CORRECT) * 3,
                                      (2026, 3, 1, 9, 0, 0)) for i in range(5)])
    data = z.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    _bad(tmp_path, course, tmp_path / "cut.zip", "cut.zip")


def test_a_zip_with_no_notebooks(tmp_path, course):
    z = _zip(tmp_path / "empty.zip", [("readme.txt", "hello", (2026, 3, 1, 9, 0, 0))])
    _bad(tmp_path, course, z, "no submitted notebook found")


def test_a_missing_course_or_assignment_leaves_no_output_folder(tmp_path, course):
    z = _zip(tmp_path / "c.zip", [("ada_problems.ipynb", _nb(course, CORRECT), (2026, 3, 1, 9, 0, 0))])
    message = _bad(tmp_path, course.parent / "elsewhere", z, "does not exist")
    assert "course root" in message
    out = tmp_path / "out"
    proc = run_cli(course, "ps9", z, "-o", out)
    assert proc.returncode == 2 and "no assignment 'ps9'" in proc.stderr and "ps1" in proc.stderr
    assert not out.exists()


def test_success_claims_only_files_it_wrote(tmp_path, course):
    z = _zip(tmp_path / "c.zip", [("ada_problems.ipynb", _nb(course, CORRECT), (2026, 3, 1, 9, 0, 0)),
                                  ("Copy of problems.ipynb", _nb(course), (2026, 3, 1, 9, 0, 0))])
    out = tmp_path / "out"
    proc = run_cli(course, "ps1", z, "-o", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    last = [line for line in proc.stdout.splitlines() if line.startswith("wrote ")][-1]
    for name in ("grades.csv", "feedback/", "gradescope/", "summary.csv", "summary.png"):
        assert name in last and (out / name.rstrip("/")).exists()
    assert "skipped: Copy of problems.ipynb: the file's name says only which notebook" in proc.stdout
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert [r["student_id"] for r in rows] == ["ada"]


def test_help_describes_every_argument_the_limits_an_example_and_the_subcommands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())       # argparse wraps lines at the terminal's width
    for option in ("course_root", "assignment", "input", "--out", "--workers", "--id-rule",
                   "--cell-timeout", "--submission-timeout", "--memory-mb", "--max-processes",
                   "--max-file-mb", "--max-restarts", "--isolation", "--require-isolation"):
        assert option in text, option
    for default in ("(default: 30.0)", "(default: 300.0)", "(default: 2048)", "(default: 64)",
                    "(default: 4)"):
        assert default in text, default
    assert "example:" in text and "autograde-class course autodiff submissions.zip" in text
    assert "gradescope-export" in text and "init" in text
