"""The checks behind the course notebook's test cells, one visible and one hidden per question.

``qN_visible(...)`` runs on the examples the student sees (and in the self-check cell);
``qN_hidden(..., seed)`` runs at grading time on inputs drawn from ``seed``, which only the
source notebook knows, so an answer hard-coded for the visible examples fails there. Every
check computes its own expected values, reads the student's answer as plain numbers
(``graders._safe``) and raises ``CheckFailed`` with what was expected, what came back and a
hint. A passing check prints one line to stdout and nothing to stderr.
"""
import inspect
import io
import math
from math import sin as _sin, sqrt as _sqrt
import tokenize

import numpy as np

import autograd_lite as ag
from . import graphs
from ._safe import (CheckFailed, fail, show, as_floats, as_float, as_int, plain_str, close,
                    close_number, call, quiet, observed)

_np_cos = np.cos        # captured: the checks' own reference values
_np_sin = np.sin


def _passed(question, what):
    print(f"{question}: {what} passed")


def _rng(seed):
    return np.random.default_rng(int(seed))


# -------------------------------------------------------------------------------------------
# Q2: backward twice
# -------------------------------------------------------------------------------------------
def _q2_functions():
    return [
        ("sum(x * sin(x))", lambda x: ag.sum(x * ag.sin(x))),
        ("sum(exp(x) / (1 + x*x))", lambda x: ag.sum(ag.exp(x) / (1 + x * x))),
        ("sum(tanh(x) ** 2)", lambda x: ag.sum(ag.tanh(x) ** 2)),
        ("sum(x ** 3 - 2 * x)", lambda x: ag.sum(x ** 3 - 2 * x)),
    ]


def _second_backward_exception(f, x):
    leaf = ag.tensor(np.array(x, dtype=float), requires_grad=True)
    y = f(leaf)
    y.backward()
    try:
        y.backward()
    except Exception as exc:        # noqa: BLE001
        return exc
    return None


def _q2_error(q, fn, f, label, x):
    expected = _second_backward_exception(f, x)
    got = call(q, fn, f, np.array(x), what="second_backward_error")
    if not isinstance(got, BaseException):
        fail(q, f"second_backward_error(f, x) for f = {label} should return the exception "
             "object raised by the second backward()",
             f"a {type(expected).__name__} instance", show(got),
             "catch it with try/except ... as err and return err")
    if type(got) is not type(expected) or BaseException.__str__(got) != str(expected):
        fail(q, f"the exception for f = {label} is not the one a second plain backward() raises",
             f"{type(expected).__name__}: {str(expected)[:90]}...",
             f"{type(got).__name__}: {BaseException.__str__(got)[:90]}",
             "build the graph once, call backward() on it, then call backward() on the same "
             "output again, without any arguments")


def _counted(f):
    calls = [0]

    def wrapper(x):
        calls[0] += 1
        return f(x)
    return wrapper, calls


def _backward_ops_of_one_pass(f, x):
    leaf = ag.tensor(np.array(x, dtype=float), requires_grad=True)
    with observed() as obs:
        f(leaf).backward()
    return len(obs.engine)


def _q2_accumulate(q, fn, f, label, x, times):
    leaf = ag.tensor(np.array(x, dtype=float), requires_grad=True)
    f(leaf).backward()
    expected = times * np.array(leaf.grad.numpy(), dtype=float)
    wrapped, calls = _counted(f)
    with observed() as obs:
        got = call(q, fn, wrapped, np.array(x), times, what="accumulated_grad")
    got = as_floats(got, q, f"accumulated_grad(f, x, {times})")
    if got.shape != expected.shape or not close(got, expected):
        fail(q, f"accumulated_grad(f, x, times={times}) for f = {label} at x = {show(np.array(x))}",
             show(expected), show(got),
             "gradients from several backward() calls on one graph add up in x.grad; "
             "do not reset x.grad between the calls")
    if calls[0] != 1:
        fail(q, f"accumulated_grad called f {calls[0]} times", "1 call: one graph, "
             f"{times} backward passes through it", f"{calls[0]} calls",
             "compute y = f(x) once and call y.backward(...) on it repeatedly")
    one_pass = _backward_ops_of_one_pass(f, x)
    if len(obs.engine) < times * one_pass:
        fail(q, f"accumulated_grad(f, x, {times}) did not run {times} backward passes",
             f"at least {times * one_pass} operations inside backward",
             f"{len(obs.engine)}", "the gradient must come from backward(), run times times")


