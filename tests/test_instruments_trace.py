"""Evaluation traces: values from the library, tangents from jvp, adjoints from grad."""
import math
from html.parser import HTMLParser

import numpy as np
import pytest

import autograd_lite as ag


def survey(x1, x2):                        # Baydin et al.'s running example
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


def eq5(x1, x2):                           # seed 000, eq. 5
    return x1 * x2 + x2 - ag.log(x1)


def scalar(v):
    return float(np.asarray(v))


# -- the survey example, checked against closed forms derived by hand -------------------
def test_survey_primal_trace_names_and_values():
    tr = ag.trace(survey, 2.0, 5.0)
    table = tr.primal_table()
    names = [r["name"] for r in table.rows]
    assert names == ["v_{-1}", "v_0", "v_1", "v_2", "v_3", "v_4", "v_5", "y"]
    assert [r["primitive"] for r in table.rows[2:7]] == ["log", "mul", "add", "sin", "sub"]
    assert table["v_1"]["value"] == pytest.approx(math.log(2.0))
    assert table["v_4"]["value"] == pytest.approx(math.sin(5.0))      # negative: sin 5 < 0
    assert table["v_4"]["value"] < 0
    assert tr.value == pytest.approx(math.log(2) + 10 - math.sin(5))
    assert table["y"]["expression"] == "v_5"
    assert table["v_2"]["expression"] == "v_{-1} × v_0"


def test_survey_forward_mode_both_directions():
    tr = ag.trace(survey, 2.0, 5.0)
    d1 = tr.forward(seed=(1.0, 0.0))
    d2 = tr.forward(seed=(0.0, 1.0))
    assert d1.result == pytest.approx(1 / 2.0 + 5.0)                 # 1/x1 + x2 = 5.5
    assert d2.result == pytest.approx(2.0 - math.cos(5.0))            # x1 - cos x2 = 1.7163
    row = d1["v_2"]
    assert row["tangent_name"] == "v̇_2"
    assert row["tangent_expression"] == "v̇_{-1} v_0 + v_{-1} v̇_0"
    assert row["tangent"] == pytest.approx(5.0)
    assert d2["v_4"]["tangent"] == pytest.approx(math.cos(5.0))
    assert d2["v_5"]["tangent_expression"] == "v̇_3 − v̇_4"
    assert d1["y"]["tangent"] == pytest.approx(d1.result)


def test_survey_reverse_mode_shows_accumulation():
    tr = ag.trace(survey, 2.0, 5.0)
    rev = tr.reverse()
    g1, g2 = rev.result
    assert g1 == pytest.approx(1 / 2.0 + 5.0)
    assert g2 == pytest.approx(2.0 - math.cos(5.0))
    steps = [r for r in rev.rows if r["phase"] == "reverse"]
    # v_0 = x2 feeds mul and sin, v_{-1} = x1 feeds log and mul: two contributions each
    contributions = {}
    for r in steps:
        contributions.setdefault(r["adjoint_name"], []).append(r)
    assert len(contributions["v̄_0"]) == 2 and len(contributions["v̄_{-1}"]) == 2
    first, second = contributions["v̄_0"]
    assert not first["accumulated"] and second["accumulated"]
    assert second["adjoint_expression"].startswith("v̄_0 + ")
    assert first["adjoint"] == pytest.approx(-math.cos(5.0))           # via sin, sign from sub
    assert second["adjoint"] == pytest.approx(2.0 - math.cos(5.0))
    assert rev.adjoints["v_4"] == pytest.approx(-1.0)
    # steps follow the reverse sweep: the output's adjoint first, inputs' last
    assert steps[0]["adjoint_name"] == "v̄_5" and steps[0]["adjoint"] == 1.0
    order = [int(r["source"].split("_")[1].strip("{}")) for r in steps[1:]]
    assert order == sorted(order, reverse=True)


def test_seed_000_eq5_with_correct_signs():
    x1, x2 = 3.0, -4.0
    tr = ag.trace(eq5, x1, x2)
    assert tr.value == pytest.approx(x1 * x2 + x2 - math.log(x1))      # -17.0986, negative
    assert tr.value < 0
    fwd = tr.forward(seed=(0.0, 1.0))
    assert fwd.result == pytest.approx(x1 + 1)                         # dy/dx2 = x1 + 1 = 4
    g1, g2 = tr.reverse().result
    assert g1 == pytest.approx(x2 - 1 / x1)                            # -4.333
    assert g2 == pytest.approx(x1 + 1)
    assert [r["primitive"] for r in tr.primal_table().rows[2:5]] == ["mul", "add", "log"]


