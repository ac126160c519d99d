"""Forward mode: dual tensors that carry a tangent through every primitive.

A tensor with a ``tangent`` is a dual number ``x + t·ε``. While forward mode is active,
``apply`` pushes tangents through each primitive with its JVP rule. One level of forward
mode at a time; reverse mode may run inside it (that is how ``hessian`` works).
"""
import contextlib

import numpy as np

from ._state import state
from .tensor import Tensor


@contextlib.contextmanager
def dual_level():
    """Let tangents flow (PyTorch's ``forward_ad.dual_level``)."""
    if state.forward_active:
        raise RuntimeError(
            "forward mode inside forward mode (e.g. jacfwd of jacfwd, or jvp inside jvp) is not "
            "supported: use reverse mode for the inner derivative (hessian = jacfwd(grad(f))).")
    state.forward_active += 1
    try:
        yield
    finally:
        state.forward_active -= 1


def _attach_tangent(t, tangent):
    tangent = tangent if isinstance(tangent, Tensor) else Tensor(np.asarray(tangent, dtype=t.dtype))
    if tangent.shape != t.shape:
        raise ValueError(f"the tangent has shape {tuple(tangent.shape)} but the primal has shape "
                         f"{tuple(t.shape)}; they must match")
    if t.dtype.kind != "f":
        raise RuntimeError(f"only floating point tensors can carry a tangent (got {t.dtype})")
    t.tangent = tangent.detach() if not tangent.requires_grad else tangent
    return t


def make_dual(primal, tangent):
    """A new tensor with ``primal``'s values carrying ``tangent``."""
    out = primal.detach() if isinstance(primal, Tensor) else Tensor(primal)
    if isinstance(primal, Tensor) and primal.requires_grad:
        out = primal * 1          # stay connected to the reverse graph
    return _attach_tangent(out, tangent)


def unpack_dual(t):
    """(primal, tangent) of a dual tensor; the tangent is None where none flowed."""
    return t.detach(), t.tangent
