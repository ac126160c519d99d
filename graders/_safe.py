"""Tools every check uses to look at a student's answer without trusting it.

A check runs in the student's kernel, after the student's code. So the numpy functions it
compares with are captured here, at import time (a later ``np.allclose = lambda *a: True``
changes nothing), a student's value is turned into plain floats before any comparison (an
object whose ``==`` always says True never reaches a comparison), and every expected value
is computed inside the check. Student code is called with warnings and stderr silenced,
because nbgrader scores a test cell that writes to stderr as failed.
"""
import builtins
import contextlib
import io
import math
import warnings

import numpy as np

# Captured once: later patches of numpy or builtins by student code do not reach the checks.
_array = np.array
_asarray = np.asarray
_ndarray = np.ndarray
_isfinite = np.isfinite
_isnan = np.isnan
_abs = np.abs
_errstate = np.errstate
_float64 = np.float64
_isinstance = builtins.isinstance
_type = builtins.type
_len = builtins.len
_repr = builtins.repr
_str = builtins.str
_float = builtins.float
_int = builtins.int
_babs = builtins.abs
_finite = math.isfinite


class CheckFailed(AssertionError):
    """A check did not pass: says what was expected, what came back, and a hint."""


def fail(question, what, expected, got, hint):
    lines = [f"{question}: {what}"]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if got is not None:
        lines.append(f"  you gave: {got}")
    if hint:
        lines.append(f"  hint: {hint}")
    raise CheckFailed("\n".join(lines))


def show(value, limit=6):
    """A short, safe description of a value for a message (never calls the student's __repr__)."""
    if _type(value) in (int, float, bool, str) or value is None:
        return _repr(value)
    if _type(value) is _ndarray:
        flat = value.reshape(-1)
        body = ", ".join(f"{_float(v):.6g}" for v in flat[:limit])
        more = ", ..." if flat.size > limit else ""
        return f"array of shape {tuple(value.shape)}: [{body}{more}]"
    return f"an object of type {_type(value).__name__}"


def as_floats(value, question, what):
    """The value as a fresh float64 ndarray (a Tensor, list or number is fine), or a clear failure."""
    try:
        with quiet():
            arr = _array(_asarray(value, dtype=_float64), dtype=_float64, copy=True)
    except Exception as exc:       # noqa: BLE001 - any failure is the student's value's
        fail(question, f"{what} could not be read as numbers ({_type(exc).__name__}: {exc})",
             "numbers (a float, a numpy array or an autograd_lite Tensor)", show(value),
             "return the numeric result, for example x.grad or t.detach().numpy()")
    if _type(arr) is not _ndarray:
        arr = arr.view(_ndarray)
    return arr


def as_float(value, question, what):
    arr = as_floats(value, question, what)
    if arr.size != 1:
        fail(question, f"{what} should be a single number", "one number",
             show(arr), "return a float, not an array")
    return _float(arr.reshape(-1)[0])


def as_int(value, question, what):
    if _type(value) is bool or not _isinstance(value, (int, np.integer)):
        fail(question, f"{what} should be an integer count", "an int", show(value),
             "use the .total of the object count_ops returns")
    return _int(value)


def plain_str(value, question, what):
    if _type(value) is not str:
        fail(question, f"{what} should be a plain string", "a str", show(value), None)
    return _str(value)


def close(got, expected, rtol=1e-7, atol=1e-9):
    """Elementwise closeness on plain float arrays, with NaN/inf never counting as close."""
    got = _asarray(got, dtype=_float64)
    expected = _asarray(expected, dtype=_float64)
    if got.shape != expected.shape:
        return False
    if not bool(_isfinite(got).all()):
        return False
    return bool((_abs(got - expected) <= atol + rtol * _abs(expected)).all())


def close_number(got, expected, rtol=1e-7, atol=1e-9):
    return (_finite(got) and _finite(expected)
            and _babs(got - expected) <= atol + rtol * _babs(expected))


@contextlib.contextmanager
def quiet():
    """Silence warnings, numpy floating-point warnings and stderr while student code runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _errstate(all="ignore"), contextlib.redirect_stderr(io.StringIO()):
            yield


def call(question, fn, *args, what=None):
    """Call a student's function; an exception becomes a clear failure, not a crash."""
    name = getattr(fn, "__name__", "your function")
    if not callable(fn):
        fail(question, f"{what or name} should be a function", "a function", show(fn),
             "define it with def in the answer cell above and run that cell")
    try:
        with quiet():
            return fn(*args)
    except CheckFailed:
        raise
    except NotImplementedError:
        fail(question, f"{name} is not written yet (it raised NotImplementedError)", None, None,
             "replace the 'raise NotImplementedError()' line in the answer cell with your code")
    except Exception as exc:      # noqa: BLE001
        fail(question, f"{name}{_call_text(args)} raised {_type(exc).__name__}: {exc}",
             None, None, "run your function on this input yourself and read the traceback")


def _call_text(args):
    return "(" + ", ".join(show(a) if not _isinstance(a, np.ndarray) else show(a) for a in args) + ")"


# -- watching the library ----------------------------------------------------------------------
def inside_engine():
    """True when the current primitive is applied by a backward pass or a forward-mode tangent push."""
    from autograd_lite._state import state
    return state.phase != "primal"


class Observation:
    """Primitives a call applied, split into the user's own (forward) and the AD engine's."""

    def __init__(self):
        self.own = []
        self.engine = []

    def __call__(self, prim, inputs, output, params):
        (self.engine if inside_engine() else self.own).append(prim.name)


@contextlib.contextmanager
def observed():
    from autograd_lite._state import observing
    obs = Observation()
    with observing(obs):
        yield obs
