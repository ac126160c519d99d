"""The rule table: every primitive's forward, VJP and JVP, declared once.

A rule receives ``(g_or_t, out, *inputs, **params)``: ``g`` is the output's cotangent
(reverse mode) or an input's tangent ``t`` (forward mode), ``out`` the primal output.
Rules are written with the functions of this module, which work on numpy arrays *and*
on Tensors. A plain backward runs them on arrays (fast); ``create_graph=True``, forward
mode and the teaching instruments run them on Tensors, so the derivative of a derivative
comes from the same table. Nothing outside this file knows a derivative formula.

``saves`` says which values a rule reads: "inputs", "output", "both" or None (shapes only).
After a backward those values are released, as PyTorch releases its saved tensors.

``vjp_into`` (optional) is the same VJP written into ``g``'s own memory, as hand-written
numpy does (``dh *= mask``). The engine calls it only with an array ``g`` that nothing else
holds (see backward.py), so it saves an allocation without anyone seeing a changed array.

``linear`` says the primitive is linear in each input while the others stay fixed (sum,
reshape, neg, mul, matmul): then its JVP is the primitive itself applied with the tangent in
the input's place, so the table derives the rule instead of repeating the forward.

``params`` names the keyword parameters besides the inputs (sum's axis and keepdims).

The instruments read how a primitive is written from here too. ``notation`` is how a trace
row writes it: an operator of the rows' expression language ("+", "−", "×", "/", "^", "@";
"−" before a single input; "[]" for indexing by the ``index`` parameter), a function's name
in text and LaTeX (``("ln", r"\\ln")``, with any parameters as leading arguments), or None
for the primitive's own name with its parameters in brackets (``sum[axis=0](v_1)``).
``sympy`` is its counterpart in SymPy for the symbolic comparison: the name of a SymPy
function, or a callable ``(sympy, *args, **params)``; None means it has none.
"""
import math
import operator

import numpy as np

from .tensor import Tensor, apply, unary_operation, binary_operation


class Primitive:
    __slots__ = ("name", "forward", "vjp", "jvp", "saves", "variadic", "backward_name", "linear",
                 "vjp_into", "vjp_rules", "view", "params", "notation", "sympy",
                 "reads_inputs", "reads_output")

    def __init__(self, name, forward, vjp, jvp, saves=None, variadic=False, linear=False,
                 vjp_into=None, params=(), notation=None, sympy=None):
        self.name, self.forward, self.vjp, self.jvp = name, forward, vjp, jvp
        self.saves, self.variadic, self.linear = saves, variadic, linear
        # What the recording keeps for the rules, asked once per op (see tensor._result).
        self.reads_inputs = saves in ("inputs", "both")
        self.reads_output = saves in ("output", "both")
        self.vjp_into = vjp_into
        self.params, self.notation, self.sympy = tuple(params), notation, sympy
        self.view = False       # may its result share the input's memory (reshape, getitem, .T)?
        # The VJP rule of each input, as the backward sweep indexes them.
        self.vjp_rules = _RulesByInput(self) if variadic else vjp
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward"

    def vjp_rule(self, i):
        if self.variadic:
            return lambda g, out, *xs, **kw: self.vjp(i, g, out, *xs, **kw)
        return self.vjp[i]

    def jvp_rule(self, i):
        if self.variadic:
            return lambda t, out, *xs, **kw: self.jvp(i, t, out, *xs, **kw)
        return self.jvp[i]

    def __repr__(self):
        return f"<primitive {self.name}>"


class _RulesByInput:
    """``rules[i]``: the VJP rule of input i of a variadic primitive (concatenate, stack)."""

    __slots__ = ("prim",)

    def __init__(self, prim):
        self.prim = prim

    def __getitem__(self, i):
        return self.prim.vjp_rule(i)


PRIMITIVES = {}


def _define(name, forward, vjp, jvp, saves=None, variadic=False, linear=False, vjp_into=None,
            params=(), notation=None, sympy=None):
    has_jvp = callable(jvp) or (jvp is not None and any(rule is not None for rule in jvp))
    if linear == has_jvp:
        raise ValueError(f"primitive {name!r}: give either its JVP rule or linear=True (the "
                         f"rule is then derived from the forward), exactly one of the two")
    prim = Primitive(name, forward, vjp, jvp, saves, variadic, linear, vjp_into, params,
                     notation, sympy)
    if linear:
        prim.jvp = _linear_jvps(prim)
    PRIMITIVES[name] = prim
    return prim


