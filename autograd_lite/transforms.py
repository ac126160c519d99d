"""Function transforms in JAX's style, built on the two modes.

``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` run reverse mode; ``jvp`` and ``jacfwd``
run real forward mode (dual tensors); ``hessian`` is forward-over-reverse. Transforms
nest where that makes sense: ``grad(grad(f))`` works, and so does ``jacfwd(grad(f))``.
"""
import functools

import numpy as np

from ._state import state
from .backward import run_backward
from .forward import dual_level
from .tensor import Tensor
from . import functions as F


def _as_float_tensor(x):
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    return Tensor(arr)


def _leaf_for(x):
    """The tensor to differentiate with respect to: the caller's own when an outer
    transform is recording it (so the result stays differentiable), else a fresh leaf."""
    x = _as_float_tensor(x)
    if x.requires_grad and state.grad_enabled:
        return x, True
    leaf = x.detach()
    leaf.requires_grad_(True)
    leaf.tangent = x.tangent
    return leaf, False


def _argnums(argnums, nargs):
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums={argnums} but the function was called with {nargs} arguments")
    return nums, many


def _reverse(f, args, argnums, need_scalar, seed=None):
    nums, many = _argnums(argnums, len(args))
    args = list(args)
    leaves, nested = [], False
    for n in nums:
        leaf, outer = _leaf_for(args[n])
        args[n] = leaf
        leaves.append(leaf)
        nested = nested or outer
    recording = state.grad_enabled
    with _enable_grad():
        out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"the function must return an autograd_lite Tensor, got {type(out).__name__}")
    create = nested or (recording and _reaches_other_leaves(out, leaves))
    if need_scalar and out._data.size != 1:
        raise TypeError(f"grad requires a function with a scalar (one-element) output, but the "
                        f"output has shape {tuple(out.shape)}; use jacrev or vjp for vector outputs")
    if not out.requires_grad:       # the output does not depend on the inputs: zero gradient
        grads = [F.mul(leaf.detach(), 0.0) for leaf in leaves]
    else:
        if seed is None:
            seed = np.ones_like(out._data)
        grads = run_backward(out, seed, retain_graph=create, create_graph=create, targets=leaves)
        grads = [_zeros_if_none(g, leaf) for g, leaf in zip(grads, leaves)]
        grads = [g if isinstance(g, Tensor) else Tensor._wrap(g)
                 for g in grads]
    value = out if create else out.detach()
    return value, (tuple(grads) if many else grads[0])


def _reaches_other_leaves(out, leaves):
    """Whether ``out`` depends on a tensor requiring grad besides ``leaves``: one the function
    closed over, or an outer transform's input. Then the derivative must itself be recorded,
    or an outer derivative would miss how it depends on that tensor (perturbation confusion)."""
    if out.grad_fn is None:
        return False
    own = {id(leaf) for leaf in leaves}
    seen, stack = set(), [out.grad_fn]
    while stack:
        for parent in stack.pop().next:
            if parent is None or id(parent) in seen:
                continue
            seen.add(id(parent))
            if isinstance(parent, Tensor):
                if id(parent) not in own:
                    return True
            else:
                stack.append(parent)
    return False


def _zeros_if_none(g, leaf):
    return F.mul(leaf.detach(), 0.0) if g is None else g


class _enable_grad:
    def __enter__(self):
        self.previous = state.grad_enabled
        state.grad_enabled = True

    def __exit__(self, *exc):
        state.grad_enabled = self.previous


def grad(f, argnums=0):
    """``grad(f)(x)`` is df/dx for a scalar-valued ``f``; ``argnums`` picks the argument(s)."""
    @functools.wraps(f)
    def gradient(*args):
        return _reverse(f, args, argnums, need_scalar=True)[1]
    return gradient


def value_and_grad(f, argnums=0):
    """``value_and_grad(f)(x)`` gives ``(f(x), df/dx)`` from one forward and one backward pass."""
    @functools.wraps(f)
    def both(*args):
        return _reverse(f, args, argnums, need_scalar=True)
    return both


def vjp(f, *primals):
    """``out, pullback = vjp(f, x)``; ``pullback(v)`` is the tuple of vᵀ·∂f/∂x for each primal."""
    leaves = [_leaf_for(p)[0] for p in primals]
    recording = state.grad_enabled
    with _enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"the function must return an autograd_lite Tensor, got {type(out).__name__}")
    create = recording and (any(p.requires_grad for p in map(_as_float_tensor, primals))
                            or _reaches_other_leaves(out, leaves))

    def pullback(cotangent):
        cot = cotangent._data if isinstance(cotangent, Tensor) and not create else cotangent
        if np.shape(cot) != tuple(out.shape):
            raise ValueError(f"the cotangent has shape {np.shape(cot)} but the output has shape "
                             f"{tuple(out.shape)}")
        if not out.requires_grad:
            return tuple(F.mul(leaf.detach(), 0.0) for leaf in leaves)
        grads = run_backward(out, np.asarray(cot, dtype=out.dtype) if not isinstance(cot, Tensor)
                             else cot, retain_graph=True, create_graph=create, targets=leaves)
        return tuple(_as_result(g, leaf) for g, leaf in zip(grads, leaves))
    return (out if create else out.detach()), pullback


