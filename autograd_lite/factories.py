"""Ways to make tensors, mirroring torch: tensor, zeros, ones, arange, linspace, randn, ..."""
import numpy as np

from .tensor import Tensor

_rng = np.random.default_rng()


def manual_seed(seed):
    """Make randn/rand/randint reproducible."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _make(data, dtype, requires_grad):
    t = Tensor(data, dtype=dtype)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data``; floats are float64 unless asked otherwise."""
    return _make(data, dtype, requires_grad)


def as_tensor(data, dtype=None):
    return data if isinstance(data, Tensor) and dtype is None else tensor(data, dtype)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(size), dtype=dtype or np.float64), None, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(size), dtype=dtype or np.float64), None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    return _make(np.full(tuple(size), fill_value, dtype=dtype or np.float64), None, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(*np.shape(np.asarray(t)), dtype=dtype or np.asarray(t).dtype,
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(*np.shape(np.asarray(t)), dtype=dtype or np.asarray(t).dtype,
                requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=dtype or np.float64), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like torch.arange: ``arange(4.0)`` is float64, ``arange(4)`` is int64."""
    if end is None:
        start, end = 0, start
    return _make(np.arange(start, end, step, dtype=dtype), None, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, int(steps), dtype=dtype or np.float64), None, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, **kwargs):
    """Standard normal samples; ``randn(3, 4)``, ``randn((3, 4))`` or ``randn(size=())``."""
    shape = tuple(kwargs.pop("size")) if "size" in kwargs else _shape(size)
    if kwargs:
        raise TypeError(f"randn got unexpected arguments {sorted(kwargs)}")
    values = (generator or _rng).standard_normal(shape)
    return _make(np.asarray(values, dtype=dtype or np.float64), None, requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False):
    values = (generator or _rng).random(_shape(size))
    return _make(np.asarray(values, dtype=dtype or np.float64), None, requires_grad)


def randint(low, high, size, generator=None):
    return Tensor((generator or _rng).integers(low, high, size=tuple(size)))
