"""What every check uses to question a student's answer and to word its verdict.

A check holds *handles* to the student's answers, never the answers themselves:

- ``LocalAnswer`` wraps a function or value in the same process. That is how the visible
  checks run in the student's own notebook (Colab, JupyterLab, plain nbgrader).
- The grading pipeline gives the same checks handles whose calls travel to the student's
  sandboxed process and come back as plain data (``graders.pipeline.trusted``).

Either way a call returns plain data (``graders.plain``): numbers, arrays, strings, containers,
and records of exceptions and figures. A check compares only those, with functions bound here,
so nothing the student's code returns can decide a comparison.

A check runs on *cases*: visible ones whose inputs and expected values the student may see,
and hidden ones. For a hidden case a message says which property failed and gives the hint,
never the inputs or the expected values.
"""
import contextlib
import inspect
import io
import linecache
import math
import warnings

import numpy as np
# Bound at import: these checks also run in the student's own kernel (Colab, plain nbgrader),
# where student code may patch builtins after the checks were imported.
from builtins import abs, float, int, isinstance, len, repr, round, str, type  # noqa: A004

from . import families
from .plain import (ExceptionRecord, FigureRecord, FunctionSpec, OpaqueRecord, PlainDataError,
                    TensorArg, to_plain)

# Bound once: a later patch of numpy or math by code in the same process does not reach here.
_asarray = np.asarray
_array = np.array
_ndarray = np.ndarray
_isfinite = np.isfinite
_abs = np.abs
_errstate = np.errstate
_float64 = np.float64
_finite = math.isfinite


class CheckFailed(AssertionError):
    """A check did not pass. The message says what was expected, what came back, and a hint."""


class Context:
    """One check's question, and whether its cases are hidden."""

    def __init__(self, question, hidden=False):
        self.question = question
        self.hidden = bool(hidden)
        self.label = f"{question} (hidden)" if hidden else question

    def case(self, visible_text, index):
        """How a message names a case: its inputs when visible, its number when hidden."""
        return f"on hidden case {index + 1}" if self.hidden else visible_text

    def fail(self, what, expected=None, got=None, hint=None):
        lines = [f"{self.label}: {what}"]
        if self.hidden:
            lines.append("  (the inputs of hidden cases and the values expected there are not shown)")
        else:
            if expected is not None:
                lines.append(f"  expected: {expected}")
            if got is not None:
                lines.append(f"  you gave: {got}")
        if hint:
            lines.append(f"  hint: {hint}")
        raise CheckFailed("\n".join(lines))

    def passed(self, what):
        print(f"{self.label}: {what} passed")


# -- handles --------------------------------------------------------------------------------------
class Answer:
    """A student's answer, seen only through plain data. Subclasses say how to reach it."""

    name = "answer"

    def call(self, ctx, *args):
        raise NotImplementedError

    def value(self, ctx):
        raise NotImplementedError

    def function_source(self):
        """The source of the definition of this name, or '' when it cannot be found."""
        return ""

    def cell_source(self):
        """The whole cell in which this name was defined, or ''."""
        return ""


class LocalAnswer(Answer):
    """An answer living in this process (the student's notebook)."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def call(self, ctx, *args):
        if not callable(self.obj):
            ctx.fail(f"{self.name} should be a function", "a function", show(to_plain(self.obj)),
                     "define it with def in the answer cell above and run that cell")
        built = [_build_arg(a) for a in args]
        try:
            with quiet(stdout=ctx.hidden):
                result = self.obj(*built)
        except CheckFailed:
            raise
        except Exception as exc:        # noqa: BLE001 - any failure is the student's code's
            raised(ctx, self.name, ExceptionRecord(type(exc).__name__, type(exc).__module__,
                                                   _message(exc)), args)
        return _plain_result(ctx, self.name, result)

    def value(self, ctx):
        return _plain_result(ctx, self.name, self.obj)

    def function_source(self):
        try:
            return inspect.getsource(self.obj)
        except (OSError, TypeError):
            return ""

    def cell_source(self):
        code = getattr(self.obj, "__code__", None)
        if code is None:
            return ""
        return "".join(linecache.getlines(code.co_filename)) or self.function_source()


def handles(pairs):
    """Handles for (answer, name) pairs: an Answer stays as it is, anything else is local."""
    return [a if isinstance(a, Answer) else LocalAnswer(a, name) for a, name in pairs]


def _build_arg(arg):
    if isinstance(arg, TensorArg):
        import autograd_lite as ag
        return ag.tensor(arg.array.copy(), requires_grad=arg.requires_grad)
    if isinstance(arg, FunctionSpec):
        return families.build(arg.spec)
    if isinstance(arg, np.ndarray):
        return arg.copy()
    return arg


def _message(exc):
    try:
        return str(BaseException.__str__(exc))[:2000]
    except Exception:       # noqa: BLE001
        return ""


def _plain_result(ctx, name, result):
    try:
        return to_plain(result)
    except (PlainDataError, RecursionError) as exc:
        ctx.fail(f"what {name} returned cannot be read ({exc})", None, None,
                 "return numbers, numpy arrays, strings, or lists and dicts of them")


def raised(ctx, name, record, args=()):
    """The failure for a student's function that raised ``record`` (an ExceptionRecord)."""
    if record.type_name == "NotImplementedError":
        ctx.fail(f"{name} is not written yet (it raised NotImplementedError)", None, None,
                 "replace the 'raise NotImplementedError()' line in the answer cell with your code")
    if ctx.hidden:
        ctx.fail(f"{name} raised {record.type_name} on a hidden input", None, None,
                 "make your function work for any valid input, not only the examples")
    shown = ", ".join(show(a.array if isinstance(a, TensorArg) else a) for a in args)
    ctx.fail(f"{name}({shown}) raised {record.type_name}: {record.message}", None, None,
             "run your function on this input yourself and read the traceback")


