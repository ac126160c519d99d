"""Engine details a user relies on without knowing it: gradients never alias each other,
parameter updates happen in place, and the in-place checks keep working."""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.tensor import apply


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


# relu's backward writes its mask into the incoming gradient when that array belongs to the
# sweep alone (as hand-written numpy does ``dh *= mask``), for big arrays only. These tests
# check that nobody ever sees such a write, and that the in-place rule really runs.
N = 64                                   # 64 x 64 float64 = 32 KB, above the threshold


def _big(seed, shape=(N, N)):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture
def relu_writes(monkeypatch):
    """Count the backward steps that took relu's in-place rule."""
    prim = ag.relu.primitive
    calls = []
    original = prim.vjp_into[0]

    def counting(g, out, x):
        calls.append(g.shape)
        return original(g, out, x)
    monkeypatch.setattr(prim, "vjp_into", (counting,))
    return calls


def test_relu_layer_gradients_on_big_arrays(relu_writes):
    x_np, w_np, v_np = _big(0), _big(1), _big(2)
    w, v = ag.tensor(w_np, requires_grad=True), ag.tensor(v_np, requires_grad=True)
    h = ag.relu(ag.tensor(x_np) @ w)
    (h @ v).sum().backward()
    dh = np.ones((N, N)) @ v_np.T * (x_np @ w_np > 0)
    np.testing.assert_allclose(w.grad.numpy(), x_np.T @ dh, rtol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), np.maximum(x_np @ w_np, 0).T @ np.ones((N, N)))
    assert relu_writes == [(N, N)]          # the in-place rule really ran


def test_relu_leaves_a_retained_gradient_unmasked(relu_writes):
    u = ag.tensor(_big(0), requires_grad=True)
    r = ag.relu(u * 1).retain_grad()
    (r * 3).sum().backward()
    np.testing.assert_array_equal(r.grad.numpy(), np.full((N, N), 3.0))
    np.testing.assert_array_equal(u.grad.numpy(), 3.0 * (_big(0) > 0))
    assert relu_writes == []


def test_relu_leaves_a_requested_gradient_unmasked(relu_writes):
    u = ag.tensor(_big(0), requires_grad=True)
    r = ag.relu(u * 1)
    loss = (r * 3).sum()
    loss.backward(inputs=[r, u])
    np.testing.assert_array_equal(r.grad.numpy(), np.full((N, N), 3.0))
    np.testing.assert_array_equal(u.grad.numpy(), 3.0 * (_big(0) > 0))
    assert relu_writes == []


def test_relus_fed_the_same_gradient_do_not_mask_each_other(relu_writes):
    a_np, b_np = _big(0), _big(1)
    a, b = ag.tensor(a_np, requires_grad=True), ag.tensor(b_np, requires_grad=True)
    ((ag.relu(a * 1) + ag.relu(b * 1)) * 2).sum().backward()   # add hands one array to both
    np.testing.assert_array_equal(a.grad.numpy(), 2.0 * (a_np > 0))
    np.testing.assert_array_equal(b.grad.numpy(), 2.0 * (b_np > 0))
    assert relu_writes == []


def test_backward_never_writes_into_the_callers_gradient(relu_writes):
    u = ag.tensor(_big(0), requires_grad=True)
    seed = _big(3)
    for make in (lambda: ag.relu(u), lambda: ag.relu(u) + 0, lambda: ag.relu(u * 1)):
        u.grad = None
        make().backward(gradient=ag.tensor(seed))
        np.testing.assert_array_equal(seed, _big(3))
        np.testing.assert_array_equal(u.grad.numpy(), seed * (_big(0) > 0))
    assert relu_writes == []


def test_repeated_backwards_through_a_retained_graph_agree(relu_writes):
    x = ag.tensor(_big(0), requires_grad=True)
    w = ag.tensor(_big(1), requires_grad=True)
    loss = (ag.relu(ag.relu(x @ w) @ w) * 2).sum()       # relu of relu, w used twice
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)
    x_np, w_np = _big(0), _big(1)
    h1 = x_np @ w_np
    h2 = np.maximum(h1, 0) @ w_np
    dh1 = (2.0 * (h2 > 0)) @ w_np.T * (h1 > 0)
    np.testing.assert_allclose(first, dh1 @ w_np.T, rtol=1e-12)
    assert len(relu_writes) == 4              # both relus, both backwards


