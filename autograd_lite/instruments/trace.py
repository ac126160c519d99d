"""Evaluation traces (Wengert lists): record a function once, then sweep it forward or back.

``trace(f, *inputs)`` runs ``f`` on fresh tensors under the library's observer hook and
records every primitive applied to a traced value: only the branch that actually ran
appears. The forward (tangent) and reverse (adjoint) sweeps then call each primitive's
JVP and VJP rules from ``primitives.py``, once on numbers (the values) and once on
symbols (the expressions written in the table), so the rows are generated, not typed.

Naming follows Griewank and Walther / Baydin et al.: inputs v_{1-n} ... v_0, intermediates
v_1 ... v_l, outputs y (y_1 ... y_m when f returns several tensors).
"""
import numpy as np

from .._state import observing
from ..tensor import Tensor
from .expr import OPERATORS, Expr, Symbol, lift
from .tables import Equation, Number, Substituted, Text, TraceTable, plain


class Var:
    """One row of the trace: an input or the result of one primitive application."""

    __slots__ = ("index", "value", "prim", "args", "params", "symbol", "dot", "bar",
                 "input_name", "tensor")

    def __init__(self, index, value, prim=None, args=(), params=None, tensor=None):
        self.index, self.value, self.prim, self.args = index, value, prim, tuple(args)
        self.params = params or {}
        self.symbol = Symbol("v", index)
        self.dot = Symbol("v", index, "dot")
        self.bar = Symbol("v", index, "bar")
        self.input_name = None
        self.tensor = tensor

    @property
    def name(self):
        return self.symbol.text

    @property
    def is_input(self):
        return self.prim is None

    def __repr__(self):
        return f"<trace value {self.name} = {plain(self.value)!r}>"


def _as_input_tensor(x, position):
    if isinstance(x, Tensor):
        data = x._data
    else:
        data = np.asarray(x)
    data = np.asarray(data)
    if data.dtype.kind in "iub":
        data = data.astype(np.float64)
    if data.dtype.kind not in "fc":
        raise TypeError(f"trace: input {position + 1} is not numeric (got {type(x).__name__}); "
                        f"pass numbers, arrays or tensors")
    # A leaf that requires grad: then `y += 1` inside f is recorded out of place (as the
    # library records it on graph tensors) instead of silently rewriting a traced value.
    return Tensor(np.array(data), requires_grad=data.dtype.kind == "f")


def _param_text(params):
    shown = {k: v for k, v in params.items() if v is not None and v is not False}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def _primal_expr(var, arg_exprs):
    """The row's defining expression, written as the primitive's ``notation`` in the rule
    table says (notation only, no derivatives)."""
    prim, args = var.prim, [lift(a) for a in arg_exprs]
    notation = prim.notation
    if notation == "[]":
        return args[0][var.params["index"]]
    if notation == "−" and len(args) == 1:
        return Expr("neg", args)
    if notation in OPERATORS and len(args) == 2:
        kind = OPERATORS[notation]
        # a product of numbers and symbols is spelled out with ×: 2 × v_0, not 2 v_0
        return Expr(kind, args, name="times" if kind == "mul" else None)
    if isinstance(notation, tuple):
        leading = [Expr.const(var.params[p]) for p in prim.params if p in var.params]
        return Expr("func", leading + args, name=notation)
    extra = _param_text(var.params)
    label = f"{prim.name}[{extra}]" if extra else prim.name
    return Expr("func", args, name=(label, rf"\operatorname{{{prim.name}}}"))


