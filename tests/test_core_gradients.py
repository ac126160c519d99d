"""Property-based gradient checks for every primitive of the rule table and the public compositions.

Each case draws random shapes (broadcast-compatible where the op broadcasts) and values in
a safe domain (positive for log/sqrt, away from kinks and ties for relu/abs/max/maximum),
then ``check_case`` compares reverse mode and forward mode with central differences and
with each other.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite.primitives import index_put
from autograd_lite import primitives as P

from helpers_core import (Case, check_case, check_second_order, forward,
                          primitives_applied, reverse)

SHAPE = dict(min_dims=0, max_dims=3, min_side=1, max_side=3)
SETTINGS = settings(max_examples=30, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# Value generators (numpy; the seed comes from hypothesis so failures replay).
def uniform(rng, shape, low=-2.0, high=2.0):
    return np.asarray(rng.uniform(low, high, size=shape), dtype=np.float64)


def away_from_zero(rng, shape, low=0.2, high=2.0):
    return uniform(rng, shape, low, high) * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng, shape):
    """Values at least 0.3 apart, so max/min have a unique winner in every slice."""
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.3 + rng.uniform(-1, 1)).reshape(shape).astype(np.float64)


def on_grid(rng, shape, offset):
    """Multiples of 0.5 plus ``offset``: two grids with different offsets never tie."""
    return np.asarray(rng.integers(-4, 5, size=shape) * 0.5 + offset, dtype=np.float64)


seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(**SHAPE)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, **SHAPE)


def axes_for(ndim):
    """None, one axis (negative allowed) or a tuple of distinct axes."""
    options = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    return st.one_of(*options)


# ---------------------------------------------------------------------------
# Cases: name -> strategy of Case. The coverage test below checks that every primitive
# in ag.PRIMITIVES is applied by at least one of them.
CASES = {}


def case(name):
    def register(builder):
        CASES[name] = builder()
        return builder
    return register


def unary_case(name, op, values):
    @st.composite
    def build(draw):
        rng = np.random.default_rng(draw(seeds))
        return Case(op, [values(rng, draw(shapes))])
    CASES[name] = build()


def binary_case(name, op, left, right):
    @st.composite
    def build(draw):
        rng = np.random.default_rng(draw(seeds))
        (sa, sb), _ = draw(pairs)
        return Case(op, [left(rng, sa), right(rng, sb)])
    CASES[name] = build()


unary_case("neg", lambda x: -x, uniform)
unary_case("exp", ag.exp, uniform)
unary_case("log", ag.log, lambda rng, s: uniform(rng, s, 0.3, 3.0))
unary_case("sin", ag.sin, lambda rng, s: uniform(rng, s, -4, 4))
unary_case("cos", ag.cos, lambda rng, s: uniform(rng, s, -4, 4))
unary_case("tan", ag.tan, lambda rng, s: uniform(rng, s, -1.2, 1.2))
unary_case("tanh", ag.tanh, uniform)
unary_case("sigmoid", ag.sigmoid, lambda rng, s: uniform(rng, s, -4, 4))
unary_case("relu", ag.relu, away_from_zero)
unary_case("abs", ag.abs, away_from_zero)
unary_case("sqrt", ag.sqrt, lambda rng, s: uniform(rng, s, 0.3, 3.0))
unary_case("square", ag.square, uniform)
unary_case("clamp", lambda x: ag.clamp(x, min=-0.5, max=0.5),
           lambda rng, s: on_grid(rng, s, 0.13) / 2)

binary_case("add", lambda a, b: a + b, uniform, uniform)
binary_case("sub", lambda a, b: a - b, uniform, uniform)
binary_case("mul", lambda a, b: a * b, uniform, uniform)
binary_case("div", lambda a, b: a / b, uniform, away_from_zero)
binary_case("pow", lambda a, b: a ** b, lambda rng, s: uniform(rng, s, 0.5, 2.0), uniform)
binary_case("maximum", ag.maximum, lambda rng, s: on_grid(rng, s, 0.13),
            lambda rng, s: on_grid(rng, s, 0.37))
binary_case("minimum", ag.minimum, lambda rng, s: on_grid(rng, s, 0.13),
            lambda rng, s: on_grid(rng, s, 0.37))


@case("pow_constant_exponent")
@st.composite
def _pow_constant(draw):
    """x ** n with a negative base is common (x ** 2, x ** 3); only the base is a tensor."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.sampled_from([2, 3, -1, 0.5]))
    low = 0.3 if n == 0.5 else -2.0
    values = uniform(rng, draw(shapes), low, 2.0)
    if n == -1:
        values = away_from_zero(rng, np.shape(values))
    return Case(lambda x: x ** n, [values])


