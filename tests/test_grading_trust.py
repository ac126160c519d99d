"""Grading that students cannot read or game, on the real course, through ``autograde-class``.

One class (tests/submissions/autodiff_battery.py: the model answers, typical mistakes, and
every attack on the checks the battery knows) is graded once from an LMS zip, with a course
secret. The tests then read what students and instructors get, and look in all of it for any
fragment of the hidden tests: their code, their seeds, the secret, the reference solutions,
and the hidden inputs a student's code was handed.
"""
import contextlib
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
import autodiff_battery  # noqa: E402

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only"),
              pytest.mark.skipif(not (Path(sys.executable).parent / "nbgrader").exists(),
                                 reason="nbgrader not installed")]
BIN = Path(sys.executable).parent


def run_cli(*args, timeout=900, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "graders.pipeline", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env or dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"))


def copy_course(target):
    shutil.copytree(ROOT / "course", target, ignore=shutil.ignore_patterns(
        "submitted", "autograded", "feedback", "gradebook.db", "__pycache__", "autograde_secret.txt"))
    return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("trust")
    course = copy_course(base / "course")
    init = run_cli("init", course)
    assert init.returncode == 0, init.stderr
    lms, out = base / "lms", base / "out"
    lms.mkdir()
    # files the grader's user can read in /tmp and in a home folder: student code must not
    tmp_marker = Path(tempfile.mkstemp(prefix="grader-private-")[1])
    home = base / "home" / "instructor"
    home.mkdir(parents=True)
    (home_marker := home / "notes.txt").write_text("private")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    ctx = {"zip": str(base / "class.zip"), "other_submission": str(lms / "lovelace_1001_901_autodiff.ipynb"),
           "course_notebook": str(course / "source" / "autodiff" / "autodiff.ipynb"),
           "reference": str(course / "autodiff_instructor" / "reference.py"),
           "secret": str(course / "autograde_secret.txt"), "results_dir": str(out / "results"),
           "input_folder": str(lms), "course_root": str(course),
           "tmp_marker": str(tmp_marker), "home_marker": str(home_marker),
           "port": listener.getsockname()[1]}
    expected = {}
    with zipfile.ZipFile(ctx["zip"], "w") as zf:
        for name, nb, total in autodiff_battery.cases(course, ctx):
            text = nbformat.writes(nb)
            (lms / name).write_text(text)
            zf.writestr(name, text)
            expected[name.split("_")[1]] = (name, total)
    proc = run_cli(course, "autodiff", ctx["zip"], "-o", out, "--workers", 2, "--no-progress")
    listener.close()
    tmp_marker.unlink()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    return {"base": base, "course": course, "lms": lms, "out": out, "expected": expected,
            "rows": rows, "stdout": proc.stdout, "stderr": proc.stderr}


def _log_line(graded, sid):
    return next((line for line in graded["stdout"].splitlines() if line.startswith(f"{sid}: ")), "")


def test_every_case_gets_its_exact_score(graded):
    wrong = {}
    for sid, (name, total) in graded["expected"].items():
        row = graded["rows"].get(sid)
        got = float(row["score"]) if row else None
        if got != total:
            wrong[name] = (total, got, _log_line(graded, sid))
    assert not wrong, json.dumps(wrong, indent=1)
    assert len(graded["expected"]) >= 17


def test_crash_and_endless_loop_in_a_hidden_test_cost_that_test_only(graded):
    for sid, what in (("1016", "kernel died"), ("1017", "longer than")):
        result = json.loads((graded["out"] / "results" / f"{sid}.json").read_text())
        cells = {c["grade_id"]: c for c in result["notebooks"]["autodiff"]["cells"]}
        assert cells["q3_visible_tests"]["score"] == 1 and cells["q3_hidden_tests"]["score"] == 0
        assert cells["q8_hidden_tests"]["score"] == 2           # later questions still graded
        assert what in _log_line(graded, sid) or "stopped" in _log_line(graded, sid), _log_line(graded, sid)


# -- what may never reach anyone ------------------------------------------------------------------
def _hidden_sources(course):
    src = nbformat.read(str(course / "source" / "autodiff" / "autodiff.ipynb"), as_version=4)
    lines = []
    for cell in src.cells:
        if "BEGIN HIDDEN TESTS" in cell.source:
            inside = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            lines += [line.strip() for line in inside.splitlines() if line.strip()]
    return lines


@contextlib.contextmanager
def course_seeds(graded):
    """The instructor's seeds module, reading the secret of the course copy this test made."""
    sys.path.insert(0, str(graded["course"]))
    from autodiff_instructor import seeds
    saved = seeds.COURSE_ROOT
    seeds.COURSE_ROOT = graded["course"]
    try:
        yield seeds
    finally:
        seeds.COURSE_ROOT = saved


def _seeds_and_inputs(graded):
    """Every student's seeds, and the hidden inputs the smuggler's control_flow_grad was handed."""
    with course_seeds(graded) as seeds:
        return _seeds_and_inputs_with(graded, seeds)


def _seeds_and_inputs_with(graded, seeds):
    from autodiff_instructor import reference
    from graders.pipeline import secret
    found, inputs = [], []
    for sid, (name, _) in graded["expected"].items():
        digest = secret.answers_digest_of_file(graded["lms"] / name)
        for q in seeds.DEFAULT_SEEDS:
            found.append(str(seeds.seed(q, sid, digest)))
        if sid == "1015":
            rng = np.random.default_rng(seeds.seed("q3", sid, digest))
            inputs = [repr(case["a"].tolist()) for case in reference.cases("q3", rng)]
            inputs = [text for text in inputs if text.count(",") > 1]      # the 2-d and 3-d ones
    return found, inputs


def _fragments(graded):
    seeds, inputs = _seeds_and_inputs(graded)
    from autodiff_instructor.seeds import DEFAULT_SEEDS
    return (_hidden_sources(graded["course"]) + seeds + inputs +
            [str(s) for s in DEFAULT_SEEDS.values()] +
            [(graded["course"] / "autograde_secret.txt").read_text().strip(),
             "autodiff_instructor", "control_factor", "random_graph", "F_GRAPH", "reference.py",
             "derive_seed"])


def _student_and_instructor_outputs(graded):
    out = graded["out"]
    texts = {"stdout": graded["stdout"], "stderr": graded["stderr"]}
    for path in [out / "grades.csv", out / "summary.csv", out / "grading.log",
                 *(out / "feedback").glob("*.html"), *(out / "gradescope").rglob("*.json")]:
        texts[str(path.relative_to(out))] = path.read_text()
    for path in (out / "course" / "autograded").rglob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                texts[f"{path.relative_to(out)}:{cell.metadata['nbgrader']['grade_id']}"] = \
                    json.dumps(cell.get("outputs", []))
    return texts


def test_no_hidden_fragment_reaches_any_output(graded):
    fragments = _fragments(graded)
    assert len(fragments) > 100
    leaks = [(where, f) for where, text in _student_and_instructor_outputs(graded).items()
             for f in fragments if f in text]
    assert not leaks, leaks[:10]


def test_nbgrader_feedback_built_from_the_pipelines_gradebook_has_no_hidden_fragment(graded):
    work = graded["out"] / "course"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([str(BIN / "nbgrader"), "generate_feedback", "autodiff", "--force"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = {p: p.read_text() for p in (work / "feedback").rglob("*.html")}
    assert len(pages) == len(graded["expected"])
    _, smuggled = _seeds_and_inputs(graded)
    leaks = []
    for page, text in pages.items():
        sid = page.relative_to(work / "feedback").parts[0]
        own = (graded["lms"] / graded["expected"][sid][0]).read_text()   # a page shows its own code
        leaks += [(sid, f) for f in _fragments(graded) if f in text and f not in own
                  and not (sid == "1015" and f in smuggled)]
    assert not leaks, leaks[:10]
    wrong = next(text for p, text in pages.items() if "1003" in str(p))
    assert "on hidden case" in wrong and "hint:" in wrong


def test_a_student_who_keeps_their_hidden_inputs_learns_nothing_reusable(graded):
    """The smuggler prints its hidden inputs in a later cell of its own notebook (plain nbgrader
    feedback shows a student their own cells). Those inputs come from the secret, the student
    and the answers: any changed submission gets others, and so does every other student."""
    from graders.pipeline import secret
    path = graded["lms"] / graded["expected"]["1015"][0]
    digest = secret.answers_digest_of_file(path)
    nb = nbformat.read(str(path), as_version=4)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3_answer").source += "\n# v2"
    changed = secret.answers_digest(nb.cells)
    assert changed != digest
    with course_seeds(graded) as seeds:
        assert seeds.seed("q3", "1015", changed) != seeds.seed("q3", "1015", digest)
        assert seeds.seed("q3", "1001", digest) != seeds.seed("q3", "1015", digest)
    feedback = (graded["out"] / "feedback" / "1015.html").read_text()
    _, smuggled = _seeds_and_inputs(graded)
    assert smuggled and not any(text in feedback for text in smuggled)


def test_the_log_names_the_isolation_and_the_secret_is_used(graded):
    assert "isolation: full" in graded["stdout"]
    assert "no course secret" not in graded["stdout"]


def test_without_a_secret_the_log_says_the_seeds_are_public(graded, tmp_path):
    course = copy_course(tmp_path / "course")
    nb = autodiff_battery.notebook(course)
    (tmp_path / "in").mkdir()
    nbformat.write(nb, str(tmp_path / "in" / "lovelace_1001_901_autodiff.ipynb"))
    proc = run_cli(course, "autodiff", tmp_path / "in", "-o", tmp_path / "out", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no course secret" in proc.stdout and "autograde-class init" in proc.stdout
    assert "1001: 24/31" in proc.stdout


def test_init_refuses_to_replace_a_secret(graded):
    proc = run_cli("init", graded["course"])
    assert proc.returncode == 1 and "already exists" in proc.stderr
