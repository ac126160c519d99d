"""Dependency graphs as data (questions 5 to 7): reading one and computing its node values.

A graph is a dict, in evaluation order, from a node's name to a tuple ``(operation, *parents)``::

    {"x": ("input",), "c": ("const", 3.0), "u": ("mul", "c", "x"), "y": ("sin", "u")}

Exactly one node is the ``input``; the last node is the output. Each other node applies one
elementary operation from ``OPERATIONS`` to earlier nodes, or holds a number (``const``).

This module only reads graphs and evaluates them. What the questions ask for (local partials,
paths, tangents, adjoints) is not here: the checks compare a student's answers with values
computed on the instructor's side.

This is a deliberately independent oracle: its operations are written out with ``math``,
and it imports nothing from autograd_lite, least of all the rule table in
``autograd_lite/primitives.py``. Questions 5 to 7 grade a chain rule worked by hand, so a
mistake in the library's table must make the library disagree with the grader, not make
the grader agree with the mistake. The instructor-side partials, tangents and adjoints
(``course/autodiff_instructor/reference.py``) are written the same way.
"""
from math import exp, log, nan, sin, cos, sqrt
# Bound at import: these checks also run in the student's own kernel (Colab, plain nbgrader),
# where student code may patch builtins after the checks were imported.
from builtins import abs, float, int, isinstance, len, repr, str, type  # noqa: A004

# name: (number of parents, value)
OPERATIONS = {
    "neg": (1, lambda u: -u),
    "square": (1, lambda u: u * u),
    "reciprocal": (1, lambda u: 1.0 / u),
    "sqrt": (1, sqrt),
    "exp": (1, exp),
    "log": (1, log),
    "sin": (1, sin),
    "cos": (1, cos),
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / b),
    "pow": (2, lambda a, b: a ** b),
}
HINT = ("write the graph as a dict like {'x': ('input',), 'u1': ('square', 'x'), ...}, "
        "one elementary operation per node, parents named before their children")


def target(x):
    """The function of question 5: f(x) = log(x^2) sin(x) + 1/x."""
    return log(x * x) * sin(x) + 1.0 / x


class GraphError(ValueError):
    """A graph that is not well formed; the message says what to change."""

    def __init__(self, what, expected=None, got=None, hint=HINT):
        super().__init__(what)
        self.what, self.expected, self.got, self.hint = what, expected, got, hint


class Graph:
    """A well-formed graph of plain names and numbers (read from plain data)."""

    def __init__(self, nodes):
        if type(nodes) is not dict:
            raise GraphError("the graph should be a dict", "a dict from node names to tuples",
                             _kind(nodes))
        if not nodes:
            raise GraphError("the graph is empty")
        self.order, self.spec = [], {}
        for name, entry in nodes.items():
            self._add(name, entry)
        inputs = [n for n in self.order if self.spec[n][0] == "input"]
        if len(inputs) != 1:
            raise GraphError("the graph needs exactly one ('input',) node", "1 input node",
                             f"{len(inputs)} input nodes", "the input node stands for x")
        self.input = inputs[0]
        self.output = self.order[-1]

    def _add(self, name, entry):
        if type(name) is not str:
            raise GraphError("every node name should be a string", "a str", _kind(name))
        if type(entry) is not tuple or not entry or type(entry[0]) is not str:
            raise GraphError(f"node {name!r} should be a tuple (operation, parent, ...)",
                             "a tuple such as ('sin', 'x')", _kind(entry))
        op, args = entry[0], entry[1:]
        if op == "input":
            if args:
                raise GraphError(f"node {name!r}: the input node has no parents", "('input',)",
                                 f"{len(args)} parents", None)
            self.spec[name] = ("input",)
        elif op == "const":
            if len(args) != 1 or type(args[0]) not in (int, float):
                raise GraphError(f"node {name!r}: a const node holds one number", "('const', 2.0)",
                                 f"{len(args)} values", None)
            self.spec[name] = ("const", float(args[0]))
        elif op in OPERATIONS:
            arity = OPERATIONS[op][0]
            if len(args) != arity:
                raise GraphError(f"node {name!r}: operation {op!r} takes {arity} parent(s)",
                                 f"{arity}", f"{len(args)}", None)
            for p in args:
                if type(p) is not str or p not in self.spec:
                    raise GraphError(f"node {name!r} uses {p!r}, which is not a node defined "
                                     "before it", "names of earlier nodes", repr(p),
                                     "list the nodes in the order they are computed, from x to f")
            self.spec[name] = (op,) + tuple(args)
        else:
            raise GraphError(f"node {name!r} uses operation {op!r}, which is not elementary here",
                             "one of " + ", ".join(sorted(OPERATIONS)) + ", input, const", repr(op),
                             "split a compound expression into several nodes, one operation each")
        self.order.append(name)

    def parents(self, name):
        op = self.spec[name][0]
        return () if op in ("input", "const") else self.spec[name][1:]

    def as_dict(self):
        """The graph as the plain dict a student's function receives."""
        return {n: self.spec[n] for n in self.order}

    def values(self, x):
        """Every node's value at input x (NaN where an operation is undefined)."""
        vals = {}
        for n in self.order:
            op = self.spec[n][0]
            if op == "input":
                vals[n] = float(x)
            elif op == "const":
                vals[n] = self.spec[n][1]
            else:
                try:
                    vals[n] = float(OPERATIONS[op][1](*[vals[p] for p in self.parents(n)]))
                except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                    vals[n] = nan
        return vals


def _kind(value):
    return f"a {type(value).__name__}"