def trace(f, *inputs):
    """Run ``f(*inputs)`` once and record its evaluation trace.

    ``f`` must be built from the library's operations (``ag.log``, ``*``, ...). Python
    control flow is fine: the trace holds the operations that ran for these inputs.
    """
    if not callable(f):
        raise TypeError(f"trace: the first argument must be the function to trace, got "
                        f"{type(f).__name__}; write ag.trace(f, 2.0, 5.0)")
    if not inputs:
        raise TypeError("trace: give the input values after the function, e.g. ag.trace(f, 2.0, 5.0)")
    n = len(inputs)
    leaves = [_as_input_tensor(x, i) for i, x in enumerate(inputs)]
    variables, by_id = [], {}
    for i, leaf in enumerate(leaves):
        var = Var(i + 1 - n, leaf._data, tensor=leaf)
        var.input_name = Symbol("x", i + 1) if n > 1 else Symbol("x")
        variables.append(var)
        by_id[id(leaf)] = var

    def record(prim, args, output, params):
        traced = [by_id.get(id(a)) if isinstance(a, Tensor) else None for a in args]
        if all(t is None for t in traced):
            return                  # a computation on constants only: not part of the trace
        frozen = []
        for a, t in zip(args, traced):
            if t is not None:
                frozen.append(t)
            elif isinstance(a, Tensor):
                frozen.append(_Constant(np.array(a._data, copy=True)))
            else:
                frozen.append(_Constant(a))
        value = np.array(output._data, copy=True)      # a snapshot, safe from later writes
        var = Var(len(variables) - n + 1, value, prim, frozen, dict(params), tensor=output)
        variables.append(var)
        by_id[id(output)] = var

    with observing(record):
        out = f(*leaves)
    return Trace(f, variables, n, out)


