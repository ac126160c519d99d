"""Operators and methods of Tensor, each a one-line call into the primitives."""
import numpy as np

from . import functions as F
from . import primitives as P
from .tensor import Tensor


def _index(index):
    """Tensors used as indices become their arrays; lists stay fancy indices."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _getitem(self, index):
    return P.getitem(self, index=_index(index))


def _compare(fn):
    return lambda self, other: P.constant(fn.__name__, fn)(self, other)


def _cast(dtype):
    def cast(self):
        return self if self.dtype == dtype else P.astype(self, dtype=dtype)
    return cast


def _to(self, dtype):
    return _cast(np.dtype(dtype))(self)


_methods = {
    # self is the first argument: the primitive itself is the method (no extra call layer)
    "__neg__": P.neg, "__pos__": lambda a: a,
    "__abs__": lambda a: P.abs(a),
    "__lt__": _compare(np.less), "__le__": _compare(np.less_equal),
    "__gt__": _compare(np.greater), "__ge__": _compare(np.greater_equal),
    "__eq__": _compare(np.equal), "__ne__": _compare(np.not_equal),
    "__getitem__": _getitem,
    "exp": F.exp, "log": F.log, "sin": F.sin, "cos": F.cos, "tan": F.tan, "tanh": F.tanh,
    "sigmoid": F.sigmoid, "relu": F.relu, "abs": F.abs, "sqrt": F.sqrt, "square": F.square,
    "sum": F.sum, "mean": F.mean, "max": F.max, "min": F.min, "norm": F.norm,
    "dot": F.dot, "matmul": F.matmul, "maximum": F.maximum, "minimum": F.minimum,
    "reshape": F.reshape, "view": F.reshape, "transpose": F.transpose, "permute": F.permute,
    "softmax": F.softmax, "log_softmax": F.log_softmax, "clamp": F.clamp, "pow": F.pow,
    "float": _cast(np.dtype(np.float32)), "double": _cast(np.dtype(np.float64)), "to": _to,
    "all": lambda self: Tensor._wrap(np.all(self._data)),
    "any": lambda self: Tensor._wrap(np.any(self._data)),
    "argmax": lambda self, axis=None: Tensor._wrap(np.argmax(self._data, axis=axis)),
    "argmin": lambda self, axis=None: Tensor._wrap(np.argmin(self._data, axis=axis)),
}

for _name, _op in (("add", P.add), ("sub", P.sub), ("mul", P.mul), ("truediv", P.div),
                   ("pow", P.pow), ("matmul", P.matmul)):
    _methods[f"__{_name}__"], _methods[f"__r{_name}__"] = P.operator_methods(_op)

for _name, _fn in _methods.items():
    setattr(Tensor, _name, _fn)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """numpy's arithmetic on a Tensor defers to the library; other ufuncs explain themselves."""
    table = {np.add: P.add, np.subtract: P.sub, np.multiply: P.mul, np.true_divide: P.div,
             np.power: P.pow, np.matmul: P.matmul}
    if method == "__call__" and ufunc in table and not kwargs:
        return table[ufunc](*inputs)
    raise TypeError(f"numpy.{ufunc.__name__} was called on an autograd_lite Tensor. "
                    f"Use the library's function (for example ag.{ufunc.__name__}) so the "
                    f"derivative is tracked, or call .detach().numpy() to leave autograd.")


Tensor.__array_ufunc__ = _array_ufunc
Tensor.clone = lambda self: P.mul(self, 1)
Tensor.T = property(lambda self: P.transpose(self, axes=None),
                    doc="All axes reversed (the transpose of a matrix).")
