"""Tiny expression trees for writing trace rows, built by running the rule table on symbols.

A tangent row such as ``v̇_2 = v̇_{-1} v_0 + v_{-1} v̇_0`` is not typed anywhere: the trace
calls the primitive's JVP (or VJP) rule with ``Expr`` symbols in place of numbers, and the
rule's own arithmetic builds the tree. ``Expr`` answers Python operators and numpy ufuncs,
so the rules in ``primitives.py`` run on it unchanged. Each tree prints as plain text (the
notation of the course: ``v_{-1}``, ``v̇_0``, ``v̄_3``), HTML and LaTeX.
"""
import numbers

import numpy as np

from ..primitives import PRIMITIVES

# The binary operators a primitive's notation may name (see primitives.py), and the node
# each one builds; "−" before a single input is negation.
OPERATORS = {"+": "add", "−": "sub", "×": "mul", "/": "div", "^": "pow", "@": "matmul"}
# numpy functions that rules call but that are no primitive, so the table cannot name them.
_HELPER_NAMES = {"sign": ("sgn", r"\operatorname{sgn}")}
_COMPARISONS = {"greater": (">", ">"), "greater_equal": ("≥", r"\ge"), "less": ("<", "<"),
                "less_equal": ("≤", r"\le"), "equal": ("=", "="), "not_equal": ("≠", r"\ne")}
_PRECEDENCE = {"add": 1, "sub": 1, "neg": 2, "mul": 3, "div": 3, "matmul": 3, "pow": 5,
               "sym": 9, "const": 9, "func": 9, "cmp": 9}


def format_number(value, digits=4):
    """A number as a short string: 2, -0.5, 0.6931, 1.2e-08 (``digits`` significant)."""
    value = np.asarray(value)
    if value.size != 1:
        flat = value.ravel()
        items = [format_number(v, digits) for v in flat[:6]]
        more = ", …" if flat.size > 6 else ""
        return "[" + ", ".join(items) + more + "]"
    v = value.item()
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, complex):
        return format_number(v.real, digits) + ("+" if v.imag >= 0 else "-") + \
            format_number(abs(v.imag), digits) + "i"
    if np.isfinite(v) and float(v) == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _latex_number(text):
    if "e" in text and not text.startswith("["):
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return text


class Symbol:
    """How one variable is written: plain text (``v_{-1}``), HTML and LaTeX."""

    __slots__ = ("text", "html", "latex")

    def __init__(self, base, index=None, accent=None):
        accents = {None: ("", "", "{}"), "dot": ("\u0307", "&#x307;", r"\dot{{{}}}"),
                   "bar": ("\u0304", "&#x304;", r"\bar{{{}}}")}
        combining, html_combining, latex_accent = accents[accent]
        if index is None:
            self.text = base + combining
            self.html = base + html_combining
            self.latex = latex_accent.format(base)
        else:
            index = str(index)
            sub = index if len(index) == 1 else "{" + index + "}"
            self.text = f"{base}{combining}_{sub}"
            self.html = f"{base}{html_combining}<sub>{index.replace('-', '&minus;')}</sub>"
            self.latex = latex_accent.format(base) + "_{" + index + "}"

    @classmethod
    def raw(cls, text, html, latex):
        symbol = cls.__new__(cls)
        symbol.text, symbol.html, symbol.latex = text, html, latex
        return symbol


