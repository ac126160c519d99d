"""Finite differences agree with AD within their known error, and show the U curve."""
import math

import numpy as np
import pytest

import autograd_lite as ag


def f(x):
    return ag.sin(x) * ag.exp(x)


EXACT = (math.cos(1.0) + math.sin(1.0)) * math.e


@pytest.mark.parametrize("method,tol", [("forward", 1e-6), ("central", 1e-9), ("complex", 1e-14)])
def test_scalar_derivative_accuracy_by_method(method, tol):
    assert ag.finite_difference(f, 1.0, method=method) == pytest.approx(EXACT, abs=tol * EXACT)


def test_truncation_order_forward_vs_central():
    h = 1e-3
    err_forward = abs(ag.finite_difference(f, 1.0, h=h, method="forward") - EXACT)
    err_central = abs(ag.finite_difference(f, 1.0, h=h, method="central") - EXACT)
    assert err_forward > 100 * err_central        # O(h) against O(h²)
    err_forward_small = abs(ag.finite_difference(f, 1.0, h=h / 10, method="forward") - EXACT)
    assert err_forward / err_forward_small == pytest.approx(10, rel=0.1)


def test_error_curve_is_a_u_for_central_and_flat_for_complex():
    hs = np.logspace(-15, -1, 15)
    central = ag.fd_error_curve(f, 1.0, hs)
    assert central.exact == pytest.approx(EXACT, rel=1e-15)    # exact value from AD
    errors = np.asarray(central)
    k = int(np.argmin(errors))
    assert 0 < k < len(hs) - 1                                  # minimum strictly inside
    assert errors[0] > 100 * errors[k] and errors[-1] > 100 * errors[k]
    assert 1e-7 < central.best_h < 1e-3
    complex_step = ag.fd_error_curve(f, 1.0, hs, method="complex")
    assert np.max(np.asarray(complex_step)[:8]) < 1e-14          # no round-off blow-up
    assert len(central.rows()) == len(hs)


def test_gradient_and_jacobian_match_ad():
    g = lambda x: ag.sum(ag.log(x) * x ** 2)
    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_allclose(ag.fd_gradient(g, x), ag.grad(g)(x).numpy(), rtol=1e-8)
    np.testing.assert_allclose(ag.fd_gradient(g, x, method="complex"), ag.grad(g)(x).numpy(),
                               rtol=1e-14)
    h = lambda x: ag.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]) @ ag.tanh(x)
    jac = ag.fd_jacobian(h, x)
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac, ag.jacrev(h)(x).numpy(), rtol=1e-7, atol=1e-10)


def test_complex_step_refuses_non_analytic_code_and_bad_steps():
    with pytest.raises(TypeError, match="central"):
        ag.finite_difference(lambda x: ag.abs(x), 1.0, method="complex")
    with pytest.raises(ValueError, match="positive"):
        ag.finite_difference(f, 1.0, h=0.0)
    with pytest.raises(ValueError, match="method"):
        ag.finite_difference(f, 1.0, method="backward")
    with pytest.raises(ValueError, match="fd_gradient"):
        ag.finite_difference(f, [1.0, 2.0])
