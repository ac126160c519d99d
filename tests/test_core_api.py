"""The Tensor API users rely on: reprs, dtypes, conversions, grad modes, factories."""
import numpy as np
import pytest

import autograd_lite as ag


# -- reprs -------------------------------------------------------------------
def test_reprs_in_pytorch_style():
    x = ag.arange(4.0)
    assert repr(x) == "tensor([0., 1., 2., 3.])"
    x.requires_grad_(True)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    assert repr(2 * ag.dot(x, x)) == "tensor(28., grad_fn=<MulBackward>)"
    assert repr(ag.tensor([0.0, 4.0, 8.0, 12.0])) == "tensor([ 0.,  4.,  8., 12.])"
    assert repr(ag.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(ag.tensor(3)) == "tensor(3)"
    assert repr(ag.tensor([True, False])) == "tensor([ True, False])"
    assert repr(ag.tensor([1.0, 2.0], dtype=ag.float32)) == "tensor([1., 2.], dtype=float32)"


@pytest.mark.parametrize("op, name", [
    (lambda x: x + 1, "AddBackward"), (lambda x: x - 1, "SubBackward"),
    (lambda x: x / 2, "DivBackward"), (lambda x: -x, "NegBackward"),
    (lambda x: x ** 2, "PowBackward"), (ag.exp, "ExpBackward"), (ag.sum, "SumBackward"),
    (lambda x: x @ x, "MatmulBackward"), (lambda x: x[0], "GetitemBackward"),
])
def test_grad_fn_names(op, name):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = op(x)
    assert y.grad_fn.name() == name
    assert f"grad_fn=<{name}>" in repr(y)


# -- dtypes -----------------------------------------------------------------
def test_float64_is_the_default():
    assert ag.tensor([1.0, 2.0]).dtype == ag.float64
    assert ag.tensor(1.5).dtype == ag.float64
    assert ag.arange(4.0).dtype == ag.float64
    assert ag.zeros(2).dtype == ag.ones(2).dtype == ag.randn(2).dtype == ag.float64
    assert ag.linspace(0, 1, 5).dtype == ag.float64
    assert ag.arange(4).dtype == ag.int64
    assert (ag.tensor([1.0]) * 2).dtype == ag.float64


def test_float32_stays_float32_through_ops_and_gradients():
    x = ag.tensor([0.5, 1.5, 2.5], dtype=ag.float32, requires_grad=True)
    w = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=ag.float32)
    y = ag.sigmoid(x @ w) * 2.0 + ag.exp(ag.sum(x)) / 3 - ag.norm(x) + ag.mean(x ** 2)
    assert y.dtype == ag.float32
    ag.sum(y).backward()
    assert x.grad.dtype == ag.float32
    g = ag.grad(lambda x: ag.sum(ag.tanh(x) * 3))(ag.tensor([1.0, 2.0], dtype=ag.float32))
    assert g.dtype == ag.float32
    _, t = ag.jvp(lambda x: ag.sin(x) * 2, (ag.tensor([1.0], dtype=ag.float32),),
                  (ag.tensor([1.0], dtype=ag.float32),))
    assert t.dtype == ag.float32


def test_float_and_double_casts_are_differentiable():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.float()
    assert y.dtype == ag.float32
    (y.double() * 3).sum().backward()
    assert x.grad.dtype == ag.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# -- properties and conversions -----------------------------------------------
def test_shape_ndim_is_leaf():
    x = ag.ones(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    assert ag.tensor([1.0]).is_leaf
    with ag.no_grad():
        z = x * 2
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None


def test_conversions():
    t = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t).dtype == np.float64
    s = ag.tensor(2.5)
    assert s.item() == 2.5 and isinstance(s.item(), float)
    assert float(s) == 2.5 and isinstance(float(s), float)
    assert ag.tensor([7.0]).item() == 7.0
    assert bool(ag.tensor(1.0)) and not bool(ag.tensor(0.0))
    assert bool(ag.tensor([3.0]) > 2)


def test_item_and_bool_of_several_elements_are_errors():
    t = ag.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(RuntimeError, match="ambiguous"):
        if t > 0:
            pass


def test_numpy_shares_memory_like_pytorch():
    t = ag.tensor([1.0, 2.0])
    t.numpy()[0] = 5.0
    assert t.tolist() == [5.0, 2.0]


def test_tensor_copies_its_input():
    data = np.array([1.0, 2.0])
    t = ag.tensor(data)
    data[0] = 9.0
    assert t.tolist() == [1.0, 2.0]


def test_python_scalar_while_loop_condition_works():
    b = ag.tensor([0.3, 0.4], requires_grad=True)
    steps = 0
    while b.norm() < 1000:
        b = b * 2
        steps += 1
    assert steps == 11   # 0.5 * 2**11 = 1024


# -- grad modes -----------------------------------------------------------------
def test_no_grad_and_enable_grad_as_context_managers():
    x = ag.tensor(1.0, requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert ag.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    @ag.no_grad()
    def without(x):
        return x * 2

    @ag.enable_grad()
    def with_grad(x):
        return x * 2
    x = ag.tensor(1.0, requires_grad=True)
    assert without(x).grad_fn is None
    with ag.no_grad():
        assert with_grad(x).grad_fn is not None
    assert ag.is_grad_enabled()


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            1 / 0
    assert ag.is_grad_enabled()


def test_gradients_accumulate_on_leaves():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 3 + 4])


