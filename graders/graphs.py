"""Dependency graphs as data, for questions 5 to 7.

A graph is a dict, in evaluation order, from a node's name to a tuple ``(operation, *parents)``::

    {"x": ("input",), "c": ("const", 3.0), "u": ("mul", "c", "x"), "y": ("sin", "u")}

Exactly one node is the ``input``; the last node is the output. Each node applies one
elementary operation from ``OPERATIONS`` to earlier nodes (a ``const`` node holds a number).
The checks evaluate a student's graph with their own table, so any correct decomposition
passes.
"""
import math
from math import cos, exp, log, nan, sin, sqrt   # bound now: later patches of math do not reach us

from ._safe import fail, show

# name: (number of parents, value, partial derivatives with respect to each parent)
OPERATIONS = {
    "neg": (1, lambda u: -u, lambda u: (-1.0,)),
    "square": (1, lambda u: u * u, lambda u: (2.0 * u,)),
    "reciprocal": (1, lambda u: 1.0 / u, lambda u: (-1.0 / (u * u),)),
    "sqrt": (1, sqrt, lambda u: (0.5 / sqrt(u),)),
    "exp": (1, exp, lambda u: (exp(u),)),
    "log": (1, log, lambda u: (1.0 / u,)),
    "sin": (1, sin, lambda u: (cos(u),)),
    "cos": (1, cos, lambda u: (-sin(u),)),
    "add": (2, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (2, lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "mul": (2, lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (2, lambda a, b: a / b, lambda a, b: (1.0 / b, -a / (b * b))),
    "pow": (2, lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), a ** b * log(a))),
}
GRAPH_HINT = ("write the graph as a dict like {'x': ('input',), 'u1': ('square', 'x'), ...}, "
              "one elementary operation per node, parents named before their children")


def target(x):
    """The function of questions 5-7: f(x) = log(x^2) sin(x) + 1/x."""
    return log(x * x) * sin(x) + 1.0 / x


def target_derivative(x):
    return 2.0 * sin(x) / x + log(x * x) * cos(x) - 1.0 / (x * x)


class Graph:
    """A validated copy of a student's graph: plain strings and floats only."""

    def __init__(self, nodes, question):
        self.question = question
        if type(nodes) is not dict:
            fail(question, "the graph should be a dict", "a dict from node names to tuples",
                 show(nodes), GRAPH_HINT)
        if not nodes:
            fail(question, "the graph is empty", None, None, GRAPH_HINT)
        self.order, self.spec = [], {}
        for name, entry in list(nodes.items()):
            self._add(name, entry)
        inputs = [n for n in self.order if self.spec[n][0] == "input"]
        if len(inputs) != 1:
            fail(question, "the graph needs exactly one ('input',) node",
                 "1 input node", f"{len(inputs)} input nodes", "the input node stands for x")
        self.input = inputs[0]
        self.output = self.order[-1]
        self.children = {n: [] for n in self.order}
        for n in self.order:
            for p in self.parents(n):
                if n not in self.children[p]:
                    self.children[p].append(n)
        self.active = self._depends_on_input()

    def _add(self, name, entry):
        q = self.question
        if type(name) is not str:
            fail(q, "every node name should be a string", "a str", show(name), GRAPH_HINT)
        if type(entry) is not tuple or not entry or type(entry[0]) is not str:
            fail(q, f"node {name!r} should be a tuple (operation, parent, ...)",
                 "a tuple such as ('sin', 'x')", show(entry), GRAPH_HINT)
        op, args = entry[0], entry[1:]
        if op == "input":
            if args:
                fail(q, f"node {name!r}: the input node has no parents", "('input',)",
                     f"{len(args)} parents", None)
            self.spec[name] = ("input",)
        elif op == "const":
            if len(args) != 1 or type(args[0]) not in (int, float):
                fail(q, f"node {name!r}: a const node holds one number", "('const', 2.0)",
                     show(entry), None)
            self.spec[name] = ("const", float(args[0]))
        elif op in OPERATIONS:
            arity = OPERATIONS[op][0]
            if len(args) != arity:
                fail(q, f"node {name!r}: operation {op!r} takes {arity} parent(s)",
                     f"{arity}", f"{len(args)}", None)
            for p in args:
                if type(p) is not str or p not in self.spec:
                    fail(q, f"node {name!r} uses {show(p)}, which is not a node defined before it",
                         "names of earlier nodes", show(p),
                         "list the nodes in the order they are computed, from x to f")
            self.spec[name] = (op,) + tuple(args)
        else:
            fail(q, f"node {name!r} uses operation {show(op)}, which is not elementary here",
                 "one of " + ", ".join(sorted(OPERATIONS)) + ", input, const", show(op),
                 "split a compound expression into several nodes, one operation each")
        self.order.append(name)

    def parents(self, name):
        op = self.spec[name][0]
        return () if op in ("input", "const") else self.spec[name][1:]

    def _depends_on_input(self):
        active = set()
        for n in self.order:
            if n == self.input or any(p in active for p in self.parents(n)):
                active.add(n)
        return active

    def active_edges(self):
        """(parent, child) pairs along which a derivative flows, in evaluation order."""
        edges = []
        for n in self.order:
            for p in self.parents(n):
                if p in self.active and (p, n) not in edges:
                    edges.append((p, n))
        return edges

    def values(self, x):
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
                except (ValueError, ZeroDivisionError, OverflowError):
                    vals[n] = nan
        return vals

    def partials(self, x):
        """d child / d parent on every active edge (a parent used twice counts twice)."""
        vals = self.values(x)
        result = {}
        for n in self.order:
            op = self.spec[n][0]
            if op in ("input", "const"):
                continue
            args = [vals[p] for p in self.parents(n)]
            try:
                local = OPERATIONS[op][2](*args)
            except (ValueError, ZeroDivisionError, OverflowError):
                local = (nan,) * len(args)
            for p, d in zip(self.parents(n), local):
                if p in self.active:
                    result[(p, n)] = result.get((p, n), 0.0) + float(d)
        return result

    def paths(self):
        """Every path from the input to the output, as lists of node names."""
        found = []

        def walk(path):
            last = path[-1]
            if last == self.output:
                found.append(list(path))
                return
            for c in self.children[last]:
                walk(path + [c])
        walk([self.input])
        return found

    def tangents(self, x):
        d = self.partials(x)
        tan = {}
        for n in self.order:
            if n not in self.active:
                continue
            tan[n] = 1.0 if n == self.input else sum(
                d[(p, n)] * tan[p] for p in dict.fromkeys(self.parents(n)) if p in self.active)
        return tan

    def adjoints(self, x):
        d = self.partials(x)
        adj = {}
        for n in reversed(self.order):
            if n not in self.active:
                continue
            adj[n] = 1.0 if n == self.output else sum(
                d[(n, c)] * adj[c] for c in self.children[n] if c in self.active)
        return adj
