"""The answer key: reference solutions, and the cases (inputs with expected values) they give.

``visible_cases()`` are the examples the released notebook shows; the course build stores
them as data in ``graders/visible_cases.json``, so the public visible checks hold values, not
this code. ``hidden_cases(question, rng)`` draws a hidden test's inputs from ``rng``.

The graph oracle below (``partials``, ``paths``, ``tangents``, ``adjoints``) is written
independently of autograd_lite on purpose: questions 5-7 grade a student's hand-made chain
rule, and an oracle built on the library under study would share its mistakes.
"""
import math
from functools import lru_cache

import numpy as np

import autograd_lite as ag
from graders import families
from graders.graph_values import Graph
from graders.judging import quiet
from graders.plain import to_plain

# -- Q1 and Q8: costs predicted from a few small measurements ------------------------------------
VECTOR_FAMILIES = ["sum_tanh_times_x", "sum_gauss", "sum_sin_times_sum_squares"]
Q2_FAMILIES = ["sum_x_sin", "sum_exp_over_quadratic", "sum_tanh_squared", "sum_cubic"]
FIT_SIZES = (2, 3, 4)        # the sizes a law is read from
PROOF_SIZES = (5, 6, 9)      # the sizes it must then predict exactly


def count(fn, x):
    with quiet():
        return ag.count_ops(fn, ag.tensor(x))


def law(measure):
    """The polynomial of degree at most 2 through ``measure`` at FIT_SIZES, as a function of n.

    Costs counted on arrays are exact polynomials in the size: each primitive call costs one,
    and its result has 1, n or n*n elements. Newton's forward differences keep it in integers.
    The law is checked on PROOF_SIZES before it is used, so an expected value is never a guess.
    """
    y0, y1, y2 = (measure(k) for k in FIT_SIZES)
    first, second = y1 - y0, y2 - 2 * y1 + y0
    base = FIT_SIZES[0]

    def at(n):
        return y0 + first * (n - base) + second * (n - base) * (n - base - 1) // 2

    for k in PROOF_SIZES:
        if at(k) != measure(k):
            raise RuntimeError(f"the cost law read at sizes {FIT_SIZES} misses size {k}")
    return at


def derivative_costs(spec):
    """{metric: law} for the gradient and the Hessian of a vector family: calls and elements."""
    g = families.build(spec)
    points = lambda n: np.linspace(-0.9, 0.9, n)  # noqa: E731 - counts do not depend on values
    costs = {}
    for name, transform in (("grad", ag.grad(g)), ("hessian", ag.hessian(g))):
        # one count per size gives both metrics
        measured = lru_cache(maxsize=None)(lambda n, t=transform: count(t, points(n)))
        costs[f"{name}_calls"] = law(lambda n: measured(n).total)
        costs[f"{name}_elements"] = law(lambda n: measured(n).elements)
    return costs


def predicted_costs(spec, n):
    return {metric: int(at(n)) for metric, at in derivative_costs(spec).items()}


def make_f(n, m, seed=0):
    """The map of question 8, as the notebook's given cell writes it."""
    A = ag.tensor(np.random.default_rng(seed).normal(size=(m, n)))
    return lambda x: ag.tanh(A @ x)


@lru_cache(maxsize=1)      # it has no inputs, and each q8 case asks for it
def jacobian_laws():
    """(calls of jacfwd as a function of n, calls of jacrev as a function of m) for make_f.

    Each is read with the other size held at two values, which must agree: forward mode's
    cost does not depend on m, nor reverse mode's on n, for this map.
    """
    def calls(transform, n, m):
        return count(transform(make_f(n, m)), np.linspace(-1.0, 1.0, n)).total

    laws = []
    for transform, vary in ((ag.jacfwd, "n"), (ag.jacrev, "m")):
        by_other = [law(lambda k: calls(transform, *((k, other) if vary == "n" else (other, k))))
                    for other in (1, 3)]
        if any(by_other[0](k) != by_other[1](k) for k in (1, 7, 50)):
            raise RuntimeError(f"{transform.__name__}'s cost depends on both sizes")
        laws.append(by_other[0])
    return tuple(laws)


def predicted_jacobian_calls(n, m):
    forward, reverse = jacobian_laws()
    return {"jacfwd": int(forward(n)), "jacrev": int(reverse(m))}


