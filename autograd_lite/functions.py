"""The public functions: primitives plus a few compositions of them (mean, dot, stack, ...).

Compositions need no derivative rules of their own: they are differentiated through the
primitives they are made of.
"""
import numpy as np

from . import primitives as P
from .tensor import Tensor

exp, log, sin, cos, tan, tanh = P.exp, P.log, P.sin, P.cos, P.tan, P.tanh
sigmoid, relu, abs, sqrt = P.sigmoid, P.relu, P.abs, P.sqrt
maximum, minimum, where, matmul, concatenate = P.maximum, P.minimum, P.where, P.matmul, P.concatenate
add, sub, mul, div, neg, pow = P.add, P.sub, P.mul, P.div, P.neg, P.pow


def _axis(axis, dim):
    """Accept numpy's ``axis`` and PyTorch's ``dim`` spellings."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis= or dim=, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


def _keep(keepdims, keepdim):
    return bool(keepdim) if keepdim is not None else bool(keepdims)


def _check_axis(x, axis, name):
    """The axis to give numpy. As in PyTorch, a 0-d tensor accepts axis 0 or -1 (its one
    element is the whole reduction), which numpy would refuse."""
    ndim = np.ndim(x._data if isinstance(x, Tensor) else x)
    bound = ndim or 1          # (this module's max/min are the tensor reductions)
    for a in (axis if isinstance(axis, tuple) else () if axis is None else (axis,)):
        if not -bound <= a < bound:
            raise IndexError(f"{name}: axis {a} is out of range for a tensor with {ndim} dimensions")
    return None if ndim == 0 else axis


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis = _axis(axis, dim)
    axis = _check_axis(x, axis, "sum")
    return P.sum(x, axis=axis, keepdims=_keep(keepdims, keepdim))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis = _axis(axis, dim)
    axis = _check_axis(x, axis, "mean")
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    if axis is None:
        count = int(np.prod(shape))
    else:
        count = int(np.prod([shape[a] for a in (axis if isinstance(axis, tuple) else (axis,))]))
    return P.sum(x, axis=axis, keepdims=_keep(keepdims, keepdim)) / count


def _reduction(prim, name):
    def reduce(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis = _axis(axis, dim)
        axis = _check_axis(x, axis, name)
        if np.size(x._data if isinstance(x, Tensor) else x) == 0:
            raise RuntimeError(f"{name}(): the tensor is empty, so it has no {name}imum")
        return prim(x, axis=axis, keepdims=_keep(keepdims, keepdim))
    reduce.__name__ = name
    reduce.__doc__ = (f"The {name}imum over ``axis`` (all elements by default). Unlike torch.{name} "
                      f"with dim=, only the values are returned, and tied elements share the "
                      f"gradient equally (torch.{name} with dim= gives it all to the index it "
                      f"returns; like torch.a{name}, which splits it too).")
    return reduce


max = _reduction(P.max, "max")
min = _reduction(P.min, "min")


def norm(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """The Euclidean (Frobenius) norm; its gradient at 0 is taken as 0, as in PyTorch."""
    axis = _axis(axis, dim)
    axis = _check_axis(x, axis, "norm")
    return P.norm(x, axis=axis, keepdims=_keep(keepdims, keepdim))


def dot(a, b):
    """Inner product of two 1-D tensors (torch.dot)."""
    sa, sb = np.shape(_raw(a)), np.shape(_raw(b))
    if len(sa) != 1 or len(sb) != 1:
        raise RuntimeError(f"dot: expects two 1-D tensors, got shapes {sa} and {sb}; "
                           f"use matmul (@) for matrices")
    if sa != sb:
        raise RuntimeError(f"dot: the tensors have different lengths {sa[0]} and {sb[0]}")
    return P.matmul(a, b)


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    size = np.size(_raw(x))
    known = int(np.prod([n for n in shape if n != -1]))
    if (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise RuntimeError(f"reshape: shape {tuple(shape)} is invalid for a tensor of "
                           f"{size} elements (shape {np.shape(_raw(x))})")
    return P.reshape(x, shape=tuple(shape))


def transpose(x, dim0=None, dim1=None):
    """Swap two axes (``transpose(x, 0, 1)``, as in PyTorch) or reverse them all (no dims)."""
    ndim = np.ndim(_raw(x))
    if dim0 is None and dim1 is None:
        return P.transpose(x, axes=None)
    if dim0 is None or dim1 is None:
        raise TypeError("transpose: give both dims to swap, or none to reverse all axes")
    axes = list(range(ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return P.transpose(x, axes=tuple(axes))


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return P.transpose(x, axes=tuple(dims))


def stack(tensors, axis=None, *, dim=None):
    """Join same-shape tensors along a new axis (torch.stack); ``axis`` defaults to 0."""
    axis = _axis(axis, dim)
    axis = 0 if axis is None else axis
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {np.shape(_raw(t)) for t in tensors}
    if len(shapes) != 1:
        raise RuntimeError(f"stack: expects tensors of equal shape, got {sorted(shapes)}")
    shape = shapes.pop()
    axis = axis % (len(shape) + 1)
    new_shape = shape[:axis] + (1,) + shape[axis:]
    return P.concatenate([P.reshape(t, shape=new_shape) for t in tensors], axis=axis)


def cat(tensors, dim=0):
    return concatenate(tensors, axis=dim)


def square(x):
    return x * x


def softmax(x, axis=None, *, dim=None):
    axis = _axis(axis, dim)
    axis = -1 if axis is None else axis     # the last axis, unless told otherwise
    shifted = x - max(x, axis=axis, keepdims=True).detach()
    e = exp(shifted)
    return e / sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None, *, dim=None):
    axis = _axis(axis, dim)
    axis = -1 if axis is None else axis     # the last axis, unless told otherwise
    return P.log_softmax(x, axis=axis)


def clamp(x, min=None, max=None):
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x
