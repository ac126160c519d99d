"""Two ways to give a whole function one rule: ``checkpoint`` and ``custom_vjp``.

Both turn a user's function into a primitive of its own, recorded by ``apply`` like any
other, so backward(), ``grad``, ``vjp`` and the op counters treat it as one node.

``checkpoint(f)`` keeps only f's inputs: its forward runs f without recording, and its VJP
runs f again with recording and backpropagates through that fresh graph. Memory for time.

``custom_vjp(fun)`` with ``defvjp(fwd, bwd)`` replaces fun's derivative by a hand-written
one, as in JAX: ``fwd`` returns the output and the residuals ``bwd`` needs, and
``bwd(residuals, g)`` returns one cotangent per argument.

Both give first derivatives only: under ``create_graph=True`` (a derivative of a derivative)
and under forward mode they raise an error rather than return a wrong number.
"""
import numpy as np

from ._state import state, no_grad, enable_grad
from .tensor import Tensor, apply
from .primitives import Primitive


def _constant(value):
    return Tensor._wrap(np.asarray(value))


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _first_order_only(what):
    if state.grad_enabled:      # the sweep records only under create_graph=True
        raise NotImplementedError(
            f"{what} gives first derivatives only: a backward with create_graph=True (grad of "
            f"grad, hessian) cannot go through it. Differentiate the plain function instead.")


def _no_forward_mode(what):
    def jvp(i, t, out, *xs, **params):
        raise NotImplementedError(
            f"{what} has a reverse-mode rule only; forward mode (jvp, jacfwd, hessian) cannot "
            f"go through it. Use vjp, grad or jacrev, or the plain function.")
    return jvp


def _as_cotangent(ct, like, as_tensor):
    """A rule's result in the form the sweep is running on: arrays, or tensors."""
    if ct is None:
        ct = np.zeros(np.shape(_data(like)), dtype=getattr(_data(like), "dtype", np.float64))
    if as_tensor:
        return ct if isinstance(ct, Tensor) else _constant(ct)
    return _data(ct)


def _served(cache, i, last):
    """The cotangents of one rule application are computed once, for the first input that
    asks; the cache is emptied after the last one, so no array outlives its backward."""
    cts = cache.pop("cts") if i == last else cache["cts"]
    if i == last:
        cache.pop("g")
    return cts[i]


class checkpoint:
    """``checkpoint(f)(*args)``: f's value, with f's graph recomputed during backward.

    Only the explicit tensor arguments get gradients. A tensor that f reads from its closure
    is treated as a constant (PyTorch's ``torch.utils.checkpoint`` instead accumulates into
    such a tensor's ``.grad``): pass every tensor you differentiate as an argument. f must
    return one floating tensor.
    """

    def __init__(self, f):
        self.f = f
        name = getattr(f, "__name__", "f")
        self.prim = Primitive(f"checkpoint_{name}", self._forward, self._vjp,
                              _no_forward_mode("checkpoint"), saves="inputs", variadic=True)

    def __call__(self, *args):
        kinds = tuple(isinstance(x, Tensor) for x in args)
        needed = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
        if not needed or not state.grad_enabled:
            return self.f(*args)
        return apply(self.prim, args, {"kinds": kinds, "last": needed[-1], "cache": {}})

    def _arguments(self, values, kinds, leaves=()):
        return [x if i in leaves else _constant(_data(x)) if kind else x
                for i, (x, kind) in enumerate(zip(values, kinds))]

    def _forward(self, *values, kinds, last, cache):
        with no_grad():
            out = self.f(*self._arguments(values, kinds))
        if not isinstance(out, Tensor):
            raise TypeError(f"checkpoint: the function must return one tensor, not "
                            f"{type(out).__name__}")
        return out._data

    def _vjp(self, i, g, out, *xs, kinds, last, cache):
        if cache.get("g") is not g:
            _first_order_only("checkpoint")
            cache["g"], cache["cts"] = g, self._recompute(g, xs, kinds)
        return _served(cache, i, last)

    def _recompute(self, g, xs, kinds):
        """Run f again, this time recording, and backpropagate g through it."""
        from .backward import run_backward
        as_tensor = isinstance(g, Tensor)
        leaves = {}
        for i, (x, kind) in enumerate(zip(xs, kinds)):
            if kind:
                leaf = _constant(_data(x))
                leaf.requires_grad_(True)
                leaves[i] = leaf
        with enable_grad():
            out = self.f(*self._arguments(list(leaves.get(i, x) for i, x in enumerate(xs)),
                                          kinds, leaves))
        targets = list(leaves.values())
        if out.requires_grad:
            grads = run_backward(out, g, targets=targets)
        else:
            grads = [None] * len(targets)
        by_input = dict(zip(leaves, grads))
        return [_as_cotangent(by_input.get(i), x, as_tensor) if i in leaves else None
                for i, x in enumerate(xs)]


class custom_vjp:
    """``f = custom_vjp(fun); f.defvjp(fwd, bwd)``: fun, with a derivative you write.

    ``fwd(*args)`` returns ``(output, residuals)``; ``bwd(residuals, g)`` returns a tuple
    with one cotangent per argument of fun (None for zero). fwd and bwd receive tensors,
    so they are written with the library's functions. fun must return one tensor.
    """

    def __init__(self, fun):
        self.fun = fun
        self.fwd = self.bwd = None
        self.__name__ = getattr(fun, "__name__", "custom")
        self.prim = Primitive(f"custom_{self.__name__}", self._forward, self._vjp,
                              _no_forward_mode("custom_vjp"), saves="inputs", variadic=True)

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args):
        needed = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
        if not needed or not state.grad_enabled:
            return self.fun(*args)
        if self.fwd is None:
            raise RuntimeError(f"custom_vjp {self.__name__}: call .defvjp(fwd, bwd) before "
                               f"differentiating it")
        with no_grad():
            out, residuals = self.fwd(*args)
        if not isinstance(out, Tensor):
            out = _constant(out)
        return apply(self.prim, args, {"value": out._data, "residuals": residuals,
                                       "last": needed[-1], "cache": {}})

    @staticmethod
    def _forward(*values, value, residuals, last, cache):
        return value            # computed by fwd already, with its residuals

    def _vjp(self, i, g, out, *xs, value, residuals, last, cache):
        if cache.get("g") is not g:
            _first_order_only("custom_vjp")
            as_tensor = isinstance(g, Tensor)
            cts = self.bwd(residuals, g if as_tensor else _constant(g))
            if not isinstance(cts, (tuple, list)) or len(cts) != len(xs):
                raise TypeError(
                    f"custom_vjp {self.__name__}: bwd must return a tuple with one cotangent "
                    f"per argument ({len(xs)}), got {type(cts).__name__}"
                    + (f" of length {len(cts)}" if isinstance(cts, (tuple, list)) else ""))
            cache["g"] = g
            cache["cts"] = [_as_cotangent(ct, x, as_tensor) for ct, x in zip(cts, xs)]
        return _served(cache, i, last)