def crossover_m(n):
    """The largest m for which jacrev needs fewer calls than jacfwd (0 if there is none)."""
    forward, reverse = jacobian_laws()
    budget = forward(n)
    if reverse(1) >= budget:
        return 0
    lo, hi = 1, 2
    while reverse(hi) < budget:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:           # reverse(lo) < budget <= reverse(hi): reverse grows with m
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if reverse(mid) < budget else (lo, mid)
    return lo


def q1_cases(rng=None):
    if rng is None:
        picks = [("sum_tanh_times_x", 1.0, 50)]
    else:
        picks = [(name, _coefficient(rng), int(rng.integers(10_000, 1_000_000)))
                 for name in VECTOR_FAMILIES]
    return [{"g": {"family": name, "a": a}, "n": n,
             "expected": predicted_costs({"family": name, "a": a}, n)} for name, a, n in picks]


def q8_cases(rng=None):
    if rng is None:
        sizes, crossings = [(2000, 50), (50, 2000)], [16]
    else:
        sizes = [(int(rng.integers(1_000, 1_000_000)), int(rng.integers(1_000, 1_000_000)))
                 for _ in range(3)]
        crossings = [int(rng.integers(20, 100_000)) for _ in range(2)]
    return {"sizes": [{"n": n, "m": m, "expected": predicted_jacobian_calls(n, m)}
                      for n, m in sizes],
            "crossover": [{"n": n, "expected": crossover_m(n)} for n in crossings]}


def _coefficient(rng):
    return 1.0 if rng.random() < 0.3 else float(np.round(rng.uniform(0.5, 2.0), 2))


# -- Q2: backward twice ---------------------------------------------------------------------------
def second_backward_exception(spec, x):
    leaf = ag.tensor(np.array(x, dtype=float), requires_grad=True)
    y = families.build(spec)(leaf)
    y.backward()
    try:
        y.backward()
    except Exception as exc:        # noqa: BLE001 - whatever the library raises is the answer
        return to_plain(exc)
    return None


def accumulated(spec, x, times, rebuild):
    """x.grad after `times` backward passes: through one graph, or through a new graph each
    time (the mistake a check must recognise, with f numbered by call)."""
    f = families.build(dict(spec, call_numbered=True))
    leaf = ag.tensor(np.array(x, dtype=float), requires_grad=True)
    y = f(leaf)
    for _ in range(times):
        if rebuild and leaf.grad is not None:
            y = f(leaf)
        y.backward(retain_graph=True)
    return np.array(leaf.grad.numpy(), dtype=float)


def q2_cases(rng=None):
    if rng is None:
        raw = [({"family": "sum_x_sin", "a": 1.0}, np.array([0.5, 1.0, 2.0]), 2)]
    else:
        raw = []
        for name in Q2_FAMILIES[1:]:
            shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
            raw.append(({"family": name, "a": _coefficient(rng)}, rng.uniform(-1.5, 1.5, size=shape),
                        int(rng.integers(2, 6))))
    with quiet():
        return [{"f": f, "x": x, "times": t, "error": second_backward_exception(f, x),
                 "accumulated": accumulated(f, x, t, rebuild=False),
                 "rebuilt": accumulated(f, x, t, rebuild=True)} for f, x, t in raw]


# -- Q3: control flow ----------------------------------------------------------------------------
def control_factor(a):
    """The k with f_control(a) = k * a, recomputed with numpy."""
    b = 2.0 * np.asarray(a, dtype=float)
    k = 2.0
    while math.sqrt(float((b * b).sum())) < 1000:
        b = b * 2
        k *= 2
    return k if float(b.sum()) > 0 else 100 * k


def q3_cases(rng=None):
    if rng is None:
        inputs = [np.array([0.3, -0.1, 0.4]), np.array([[-1.0, 0.5], [0.2, -0.4]])]
    else:
        inputs = []
        shapes = [(int(rng.integers(2, 7)),), (int(rng.integers(2, 4)), int(rng.integers(2, 5))),
                  (2, int(rng.integers(2, 4)), 2)]
        for shape in shapes:
            for sign in (1.0, -1.0):
                a = rng.normal(size=shape)
                a = a - a.mean() + sign * rng.uniform(0.3, 1.0)      # a clear sign of the sum
                inputs.append(a * 10.0 ** rng.uniform(-3, 3.5))
    cases = []
    for i, a in enumerate(inputs):
        k = control_factor(a)
        with_jacobian = a.ndim == 1 and (rng is not None or i == 0)
        cases.append({"a": a, "branch": "sum(a) > 0" if float(a.sum()) > 0 else "sum(a) < 0",
                      "grad": np.full(a.shape, k),
                      "jacobian": k * np.eye(a.size) if with_jacobian else None})
    return cases