class Expr:
    """A node of an expression tree; ``value`` (if known) gives shape and dtype to rules."""

    __array_priority__ = 2000

    def __init__(self, kind, args=(), name=None, value=None, symbol=None):
        self.kind, self.args, self.name, self.value, self.symbol = kind, tuple(args), name, value, symbol

    # -- what rules may ask of an input --------------------------------------------
    @property
    def shape(self):
        return np.shape(self.value) if self.value is not None else ()

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return np.result_type(self.value) if self.value is not None else np.dtype(float)

    @property
    def size(self):
        return int(np.prod(self.shape))

    # -- construction with light simplification --------------------------------------
    @staticmethod
    def sym(symbol, value=None):
        return Expr("sym", symbol=symbol, value=value)

    @staticmethod
    def const(value):
        return Expr("const", value=value)

    def _is_const(self, number=None):
        if self.kind != "const" or np.size(self.value) != 1:
            return False
        return number is None or float(np.asarray(self.value).item().real) == number

    def __add__(self, other):
        other = lift(other)
        if other._is_const(0):
            return self
        if self._is_const(0):
            return other
        if self._is_const() and other._is_const():
            return Expr.const(self.value + other.value)
        if other.kind == "neg":
            return Expr("sub", (self, other.args[0]))
        return Expr("add", (self, other))

    def __radd__(self, other):
        return lift(other) + self

    def __sub__(self, other):
        other = lift(other)
        if other._is_const(0):
            return self
        if self._is_const(0):
            return -other
        if self._is_const() and other._is_const():
            return Expr.const(self.value - other.value)
        if other.kind == "neg":
            return Expr("add", (self, other.args[0]))
        return Expr("sub", (self, other))

    def __rsub__(self, other):
        return lift(other) - self

    def __neg__(self):
        if self.kind == "neg":
            return self.args[0]
        if self._is_const():
            return Expr.const(-self.value)
        return Expr("neg", (self,))

    def __mul__(self, other):
        other = lift(other)
        a, b = self, other
        if a._is_const(1):
            return b
        if b._is_const(1):
            return a
        if a._is_const(-1):
            return -b
        if b._is_const(-1):
            return -a
        if a._is_const(0) or b._is_const(0):
            return Expr.const(0)
        if a._is_const() and b._is_const():
            return Expr.const(a.value * b.value)
        if a.kind == "neg":
            return -(a.args[0] * b)
        if b.kind == "neg":
            return -(a * b.args[0])
        return Expr("mul", (a, b))

    def __rmul__(self, other):
        return lift(other) * self

    def __truediv__(self, other):
        other = lift(other)
        if other._is_const(1):
            return self
        if self._is_const(0):
            return Expr.const(0)
        if self.kind == "neg":
            return -(self.args[0] / other)
        return Expr("div", (self, other))

    def __rtruediv__(self, other):
        return lift(other) / self

    def __pow__(self, other):
        other = lift(other)
        if other._is_const(1):
            return self
        if other._is_const(0):
            return Expr.const(1)
        return Expr("pow", (self, other))

    def __rpow__(self, other):
        return lift(other) ** self

    def __matmul__(self, other):
        return Expr("matmul", (self, lift(other)))

    def __rmatmul__(self, other):
        return Expr("matmul", (lift(other), self))

    # Comparisons build Iverson brackets [a > b] (rules use them for kinks and ties).
    def _compare(self, other, name):
        return Expr("cmp", (self, lift(other)), name=_COMPARISONS[name])

    def __gt__(self, other):
        return self._compare(other, "greater")

    def __ge__(self, other):
        return self._compare(other, "greater_equal")

    def __lt__(self, other):
        return self._compare(other, "less")

    def __le__(self, other):
        return self._compare(other, "less_equal")

    def __eq__(self, other):
        other = lift(other)
        # Rules guard ties and 0 ** 0 with [a = b]; where no element is equal at the traced
        # point the bracket is 0 there, so the row leaves it out (the value is unchanged).
        if _known(self) and _known(other) and not np.any(np.equal(self.value, other.value)):
            return Expr.const(0)
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("a symbolic expression has no truth value")

    def __getitem__(self, index):
        return Expr("func", (self,), name=("index", f"[{_index_text(index)}]"))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        name = ufunc.__name__
        args = [lift(x) for x in inputs]
        arithmetic = {"add": "__add__", "subtract": "__sub__", "multiply": "__mul__",
                      "true_divide": "__truediv__", "divide": "__truediv__",
                      "power": "__pow__", "matmul": "__matmul__"}
        if name in arithmetic:
            return getattr(args[0], arithmetic[name])(args[1])
        if name == "negative":
            return -args[0]
        if name == "equal":
            return args[0] == args[1]
        if name in _COMPARISONS:
            return Expr("cmp", args, name=_COMPARISONS[name])
        return Expr("func", args, name=_function_name(ufunc))

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        exprs = [lift(a) for a in args if isinstance(a, (Expr, numbers.Number))]
        if name in ("broadcast_to", "reshape", "astype", "asarray") and exprs:
            return exprs[0]                  # shape plumbing: same values, so same notation
        if name in ("transpose", "sum") and exprs and isinstance(args[0], Expr):
            return Expr("func", exprs[:1], name=(name, rf"\operatorname{{{name}}}"))
        # Anything else (concatenate, zeros, ...) has no faithful notation here: the
        # trace falls back to writing the partial derivatives as symbols.
        return NotImplemented

    # -- printing ----------------------------------------------------------------------
    def render(self, style="text", values=None, digits=4):
        """``style`` is 'text', 'html' or 'latex'; with ``values`` (Expr -> number by id),
        symbols are replaced by their numbers (the 'substituted' column of a table)."""
        return _render(self, style, values, digits)[0]

    def __str__(self):
        return self.render("text")

    __repr__ = __str__


