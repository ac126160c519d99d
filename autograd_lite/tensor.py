"""The core of reverse mode: the Tensor, the graph Node, and ``apply``, which records them.

A Tensor wraps a numpy array (or numpy scalar). Every primitive operation goes through
``apply``: it computes the result with the primitive's forward function and, when
recording is on and an input requires grad, gives the result a ``grad_fn``, a Node that
remembers the primitive, the values its derivative rules will read, and where each
input's gradient goes next. ``backward.py`` walks these nodes back to the leaves. Forward
mode rides along: a tensor may carry a ``tangent``, pushed through each primitive here.

Dtypes follow numpy's promotion rules, not PyTorch's: a float32 tensor times a float64
0-d tensor is float64 here (PyTorch keeps float32); Python numbers never promote.
"""
import itertools
import operator
import weakref

import numpy as np

from ._state import state

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_TORCH_FLOATS = (np.dtype(np.float16), float32, float64)
_NO_PARAMS = {}
# A node's values when its rules read none: shared, since only unary and binary primitives
# come without parameters.
_KEPT_NOTHING = [(None,) * n for n in range(3)]
# One clock orders both node creation and in-place writes: a node older than the last
# write to one of its inputs must refuse to run.
clock = itertools.count(1)
_new = object.__new__


class Tensor:
    """An n-dimensional array that can record how it was computed, in PyTorch's style."""

    __slots__ = ("_data", "requires_grad", "grad_fn", "__dict__", "__weakref__")
    __array_priority__ = 1000
    # Set on few tensors (leaves, dual tensors, tensors written in place), so they live in the
    # instance dict, which exists only once one is set: an op's result stores three fields.
    _grad = None
    tangent = None
    _version = 0
    # Views: the tensor whose version counter this one shares (None: its own), the base it
    # is a differentiable view of with the steps from there, and a base's live views.
    _counter = None
    _base = None
    _view_of = None
    _views = ()

    def __init__(self, data, dtype=None, requires_grad=False, tangent=None):
        self._data = _as_array(data, dtype)
        self.requires_grad = False
        self.grad_fn = None
        if requires_grad:
            self.requires_grad_(True)
        if tangent is not None:
            from .forward import _attach_tangent
            _attach_tangent(self, tangent)

    @staticmethod
    def _wrap(data):
        """A tensor around ``data`` as it is (no copy, no checks), outside any graph: how the
        library makes the tensors it computes."""
        t = _new(Tensor)
        t._data, t.requires_grad, t.grad_fn = data, False, None
        return t

    # -- basic properties -------------------------------------------------
    @property
    def data(self):
        """A tensor sharing this one's memory, outside the graph. As in PyTorch, writes
        through it are not seen by backward's checks (detach() is the safe way): this is how
        the classic update ``w.data -= lr * w.grad`` changes ``w`` unrecorded."""
        _own_array(self)
        return Tensor._wrap(self._data.view())

    @data.setter
    def data(self, value):
        """Give this tensor new values (it shares ``value``'s memory), keeping its history."""
        self._data = value._data if isinstance(value, Tensor) else _as_array(value)

    @property
    def grad(self):
        """The gradient accumulated by backward(), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got a "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has shape {tuple(value.shape)} but the tensor "
                                   f"has shape {tuple(self.shape)}; they must be the same")
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has dtype {value.dtype} but the tensor has "
                                   f"dtype {self.dtype}; convert it with .to({self.dtype})")
        self._grad = value

    @property
    def shape(self):
        return self._data.shape

    def size(self, dim=None):
        return self._data.shape if dim is None else self._data.shape[dim]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it holds one number; use .item()")
        return self._data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__     # identity, in C: tensors are dict keys during backward

    # -- conversions --------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python number; "
                             f"this one has shape {tuple(self.shape)}")
        return self._data.item() if hasattr(self._data, "item") else self._data

    def numpy(self):
        """The values as a numpy array (shared, not copied, as in PyTorch)."""
        return np.asarray(self._data)

    def tolist(self):
        return np.asarray(self._data).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = np.asarray(self._data)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return bool(self.item())

    def __format__(self, spec):
        if self._data.size == 1 and spec:
            return format(self.item(), spec)
        return str(self)

    def __repr__(self):
        from .display import tensor_repr
        return tensor_repr(self)

    # -- autograd -----------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"Only floating point tensors can require gradients, but this tensor has dtype "
                f"{self._data.dtype}. Create it from floats (e.g. ag.arange(4.0) or "
                f"ag.tensor([1., 2.])) or convert it with .double().")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; "
                               "use .detach() to get a tensor outside the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        from .backward import backward
        backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if self.grad_fn is not None:
            self.grad_fn.retained = self
        return self

    def detach(self):
        """The same memory, outside the graph (no grad_fn, no requires_grad). It shares this
        tensor's version counter, so backward still notices writes through it."""
        _own_array(self)
        out = Tensor._wrap(self._data.view())
        out._counter = self if self._counter is None else self._counter
        return out

    def detach_(self):
        self.grad_fn, self.requires_grad = None, False
        return self