# -- reading plain values -------------------------------------------------------------------------
def show(value, limit=6):
    """A short description of a plain value for a message."""
    if value is None or type(value) in (int, float, bool, str):
        return repr(value)
    if type(value) is _ndarray:
        flat = value.reshape(-1)
        body = ", ".join(f"{complex(v):.6g}" if np.iscomplexobj(flat) else f"{float(v):.6g}"
                         for v in flat[:limit])
        more = ", ..." if flat.size > limit else ""
        return f"array of shape {tuple(value.shape)}: [{body}{more}]"
    if isinstance(value, FunctionSpec):
        return families.describe(value.spec)
    if isinstance(value, (ExceptionRecord, FigureRecord, OpaqueRecord)):
        return repr(value)
    if type(value) in (list, tuple):
        return f"a {type(value).__name__} of {len(value)} items"
    if type(value) is dict:
        return f"a dict with {len(value)} entries"
    return f"a value of type {type(value).__name__}"


def as_floats(ctx, value, what):
    """The plain value as a float64 ndarray (numbers, lists of numbers, arrays), or a failure."""
    if isinstance(value, (ExceptionRecord, FigureRecord, OpaqueRecord)) or type(value) is str \
            or value is None:
        ctx.fail(f"{what} could not be read as numbers",
                 "numbers (a float, a numpy array or an autograd_lite Tensor)", show(value),
                 "return the numeric result, for example x.grad or t.detach().numpy()")
    try:
        with _errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = _array(value, dtype=_float64)
    except (TypeError, ValueError) as exc:
        ctx.fail(f"{what} could not be read as numbers ({exc})",
                 "numbers (a float, a numpy array or an autograd_lite Tensor)", show(value),
                 "return the numeric result, for example x.grad or t.detach().numpy()")
    return arr


def as_float(ctx, value, what):
    arr = as_floats(ctx, value, what)
    if arr.size != 1:
        ctx.fail(f"{what} should be a single number", "one number", show(arr),
                 "return a float, not an array")
    return float(arr.reshape(-1)[0])


def as_int(ctx, value, what):
    """A whole number. A float from a fit (np.polyfit, say) counts when it is one, to rounding."""
    if type(value) is float and value == value and abs(value) < 1e15:
        nearest = round(value)
        if abs(value - nearest) <= 1e-6 * max(1.0, abs(value)):
            return int(nearest)
    if type(value) is not int:
        ctx.fail(f"{what} should be a whole-number count", "an int", show(value),
                 "a count of operations or elements is a whole number")
    return value


def as_str(ctx, value, what):
    if type(value) is not str:
        ctx.fail(f"{what} should be a plain string", "a str", show(value), None)
    return value


def as_dict(ctx, value, what):
    if type(value) is not dict:
        ctx.fail(f"{what} should be a dict", "a dict", show(value), None)
    return value


def close(got, expected, rtol=1e-7, atol=1e-9):
    """Elementwise closeness of float arrays; NaN and infinity never count as close."""
    got = _asarray(got, dtype=_float64)
    expected = _asarray(expected, dtype=_float64)
    if got.shape != expected.shape or not bool(_isfinite(got).all()):
        return False
    return bool((_abs(got - expected) <= atol + rtol * _abs(expected)).all())


def close_number(got, expected, rtol=1e-7, atol=1e-9):
    return (_finite(got) and _finite(expected)
            and abs(got - expected) <= atol + rtol * abs(expected))


@contextlib.contextmanager
def quiet(stdout=False):
    """Silence warnings, numpy floating-point warnings and stderr while student code runs
    (nbgrader scores a test cell that wrote to stderr as failed), and stdout too when asked
    (what a student's code prints during a hidden check would show its hidden inputs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _errstate(all="ignore"), contextlib.redirect_stderr(io.StringIO()), \
                (contextlib.redirect_stdout(io.StringIO()) if stdout else contextlib.nullcontext()):
            yield