# -- agreement with the library's transforms ------------------------------------------
FUNCTIONS = [
    (survey, (2.0, 5.0)),
    (eq5, (1.5, 0.3)),
    (lambda x: ag.tanh(x) ** 2 / (1 + ag.exp(-x)), (0.7,)),
    (lambda x, y: ag.sqrt(x * y) - ag.cos(x) * ag.sigmoid(y) + x ** y, (1.3, 2.1)),
    (lambda x: ag.relu(x - 1) + ag.abs(x) * 3 - ag.maximum(x, 2.0), (1.4,)),
    (lambda x: x * x * x, (-2.0,)),
]


@pytest.mark.parametrize("f,args", FUNCTIONS)
def test_trace_matches_library(f, args):
    tr = ag.trace(f, *args)
    assert tr.value == pytest.approx(scalar(f(*[ag.tensor(a) for a in args])))
    grads = ag.grad(f, argnums=tuple(range(len(args))))(*args)
    assert tr.reverse().result == pytest.approx([scalar(g) for g in grads])
    for k in range(len(args)):
        seed = tuple(1.0 if i == k else 0.0 for i in range(len(args)))
        _, t = ag.jvp(f, args, seed)
        assert tr.forward(seed=seed).result == pytest.approx(scalar(t))


def test_vector_input_and_output():
    A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    f = lambda x: ag.tanh(ag.tensor(A) @ x) * 2.0
    x = np.array([0.1, -0.2, 0.3])
    tr = ag.trace(f, x)
    np.testing.assert_allclose(tr.value, f(ag.tensor(x)).numpy())
    v = np.array([1.0, 0.5, -2.0])
    _, t = ag.jvp(f, (x,), (v,))
    np.testing.assert_allclose(tr.forward(seed=(v,)).result, t.numpy())
    u = np.array([1.0, -3.0])
    _, pullback = ag.vjp(f, x)
    (expected,) = pullback(u)
    np.testing.assert_allclose(tr.reverse(seed=u).result[0], expected.numpy())
    with pytest.raises(ValueError, match="seed"):
        tr.reverse()                       # a vector output needs an explicit seed


def test_several_outputs():
    f = lambda a, b: (a * b, ag.sin(a) + b)
    tr = ag.trace(f, 0.5, 2.0)
    assert tr.value == pytest.approx((1.0, math.sin(0.5) + 2.0))
    assert tr.forward(seed=(1.0, 0.0)).result == pytest.approx((2.0, math.cos(0.5)))
    g = tr.reverse(seed=(1.0, 1.0)).result
    assert g == pytest.approx((2.0 + math.cos(0.5), 0.5 + 1.0))
    assert [r["name"] for r in tr.primal_table().rows[-2:]] == ["y_1", "y_2"]


def test_control_flow_records_only_the_branch_taken():
    def f(x):
        if x > 0:
            return ag.exp(x) * 2
        return ag.sin(x) - x

    pos, neg = ag.trace(f, 1.0), ag.trace(f, -1.0)
    assert [r["primitive"] for r in pos.primal_table().rows[1:-1]] == ["exp", "mul"]
    assert [r["primitive"] for r in neg.primal_table().rows[1:-1]] == ["sin", "sub"]
    assert pos.reverse().result[0] == pytest.approx(2 * math.e)
    assert neg.reverse().result[0] == pytest.approx(math.cos(-1.0) - 1)


def test_loop_length_depends_on_the_input():
    def f(a):
        b = a * 2
        while ag.abs(b) < 100:
            b = b * 2
        return b
    short, long = ag.trace(f, 30.0), ag.trace(f, 0.5)
    assert short.size < long.size
    assert long.reverse().result[0] == pytest.approx(long.value / 0.5)


def test_operations_off_the_output_path_get_no_adjoint():
    def f(x):
        unused = ag.exp(x)                 # computed, but y does not depend on it
        return x * 3
    tr = ag.trace(f, 1.0)
    rev = tr.reverse()
    assert "v_1" not in rev.adjoints and rev.result[0] == pytest.approx(3.0)
    assert not tr.reaches_output(tr.operations[0])


def test_constant_output_and_bad_input():
    tr = ag.trace(lambda x: ag.tensor(4.0), 1.0)
    assert tr.reverse().result == (0.0,)
    with pytest.raises(TypeError, match="function"):
        ag.trace(3.0, 1.0)
    with pytest.raises(TypeError, match="numeric"):
        ag.trace(survey, "a", 2.0)
    with pytest.raises(ValueError, match="seed"):
        ag.trace(survey, 2.0, 5.0).forward(seed=(1.0,))


