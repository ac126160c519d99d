"""PyTorch-style printing of tensors: ``tensor([ 0.,  4.,  8., 12.], requires_grad=True)``."""
import numpy as np


def format_values(data):
    data = np.asarray(data)
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        whole = finite.size == 0 or np.all(finite == np.round(finite))
        big = finite.size and (np.max(np.abs(finite)) >= 1e8 or
                               0 < np.min(np.abs(finite[finite != 0]), initial=np.inf) < 1e-4)
        if big:
            return np.array2string(data, separator=", ", prefix="tensor(",
                                   formatter={"float_kind": lambda v: f"{v:.4e}"})
        return np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if whole else "fixed")
    return np.array2string(data, separator=", ", prefix="tensor(")


def tensor_repr(t):
    extras = []
    if t.dtype not in (np.float64, np.int64, np.bool_):
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if t.tangent is not None:
        extras.append(f"tangent={format_values(t.tangent._data)}")
    suffix = "".join(", " + e for e in extras)
    return f"tensor({format_values(t._data)}{suffix})"
