"""Plain data: the only thing that crosses between a student's code and a check.

A check never touches a student's objects. What a student's function returns is turned into
plain data first: numbers, strings, numpy arrays of numbers, and lists, tuples and dicts of
them, plus three records a check needs to look at (an exception's type and message, the lines
a matplotlib figure drew, and the type name of anything else). The same goes the other way: a
check hands a student's function plain data, a tensor to build, or the name of a function
family (``graders.families``) to rebuild, never code.

The wire format is JSON, in which every object is a tag (``{"$dict": [[key, value], ...]}``),
so no JSON object from the student's side can pass for anything but what its tag says. JSON
parsing builds nothing but dicts, lists, strings and numbers, and ``decode`` checks sizes and
depth before it builds arrays. Nothing here ever unpickles.

In the student's own kernel (Colab, plain nbgrader) the checks use ``to_plain``: the same
encoding and decoding in one process, so a check sees the same values on every path.
"""
import base64
import json
import math

import numpy as np

MAX_BYTES = 16 * 1024 * 1024      # one encoded value
MAX_DEPTH = 24
MAX_ITEMS = 200_000               # containers' entries and array elements, in all
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128"}


class PlainDataError(ValueError):
    """The data is not plain data this module can read (or is larger than its limits)."""


class ExceptionRecord:
    """An exception a student's code returned or raised: its type's name, module and message."""

    def __init__(self, type_name, module, message):
        self.type_name, self.module, self.message = str(type_name), str(module), str(message)

    def __eq__(self, other):
        return (isinstance(other, ExceptionRecord) and
                (self.type_name, self.module, self.message) ==
                (other.type_name, other.module, other.message))

    def __repr__(self):
        return f"{self.type_name}({self.message!r})"


class FigureRecord:
    """The lines of a matplotlib figure: ``axes`` is a list of lists of (x, y) float arrays."""

    def __init__(self, axes):
        self.axes = axes

    @property
    def lines(self):
        return [line for ax in self.axes for line in ax]

    def __repr__(self):
        return f"<figure: {len(self.axes)} axes, {len(self.lines)} lines>"


class OpaqueRecord:
    """Something that is not plain data: only its type's name comes across."""

    def __init__(self, type_name):
        self.type_name = str(type_name)

    def __repr__(self):
        return f"<an object of type {self.type_name}>"


class TensorArg:
    """An argument that the student's side receives as ``ag.tensor(array, requires_grad=...)``."""

    def __init__(self, array, requires_grad=False):
        self.array, self.requires_grad = np.asarray(array), bool(requires_grad)


class FunctionSpec:
    """An argument that the student's side receives as ``graders.families.build(spec)``."""

    def __init__(self, spec):
        self.spec = dict(spec)


# -- encoding (any side) --------------------------------------------------------------------------
def encode_tree(value):
    """``value`` as a JSON-able tree of tags; anything unknown becomes an opaque record."""
    return _enc(value, 0, [MAX_ITEMS])


def encode(value):
    """Bytes of ``value`` as plain data."""
    text = json.dumps(encode_tree(value), allow_nan=False, separators=(",", ":"))
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise PlainDataError(f"the value is too large to hand over ({len(data)} bytes; the limit is "
                             f"{MAX_BYTES})")
    return data


def _take(budget, n):
    budget[0] -= n
    if budget[0] < 0:
        raise PlainDataError(f"the value has more than {MAX_ITEMS} entries")