@case("rpow")
@st.composite
def _rpow(draw):
    rng = np.random.default_rng(draw(seeds))
    return Case(lambda x: 2.0 ** x, [uniform(rng, draw(shapes))])


@case("where")
@st.composite
def _where(draw):
    rng = np.random.default_rng(draw(seeds))
    (sc, sa, sb), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, **SHAPE))
    condition = rng.random(sc) < 0.5
    as_tensor = draw(st.booleans())
    cond = ag.tensor(condition) if as_tensor else condition
    return Case(lambda a, b: ag.where(cond, a, b), [uniform(rng, sa), uniform(rng, sb)])


@case("setitem")
@st.composite
def _setitem(draw):
    """``y[index] = v`` on a result: index_put, with v broadcast into the region."""
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(2, 5))
    start = draw(st.integers(0, n - 1))

    def fn(x, v):       # the primitive itself: y[start:] = v runs plain numpy when unrecorded
        return index_put(x * 1, v, positions=np.arange(start, n))
    return Case(fn, [uniform(rng, (n,)), uniform(rng, draw(st.sampled_from([(), (1,)])))])


@case("copy_")
@st.composite
def _copy(draw):
    """``y.copy_(v)`` and ``y.fill_`` on a result: overwrite, with v broadcast."""
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)

    def fn(x, v):
        y = x * 2
        return y.copy_(v) * x
    return Case(fn, [uniform(rng, shape), uniform(rng, shape[-1:] if shape else ())])


@case("matmul")
@st.composite
def _matmul(draw):
    """Every matmul form: 1-D @ 1-D, matrix @ vector, vector @ batch, broadcast batches."""
    rng = np.random.default_rng(draw(seeds))
    (sa, sb), _ = draw(hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=2, max_side=3))
    return Case(lambda a, b: a @ b, [uniform(rng, sa), uniform(rng, sb)])


@case("dot")
@st.composite
def _dot(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 5))
    return Case(ag.dot, [uniform(rng, (n,)), uniform(rng, (n,))])


def reduction_case(name, op, values):
    @st.composite
    def build(draw):
        rng = np.random.default_rng(draw(seeds))
        shape = draw(shapes)
        axis = draw(axes_for(len(shape)))
        keepdims = draw(st.booleans())
        return Case(lambda x: op(x, axis=axis, keepdims=keepdims), [values(rng, shape)])
    CASES[name] = build()


reduction_case("sum", ag.sum, uniform)
reduction_case("mean", ag.mean, uniform)
reduction_case("max", ag.max, distinct)
reduction_case("min", ag.min, distinct)
reduction_case("norm", ag.norm, away_from_zero)
reduction_case("sum_method", lambda x, **kw: x.sum(**kw), uniform)


def softmax_case(name, fn):
    @case(name)
    @st.composite
    def _strategy(draw):
        rng = np.random.default_rng(draw(seeds))
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return Case(lambda x: fn(x, axis=axis), [uniform(rng, shape, -3, 3)])


softmax_case("softmax", ag.softmax)
softmax_case("log_softmax", ag.log_softmax)     # a primitive of its own


@case("sum_to")
@st.composite
def _sum_to(draw):
    rng = np.random.default_rng(draw(seeds))
    (small, _), big = draw(pairs)
    return Case(lambda x: P.sum_to(x, shape=small), [uniform(rng, big)])


@case("broadcast_to")
@st.composite
def _broadcast_to(draw):
    rng = np.random.default_rng(draw(seeds))
    (small, _), big = draw(pairs)
    return Case(lambda x: P.broadcast_to(x, shape=big), [uniform(rng, small)])


@case("reshape")
@st.composite
def _reshape(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    size = int(np.prod(shape, dtype=int))
    target = draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1, -1), tuple(reversed(shape))]))
    use_method = draw(st.booleans())
    return Case(lambda x: x.reshape(target) if use_method else ag.reshape(x, target),
                [uniform(rng, shape)])