class Node:
    """One recorded primitive application: the ``grad_fn`` of its output.

    ``next`` says where each input's gradient goes: the input's own node, the input itself
    if it is a leaf that requires grad, or None. ``values`` holds, for each input, what the
    rules read of it: its array if they read its value, an ``Unread`` (shape and dtype) if
    they read only its shape or the sweep must undo a broadcast, else None; ``out`` is the
    output if they read it. So the graph holds no array its backward never uses. ``inputs``
    are the input tensors, for rules run on tensors (``create_graph=True``). ``stamp``
    orders nodes by creation: each node is newer than the nodes that feed it, which gives
    the backward sweep its order.
    """

    __slots__ = ("prim", "params", "next", "inputs", "values", "out", "stamp", "__dict__")
    # Rarely set, so kept out of the slots: they cost nothing until used.
    out_modified = False        # the output was written in place after the op ran
    out_tangent = None          # forward mode: the output's tangent
    retained = None             # the tensor whose .grad retain_grad() asked for

    def name(self):
        return self.prim.backward_name

    def __repr__(self):
        return f"<{self.prim.backward_name}>"

    @property
    def next_functions(self):
        """Like PyTorch: the nodes (or leaf accumulators) the gradient flows to next."""
        return tuple((n, 0) for n in self.next)


class Unread(tuple):
    """What a node keeps of an input whose value its rules never read: (shape, dtype), a
    tuple underneath because that is the cheapest object to make."""

    __slots__ = ()
    shape = property(operator.itemgetter(0))
    dtype = property(operator.itemgetter(1))


def apply(prim, inputs, params=_NO_PARAMS):
    """Run the primitive ``prim`` on ``inputs`` (tensors, arrays or numbers) and return the
    result as a tensor, recorded by ``_result``: the way every primitive runs on tensors."""
    if prim.view:
        _own_array(inputs[0])
    values = tuple([x._data if isinstance(x, Tensor) else x for x in inputs])
    edges = tuple([_edge(x) for x in inputs])
    try:
        out = prim.forward(*values, **params)
    except (ValueError, TypeError, IndexError) as exc:
        raise _error_for(prim, inputs, exc) from None
    # A gradient flows only into floating results (an argmax, a comparison: none).
    needs_grad = any([e is not None for e in edges]) and out.dtype.kind in "fc"
    return _result(prim, params, inputs, values, out, edges, needs_grad)


# The elementwise functions and the arithmetic operators take no parameters and one or two
# inputs, and they are nearly every op a program runs: these two do apply()'s steps for
# them without its loops, since in Python each step costs about what numpy's own work on a
# small array does. Their result is floating whenever an input that requires grad is, so
# they skip apply()'s dtype check (tests/test_core_engine.py holds them to that).
def unary_operation(prim):
    """``prim`` (one input, no parameters) as a function: tensors are recorded, arrays just
    computed (as the rules of a plain backward do)."""
    forward = prim.forward

    def operation(x):
        if not isinstance(x, Tensor):
            return forward(x)
        try:
            out = forward(x._data)
        except (ValueError, TypeError, IndexError) as exc:
            raise _error_for(prim, (x,), exc) from None
        edge = x.grad_fn or (x if x.requires_grad else None)
        return _result(prim, _NO_PARAMS, (x,), (x._data,), out, (edge,), edge is not None)
    return operation


def binary_operation(prim):
    """``prim`` (two inputs, no parameters) as a function of tensors, arrays or numbers;
    also the operator method (``Tensor.__mul__`` is ``mul``)."""
    forward = prim.forward

    def operation(a, b):
        if isinstance(a, Tensor):
            va, ea = a._data, a.grad_fn or (a if a.requires_grad else None)
        elif not isinstance(b, Tensor):
            return forward(a, b)            # no tensor at all: a rule running on arrays
        else:
            va, ea = a, None
        if isinstance(b, Tensor):
            vb, eb = b._data, b.grad_fn or (b if b.requires_grad else None)
        else:
            vb, eb = b, None
        try:
            out = forward(va, vb)
        except (ValueError, TypeError, IndexError) as exc:
            raise _error_for(prim, (a, b), exc) from None
        return _result(prim, _NO_PARAMS, (a, b), (va, vb), out, (ea, eb),
                       ea is not None or eb is not None)
    return operation


def _result(prim, params, inputs, values, out, edges, needs_grad):
    """The output of one primitive application as a tensor, recorded when a gradient can
    flow back through it (see ``Node``), then shown to forward mode and to observers."""
    result = _new(Tensor)
    result._data = out
    if needs_grad and state.grad_enabled:
        node = Node()       # no __init__: calling the class is cheaper than object.__new__
        # One field a line: a four-way tuple assignment builds and unpacks a tuple.
        node.prim = prim
        node.params = params
        node.next = edges
        node.stamp = next(clock)
        if prim.reads_inputs:
            node.inputs, node.values = inputs, values
        elif params or (len(values) > 1 and _broadcast(values)):
            # the rules read shapes (sum's, reshape's), or the sweep must undo broadcasting
            node.inputs, node.values = None, tuple([_unread(v) for v in values])
        else:                   # no rule reads these inputs, and none was broadcast
            node.inputs, node.values = None, _KEPT_NOTHING[len(values)]
        node.out = out if prim.reads_output else None
        result.grad_fn, result.requires_grad = node, True
    else:
        result.grad_fn, result.requires_grad = None, False
    if prim.view:
        _note_view(result, inputs[0], prim, params)
    if state.forward_active:
        _push_tangent(prim, inputs, result, params)
    if state.observers:                     # op counts, trace tables
        for observer in state.observers:
            observer(prim, inputs, result, params)
    return result


