"""In-place writes (``x += 1``, ``x[i] = v``, ``x.copy_(y)``), as PyTorch does them.

Views (reshape, indexing, .T, detach()) share their base's memory and its version counter
(see ``tensor.py``), so backward notices a write through any of them: a node refuses to
run if a value it saved was written after it was recorded. A write that must itself be
differentiated (recording is on and the tensor, its base or the value written requires
grad) is recorded as an op: the tensor's history is rebased onto the write's node, and a
view's base is rebased too, so the gradient flows through the write's own rule.

This module attaches the in-place methods to Tensor; ``mark_written`` is what backward uses
when it adds into an existing ``.grad``.
"""
import numpy as np

from ._state import state
from .tensor import Tensor, apply, clock
from . import primitives as P

_UFUNCS = {P.add: np.add, P.sub: np.subtract, P.mul: np.multiply, P.div: np.true_divide}


def mark_written(t):
    """Bump the version counter ``t`` shares with its views, and flag the nodes whose saved
    output is this memory: backward refuses to use what changed."""
    owner = t if t._counter is None else t._counter
    owner._version = state.last_inplace = next(clock)
    for x in (t, owner, t._base):
        if x is not None and x.grad_fn is not None:
            x.grad_fn.out_modified = True


def _check_allowed(t, what):
    if not state.grad_enabled:
        return
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({what}). Wrap parameter updates in `with ag.no_grad():`.")
    base = t._base
    if base is not None and base.requires_grad and base.grad_fn is None:
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation ({what}). Wrap parameter updates in `with ag.no_grad():`, or write "
            f"into a .clone() of the leaf.")


def _store(t, new_values):
    """Write ``new_values`` into ``t``'s memory (seen by every view of it)."""
    data = t._data
    if isinstance(data, np.ndarray) and data.flags.writeable:
        data[...] = new_values
    else:   # a numpy scalar, which no view shares, or read-only memory: a new array
        value = np.array(np.broadcast_to(new_values, np.shape(data)), dtype=data.dtype)
        t._data = value if value.ndim else value[()]
    mark_written(t)
    return t


def inplace(t, op, other, what, **params):
    """``t = op(t, other)``, in ``t``'s own memory."""
    _check_allowed(t, what)
    if _write_is_recorded(t, other):
        return _recorded_write(t, op, other, params)
    other = other._data if isinstance(other, Tensor) else other
    data = t._data
    ufunc = _UFUNCS.get(op)
    if ufunc is not None and isinstance(data, np.ndarray) and data.flags.writeable:
        try:            # update the buffer itself, as numpy's -= does
            ufunc(data, other, out=data, casting="same_kind")
        except (ValueError, TypeError) as exc:
            raise RuntimeError(f"{what}: can't update a tensor of shape {tuple(t.shape)} "
                               f"and dtype {t.dtype} in place with a value of shape "
                               f"{np.shape(other)} and dtype {np.result_type(other)}: {exc}") \
                from None
        mark_written(t)
        return t
    value = op(t.detach(), other, **params)._data
    _check_fits(t, value, what)
    return _store(t, value)


def _setitem(t, index, value):
    index = _plain_index(index)
    _check_allowed(t, "item assignment")
    data = t._data
    if not _write_is_recorded(t, value) and isinstance(data, np.ndarray) \
            and data.flags.writeable:
        data[index] = value._data if isinstance(value, Tensor) else value   # numpy writes it
        mark_written(t)
        return
    positions = np.arange(t._data.size).reshape(t.shape)[index]
    inplace(t, P.index_put, value, "item assignment", positions=positions)


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
    old = Tensor._wrap(t._data.copy() if copy else t._data)
    old.grad_fn, old.requires_grad = t.grad_fn, t.requires_grad
    if t.tangent is not None:
        old.tangent = t.tangent
    return old


def _replay(steps, t):
    """Apply a view's steps (reshape, getitem, transpose) to ``t``."""
    for prim, params in steps:
        t = apply(prim, (t,), params)
    return t


def _recorded_write(t, op, other, params):
    """The differentiable in-place write: ``op(old t, other)`` becomes t's history.

    For a view, its base's new history is the old base with the view's region replaced
    (``index_put`` at the view's positions), and every view of the base is re-derived from
    it, as PyTorch regenerates a view's ``grad_fn`` after its base changed."""
    reads_old = op.primitive.saves is not None
    base = t._base
    if base is None:
        # Observers (traces, op counts) are told once, after the write, that the op produced
        # this tensor: a trace then reads later uses of it as uses of the new row.
        observers, state.observers = state.observers, ()
        try:
            new = op(_snapshot(t, reads_old), other, **params)
        finally:
            state.observers = observers
    else:
        old_base = _snapshot(base, reads_old)
        new = op(_replay(t._view_of, old_base), other, **params)
    if new.dtype != t.dtype:
        _check_fits(t, new._data, "in-place operation")
        new = P.astype(new, dtype=t.dtype)
    _check_fits(t, new._data, "in-place operation")
    _store(t, new._data)
    if base is None:
        base = t
        for observer in state.observers:
            observer(op.primitive, (t, other), t, params)
    else:
        new = P.index_put(old_base, new, positions=_positions(t._view_of, base.shape))
    _take_history(base, new)
    for view in list(base._views):
        _take_history(view, _replay(view._view_of, base))
    return t


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


def _method(op, what):
    return lambda self, other: inplace(self, op, other, what)


def _scaled(op, what):
    return lambda self, other, alpha=1: inplace(self, op, other * alpha if alpha != 1 else other,
                                                what)


Tensor.__iadd__, Tensor.__isub__ = _method(P.add, "+="), _method(P.sub, "-=")
Tensor.__imul__, Tensor.__itruediv__ = _method(P.mul, "*="), _method(P.div, "/=")
Tensor.add_, Tensor.sub_ = _scaled(P.add, "add_"), _scaled(P.sub, "sub_")
Tensor.mul_, Tensor.div_ = _method(P.mul, "mul_"), _method(P.div, "div_")
Tensor.fill_, Tensor.copy_ = _method(P.overwrite, "fill_"), _method(P.overwrite, "copy_")
Tensor.zero_ = lambda self: inplace(self, P.overwrite, 0.0, "fill_")
Tensor.__setitem__ = _setitem