def _enc(value, depth, budget):
    if depth > MAX_DEPTH:
        raise PlainDataError(f"the value is nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 2 ** 63 else {"$object": "int (too large)"}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        return _enc(value.item(), depth, budget) if not isinstance(value, np.complexfloating) \
            else {"$complex": [_enc(value.real.item(), depth, budget), _enc(value.imag.item(), depth, budget)]}
    if kind is complex:
        return {"$complex": [_enc(value.real, depth, budget), _enc(value.imag, depth, budget)]}
    if kind is list or kind is tuple:
        _take(budget, len(value))
        items = [_enc(v, depth + 1, budget) for v in value]
        return items if kind is list else {"$tuple": items}
    if kind is dict:
        _take(budget, len(value))
        return {"$dict": [[_enc(k, depth + 1, budget), _enc(v, depth + 1, budget)]
                          for k, v in list(value.items())]}
    if isinstance(value, np.ndarray):
        return _enc_array(value, budget)
    if isinstance(value, TensorArg):
        return {"$tensor": _enc_array(value.array, budget), "requires_grad": value.requires_grad}
    if isinstance(value, FunctionSpec):
        return {"$function": _enc(value.spec, depth + 1, budget)}
    if isinstance(value, BaseException):
        return {"$exception": [type(value).__name__, type(value).__module__,
                               _safe_text(BaseException.__str__, value)]}
    if isinstance(value, ExceptionRecord):
        return {"$exception": [value.type_name, value.module, value.message]}
    if _is_tensor(value):
        return _enc_array(np.array(value.numpy()), budget)
    if _is_figure(value):
        return {"$figure": _enc_figure(value, budget)}
    if isinstance(value, (FigureRecord, OpaqueRecord)):
        return _enc_record(value, budget)
    return {"$object": _type_name(value)}


def _enc_record(value, budget):
    if isinstance(value, FigureRecord):
        return {"$figure": [[[_enc_array(x, budget), _enc_array(y, budget)] for x, y in ax]
                            for ax in value.axes]}
    return {"$object": value.type_name}


def _enc_array(arr, budget):
    arr = np.asarray(arr)
    if type(arr) is not np.ndarray:
        arr = arr.view(np.ndarray)
    if arr.dtype.name not in _DTYPES:
        return {"$object": f"numpy array of dtype {arr.dtype.name}"}
    _take(budget, arr.size)
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"$array": [arr.dtype.name, list(arr.shape),
                       base64.b64encode(np.ascontiguousarray(little).tobytes()).decode("ascii")]}


def _enc_figure(fig, budget):
    axes = []
    for ax in list(fig.axes):
        lines = []
        for line in list(ax.get_lines()):
            try:
                x = np.asarray(line.get_xdata(), dtype=float)
                y = np.asarray(line.get_ydata(), dtype=float)
            except (TypeError, ValueError):
                continue
            lines.append([_enc_array(x, budget), _enc_array(y, budget)])
        axes.append(lines)
    return axes


def _is_tensor(value):
    import sys
    ag = sys.modules.get("autograd_lite")
    return ag is not None and isinstance(value, ag.Tensor)


def _is_figure(value):
    import sys
    figure = sys.modules.get("matplotlib.figure")
    return figure is not None and isinstance(value, figure.Figure)


def _type_name(value):
    try:
        return str(type(value).__qualname__)[:80]
    except Exception:       # noqa: BLE001 - a hostile metaclass
        return "unknown"


def _safe_text(fn, value):
    try:
        return str(fn(value))[:2000]
    except Exception:       # noqa: BLE001
        return "<message could not be read>"


# -- decoding -------------------------------------------------------------------------------------
def decode(data, *, build_tensor=None, build_function=None):
    """The value encoded in ``data``. Tensors and function families are rebuilt only when the
    caller says how (the student's side); elsewhere they are refused."""
    if not isinstance(data, (bytes, bytearray)):
        raise PlainDataError("plain data arrives as bytes")
    if len(data) > MAX_BYTES:
        raise PlainDataError(f"{len(data)} bytes is over the limit of {MAX_BYTES}")
    try:
        tree = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PlainDataError(f"not plain data: {exc}") from None
    return decode_tree(tree, build_tensor=build_tensor, build_function=build_function)


def decode_tree(tree, *, build_tensor=None, build_function=None):
    """The value of a tree already parsed from JSON (see ``decode``)."""
    return _dec(tree, 0, [MAX_ITEMS], build_tensor, build_function)