# -- Q4: the derivative of sin -------------------------------------------------------------------
def q4_cases(rng=None):
    if rng is None:
        grids, x0 = [np.linspace(-np.pi, np.pi, 9)], 1.0
    else:
        grids = []
        for _ in range(3):
            lo = rng.uniform(-10, 5)
            grids.append(np.sort(rng.uniform(lo, lo + rng.uniform(0.5, 8), size=int(rng.integers(5, 40)))))
        grids.append(rng.uniform(-3, 3, size=(2, 3)))
        x0 = float(rng.uniform(-3, 3))
    return {"derivative": [{"xs": xs, "expected": np.cos(xs)} for xs in grids], "x0": x0}


# -- Q5-Q7: graphs --------------------------------------------------------------------------------
F_GRAPH = {
    "x": ("input",), "a": ("square", "x"), "b": ("log", "a"), "c": ("sin", "x"),
    "d": ("mul", "b", "c"), "e": ("reciprocal", "x"), "f": ("add", "d", "e"),
}
EXAMPLE_GRAPH = {   # y = sin(3x) exp(x) + x^2: shown in the notebook for questions 6 and 7
    "x": ("input",), "c": ("const", 3.0), "u": ("mul", "c", "x"), "s": ("sin", "u"),
    "e": ("exp", "x"), "p": ("mul", "s", "e"), "q": ("square", "x"), "y": ("add", "p", "q"),
}

# d(op)/d(parent) for each parent; pow's exponent partial only where it is needed and defined
_LOCAL = {
    "neg": lambda u: (-1.0,),
    "square": lambda u: (2.0 * u,),
    "reciprocal": lambda u: (-1.0 / (u * u),),
    "sqrt": lambda u: (0.5 / math.sqrt(u),),
    "exp": lambda u: (math.exp(u),),
    "log": lambda u: (1.0 / u,),
    "sin": lambda u: (math.cos(u),),
    "cos": lambda u: (-math.sin(u),),
    "add": lambda a, b: (1.0, 1.0),
    "sub": lambda a, b: (1.0, -1.0),
    "mul": lambda a, b: (b, a),
    "div": lambda a, b: (1.0 / b, -a / (b * b)),
}


def _pow_partials(a, b, exponent_needed):
    base = b * math.pow(a, b - 1.0)
    return (base, math.pow(a, b) * math.log(a) if exponent_needed else None)


def active(g):
    found = set()
    for n in g.order:
        if n == g.input or any(p in found for p in g.parents(n)):
            found.add(n)
    return found


def partials(g, x):
    """d child / d parent on every edge whose parent depends on x (a parent used twice counts
    twice). NaN where the partial is undefined at x."""
    vals, live, result = g.values(x), active(g), {}
    for n in g.order:
        op = g.spec[n][0]
        if op in ("input", "const"):
            continue
        parents = g.parents(n)
        args = [vals[p] for p in parents]
        try:
            local = _pow_partials(*args, parents[1] in live) if op == "pow" else _LOCAL[op](*args)
        except (ValueError, ZeroDivisionError, OverflowError):
            local = (math.nan,) * len(args)
        for p, d in zip(parents, local):
            if p in live:
                result[(p, n)] = result.get((p, n), 0.0) + float(d)
    return result


def children(g):
    kids = {n: [] for n in g.order}
    for n in g.order:
        for p in g.parents(n):
            if n not in kids[p]:
                kids[p].append(n)
    return kids


def paths(g):
    kids, found = children(g), []

    def walk(path):
        if path[-1] == g.output:
            found.append(list(path))
            return
        for c in kids[path[-1]]:
            walk(path + [c])
    walk([g.input])
    return found


def tangents(g, x):
    d, live, tan = partials(g, x), active(g), {}
    for n in g.order:
        if n in live:
            tan[n] = 1.0 if n == g.input else sum(
                d[(p, n)] * tan[p] for p in dict.fromkeys(g.parents(n)) if p in live)
    return tan


