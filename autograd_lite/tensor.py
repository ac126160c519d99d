"""The Tensor, the graph Node it points to, and ``apply``: the one place primitives run.

A Tensor wraps a numpy array (or numpy scalar). When an operation on tensors that
require grad runs while recording is on, the result gets a ``grad_fn``: a Node that
remembers the primitive, what its rule needs (the saved values), and where the
gradient goes next. Forward mode rides along: a tensor may carry a ``tangent``.

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

_EMPTY = {}
_TORCH_FLOATS = (np.dtype(np.float16), float32, float64)


class Meta(tuple):
    """Stands in for an input whose value a rule does not need: only its shape and dtype.

    Nodes of primitives that read no values (add, sum, reshape, ...) keep these instead of
    their inputs, so a graph does not hold on to arrays its backward will never read."""

    __slots__ = ()
    shape = property(operator.itemgetter(0))
    dtype = property(operator.itemgetter(1))

    @property
    def ndim(self):
        return len(self[0])

    @property
    def size(self):
        return int(np.prod(self[0]))


def _shapes_only(values):
    """The Metas of ``values``, shared by every node with the same input shapes and dtypes.

    Sharing them means a long graph adds no new objects for the garbage collector to scan.
    The key is flat, and for two arrays (an add or sub that broadcasts) built without a
    loop or getattr: this runs for each such op, so its cost is part of theirs."""
    try:
        key = (values[0].shape, values[1].shape, values[0].dtype, values[1].dtype) \
            if len(values) == 2 else None
    except AttributeError:          # a Python number among the two
        key = None
    if key is None:
        key = tuple([getattr(v, "shape", ()) for v in values]) + tuple(
            [getattr(v, "dtype", None) for v in values])
    metas = _SHARED_METAS.get(key)
    if metas is None:
        if len(_SHARED_METAS) > 4096:        # many distinct shapes: start over, stay small
            _SHARED_METAS.clear()
        n = len(values)
        metas = _SHARED_METAS[key] = tuple(
            [tuple.__new__(Meta, (key[i], key[n + i])) for i in range(n)])
    return metas


_SHARED_METAS = {}


class Node:
    """One recorded primitive application: the ``grad_fn`` of its output.

    It keeps the primitive, where each input's gradient goes next (``next``: a parent node,
    a leaf tensor, or None) and what the rules read: the input tensors and their values
    and, if needed, the output, until a backward pass releases them. Primitives whose rules
    read no values keep only the inputs' shapes (``Meta``), and only if the sweep needs them
    to undo broadcasting; those whose rules read only the output (exp, tanh, relu, ...)
    keep it and no input, as PyTorch does. ``stamp`` orders nodes by
    creation, which is a valid order for the reverse sweep, and dates the node for the
    in-place checks. ``broadcast`` is False when every rule is known to return its input's
    shape, so the sweep need not compare shapes (one input, or two of the same shape).
    """

    __slots__ = ("prim", "inputs", "values", "out", "params", "stamp", "next", "broadcast",
                 "__dict__")
    # Rarely set, so kept out of the slots: they cost nothing until used.
    out_modified = False
    out_tangent = None
    retained = None

    def name(self):
        return self.prim.backward_name

    def __repr__(self):
        return f"<{self.prim.backward_name}>"

    @property
    def freed(self):
        return self.inputs is None and self.prim.saves is not None

    @property
    def next_functions(self):
        """Like PyTorch: the nodes (or leaf accumulators) the gradient flows to next."""
        return tuple((n, 0) for n in self.next)


_new = object.__new__
_INPLACE_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
_READS_OUTPUT = frozenset(("output", "both"))
_clock = itertools.count(1)     # one clock for node creation and in-place writes


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


def apply(prim, inputs, params=_EMPTY):
    """Run a primitive on tensors, record it for reverse mode and push tangents (forward mode).

    The general case: any number of inputs, with parameters. For each input it notes the
    value the forward computation reads and the edge its gradient will take (the input's
    node, the leaf itself, or None). One- and two-input calls without parameters, nearly
    every op, take the same steps in ``unary_operation`` and ``binary_operation`` below.
    """
    if not params:
        params = _EMPTY         # one shared empty dict, not one per recorded node
    if prim.view:
        _own_array(inputs[0])
    values = tuple([x._data if isinstance(x, Tensor) else x for x in inputs])
    edges = tuple([(x.grad_fn or (x if x.requires_grad else None))
                   if isinstance(x, Tensor) else None for x in inputs])
    try:
        out = prim.forward(*values, **params)
    except (ValueError, TypeError, IndexError) as exc:
        raise _error_for(prim, inputs, exc) from None
    result = _new(Tensor)
    result._data = out
    result.grad_fn = None
    result.requires_grad = False
    if state.grad_enabled and any([e is not None for e in edges]) and out.dtype.kind in "fc":
        result.grad_fn = _record(prim, params, edges, inputs, values, out)
        result.requires_grad = True
    if prim.view:
        _note_view(result, inputs[0], prim, params)
    if state.hooked:
        _announce(prim, inputs, result, params)
    return result


def _record(prim, params, edges, inputs, values, out):
    """The graph node of one primitive application (see ``Node``)."""
    node = _new(Node)
    node.prim, node.params, node.next = prim, params, edges
    node.broadcast = True           # parameters may change shapes: the sweep checks them
    if prim.saves is None:          # the rules read shapes only: hold no arrays
        node.inputs, node.values, node.out = None, _shapes_only(values), None
    elif prim.saves == "output" and len(values) == 1:     # the rules read the output alone
        node.inputs = node.values = _UNREAD
        node.out, node.broadcast = out, False   # which has the input's shape
    else:
        node.inputs, node.values = inputs, values
        node.out = out if prim.saves in _READS_OUTPUT else None
    node.stamp = next(_clock)
    return node


def _announce(prim, inputs, result, params):
    """Forward mode and observers (op counts, traces): only while one of them is active."""
    if state.forward_active:
        _push_tangent(prim, inputs, result, params)
    for observer in state.observers:
        observer(prim, inputs, result, params)


# The two functions below are apply() for one and for two inputs without parameters: the
# elementwise functions and the arithmetic operators, nearly every op a program runs.
# (Primitives with parameters, such as sum's axis, go through apply().) Each takes
# apply()'s steps within one call frame, with _record() written out, because in Python a
# call costs about as much as numpy's whole work on a small array. They also record what
# the sweep can skip: a node whose inputs cannot have been broadcast (one input, or two
# of one shape) has ``broadcast`` False and keeps no shapes for values no rule reads.
# tests/test_core_engine.py checks that they record what apply() records and that every
# rule they rely on returns its input's shape and reads no value it is not given.
# Their result is floating whenever an input that requires grad is (arithmetic and
# elementwise functions), so unlike apply() they do not check the result's dtype.

def unary_operation(prim):
    """``prim`` (one input, no parameters) as a function: tensors are recorded, arrays just
    computed."""
    forward = prim.forward
    saves = prim.saves
    keeps_out = saves == "both"

    def operation(x):
        if not isinstance(x, Tensor):
            return forward(x)               # a rule running on arrays
        value = x._data
        edge = x.grad_fn or (x if x.requires_grad else None)
        try:
            out = forward(value)
        except (ValueError, TypeError, IndexError) as exc:
            raise _error_for(prim, (x,), exc) from None
        result = _new(Tensor)
        result._data = out
        if edge is not None and state.grad_enabled:
            result.grad_fn = node = _new(Node)                  # _record(), written out
            node.prim, node.params, node.next = prim, _EMPTY, (edge,)
            node.broadcast = False      # a one-input rule returns its input's shape
            if saves is None:               # no rule reads a value, no shape needs checking
                node.inputs, node.values, node.out = None, _UNREAD, None
            elif saves == "output":     # the rules read the output alone: keep no input
                node.inputs = node.values = _UNREAD
                node.out = out
            else:
                node.inputs, node.values = (x,), (value,)
                node.out = out if keeps_out else None
            node.stamp = next(_clock)
            result.requires_grad = True
        else:
            result.grad_fn = None
            result.requires_grad = False
        if state.hooked:
            _announce(prim, (x,), result, _EMPTY)
        return result
    return operation


# What a node keeps of inputs its rules never read (the input of exp, tanh or relu, whose
# rules read the output; both inputs of an add or sub whose shapes agree).
_UNREAD, _UNREAD_TWO = (None,), (None, None)


def binary_operation(prim):
    """``prim`` (two inputs, no parameters) as a function of inputs that may be tensors,
    arrays or numbers; also the operator method (``Tensor.__mul__`` is ``mul``)."""
    forward = prim.forward
    saves = prim.saves
    keeps_out = saves in _READS_OUTPUT

    def operation(a, b):
        if isinstance(a, Tensor):
            va, ea = a._data, (a.grad_fn or (a if a.requires_grad else None))
        elif not isinstance(b, Tensor):
            return forward(a, b)            # no tensor at all: a rule running on arrays
        else:
            va, ea = a, None
        if isinstance(b, Tensor):
            vb, eb = b._data, (b.grad_fn or (b if b.requires_grad else None))
        else:
            vb, eb = b, None
        try:
            out = forward(va, vb)
        except (ValueError, TypeError, IndexError) as exc:
            raise _error_for(prim, (a, b), exc) from None
        result = _new(Tensor)
        result._data = out
        if (ea is not None or eb is not None) and state.grad_enabled:
            result.grad_fn = node = _new(Node)                  # _record(), written out
            node.prim, node.params, node.next = prim, _EMPTY, (ea, eb)
            # inputs of one shape (and type) get gradients of that shape
            if type(va) is type(vb):
                node.broadcast = broadcast = va.shape != vb.shape
            else:
                node.broadcast = broadcast = True
            if saves is None:   # shapes only, and only for the sweep to undo broadcasting
                node.inputs, node.out = None, None
                node.values = _shapes_only((va, vb)) if broadcast else _UNREAD_TWO
            else:
                node.inputs, node.values = (a, b), (va, vb)
                node.out = out if keeps_out else None
            node.stamp = next(_clock)
            result.requires_grad = True
        else:
            result.grad_fn = None
            result.requires_grad = False
        if state.hooked:
            _announce(prim, (a, b), result, _EMPTY)
        return result
    return operation


def _push_tangent(prim, inputs, result, params):
    """Forward mode: the output's tangent is the sum of each input's pushed-forward tangent."""
    if not any(isinstance(x, Tensor) and x.tangent is not None for x in inputs):
        return
    state.forward_active -= 1          # tangent arithmetic itself carries no tangents
    phase, state.phase = state.phase, "tangent"
    try:
        out = _primal_view(result)
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


def _primal_view(t):
    view = Tensor.__new__(Tensor)
    view._data, view.requires_grad, view.grad_fn = t._data, t.requires_grad, t.grad_fn
    return view


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

    # -- basic properties -------------------------------------------------
    @property
    def data(self):
        """A tensor sharing this one's memory, outside the graph. As in PyTorch, writes
        through it are not seen by backward's checks (detach() is the safe way): this is how
        the classic update ``w.data -= lr * w.grad`` changes ``w`` unrecorded."""
        _own_array(self)
        out = Tensor.__new__(Tensor)
        out._data, out.requires_grad, out.grad_fn = self._data.view(), False, None
        return out

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

    # -- numpy interplay: arithmetic defers to us, other ufuncs explain themselves --
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import primitives as P
        table = {np.add: P.add, np.subtract: P.sub, np.multiply: P.mul, np.true_divide: P.div,
                 np.power: P.pow, np.matmul: P.matmul}
        if method == "__call__" and ufunc in table and not kwargs:
            return table[ufunc](*inputs)
        raise TypeError(f"numpy.{ufunc.__name__} was called on an autograd_lite Tensor. "
                        f"Use the library's function (for example ag.{ufunc.__name__}) so the "
                        f"derivative is tracked, or call .detach().numpy() to leave autograd.")

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
            state.retaining = True      # from now on, backward looks for retained nodes
        return self

    def detach(self):
        """The same memory, outside the graph (no grad_fn, no requires_grad). It shares this
        tensor's version counter, so backward still notices writes through it."""
        _own_array(self)
        out = Tensor.__new__(Tensor)
        out._data, out.requires_grad, out.grad_fn = self._data.view(), False, None
        out._counter = self if self._counter is None else self._counter
        return out

    def detach_(self):
        self.grad_fn, self.requires_grad = None, False
        return self

    def clone(self):
        from . import primitives as P
        return P.mul(self, 1)

    # -- in-place operations ------------------------------------------------
    # PyTorch's model. Views (reshape, indexing, .T, detach()) share their base's memory and
    # its version counter, so backward notices a write through any of them. A write that must
    # be differentiated (recording is on and the tensor, its base or the value written requires
    # grad) is recorded as an op: the tensor's history is rebased onto the write's node, and a
    # view's base is rebased too, so the gradient flows through the write's own rule.
    def _check_inplace(self, what):
        if not state.grad_enabled:
            return
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({what}). Wrap parameter updates in `with ag.no_grad():`.")
        base = self._base
        if base is not None and base.requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation ({what}). Wrap parameter updates in `with ag.no_grad():`, or write "
                f"into a .clone() of the leaf.")

    def _mark_written(self):
        """Bump the version counter this tensor shares with its views, and flag the nodes
        whose saved output is this memory: backward refuses to use what changed."""
        owner = self if self._counter is None else self._counter
        owner._version = state.last_inplace = next(_clock)
        for t in (self, owner, self._base):
            if t is not None and t.grad_fn is not None:
                t.grad_fn.out_modified = True

    def _store(self, new_values):
        """Write ``new_values`` into this tensor's memory (seen by every view of it)."""
        data = self._data
        if isinstance(data, np.ndarray) and data.flags.writeable:
            data[...] = new_values
        else:   # a numpy scalar, which no view shares, or read-only memory: a new array
            value = np.array(np.broadcast_to(new_values, np.shape(data)), dtype=data.dtype)
            self._data = value if value.ndim else value[()]
        self._mark_written()
        return self

    def _inplace(self, op, other, what, **params):
        """``self = op(self, other)``, in this tensor's own memory."""
        self._check_inplace(what)
        if _write_is_recorded(self, other):
            return _recorded_write(self, op, other, params)
        other = other._data if isinstance(other, Tensor) else other
        data = self._data
        ufunc = _INPLACE_UFUNCS.get(op.__name__)
        if ufunc is not None and isinstance(data, np.ndarray) and data.flags.writeable:
            try:            # update the buffer itself, as numpy's -= does
                ufunc(data, other, out=data, casting="same_kind")
            except (ValueError, TypeError) as exc:
                raise RuntimeError(f"{what}: can't update a tensor of shape {tuple(self.shape)} "
                                   f"and dtype {self.dtype} in place with a value of shape "
                                   f"{np.shape(other)} and dtype {np.result_type(other)}: {exc}") \
                    from None
            self._mark_written()
            return self
        value = op(self.detach(), other, **params)._data
        _check_fits(self, value, what)
        return self._store(value)

    def __iadd__(self, other):
        from .primitives import add
        return self._inplace(add, other, "+=")

    def __isub__(self, other):
        from .primitives import sub
        return self._inplace(sub, other, "-=")

    def __imul__(self, other):
        from .primitives import mul
        return self._inplace(mul, other, "*=")

    def __itruediv__(self, other):
        from .primitives import div
        return self._inplace(div, other, "/=")

    def add_(self, other, alpha=1):
        from .primitives import add
        return self._inplace(add, other * alpha if alpha != 1 else other, "add_")

    def sub_(self, other, alpha=1):
        from .primitives import sub
        return self._inplace(sub, other * alpha if alpha != 1 else other, "sub_")

    def mul_(self, other):
        from .primitives import mul
        return self._inplace(mul, other, "mul_")

    def div_(self, other):
        from .primitives import div
        return self._inplace(div, other, "div_")

    def zero_(self):
        return self.fill_(0.0)

    def fill_(self, value):
        from .primitives import overwrite
        return self._inplace(overwrite, value, "fill_")

    def copy_(self, other):
        from .primitives import overwrite
        return self._inplace(overwrite, other, "copy_")

    def __setitem__(self, index, value):
        from .primitives import index_put
        index = _plain_index(index)
        self._check_inplace("item assignment")
        data = self._data
        if not _write_is_recorded(self, value) and isinstance(data, np.ndarray) \
                and data.flags.writeable:
            data[index] = _data(value)          # nothing to record: numpy writes it
            self._mark_written()
            return
        positions = np.arange(self._data.size).reshape(self.shape)[index]
        self._inplace(index_put, value, "item assignment", positions=positions)