def _as_result(g, leaf):
    g = _zeros_if_none(g, leaf)
    return g if isinstance(g, Tensor) else Tensor._wrap(g)


def jvp(f, primals, tangents):
    """``out, out_tangent = jvp(f, (x,), (v,))``: ∂f/∂x · v by one forward pass of dual numbers."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    with dual_level():
        duals = []
        for p, t in zip(primals, tangents):
            p = _as_float_tensor(p)
            d = p.detach() if not (p.requires_grad and state.grad_enabled) else p * 1
            t = _as_float_tensor(t)
            if t.dtype != p.dtype:          # a tangent lives in its primal's space
                t = t.to(p.dtype)
            if t.shape != p.shape:
                raise ValueError(f"a tangent has shape {tuple(t.shape)} but its primal has shape "
                                 f"{tuple(p.shape)}")
            d.tangent = t.detach() if not t.requires_grad else t
            duals.append(d)
        out = f(*duals)
        if not isinstance(out, Tensor):
            raise TypeError(f"the function must return an autograd_lite Tensor, got "
                            f"{type(out).__name__}")
        tangent = out.tangent
        if tangent is None:         # the output does not depend on the inputs
            tangent = Tensor._wrap(np.zeros_like(out._data))
    if not out.requires_grad:      # nobody records us: hand back plain values
        return out.detach(), tangent.detach()
    return out, tangent


def _basis(shape, dtype):
    size = int(np.prod(shape))
    for k in range(size):
        e = np.zeros(size, dtype=dtype)
        e[k] = 1
        yield e.reshape(shape)


def jacfwd(f, argnums=0):
    """The Jacobian by forward mode: one JVP (one column) per input element."""
    @functools.wraps(f)
    def jacobian(*args):
        nums, many = _argnums(argnums, len(args))
        results = []
        for n in nums:
            x = _as_float_tensor(args[n])
            columns = []
            for e in _basis(x.shape, x.dtype):
                tangents = [np.zeros(np.shape(np.asarray(_as_float_tensor(a)))) for a in args]
                tangents[n] = e
                out, col = jvp(f, args, tangents)
                columns.append(col)
            if not columns:             # an empty input: run f once for the output's shape
                out = f(*args)
                results.append(_empty_jacobian(out, x))
                continue
            # columns[k] has the output's shape; put the input axes last
            stacked = F.stack(columns, axis=-1)
            results.append(F.reshape(stacked, tuple(out.shape) + tuple(x.shape)))
        return tuple(results) if many else results[0]
    return jacobian


def jacrev(f, argnums=0):
    """The Jacobian by reverse mode: one VJP (one row) per output element."""
    @functools.wraps(f)
    def jacobian(*args):
        nums, many = _argnums(argnums, len(args))
        chosen = [args[n] for n in nums]

        def g(*xs):
            full = list(args)
            for n, x in zip(nums, xs):
                full[n] = x
            return f(*full)
        out, pullback = vjp(g, *chosen)
        rows = [[] for _ in nums]
        for e in _basis(out.shape, out.dtype):
            for k, r in enumerate(pullback(e)):
                rows[k].append(r)
        results = []
        for k, x in enumerate(chosen):
            x = _as_float_tensor(x)
            if not rows[k]:             # an empty output
                results.append(_empty_jacobian(out, x))
                continue
            results.append(F.reshape(F.stack(rows[k], axis=0), tuple(out.shape) + tuple(x.shape)))
        return tuple(results) if many else results[0]
    return jacobian


def _empty_jacobian(out, x):
    return Tensor(np.zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype))


def hessian(f, argnums=0):
    """The matrix of second derivatives, forward-over-reverse: ``jacfwd(grad(f))``.

    With several ``argnums`` the result is nested as in JAX: ``H[i][j]`` is the block of
    d2f / d(args[i]) d(args[j])."""
    if not isinstance(argnums, (tuple, list)):
        return jacfwd(grad(f, argnums=argnums), argnums=argnums)
    blocks = [jacfwd(grad(f, argnums=i), argnums=tuple(argnums)) for i in argnums]

    @functools.wraps(f)
    def nested(*args):
        return tuple(row(*args) for row in blocks)
    return nested