def q2_visible(second_backward_error, accumulated_grad):
    q = "q2"
    label, f = _q2_functions()[0]
    x = np.array([0.5, 1.0, 2.0])
    _q2_error(q, second_backward_error, f, label, x)
    _q2_accumulate(q, accumulated_grad, f, label, x, 2)
    _passed(q, "visible checks (error of a second backward, accumulation over 2 passes)")


def q2_hidden(second_backward_error, accumulated_grad, seed):
    q = "q2 (hidden)"
    rng = _rng(seed)
    for label, f in _q2_functions()[1:]:
        shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
        x = rng.uniform(-1.5, 1.5, size=shape)
        _q2_error(q, second_backward_error, f, label, x)
        _q2_accumulate(q, accumulated_grad, f, label, x, int(rng.integers(2, 6)))
    _passed(q, "hidden checks")


# -------------------------------------------------------------------------------------------
# Q3: control flow with a non-scalar a
# -------------------------------------------------------------------------------------------
def control_factor(a):
    """The k with f(a) = k * a for the control-flow function, recomputed with numpy."""
    b = 2.0 * np.asarray(a, dtype=float)
    k = 2.0
    while _sqrt(float((b * b).sum())) < 1000:
        b = b * 2
        k *= 2
    return k if float(b.sum()) > 0 else 100 * k


def _q3_cases(rng):
    cases = []
    shapes = [(int(rng.integers(2, 7)),), (int(rng.integers(2, 4)), int(rng.integers(2, 5))),
              (2, int(rng.integers(2, 4)), 2)]
    for shape in shapes:
        for sign in (1.0, -1.0):
            a = rng.normal(size=shape)
            a = a - a.mean() + sign * rng.uniform(0.3, 1.0)      # clear sign of the sum
            cases.append(a * 10.0 ** rng.uniform(-3, 3.5))
    return cases


def _branch(a):
    return "sum(a) > 0" if float(np.sum(a)) > 0 else "sum(a) < 0"


def _q3_grad(q, fn, a):
    expected = np.full(a.shape, control_factor(a))
    got = as_floats(call(q, fn, a.copy(), what="control_flow_grad"), q, "control_flow_grad(a)")
    if got.shape != expected.shape:
        fail(q, f"control_flow_grad(a) for a of shape {a.shape} has the wrong shape",
             f"shape {a.shape}", f"shape {got.shape}",
             "the gradient with respect to a has a's shape; backward a non-scalar output with "
             "a gradient argument (or reduce it with .sum() first)")
    if not close(got, expected):
        fail(q, f"control_flow_grad(a) for a of shape {a.shape} with {_branch(a)}",
             show(expected), show(got),
             "f(a) = k * a for a factor k set by the loop and the branch; the gradient of "
             "sum(f(a)) must follow the branch that a actually takes")


def _q3_jacobian(q, fn, a):
    expected = control_factor(a) * np.eye(a.size)
    got = as_floats(call(q, fn, a.copy(), what="control_flow_jacobian"), q,
                    "control_flow_jacobian(a)")
    if got.shape != expected.shape or not close(got, expected):
        fail(q, f"control_flow_jacobian(a) for a vector of length {a.size} with {_branch(a)}",
             show(expected), show(got),
             "the Jacobian of a vector-valued f has one row per output and one column per "
             "input; ag.jacrev or ag.jacfwd compute it")


