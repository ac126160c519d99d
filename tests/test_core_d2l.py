"""The d2l automatic-differentiation walk-through (seeds 001 and 002), redone with autograd_lite."""
import numpy as np
import pytest

import autograd_lite as ag


@pytest.fixture
def x():
    x = ag.arange(4.0)
    assert repr(x) == "tensor([0., 1., 2., 3.])"
    x.requires_grad_(True)
    assert x.grad is None
    return x


def test_gradient_of_two_x_dot_x_is_four_x(x):
    y = 2 * ag.dot(x, x)
    assert repr(y) == "tensor(28., grad_fn=<MulBackward>)"
    y.backward()
    assert repr(x.grad) == "tensor([ 0.,  4.,  8., 12.])"
    assert (x.grad == 4 * x).all()


def test_zero_then_sum_gives_ones(x):
    (2 * ag.dot(x, x)).backward()
    x.grad.zero_()
    x.sum().backward()
    assert repr(x.grad) == "tensor([1., 1., 1., 1.])"


def test_rerunning_the_cells_accumulates(x):
    """Seed 001 shows [0, 12, 24, 36]: the cell ran three times and the gradients added up."""
    for _ in range(3):
        y = 2 * ag.dot(x, x)
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 12.0, 24.0, 36.0])


def test_second_backward_on_the_same_y_needs_retain_graph(x):
    y = 2 * ag.dot(x, x)
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 8.0, 12.0])   # nothing lost

    y = 2 * ag.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 12.0, 24.0, 36.0])


def test_backward_of_a_vector_with_a_gradient_argument(x):
    y = x * x
    y.backward(gradient=ag.ones(len(y)))
    assert repr(x.grad) == "tensor([0., 2., 4., 6.])"
    x.grad.zero_()
    (x * x).sum().backward()         # the same vector-Jacobian product, written as a sum
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 4.0, 6.0])


def test_detach_stops_the_gradient(x):
    y = x * x
    u = y.detach()
    assert u.grad_fn is None and not u.requires_grad
    z = u * x
    z.sum().backward()
    assert (x.grad == u).all()
    # the graph leading to y is still there
    x.grad.zero_()
    y.sum().backward()
    assert (x.grad == 2 * x).all()


def control_flow(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("size", [(), (3,), (2, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_python_control_flow_gives_grad_equal_to_f_over_a(size, seed):
    ag.manual_seed(seed)
    a = ag.randn(size=size, requires_grad=True)
    d = control_flow(a)
    d.sum().backward() if size else d.backward()
    # f is linear in a with a piecewise-constant scale k: d = k a, so grad = k = d / a
    k = (d / a).detach()
    np.testing.assert_allclose(a.grad.numpy(), np.broadcast_to(k.numpy(), a.shape), rtol=1e-12)
    # and the scale is the same number everywhere
    np.testing.assert_allclose(k.numpy(), np.full(size, k.numpy().flat[0]), rtol=1e-12)


def test_control_flow_scalar_as_in_the_notebook():
    ag.manual_seed(7)
    a = ag.randn(size=(), requires_grad=True)
    d = control_flow(a)
    d.backward()
    assert bool(a.grad == d / a)


def test_negative_branch_multiplies_by_100():
    a = ag.tensor(-0.5, requires_grad=True)
    d = control_flow(a)
    d.backward()
    assert a.grad.item() == 100 * 2048
    assert d.item() == -0.5 * 100 * 2048


def test_cube_gradient_from_seed_002():
    x = ag.tensor(1.0, requires_grad=True)
    z = x ** 3
    z.backward()
    assert repr(x.grad.data) == "tensor(3.)"
