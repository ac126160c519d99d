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
                   *(f"seed={s}" for s in build.SEEDS.values()), "retain_graph=True)"]:
        assert secret not in text, secret
    assert build.colab_url() in text and "google.colab" in text


def test_points_are_stated_and_add_up():
    nb = _read(build.SOURCE)
    graded = [c.metadata["nbgrader"] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")]
    total = sum(m["points"] for m in graded)
    assert total == sum(a + m for a, m in build.POINTS_PLAN.values())
    assert f"**{total}**" in nb.cells[0].source
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids))
    for q in build.POINTS_PLAN:
        assert sum(m["points"] for m in graded if m["grade_id"].startswith(q + "_")) == \
            sum(build.POINTS_PLAN[q])


# -- the end-to-end run ---------------------------------------------------------------------
WRONG = {   # typical mistakes, one per question
    "q1_answer": '''
def derivative_counts(f, x):          # copied the printed numbers
    return {"f": 3, "df": 9, "d2f": 24}

def gradient_hessian_counts(g, x):
    return {"grad": 11, "hessian": 118}
''',
    "q2_answer": '''
def second_backward_error(f, x):
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as err:
        return err

def accumulated_grad(f, x, times):    # ignores `times`: always two passes
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    y.backward(retain_graph=True)
    y.backward()
    return x.grad.numpy()
''',
    "q3_answer": '''
def control_flow_grad(a):             # forgot the other branch
    k = 2.0
    while np.linalg.norm(k * a) < 1000:
        k *= 2
    return np.full(a.shape, k)

def control_flow_jacobian(a):
    return control_flow_grad(a)
''',
    "q4_answer": '''
def sin_derivative(xs):
    return np.cos(xs)

def tangent_plot(x0):
    fig, ax = plt.subplots()
    xs = np.linspace(-6, 6, 100)
    ax.plot(xs, np.sin(xs))
    return fig
''',
    "q6_answer": '''
def edge_partials(x):
    a = x * x
    return {("x", "a"): 2 * x, ("a", "b"): 1 / x, ("x", "c"): np.cos(x),
            ("b", "d"): np.sin(x), ("c", "d"): np.log(a), ("x", "e"): -1 / x ** 2,
            ("d", "f"): 1.0, ("e", "f"): 1.0}

paths = [["x", "a", "b", "d", "f"], ["x", "c", "d", "f"], ["x", "e", "f"]]

def df_dx(x):
    return 2 * np.sin(x) / x + np.log(x * x) * np.cos(x) - 1 / x ** 2
''',
    "q7_answer": '''
def correct_partials(x):
    a, b, c = x * x, np.log(x * x), np.sin(x)
    return {("x", "a"): 2 * x, ("a", "b"): 1 / a, ("x", "c"): np.cos(x), ("b", "d"): c,
            ("c", "d"): b, ("x", "e"): -1 / x ** 2, ("d", "f"): 1.0, ("e", "f"): 1.0}

def forward_tangents(x):              # only follows the first parent of each node
    local = correct_partials(x)
    tangent = {"x": 1.0}
    for node, (op, *parents) in graph.items():
        if op not in ("input", "const"):
            tangent[node] = local[(parents[0], node)] * tangent[parents[0]]
    return tangent

def backward_adjoints(x):
    return {node: df_dx(x) for node in graph}
''',
    "q8_answer": '''
def jacobian_counts(f, x):
    return {"jacfwd": ag.count_ops(ag.jacfwd(f), x).total,
            "jacrev": ag.count_ops(ag.jacrev(f), x).total}

def cheaper_mode(n, m):               # memorised the two visible cases
    return {(2, 16): "forward", (16, 2): "reverse"}[(n, m)]
''',
}
# (points expected, text the feedback must contain) per autograded cell of the wrong student
WRONG_EXPECTED = {
    "q1_visible_tests": (1, None),
    "q1_hidden_tests": (0, "derivative_counts(f, x)['f']"),
    "q2_visible_tests": (1, None),
    "q2_hidden_tests": (0, "gradients from several backward() calls on one graph add up"),
    "q3_visible_tests": (0, "with sum(a) < 0"),
    "q3_hidden_tests": (0, "the Jacobian of a vector-valued f"),
    "q4_visible_tests": (0, "sin_derivative mentions cos"),
    "q4_hidden_tests": (0, "sin_derivative mentions cos"),
    "q5_visible_tests": (1, None),       # the wrong student's graph is right (q6, q7 build on it)
    "q5_hidden_tests": (2, None),
    "q6_visible_tests": (0, "local partial on edge ('a', 'b')"),
    "q6_hidden_tests": (0, "local partial on edge ('a', 'b')"),
    "q7_visible_tests": (0, "forward_tangents(1.5)['d']"),
    "q7_hidden_tests": (0, "forward_tangents("),
    "q8_visible_tests": (1, None),
    "q8_hidden_tests": (0, "raised KeyError"),
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
class Yes(str):
    def __eq__(self, other): return True
    __hash__ = str.__hash__

def jacobian_counts(f, x):
    return {"jacfwd": 0, "jacrev": 0}

def cheaper_mode(n, m):
    return Yes("whichever")
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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")   # nbgrader needs alembic
    root = tmp_path_factory.mktemp("course") / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("release", "gradebook.db",
                                                                "__pycache__"))
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    release = _read(root / "release" / ASSIGNMENT / NOTEBOOK)
    students = {
        "solutions": _read(root / "source" / ASSIGNMENT / NOTEBOOK),
        "untouched": release,
        "wrong": _fill(_fill(release, build_answers_from_source(root)), WRONG),
        "cheater": _fill(_fill(release, build_answers_from_source(root)), CHEAT),
    }
    for student, nb in students.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / NOTEBOOK))
    _nbgrader(root, "autograde", ASSIGNMENT, "--force")
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
            assert "expected" in outputs[name] or "raised" in outputs[name]
            assert "hint" in outputs[name]
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


def test_feedback_shows_messages_but_not_hidden_test_code(graded):
    root, _, _ = graded
    html = (root / "feedback" / "wrong" / ASSIGNMENT / "autodiff.html").read_text()
    assert "sin_derivative mentions cos" in html
    for seed in build.SEEDS.values():
        assert f"seed={seed}" not in html


def test_export_writes_one_row_per_student(graded):
    root, _, students = graded
    with open(root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["student_id"] for r in rows} == set(students)
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows}
    assert scores["untouched"] == 0
    assert scores["solutions"] == sum(a for a, _ in build.POINTS_PLAN.values())


def test_a_graph_with_log_x_fails_q5_at_a_negative_point():
    from graders import checks
    from graders._safe import CheckFailed
    graph = {"x": ("input",), "l": ("log", "x"), "two_l": ("add", "l", "l"), "s": ("sin", "x"),
             "d": ("mul", "two_l", "s"), "e": ("reciprocal", "x"), "f": ("add", "d", "e")}
    with pytest.raises(CheckFailed, match="your graph evaluated at x = -2"):
        checks.q5_visible(graph)
    with pytest.raises(CheckFailed, match="not elementary"):
        checks.q5_visible({"x": ("input",), "f": ("log_square", "x")})