def q3_visible(control_flow_grad, control_flow_jacobian):
    q = "q3"
    examples = [np.array([0.3, -0.1, 0.4]), np.array([[-1.0, 0.5], [0.2, -0.4]])]
    for a in examples:
        _q3_grad(q, control_flow_grad, a)
    _q3_jacobian(q, control_flow_jacobian, examples[0])
    _passed(q, "visible checks (a vector and a matrix)")


def q3_hidden(control_flow_grad, control_flow_jacobian, seed):
    q = "q3 (hidden)"
    rng = _rng(seed)
    for a in _q3_cases(rng):
        _q3_grad(q, control_flow_grad, a)
        if a.ndim == 1:
            _q3_jacobian(q, control_flow_jacobian, a)
    _passed(q, "hidden checks (random shapes, both branches)")


# -------------------------------------------------------------------------------------------
# Q4: the derivative of sin by AD, and the tangent plot
# -------------------------------------------------------------------------------------------
def _names_in_source(fn):
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return set()
    names = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(inspect.cleandoc(source)).readline):
            if tok.type == tokenize.NAME:
                names.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return names


class _Tripwire:
    def __init__(self):
        self.tripped = False

    def __call__(self, *args, **kwargs):
        self.tripped = True
        raise CheckFailed("q4: cos was called")


def _run_without_cos(q, fn, xs):
    """Run fn with numpy's and math's cos replaced by a tripwire (the library keeps its own)."""
    trip = _Tripwire()
    saved = np.cos, math.cos
    np.cos, math.cos = trip, trip
    try:
        with observed() as obs:
            got = call(q, fn, xs.copy(), what="sin_derivative")
    except CheckFailed:
        if trip.tripped:
            got = None
        else:
            raise
    finally:
        np.cos, math.cos = saved
    return got, obs, trip.tripped


def _q4_derivative(q, fn, xs):
    if "cos" in _names_in_source(fn):
        fail(q, "sin_derivative mentions cos in its code", "no cos anywhere",
             "cos in the source", "the point is to let automatic differentiation find the "
             "derivative of sin: differentiate ag.sin, do not write the answer down")
    got, obs, tripped = _run_without_cos(q, fn, xs)
    if tripped or "cos" in obs.own:
        fail(q, "sin_derivative calls cos itself", "cos only inside the backward pass",
             "a direct call of cos", "compute sin(x) with the library and let backward() (or "
             "ag.grad) differentiate it")
    got = as_floats(got, q, "sin_derivative(xs)")
    expected = _np_cos(xs)
    if got.shape != xs.shape or not close(got, expected, rtol=1e-9, atol=1e-12):
        fail(q, f"sin_derivative on {xs.size} points in [{xs.min():.3g}, {xs.max():.3g}]",
             show(expected), show(got),
             "one value per point, the slope of sin at that point, with the points' shape")
    if "sin" not in obs.own or not obs.engine:
        fail(q, "sin_derivative did not differentiate ag.sin with the library",
             "a forward pass through ag.sin, then a backward (or forward-mode) pass",
             f"operations seen: {sorted(set(obs.own))}, differentiation steps: {len(obs.engine)}",
             "apply ag.sin to a tensor that requires grad and call backward (or use ag.grad)")


def _line_matches(line, func, min_points):
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    return x.size >= min_points and x.shape == y.shape and close(y, func(x), rtol=1e-6, atol=1e-6)


def _q4_plot(q, fn, x0):
    from matplotlib.figure import Figure
    import matplotlib.pyplot as plt
    fig = call(q, fn, x0, what="tangent_plot")
    try:
        if not isinstance(fig, Figure):
            fail(q, "tangent_plot(x0) should return the matplotlib Figure it drew",
                 "a matplotlib Figure", show(fig), "end with `return fig` after fig, ax = "
                 "plt.subplots()")
        lines = [line for ax in fig.axes for line in ax.get_lines()]
        s0, c0 = _sin(x0), float(_np_cos(x0))
        wanted = {
            "sin(x)": (_np_sin, 20),
            "its derivative": (_np_cos, 20),
            f"the tangent at x0 = {x0:.3g}": (lambda x: s0 + c0 * (x - x0), 2),
        }
        for label, (func, n) in wanted.items():
            if not any(_line_matches(line, func, n) for line in lines):
                fail(q, f"tangent_plot({x0:.3g}) has no line for {label}",
                     f"a line ({n} points or more) for {label}",
                     f"{len(lines)} lines that do not match it",
                     "draw each curve with ax.plot(x, y) on the figure you return")
    finally:
        if isinstance(fig, Figure):
            plt.close(fig)