def adjoints(g, x):
    d, live, kids, adj = partials(g, x), active(g), children(g), {}
    for n in reversed(g.order):
        if n in live:
            adj[n] = 1.0 if n == g.output else sum(d[(n, c)] * adj[c] for c in kids[n] if c in live)
    return adj


def _finite_case(g, x):
    values = list(g.values(x).values()) + list(partials(g, x).values()) + \
        list(tangents(g, x).values()) + list(adjoints(g, x).values())
    return all(math.isfinite(v) and abs(v) < 1e6 for v in values)


_UNARY = ["neg", "square", "reciprocal", "sqrt", "exp", "log", "sin", "cos"]
_BINARY = ["add", "sub", "mul", "div", "pow"]


def random_graph(rng, points, size):
    """A graph of `size` operations whose values and derivatives are finite at `points`, in
    which every node leads to the output (so every edge lies on a path)."""
    for _ in range(500):
        nodes = {"x": ("input",)}
        names = ["x"]
        for i in range(size):
            name = f"v{i + 1}"
            if rng.random() < 0.15:
                nodes[name] = ("const", float(rng.choice([0.5, 2.0, 3.0, -1.5])))
            elif rng.random() < 0.5:
                nodes[name] = (str(rng.choice(_UNARY)), str(rng.choice(names[-3:])))
            else:
                op = str(rng.choice(_BINARY))
                first = str(rng.choice(names[-3:]))
                second = str(rng.choice(names))
                if op == "pow":
                    nodes[f"{name}k"] = ("const", float(rng.choice([2.0, 3.0])))
                    names.append(f"{name}k")
                    second = f"{name}k"
                nodes[name] = (op, first, second) if rng.random() < 0.5 or op == "pow" else (op, second, first)
            names.append(name)
        g = _pruned(nodes)
        if g is None or len(paths(g)) < 2:
            continue
        if all(_finite_case(g, x) for x in points):
            return g.as_dict()
    raise RuntimeError("could not draw a well-behaved random graph")


def _pruned(nodes):
    g = Graph(nodes)
    needed = {g.output}
    for n in reversed(g.order):
        if n in needed:
            needed.update(g.parents(n))
    if g.input not in needed:
        return None
    return Graph({n: nodes[n] for n in g.order if n in needed})


def _points(rng, n):
    return [float(rng.choice([-1, 1]) * rng.uniform(0.3, 2.5)) for _ in range(n)]


def graph_cases(rng=None):
    """(name, graph, x) triples: the example graph when visible; f's graph and random graphs
    when hidden."""
    if rng is None:
        return [("y = sin(3x) exp(x) + x^2", EXAMPLE_GRAPH, x) for x in (0.5, -1.2)]
    cases = [("of f", F_GRAPH, x) for x in _points(rng, 3)]
    for size in (5, 7):
        points = _points(rng, 2)
        graph = random_graph(rng, points, size)
        cases += [("drawn at random", graph, x) for x in points]
    return cases


def q5_cases(rng=None):
    if rng is None:
        return {"points": [0.5, 1.5, -2.0]}
    # half of them negative, always: log(x^2) is defined there and 2 log(x) is not
    points = [float(sign * rng.uniform(0.2, 6.0)) for sign in (1, -1, 1, -1, 1, -1)]
    return {"points": [points[i] for i in rng.permutation(len(points))]}


def q6_cases(rng=None):
    out = []
    for name, graph, x in graph_cases(rng):
        g = Graph(graph)
        out.append({"name": name, "graph": graph, "x": x, "partials": partials(g, x),
                    "paths": paths(g), "derivative": tangents(g, x)[g.output]})
    return out


def q7_cases(rng=None):
    out = []
    for name, graph, x in graph_cases(rng):
        g = Graph(graph)
        out.append({"name": name, "graph": graph, "x": x, "tangents": tangents(g, x),
                    "adjoints": adjoints(g, x), "derivative": tangents(g, x)[g.output]})
    return out


# -- all questions --------------------------------------------------------------------------------
def cases(question, rng=None):
    """The cases of a question: the visible ones (rng None) or hidden ones drawn from rng."""
    return {"q1": q1_cases, "q2": q2_cases, "q3": q3_cases, "q4": q4_cases, "q5": q5_cases, "q6": q6_cases,
            "q7": q7_cases, "q8": q8_cases}[question](rng)


QUESTIONS = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]


def visible_cases():
    return {q: cases(q) for q in QUESTIONS}
