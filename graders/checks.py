"""The visible checks of the course notebook, and the judging every check of a question shares.

``qN_visible(...)`` checks a question's answers on the examples the student sees: the test
cells of the released notebook call them, and so does the self-check cell. Their expected
values are data (``visible_cases.json``), computed once on the instructor's side when the
course is built, so this module holds no solution of any question.

``judge_qN(ctx, answers..., cases)`` is the part the hidden checks share: it runs a student's
answers on cases and words the verdict. It only compares: every expected value arrives with
the cases. The hidden checks, their inputs and the reference solutions that compute their
expected values live only on the instructor's side (``course/autodiff_instructor``).

The answers arrive as handles (``graders.judging``): the functions themselves when a check
runs in the student's notebook, or handles into the sandboxed process when the grading
pipeline runs the check in its own process.
"""
import io
import tokenize
from functools import lru_cache
from pathlib import Path

import numpy as np
# Bound at import: these checks also run in the student's own kernel (Colab, plain nbgrader),
# where student code may patch builtins after the checks were imported.
from builtins import abs, float, int, isinstance, len, repr, str, type  # noqa: A004

from . import families
from .graph_values import Graph, GraphError, target
from .judging import (CheckFailed, Context, as_dict, as_float, as_floats, as_int, as_str, close,
                      close_number, handles, show)
from .plain import ExceptionRecord, FigureRecord, FunctionSpec, TensorArg, decode

__all__ = ["CheckFailed", "VISIBLE"]
CASES_FILE = Path(__file__).with_name("visible_cases.json")


@lru_cache(maxsize=1)
def visible_cases():
    """The visible examples of every question, with their expected values."""
    return decode(CASES_FILE.read_bytes())


# -------------------------------------------------------------------------------------------
# Q1: what derivatives cost, predicted for sizes too large to measure
# -------------------------------------------------------------------------------------------
def _check_counts(ctx, got, expected, what, case_text, hint):
    got = as_dict(ctx, got, what)
    for key in expected:
        if key not in got:
            ctx.fail(f"{what} has no entry {key!r}", f"keys {sorted(expected)}",
                     f"keys {sorted(str(k) for k in got)}", None)
        value = as_int(ctx, got[key], f"{what}[{key!r}]")
        if value != expected[key]:
            ctx.fail(f"{what}[{key!r}] {case_text}", str(expected[key]), str(value), hint)


Q1_HINT = ("measure at a few small sizes (n = 2, 3, 4) and extrapolate: which of the four costs "
           "stays the same as n grows, which grows like n, and which like n*n?")


def judge_q1(ctx, predicted_costs, cases):
    for k, case in enumerate(cases):
        n = case["n"]
        got = predicted_costs.call(ctx, FunctionSpec(case["g"]), n)
        _check_counts(ctx, got, case["expected"], "predicted_costs(g, n)",
                      ctx.case(f"for g = {families.describe(case['g'])}, n = {n}", k), Q1_HINT)


def q1_visible(predicted_costs):
    ctx = Context("q1")
    judge_q1(ctx, *handles([(predicted_costs, "predicted_costs")]), visible_cases()["q1"])
    ctx.passed("visible checks (the costs predicted at n = 50)")


# -------------------------------------------------------------------------------------------
# Q2: backward twice
# -------------------------------------------------------------------------------------------
def judge_q2(ctx, second_backward_error, accumulated_grad, cases):
    for k, case in enumerate(cases):
        f, x, times = case["f"], case["x"], case["times"]
        label = ctx.case(f"for f = {families.describe(f)}", k)
        expected = case["error"]
        got = second_backward_error.call(ctx, FunctionSpec(f), x)
        if not isinstance(got, ExceptionRecord):
            ctx.fail(f"second_backward_error(f, x) {label} should return the exception object "
                     "raised by the second backward()", f"a {expected.type_name} instance",
                     show(got), "catch it with try/except ... as err and return err")
        if (got.type_name, got.message) != (expected.type_name, expected.message):
            ctx.fail(f"the exception {label} is not the one a second plain backward() raises",
                     f"{expected.type_name}: {expected.message[:90]}...",
                     f"{got.type_name}: {got.message[:90]}",
                     "build the graph once, call backward() on it, then call backward() on the "
                     "same output again, without any arguments")
        got = accumulated_grad.call(ctx, FunctionSpec(dict(f, call_numbered=True)), x, times)
        got = as_floats(ctx, got, "accumulated_grad(f, x, times)")
        what = f"accumulated_grad(f, x, times) {label}" if ctx.hidden else \
            f"accumulated_grad(f, x, times={times}) {label} at x = {show(x)}"
        if got.shape == case["accumulated"].shape and close(got, case["rebuilt"]) and times > 1:
            ctx.fail(f"{what}: f was called once per pass", show(case["accumulated"]), show(got),
                     "compute y = f(x) once and call y.backward(...) on it repeatedly")
        if got.shape != case["accumulated"].shape or not close(got, case["accumulated"]):
            ctx.fail(what, show(case["accumulated"]), show(got),
                     "gradients from several backward() calls on one graph add up in x.grad; "
                     "do not reset x.grad between the calls")