def q4_visible(sin_derivative, tangent_plot):
    q = "q4"
    _q4_derivative(q, sin_derivative, np.linspace(-np.pi, np.pi, 9))
    _q4_plot(q, tangent_plot, 1.0)
    _passed(q, "visible checks (derivative on a grid, the tangent plot)")


def q4_hidden(sin_derivative, tangent_plot, seed):
    q = "q4 (hidden)"
    rng = _rng(seed)
    for _ in range(3):
        n = int(rng.integers(5, 40))
        lo = rng.uniform(-10, 5)
        xs = np.sort(rng.uniform(lo, lo + rng.uniform(0.5, 8), size=n))
        _q4_derivative(q, sin_derivative, xs)
    _q4_derivative(q, sin_derivative, rng.uniform(-3, 3, size=(2, 3)))
    _q4_plot(q, tangent_plot, float(rng.uniform(-3, 3)))
    _passed(q, "hidden checks (random grids, a random tangent point)")


# -------------------------------------------------------------------------------------------
# Q5-Q7: the dependency graph of f(x) = log(x^2) sin(x) + 1/x
# -------------------------------------------------------------------------------------------
def _q5_points(rng, n=4):
    return [float(rng.choice([-1, 1]) * rng.uniform(0.2, 6.0)) for _ in range(n)]


def _graph_computes_f(q, graph, points):
    g = graphs.Graph(graph, q)
    for x in points:
        got = g.values(x)[g.output]
        expected = graphs.target(x)
        if not close_number(got, expected, rtol=1e-9):
            fail(q, f"your graph evaluated at x = {x:.6g} (output node {g.output!r})",
                 f"f(x) = {expected:.10g}", f"{got:.10g}",
                 "follow the formula from the inside out; log(x^2) is defined for negative x "
                 "too, and the output must be the last node")
    return g


def q5_visible(graph):
    q = "q5"
    g = _graph_computes_f(q, graph, [0.5, 1.5, -2.0])
    _passed(q, f"visible checks ({len(g.order)} nodes, output {g.output!r})")


def q5_hidden(graph, seed):
    q = "q5 (hidden)"
    _graph_computes_f(q, graph, _q5_points(_rng(seed), 6))
    _passed(q, "hidden checks")


def _edge_dict(q, value, what):
    if not isinstance(value, dict):
        fail(q, f"{what} should be a dict", "a dict", show(value), None)
    result = {}
    for key, v in list(value.items()):
        if type(key) is not tuple or len(key) != 2 or any(type(k) is not str for k in key):
            fail(q, f"{what}: every key should be a (parent, child) pair of node names",
                 "('x', 'u1')", show(key), None)
        result[(str(key[0]), str(key[1]))] = as_float(v, q, f"{what}[{key!r}]")
    return result


def _node_dict(q, value, what):
    if not isinstance(value, dict):
        fail(q, f"{what} should be a dict from node names to numbers", "a dict", show(value), None)
    result = {}
    for key, v in list(value.items()):
        if type(key) is not str:
            fail(q, f"{what}: keys should be node names (strings)", "a str", show(key), None)
        result[str(key)] = as_float(v, q, f"{what}[{key!r}]")
    return result


