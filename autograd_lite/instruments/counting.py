"""Op and memory counting, measured by running the code under the library's observer hook.

Nothing here predicts a cost from a formula: ``count_ops`` runs the function once and
counts every primitive application the library performs (the primal evaluation, the
tangent arithmetic of forward mode and the adjoint arithmetic of reverse mode), and the
values that the recorded graph keeps for a later backward pass.
"""
import numpy as np

from .._state import observing, state
from ..tensor import Tensor

PHASES = ("primal", "tangent", "adjoint")


class OpCount:
    """What one run cost: primitive applications and the values stored for backward.

    ``total``         every primitive application (forward and backward work alike)
    ``by_primitive``  name -> number of applications
    ``by_phase``      'primal' (evaluating the function), 'tangent' (forward-mode
                      arithmetic), 'adjoint' (reverse-mode arithmetic) -> count
    ``stored``        distinct values (tensors) the recorded graph keeps for a backward pass
    ``stored_elements``  the numbers in those values (memory, in array elements)
    ``elements``      the sum of the sizes of all results computed (work on arrays)
    """

    def __init__(self):
        self.total = 0
        self.by_primitive = {}
        self.by_phase = {p: 0 for p in PHASES}
        self.stored = 0
        self.stored_elements = 0
        self.elements = 0
        self.result = None

    @property
    def primal(self):
        return self.by_phase["primal"]

    @property
    def tangent(self):
        return self.by_phase["tangent"]

    @property
    def adjoint(self):
        return self.by_phase["adjoint"]

    def as_dict(self):
        return {"total": self.total, "primal": self.primal, "tangent": self.tangent,
                "adjoint": self.adjoint, "stored": self.stored,
                "stored_elements": self.stored_elements, "elements": self.elements,
                "by_primitive": dict(self.by_primitive)}

    def __repr__(self):
        ops = ", ".join(f"{k}={v}" for k, v in sorted(self.by_primitive.items()))
        return (f"OpCount(total={self.total}, primal={self.primal}, tangent={self.tangent}, "
                f"adjoint={self.adjoint}, stored={self.stored}; {ops})")

    def __eq__(self, other):
        if not isinstance(other, OpCount):
            return NotImplemented
        return self.as_dict() == other.as_dict()


class _Counter:
    def __init__(self):
        self.count = OpCount()
        self.kept = {}          # id -> object: keeps ids unique while counting

    def __call__(self, prim, inputs, output, params):
        c = self.count
        c.total += 1
        c.by_primitive[prim.name] = c.by_primitive.get(prim.name, 0) + 1
        c.by_phase[state.phase] += 1     # the engine says which sweep is running
        c.elements += int(np.size(output._data))
        node = output.grad_fn
        if node is None or getattr(node, "prim", None) is not prim:
            return
        saves = prim.saves
        if saves in ("inputs", "both"):
            for x in inputs:
                if isinstance(x, Tensor):
                    self._store(x)
        if saves in ("output", "both"):
            self._store(output)

    def _store(self, t):
        if id(t) in self.kept:
            return
        self.kept[id(t)] = t
        self.count.stored += 1
        self.count.stored_elements += int(np.size(t._data))


def _as_traced(a):
    """Floats become tensors, so ``count_ops(f, 2.0)`` counts f's operations: on plain
    numbers the library's functions compute with numpy and are not observed. Integers,
    tuples and everything else pass through unchanged (they may be sizes or options)."""
    if isinstance(a, (float, np.floating)) or (
            isinstance(a, np.ndarray) and a.dtype.kind in "fc"):
        return Tensor(a)
    return a


