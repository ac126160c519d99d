"""Symbolic differentiation with SymPy, set next to AD to show expression swell.

The function is traced once (so Python control flow is resolved at the given point), each
recorded primitive is rewritten as the SymPy counterpart its rule table entry declares, and SymPy
differentiates the resulting formula. Sizes are counted with ``sympy.count_ops``: the
operations in the expression *tree*, where a repeated subexpression counts every time
it appears, which is exactly what AD avoids by keeping intermediate values.

SymPy is imported only when these functions run.
"""
import numpy as np

from ..primitives import PRIMITIVES
from .counting import count_ops
from .tables import Number, Text, TraceTable
from .trace import Var, trace


def _sympy():
    try:
        import sympy
    except ImportError as exc:       # pragma: no cover - depends on the environment
        raise ImportError("the symbolic comparison needs SymPy: pip install sympy "
                          "(everything else in autograd_lite works without it)") from exc
    return sympy


def _number(sp, value):
    v = np.asarray(value)
    if v.size != 1:
        raise ValueError("symbolic comparison works with scalar values only; this trace uses "
                         f"an array of shape {v.shape}")
    v = v.item()
    if float(v).is_integer():
        return sp.Integer(int(v))
    return sp.Float(v)


def _translate(sp, prim, args, params):
    """The SymPy counterpart of one primitive's forward computation, as the rule table
    declares it (no derivatives here)."""
    counterpart = prim.sympy
    if counterpart is None:
        known = ", ".join(name for name, p in PRIMITIVES.items() if p.sympy is not None)
        raise NotImplementedError(f"symbolic comparison: no SymPy counterpart for the primitive "
                                  f"{prim.name!r}; use scalar functions built from {known}")
    if isinstance(counterpart, str):
        return getattr(sp, counterpart)(*args)
    return counterpart(sp, *args, **params)


def to_sympy(tr, names=None):
    """The output of a Trace as a SymPy expression in symbols x_1 ... x_n (or ``names``)."""
    sp = _sympy()
    n = len(tr.inputs)
    if names is None:
        names = ["x"] if n == 1 else [f"x_{i + 1}" for i in range(n)]
    symbols = [sp.Symbol(s, real=True) for s in names]
    value = {}
    for var, s in zip(tr.inputs, symbols):
        if np.size(var.value) != 1:
            raise ValueError("symbolic comparison works with scalar inputs only")
        value[id(var)] = s
    for var in tr.operations:
        args = [value[id(a)] if isinstance(a, Var) else _number(sp, a.value) for a in var.args]
        value[id(var)] = _translate(sp, var.prim, args, var.params)
    if tr.multiple_outputs:
        raise ValueError("symbolic comparison: f must return one scalar")
    src = tr.outputs[0][3]
    expr = value[id(src)] if isinstance(src, Var) else _number(sp, src.value)
    return expr, symbols


def expression_size(expr):
    """Operations in an expression tree (``sympy.count_ops``)."""
    return int(_sympy().count_ops(expr))


class SymbolicComparison:
    """f, its symbolic derivatives and their sizes, next to the AD trace of f."""

    def __init__(self, f, inputs, simplify=False):
        sp = _sympy()
        self.trace = trace(f, *inputs)
        self.expression, self.symbols = to_sympy(self.trace)
        self.derivatives = tuple(sp.diff(self.expression, s) for s in self.symbols)
        if simplify:
            self.derivatives = tuple(sp.simplify(d) for d in self.derivatives)
        self.expression_size = expression_size(self.expression)
        self.derivative_sizes = tuple(expression_size(d) for d in self.derivatives)
        self.trace_size = self.trace.size
        from ..transforms import grad
        self.gradient_cost = count_ops(grad(f, argnums=tuple(range(len(inputs)))), *inputs)
        point = dict(zip(self.symbols, [float(np.asarray(v.value)) for v in self.trace.inputs]))
        self.symbolic_values = tuple(float(d.evalf(subs=point)) for d in self.derivatives)
        self.ad_values = self.trace.reverse().result

    @property
    def derivative_size(self):
        """All partial derivatives together (the gradient as formulas)."""
        return sum(self.derivative_sizes)

    def table(self, digits=6):
        headers = [("What",) * 3, ("Formula or method",) * 3, ("Operations",) * 3, ("Value",) * 3]
        cells, rows = [], []

        def add(what, formula, size, value):
            rows.append({"name": what, "expression": formula, "value": value, "size": size})
            cells.append([Text(what), Text(formula), Number(size), Number(value)])

        add("f", str(self.expression), self.expression_size, self.trace.value)
        for s, d, size, v in zip(self.symbols, self.derivatives, self.derivative_sizes,
                                 self.symbolic_values):
            add(f"∂f/∂{s} (symbolic)", str(d), size, v)
        add("f (AD trace)", f"{self.trace_size} elementary operations", self.trace_size, None)
        ad = ", ".join(f"{v:.{digits}g}" for v in self.ad_values)
        add("gradient (reverse-mode AD)", f"one forward and one backward sweep: {ad}",
            self.gradient_cost.total, None)
        return TraceTable("Symbolic differentiation against AD", headers, cells, rows,
                          digits=digits)

    def _repr_html_(self):
        return self.table()._repr_html_()

    def __repr__(self):
        return (f"<SymbolicComparison: f has {self.expression_size} ops, its derivative(s) "
                f"{self.derivative_sizes}; AD trace {self.trace_size} ops, gradient "
                f"{self.gradient_cost.total} ops>")