# -- rendering -----------------------------------------------------------------------
class _TableParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.rows, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("sub", "sup"):
            return
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append(0)
        if tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_endtag(self, tag):
        if tag in ("sub", "sup"):
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.mark.parametrize("kind", ["primal", "forward", "reverse"])
def test_tables_render_well_formed(kind):
    tr = ag.trace(survey, 2.0, 5.0)
    table = {"primal": tr.primal_table, "forward": lambda: tr.forward(seed=(1, 0), numbers=True),
             "reverse": lambda: tr.reverse(numbers=True)}[kind]()
    parser = _TableParser()
    parser.feed(table._repr_html_())
    assert not parser.errors and not parser.stack
    width = len(table.headers)
    assert parser.rows == [width] * (len(table.cells) + 1)
    md = table.to_markdown().splitlines()
    assert all(line.count("|") - line.count(r"\|") == width + 1 for line in md)
    assert len(md) == len(table.cells) + 2
    tex = table.to_latex()
    assert tex.startswith(r"\begin{tabular}") and tex.endswith(r"\end{tabular}")
    body = [l for l in tex.splitlines() if l.endswith(r"\\")]
    assert all(l.count(" & ") == width - 1 for l in body)
    assert all(l.count("$") % 2 == 0 for l in tex.splitlines())
    assert tex.count(r"\left(") == tex.count(r"\right)")


def test_digits_option_changes_rendering_not_data():
    tr = ag.trace(survey, 2.0, 5.0)
    short, longer = tr.primal_table(digits=3), tr.primal_table(digits=8)
    assert "0.693" in short.to_markdown() and "0.69314718" not in short.to_markdown()
    assert "0.69314718" in longer.to_markdown()
    assert "0.69314718" in short.to_markdown(digits=8)
    assert short.rows == longer.rows


def test_substituted_numbers_column():
    tr = ag.trace(survey, 2.0, 5.0)
    fwd = tr.forward(seed=(1.0, 0.0), numbers=True)
    text = fwd.to_text()
    assert "1 × 5 + 2 × 0" in text
    rev = tr.reverse(numbers=True).to_text()
    assert "5 + 1 / 2" in rev


def test_augmented_assignment_is_recorded_not_hidden():
    def f(x):
        y = x * 2
        y += 1                             # must appear as its own row, not rewrite v_1
        return y * x
    tr = ag.trace(f, 3.0)
    table = tr.primal_table()
    assert table["v_1"]["value"] == 6.0 and table["v_2"]["value"] == 7.0
    assert tr.reverse().result[0] == pytest.approx(4 * 3.0 + 1)


from hypothesis import given, settings, strategies as st


@settings(max_examples=25, deadline=None)
@given(x1=st.floats(0.05, 20), x2=st.floats(-20, 20))
def test_survey_trace_agrees_with_closed_form_everywhere(x1, x2):
    tr = ag.trace(survey, x1, x2)
    g1, g2 = tr.reverse().result
    assert g1 == pytest.approx(1 / x1 + x2, rel=1e-12, abs=1e-12)
    assert g2 == pytest.approx(x1 - math.cos(x2), rel=1e-12, abs=1e-12)
    assert tr.forward(seed=(1.0, 0.0)).result == pytest.approx(g1, rel=1e-12, abs=1e-12)
    assert tr.forward(seed=(0.0, 1.0)).result == pytest.approx(g2, rel=1e-12, abs=1e-12)


def test_kinks_and_guards_are_written_from_the_rules():
    tr = ag.trace(lambda x, y: x ** y + ag.relu(x) - ag.maximum(x, y), 1.5, 2.5)
    fwd = tr.forward(seed=(1.0, 0.0))
    assert fwd["v_1"]["tangent_expression"] == "v̇_{-1} v_0 v_{-1}^(v_0 − 1) + v̇_0 v_1 ln(v_{-1})"
    # relu's slope is read off its output, as PyTorch's is: v_2 = relu(v_{-1}) > 0 exactly
    # where v_{-1} > 0
    assert fwd["v_2"]["tangent_expression"] == "v̇_{-1} [v_2 > 0]"
    tie = ag.trace(lambda x, y: ag.maximum(x, y), 2.0, 2.0).forward(seed=(1.0, 0.0))
    assert "0.5 [v_{-1} = v_0]" in tie["v_1"]["tangent_expression"]   # a tie shares the slope
    assert tie.result == pytest.approx(0.5)
