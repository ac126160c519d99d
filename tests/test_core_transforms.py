"""The JAX-style transforms: jacfwd vs jacrev, hessians, higher order, argnums."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import autograd_lite as ag

SETTINGS = settings(max_examples=20, deadline=None)

# Smooth building blocks for random compositions (all safe on the whole real line).
UNARY = {
    "sin": ag.sin, "tanh": ag.tanh, "sigmoid": ag.sigmoid, "exp_small": lambda x: ag.exp(0.3 * x),
    "square": lambda x: x * x, "softplus_like": lambda x: ag.log(1 + ag.exp(x)),
    "cube": lambda x: x ** 3, "cos": ag.cos,
}


@st.composite
def compositions(draw):
    """A random chain of elementwise ops, matmuls with fixed matrices and broadcasting adds."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_in = draw(st.integers(1, 4))
    steps = draw(st.lists(st.sampled_from(sorted(UNARY) + ["matmul", "add_row", "norm_scale"]),
                          min_size=1, max_size=5))
    size = n_in
    program = []
    for step in steps:
        if step == "matmul":
            out = draw(st.integers(1, 4))
            program.append((step, rng.standard_normal((out, size)) / np.sqrt(size)))
            size = out
        elif step == "add_row":
            program.append((step, rng.standard_normal(size)))
        else:
            program.append((step, None))

    def f(x):
        for step, constant in program:
            if step == "matmul":
                x = ag.tensor(constant) @ x
            elif step == "add_row":
                x = x + ag.tensor(constant)
            elif step == "norm_scale":
                x = x / (1 + ag.norm(x))
            else:
                x = UNARY[step](x)
        return x
    return f, rng.standard_normal(n_in)


@SETTINGS
@given(compositions())
def test_jacfwd_equals_jacrev_on_random_compositions(example):
    f, x = example
    forward = ag.jacfwd(f)(ag.tensor(x))
    reverse = ag.jacrev(f)(ag.tensor(x))
    out_size = f(ag.tensor(x)).shape
    assert forward.shape == reverse.shape == out_size + x.shape
    np.testing.assert_allclose(forward.numpy(), reverse.numpy(), rtol=1e-10, atol=1e-12)


def fd_gradient(g, x, eps=1e-5):
    """Central differences of a vector function ``g`` (the gradient), column by column."""
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = eps
        columns.append((g(ag.tensor(x + e)).numpy() - g(ag.tensor(x - e)).numpy()) / (2 * eps))
    return np.stack(columns, axis=-1)


@SETTINGS
@given(compositions())
def test_hessian_is_symmetric_and_matches_finite_differences_of_the_gradient(example):
    f, x = example

    def scalar(x):
        return ag.sum(f(x) * f(x)) + ag.sum(ag.sin(x))
    h = ag.hessian(scalar)(ag.tensor(x)).numpy()
    assert h.shape == (x.size, x.size)
    # an overflowing entry makes inf * 0 = nan on one route and 0 on the other
    assume(np.isfinite(h).all())
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-10)
    # Reverse-over-reverse is an independent route to the same matrix: it must agree exactly.
    np.testing.assert_allclose(h, ag.jacrev(ag.grad(scalar))(ag.tensor(x)).numpy(),
                               rtol=1e-9, atol=1e-9)
    # Finite differences carry a truncation error that grows with the third derivative, so
    # they are compared where the curvature is moderate (compositions of exp can explode).
    if np.abs(h).max() < 1e4:
        np.testing.assert_allclose(h, fd_gradient(ag.grad(scalar), x), rtol=1e-5, atol=1e-6)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    a = np.arange(9.0).reshape(3, 3)
    h = ag.hessian(lambda x: x @ ag.tensor(a) @ x)(ag.tensor([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(h.numpy(), a + a.T)


def test_second_and_third_derivative_of_sin():
    xs = np.linspace(-3, 3, 7)
    d1 = ag.grad(ag.sin)
    d2 = ag.grad(d1)
    d3 = ag.grad(d2)
    for x in xs:
        assert d1(ag.tensor(x)).item() == pytest.approx(np.cos(x), abs=1e-12)
        assert d2(ag.tensor(x)).item() == pytest.approx(-np.sin(x), abs=1e-12)
        assert d3(ag.tensor(x)).item() == pytest.approx(-np.cos(x), abs=1e-12)


def test_create_graph_gives_a_differentiable_gradient():
    x = ag.tensor(0.7, requires_grad=True)
    y = ag.sin(x) * x
    y.backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.grad_fn is not None
    assert first.item() == pytest.approx(np.cos(0.7) * 0.7 + np.sin(0.7))
    x.grad = None
    first.backward()
    assert x.grad.item() == pytest.approx(-np.sin(0.7) * 0.7 + 2 * np.cos(0.7))


def test_plain_backward_gives_a_gradient_without_graph():
    x = ag.tensor(0.7, requires_grad=True)
    (ag.sin(x) * x).backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_value_and_grad_returns_both():
    def f(x):
        return ag.sum(x ** 2)
    value, g = ag.value_and_grad(f)(ag.tensor([1.0, 2.0, 3.0]))
    assert value.item() == 14.0
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0, 6.0])


def test_argnums_tuple_and_single():
    def f(a, b, c):
        return ag.sum(a * b) + ag.sum(c)
    a, b, c = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 5.0]), ag.tensor(7.0)
    ga, gc = ag.grad(f, argnums=(0, 2))(a, b, c)
    np.testing.assert_array_equal(ga.numpy(), [3.0, 5.0])
    assert gc.item() == 1.0
    gb = ag.grad(f, argnums=1)(a, b, c)
    np.testing.assert_array_equal(gb.numpy(), [1.0, 2.0])
    g_last = ag.grad(f, argnums=-1)(a, b, c)
    assert g_last.item() == 1.0
    value, (ga2, gb2) = ag.value_and_grad(f, argnums=(0, 1))(a, b, c)
    assert value.item() == 3 + 10 + 7
    np.testing.assert_array_equal(gb2.numpy(), [1.0, 2.0])


