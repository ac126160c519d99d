"""Symbolic derivatives agree with AD, and grow much faster than AD's cost."""
import math

import pytest

import autograd_lite as ag

sympy = pytest.importorskip("sympy")


def test_survey_function_symbolic_against_ad():
    c = ag.symbolic_derivative(lambda x1, x2: ag.log(x1) + x1 * x2 - ag.sin(x2), 2.0, 5.0)
    x1, x2 = c.symbols
    assert sympy.simplify(c.derivatives[0] - (1 / x1 + x2)) == 0
    assert sympy.simplify(c.derivatives[1] - (x1 - sympy.cos(x2))) == 0
    assert c.symbolic_values == pytest.approx((1 / 2 + 5, 2 - math.cos(5)))
    assert c.ad_values == pytest.approx(c.symbolic_values)
    assert c.trace_size == 5 and c.expression_size == 5
    assert c.gradient_cost.primal == 5 and c.gradient_cost.adjoint > 0
    rows = c.table().rows
    assert rows[0]["name"] == "f" and rows[0]["size"] == 5
    assert "<table" in c._repr_html_()


def test_control_flow_is_resolved_at_the_point():
    f = lambda x: ag.exp(x) if x > 0 else x * x
    assert ag.symbolic_derivative(f, 1.0).symbolic_values == pytest.approx((math.e,))
    assert ag.symbolic_derivative(f, -3.0).symbolic_values == pytest.approx((-6.0,))


def test_unsupported_primitive_is_explained():
    with pytest.raises(NotImplementedError, match="no SymPy counterpart for the primitive .concatenate."):
        ag.symbolic_derivative(lambda x: ag.stack([x, x])[0] * 2, 1.0)


@pytest.mark.parametrize("family", ["product", "nested_sin", "self_product"])
def test_expression_swell_outgrows_ad(family):
    table = ag.expression_swell(family, sizes=range(1, 7))
    rows = table.rows
    assert [r["n"] for r in rows] == list(range(1, 7))
    # AD's gradient costs a fixed multiple of the trace length (cheap gradient principle)
    for r in rows[1:]:
        assert r["gradient_ops"] <= 4 * r["trace_ops"] + 3
    first, last = rows[1], rows[-1]
    sym_growth = last["derivative_ops"] / first["derivative_ops"]
    ad_growth = last["gradient_ops"] / first["gradient_ops"]
    assert sym_growth > 2 * ad_growth
    assert "<table" in table._repr_html_()


def test_self_product_swells_exponentially():
    rows = ag.expression_swell("self_product", sizes=[3, 4, 5, 6]).rows
    ratios = [b["derivative_ops"] / a["derivative_ops"] for a, b in zip(rows, rows[1:])]
    assert all(r > 2.5 for r in ratios)
    assert all(b["gradient_ops"] - a["gradient_ops"] == rows[1]["gradient_ops"] - rows[0]["gradient_ops"]
               for a, b in zip(rows, rows[1:]))      # AD grows linearly