def _q6_at(q, g, edge_partials, df_dx, x):
    expected = g.partials(x)
    got = _edge_dict(q, call(q, edge_partials, x, what="edge_partials"), f"edge_partials({x:.6g})")
    missing = [e for e in expected if e not in got]
    extra = [e for e in got if e not in expected]
    if missing or extra:
        fail(q, "edge_partials should have one entry per edge along which x influences f",
             f"edges {sorted(expected)}", f"missing {missing}, unexpected {extra}",
             "an edge joins a node to each node computed from it; edges leaving const nodes "
             "carry no derivative of x")
    for edge, value in expected.items():
        child_op = g.spec[edge[1]][0]
        if not close_number(got[edge], value, rtol=1e-8, atol=1e-10):
            fail(q, f"local partial on edge {edge} ({child_op}) at x = {x:.6g}",
                 f"{value:.10g}", f"{got[edge]:.10g}",
                 f"the local partial is the derivative of {child_op!r} with respect to the "
                 f"parent {edge[0]!r}, at the values the nodes have at this x")
    total = as_float(call(q, df_dx, x, what="df_dx"), q, f"df_dx({x:.6g})")
    want = graphs.target_derivative(x)
    if not close_number(total, want, rtol=1e-8, atol=1e-10):
        fail(q, f"df_dx({x:.6g})", f"{want:.10g}", f"{total:.10g}",
             "df/dx is the sum over all paths from x to f of the product of the local "
             "partials along the path")


def _q6_paths(q, g, paths):
    if not isinstance(paths, (list, tuple)):
        fail(q, "paths should be a list of paths", "a list of lists of node names", show(paths), None)
    got = []
    for p in list(paths):
        if not isinstance(p, (list, tuple)) or any(type(n) is not str for n in p):
            fail(q, "each path should be a list of node names", "['x', ..., 'f']", show(p), None)
        got.append(tuple(str(n) for n in p))
    expected = sorted(tuple(p) for p in g.paths())
    if sorted(got) != expected:
        fail(q, f"paths from {g.input!r} to {g.output!r} in your graph",
             f"{len(expected)} paths: {expected}", f"{len(got)} paths: {sorted(got)}",
             "a path starts at the input, follows edges from parent to child and ends at the "
             "output; list each one once")


def q6_visible(graph, edge_partials, paths, df_dx):
    q = "q6"
    g = _graph_computes_f(q, graph, [0.5, 1.5, -2.0])
    _q6_paths(q, g, paths)
    for x in (1.5, -0.8):
        _q6_at(q, g, edge_partials, df_dx, x)
    _passed(q, "visible checks (paths, local partials and df/dx at 2 points)")


def q6_hidden(graph, edge_partials, paths, df_dx, seed):
    q = "q6 (hidden)"
    points = _q5_points(_rng(seed), 5)
    g = _graph_computes_f(q, graph, points)
    _q6_paths(q, g, paths)
    for x in points:
        _q6_at(q, g, edge_partials, df_dx, x)
    _passed(q, "hidden checks")


def _q7_at(q, g, forward_tangents, backward_adjoints, x):
    want = graphs.target_derivative(x)
    for name, fn, expected_of, end, hint in (
            ("forward_tangents", forward_tangents, g.tangents, g.output,
             "the tangent of a node is d(node)/dx: the sum over its parents of "
             "(local partial) * (tangent of the parent), starting from 1 at x"),
            ("backward_adjoints", backward_adjoints, g.adjoints, g.input,
             "the adjoint of a node is df/d(node): the sum over its children of "
             "(adjoint of the child) * (local partial), starting from 1 at f")):
        expected = expected_of(x)
        got = _node_dict(q, call(q, fn, x, what=name), f"{name}({x:.6g})")
        unknown = [n for n in got if n not in g.spec]
        missing = [n for n in expected if n not in got]
        if missing or unknown:
            fail(q, f"{name} should give a number for every node that depends on x",
                 f"nodes {sorted(expected)}", f"missing {missing}, unknown {unknown}", hint)
        for node, value in expected.items():
            if not close_number(got[node], value, rtol=1e-8, atol=1e-10):
                fail(q, f"{name}({x:.6g})[{node!r}]", f"{value:.10g}", f"{got[node]:.10g}", hint)
        if not close_number(got[end], want, rtol=1e-8, atol=1e-10):
            fail(q, f"{name}({x:.6g})[{end!r}] should be f'(x)", f"{want:.10g}",
                 f"{got[end]:.10g}", hint)


