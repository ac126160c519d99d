"""The nbgrader course end to end: real nbgrader, real kernels, in a temporary copy of course/.

One module-scoped run generates the assignment, submits four students (the solutions, the
untouched release, typical wrong answers, and a student who tries to fool the checks),
autogrades them, generates feedback and exports grades; the tests then read the gradebook.
"""
import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
ASSIGNMENT = "autodiff"
NOTEBOOK = "autodiff.ipynb"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(not (BIN / "nbgrader").exists(), reason="nbgrader not installed")


def _load_build():
    spec = importlib.util.spec_from_file_location("course_build", COURSE / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
sys.path.insert(0, str(Path(__file__).parent / "submissions"))
sys.path.insert(0, str(COURSE))
from autodiff_instructor.seeds import DEFAULT_SEEDS  # noqa: E402


def _cells(nb):
    """What must match between two versions of a notebook: type, source, nbgrader metadata."""
    return [(c.cell_type, c.source, c.metadata.get("nbgrader"), c.metadata.get("editable"),
             c.metadata.get("deletable")) for c in nb.cells]


def _read(path):
    return nbformat.read(str(path), as_version=4)


def test_committed_source_is_what_the_builder_writes():
    committed = _read(build.SOURCE)
    assert _cells(committed) == _cells(build.build_notebook()), \
        "course/source is out of date: run `python course/build.py --release`"


def test_committed_release_matches_nbgrader_generate_assignment(graded):
    root, _, _ = graded          # the fixture ran generate_assignment on a copy of course/source
    fresh = _read(root / "release" / ASSIGNMENT / NOTEBOOK)
    assert _cells(_read(build.RELEASE)) == _cells(fresh), \
        "course/release is out of date with course/source: run `python course/build.py --release`"


def test_release_hides_solutions_seeds_and_rubrics():
    text = build.RELEASE.read_text()
    for secret in ["BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Model answer", "Rubric",
                   "autodiff_instructor", "hidden.q", *map(str, DEFAULT_SEEDS.values()),
                   "retain_graph=True)"]:
        assert secret not in text, secret
    assert build.colab_url() in text and "google.colab" in text


def test_visible_cases_are_what_the_reference_computes():
    assert build.VISIBLE_CASES.read_bytes() == build.visible_cases_bytes(), \
        "graders/visible_cases.json is out of date: run `python course/build.py --release`"


def test_points_are_stated_and_add_up():
    nb = _read(build.SOURCE)
    graded = [c.metadata["nbgrader"] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")]
    total = sum(m["points"] for m in graded)
    plan = build.points(nb)
    assert total == 31 == sum(a + m for a, m in plan.values())
    assert f"**{total}**" in nb.cells[0].source
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids))
    for q, (auto, manual) in plan.items():
        header = next(c.source for c in nb.cells if c.source.startswith(f"## Question {q[1:]} "))
        assert f"({auto + manual} points: {auto} checked automatically" in header


# -- the end-to-end run ---------------------------------------------------------------------
from autodiff_battery import TYPICAL_MISTAKES as WRONG  # noqa: E402

# (points expected, text the feedback must contain) per autograded cell of the wrong student
WRONG_EXPECTED = {
    "q1_visible_tests": (1, None),
    "q1_hidden_tests": (0, "predicted_costs(g, n)["),
    "q2_visible_tests": (1, None),
    "q2_hidden_tests": (0, "gradients from several backward() calls on one graph add up"),
    "q3_visible_tests": (0, "with sum(a) < 0"),
    "q3_hidden_tests": (0, "must follow the branch that a actually takes"),
    "q4_visible_tests": (0, "sin_derivative mentions cos"),
    "q4_hidden_tests": (0, "sin_derivative mentions cos"),
    "q5_visible_tests": (1, None),       # the wrong student's graph is right
    "q5_hidden_tests": (2, None),
    "q6_visible_tests": (0, "local partial on edge ('x', 'u') (mul)"),
    "q6_hidden_tests": (0, "a local partial is wrong on hidden case"),
    "q7_visible_tests": (0, "forward_tangents(graph, x)['p'] on the graph"),
    "q7_hidden_tests": (0, "forward_tangents(graph, x) is wrong at a node on hidden case"),
    "q8_visible_tests": (1, None),
    "q8_hidden_tests": (0, "crossover_m(n) on hidden case"),
}