def test_float32_stays_float32_through_relu_layers(relu_writes):
    w = ag.tensor(_big(1).astype(np.float32), requires_grad=True)
    x = ag.tensor(_big(0).astype(np.float32))
    (ag.relu(x @ w) * 2).sum().backward()
    assert w.grad.dtype == np.float32
    assert relu_writes == [(N, N)]


@pytest.mark.parametrize("name", sorted(n for n, p in ag.primitives.PRIMITIVES.items()
                                        if p.vjp_into is not None))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_in_place_rule_agrees_with_its_allocating_rule(name, dtype):
    prim = ag.primitives.PRIMITIVES[name]
    x = _big(0).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]           # the edges of a mask: zeros and NaN
    out, g = prim.forward(x), _big(1).astype(dtype)
    expected = prim.vjp[0](g, out, x)
    into = g.copy()
    result = prim.vjp_into[0](into, out, x)
    assert result is into and result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


# ---------------------------------------------------------------- the entry points
# unary_operation and binary_operation (tensor.py) take apply()'s steps for one or two
# inputs without parameters: their results and gradients must be apply()'s.
def _simple_primitives(arity):
    """The primitives of ``arity`` inputs and no parameters: those the short entry points run."""
    return sorted(n for n, p in ag.primitives.PRIMITIVES.items()
                  if not p.variadic and len(p.vjp) == arity
                  and not p.params)


def test_the_short_entry_points_cover_the_elementwise_functions_and_operators():
    assert {"exp", "log", "sin", "relu", "tanh", "sigmoid", "neg"} <= set(_simple_primitives(1))
    assert {"add", "sub", "mul", "div", "pow", "matmul", "maximum"} <= set(_simple_primitives(2))
    assert "sum" not in _simple_primitives(1) and "where" not in _simple_primitives(2)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_short_entry_points_give_a_float_whenever_an_input_requires_grad(dtype):
    """They record without apply()'s dtype check, so an integer result would be recorded:
    every primitive they run must give a float from a float input, whatever the other is."""
    x = ag.tensor(np.array([0.5, 1.5], dtype=dtype), requires_grad=True)
    for name in _simple_primitives(1):
        assert getattr(ag.primitives, name)(x).dtype.kind == "f", name
    for name in _simple_primitives(2):
        op = getattr(ag.primitives, name)
        others = [np.array([2, 3]), 2, True, ag.tensor([2, 3])] if name != "matmul" else \
            [np.array([2, 3]), ag.tensor([2, 3])]
        for other in others:
            assert op(x, other).dtype.kind == "f", (name, other)
            if name != "overwrite":         # only ever called as overwrite(target, values)
                assert op(other, x).dtype.kind == "f", (name, other)