def q7_visible(graph, forward_tangents, backward_adjoints):
    q = "q7"
    g = _graph_computes_f(q, graph, [0.5, 1.5, -2.0])
    for x in (1.5, -0.8):
        _q7_at(q, g, forward_tangents, backward_adjoints, x)
    _passed(q, "visible checks (tangents and adjoints at 2 points)")


def q7_hidden(graph, forward_tangents, backward_adjoints, seed):
    q = "q7 (hidden)"
    points = _q5_points(_rng(seed), 5)
    g = _graph_computes_f(q, graph, points)
    for x in points:
        _q7_at(q, g, forward_tangents, backward_adjoints, x)
    _passed(q, "hidden checks")


# -------------------------------------------------------------------------------------------
# Q1 and Q8: costs measured by counting primitive applications
# -------------------------------------------------------------------------------------------
_count_ops = ag.count_ops       # captured: a later patch of ag.count_ops does not reach the checks


def _count(fn, *args):
    with quiet():
        return int(_count_ops(fn, *args).total)


def _q1_scalar_functions():
    return [
        ("sin(x) * exp(x)", lambda x: ag.sin(x) * ag.exp(x)),
        ("tanh(x) / (1 + x*x)", lambda x: ag.tanh(x) / (1 + x * x)),
        ("log(1 + x*x) * cos(x)", lambda x: ag.log(1 + x * x) * ag.cos(x)),
        ("exp(-x*x) + sin(x)**3", lambda x: ag.exp(-x * x) + ag.sin(x) ** 3),
    ]


def _q1_vector_functions():
    return [
        ("sum(tanh(x) * x)", lambda x: ag.sum(ag.tanh(x) * x)),
        ("sum(exp(-x*x))", lambda x: ag.sum(ag.exp(-x * x))),
        ("sum(sin(x)) * sum(x*x)", lambda x: ag.sum(ag.sin(x)) * ag.sum(x * x)),
    ]


def _check_counts(q, got, expected, what, hint, context=""):
    if not isinstance(got, dict):
        fail(q, f"{what} should return a dict", f"a dict with keys {sorted(expected)}", show(got),
             None)
    got = dict(got)
    for key in expected:
        if key not in got:
            fail(q, f"{what} has no entry {key!r}", f"keys {sorted(expected)}",
                 f"keys {sorted(str(k) for k in got)}", None)
        value = as_int(got[key], q, f"{what}[{key!r}]")
        if value != expected[key]:
            fail(q, f"{what}[{key!r}]{context}", str(expected[key]), str(value), hint)


def _q1_case(q, derivative_counts, f, label, x):
    expected = {"f": _count(f, ag.tensor(x)), "df": _count(ag.grad(f), ag.tensor(x)),
                "d2f": _count(ag.grad(ag.grad(f)), ag.tensor(x))}
    got = call(q, derivative_counts, f, ag.tensor(x), what="derivative_counts")
    _check_counts(q, got, expected, "derivative_counts(f, x)", context=f" for f = {label}", hint=
                  "count each computation with ag.count_ops(function, x).total: f itself, "
                  "ag.grad(f) and ag.grad applied to ag.grad(f)")


def _q1_vector_case(q, gradient_hessian_counts, g, label, x):
    expected = {"grad": _count(ag.grad(g), ag.tensor(x)), "hessian": _count(ag.hessian(g), ag.tensor(x))}
    got = call(q, gradient_hessian_counts, g, ag.tensor(x), what="gradient_hessian_counts")
    _check_counts(q, got, expected, "gradient_hessian_counts(g, x)",
                  context=f" for g = {label}, n = {x.size}", hint=
                  "count ag.grad(g) and ag.hessian(g) at this x with ag.count_ops")