CHEAT = {   # tricks that must not earn points
    "q3_answer": '''
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True

class Anything(numpy.ndarray):
    def __eq__(self, other): return True
    def __ne__(self, other): return False

def control_flow_grad(a):
    return numpy.zeros(a.shape).view(Anything)

def control_flow_jacobian(a):
    return numpy.zeros((a.size, a.size)).view(Anything)
''',
    "q5_answer": '''
import math, builtins
class Always(float):
    def __eq__(self, other): return True
builtins.abs = lambda v: 0.0
math.isfinite = lambda v: True
math.log = lambda v: 0.0
graph = {"x": ("input",), "f": ("sin", "x")}
''',
    "q8_answer": '''
class Same(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__

def predicted_jacobian_calls(n, m):
    return {"jacfwd": Same(0), "jacrev": Same(0)}

def crossover_m(n):
    return Same(0)
''',
}


def _fill(release_nb, answers):
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id].strip("\n")
    return nb


def _nbgrader(root, *args):
    env = build.nbgrader_environment()
    result = subprocess.run([str(BIN / "nbgrader"), *args, f"--db=sqlite:///{root / 'gradebook.db'}"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"nbgrader {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


# The cheater also rewrites a locked test cell; nbgrader must restore it and say so.
TAMPERED_TEST = "pass  # nothing to check here"

# A student's extra cell that prints the hidden inputs' seeds as plain nbgrader computes them
# (under plain nbgrader the instructor's package is importable from student code).
PROBE = """
from autodiff_instructor import seeds
print("SEEDS", [seeds.seed(q) for q in sorted(seeds.DEFAULT_SEEDS)])
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")   # nbgrader needs alembic
    root = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("release", "gradebook.db",
                                                                "__pycache__", "autograde_secret.txt"))
    from graders.pipeline import secret
    secret.create(root)             # per-submission hidden inputs, as a real offering has them
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    release = _read(root / "release" / ASSIGNMENT / NOTEBOOK)
    probe = _fill(release, build_answers_from_source(root))
    probe.cells.append(nbformat.v4.new_code_cell(PROBE))
    students = {
        "solutions": _read(root / "source" / ASSIGNMENT / NOTEBOOK),
        "untouched": release,
        "wrong": _fill(_fill(release, build_answers_from_source(root)), WRONG),
        "cheater": _fill(_fill(release, build_answers_from_source(root)),
                         dict(CHEAT, q5_visible_tests=TAMPERED_TEST)),
        "probe": probe,
    }
    for student, nb in students.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / NOTEBOOK))
    log = _nbgrader(root, "autograde", ASSIGNMENT, "--force")
    (root / "autograde.log").write_text(log.stdout + log.stderr)
    _nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    _nbgrader(root, "export")
    from nbgrader.api import Gradebook
    gb = Gradebook(f"sqlite:///{root / 'gradebook.db'}")
    yield root, gb, students
    gb.close()


def build_answers_from_source(root):
    """The solution code of every answer cell (so the cheater is right on other questions)."""
    source = _read(root / "source" / ASSIGNMENT / NOTEBOOK)
    answers = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            answers[meta["grade_id"]] = cell.source.replace("### BEGIN SOLUTION\n", "") \
                .replace("\n### END SOLUTION", "")
    return answers


def _autograded_cells(gb):
    nb = gb.find_notebook(NOTEBOOK.removesuffix(".ipynb"), ASSIGNMENT)
    return [c for c in nb.grade_cells if c.cell_type == "code" and not c.name.endswith("_widget")]


def _score(gb, student, cell):
    grade = gb.find_grade(cell, NOTEBOOK.removesuffix(".ipynb"), ASSIGNMENT, student)
    return grade.auto_score


def _outputs_of(root, student):
    nb = _read(root / "autograded" / student / ASSIGNMENT / NOTEBOOK)
    result = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            texts = []
            for out in cell.get("outputs", []):
                texts.append(out.get("text", "") + out.get("evalue", ""))
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    texts.append("<<stderr>>")
            result[grade_id] = "\n".join(texts)
    return result


def test_solutions_get_full_marks_on_every_autograded_cell(graded):
    root, gb, _ = graded
    cells = _autograded_cells(gb)
    assert len(cells) == 16
    outputs = _outputs_of(root, "solutions")
    for cell in cells:
        assert _score(gb, "solutions", cell.name) == cell.max_score, \
            f"{cell.name}: {outputs.get(cell.name)}"
        assert "<<stderr>>" not in outputs[cell.name]


def test_untouched_release_scores_zero_without_crashing(graded):
    root, gb, _ = graded
    for cell in _autograded_cells(gb):
        assert _score(gb, "untouched", cell.name) == 0, cell.name
    outputs = _outputs_of(root, "untouched")
    assert "is not defined" in outputs["q1_visible_tests"]
    assert "Self-check: 0 of 8" in outputs["self_check"]


def test_typical_wrong_answers_get_partial_scores_and_helpful_feedback(graded):
    root, gb, _ = graded
    outputs = _outputs_of(root, "wrong")
    for name, (points, text) in WRONG_EXPECTED.items():
        assert _score(gb, "wrong", name) == points, f"{name}: {outputs[name]}"
        if text:
            assert text in outputs[name], f"{name}: {outputs[name]}"
            assert "hint" in outputs[name]
            if "hidden" in name:       # a hidden case's message never shows its inputs or values
                assert "expected:" not in outputs[name] and "you gave:" not in outputs[name]
            else:
                assert "expected" in outputs[name] or "raised" in outputs[name]
    total = sum(p for p, _ in WRONG_EXPECTED.values())
    assert gb.find_submission(ASSIGNMENT, "wrong").score == total


def test_patched_numpy_builtins_and_always_equal_objects_earn_nothing(graded):
    root, gb, _ = graded
    outputs = _outputs_of(root, "cheater")
    for q in ("q3", "q5", "q8"):
        for kind in ("visible", "hidden"):
            assert _score(gb, "cheater", f"{q}_{kind}_tests") == 0, outputs[f"{q}_{kind}_tests"]
    # the cheater's honest answers still count: one student's tricks do not break other checks
    assert _score(gb, "cheater", "q1_hidden_tests") == 2
    assert _score(gb, "cheater", "q4_hidden_tests") == 2


def test_only_changed_locked_cells_are_reported(graded):
    """nbgrader #1961: a released test cell lacks its hidden region, which plain nbgrader
    reports as a changed checksum for every student; the course's OverwriteCells does not,
    and still reports the one test cell a student did rewrite."""
    root, gb, _ = graded
    warnings = [line for line in (root / "autograde.log").read_text().splitlines()
                if "has changed!" in line]
    assert len(warnings) == 1 and "q5_visible_tests" in warnings[0], warnings
    assert _score(gb, "cheater", "q5_visible_tests") == 0     # the restored test ran


def test_feedback_shows_messages_but_not_hidden_test_code(graded):
    root, _, _ = graded
    html = (root / "feedback" / "wrong" / ASSIGNMENT / "autodiff.html").read_text()
    assert "sin_derivative mentions cos" in html                   # a visible test's message
    assert "a local partial is wrong on hidden case" in html          # a hidden test's message
    for fragment in ["BEGIN HIDDEN TESTS", "autodiff_instructor", "hidden.q", "reference.py",
                     "control_factor", "random_graph", *map(str, DEFAULT_SEEDS.values())]:
        assert fragment not in html, fragment


def test_export_writes_one_row_per_student(graded):
    root, _, students = graded
    with open(root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["student_id"] for r in rows} == set(students)
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows}
    assert scores["untouched"] == 0
    assert scores["solutions"] == sum(a for a, _ in build.points(_read(build.SOURCE)).values())


def test_a_graph_with_log_x_fails_q5_at_a_negative_point():
    from graders import checks
    from graders.judging import CheckFailed
    graph = {"x": ("input",), "l": ("log", "x"), "two_l": ("add", "l", "l"), "s": ("sin", "x"),
             "d": ("mul", "two_l", "s"), "e": ("reciprocal", "x"), "f": ("add", "d", "e")}
    with pytest.raises(CheckFailed, match="your graph evaluated at x = -2"):
        checks.q5_visible(graph)
    with pytest.raises(CheckFailed, match="not elementary"):
        checks.q5_visible({"x": ("input",), "f": ("log_square", "x")})


def test_plain_nbgrader_and_the_pipeline_draw_the_same_hidden_inputs(graded):
    """With a course secret each submission's seeds depend on the student and the answers;
    both graders must derive them alike, or their scores could differ."""
    root, _, students = graded
    from autodiff_instructor import seeds
    from graders.pipeline import repair, secret
    printed = _outputs_of_all(root, "probe")
    in_kernel = next(line for line in printed.splitlines() if line.startswith("SEEDS"))
    template = repair.load_template(root / "release" / ASSIGNMENT / NOTEBOOK,
                                    root / "source" / ASSIGNMENT / NOTEBOOK)
    submitted = repair.read_notebook(nbformat.writes(students["probe"]).encode(), [])
    graded_nb = repair.repair(submitted, template, [])
    digest = secret.answers_digest(graded_nb.cells)
    seeds.COURSE_ROOT = root            # the copy's secret, as the pipeline would read it
    try:
        pipeline = [seeds.seed(q, "probe", digest) for q in sorted(seeds.DEFAULT_SEEDS)]
    finally:
        seeds.COURSE_ROOT = COURSE
    assert in_kernel == f"SEEDS {pipeline}"
    assert pipeline != sorted(seeds.DEFAULT_SEEDS.values())


def _outputs_of_all(root, student):
    nb = _read(root / "autograded" / student / ASSIGNMENT / NOTEBOOK)
    return "\n".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