def _plain_index(index):
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def _write_is_recorded(t, other):
    """Must this in-place write become an op of the graph (or carry tangents)?"""
    tensors = (t, other, t._base) if isinstance(other, Tensor) else (t, t._base)
    if state.grad_enabled and any([x is not None and x.requires_grad for x in tensors]):
        return True
    return state.forward_active and any([x is not None and x.tangent is not None
                                         for x in tensors])


def _check_fits(t, value, what):
    if np.shape(value) != t.shape:
        raise RuntimeError(f"{what}: result of shape {np.shape(value)} does not fit in-place "
                           f"into a tensor of shape {tuple(t.shape)}")
    if np.result_type(value) != t.dtype and not np.can_cast(np.result_type(value), t.dtype,
                                                             "same_kind"):
        raise RuntimeError(f"{what}: result type {np.result_type(value)} can't be cast to "
                           f"the tensor's dtype {t.dtype}")


def _snapshot(t, copy):
    """A tensor with ``t``'s history and current values (copied when a rule will read them,
    since ``t``'s memory is about to change)."""
    old = _new(Tensor)
    old._data = t._data.copy() if copy else t._data
    old.grad_fn, old.requires_grad = t.grad_fn, t.requires_grad
    if t.tangent is not None:
        old.tangent = t.tangent
    return old