def count_ops(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` once and count the primitives it applies.

    Float arguments (Python floats, float numpy arrays) are passed as tensors.

    >>> c = count_ops(ag.grad(f), 2.0)
    >>> c.total, c.by_primitive, c.stored

    The function's return value is kept in ``.result``.
    """
    if not callable(fn):
        raise TypeError(f"count_ops: the first argument must be a function to run, "
                        f"got {type(fn).__name__}; write count_ops(f, x), not count_ops(f(x))")
    args = tuple(_as_traced(a) for a in args)
    counter = _Counter()
    with observing(counter):
        result = fn(*args, **kwargs)
    counter.count.result = result
    counter.kept.clear()
    return counter.count


def _as_float_array(x):
    if isinstance(x, Tensor):
        return np.asarray(x._data, dtype=float)
    return np.asarray(x, dtype=float)


def derivative_costs(f, x, direction=None, cotangent=None):
    """Measure what each way of differentiating ``f`` at ``x`` costs, by running it.

    Returns a dict of OpCount under the keys "f" (the primal evaluation), "jvp" (one
    forward-mode pass in ``direction``, all ones by default), "vjp" (one reverse-mode
    pass with ``cotangent``, all ones by default, forward pass included), "grad",
    "jacfwd" (n JVPs), "jacrev" (m VJPs) and "hessian" (forward-over-reverse). "grad"
    and "hessian" are None when ``f`` does not return a single number.
    """
    from .. import transforms as T
    x = _as_float_array(x)
    with observing(lambda *a: None):
        out = f(Tensor(x))
    if not isinstance(out, Tensor):
        raise TypeError(f"derivative_costs: f must return an autograd_lite Tensor, got "
                        f"{type(out).__name__}")
    v = np.ones_like(x) if direction is None else _as_float_array(direction)
    u = np.ones_like(np.asarray(out._data, dtype=float)) if cotangent is None \
        else _as_float_array(cotangent)
    if v.shape != x.shape:
        raise ValueError(f"derivative_costs: direction has shape {v.shape}, x has shape {x.shape}")
    if u.shape != tuple(out.shape):
        raise ValueError(f"derivative_costs: cotangent has shape {u.shape}, f(x) has shape "
                         f"{tuple(out.shape)}")
    scalar = out._data.size == 1
    costs = {
        "f": count_ops(lambda: f(Tensor(x))),
        "jvp": count_ops(lambda: T.jvp(f, (x,), (v,))),
        "vjp": count_ops(lambda: T.vjp(f, x)[1](u)),
        "grad": count_ops(T.grad(f), x) if scalar else None,
        "jacfwd": count_ops(T.jacfwd(f), x),
        "jacrev": count_ops(T.jacrev(f), x),
        "hessian": count_ops(T.hessian(f), x) if scalar else None,
    }
    return costs


_DESCRIPTIONS = {"f": "evaluate f", "jvp": "one JVP (forward mode)", "vjp": "one VJP (reverse mode)",
                 "grad": "gradient (reverse mode)", "jacfwd": "Jacobian, forward mode (n JVPs)",
                 "jacrev": "Jacobian, reverse mode (m VJPs)",
                 "hessian": "Hessian (forward over reverse)"}


def cost_table(costs, title="Measured cost of derivatives"):
    """A table (HTML/Markdown/LaTeX) of ``derivative_costs`` results or any dict of OpCounts."""
    from .tables import Number, Text, TraceTable
    headers = [(h,) * 3 for h in ("Computation", "Total ops", "Primal", "Tangent", "Adjoint",
                                  "Stored values", "Ratio to f")]
    base = costs.get("f")
    rows, cells = [], []
    for key, c in costs.items():
        if c is None:
            continue
        ratio = c.total / base.total if base is not None and base.total else None
        rows.append(dict(c.as_dict(), name=key, expression=_DESCRIPTIONS.get(key, key),
                         value=c.total, ratio=ratio))
        cells.append([Text(_DESCRIPTIONS.get(key, key)), Number(c.total), Number(c.primal),
                      Number(c.tangent), Number(c.adjoint), Number(c.stored), Number(ratio)])
    return TraceTable(title, headers, cells, rows, digits=3)