def _edge(x):
    """Where the gradient of input ``x`` goes: its node, x itself (a leaf), or nowhere."""
    if not isinstance(x, Tensor):
        return None
    return x.grad_fn or (x if x.requires_grad else None)


def _broadcast(values):
    """Did numpy broadcast the inputs, two of different shapes? (Assumed for more than two:
    keeping their shapes is always safe, and every such primitive has parameters anyway.)"""
    if len(values) == 2:
        return getattr(values[0], "shape", ()) != getattr(values[1], "shape", ())
    return len(values) > 2


def _unread(value):
    return tuple.__new__(Unread, (getattr(value, "shape", ()), getattr(value, "dtype", None)))


def _error_for(prim, inputs, exc):
    """Say which primitive failed and on what, instead of numpy's bare message."""
    if isinstance(exc, TypeError):
        kinds = " and ".join(_describe(x) for x in inputs)
        return TypeError(f"{prim.name}: cannot apply it to {kinds}: {exc}. Give tensors, numbers "
                         f"or numeric numpy arrays.")
    shapes = " and ".join(str(tuple(np.shape(_data(x)))) for x in inputs)
    kind = IndexError if isinstance(exc, IndexError) else ValueError
    return kind(f"{prim.name}: cannot combine inputs of shapes {shapes}: {exc}")


def _describe(x):
    if isinstance(x, Tensor):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    return f"a {type(x).__name__}"


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _push_tangent(prim, inputs, result, params):
    """Forward mode: the output's tangent is the sum of each input's pushed-forward tangent."""
    if not any(isinstance(x, Tensor) and x.tangent is not None for x in inputs):
        return
    state.forward_active -= 1          # tangent arithmetic itself carries no tangents
    phase, state.phase = state.phase, "tangent"
    try:
        out = Tensor._wrap(result._data)        # the primal output, without its tangent
        out.requires_grad, out.grad_fn = result.requires_grad, result.grad_fn
        tangent = None
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor) and x.tangent is not None:
                rule = prim.jvp_rule(i)
                if rule is None:
                    continue
                contribution = rule(x.tangent, out, *inputs, **params)
                tangent = contribution if tangent is None else tangent + contribution
        if tangent is not None:
            if tangent.shape != result.shape:
                from .primitives import broadcast_to
                tangent = broadcast_to(tangent, shape=result.shape)
            result.tangent = tangent
            if result.grad_fn is not None:
                result.grad_fn.out_tangent = tangent
    finally:
        state.forward_active += 1
        state.phase = phase


# Views. reshape, getitem and .T may return a result that shares its input's memory, as
# detach() and .data do. Such a view shares its base's version counter, so backward
# notices a write through any of them, and it knows the steps from its base, so that
# inplace.py can rebase it after a recorded write.
def _note_view(result, x, prim, params):
    """Make ``result`` a view of ``x`` when numpy made it share x's memory."""
    out = result._data
    if not (isinstance(out, np.ndarray) and isinstance(x._data, np.ndarray)
            and np.may_share_memory(out, x._data)):
        return
    result._counter = x if x._counter is None else x._counter
    if x._base is None:
        result._base, result._view_of = x, ((prim, params),)
    else:
        result._base, result._view_of = x._base, x._view_of + ((prim, params),)
    views = result._base.__dict__.get("_views")
    if views is None:
        views = result._base._views = weakref.WeakSet()
    views.add(result)


def _own_array(t):
    """A 0-d tensor holds a numpy scalar, which nothing can share: give it an array, so
    views and detached tensors can share its memory as in PyTorch."""
    if isinstance(t._data, np.generic):
        t._data = np.array(t._data)


def _as_array(data, dtype=None):
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
        data = _nested_data(data)
    arr = np.array(data, dtype=dtype)
    if arr.dtype == object:
        raise TypeError("tensor(): could not turn the data into a numeric array; give numbers, "
                        "nested lists of equal length, a numpy array or a Tensor")
    if dtype is None and arr.dtype.kind == "f" and arr.dtype not in _TORCH_FLOATS:
        arr = arr.astype(np.float64)        # numpy's long double: PyTorch has no such type
    # One number is kept as a numpy scalar, as numpy's own operations return it: arithmetic
    # on scalars is several times faster than on 0-d arrays, and the dtype is the same.
    return arr[()] if arr.ndim == 0 else arr


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _nested_data(items):
    return [(_nested_data(i) if isinstance(i, (list, tuple)) else _data(i)) for i in items]