def _replay(steps, t):
    """Apply a view's steps (reshape, getitem, transpose) to ``t``."""
    for prim, params in steps:
        t = apply(prim, (t,), params)
    return t


def _recorded_write(self, op, other, params):
    """The differentiable in-place write: ``op(old self, other)`` becomes self's history.

    For a view, its base's new history is the old base with the view's region replaced
    (``index_put`` at the view's positions), and every view of the base is re-derived from
    it, as PyTorch regenerates a view's ``grad_fn`` after its base changed."""
    from .primitives import index_put, astype
    reads_old = op.primitive.saves is not None
    base = self._base
    if base is None:
        # Observers (traces, op counts) are told once, after the write, that the op produced
        # this tensor: a trace then reads later uses of it as uses of the new row.
        observers, state.observers = state.observers, ()
        try:
            new = op(_snapshot(self, reads_old), other, **params)
        finally:
            state.observers = observers
    else:
        old_base = _snapshot(base, reads_old)
        new = op(_replay(self._view_of, old_base), other, **params)
    if new.dtype != self.dtype:
        _check_fits(self, new._data, "in-place operation")
        new = astype(new, dtype=self.dtype)
    _check_fits(self, new._data, "in-place operation")
    self._store(new._data)
    if base is None:
        base = self
        for observer in state.observers:
            observer(op.primitive, (self, other), self, params)
    else:
        new = index_put(old_base, new, positions=_positions(self._view_of, base.shape))
    _take_history(base, new)
    for view in list(base._views):
        _take_history(view, _replay(view._view_of, base))
    return self


def _take_history(t, source):
    t.grad_fn, t.requires_grad = source.grad_fn, source.requires_grad
    if source.tangent is not None:
        t.tangent = source.tangent


def _positions(steps, shape):
    """Where each element of a view sits in its base, as flat indices."""
    positions = np.arange(int(np.prod(shape))).reshape(shape)
    for prim, params in steps:
        positions = prim.forward(positions, **params)
    return positions


def _note_view(result, x, prim, params):
    """Make ``result`` a view of ``x`` when numpy made it share x's memory: it shares x's
    version counter and, to rebase after in-place writes, knows its steps from the base."""
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


from . import methods  # noqa: E402  (attaches operators and methods to Tensor)
