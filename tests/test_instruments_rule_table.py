"""The instruments learn a primitive from the rule table alone.

A primitive declared in a test shows up in the trace rows with its notation and in the
symbolic comparison with its SymPy counterpart; a linear one gets a working JVP from its
forward. And every primitive of the library that SymPy can follow is written and compared
as the course writes it.
"""
import subprocess
import sys

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import primitives as P


@pytest.fixture
def declare():
    """Declare primitives for one test and take them out of the table afterwards."""
    names = []

    def declare(kind, name, *args, **kwargs):
        names.append(name)
        return getattr(P, kind)(name, *args, **kwargs)
    yield declare
    for name in names:
        P.PRIMITIVES.pop(name, None)


def _square(declare, **about):
    return declare("unary", "square", lambda x: x * x, vjp=lambda g, out, x: 2 * g * x,
                   jvp=lambda t, out, x: 2 * t * x, **about)


def test_a_declared_primitive_is_written_with_its_notation(declare):
    square = _square(declare, notation=("sq", r"\operatorname{sq}"))
    tr = ag.trace(lambda x: square(x) + 1.0, 3.0)
    assert [r["expression"] for r in tr.primal_table().rows] == ["x", "sq(v_0)", "v_1 + 1", "v_2"]
    assert r"v_{1} = \operatorname{sq}\left(v_{0}\right)" in tr.primal_table().to_latex()
    forward = tr.forward()
    assert forward["v_1"]["tangent_expression"] == "2 v̇_0 v_0" and forward.result == 6.0


def test_a_primitive_without_notation_is_written_with_its_name(declare):
    square = _square(declare)
    tr = ag.trace(lambda x: square(x), 3.0)
    assert tr.primal_table()["v_1"]["expression"] == "square(v_0)"
    assert r"\operatorname{square}\left(v_{0}\right)" in tr.primal_table().to_latex()


def test_a_declared_primitive_is_compared_through_its_sympy_counterpart(declare):
    square = _square(declare, sympy=lambda sp, x: x ** 2)
    c = ag.symbolic_derivative(lambda x: square(x) * ag.sin(x), 3.0)
    x, = c.symbols
    assert c.expression == x ** 2 * __import__("sympy").sin(x)
    assert c.symbolic_values == pytest.approx(c.ad_values)


def test_a_primitive_without_sympy_counterpart_is_refused_by_name(declare):
    square = _square(declare)
    with pytest.raises(NotImplementedError, match="no SymPy counterpart for the primitive 'square'"):
        ag.symbolic_derivative(lambda x: square(x), 3.0)


def _central_difference(f, x, v, eps=1e-6):
    return (f(*(a + eps * d for a, d in zip(x, v))) - f(*(a - eps * d for a, d in zip(x, v)))) \
        / (2 * eps)