class _Constant:
    """A value that enters the trace from outside (a literal, a constant tensor)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def expr(self):
        v = self.value
        if np.ndim(v) == 0:
            return float(v) if np.asarray(v).dtype.kind == "f" else v
        return Expr.const(np.asarray(v))


class Trace:
    """The recorded evaluation of one call. See ``primal_table``, ``forward``, ``reverse``."""

    def __init__(self, f, variables, n_inputs, output):
        self.function = f
        self.variables = variables
        self.inputs = variables[:n_inputs]
        self.operations = variables[n_inputs:]
        self._by_tensor = {id(v.tensor): v for v in variables}
        outs = output if isinstance(output, (tuple, list)) else (output,)
        self.multiple_outputs = isinstance(output, (tuple, list))
        self.outputs = []          # (Symbol y, Var or _Constant)
        for j, o in enumerate(outs):
            symbol_args = ("y", j + 1) if self.multiple_outputs else ("y",)
            if isinstance(o, Tensor) and id(o) in self._by_tensor:
                source = self._by_tensor[id(o)]
            elif isinstance(o, Tensor):
                source = _Constant(o._data)
            elif isinstance(o, (int, float, complex, np.number, np.ndarray)):
                source = _Constant(np.asarray(o))
            else:
                raise TypeError(f"trace: f returned {type(o).__name__}; it must return an "
                                f"autograd_lite Tensor (or a tuple of them)")
            self.outputs.append((Symbol(*symbol_args), Symbol(*symbol_args, accent="dot") if
                                 len(symbol_args) == 2 else Symbol("y", accent="dot"),
                                 Symbol(*symbol_args, accent="bar") if len(symbol_args) == 2
                                 else Symbol("y", accent="bar"), source))
        self.last_forward = None
        self.last_reverse = None
        self._used = self._reaching_outputs()

    # -- basic facts ---------------------------------------------------------------
    @property
    def value(self):
        """The output value(s) as plain numbers/arrays."""
        values = tuple(plain(src.value) for *_, src in self.outputs)
        return values if self.multiple_outputs else values[0]

    @property
    def size(self):
        """Number of elementary operations recorded (the trace's length l)."""
        return len(self.operations)

    def __len__(self):
        return len(self.variables)

    def __repr__(self):
        return (f"<Trace of {getattr(self.function, '__name__', 'f')}: {len(self.inputs)} inputs, "
                f"{self.size} operations, value {_fmt_values(self.value)}>")

    def _repr_html_(self):
        return self.primal_table()._repr_html_()

    def _reaching_outputs(self):
        used = set()
        stack = [src for *_, src in self.outputs if isinstance(src, Var)]
        while stack:
            v = stack.pop()
            if id(v) in used:
                continue
            used.add(id(v))
            stack.extend(a for a in v.args if isinstance(a, Var))
        return used

    def reaches_output(self, var):
        return id(var) in self._used

    # -- expressions -----------------------------------------------------------------
    @staticmethod
    def _sym(var, values):
        e = Expr.sym(var.symbol, value=var.value)
        values[id(e)] = var.value
        return e

    def _arg_exprs(self, var, values):
        return [self._sym(a, values) if isinstance(a, Var) else a.expr() for a in var.args]

    def primal_expression(self, var):
        if var.is_input:
            return Expr.sym(var.input_name)
        return _primal_expr(var, self._arg_exprs(var, {}))

    @staticmethod
    def _arg_values(var):
        return [a.value for a in var.args]

    # -- the primal trace --------------------------------------------------------------
    def _primal_part(self, var):
        return {"name": var.name, "expression": self.primal_expression(var).render("text"),
                "value": plain(var.value),
                "kind": "input" if var.is_input else "intermediate",
                "primitive": None if var.is_input else var.prim.name}

    def _output_rhs(self, src):
        return Expr.sym(src.symbol) if isinstance(src, Var) else lift(src.value)

    def primal_table(self, digits=4):
        """The forward primal trace: one row per input, operation and output."""
        cells, rows = [], []
        for var in self.variables:
            rows.append(self._primal_part(var))
            cells.append([Equation(var.symbol, self.primal_expression(var)), Number(var.value)])
        for y, _, _, src in self.outputs:
            rhs = self._output_rhs(src)
            rows.append({"name": y.text, "expression": rhs.render("text"),
                         "value": plain(src.value), "kind": "output", "primitive": None})
            cells.append([Equation(y, rhs), Number(src.value)])
        headers = [("Forward primal trace", "Forward primal trace", r"Forward primal trace"),
                   ("Value", "Value", "Value")]
        return TraceTable("Forward primal trace", headers, cells, rows, result=self.value,
                          digits=digits)

    # -- the forward (tangent) sweep ----------------------------------------------------
    def _seed(self, seed):
        if seed is None:
            if len(self.inputs) == 1 and np.size(self.inputs[0].value) == 1:
                seed = (1.0,)
            elif all(np.size(v.value) == 1 for v in self.inputs):
                seed = (1.0,) + (0.0,) * (len(self.inputs) - 1)
            else:
                raise ValueError("forward: give seed=(...), one tangent per input with the "
                                 "input's shape (the direction to differentiate in)")
        if not isinstance(seed, (tuple, list)):
            if len(self.inputs) != 1:
                raise ValueError(f"forward: seed must be a tuple with one tangent per input "
                                 f"({len(self.inputs)} inputs)")
            seed = (seed,)
        if len(seed) != len(self.inputs):
            raise ValueError(f"forward: got {len(seed)} seed values for {len(self.inputs)} "
                             f"inputs; give one tangent per input, e.g. seed=(1, 0)")
        out = []
        for s, var in zip(seed, self.inputs):
            s = np.asarray(s._data if isinstance(s, Tensor) else s, dtype=np.result_type(var.value, float))
            if s.shape != np.shape(var.value):
                if s.size == 1:
                    s = np.broadcast_to(s, np.shape(var.value)).copy()
                else:
                    raise ValueError(f"forward: the seed of {var.name} has shape {s.shape} but "
                                     f"the input has shape {np.shape(var.value)}")
            out.append(s.reshape(np.shape(var.value)))
        return out

    def _tangent_of(self, var, tangents):
        """Run the primitive's JVP rules: numbers for the value, symbols for the row."""
        prim, values = var.prim, self._arg_values(var)
        total, expr = None, None
        subst = {}
        arg_exprs = self._arg_exprs(var, subst)
        out_expr = Expr.sym(var.symbol, value=var.value)
        subst[id(out_expr)] = var.value
        symbolic_ok = True
        for j, arg in enumerate(var.args):
            if not isinstance(arg, Var):
                continue
            rule = prim.jvp_rule(j)
            if rule is None:
                continue
            contribution = rule(tangents[id(arg)], var.value, *values, **var.params)
            total = contribution if total is None else total + contribution
            t_expr = Expr.sym(arg.dot, value=tangents[id(arg)])
            subst[id(t_expr)] = tangents[id(arg)]
            try:
                term = lift(rule(t_expr, out_expr, *arg_exprs, **var.params))
            except Exception:
                symbolic_ok = False
                term = None
            if term is not None:
                expr = term if expr is None else expr + term
        if not symbolic_ok or expr is None:
            expr = self._generic_tangent(var)
            subst = None
        if total is None:
            total = np.zeros_like(np.asarray(var.value, dtype=float))
        if np.shape(total) != np.shape(var.value):
            total = np.broadcast_to(total, np.shape(var.value))
        return np.asarray(total), expr, subst

    def _generic_tangent(self, var):
        expr = None
        for arg in var.args:
            if isinstance(arg, Var):
                partial = Symbol.raw(f"∂{var.name}/∂{arg.name}",
                                     f"&part;{var.symbol.html}/&part;{arg.symbol.html}",
                                     rf"\frac{{\partial {var.symbol.latex}}}{{\partial {arg.symbol.latex}}}")
                term = Expr("mul", (Expr.sym(partial), Expr.sym(arg.dot)))
                expr = term if expr is None else expr + term
        return expr

    def forward(self, seed=None, digits=4, numbers=False):
        """Forward mode: primal and tangent columns side by side.

        ``seed`` holds one tangent per input (ẋ); ``.result`` is the directional derivative
        ẏ (a tuple when f returns several tensors). ``numbers=True`` adds a column with the
        tangent expression evaluated step by step.
        """
        seeds = self._seed(seed)
        tangents, cells, rows = {}, [], []
        for var, s in zip(self.inputs, seeds):
            tangents[id(var)] = s
            x_dot = Expr.sym(_dot_of(var.input_name))
            rows.append(dict(self._primal_part(var), tangent_name=var.dot.text,
                             tangent_expression=x_dot.render("text"), tangent=plain(s)))
            cells.append([Equation(var.symbol, self.primal_expression(var)), Number(var.value),
                          Equation(var.dot, x_dot), Number(s)] + ([Text("")] if numbers else []))
        for var in self.operations:
            value, expr, subst = self._tangent_of(var, tangents)
            tangents[id(var)] = value
            rows.append(dict(self._primal_part(var), tangent_name=var.dot.text,
                             tangent_expression=expr.render("text"), tangent=plain(value)))
            row = [Equation(var.symbol, self.primal_expression(var)), Number(var.value),
                   Equation(var.dot, expr), Number(value)]
            if numbers:
                row.append(Substituted(expr if subst is not None else None, subst))
            cells.append(row)
        results = []
        for y, y_dot, _, src in self.outputs:
            t = tangents[id(src)] if isinstance(src, Var) else np.zeros_like(np.asarray(src.value, dtype=float))
            results.append(plain(t))
            rhs = self._output_rhs(src)
            t_rhs = Expr.sym(src.dot) if isinstance(src, Var) else Expr.const(0)
            rows.append({"name": y.text, "expression": rhs.render("text"), "value": plain(src.value),
                         "kind": "output", "primitive": None, "tangent_name": y_dot.text,
                         "tangent_expression": t_rhs.render("text"), "tangent": plain(t)})
            cells.append([Equation(y, rhs), Number(src.value), Equation(y_dot, t_rhs), Number(t)]
                         + ([Text("")] if numbers else []))
        result = tuple(results) if self.multiple_outputs else results[0]
        headers = [("Forward primal trace",) * 3, ("Value",) * 3,
                   ("Forward tangent trace",) * 3, ("Tangent",) * 3]
        if numbers:
            headers.append(("With numbers",) * 3)
        seed_text = ", ".join(f"{_dot_of(v.input_name).text} = {_fmt(s)}" for v, s in zip(self.inputs, seeds))
        table = TraceTable(f"Forward mode ({seed_text})", headers, cells, rows, result=result,
                           digits=digits)
        table.seed = tuple(plain(s) for s in seeds)
        table.tangents = {v.name: plain(tangents[id(v)]) for v in self.variables}
        self.last_forward = table
        return table

    # -- the reverse (adjoint) sweep ---------------------------------------------------
    def _output_seed(self, seed):
        srcs = [src for *_, src in self.outputs]
        if seed is None:
            if len(srcs) == 1 and np.size(srcs[0].value) == 1:
                seed = (1.0,)
            else:
                raise ValueError("reverse: the output is not a single number; give seed=ȳ "
                                 "(an array of the output's shape, or a tuple for several outputs)")
        if not isinstance(seed, (tuple, list)) or (not self.multiple_outputs and len(srcs) == 1
                                                   and np.ndim(seed) > 0 and np.size(seed) != len(srcs)):
            seed = (seed,)
        if len(seed) != len(srcs):
            raise ValueError(f"reverse: got {len(seed)} seeds for {len(srcs)} outputs")
        out = []
        for s, src in zip(seed, srcs):
            s = np.asarray(s._data if isinstance(s, Tensor) else s, dtype=float)
            if s.shape != np.shape(src.value):
                if s.size == 1:
                    s = np.broadcast_to(s, np.shape(src.value)).copy()
                else:
                    raise ValueError(f"reverse: a seed has shape {s.shape} but its output has "
                                     f"shape {np.shape(src.value)}")
            out.append(s)
        return out

    def _adjoint_steps(self, seeds):
        """The reverse sweep as a list of steps, in the order it runs."""
        from .. import primitives as P
        adjoints, steps = {}, []
        for (y, _, y_bar, src), s in zip(self.outputs, seeds):
            if not isinstance(src, Var):
                continue
            before = adjoints.get(id(src))
            adjoints[id(src)] = s if before is None else before + s
            rhs = Expr.sym(y_bar)
            if before is not None:
                rhs = Expr.sym(src.bar) + rhs
            steps.append({"target": src, "source": None, "expr": rhs, "subst": None,
                          "contribution": s, "adjoint": adjoints[id(src)],
                          "accumulated": before is not None})
        for var in reversed(self.operations):
            g = adjoints.get(id(var))
            if g is None:
                continue            # does not reach an output: nothing flows back
            prim, values = var.prim, self._arg_values(var)
            for j, arg in enumerate(var.args):
                if not isinstance(arg, Var):
                    continue
                rule = prim.vjp_rule(j)
                contribution = np.asarray(rule(g, var.value, *values, **var.params))
                if contribution.shape != np.shape(arg.value):
                    contribution = np.asarray(P.sum_to(contribution, shape=np.shape(arg.value)))
                subst = {}
                arg_exprs = self._arg_exprs(var, subst)
                out_expr = Expr.sym(var.symbol, value=var.value)
                subst[id(out_expr)] = var.value
                g_expr = Expr.sym(var.bar, value=g)
                subst[id(g_expr)] = g
                try:
                    term = lift(rule(g_expr, out_expr, *arg_exprs, **var.params))
                except Exception:
                    partial = Symbol.raw(f"∂{var.name}/∂{arg.name}",
                                         f"&part;{var.symbol.html}/&part;{arg.symbol.html}",
                                         rf"\frac{{\partial {var.symbol.latex}}}{{\partial {arg.symbol.latex}}}")
                    term, subst = Expr("mul", (Expr.sym(var.bar), Expr.sym(partial))), None
                before = adjoints.get(id(arg))
                if before is None:
                    adjoints[id(arg)] = contribution
                    rhs = term
                else:
                    adjoints[id(arg)] = before + contribution
                    previous = Expr.sym(arg.bar, value=before)
                    if subst is not None:
                        subst[id(previous)] = before
                    rhs = previous + term
                steps.append({"target": arg, "source": var, "expr": rhs, "subst": subst,
                              "contribution": contribution, "adjoint": adjoints[id(arg)],
                              "accumulated": before is not None})
        return steps, adjoints

    def reverse(self, seed=None, digits=4, numbers=False):
        """Reverse mode: the primal sweep, then the adjoint sweep in the order it runs.

        Each reverse row adds one contribution to one adjoint; a value used by several
        operations gets several rows (``v̄_0 = v̄_0 + ...``). ``.result`` is the tuple of the
        inputs' adjoints x̄ (for the seed ȳ, 1 by default).
        """
        seeds = self._output_seed(seed)
        steps, adjoints = self._adjoint_steps(seeds)
        cells, rows = [], []
        width = 5 if numbers else 4
        for var in self.variables:
            rows.append(dict(self._primal_part(var), phase="forward", adjoint_name=None,
                             adjoint_expression=None, adjoint=None))
            cells.append([Equation(var.symbol, self.primal_expression(var)), Number(var.value),
                          Text(""), Text("")] + ([Text("")] if numbers else []))
        for (y, _, y_bar, src), s in zip(self.outputs, seeds):
            rhs = self._output_rhs(src)
            rows.append({"name": y.text, "expression": rhs.render("text"), "value": plain(src.value),
                         "kind": "output", "primitive": None, "phase": "forward",
                         "adjoint_name": y_bar.text, "adjoint_expression": None, "adjoint": plain(s)})
            cells.append([Equation(y, rhs), Number(src.value), Equation(y_bar), Number(s)]
                         + ([Text("")] if numbers else []))
        for step in steps:
            target = step["target"]
            rows.append(dict(self._primal_part(target), phase="reverse",
                             adjoint_name=target.bar.text,
                             adjoint_expression=step["expr"].render("text"),
                             adjoint=plain(step["adjoint"]), contribution=plain(step["contribution"]),
                             accumulated=step["accumulated"],
                             source=None if step["source"] is None else step["source"].name))
            row = [Text(""), Text(""), Equation(target.bar, step["expr"]), Number(step["adjoint"])]
            if numbers:
                row.append(Substituted(step["expr"] if step["subst"] is not None else None,
                                       step["subst"]))
            cells.append(row)
        results = []
        for var in self.inputs:
            a = adjoints.get(id(var))
            if a is None:
                a = np.zeros_like(np.asarray(var.value, dtype=float))
            results.append(plain(a))
            x_bar = _bar_of(var.input_name)
            rows.append(dict(self._primal_part(var), phase="result", adjoint_name=x_bar.text,
                             adjoint_expression=var.bar.text, adjoint=plain(a)))
            cells.append([Text(""), Text(""), Equation(x_bar, Expr.sym(var.bar)), Number(a)]
                         + ([Text("")] if numbers else []))
        headers = [("Forward primal trace",) * 3, ("Value",) * 3,
                   ("Reverse adjoint trace",) * 3, ("Adjoint",) * 3]
        if numbers:
            headers.append(("With numbers",) * 3)
        assert all(len(c) == width for c in cells)
        seed_text = ", ".join(f"{y_bar.text} = {_fmt(s)}" for (_, _, y_bar, _), s in zip(self.outputs, seeds))
        table = TraceTable(f"Reverse mode ({seed_text})", headers, cells, rows,
                           result=tuple(results), digits=digits)
        table.seed = tuple(plain(s) for s in seeds)
        table.adjoints = {v.name: plain(adjoints[id(v)]) for v in self.variables if id(v) in adjoints}
        table.steps = steps
        self.last_reverse = table
        return table

    # -- pictures ------------------------------------------------------------------------
    def draw(self, **options):
        from .graph import draw_graph
        return draw_graph(self, **options)

    def steps(self, mode="forward", seed=None, **options):
        """One drawing per step of the sweep (for a slider): see ``graph.sweep_frames``."""
        from .graph import sweep_frames
        return sweep_frames(self, mode, seed=seed, **options)

    def draw_step(self, k, mode="forward", seed=None, **options):
        """The drawing after step ``k`` (0-based) of the forward or reverse sweep."""
        from .graph import draw_sweep_step
        return draw_sweep_step(self, k, mode, seed=seed, **options)

    def local_partial(self, var, j):
        """∂var/∂(its j-th argument): (Expr, value or None), from the JVP rule with tangent 1."""
        arg = var.args[j]
        rule = var.prim.jvp_rule(j)
        value = None
        if rule is None:
            return None, None
        if np.size(var.value) == 1 and np.size(arg.value) == 1:
            value = plain(rule(np.ones_like(np.asarray(arg.value, dtype=float)), var.value,
                               *self._arg_values(var), **var.params))
        try:
            expr = lift(rule(Expr.const(1), Expr.sym(var.symbol, value=var.value),
                             *self._arg_exprs(var, {}), **var.params))
        except Exception:
            expr = None
        return expr, value


def _dot_of(symbol):
    return _accented(symbol, "dot")


def _bar_of(symbol):
    return _accented(symbol, "bar")


def _accented(symbol, accent):
    text = symbol.text
    if "_" in text:
        base, index = text.split("_", 1)
        return Symbol(base, index.strip("{}"), accent)
    return Symbol(text, None, accent)


def _fmt(value, digits=6):
    from .expr import format_number
    return format_number(value, digits)


def _fmt_values(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return _fmt(value)