def q2_visible(second_backward_error, accumulated_grad):
    ctx = Context("q2")
    judge_q2(ctx, *handles([(second_backward_error, "second_backward_error"),
                            (accumulated_grad, "accumulated_grad")]), visible_cases()["q2"])
    ctx.passed("visible checks (error of a second backward, accumulation over 2 passes)")


# -------------------------------------------------------------------------------------------
# Q3: control flow with a non-scalar a
# -------------------------------------------------------------------------------------------
def judge_q3(ctx, control_flow_grad, control_flow_jacobian, cases):
    for k, case in enumerate(cases):
        a = case["a"]
        label = ctx.case(f"for a of shape {a.shape} with {case['branch']}", k)
        got = as_floats(ctx, control_flow_grad.call(ctx, a), "control_flow_grad(a)")
        if got.shape != case["grad"].shape:
            ctx.fail(f"control_flow_grad(a) {label} has the wrong shape",
                     f"shape {case['grad'].shape}", f"shape {got.shape}",
                     "the gradient with respect to a has a's shape; backward a non-scalar "
                     "output with a gradient argument (or reduce it with .sum() first)")
        if not close(got, case["grad"]):
            ctx.fail(f"control_flow_grad(a) {label}", show(case["grad"]), show(got),
                     "f(a) = k * a for a factor k set by the loop and the branch; the gradient "
                     "of sum(f(a)) must follow the branch that a actually takes")
    for k, case in enumerate(cases):
        if case.get("jacobian") is None:
            continue
        a = case["a"]
        got = as_floats(ctx, control_flow_jacobian.call(ctx, a), "control_flow_jacobian(a)")
        if got.shape != case["jacobian"].shape or not close(got, case["jacobian"]):
            vector = f"for a vector of length {a.size} with {case['branch']}"
            ctx.fail(f"control_flow_jacobian(a) {ctx.case(vector, k)}", show(case["jacobian"]),
                     show(got), "the Jacobian of a vector-valued f has one row per output and "
                     "one column per input; ag.jacrev or ag.jacfwd compute it")


def q3_visible(control_flow_grad, control_flow_jacobian):
    ctx = Context("q3")
    judge_q3(ctx, *handles([(control_flow_grad, "control_flow_grad"),
                            (control_flow_jacobian, "control_flow_jacobian")]),
             visible_cases()["q3"])
    ctx.passed("visible checks (a vector and a matrix)")


# -------------------------------------------------------------------------------------------
# Q4: the derivative of sin by AD, and the tangent plot
# -------------------------------------------------------------------------------------------
DIFFERENTIATION = {"backward", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev",
                   "hessian", "make_dual"}


def names_in(source):
    """The identifiers in Python source (not in its strings or comments)."""
    names = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                names.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return names


def _q4_source_rules(ctx, sin_derivative):
    """Rules read off the submitted source: no cos in sin_derivative, and some AD in its cell.

    A style check: a determined student can get around it, a reader of the notebook cannot
    be fooled that way. The values are what the verdict rests on."""
    if "cos" in names_in(sin_derivative.function_source()):
        ctx.fail("sin_derivative mentions cos in its code", "no cos anywhere", "cos in the source",
                 "the point is to let automatic differentiation find the derivative of sin: "
                 "differentiate ag.sin, do not write the answer down")
    cell = names_in(sin_derivative.cell_source())
    if cell and ("sin" not in cell or not cell & DIFFERENTIATION):
        ctx.fail("sin_derivative does not differentiate sin with the library",
                 "ag.sin applied to a tensor, then backward() (or ag.grad, jvp, ...)",
                 "no call of " + ("sin" if "sin" not in cell else "a differentiation function"),
                 "apply ag.sin to a tensor that requires grad and call backward (or use ag.grad)")