def _gradients(make, leaves):
    for t in leaves:
        t.grad = None
    out = make()
    (out * ag.tensor(np.linspace(1.0, 2.0, out.numel()).reshape(out.shape))).sum().backward()
    return out.numpy(), [None if t.grad is None else t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("name", _simple_primitives(1))
def test_the_one_input_entry_point_computes_what_apply_computes(name):
    op = getattr(ag.primitives, name)
    for value in (np.linspace(0.2, 0.9, 6).reshape(2, 3), np.float64(0.4)):
        x = ag.tensor(value, requires_grad=True)
        fast, fast_grads = _gradients(lambda: op(x), [x])
        general, general_grads = _gradients(lambda: apply(op.primitive, (x,)), [x])
        assert type(op(x)._data) is type(apply(op.primitive, (x,))._data)
        np.testing.assert_array_equal(fast, general)
        np.testing.assert_array_equal(fast_grads[0], general_grads[0])
        assert fast_grads[0].shape == np.shape(value)


@pytest.mark.parametrize("name", _simple_primitives(2))
@pytest.mark.parametrize("kinds", ["tensor-tensor", "tensor-number", "number-tensor",
                                   "tensor-array", "constant-tensor", "same-shape"])
def test_the_two_input_entry_point_computes_what_apply_computes(name, kinds):
    op = getattr(ag.primitives, name)
    a_np, b_np = np.linspace(0.5, 1.5, 6).reshape(2, 3), np.linspace(1.0, 2.0, 3).reshape(3, 1)
    if kinds == "same-shape":
        b_np = np.linspace(1.0, 2.0, 6).reshape(2, 3) if name != "matmul" else b_np.reshape(3, 1)
    grad_a = ag.tensor(a_np, requires_grad=True)
    grad_b = ag.tensor(b_np, requires_grad=True)
    a, b = {"tensor-tensor": (grad_a, grad_b), "tensor-number": (grad_a, 2.0),
            "number-tensor": (2.0, grad_b), "tensor-array": (grad_a, b_np),
            "constant-tensor": (ag.tensor(a_np), grad_b),
            "same-shape": (grad_a, grad_b)}[kinds]
    try:
        op(a, b)
    except ValueError:                      # matmul of a matrix and a number
        with pytest.raises(ValueError):
            apply(op.primitive, (a, b))
        return
    leaves = [grad_a, grad_b]
    fast, fast_grads = _gradients(lambda: op(a, b), leaves)
    general, general_grads = _gradients(lambda: apply(op.primitive, (a, b)), leaves)
    np.testing.assert_array_equal(fast, general)
    assert [g is None for g in fast_grads] == [g is None for g in general_grads]
    assert any(g is not None for g in fast_grads)
    for leaf, f, g in zip(leaves, fast_grads, general_grads):
        if f is not None:
            np.testing.assert_array_equal(f, g)
            assert f.shape == leaf.shape        # broadcast inputs get their own shape back


def test_operators_and_reflected_operators_record_their_primitive():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for expr, name in [(x + 1, "AddBackward"), (1 + x, "AddBackward"), (x - 1, "SubBackward"),
                       (1 - x, "SubBackward"), (2 * x, "MulBackward"), (x / 2, "DivBackward"),
                       (2 / x, "DivBackward"), (x ** 2, "PowBackward"), (2 ** x, "PowBackward"),
                       (x @ x, "MatmulBackward")]:
        assert expr.grad_fn.name() == name
    np.testing.assert_allclose((1 - x).numpy(), [0.0, -1.0])
    np.testing.assert_allclose((2 / x).numpy(), [2.0, 1.0])
    with ag.no_grad():
        assert (x * 2).grad_fn is None and not (x * 2).requires_grad


def test_the_short_entry_points_still_feed_forward_mode_and_observers():
    x = ag.tensor([0.5, -1.0, 2.0])
    primal, tangent = ag.jvp(lambda v: ag.relu(v) * v + ag.sin(v), (x,), (ag.ones(3),))
    expected = np.where(x.numpy() > 0, 2 * x.numpy(), 0.0) + np.cos(x.numpy())
    np.testing.assert_allclose(tangent.numpy(), expected)
    counts = ag.count_ops(lambda v: ag.relu(v) * v + ag.sin(v), x)
    assert counts.by_primitive == {"relu": 1, "mul": 1, "sin": 1, "add": 1}


# ---------------------------------------------------------------- relu's slope
@pytest.mark.parametrize("size", [4, 5000])
def test_relu_gradient_is_one_zero_or_nan_at_any_size(size):
    values = np.resize([2.0, -3.0, 0.0, np.nan], size)
    x = ag.tensor(values, requires_grad=True)
    ag.relu(x).backward(gradient=ag.ones(size))
    expected = np.resize([1.0, 0.0, 0.0, np.nan], size)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_relu_gradient_on_numpy_scalars_matches_arrays():
    for value, slope in [(2.0, 1.0), (-3.0, 0.0), (0.0, 0.0)]:
        x = ag.tensor(value, requires_grad=True)
        ag.relu(x).backward()
        assert x.grad.item() == slope
    x = ag.tensor(np.nan, requires_grad=True)
    ag.relu(x).backward()
    assert np.isnan(x.grad.item())


def test_relu_saves_its_output_like_torch():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    y = ag.relu(x)
    with ag.no_grad():
        x.add_(1.0)                 # relu's input changed in place: relu does not read it
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])
    s = ag.sin(x)
    with ag.no_grad():
        x.add_(1.0)                 # sin's rule reads its input: refused
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        s.sum().backward()