def test_a_linear_primitive_gets_its_jvp_from_its_forward(declare):
    """Declared without a JVP: forward mode, the trace's tangent rows and the Hessian
    (forward over reverse) all come from the forward with the tangent in an input's place."""
    scaled = declare("binary", "scaled_product", lambda a, b: 3.0 * a * b, linear=True,
                     vjps=(lambda g, out, a, b: 3.0 * g * b, lambda g, out, a, b: 3.0 * g * a),
                     notation=("spr", r"\operatorname{spr}"))
    x, v = (2.0, 5.0), (1.0, 0.5)
    _, tangent = ag.jvp(scaled, x, v)
    plain = lambda a, b: 3.0 * a * b          # noqa: E731
    assert tangent.item() == pytest.approx(_central_difference(plain, x, v))
    row = ag.trace(scaled, *x).forward(seed=v)["v_1"]
    assert row["tangent_expression"] == "3 v̇_{-1} v_0 + 3 v_{-1} v̇_0" and row["tangent"] == 18.0
    hessian = ag.hessian(lambda z: ag.sum(scaled(z, z)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(hessian), 6.0 * np.eye(2))


@pytest.mark.parametrize("rules", [dict(jvp=lambda t, out, x: 2 * t, linear=True), dict()])
def test_a_primitive_needs_exactly_one_source_of_its_jvp(declare, rules):
    with pytest.raises(ValueError, match="give either its JVP rule or linear=True"):
        declare("unary", "double", lambda x: 2 * x, vjp=lambda g, out, x: 2 * g, **rules)
    assert "double" not in P.PRIMITIVES


# Every primitive of the library that SymPy can follow, applied to scalars, and how its row
# of the primal trace reads.
SCALAR_CALLS = {
    "sum_to": (lambda x: P.sum_to(x, shape=()), "sum_to[shape=()](v_0)"),
    "broadcast_to": (lambda x: P.broadcast_to(x, shape=()), "broadcast_to[shape=()](v_0)"),
    "reshape": (lambda x: ag.reshape(x, ()), "reshape[shape=()](v_0)"),
    "transpose": (lambda x: P.transpose(x), "transpose(v_0)"),
    "astype": (lambda x: P.astype(x, dtype=np.dtype("float64")), "astype[dtype=float64](v_0)"),
    "sum": (ag.sum, "sum(v_0)"),
    "neg": (lambda x: -x, "−v_0"),
    "exp": (ag.exp, "exp(v_0)"),
    "log": (ag.log, "ln(v_0)"),
    "sin": (ag.sin, "sin(v_0)"),
    "cos": (ag.cos, "cos(v_0)"),
    "tan": (ag.tan, "tan(v_0)"),
    "tanh": (ag.tanh, "tanh(v_0)"),
    "sigmoid": (ag.sigmoid, "σ(v_0)"),
    "relu": (ag.relu, "relu(v_0)"),
    "abs": (ag.abs, "abs(v_0)"),
    "sqrt": (ag.sqrt, "√(v_0)"),
    "add": (lambda a, b: a + b, "v_{-1} + v_0"),
    "sub": (lambda a, b: a - b, "v_{-1} − v_0"),
    "mul": (lambda a, b: a * b, "v_{-1} × v_0"),
    "div": (lambda a, b: a / b, "v_{-1} / v_0"),
    "pow": (lambda a, b: a ** b, "v_{-1}^v_0"),
    "maximum": (ag.maximum, "maximum(v_{-1}, v_0)"),
    "minimum": (ag.minimum, "minimum(v_{-1}, v_0)"),
}


def test_every_primitive_with_a_sympy_counterpart_is_checked_here():
    """A primitive given a SymPy counterpart in the table needs a row in SCALAR_CALLS; the
    others are declared with sympy=None, and the symbolic comparison refuses them by name."""
    assert {name for name, p in ag.PRIMITIVES.items() if p.sympy is not None} == set(SCALAR_CALLS)


@pytest.mark.parametrize("name", sorted(SCALAR_CALLS))
def test_the_library_primitives_are_written_and_compared_from_the_table(name):
    fn, row = SCALAR_CALLS[name]
    point = (0.7,) if row.endswith("(v_0)") or row == "−v_0" else (1.5, 2.5)
    tr = ag.trace(fn, *point)
    assert tr.primal_table()["v_1"]["expression"] == row
    assert [v.prim.name for v in tr.operations] == [name]
    c = ag.symbolic_derivative(fn, *point)
    at_point = dict(zip(c.symbols, point))
    assert float(c.expression.evalf(subs=at_point)) == pytest.approx(float(tr.value))
    assert c.symbolic_values == pytest.approx(c.ad_values)


def test_importing_the_library_does_not_import_sympy():
    """SymPy is needed by the symbolic comparison alone; a student's import stays quick."""
    code = "import sys, autograd_lite; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_graph_oracle_of_the_grader_does_not_read_the_rule_table():
    """graders/graph_values.py is an independent oracle: a wrong rule in the table must not
    reach the values the hand-worked chain rule questions are graded against."""
    import pathlib
    code = ("import sys, graders.graph_values; "
            "print(sorted(m for m in sys.modules if m.startswith('autograd_lite')))")
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root)
    assert out.stdout.strip() == "[]"
