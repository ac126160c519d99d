"""Finite differences, to compare numerical differentiation with AD.

Three formulas for the derivative along a direction e, with step h:

- forward   (f(x + h e) - f(x)) / h                 truncation error O(h)
- central   (f(x + h e) - f(x - h e)) / (2h)        truncation error O(h²)
- complex   Im f(x + i h e) / h                      truncation error O(h²), no cancellation

Forward and central differences subtract two nearly equal numbers, so round-off grows like
eps/h as h shrinks: the error against the exact value draws a U (``fd_error_curve``).
The complex step has no subtraction, so h can be tiny (1e-20) and the result is exact to
machine precision, but it only applies when f is real-analytic and written with operations
that accept complex numbers and treat them as analytic functions (+ - * / **, exp, log,
sin, cos, tan, tanh, sqrt, matmul). It gives wrong answers for abs, relu, max/min,
maximum/minimum, comparisons and anything that takes a real part or conjugate.

``f`` is called on plain numpy values (the library's functions accept them), or on
tensors if that fails; it may return a Tensor, a numpy value or a Python number.
"""
import numpy as np

from ..tensor import Tensor

METHODS = ("central", "forward", "complex")
_EPS = np.finfo(float).eps


def default_step(method, x=1.0):
    """A step that balances truncation and round-off for each formula."""
    scale = max(1.0, float(np.max(np.abs(x)))) if np.size(x) else 1.0
    if method == "forward":
        return np.sqrt(_EPS) * scale
    if method == "central":
        return np.cbrt(_EPS) * scale
    if method == "complex":
        return 1e-20 * scale
    raise ValueError(f"unknown finite-difference method {method!r}; use one of {METHODS}")


def _call(f, x):
    try:
        out = f(x)
    except TypeError:
        out = f(Tensor(x))
    if isinstance(out, Tensor):
        out = out._data
    if isinstance(out, (tuple, list)):
        raise TypeError("finite differences need f to return one Tensor or array, not a tuple")
    return np.asarray(out)


def _as_input(x):
    if isinstance(x, Tensor):
        x = x._data
    x = np.asarray(x, dtype=float)
    return x


def _directional(f, x, e, h, method, f_x=None):
    if method == "forward":
        base = _call(f, x) if f_x is None else f_x
        return (_call(f, x + h * e) - base) / h
    if method == "central":
        return (_call(f, x + h * e) - _call(f, x - h * e)) / (2 * h)
    if method == "complex":
        value = _call(f, x + 1j * h * e)
        if not np.iscomplexobj(value):
            raise TypeError("complex step: f returned a real value for a complex input, so it "
                            "dropped the imaginary part (abs, comparisons, casts?). Use "
                            "method='central' for this function.")
        return np.imag(value) / h
    raise ValueError(f"unknown finite-difference method {method!r}; use one of {METHODS}")


def finite_difference(f, x, h=None, method="central"):
    """The derivative of a scalar function of one scalar, f'(x), by finite differences."""
    x = _as_input(x)
    if x.size != 1:
        raise ValueError(f"finite_difference is for one scalar input (got shape {x.shape}); "
                         f"use fd_gradient or fd_jacobian for arrays")
    h = default_step(method, x) if h is None else float(h)
    if h <= 0:
        raise ValueError(f"the step h must be positive, got {h}")
    d = _directional(f, x.reshape(()), np.ones(()), h, method)
    if np.size(d) != 1:
        raise ValueError(f"finite_difference: f returned shape {np.shape(d)}; it must return one "
                         f"number (use fd_jacobian for vector outputs)")
    return float(np.asarray(d).reshape(()))


def fd_jacobian(f, x, h=None, method="central"):
    """The Jacobian by finite differences: one difference (1-2 calls of f) per input element.

    The result has shape ``f(x).shape + x.shape`` (the layout of ``ag.jacfwd``).
    """
    x = _as_input(x)
    h = default_step(method, x) if h is None else float(h)
    f_x = _call(f, x) if method == "forward" else None
    out_shape = np.shape(_call(f, x)) if f_x is None else f_x.shape
    columns = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        columns.append(np.asarray(_directional(f, x, e.reshape(x.shape), h, method, f_x), float))
    if not columns:
        return np.zeros(out_shape + x.shape)
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def fd_gradient(f, x, h=None, method="central"):
    """The gradient of a scalar function by finite differences (shape of ``x``)."""
    x = _as_input(x)
    jac = fd_jacobian(f, x, h, method)
    if jac.size != x.size:
        raise ValueError(f"fd_gradient: f must return one number, but its Jacobian has shape "
                         f"{jac.shape}; use fd_jacobian")
    return jac.reshape(x.shape)


class ErrorCurve:
    """Finite-difference errors over step sizes; ``np.asarray(curve)`` gives the errors."""

    def __init__(self, hs, estimates, exact, method):
        self.hs = np.asarray(hs, dtype=float)
        self.estimates = np.asarray(estimates, dtype=float)
        self.exact = exact
        self.method = method
        self.errors = np.abs(self.estimates - exact)

    @property
    def best_h(self):
        """The step with the smallest error (the bottom of the U)."""
        return float(self.hs[int(np.argmin(self.errors))])

    @property
    def best_error(self):
        return float(np.min(self.errors))

    def __array__(self, dtype=None, copy=None):
        return self.errors if dtype is None else self.errors.astype(dtype)

    def __len__(self):
        return len(self.errors)

    def __getitem__(self, i):
        return self.errors[i]

    def __iter__(self):
        return iter(self.errors)

    def rows(self):
        return [{"h": float(h), "estimate": float(d), "error": float(e)}
                for h, d, e in zip(self.hs, self.estimates, self.errors)]

    def plot(self, ax=None, label=None):
        """Error against h on log-log axes (matplotlib)."""
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(5, 3.5))
        errors = np.where(self.errors > 0, self.errors, np.nan)   # exact hits: off the log scale
        ax.loglog(self.hs, errors, "o-", ms=3, label=label or self.method)
        ax.set_xlabel("step size h")
        ax.set_ylabel("|finite difference − AD|")
        ax.legend()
        return ax

    def __repr__(self):
        return (f"ErrorCurve(method={self.method!r}, {len(self.hs)} steps, best h={self.best_h:.1e}, "
                f"best error={self.best_error:.1e})")


def fd_error_curve(f, x, hs=None, exact=None, method="central"):
    """Absolute error of the finite-difference derivative at scalar ``x`` for each step in ``hs``.

    ``exact`` defaults to the AD value ``ag.grad(f)(x)``. With forward or central
    differences the errors fall with h (truncation) and then rise again (round-off).
    """
    from ..transforms import grad
    x = _as_input(x)
    if x.size != 1:
        raise ValueError("fd_error_curve: x must be one number")
    hs = np.logspace(-16, 0, 33) if hs is None else np.asarray(hs, dtype=float)
    if np.any(hs <= 0):
        raise ValueError("fd_error_curve: every step h must be positive")
    if exact is None:
        exact = float(grad(f)(float(x)))
    estimates = [finite_difference(f, x, h, method) for h in hs]
    return ErrorCurve(hs, estimates, float(exact), method)