def judge_q4_derivative(ctx, sin_derivative, cases):
    _q4_source_rules(ctx, sin_derivative)
    for k, case in enumerate(cases):
        xs = case["xs"]
        got = as_floats(ctx, sin_derivative.call(ctx, xs), "sin_derivative(xs)")
        if got.shape != xs.shape or not close(got, case["expected"], rtol=1e-9, atol=1e-12):
            points = f"on {xs.size} points in [{xs.min():.3g}, {xs.max():.3g}]"
            ctx.fail(f"sin_derivative {ctx.case(points, k)}",
                     show(case["expected"]), show(got),
                     "one value per point, the slope of sin at that point, with the points' shape")


def _line_matches(line, func, min_points):
    x, y = line
    return x.size >= min_points and x.shape == y.shape and close(y, func(x), rtol=1e-6, atol=1e-6)


def judge_q4_plot(ctx, tangent_plot, x0):
    fig = tangent_plot.call(ctx, x0)
    if not isinstance(fig, FigureRecord):
        ctx.fail("tangent_plot(x0) should return the matplotlib Figure it drew",
                 "a matplotlib Figure", show(fig),
                 "end with `return fig` after fig, ax = plt.subplots()")
    s0, c0 = np.sin(x0), np.cos(x0)
    tangent = "the tangent at the hidden x0" if ctx.hidden else f"the tangent at x0 = {x0:.3g}"
    wanted = {"sin(x)": (np.sin, 20), "its derivative": (np.cos, 20),
              tangent: (lambda x: s0 + c0 * (x - x0), 2)}
    for label, (func, n) in wanted.items():
        if not any(_line_matches(line, func, n) for line in fig.lines):
            ctx.fail(f"tangent_plot(x0) has no line for {label}",
                     f"a line ({n} points or more) for {label}",
                     f"{len(fig.lines)} lines that do not match it",
                     "draw each curve with ax.plot(x, y) on the figure you return")


def q4_visible(sin_derivative, tangent_plot):
    ctx = Context("q4")
    derivative, plot = handles([(sin_derivative, "sin_derivative"), (tangent_plot, "tangent_plot")])
    cases = visible_cases()["q4"]
    judge_q4_derivative(ctx, derivative, cases["derivative"])
    judge_q4_plot(ctx, plot, cases["x0"])
    ctx.passed("visible checks (derivative on a grid, the tangent plot)")


# -------------------------------------------------------------------------------------------
# Q5-Q7: dependency graphs
# -------------------------------------------------------------------------------------------
def read_graph(ctx, value, whose="your graph"):
    try:
        return Graph(value)
    except GraphError as exc:
        ctx.fail(f"{whose}: {exc.what}", exc.expected, exc.got, exc.hint)


def judge_q5(ctx, graph, cases):
    g = read_graph(ctx, graph.value(ctx))
    for k, x in enumerate(cases["points"]):
        got = g.values(x)[g.output]
        expected = target(x)
        if not close_number(got, expected, rtol=1e-9):
            ctx.fail(f"your graph evaluated {ctx.case(f'at x = {x:.6g}', k)} "
                     f"(output node {g.output!r})", f"f(x) = {expected:.10g}", f"{got:.10g}",
                     "follow the formula from the inside out; log(x^2) is defined for negative "
                     "x too, and the output must be the last node")
    return g


def q5_visible(graph):
    ctx = Context("q5")
    g = judge_q5(ctx, *handles([(graph, "graph")]), visible_cases()["q5"])
    ctx.passed(f"visible checks ({len(g.order)} nodes, output {g.output!r})")