@case("transpose")
@st.composite
def _transpose(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    axes = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    return Case(lambda x: P.transpose(x, axes=axes), [uniform(rng, shape)])


@case("transpose_public")
@st.composite
def _transpose_public(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=3))
    d0, d1 = draw(st.permutations(range(len(shape))))[:2]
    form = draw(st.sampled_from(["swap", "T", "permute"]))
    fns = {"swap": lambda x: ag.transpose(x, d0, d1), "T": lambda x: x.T,
           "permute": lambda x: ag.permute(x, *reversed(range(len(shape))))}
    return Case(fns[form], [uniform(rng, shape)])


@case("astype")
@st.composite
def _astype(draw):
    """float64 -> float32 -> float64: linear, so a coarse step is exact up to float32 rounding."""
    rng = np.random.default_rng(draw(seeds))
    return Case(lambda x: P.astype(P.astype(x, dtype=np.float32) * 3, dtype=np.float64),
                [uniform(rng, draw(shapes))], eps=1e-2, rtol=1e-4, atol=1e-4, identity_tol=1e-5)


@case("getitem_basic")
@st.composite
def _getitem_basic(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return Case(lambda x: x[index], [uniform(rng, shape)])


def _fancy_index(draw, shape):
    """Integer arrays (with repeats, negative entries) or a boolean mask."""
    kind = draw(st.sampled_from(["int", "int_axis1", "mask", "two_arrays"]))
    if kind == "mask" or len(shape) == 0:
        return np.asarray(draw(hnp.arrays(np.bool_, shape)))
    n = shape[0]
    rows = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5)))
    if kind == "int_axis1" and len(shape) >= 2:
        m = shape[1]
        cols = np.asarray(draw(st.lists(st.integers(-m, m - 1), min_size=1, max_size=5)))
        return (slice(None), cols)
    if kind == "two_arrays" and len(shape) >= 2:
        cols = np.asarray(draw(st.lists(st.integers(0, shape[1] - 1),
                                        min_size=len(rows), max_size=len(rows))))
        return (rows, cols)
    return rows