def q1_visible(derivative_counts, gradient_hessian_counts):
    q = "q1"
    label, f = _q1_scalar_functions()[0]
    _q1_case(q, derivative_counts, f, label, 0.7)
    label, g = _q1_vector_functions()[0]
    _q1_vector_case(q, gradient_hessian_counts, g, label, np.linspace(0.1, 1.0, 4))
    _passed(q, "visible checks (f, f', f'' and gradient vs Hessian counts)")


def q1_hidden(derivative_counts, gradient_hessian_counts, seed):
    q = "q1 (hidden)"
    rng = _rng(seed)
    for label, f in _q1_scalar_functions()[1:]:
        _q1_case(q, derivative_counts, f, label, float(rng.uniform(-2, 2)))
    for label, g in _q1_vector_functions():
        n = int(rng.integers(2, 9))
        _q1_vector_case(q, gradient_hessian_counts, g, label, rng.uniform(-1, 1, size=n))
    _passed(q, "hidden checks")


def jacobian_test_function(n, m, seed=0):
    """A function from R^n to R^m: tanh(A x) for a fixed random m-by-n matrix A."""
    A = ag.tensor(np.random.default_rng(seed).normal(size=(m, n)))
    return lambda x: ag.tanh(A @ x)


def _q8_counts(q, jacobian_counts, n, m, seed):
    f = jacobian_test_function(n, m, seed)
    x = np.linspace(-1.0, 1.0, n)
    expected = {"jacfwd": _count(ag.jacfwd(f), ag.tensor(x)),
                "jacrev": _count(ag.jacrev(f), ag.tensor(x))}
    got = call(q, jacobian_counts, f, ag.tensor(x), what="jacobian_counts")
    _check_counts(q, got, expected, "jacobian_counts(f, x)", context=f" for f: R^{n} -> R^{m}", hint=
                  "count ag.jacfwd(f) and ag.jacrev(f) at x with ag.count_ops")
    return expected


def _q8_mode(q, cheaper_mode, n, m, counts):
    expected = "forward" if counts["jacfwd"] < counts["jacrev"] else "reverse"
    got = plain_str(call(q, cheaper_mode, n, m, what="cheaper_mode"), q, f"cheaper_mode({n}, {m})")
    if got != expected:
        fail(q, f"cheaper_mode({n}, {m}) for a Jacobian of f: R^{n} -> R^{m}", repr(expected),
             repr(got), "forward mode builds the Jacobian one column per input, reverse mode "
             "one row per output; compare your measured counts as n and m change")


def q8_visible(jacobian_counts, cheaper_mode):
    q = "q8"
    for n, m in ((2, 16), (16, 2)):
        counts = _q8_counts(q, jacobian_counts, n, m, 0)
        _q8_mode(q, cheaper_mode, n, m, counts)
    _passed(q, "visible checks (R^2 -> R^16 and R^16 -> R^2)")


def q8_hidden(jacobian_counts, cheaper_mode, seed):
    q = "q8 (hidden)"
    rng = _rng(seed)
    for _ in range(4):
        small, large = int(rng.integers(1, 4)), int(rng.integers(12, 30))
        n, m = (small, large) if rng.random() < 0.5 else (large, small)
        counts = _q8_counts(q, jacobian_counts, n, m, int(rng.integers(0, 1000)))
        _q8_mode(q, cheaper_mode, n, m, counts)
    _passed(q, "hidden checks")


# -------------------------------------------------------------------------------------------
# The self-check: every visible check, with a summary
# -------------------------------------------------------------------------------------------
VISIBLE = {
    "q1": (q1_visible, ("derivative_counts", "gradient_hessian_counts")),
    "q2": (q2_visible, ("second_backward_error", "accumulated_grad")),
    "q3": (q3_visible, ("control_flow_grad", "control_flow_jacobian")),
    "q4": (q4_visible, ("sin_derivative", "tangent_plot")),
    "q5": (q5_visible, ("graph",)),
    "q6": (q6_visible, ("graph", "edge_partials", "paths", "df_dx")),
    "q7": (q7_visible, ("graph", "forward_tangents", "backward_adjoints")),
    "q8": (q8_visible, ("jacobian_counts", "cheaper_mode")),
}