def _linear_jvps(prim):
    """The JVP rules of a primitive linear in each input: f(..., t, ...), the tangent in the
    input's place. On tensors the call is recorded, so derivatives of derivatives still work;
    on arrays and on the trace's symbols it is the forward itself."""
    op = _with_params(prim)

    def rule(i):
        return lambda t, out, *xs, **params: op(*xs[:i], t, *xs[i + 1:], **params)
    return tuple(rule(i) for i in range(len(prim.vjp)))


def unary(name, forward, vjp, jvp=None, saves="inputs", linear=False, vjp_into=None, params=(),
          notation=None, sympy=None):
    prim = _define(name, forward, (vjp,), (jvp,), saves, linear=linear,
                   vjp_into=None if vjp_into is None else (vjp_into,),
                   params=params, notation=notation, sympy=sympy)
    return _named(unary_operation(prim) if not prim.params
                  else _with_params(prim), prim)


def binary(name, forward, vjps, jvps=None, saves="inputs", linear=False, params=(), notation=None,
           sympy=None):
    prim = _define(name, forward, vjps, jvps, saves, linear=linear,
                   params=params, notation=notation, sympy=sympy)
    return _named(binary_operation(prim) if not prim.params
                  else _with_params(prim), prim)


def _with_params(prim):
    """A primitive with parameters: the general ``apply`` records it."""
    forward = prim.forward

    def op(*inputs, **params):
        if any([isinstance(x, Tensor) for x in inputs]):
            return apply(prim, inputs, params)
        return forward(*inputs, **params)       # a rule running on arrays
    return op


def _named(op, prim):
    op.__name__ = op.__qualname__ = prim.name
    op.primitive = prim
    return op


def operator_methods(op):
    """``Tensor.__mul__`` and ``__rmul__`` for a binary primitive: the operation itself, and
    the same with its inputs swapped."""
    return op, lambda a, b: op(b, a)


def constant(name, forward):
    """A function whose result has zero derivative (signs, comparisons): never recorded."""
    def op(a, b=None):
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            value = forward(_raw(a)) if b is None else forward(_raw(a), _raw(b))
            return Tensor._wrap(np.asarray(value))
        return forward(a) if b is None else forward(a, b)
    op.__name__ = op.__qualname__ = name
    return op


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


# ---------------------------------------------------------------------------
# Non-differentiable helpers used inside rules.
# Python's operators, not numpy's ufuncs: the same result, many times faster on scalars.
sign = constant("sign", np.sign)
greater = constant("greater", operator.gt)
greater_equal = constant("greater_equal", operator.ge)
less = constant("less", operator.lt)
less_equal = constant("less_equal", operator.le)
equal = constant("equal", operator.eq)
not_equal = constant("not_equal", operator.ne)
zeros_like = constant("zeros_like", np.zeros_like)


def _tie_split(a, b):
    """Where a wins (1), loses (0) or ties (1/2): how maximum/minimum share the gradient."""
    return greater(a, b) + 0.5 * equal(a, b)


# ---------------------------------------------------------------------------
# Shape plumbing first: the engine uses sum_to to undo broadcasting.
def _sum_to_array(x, shape):
    shape = tuple(shape)
    if np.shape(x) == shape:
        return x
    lead = np.ndim(x) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and np.shape(x)[lead + i] != 1)
    return np.reshape(np.sum(x, axis=axes), shape)


def _broadcast_to_array(x, shape):
    return np.broadcast_to(x, tuple(shape))


def _reshape_array(x, shape):
    return np.reshape(x, shape)


def _inverse(axes):
    return tuple(np.argsort(axes))


def _transpose_array(x, axes=None):
    return np.transpose(x, axes)


def _same_on_scalars(sp, x, **params):
    """The SymPy counterpart of shape plumbing: on the scalars SymPy compares, nothing changes."""
    return x


sum_to = unary("sum_to", _sum_to_array, params=("shape",), linear=True, saves=None,
               vjp=lambda g, out, x, shape: broadcast_to(g, shape=x.shape),
               sympy=_same_on_scalars)