def _dec(node, depth, budget, build_tensor, build_function):
    if depth > MAX_DEPTH:
        raise PlainDataError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(node)
    if node is None or kind in (bool, str, float):
        return node
    if kind is int:
        if abs(node) >= 2 ** 63:
            raise PlainDataError("an integer out of range")
        return node
    if kind is list:
        _take(budget, len(node))
        return [_dec(v, depth + 1, budget, build_tensor, build_function) for v in node]
    if kind is not dict or len(node) not in (1, 2):
        raise PlainDataError("an object that is not a known tag")
    tag = next(iter(node))
    body = node[tag]
    rec = lambda v: _dec(v, depth + 1, budget, build_tensor, build_function)  # noqa: E731
    if tag == "$tuple" and type(body) is list and len(node) == 1:
        _take(budget, len(body))
        return tuple(rec(v) for v in body)
    if tag == "$dict" and type(body) is list and len(node) == 1:
        _take(budget, len(body))
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise PlainDataError("a dict entry that is not a [key, value] pair")
            key = rec(pair[0])
            try:
                hash(key)
            except TypeError:
                raise PlainDataError("a dict key that cannot be a key") from None
            out[key] = rec(pair[1])
        return out
    if tag == "$float" and body in ("nan", "inf", "-inf") and len(node) == 1:
        return float(body)
    if tag == "$complex" and type(body) is list and len(body) == 2:
        re_, im = rec(body[0]), rec(body[1])
        if type(re_) not in (int, float) or type(im) not in (int, float):
            raise PlainDataError("a complex number with parts that are not numbers")
        return complex(re_, im)
    if tag == "$array" and len(node) == 1:
        return _dec_array(body, budget)
    if tag == "$exception" and type(body) is list and len(body) == 3 and \
            all(type(b) is str for b in body):
        return ExceptionRecord(body[0][:200], body[1][:200], body[2][:2000])
    if tag == "$figure" and type(body) is list:
        _take(budget, len(body))
        return FigureRecord([[(_array_in(x, budget), _array_in(y, budget)) for x, y in _pairs(ax)]
                             for ax in body])
    if tag == "$object" and type(body) is str:
        return OpaqueRecord(body[:200])
    if tag == "$tensor" and build_tensor is not None and type(node.get("requires_grad")) is bool:
        return build_tensor(_array_in(body, budget), node["requires_grad"])
    if tag == "$function" and build_function is not None and len(node) == 1:
        return build_function(rec(body))
    raise PlainDataError(f"the tag {tag[:40]!r} is not allowed here")


def _pairs(ax):
    if type(ax) is not list or any(type(line) is not list or len(line) != 2 for line in ax):
        raise PlainDataError("a figure's axes should be lists of [x, y] pairs")
    return ax


def _array_in(node, budget):
    if type(node) is not dict or list(node) != ["$array"]:
        raise PlainDataError("an array was expected here")
    return _dec_array(node["$array"], budget)


def _dec_array(body, budget):
    if type(body) is not list or len(body) != 3:
        raise PlainDataError("an array record should be [dtype, shape, data]")
    dtype, shape, b64 = body
    if dtype not in _DTYPES or type(shape) is not list or type(b64) is not str or len(shape) > 32 \
            or any(type(s) is not int or s < 0 for s in shape):
        raise PlainDataError("an array record with a bad dtype or shape")
    size = 1
    for s in shape:
        size *= s
    _take(budget, size)
    itemsize = np.dtype(dtype).itemsize
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise PlainDataError("an array record whose data is not base64") from None
    if len(raw) != size * itemsize:
        raise PlainDataError("an array record whose data does not fit its shape")
    arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    return arr.copy()


# -- both at once, in one process -----------------------------------------------------------------
def to_plain(value):
    """What a check would receive had ``value`` come from another process."""
    return decode(encode(value))