def _edge_dict(ctx, value, what):
    value = as_dict(ctx, value, what)
    result = {}
    for key, v in value.items():
        if type(key) is not tuple or len(key) != 2 or any(type(n) is not str for n in key):
            ctx.fail(f"{what}: every key should be a (parent, child) pair of node names",
                     "('x', 'u1')", show(key), None)
        result[key] = as_float(ctx, v, f"{what}[{key!r}]")
    return result


def _node_dict(ctx, value, what):
    value = as_dict(ctx, value, what)
    result = {}
    for key, v in value.items():
        if type(key) is not str:
            ctx.fail(f"{what}: keys should be node names (strings)", "a str", show(key), None)
        result[key] = as_float(ctx, v, f"{what}[{key!r}]")
    return result


def _paths(ctx, value, what):
    if type(value) not in (list, tuple):
        ctx.fail(f"{what} should be a list of paths", "a list of lists of node names",
                 show(value), None)
    got = []
    for p in value:
        if type(p) not in (list, tuple) or any(type(n) is not str for n in p):
            ctx.fail(f"{what}: each path should be a list of node names", "['x', ..., 'f']",
                     show(p), None)
        got.append(tuple(p))
    return sorted(got)


def _graph_label(ctx, case, k):
    return ctx.case(f"on the graph {case.get('name', 'given')} at x = {case['x']:.6g}", k)


def judge_q6(ctx, edge_partials, all_paths, df_dx, cases):
    seen_graphs = []
    for k, case in enumerate(cases):
        graph, x = case["graph"], case["x"]
        label = _graph_label(ctx, case, k)
        if graph not in seen_graphs:
            seen_graphs.append(graph)
            got = _paths(ctx, all_paths.call(ctx, graph), "all_paths(graph)")
            expected = sorted(tuple(p) for p in case["paths"])
            if got != expected:
                ctx.fail(f"all_paths(graph) {ctx.case('on the graph ' + case.get('name', 'given'), k)}",
                         f"{len(expected)} paths: {expected}", f"{len(got)} paths: {got}",
                         "a path starts at the input, follows edges from parent to child and "
                         "ends at the output; list each one once")
        expected = case["partials"]
        got = _edge_dict(ctx, edge_partials.call(ctx, graph, x), "edge_partials(graph, x)")
        missing = [e for e in expected if e not in got]
        extra = [e for e in got if e not in expected]
        if missing or extra:
            ctx.fail(f"edge_partials(graph, x) {label} should have one entry per edge along which "
                     "x influences the output", f"edges {sorted(expected)}",
                     f"missing {missing}, unexpected {extra}",
                     "an edge joins a node to each node computed from it; edges leaving const "
                     "nodes carry no derivative of x")
        for edge, value in expected.items():
            if not close_number(got[edge], value, rtol=1e-8, atol=1e-10):
                op = graph[edge[1]][0]
                if ctx.hidden:
                    ctx.fail(f"a local partial is wrong {label}", None, None,
                             "the local partial on an edge is the derivative of the child's "
                             "operation with respect to that parent, at the values the nodes "
                             "have at this x")
                ctx.fail(f"local partial on edge {edge} ({op}) {label}", f"{value:.10g}",
                         f"{got[edge]:.10g}",
                         f"the local partial is the derivative of {op!r} with respect to the "
                         f"parent {edge[0]!r}, at the values the nodes have at this x")
        total = as_float(ctx, df_dx.call(ctx, graph, x), "df_dx(graph, x)")
        if not close_number(total, case["derivative"], rtol=1e-8, atol=1e-10):
            ctx.fail(f"df_dx(graph, x) {label}", f"{case['derivative']:.10g}", f"{total:.10g}",
                     "df/dx is the sum over all paths from x to the output of the product of the "
                     "local partials along the path")


def q6_visible(edge_partials, all_paths, df_dx):
    ctx = Context("q6")
    judge_q6(ctx, *handles([(edge_partials, "edge_partials"), (all_paths, "all_paths"),
                            (df_dx, "df_dx")]), visible_cases()["q6"])
    ctx.passed("visible checks (paths, local partials and df/dx on the example graph)")