def _function_name(ufunc):
    """How a numpy function met inside a rule is written: as the primitive whose forward it
    is (np.log is written ln), else under its own name."""
    for prim in PRIMITIVES.values():
        if prim.forward is ufunc and isinstance(prim.notation, tuple):
            return prim.notation
    name = ufunc.__name__
    return _HELPER_NAMES.get(name, (name, rf"\operatorname{{{name}}}"))


def _known(e):
    return e.kind in ("sym", "const") and e.value is not None


def lift(x):
    if isinstance(x, Expr):
        return x
    if hasattr(x, "_data"):          # a Tensor constant
        x = x._data
    return Expr.const(x)


def _index_text(index):
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            parts.append(text + (f":{i.step}" if i.step is not None else ""))
        elif i is Ellipsis:
            parts.append("...")
        elif i is None:
            parts.append("None")
        else:
            parts.append(format_number(i) if np.ndim(i) == 0 else "…")
    return ", ".join(parts)


def _wrap(text, style):
    return rf"\left({text}\right)" if style == "latex" else f"({text})"


def _render(e, style, values, digits):
    """Return (string, precedence)."""
    kind = e.kind
    minus = {"text": "−", "html": "&minus;", "latex": "-"}[style]
    if kind == "sym":
        if values is not None and id(e) in values:
            s = format_number(values[id(e)], digits)
            if style == "latex":
                s = _latex_number(s)
            return (s, 9) if not s.startswith("-") else (s.replace("-", minus, 1), 2)
        return getattr(e.symbol, style), 9
    if kind == "const":
        s = format_number(e.value, digits)
        if style == "latex":
            s = _latex_number(s)
        if s.startswith("-"):
            return s.replace("-", minus, 1), 2
        return s, 9
    prec = _PRECEDENCE[kind]

    def sub(x, min_prec, strict=False):
        s, p = _render(x, style, values, digits)
        if p < min_prec or (strict and p == min_prec):
            return _wrap(s, style)
        return s

    if kind == "add":
        return f"{sub(e.args[0], 1)} + {sub(e.args[1], 1)}", prec
    if kind == "sub":
        return f"{sub(e.args[0], 1)} {minus} {sub(e.args[1], 1, strict=True)}", prec
    if kind == "neg":
        return f"{minus}{sub(e.args[0], 3)}", prec
    if kind == "mul":
        factors = _flatten_mul(e)
        consts = [f for f in factors if f.kind == "const"]
        rest = [f for f in factors if f.kind != "const"]
        parts = [sub(f, 3) for f in consts + rest]
        joiner = {"text": " ", "html": " ", "latex": r" \, "}[style]
        numeric = values is not None or len(consts) > 1 or e.name == "times"
        if numeric:
            joiner = {"text": " × ", "html": " &times; ", "latex": r" \times "}[style]
        return joiner.join(parts), prec
    if kind == "div":
        if style == "latex":
            return rf"\frac{{{sub(e.args[0], 0)}}}{{{sub(e.args[1], 0)}}}", 9
        return f"{sub(e.args[0], 3)} / {sub(e.args[1], 3, strict=True)}", prec
    if kind == "pow":
        base = sub(e.args[0], 6)
        exponent = _render(e.args[1], style, values, digits)[0]
        if style == "latex":
            return f"{{{base}}}^{{{exponent}}}", prec
        if style == "html":
            return f"{base}<sup>{exponent}</sup>", prec
        if e.args[1].kind not in ("const", "sym"):
            exponent = f"({exponent})"
        return f"{base}^{exponent}", prec
    if kind == "matmul":
        op = {"text": " @ ", "html": " @ ", "latex": r" \cdot "}[style]
        return op.join(sub(a, 4) for a in e.args), prec
    if kind == "cmp":
        op = e.name[1] if style == "latex" else e.name[0]
        inner = f" {op} ".join(sub(a, 1) for a in e.args)
        return (rf"\left[{inner}\right]" if style == "latex" else f"[{inner}]"), 9
    if kind == "func":
        text_name, latex_name = e.name
        if text_name == "index":
            return f"{sub(e.args[0], 9)}{latex_name}", 9
        args = ", ".join(_render(a, style, values, digits)[0] for a in e.args)
        if style == "latex":
            if latex_name == r"\sqrt":
                return rf"\sqrt{{{args}}}", 9
            return rf"{latex_name}\left({args}\right)", 9
        return f"{text_name}({args})", 9
    raise ValueError(f"unknown expression kind {kind!r}")


def _flatten_mul(e):
    if e.kind == "mul":
        return _flatten_mul(e.args[0]) + _flatten_mul(e.args[1])
    return [e]