def test_a_leaf_used_twice_gets_the_sum_of_both_paths():
    x = ag.tensor(3.0, requires_grad=True)
    y = x * x + ag.sin(x) * x
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 + np.cos(3) * 3 + np.sin(3))


def test_parameter_update_under_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = ag.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).backward()
    assert y.grad.item() == 12.0 and x.grad.item() == 36.0


def test_comparisons_give_bool_tensors_without_grad():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == ag.bool_
        assert not result.requires_grad and result.grad_fn is None
    assert (x > 2).tolist() == [False, False, True]
    assert (x == ag.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]


def test_integer_results_do_not_require_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert not x.argmax().requires_grad


# -- factories and randomness -----------------------------------------------------
def test_randn_shapes():
    assert ag.randn(size=()).shape == ()
    assert ag.randn(2, 3).shape == (2, 3)
    assert ag.randn((4,)).shape == (4,)
    assert ag.randn(size=(2,), requires_grad=True).requires_grad


def test_manual_seed_makes_random_tensors_reproducible():
    ag.manual_seed(123)
    first = (ag.randn(3).tolist(), ag.rand(2).tolist(), ag.randint(0, 10, (4,)).tolist())
    ag.manual_seed(123)
    second = (ag.randn(3).tolist(), ag.rand(2).tolist(), ag.randint(0, 10, (4,)).tolist())
    assert first == second
    ag.manual_seed(124)
    assert ag.randn(3).tolist() != first[0]


def test_factories():
    np.testing.assert_array_equal(ag.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(ag.ones((3,)).numpy(), np.ones(3))
    np.testing.assert_array_equal(ag.eye(2).numpy(), np.eye(2))
    np.testing.assert_array_equal(ag.full((2,), 7.0).numpy(), [7.0, 7.0])
    np.testing.assert_allclose(ag.linspace(0, 1, 3).numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ag.arange(1.0, 4.0).numpy(), [1.0, 2.0, 3.0])
    assert ag.zeros_like(ag.ones(2, 3)).shape == (2, 3)
    assert ag.ones(2, requires_grad=True).requires_grad
    t = ag.tensor([ag.tensor(1.0), ag.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]


def test_indexing_and_slicing_values():
    x = ag.tensor(np.arange(12.0).reshape(3, 4))
    assert x[1, 2].item() == 6.0
    assert x[:, 1].tolist() == [1.0, 5.0, 9.0]
    assert x[-1].tolist() == [8.0, 9.0, 10.0, 11.0]
    assert x[[0, 0, 2]].shape == (3, 4)
    assert x[x > 9].tolist() == [10.0, 11.0]
    assert x[ag.tensor([2, 0])].tolist()[0] == [8.0, 9.0, 10.0, 11.0]


def test_numpy_ufuncs_on_tensors_explain_what_to_do():
    with pytest.raises(TypeError, match="ag.sin"):
        np.sin(ag.tensor([1.0]))
    # arithmetic with numpy arrays on either side stays a Tensor
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, ag.Tensor) and y.requires_grad


def test_dim_keyword_spellings_of_pytorch():
    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    assert ag.stack([x, x], dim=1).shape == (2, 2, 3)
    assert ag.stack([x, x]).shape == (2, 2, 3)
    np.testing.assert_allclose(ag.softmax(x, dim=0).sum(dim=0).numpy(), np.ones(3))
    np.testing.assert_allclose(ag.softmax(x).sum(dim=1).numpy(), np.ones(2))
    np.testing.assert_allclose(ag.log_softmax(x, dim=0).exp().sum(axis=0).numpy(), np.ones(3))
    assert ag.cat([x, x], dim=1).shape == (2, 6)
    assert ag.sum(x, dim=1, keepdim=True).shape == (2, 1)
    assert ag.max(x, dim=0).tolist() == [3.0, 4.0, 5.0]
    with pytest.raises(TypeError, match="either axis= or dim="):
        ag.sum(x, axis=0, dim=1)


@pytest.mark.parametrize("f", [
    lambda x: ag.sum(x ** 3), lambda x: ag.sum(2.0 ** x), lambda x: ag.sum(x ** 0),
    lambda x: ag.sum(ag.sin(x) * x / 3), lambda x: ag.sum(x ** x),
], ids=["cube", "rpow", "pow0", "sin", "x_pow_x"])
def test_float32_stays_float32_in_every_transform(f):
    x = ag.tensor([0.5, 1.5], dtype=ag.float32)
    assert ag.grad(f)(x).dtype == ag.float32
    assert ag.hessian(f)(x).dtype == ag.float32
    assert ag.jacfwd(ag.grad(f))(x).dtype == ag.float32
    assert ag.jacrev(ag.grad(f))(x).dtype == ag.float32
    _, t = ag.jvp(f, (x,), (ag.ones(2, dtype=ag.float32),))
    assert t.dtype == ag.float32
    leaf = ag.tensor([0.5, 1.5], dtype=ag.float32, requires_grad=True)
    f(leaf).backward(create_graph=True)
    assert leaf.grad.dtype == ag.float32


def test_jvp_tangent_takes_the_primal_dtype():
    x = ag.tensor([1.0, 2.0], dtype=ag.float32)
    _, t = ag.jvp(lambda x: ag.sin(x) * 2, (x,), (np.ones(2),))
    assert t.dtype == ag.float32
    two = ag.jacfwd(lambda a, b: a * b, argnums=(0, 1))(x, ag.tensor([3.0, 4.0], dtype=ag.float32))
    assert all(j.dtype == ag.float32 for j in two)