def judge_q7(ctx, forward_tangents, backward_adjoints, cases):
    for k, case in enumerate(cases):
        graph, x = case["graph"], case["x"]
        label = _graph_label(ctx, case, k)
        g = Graph(graph)
        for name, answer, expected, end, hint in (
                ("forward_tangents", forward_tangents, case["tangents"], g.output,
                 "the tangent of a node is d(node)/dx: the sum over its parents of "
                 "(local partial) * (tangent of the parent), starting from 1 at x"),
                ("backward_adjoints", backward_adjoints, case["adjoints"], g.input,
                 "the adjoint of a node is d(output)/d(node): the sum over its children of "
                 "(adjoint of the child) * (local partial), starting from 1 at the output")):
            got = _node_dict(ctx, answer.call(ctx, graph, x), f"{name}(graph, x)")
            unknown = [n for n in got if n not in g.spec]
            missing = [n for n in expected if n not in got]
            if missing or unknown:
                ctx.fail(f"{name}(graph, x) {label} should give a number for every node that "
                         "depends on x", f"nodes {sorted(expected)}",
                         f"missing {missing}, unknown {unknown}", hint)
            for node, value in expected.items():
                if not close_number(got[node], value, rtol=1e-8, atol=1e-10):
                    ctx.fail(f"{name}(graph, x)[{node!r}] {label}" if not ctx.hidden else
                             f"{name}(graph, x) is wrong at a node {label}",
                             f"{value:.10g}", f"{got[node]:.10g}", hint)
            if not close_number(got[end], case["derivative"], rtol=1e-8, atol=1e-10):
                ctx.fail(f"{name}(graph, x)[{end!r}] {label} should be the derivative",
                         f"{case['derivative']:.10g}", f"{got[end]:.10g}", hint)


def q7_visible(forward_tangents, backward_adjoints):
    ctx = Context("q7")
    judge_q7(ctx, *handles([(forward_tangents, "forward_tangents"),
                            (backward_adjoints, "backward_adjoints")]), visible_cases()["q7"])
    ctx.passed("visible checks (tangents and adjoints on the example graph)")


# -------------------------------------------------------------------------------------------
# Q8: Jacobians by forward and reverse mode, and where one overtakes the other
# -------------------------------------------------------------------------------------------
def judge_q8(ctx, predicted_jacobian_calls, crossover_m, cases):
    for k, case in enumerate(cases["sizes"]):
        n, m = case["n"], case["m"]
        got = predicted_jacobian_calls.call(ctx, n, m)
        _check_counts(ctx, got, case["expected"], "predicted_jacobian_calls(n, m)",
                      ctx.case(f"for make_f({n}, {m})", k),
                      "measure jacfwd and jacrev on make_f at a few small sizes: which size "
                      "does each mode's cost follow, and how?")
    for k, case in enumerate(cases["crossover"]):
        n = case["n"]
        label = ctx.case(f"for n = {n}", k)
        got = as_int(ctx, crossover_m.call(ctx, n), f"crossover_m({n})" if not ctx.hidden
                     else "crossover_m(n)")
        if got != case["expected"]:
            ctx.fail(f"crossover_m(n) {label}", str(case["expected"]), str(got),
                     "the crossover is where your two cost laws meet; it need not be at m = n, "
                     "because a forward pass and a backward pass do not cost the same")


def q8_visible(predicted_jacobian_calls, crossover_m):
    ctx = Context("q8")
    judge_q8(ctx, *handles([(predicted_jacobian_calls, "predicted_jacobian_calls"),
                            (crossover_m, "crossover_m")]), visible_cases()["q8"])
    ctx.passed("visible checks (R^2000 -> R^50, R^50 -> R^2000, and the crossover at n = 16)")


# -------------------------------------------------------------------------------------------
# The self-check: every visible check, by question, with the names it needs
# -------------------------------------------------------------------------------------------
VISIBLE = {
    "q1": (q1_visible, ("predicted_costs",)),
    "q2": (q2_visible, ("second_backward_error", "accumulated_grad")),
    "q3": (q3_visible, ("control_flow_grad", "control_flow_jacobian")),
    "q4": (q4_visible, ("sin_derivative", "tangent_plot")),
    "q5": (q5_visible, ("graph",)),
    "q6": (q6_visible, ("edge_partials", "all_paths", "df_dx")),
    "q7": (q7_visible, ("forward_tangents", "backward_adjoints")),
    "q8": (q8_visible, ("predicted_jacobian_calls", "crossover_m")),
}
