"""Op counting measures what the library really runs, forward and backward."""
import numpy as np
import pytest

import autograd_lite as ag


def survey(x1, x2):
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


def test_primal_evaluation_counts_each_elementary_operation_once():
    c = ag.count_ops(survey, ag.tensor(2.0), ag.tensor(5.0))
    assert c.total == 5
    assert c.by_primitive == {"log": 1, "mul": 1, "add": 1, "sin": 1, "sub": 1}
    assert c.by_phase == {"primal": 5, "tangent": 0, "adjoint": 0}
    assert c.stored == 0          # nothing requires grad: nothing is kept for a backward pass
    assert float(c.result) == pytest.approx(np.log(2.0) + 10.0 - np.sin(5.0))


def test_gradient_adds_backward_work_and_keeps_the_inputs():
    c = ag.count_ops(ag.grad(survey, argnums=(0, 1)), 2.0, 5.0)
    assert c.primal == 5
    assert c.adjoint > 0
    assert c.total == c.primal + c.adjoint
    assert c.stored == 2          # log, mul and sin all read x1 or x2: two distinct values
    g1, g2 = c.result
    assert float(g1) == pytest.approx(1 / 2.0 + 5.0)


def test_forward_mode_stores_nothing_and_does_tangent_work():
    c = ag.count_ops(ag.jvp, survey, (2.0, 5.0), (1.0, 0.0))
    assert c.primal == 5 and c.tangent > 0 and c.adjoint == 0
    assert c.stored == 0


def test_count_ops_rejects_a_value_instead_of_a_function():
    with pytest.raises(TypeError, match="function"):
        ag.count_ops(survey(ag.tensor(2.0), ag.tensor(5.0)))


@pytest.mark.parametrize("n", [3, 6])
def test_jacobian_by_forward_mode_costs_n_jvps(n):
    f = lambda x: ag.sin(x) * x       # R^n -> R^n
    costs = ag.derivative_costs(f, np.arange(1.0, n + 1))
    assert set(costs) == {"f", "jvp", "vjp", "grad", "jacfwd", "jacrev", "hessian"}
    jvp_cost = costs["jvp"].total
    assert costs["jacfwd"].tangent == n * costs["jvp"].tangent
    # n JVPs plus assembling the columns (a reshape each, one concatenate, one reshape)
    assert n * jvp_cost <= costs["jacfwd"].total <= n * jvp_cost + 2 * n + 2
    assert costs["grad"] is None and costs["hessian"] is None   # vector output


@pytest.mark.parametrize("m", [2, 5])
def test_jacobian_by_reverse_mode_costs_m_vjps(m):
    A = np.arange(1.0, 3 * m + 1).reshape(m, 3) / 10
    f = lambda x: ag.tanh(ag.tensor(A) @ x)          # R^3 -> R^m
    costs = ag.derivative_costs(f, np.ones(3))
    one_backward = costs["vjp"].adjoint
    assert costs["jacrev"].adjoint == m * one_backward
    assert costs["jacrev"].primal <= costs["f"].total + m + 2   # one forward pass, then assembly


def test_gradient_of_many_inputs_is_one_backward_but_n_forward_passes():
    f = lambda x: ag.sum(ag.sin(x) * x)               # R^n -> R
    small = ag.derivative_costs(f, np.ones(2))
    large = ag.derivative_costs(f, np.ones(8))
    assert small["grad"].total == large["grad"].total      # reverse mode: independent of n
    assert large["jacfwd"].total > 3 * small["jacfwd"].total
    assert large["hessian"].total > large["grad"].total
    assert large["hessian"].stored > large["grad"].stored  # second order keeps more


def test_cost_table_lists_each_measured_computation():
    f = lambda x: ag.sum(ag.exp(x) * x)
    costs = ag.derivative_costs(f, np.ones(3))
    table = ag.cost_table(costs)
    assert [r["name"] for r in table.rows] == ["f", "jvp", "vjp", "grad", "jacfwd", "jacrev",
                                               "hessian"]
    assert table.rows[0]["ratio"] == 1.0
    assert table["grad"]["value"] == costs["grad"].total
    assert "<table" in table._repr_html_() and table.to_latex().count(r"\\") >= 8
    vector = ag.cost_table(ag.derivative_costs(lambda x: ag.exp(x), np.ones(2)))
    assert "grad" not in [r["name"] for r in vector.rows]     # undefined for vector outputs


def test_plain_float_arguments_are_counted_like_tensors():
    f = lambda x: ag.sin(x) * ag.exp(x)
    assert ag.count_ops(f, 1.0).total == ag.count_ops(f, ag.tensor(1.0)).total == 3
    assert ag.count_ops(f, np.ones(3)).by_primitive == {"sin": 1, "exp": 1, "mul": 1}
    assert ag.count_ops(lambda x, n: x * n, 2.0, 3).total == 1     # integers stay integers