@case("getitem_fancy")
@st.composite
def _getitem_fancy(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    index = _fancy_index(draw, shape)
    as_list = isinstance(index, np.ndarray) and index.dtype != bool and draw(st.booleans())
    key = index.tolist() if as_list else index
    return Case(lambda x: x[key], [uniform(rng, shape)])


@case("scatter_add")
@st.composite
def _scatter_add(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    index = draw(hnp.basic_indices(shape)) if draw(st.booleans()) else _fancy_index(draw, shape)
    picked = np.zeros(shape)[index].shape
    return Case(lambda g: P.scatter_add(g, index=index, shape=shape), [uniform(rng, picked)])


@case("concatenate")
@st.composite
def _concatenate(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for n in sizes:
        shape[axis] = n
        parts.append(uniform(rng, tuple(shape)))
    fn = draw(st.sampled_from([ag.concatenate, ag.cat]))
    key = "axis" if fn is ag.concatenate else "dim"
    return Case(lambda *xs: fn(list(xs), **{key: axis}), parts)


@case("stack")
@st.composite
def _stack(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(shapes)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    count = draw(st.integers(1, 3))
    return Case(lambda *xs: ag.stack(xs, axis=axis), [uniform(rng, shape) for _ in range(count)])


@case("composition")
@st.composite
def _composition(draw):
    """A small network-like expression mixing broadcasting, matmul and reductions."""
    rng = np.random.default_rng(draw(seeds))
    n, k, m = draw(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)))

    def net(w, x, b):
        h = ag.tanh(x @ w + b)
        return ag.mean(ag.sigmoid(h) * ag.exp(-h * h), axis=0) + ag.norm(w) / ag.sum(h * h + 1)
    return Case(net, [uniform(rng, (k, m)), uniform(rng, (n, k)), uniform(rng, (m,))])


# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_gradients_match_finite_differences(name, data):
    check_case(data.draw(CASES[name], label=name), seed=data.draw(seeds, label="seed"))


@pytest.mark.parametrize("name", sorted(set(CASES) - {"astype"}))   # astype: float32 noise
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_second_derivatives_match_finite_differences(name, data):
    """The rules are written with the library's own ops, so they differentiate again."""
    check_second_order(data.draw(CASES[name], label=name), seed=data.draw(seeds, label="seed"))


def test_pow_has_finite_slopes_at_zero():
    """0 ** 0 and 0 ** b: slopes 0 (as PyTorch), not 0 * inf = nan."""
    a = ag.tensor([0.0, 0.0, 2.0], requires_grad=True)
    b = ag.tensor([0.0, 2.0, 0.0], requires_grad=True)
    (a ** b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0]
    assert b.grad.tolist() == [0.0, 0.0, np.log(2.0)]
    x = ag.tensor(0.0, requires_grad=True)
    (x ** 0 + 0.0 ** x).backward()
    assert x.grad.item() == 0.0


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_every_primitive_is_covered_by_a_gradient_case():
    """Adding a primitive to the rule table without a gradient case here fails this test."""
    covered = set()
    for name, strategy in CASES.items():
        for _ in range(3):
            example = strategy.example()
            covered |= primitives_applied(example.fn, example.inputs)
    missing = set(ag.PRIMITIVES) - covered
    assert not missing, f"primitives without a gradient case: {sorted(missing)}"


def test_every_primitive_declares_a_vjp_and_a_jvp():
    for name, prim in ag.PRIMITIVES.items():
        assert prim.vjp is not None and prim.jvp is not None, name
        if not prim.variadic:
            assert all(callable(rule) for rule in prim.vjp), name
            assert all(callable(rule) for rule in prim.jvp), name
        assert prim.saves in (None, "inputs", "output", "both"), name


# ---------------------------------------------------------------------------
# At ties and kinks there are no finite differences to compare with, but the two modes must
# still agree with each other: both use the same subgradient (ties share it equally).
KINKS = {
    "maximum_ties": (ag.maximum, [np.array([1.0, 2.0, -3.0]), np.array([1.0, 0.0, -3.0])]),
    "minimum_ties": (ag.minimum, [np.array([[1.0], [2.0]]), np.array([1.0, 2.0, 3.0])]),
    "max_ties": (lambda x: ag.max(x, axis=1), [np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]])]),
    "min_ties_all": (ag.min, [np.array([1.0, 1.0, 1.0, 4.0])]),
    "relu_at_zero": (ag.relu, [np.array([0.0, 1.0, -1.0])]),
    "abs_at_zero": (ag.abs, [np.array([0.0, 1.0, -1.0])]),
    "norm_at_zero": (lambda x: ag.norm(x, axis=0), [np.array([[0.0, 3.0], [0.0, 4.0]])]),
    "clamp_at_bounds": (lambda x: ag.clamp(x, -1.0, 1.0), [np.array([-1.0, 1.0, 0.0])]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_forward_and_reverse_agree_at_ties_and_kinks(name):
    fn, arrays = KINKS[name]
    rng = np.random.default_rng(0)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    _, jv = forward(fn, arrays, tangents)
    v = rng.standard_normal(jv.shape)
    grads = reverse(fn, arrays, v)
    np.testing.assert_allclose(reverse(fn, arrays, v, rules_on_tensors=True)[0], grads[0])
    assert np.sum(v * jv) == pytest.approx(sum(np.sum(g * t) for g, t in zip(grads, tangents)))


def test_tie_subgradients_are_shared_equally():
    x = ag.tensor([3.0, 1.0, 3.0], requires_grad=True)
    ag.max(x).backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    a, b = ag.tensor(2.0, requires_grad=True), ag.tensor(2.0, requires_grad=True)
    ag.maximum(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)
    z = ag.zeros(3, requires_grad=True)
    ag.norm(z).backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_primitives_flagged_linear_are_linear_in_each_input(name, data):
    """A primitive flagged ``linear`` has its JVP derived from its forward (the tangent in one
    input's place), which is right only if it is linear in each input while the others stay
    fixed: f(.., u + 2w, ..) == f(.., u, ..) + 2 f(.., w, ..), at every application a case makes."""
    example = data.draw(CASES[name], label=name)
    applied = []

    def note(prim, inputs, output, params):
        if prim.linear:
            applied.append((prim, [x.numpy() if isinstance(x, ag.Tensor) else x for x in inputs],
                            params))
    with ag.observing(note):
        example.fn(*[ag.tensor(a) for a in example.inputs])
    rng = np.random.default_rng(1)
    for prim, values, params in applied:
        for i, x in enumerate(values):
            if np.result_type(x).kind != "f":
                continue

            def at(v):
                args = values[:i] + [v] + values[i + 1:]
                return np.asarray(prim.forward(*args, **params), dtype=np.float64)
            u, w = (np.asarray(rng.standard_normal(np.shape(x)), dtype=np.result_type(x))
                    for _ in range(2))
            np.testing.assert_allclose(at(u + 2 * w), at(u) + 2 * at(w), rtol=1e-5, atol=1e-5,
                                       err_msg=f"{prim.name} is not linear in input {i}")