def test_argnums_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match="argnums"):
        ag.grad(lambda a: ag.sum(a), argnums=2)(ag.tensor([1.0]))


def test_grad_of_a_vector_function_is_refused():
    with pytest.raises(TypeError, match="scalar"):
        ag.grad(lambda x: x * 2)(ag.tensor([1.0, 2.0]))


def test_grad_accepts_python_numbers_and_leaves_inputs_untouched():
    assert ag.grad(lambda x: x * x * x)(2.0).item() == 12.0
    x = ag.tensor([1.0, 2.0])
    ag.grad(lambda x: ag.sum(x * x))(x)
    assert x.grad is None and not x.requires_grad


def test_grad_of_a_function_not_depending_on_its_input_is_zero():
    g = ag.grad(lambda x, y: ag.sum(y * 2))(ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_jvp_and_vjp_on_a_two_input_function():
    def f(a, b):
        return a * b + ag.sin(a)
    a, b = ag.tensor([0.1, 0.2]), ag.tensor([3.0, -1.0])
    out, tangent = ag.jvp(f, (a, b), (ag.tensor([1.0, 0.0]), ag.tensor([0.0, 1.0])))
    np.testing.assert_allclose(out.numpy(), (a * b + ag.sin(a)).numpy())
    np.testing.assert_allclose(tangent.numpy(), [3.0 + np.cos(0.1), 0.2])
    out, pullback = ag.vjp(f, a, b)
    ga, gb = pullback(ag.tensor([1.0, 2.0]))
    np.testing.assert_allclose(ga.numpy(), [3.0 + np.cos(0.1), 2 * (-1.0 + np.cos(0.2))])
    np.testing.assert_allclose(gb.numpy(), [0.1, 0.4])
    # the pullback can be called again (the graph is kept for it)
    ga_again, _ = pullback(ag.tensor([1.0, 2.0]))
    np.testing.assert_allclose(ga_again.numpy(), ga.numpy())


def test_jvp_is_real_forward_mode():
    """Forward mode pushes tangents through the primitives: no backward pass is run."""
    calls = []
    with ag.observing(lambda prim, inputs, out, params: calls.append(out.tangent is not None)):
        ag.jvp(lambda x: ag.exp(ag.sin(x)), (ag.tensor(0.3),), (ag.tensor(1.0),))
    assert calls and any(calls)


def test_jacobians_with_argnums_tuple():
    def f(a, b):
        return a * b
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    for jac in (ag.jacfwd, ag.jacrev):
        ja, jb = jac(f, argnums=(0, 1))(a, b)
        np.testing.assert_array_equal(ja.numpy(), np.diag([3.0, 4.0]))
        np.testing.assert_array_equal(jb.numpy(), np.diag([1.0, 2.0]))


def test_jacobian_shapes_for_matrix_input_and_output():
    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    for jac in (ag.jacfwd, ag.jacrev):
        j = jac(lambda x: x.T * 2)(x)
        assert j.shape == (3, 2, 2, 3)
        assert j[1, 0, 0, 1].item() == 2.0 and j[1, 0, 1, 0].item() == 0.0


def test_make_dual_and_unpack_dual():
    with ag.dual_level():
        x = ag.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0]))
        y = x * x * 3
        primal, tangent = ag.unpack_dual(y)
    np.testing.assert_array_equal(primal.numpy(), [3.0, 12.0])
    np.testing.assert_array_equal(tangent.numpy(), [6.0, 0.0])


def test_nested_forward_mode_is_refused_with_advice():
    with pytest.raises(RuntimeError, match="hessian"):
        ag.jacfwd(ag.jacfwd(lambda x: ag.sum(x * x)))(ag.tensor([1.0, 2.0]))


def test_reverse_over_reverse_hessian_agrees_with_forward_over_reverse():
    def f(x):
        return ag.sum(ag.exp(x) * ag.sin(x[::-1]))
    x = ag.tensor([0.1, -0.4, 0.8])
    np.testing.assert_allclose(ag.jacrev(ag.grad(f))(x).numpy(), ag.hessian(f)(x).numpy(),
                               rtol=1e-12, atol=1e-12)