def symbolic_derivative(f, *inputs, simplify=False):
    """Differentiate ``f`` symbolically (SymPy) and compare with AD at ``inputs``.

    >>> c = symbolic_derivative(lambda x: ag.sin(x) * ag.exp(x), 1.0)
    >>> c.derivatives, c.derivative_sizes, c.trace_size, c.gradient_cost.total
    """
    if not callable(f):
        raise TypeError("symbolic_derivative: give the function first, then the point")
    return SymbolicComparison(f, inputs, simplify)


# -- expression swell -------------------------------------------------------------------
def _product(n):
    def f(x):
        p = x
        for k in range(1, n):
            p = p * (x + k)
        return p
    f.__name__ = f"product_{n}"
    return f


def _nested_sin(n):
    from ..functions import sin

    def f(x):
        y = x
        for _ in range(n):
            y = sin(y)
        return y
    f.__name__ = f"nested_sin_{n}"
    return f


def _nested_product(n):
    """x, x·sin x, (x·sin x)·sin(x·sin x), ...: each level multiplies by the sine of itself."""
    from ..functions import sin

    def f(x):
        y = x
        for _ in range(n):
            y = y * sin(y)
        return y
    f.__name__ = f"self_product_{n}"
    return f


FAMILIES = {"product": _product, "nested_sin": _nested_sin, "self_product": _nested_product}


class SwellTable(TraceTable):
    def plot(self, ax=None):
        """Sizes against n on a log scale (matplotlib)."""
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(5, 3.5))
        n = [r["n"] for r in self.rows]
        ax.semilogy(n, [r["expression_ops"] for r in self.rows], "o-", label="f (symbolic)")
        ax.semilogy(n, [r["derivative_ops"] for r in self.rows], "s-", label="f' (symbolic)")
        ax.semilogy(n, [r["gradient_ops"] for r in self.rows], "^-", label="f' (reverse-mode AD)")
        ax.set_xlabel("n")
        ax.set_ylabel("operations")
        ax.legend()
        return ax


def expression_swell(family="product", sizes=range(1, 9), x=0.5):
    """Sizes of f_n and of its symbolic derivative, against AD's cost, for n in ``sizes``.

    ``family`` is "product" (x(x+1)...(x+n-1)), "nested_sin" (sin(sin(...x))),
    "self_product" (y <- y sin y, n times) or a callable ``n -> f_n``. Each row holds
    n, expression_ops, derivative_ops (sympy.diff, unsimplified), trace_ops (AD's primal
    trace) and gradient_ops (measured cost of ag.grad, forward and backward sweeps).
    """
    from ..transforms import grad
    build = FAMILIES.get(family) if isinstance(family, str) else family
    if build is None:
        raise ValueError(f"unknown family {family!r}; use one of {sorted(FAMILIES)} or a "
                         f"function n -> f_n")
    sp = _sympy()
    rows, cells = [], []
    for n in sizes:
        f = build(n)
        tr = trace(f, x)
        expr, (s,) = to_sympy(tr)
        derivative = sp.diff(expr, s)
        row = {"name": f"n = {n}", "n": n, "expression": str(expr),
               "value": tr.value,
               "expression_ops": expression_size(expr),
               "derivative_ops": expression_size(derivative),
               "trace_ops": tr.size,
               "gradient_ops": count_ops(grad(f), x).total}
        rows.append(row)
        cells.append([Number(n), Number(row["expression_ops"]), Number(row["derivative_ops"]),
                      Number(row["trace_ops"]), Number(row["gradient_ops"])])
    headers = [("n",) * 3, ("ops in f (symbolic)",) * 3, ("ops in f' (symbolic)",) * 3,
               ("ops in f's AD trace",) * 3, ("ops for f' by reverse AD",) * 3]
    name = family if isinstance(family, str) else getattr(family, "__name__", "custom")
    return SwellTable(f"Expression swell: {name}", headers, cells, rows)
