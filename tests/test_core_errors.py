"""Errors say what went wrong and what to do, like PyTorch's; each is matched on its key words."""
import numpy as np
import pytest

import autograd_lite as ag


# -- backward twice ------------------------------------------------------------------
def test_second_backward_after_freeing_names_retain_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])   # the first result is intact


@pytest.mark.parametrize("make", [
    lambda x: ag.exp(x).sum(), lambda x: ag.sin(x).sum(), lambda x: (x @ x),
    lambda x: ag.max(x * 1.0), lambda x: ag.norm(x), lambda x: (x ** 2).sum(),
    lambda x: ag.sqrt(x).sum(), lambda x: ag.tanh(x).sum(),
])
def test_every_saving_op_refuses_a_second_backward(make):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_graph_with_nothing_saved_can_backward_twice_and_accumulates():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x + x
    y = y.sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])


def test_retain_graph_allows_a_second_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (ag.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# -- the gradient argument -----------------------------------------------------------------
def test_non_scalar_backward_without_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_one_element_non_scalar_backward_is_allowed():
    x = ag.tensor([3.0], requires_grad=True)
    (x * 2).backward()
    assert x.grad.tolist() == [2.0]


def test_gradient_of_the_wrong_shape_names_both_shapes():
    x = ag.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\(3, 2\).*\(2, 3\)|\(2, 3\).*\(3, 2\)"):
        y.backward(gradient=ag.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"\(6,\).*\(2, 3\)|\(2, 3\).*\(6,\)"):
        y.backward(gradient=ag.ones(6))
    assert x.grad is None


def test_cotangent_of_the_wrong_shape_in_vjp():
    _, pullback = ag.vjp(lambda x: x * 2, ag.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        pullback(ag.ones(3))


# -- what can require grad ------------------------------------------------------------
def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.arange(4).requires_grad_(True)
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2], requires_grad=True)


def test_backward_on_a_tensor_that_does_not_require_grad():
    x = ag.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        y = (w * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


# -- shape mismatches name the op and the shapes -----------------------------------------
@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a * b, "mul"), (lambda a, b: a - b, "sub"),
    (lambda a, b: a / b, "div"), (ag.maximum, "maximum"),
])
def test_broadcast_mismatch_names_the_op_and_shapes(op, name):
    a, b = ag.ones(2, 3, requires_grad=True), ag.ones(4)
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        op(a, b)


def test_matmul_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        ag.ones(2, 3) @ ag.ones(2, 3)


def test_dot_mismatch():
    with pytest.raises(RuntimeError, match=r"dot.*lengths 3 and 2"):
        ag.dot(ag.ones(3), ag.ones(2))
    with pytest.raises(RuntimeError, match=r"dot.*1-D.*\(2, 2\)"):
        ag.dot(ag.ones(2, 2), ag.ones(2))


def test_reshape_stack_concatenate_and_axis_errors():
    with pytest.raises(RuntimeError, match=r"reshape.*\(4,\).*6 elements"):
        ag.ones(2, 3).reshape(4)
    with pytest.raises(RuntimeError, match=r"stack.*equal shape"):
        ag.stack([ag.ones(2), ag.ones(3)])
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 2\)"):
        ag.concatenate([ag.ones(2, 3), ag.ones(2, 2)], axis=0)
    with pytest.raises(IndexError, match=r"sum.*axis 2.*2 dimensions"):
        ag.sum(ag.ones(2, 3), axis=2)
    with pytest.raises(RuntimeError, match="max.*empty"):
        ag.max(ag.ones(0))


def test_index_out_of_range_names_the_op():
    with pytest.raises(IndexError, match="getitem"):
        ag.ones(3)[5]


# -- in-place changes ---------------------------------------------------------------------
def test_inplace_change_under_no_grad_of_a_saved_leaf_is_detected_at_backward():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with ag.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_change_of_a_constant_operand_is_detected_at_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = ag.tensor([3.0, 4.0])
    y = (x * c).sum()
    c.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_change_of_a_saved_output_is_detected_at_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    e = ag.exp(x)                    # exp saves its output
    y = e.sum()
    with ag.no_grad():
        e.mul_(0.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_change_of_a_tensor_nothing_saved_is_fine():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = ag.tensor([3.0, 4.0])
    y = (x + c).sum()                # add saves nothing
    c.mul_(2.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("change", [
    lambda w: w.add_(1.0), lambda w: w.mul_(2.0), lambda w: w.zero_(), lambda w: w.fill_(3.0),
    lambda w: w.sub_(1.0), lambda w: w.div_(2.0), lambda w: w.__setitem__(0, 5.0),
    lambda w: w.copy_(ag.ones(2)),
])
def test_leaf_requiring_grad_used_in_place_outside_no_grad_raises(change):
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*in-place"):
        change(w)
    assert w.tolist() == [1.0, 2.0]      # nothing was changed


def test_augmented_assignment_on_a_leaf_requiring_grad_raises():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1.0
    assert w.tolist() == [1.0, 2.0]


def test_requires_grad_false_on_a_non_leaf():
    y = ag.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_grad_of_a_function_returning_something_else():
    with pytest.raises(TypeError, match="Tensor"):
        ag.grad(lambda x: 3.0)(ag.tensor(1.0))


def test_tensor_from_ragged_data():
    with pytest.raises((TypeError, ValueError)):
        ag.tensor([[1.0, 2.0], [3.0]])


def test_len_of_a_scalar():
    with pytest.raises(TypeError, match="0-d"):
        len(ag.tensor(1.0))


@pytest.mark.parametrize("change, expected", [
    (lambda y: y.__setitem__(0, 5.0), [0.0, 2.0]), (lambda y: y.zero_(), [0.0, 0.0]),
    (lambda y: y.fill_(1.0), [0.0, 0.0]), (lambda y: y.mul_(3.0), [6.0, 6.0]),
])
def test_inplace_write_into_a_graph_result_is_recorded_like_pytorch(change, expected):
    """The write becomes part of y's history, so the gradient is PyTorch's, never stale."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    change(y)
    y.sum().backward()
    assert x.grad.tolist() == expected
