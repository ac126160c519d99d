"""Engine details a user relies on without knowing it: gradients never alias each other,
parameter updates happen in place, and the in-place checks keep working."""
import numpy as np
import pytest

import autograd_lite as ag


def test_leaves_fed_by_the_same_gradient_do_not_share_memory():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()             # add passes one gradient array to both inputs
    x.grad.zero_()
    assert y.grad.tolist() == [1.0, 1.0]


def test_a_leaf_does_not_adopt_the_callers_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = ag.tensor([5.0, 7.0])
    (x + 0).backward(gradient=seed)
    x.grad.zero_()
    assert seed.tolist() == [5.0, 7.0]


def test_retained_and_leaf_gradients_are_separate():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 1).retain_grad()
    (h + 0).sum().backward()
    h.grad.zero_()
    assert x.grad.tolist() == [1.0, 1.0]


def test_parameter_update_under_no_grad_is_in_place():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    buffer = w.numpy()
    (w * w).sum().backward()
    with ag.no_grad():
        w -= 0.5 * w.grad
    assert w.numpy() is buffer and w.tolist() == [0.0, 0.0]
    assert w.is_leaf and w.requires_grad


def test_in_place_update_with_the_wrong_shape_explains_itself():
    w = ag.zeros(3)
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        w += ag.ones(2, 3)
    assert w.tolist() == [0.0, 0.0, 0.0]


def test_in_place_update_of_a_saved_input_is_caught_after_a_fast_update():
    a = ag.tensor([1.0, 2.0])
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    p = (a * w).sum()
    a += 1                                   # a is not part of the graph's leaves: allowed
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        p.backward()


def test_float32_parameters_stay_float32_through_updates():
    w = ag.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (w * 2.0).sum().backward()
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert w.dtype == np.float32 and w.grad.dtype == np.float32


def test_a_negative_constant_base_gives_nan_slope_like_torch_not_an_exception():
    x = ag.tensor(2.0, requires_grad=True)
    y = (-2.0) ** x
    y.backward()
    assert y.item() == 4.0 and np.isnan(x.grad.item())


def test_an_operand_of_the_wrong_type_is_named_in_a_plain_type_error():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"mul: cannot apply it to a float64 tensor .* and a str"):
        x * "a"


def _ladder(x, steps, ops):
    """u_{k+1} = u_k * c_k + u_{k-1} * u_k: every node has two graph parents of different ages."""
    previous, current = x, ops.sin(x)
    for k in range(steps):
        previous, current = current, current * (0.5 + 0.01 * k) + previous * current
    return current


@pytest.mark.parametrize("steps", [1, 2, 5, 12])
def test_gradient_of_a_graph_whose_nodes_have_two_graph_parents(steps):
    # The sweep must reach every node only after all its consumers, whichever parent is newer.
    x0 = 0.3
    grad = ag.grad(lambda x: _ladder(x, steps, ag))(ag.tensor(x0)).item()
    h = 1e-6
    numeric = (_ladder(x0 + h, steps, np) - _ladder(x0 - h, steps, np)) / (2 * h)
    assert grad == pytest.approx(numeric, rel=1e-6)