broadcast_to = unary("broadcast_to", _broadcast_to_array, params=("shape",), linear=True,
                     saves=None, vjp=lambda g, out, x, shape: sum_to(g, shape=x.shape),
                     sympy=_same_on_scalars)
reshape = unary("reshape", _reshape_array, params=("shape",), linear=True, saves=None,
                vjp=lambda g, out, x, shape: reshape(g, shape=x.shape), sympy=_same_on_scalars)
transpose = unary("transpose", _transpose_array, params=("axes",), linear=True, saves=None,
                  vjp=lambda g, out, x, axes=None: transpose(
                      g, axes=None if axes is None else _inverse(axes)),
                  sympy=_same_on_scalars)


def _astype_array(x, dtype):
    return np.asarray(x).astype(dtype)


astype = unary("astype", _astype_array, params=("dtype",), linear=True, saves=None,
               vjp=lambda g, out, x, dtype: astype(g, dtype=x.dtype), sympy=_same_on_scalars)


def _keepdims_shape(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if np.isscalar(axis) else axis
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(g, x_shape, axis, keepdims):
    """Give a reduced gradient its reduced axes back, then spread it over the input's shape."""
    if not keepdims:
        g = reshape(g, shape=_keepdims_shape(x_shape, axis))
    return broadcast_to(g, shape=x_shape)


def _reduce_back(r, x_shape, axis, keepdims):
    """A reduction's result with the reduced axes kept, for broadcasting against the input."""
    return r if keepdims else reshape(r, shape=_keepdims_shape(x_shape, axis))


def _sum_array(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = unary("sum", _sum_array, params=("axis", "keepdims"), linear=True, saves=None,
            vjp=lambda g, out, x, axis=None, keepdims=False: _expand_back(g, x.shape, axis, keepdims),
            sympy=_same_on_scalars)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    winners = equal(x, _reduce_back(out, x.shape, axis, keepdims)) * 1.0
    share = winners / sum(winners, axis=axis, keepdims=True)     # ties split evenly
    return _expand_back(g, x.shape, axis, keepdims) * share


def _extreme_jvp(t, out, x, axis=None, keepdims=False):
    winners = equal(x, _reduce_back(out, x.shape, axis, keepdims)) * 1.0
    share = winners / sum(winners, axis=axis, keepdims=True)
    return sum(t * share, axis=axis, keepdims=keepdims)


def _max_array(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


def _min_array(x, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims)


max = unary("max", _max_array, _extreme_vjp, _extreme_jvp, saves="both",
            params=("axis", "keepdims"))
min = unary("min", _min_array, _extreme_vjp, _extreme_jvp, saves="both",
            params=("axis", "keepdims"))


def _getitem_array(x, index):
    out = x[index]
    if isinstance(x, np.ndarray) and not isinstance(out, np.ndarray):
        # numpy gives a copied scalar for x[0] but a view for x[0, ...]; torch gives a view,
        # so that x[0].add_(1) writes into x.
        items = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in items:
            return x[items + (Ellipsis,)]
    return out


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


def _scatter_add_array(g, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    z = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(index):
        z[index] = g
    else:
        np.add.at(z, index, g)
    return z


getitem = unary("getitem", _getitem_array, params=("index",), linear=True, saves=None,
                vjp=lambda g, out, x, index: scatter_add(g, index=index, shape=x.shape),
                notation="[]")
scatter_add = unary("scatter_add", _scatter_add_array, params=("index", "shape"), linear=True,
                    saves=None, vjp=lambda g, out, x, index, shape: getitem(g, index=index))


for _viewing in (reshape, getitem, transpose):
    _viewing.primitive.view = True


def _index_put_array(x, values, positions):
    out = np.array(x, order="C")       # row-major, so reshape(-1) is a view to write through
    out.reshape(-1)[positions] = values
    return out if out.ndim else out[()]


def _zeros_of(t, like):
    return np.zeros(np.shape(like), dtype=np.result_type(t))


# The differentiable writes. index_put is ``x`` with ``values`` written at the flat
# ``positions`` (``y[i] = v``, or an in-place op on a view of y); overwrite is ``x`` replaced
# by ``values`` (fill_, zero_, copy_). What was overwritten gets no gradient.
index_put = _named(_with_params(_define(
    "index_put", _index_put_array,
    vjp=(lambda g, out, x, values, positions: index_put(g, 0.0, positions=positions),
         lambda g, out, x, values, positions: getitem(reshape(g, shape=(-1,)), index=positions)),
    jvp=(lambda t, out, x, values, positions: index_put(t, 0.0, positions=positions),
         lambda t, out, x, values, positions: index_put(_zeros_of(t, out), t, positions=positions)),
    params=("positions",))), PRIMITIVES["index_put"])


def _concatenate_array(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _concatenate_vjp(i, g, out, *xs, axis=0):
    start = int(np.sum([x.shape[axis] for x in xs[:i]], dtype=int))
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, start + xs[i].shape[axis])
    return getitem(g, index=tuple(index))


def _concatenate_jvp(i, t, out, *xs, axis=0):
    parts = [t if j == i else np.zeros(x.shape, dtype=np.result_type(t)) for j, x in enumerate(xs)]
    return concatenate(parts, axis=axis)


_concatenate_prim = _define("concatenate", _concatenate_array, _concatenate_vjp, _concatenate_jvp,
                            saves=None, variadic=True, params=("axis",))


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (torch.cat)."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    if any(isinstance(t, Tensor) for t in tensors):
        return apply(_concatenate_prim, tensors, {"axis": axis})
    return _concatenate_array(*tensors, axis=axis)


# ---------------------------------------------------------------------------
# Arithmetic.
def unchanged(g, out, *inputs, **params):
    """The rule of an input whose gradient is the output's (add, the first input of sub).
    The backward sweep recognises it and skips the call."""
    return g


def _overwrite_array(x, values):
    return np.array(np.broadcast_to(values, np.shape(x)), dtype=np.result_type(x))[()]


overwrite = _named(binary_operation(_define(
    "overwrite", _overwrite_array,
    vjp=(lambda g, out, x, values: zeros_like(g), unchanged),
    jvp=(lambda t, out, x, values: zeros_like(t), lambda t, out, x, values: t))),
    PRIMITIVES["overwrite"])


add = binary("add", operator.add,
             vjps=(unchanged, unchanged),
             jvps=(lambda t, out, a, b: t, lambda t, out, a, b: t), saves=None,
             notation="+", sympy=lambda sp, a, b: a + b)
sub = binary("sub", operator.sub,
             vjps=(unchanged, lambda g, out, a, b: -g),
             jvps=(lambda t, out, a, b: t, lambda t, out, a, b: -t), saves=None,
             notation="−", sympy=lambda sp, a, b: a - b)
mul = binary("mul", operator.mul, linear=True,
             vjps=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
             notation="×", sympy=lambda sp, a, b: a * b)
div = binary("div", operator.truediv,
             vjps=(lambda g, out, a, b: g / b, lambda g, out, a, b: -g * a / (b * b)),
             jvps=(lambda t, out, a, b: t / b, lambda t, out, a, b: -t * a / (b * b)),
             notation="/", sympy=lambda sp, a, b: a / b)
neg = unary("neg", operator.neg, vjp=lambda g, out, x: -g, saves=None, linear=True,
            notation="−", sympy=lambda sp, x: -x)


def _pow_slope(a, b):
    """d(a**b)/da = b a**(b-1), and 0 where b == 0 (PyTorch's choice: no 0 * inf at a = 0)."""
    if isinstance(b, (int, float)):        # a plain number stays one, so float32 stays float32
        return b * a ** (b - 1) if b != 0 else 0 * a
    return b * a ** (b - 1 + equal(b, 0))


def _pow_log_base(a):
    """log a for d(a**b)/db = a**b log a, and 0 where a == 0 (PyTorch's choice, no 0 * -inf)."""
    if isinstance(a, (int, float)):
        return math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)   # nan, as numpy's log
    return log(a + equal(a, 0))


pow = binary("pow", operator.pow,
             vjps=(lambda g, out, a, b: g * _pow_slope(a, b),
                   lambda g, out, a, b: g * out * _pow_log_base(a)),
             jvps=(lambda t, out, a, b: t * _pow_slope(a, b),
                   lambda t, out, a, b: t * out * _pow_log_base(a)), saves="both",
             notation="^", sympy=lambda sp, a, b: a ** b)

# Elementwise functions.
exp = unary("exp", np.exp, vjp=lambda g, out, x: g * out, jvp=lambda t, out, x: t * out,
            saves="output", notation=("exp", r"\exp"), sympy="exp")
log = unary("log", np.log, vjp=lambda g, out, x: g / x, jvp=lambda t, out, x: t / x,
            notation=("ln", r"\ln"), sympy="log")
sin = unary("sin", np.sin, vjp=lambda g, out, x: g * cos(x), jvp=lambda t, out, x: t * cos(x),
            notation=("sin", r"\sin"), sympy="sin")
cos = unary("cos", np.cos, vjp=lambda g, out, x: -g * sin(x), jvp=lambda t, out, x: -t * sin(x),
            notation=("cos", r"\cos"), sympy="cos")
tan = unary("tan", np.tan, vjp=lambda g, out, x: g * (1 + out * out),
            jvp=lambda t, out, x: t * (1 + out * out), saves="output",
            notation=("tan", r"\tan"), sympy="tan")
tanh = unary("tanh", np.tanh, vjp=lambda g, out, x: g * (1 - out * out),
             jvp=lambda t, out, x: t * (1 - out * out), saves="output",
             notation=("tanh", r"\tanh"), sympy="tanh")


def _sigmoid_array(x):
    """1 / (1 + e^-x) written so that exp never overflows and, for negative x, the small
    result is not 1 minus something close to 1 (which would lose its digits)."""
    e = np.exp(-np.abs(x))
    return np.where(np.greater_equal(x, 0), 1 / (1 + e), e / (1 + e))[()]


sigmoid = unary("sigmoid", _sigmoid_array, vjp=lambda g, out, x: g * out * (1 - out),
                jvp=lambda t, out, x: t * out * (1 - out), saves="output",
                notation=("σ", r"\sigma"), sympy=lambda sp, x: 1 / (1 + sp.exp(-x)))


class _Zeros(dict):
    """dtype -> a read-only 0-d zero of that dtype, made on first use. numpy pairs a 0-d
    array with an array faster than it does the Python number 0.0 (no scalar conversion
    per call), and the dtype of the result cannot change."""

    def __missing__(self, dtype):
        zero = self[dtype] = np.zeros((), dtype)
        zero.flags.writeable = False
        return zero


_ZEROS = _Zeros()


_FLOAT64 = np.dtype(np.float64)
_ZERO64 = _ZEROS[_FLOAT64]


def _relu_array(x):
    if type(x) is np.ndarray:
        dtype = x.dtype          # an identity test first: hashing a dtype is slow in numpy
        return np.maximum(x, _ZERO64 if dtype is _FLOAT64 else _ZEROS[dtype])
    return x if (x > 0 or x != x) else type(x)(0)    # a numpy scalar: skip the slow ufunc


def relu_slope(out):
    """relu's derivative read off its output: 1 where out > 0, 0 where out == 0, NaN where
    out is NaN (a NaN input gives a NaN gradient, on purpose: PyTorch passes the gradient
    through unchanged there, which hides that the input was NaN).

    A float mask, not a boolean one: numpy multiplies two float arrays faster than a float
    array by a boolean one, which it must convert first. Written out rather than made by ``constant``: it
    runs in every relu backward, and each call layer costs as much as the multiplication."""
    if type(out) is np.ndarray:
        return np.sign(out)
    if isinstance(out, Tensor):
        return Tensor._wrap(relu_slope(out._data))
    if isinstance(out, np.generic):
        return 1.0 if out > 0 else (0.0 if out == 0 else out)
    return out > 0          # a symbol of the trace tables


def _relu_vjp_into(g, out, x):
    """The engine calls this only for big arrays (see backward.py), where a new array's
    fresh memory pages are what costs: so the mask is boolean, 1 byte an element instead of
    8, unless NaNs must come through as relu_slope lets them."""
    if np.isnan(out.max()):           # a NaN anywhere makes the max NaN: no mask array
        g *= np.sign(out)
    else:
        g *= out > _ZEROS[out.dtype]
    return g


relu = unary("relu", _relu_array, vjp=lambda g, out, x: g * relu_slope(out),
             jvp=lambda t, out, x: t * relu_slope(out), vjp_into=_relu_vjp_into, saves="output",
             notation=("relu", r"\operatorname{relu}"), sympy=lambda sp, x: sp.Max(x, 0))


def _log_softmax_array(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)     # no overflow in exp
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# One primitive, as in PyTorch and JAX: exp(out) is the softmax, so each rule is one line,
# and a classifier's loss costs one node instead of six.
log_softmax = unary("log_softmax", _log_softmax_array,
                    vjp=lambda g, out, x, axis=-1: g - exp(out) * sum(g, axis=axis, keepdims=True),
                    jvp=lambda t, out, x, axis=-1: t - sum(exp(out) * t, axis=axis, keepdims=True),
                    saves="output", params=("axis",))
abs = unary("abs", np.abs, vjp=lambda g, out, x: g * sign(x), jvp=lambda t, out, x: t * sign(x),
            notation=("abs", r"\operatorname{abs}"), sympy="Abs")
sqrt = unary("sqrt", np.sqrt, vjp=lambda g, out, x: g / (2 * out),
             jvp=lambda t, out, x: t / (2 * out), saves="output",
             notation=("√", r"\sqrt"), sympy="sqrt")
maximum = binary("maximum", np.maximum,
                 vjps=(lambda g, out, a, b: g * _tie_split(a, b),
                       lambda g, out, a, b: g * _tie_split(b, a)),
                 jvps=(lambda t, out, a, b: t * _tie_split(a, b),
                       lambda t, out, a, b: t * _tie_split(b, a)), sympy="Max")
minimum = binary("minimum", np.minimum,
                 vjps=(lambda g, out, a, b: g * _tie_split(b, a),
                       lambda g, out, a, b: g * _tie_split(a, b)),
                 jvps=(lambda t, out, a, b: t * _tie_split(b, a),
                       lambda t, out, a, b: t * _tie_split(a, b)), sympy="Min")


def _where_array(a, b, condition):
    return np.where(condition, a, b)


_where = binary("where", _where_array,
                vjps=(lambda g, out, a, b, condition: _where(g, 0, condition=condition),
                      lambda g, out, a, b, condition: _where(0, g, condition=condition)),
                jvps=(lambda t, out, a, b, condition: _where(t, 0, condition=condition),
                      lambda t, out, a, b, condition: _where(0, t, condition=condition)),
                saves=None, params=("condition",), notation=("where", r"\operatorname{where}"))


def where(condition, a, b):
    """Pick ``a`` where ``condition`` holds and ``b`` elsewhere; the condition gets no gradient."""
    return _where(a, b, condition=_raw(condition))


# ---------------------------------------------------------------------------
# Linear algebra.
def _swap_last(x):
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, axes=tuple(axes))


def _append_axis(x, position):
    shape = tuple(x.shape)
    position = position % (len(shape) + 1)
    return reshape(x, shape=shape[:position] + (1,) + shape[position:])


def _matmul_vjp_a(g, out, a, b):
    if b.ndim == 1:                               # (..., n, k) @ (k,) -> (..., n)
        return _append_axis(g, -1) * b if a.ndim > 1 else g * b
    if a.ndim == 1:                               # (k,) @ (..., k, m) -> (..., m)
        g_col = matmul(b, _append_axis(g, -1))   # (..., k, 1)
        return reshape(g_col, shape=tuple(g_col.shape)[:-1])
    return matmul(g, _swap_last(b))


def _matmul_vjp_b(g, out, a, b):
    if a.ndim == 1:
        return _append_axis(a, -1) * _append_axis(g, -2) if b.ndim > 1 else g * a
    if b.ndim == 1:
        g_col = matmul(_swap_last(a), _append_axis(g, -1))
        return reshape(g_col, shape=tuple(g_col.shape)[:-1])
    return matmul(_swap_last(a), g)


matmul = binary("matmul", operator.matmul, vjps=(_matmul_vjp_a, _matmul_vjp_b), linear=True,
                notation="@")


def _norm_array(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _norm_grad(x, out, axis, keepdims):
    """x / ||x||, taken as 0 where the norm is 0 (the subgradient PyTorch uses)."""
    n = _reduce_back(out, x.shape, axis, keepdims)
    zero = equal(n, 0)
    return x / (n + zero) * (1 - zero)


norm = unary("norm", _norm_array,
             vjp=lambda g, out, x, axis=None, keepdims=False:
                 _expand_back(g, x.shape, axis, keepdims) * _norm_grad(x, out, axis, keepdims),
             jvp=lambda t, out, x, axis=None, keepdims=False:
                 sum(t * _norm_grad(x, out, axis, keepdims), axis=axis, keepdims=keepdims),
             saves="both", params=("axis", "keepdims"))