# ---------------------------------------------------------------- what the nodes may drop
# A node keeps nothing of an input that no rule reads, unless the sweep needs its shape to
# undo broadcasting; for that, every rule of a one-input primitive, and of a two-input one
# given inputs of one shape, must return exactly its input's shape.
@pytest.mark.parametrize("name", _simple_primitives(1))
def test_every_one_input_rule_returns_its_inputs_shape(name):
    prim = getattr(ag.primitives, name).primitive
    for value in (np.linspace(0.2, 0.9, 6).reshape(2, 3), np.float64(0.4)):
        out = prim.forward(value)
        g = np.ones(np.shape(out))
        assert np.shape(prim.vjp[0](g, out, value)) == np.shape(value)


@pytest.mark.parametrize("name", _simple_primitives(2))
@pytest.mark.parametrize("shape", [(3, 3), (3,), (2, 3, 3), ()])
def test_every_two_input_rule_returns_its_inputs_shape_when_the_shapes_agree(name, shape):
    prim = getattr(ag.primitives, name).primitive
    if name == "matmul" and len(shape) == 0:
        return
    a = np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)
    b = np.linspace(1.0, 2.0, int(np.prod(shape))).reshape(shape)
    if not shape:
        a, b = np.float64(a), np.float64(b)
    out = prim.forward(a, b)
    g = np.ones(np.shape(out))
    for i, value in enumerate((a, b)):
        assert np.shape(prim.vjp[i](g, out, a, b)) == np.shape(value)


def test_broadcast_inputs_still_get_gradients_of_their_own_shape():
    a = ag.tensor(np.ones((2, 3)), requires_grad=True)
    for b_value in (np.ones(3), np.ones((1, 3)), np.float64(2.0), 2.0, np.ones((2, 1))):
        b = ag.tensor(b_value, requires_grad=True) if not isinstance(b_value, float) else b_value
        y = a * b + b
        y.sum().backward()
        if isinstance(b, ag.Tensor):
            assert b.grad.shape == np.shape(b_value)
            np.testing.assert_array_equal(b.grad.numpy(), np.full(np.shape(b_value),
                                                                  12.0 / np.size(b_value)))
        assert a.grad.shape == (2, 3)
        a.grad = None


@pytest.mark.parametrize("arity", [1, 2])
def test_shape_only_rules_without_parameters_read_no_input_at_all(arity):
    """Their nodes keep nothing of the inputs when none was broadcast: the rules get None
    for every input, so they must not read them."""
    names = [n for n in _simple_primitives(arity) if ag.primitives.PRIMITIVES[n].saves is None]
    assert names                                  # neg; add, sub
    g = np.linspace(1.0, 2.0, 6).reshape(2, 3)
    for name in names:
        for rule in ag.primitives.PRIMITIVES[name].vjp:
            assert np.shape(rule(g, None, *([None] * arity))) == g.shape


def test_output_only_rules_read_no_input():
    names = [n for n, p in ag.primitives.PRIMITIVES.items() if p.saves == "output"]
    assert {"exp", "tanh", "sigmoid", "relu", "sqrt", "tan", "log_softmax"} <= set(names)
    x = np.linspace(0.2, 0.9, 6).reshape(2, 3)
    for name in names:
        prim = ag.primitives.PRIMITIVES[name]
        out = prim.forward(x)
        for rule in prim.vjp:
            np.testing.assert_array_equal(rule(np.ones_like(out), out, *([None] * len(prim.vjp))),
                                          rule(np.ones_like(out), out, *([x] * len(prim.vjp))))
