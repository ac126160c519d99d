"""Build the course notebook: the source version (solutions and all tests) and its release.

    python course/build.py            # write course/source/autodiff/autodiff.ipynb
    python course/build.py --release  # ... and regenerate course/release/ with nbgrader

The notebook is written from the cell list below, so points, grade ids and the points table
cannot drift apart. ``--release`` runs ``nbgrader generate_assignment`` in a temporary copy of
the course (its gradebook never lands in the repository) and copies the student version back.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

COURSE = Path(__file__).resolve().parent
# The public repository students open the notebook from, kept with the lecture notebooks'
# in notebooks/_colab.py: a fork changes that one line.
sys.path.insert(0, str(COURSE.parent / "notebooks"))
from _colab import REPO_URL as REPOSITORY, BRANCH  # noqa: E402
ASSIGNMENT = "autodiff"
NOTEBOOK = "autodiff.ipynb"
SOURCE = COURSE / "source" / ASSIGNMENT / NOTEBOOK
RELEASE = COURSE / "release" / ASSIGNMENT / NOTEBOOK

# Hidden-test seeds: they live only in the source notebook (nbgrader strips them on release).
SEEDS = {"q1": 51807, "q2": 66421, "q3": 73019, "q4": 24601, "q5": 90210, "q6": 31337,
         "q7": 42424, "q8": 86753}


def colab_url():
    path = REPOSITORY.replace("https://github.com/", "")
    return (f"https://colab.research.google.com/github/{path}/blob/{BRANCH}/course/release/"
            f"{ASSIGNMENT}/{NOTEBOOK}")


def install_spec():
    return f"autograd-lite-course @ git+{REPOSITORY}@{BRANCH}"


# -- cell helpers ---------------------------------------------------------------------------
CELLS = []


def _meta(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text, grade_id=None):
    cell = nbformat.v4.new_markdown_cell(text.strip("\n"))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    CELLS.append(cell)


def code(source, grade_id=None, locked=False):
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=locked))
    CELLS.append(cell)


def answer(grade_id, source):
    """A code cell the student fills in; nbgrader replaces the solution region by a stub."""
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\n" + source.strip("\n") + "\n### END SOLUTION")
    cell.metadata.update(_meta(grade_id, solution=True))
    CELLS.append(cell)


POINTS = {}     # question -> {"auto": n, "manual": n}


def _add_points(question, kind, points):
    POINTS.setdefault(question, {"auto": 0, "manual": 0})[kind] += points


def tests(question, names, visible_points, hidden_points):
    args = ", ".join(names)
    cell = nbformat.v4.new_code_cell(
        f"# Visible tests for {question} ({visible_points} point{'s' * (visible_points != 1)}): "
        f"run this cell to check your answer.\n"
        f"checks.{question}_visible({args})")
    cell.metadata.update(_meta(f"{question}_visible_tests", grade=True, locked=True,
                               points=visible_points))
    CELLS.append(cell)
    cell = nbformat.v4.new_code_cell(
        f"# Hidden tests for {question} ({hidden_points} points) run here when your notebook is "
        f"graded,\n# on inputs you have not seen: make your answer work for any input.\n"
        f"### BEGIN HIDDEN TESTS\n"
        f"checks.{question}_hidden({args}, seed={SEEDS[question]})\n"
        f"### END HIDDEN TESTS")
    cell.metadata.update(_meta(f"{question}_hidden_tests", grade=True, locked=True,
                               points=hidden_points))
    CELLS.append(cell)
    _add_points(question, "auto", visible_points + hidden_points)


def written(question, points, model_answer, rubric):
    """A manually graded answer cell; nbgrader replaces all of it with 'YOUR ANSWER HERE'."""
    text = (f"**Model answer (instructors only).** {model_answer.strip()}\n\n"
            f"**Rubric ({points} point{'s' * (points != 1)}).**\n{rubric.strip()}")
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata.update(_meta(f"{question}_written", grade=True, solution=True, points=points))
    CELLS.append(cell)
    _add_points(question, "manual", points)


def manual_code(question, grade_id, points, source):
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\n" + source.strip("\n") + "\n### END SOLUTION")
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, points=points))
    CELLS.append(cell)
    _add_points(question, "manual", points)


# -- the notebook ---------------------------------------------------------------------------
TITLES = {
    "q1": "Why is the second derivative so much dearer than the first?",
    "q2": "Running backward twice",
    "q3": "Control flow with a vector or matrix input",
    "q4": "The derivative of sin, found by autodiff",
    "q5": "The dependency graph of a function, as data",
    "q6": "The chain rule on the graph",
    "q7": "Forward and backward over your graph",
    "q8": "Forward or reverse mode?",
}


def build_cells():
    CELLS.clear()
    POINTS.clear()
    intro_index = len(CELLS)
    md("PLACEHOLDER")          # the introduction, filled in once the points are known
    code(f'''
# Setup. On Google Colab this installs the course package (autograd_lite and the checks);
# anywhere else it does nothing: install the package first (see the course README).
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{install_spec()}"], check=True)
''', grade_id="setup_install", locked=True)
    code('''
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
import autograd_lite as ag
from graders import checks
''', grade_id="setup_imports", locked=True)

    # ---- Q1 ----------------------------------------------------------------------------
    md(question_header("q1") + '''
A derivative by reverse mode costs a small multiple of the function itself. Differentiate the
derivative again and the multiple compounds. Measure it: `ag.count_ops(fn, *args)` runs
`fn(*args)` once and returns an object whose `.total` is the number of primitive operations
the library applied (forward and backward).

Write

* `derivative_counts(f, x)` for a scalar function `f` and a scalar tensor `x`: a dict with the
  op counts `"f"` of `f(x)`, `"df"` of `ag.grad(f)(x)` and `"d2f"` of `ag.grad(ag.grad(f))(x)`;
* `gradient_hessian_counts(g, x)` for `g` from R^n to R and a vector `x`: a dict with the op
  counts `"grad"` of `ag.grad(g)(x)` and `"hessian"` of `ag.hessian(g)(x)`.
''')
    answer("q1_answer", '''
def derivative_counts(f, x):
    return {"f": ag.count_ops(f, x).total,
            "df": ag.count_ops(ag.grad(f), x).total,
            "d2f": ag.count_ops(ag.grad(ag.grad(f)), x).total}


def gradient_hessian_counts(g, x):
    return {"grad": ag.count_ops(ag.grad(g), x).total,
            "hessian": ag.count_ops(ag.hessian(g), x).total}
''')
    md("Your measurements (run after answering):")
    code('''
f = lambda x: ag.sin(x) * ag.exp(x)
print("f(x) = sin(x) exp(x):", derivative_counts(f, ag.tensor(0.7)))

g = lambda x: ag.sum(ag.tanh(x) * x)
print(f"{'n':>4} {'g':>6} {'grad':>6} {'hessian':>8}")
for n in (1, 2, 4, 8, 16):
    x = ag.tensor(np.linspace(0.1, 1.0, n))
    costs = gradient_hessian_counts(g, x)
    print(f"{n:>4} {ag.count_ops(g, x).total:>6} {costs['grad']:>6} {costs['hessian']:>8}")
''')
    tests("q1", ["derivative_counts", "gradient_hessian_counts"], 1, 2)
    md('''
**Q1 (written).** From your numbers: how do the costs of f, f' and f'' compare, and how do the
costs of the gradient and of the Hessian grow with n? Explain why, in terms of what the second
differentiation has to differentiate.
''')
    written("q1", 2, '''
f' by reverse mode is a forward pass plus a backward pass that applies each primitive's
derivative rule, so it costs a small constant times f. For f'' the library records that
backward pass itself (`create_graph`) and differentiates the whole forward-plus-backward
computation again, so the constant multiplies: the count of f'' is a few times that of f', not a
few operations more. The gradient of g: R^n -> R stays a constant multiple of g, independent of
n (one backward pass gives all n partials); the Hessian has n^2 entries and is computed as n
derivative passes through the gradient (one column each), so its cost grows linearly with n,
while the gradient's cost stays flat.''', '''
- 1 point: reads the measurements correctly (f'' a multiple of f'; gradient flat in n, Hessian
  growing about linearly in n), quoting the student's own numbers.
- 1 point: the reason: the second derivative differentiates the recorded derivative computation
  (a larger graph, including the backward rules), and a Hessian needs one pass per input
  dimension (n columns), whereas a gradient needs one backward pass.''')

    # ---- Q2 ----------------------------------------------------------------------------
    md(question_header("q2") + '''
Compute `y = f(x)` once, call `y.backward()`, then call `y.backward()` again. Find out what
happens, then make several backward passes through the same graph work and watch `x.grad`.

Write

* `second_backward_error(f, x)`: builds the graph of `f` at the numpy array `x` (as a tensor that
  requires grad), calls `backward()` on the output, then calls `backward()` again and returns the
  exception that the second call raises (the exception object, not its message);
* `accumulated_grad(f, x, times)`: builds the graph **once** and runs `times` backward passes
  through it, then returns `x.grad` as a numpy array.
''')
    answer("q2_answer", '''
def second_backward_error(f, x):
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    y.backward()
    try:
        y.backward()
    except RuntimeError as err:
        return err
    return None


def accumulated_grad(f, x, times):
    x = ag.tensor(x, requires_grad=True)
    y = f(x)
    for _ in range(times):
        y.backward(retain_graph=True)
    return x.grad.numpy()
''')
    code('''
f = lambda x: ag.sum(x * ag.sin(x))
x = np.array([0.5, 1.0, 2.0])
print("second backward:", repr(second_backward_error(f, x)))
for times in (1, 2, 3):
    print(f"x.grad after {times} backward pass(es):", accumulated_grad(f, x, times))
''')
    tests("q2", ["second_backward_error", "accumulated_grad"], 1, 2)
    md('''
**Q2 (written).** Why does the second plain `backward()` fail, what does `retain_graph=True`
change, and why does `x.grad` grow with each pass? When is that accumulation what you want, and
what must a training loop do about it?
''')
    written("q2", 1, '''
A backward pass frees the intermediate values the graph saved for it (memory is released as
soon as possible), so a second pass finds them gone and raises. `retain_graph=True` keeps them.
Gradients are added into `.grad` instead of overwritten, so each pass adds f'(x) again: after k
passes `x.grad` is k f'(x). Accumulation is useful to sum gradients over several losses or
mini-batches; a training loop must zero the gradients (`x.grad = None` or `.zero_()`) before
each step.''', '''
- 0.5 point: saved values are freed after the first backward; retain_graph keeps them.
- 0.5 point: gradients accumulate (add up) in `.grad`, hence zeroing between steps.''')

    # ---- Q3 ----------------------------------------------------------------------------
    md(question_header("q3") + '''
The function below doubles its input until it is large, then takes one branch or the other
depending on the sign of the sum. With a scalar `a` its derivative is easy to read off. Now let
`a` be a vector or a matrix: `f_control(a)` is no longer a scalar.
''')
    code('''
def f_control(a):
    b = a * 2
    while ag.norm(b) < 1000:
        b = b * 2
    if ag.sum(b) > 0:
        c = b
    else:
        c = 100 * b
    return c
''', grade_id="q3_given", locked=True)
    md('''
Write

* `control_flow_grad(a)`: for a numpy array `a` of any shape, the gradient of `sum(f_control(a))`
  with respect to `a`, as a numpy array of `a`'s shape (call `backward` on the non-scalar output
  with a suitable `gradient` argument, or on its sum);
* `control_flow_jacobian(a)`: for a vector `a` of length n, the n-by-n Jacobian of `f_control`
  at `a`, as a numpy array.
''')
    answer("q3_answer", '''
def control_flow_grad(a):
    a = ag.tensor(a, requires_grad=True)
    d = f_control(a)
    d.backward(ag.ones_like(d))      # the same as d.sum().backward()
    return a.grad.numpy()


def control_flow_jacobian(a):
    return ag.jacrev(f_control)(ag.tensor(a)).numpy()
''')
    code('''
ag.manual_seed(0)
for a in (ag.randn(3).numpy(), -ag.randn(2, 2).numpy() ** 2):
    d = f_control(ag.tensor(a)).numpy()
    print("a =", a.round(3).tolist())
    print("  f(a) / a        =", (d / a).round(3).tolist())
    print("  gradient of sum =", control_flow_grad(a).tolist())
print(control_flow_jacobian(np.array([0.3, -0.1, 0.4])))
''')
    tests("q3", ["control_flow_grad", "control_flow_jacobian"], 1, 2)
    md('''
**Q3 (written).** What is `f_control(a)` as a function of `a`, what does its Jacobian look like,
and what exactly does `backward` compute when the output is not a scalar?
''')
    written("q3", 1, '''
For any input the loop and the branch only pick a number: `f_control(a) = k a` with k a power
of two (times 100 on the negative branch) that depends on the norm and sign of the sum of a. So
f is piecewise linear and its Jacobian is k times the identity (elementwise scaling). With a
non-scalar output, backward needs a vector v of the output's shape and computes vᵀJ (a
vector-Jacobian product); v of ones gives the gradient of the sum, k in every entry, which is
why `a.grad` equals `f(a) / a`.''', '''
- 0.5 point: f(a) = k a with k chosen by the loop count and the branch; Jacobian k I.
- 0.5 point: backward of a non-scalar output computes a vector-Jacobian product (needs a
  gradient argument / a reduction to a scalar).''')

    # ---- Q4 ----------------------------------------------------------------------------
    md(question_header("q4") + '''
Plot sin(x) and its derivative, where the derivative comes from automatic differentiation of
`ag.sin`, not from knowing that it is cos(x) (your code must not call cos at all: the checks run
your function and watch which operations it applies).

Write

* `sin_derivative(xs)`: for a numpy array of points (any shape), the derivative of sin at each
  point, computed by the library, as a numpy array of the same shape;
* `tangent_plot(x0)`: draws, on one new figure, sin(x), its derivative from `sin_derivative`
  (at least 20 points each) and the tangent line to sin at `x0`, and returns the figure.
''')
    answer("q4_answer", '''
def sin_derivative(xs):
    x = ag.tensor(xs, requires_grad=True)
    y = ag.sin(x)
    y.backward(ag.ones_like(y))
    return x.grad.numpy()


def tangent_plot(x0):
    xs = np.linspace(-2 * np.pi, 2 * np.pi, 200)
    slope = sin_derivative(np.array([x0]))[0]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(xs, np.sin(xs), label="sin(x)")
    ax.plot(xs, sin_derivative(xs), label="derivative by autodiff")
    near = np.array([x0 - 1.5, x0 + 1.5])
    ax.plot(near, np.sin(x0) + slope * (near - x0), "--", label=f"tangent at x0 = {x0:.2f}")
    ax.plot([x0], [np.sin(x0)], "o", color="black")
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x")
    ax.legend(loc="upper right")
    return fig
''')
    tests("q4", ["sin_derivative", "tangent_plot"], 1, 2)
    md('''
**Q4 (widget, graded by hand).** Make the plot interactive: a slider for the tangent point `x0`
that redraws `tangent_plot(x0)` (for example with `widgets.interact` and a
`widgets.FloatSlider`). Where is the tangent horizontal, and what is the derivative curve there?
''')
    manual_code("q4", "q4_widget", 1, '''
def show_tangent(x0=1.0):
    tangent_plot(x0)
    plt.show()


widgets.interact(show_tangent, x0=widgets.FloatSlider(value=1.0, min=-6.0, max=6.0, step=0.05,
                                                      description="x0"));
''')

    # ---- Q5 ----------------------------------------------------------------------------
    md(question_header("q5") + '''
Take f(x) = log(x²) · sin(x) + 1/x. Write its dependency graph as data: a dict, in the order the
values are computed, from a node's name to a tuple `(operation, parent, ...)`. One node is
`("input",)` (it stands for x), a node `("const", 2.0)` holds a number, and every other node
applies **one** elementary operation to earlier nodes. The last node is f. The elementary
operations are

| one parent | two parents |
|---|---|
| `neg`, `square`, `reciprocal`, `sqrt`, `exp`, `log`, `sin`, `cos` | `add`, `sub`, `mul`, `div`, `pow` |

For example, 3 sin(x) could be `{"x": ("input",), "c": ("const", 3.0), "s": ("sin", "x"),
"y": ("mul", "c", "s")}`. Any correct decomposition is accepted: the checks evaluate your graph
at points you do not know.
''')
    answer("q5_answer", '''
graph = {
    "x": ("input",),
    "a": ("square", "x"),       # a = x^2
    "b": ("log", "a"),          # b = log(x^2)
    "c": ("sin", "x"),          # c = sin(x)
    "d": ("mul", "b", "c"),     # d = log(x^2) sin(x)
    "e": ("reciprocal", "x"),   # e = 1/x
    "f": ("add", "d", "e"),     # f = d + e
}
''')
    code('''
for name, (op, *parents) in graph.items():
    print(f"{name:>4} = {op}({', '.join(map(str, parents))})")
''')
    tests("q5", ["graph"], 1, 2)

    # ---- Q6 ----------------------------------------------------------------------------
    md(question_header("q6") + '''
Put the chain rule on your graph. Each edge (parent → child) carries a *local partial*: the
derivative of the child's operation with respect to that parent, at the current values. df/dx
is the sum, over all paths from x to f, of the product of the local partials along the path.

Write, for **your** graph from question 5,

* `edge_partials(x)`: a dict from `(parent, child)` to the local partial at the point `x` (a
  float), for every edge along which x influences f (edges leaving `const` nodes carry none);
* `paths`: the list of all paths from the input to f, each a list of node names;
* `df_dx(x)`: df/dx at `x`, as the sum over `paths` of the products of `edge_partials(x)`.
''')
    answer("q6_answer", '''
def edge_partials(x):
    a = x * x
    b = np.log(a)
    c = np.sin(x)
    return {("x", "a"): 2 * x,
            ("a", "b"): 1 / a,
            ("x", "c"): np.cos(x),
            ("b", "d"): c,
            ("c", "d"): b,
            ("x", "e"): -1 / x ** 2,
            ("d", "f"): 1.0,
            ("e", "f"): 1.0}


paths = [["x", "a", "b", "d", "f"], ["x", "c", "d", "f"], ["x", "e", "f"]]


def df_dx(x):
    local = edge_partials(x)
    total = 0.0
    for path in paths:
        product = 1.0
        for parent, child in zip(path, path[1:]):
            product *= local[(parent, child)]
        total += product
    return total
''')
    code('''
x0 = 1.5
for path in paths:
    print(" -> ".join(path))
print(f"df/dx at {x0}: {df_dx(x0):.6f}, autograd_lite: "
      f"{ag.grad(lambda x: ag.log(x ** 2) * ag.sin(x) + 1 / x)(ag.tensor(x0)).item():.6f}")
''')
    tests("q6", ["graph", "edge_partials", "paths", "df_dx"], 1, 2)

    # ---- Q7 ----------------------------------------------------------------------------
    md(question_header("q7") + '''
Evaluate the derivative over your graph both ways, reusing `edge_partials`.

* `forward_tangents(x)`: forward mode, from x to f. The tangent of a node is d(node)/dx: 1 at the
  input, and at every other node the sum over its parents of (local partial) × (parent's
  tangent). Return a dict from node name to tangent, for every node that depends on x.
* `backward_adjoints(x)`: reverse mode, from f back to x. The adjoint of a node is df/d(node): 1
  at f, and at every other node the sum over its children of (child's adjoint) × (local
  partial). Return a dict from node name to adjoint, for every node that depends on x.

Both must end at f'(x): the tangent of f and the adjoint of x.
''')
    answer("q7_answer", '''
def forward_tangents(x):
    local = edge_partials(x)
    tangent = {}
    for node, (op, *parents) in graph.items():
        if op == "input":
            tangent[node] = 1.0
        elif op != "const":
            tangent[node] = sum(local[(p, node)] * tangent[p]
                                for p in dict.fromkeys(parents) if p in tangent)
    return tangent


def backward_adjoints(x):
    local = edge_partials(x)
    nodes = list(graph)
    adjoint = {node: 0.0 for node in nodes}
    adjoint[nodes[-1]] = 1.0
    for node in reversed(nodes):
        op, *parents = graph[node]
        if op in ("input", "const"):
            continue
        for p in dict.fromkeys(parents):
            if (p, node) in local:
                adjoint[p] += adjoint[node] * local[(p, node)]
    return adjoint
''')
    code('''
x0 = 1.5
tangents, adjoints = forward_tangents(x0), backward_adjoints(x0)
print(f"{'node':>5} {'tangent d(node)/dx':>20} {'adjoint df/d(node)':>20}")
for node in graph:
    print(f"{node:>5} {tangents.get(node, 0.0):>20.6f} {adjoints.get(node, 0.0):>20.6f}")
''')
    tests("q7", ["graph", "forward_tangents", "backward_adjoints"], 1, 2)

    # ---- Q8 ----------------------------------------------------------------------------
    md(question_header("q8") + '''
`ag.jacfwd(f)` builds the Jacobian of f: R^n → R^m by forward mode, `ag.jacrev(f)` by reverse
mode. Measure both for several (n, m) and find the rule.

Write

* `jacobian_counts(f, x)`: a dict with the op counts `"jacfwd"` of `ag.jacfwd(f)(x)` and
  `"jacrev"` of `ag.jacrev(f)(x)`;
* `cheaper_mode(n, m)`: `"forward"` or `"reverse"`, whichever mode your measurements say builds
  the Jacobian of a function from R^n to R^m with fewer operations (for n and m far apart).
''')
    answer("q8_answer", '''
def jacobian_counts(f, x):
    return {"jacfwd": ag.count_ops(ag.jacfwd(f), x).total,
            "jacrev": ag.count_ops(ag.jacrev(f), x).total}


def cheaper_mode(n, m):
    return "forward" if n < m else "reverse"
''')
    code('''
def make_f(n, m, seed=0):
    A = ag.tensor(np.random.default_rng(seed).normal(size=(m, n)))
    return lambda x: ag.tanh(A @ x)


print(f"{'n':>4} {'m':>4} {'jacfwd':>8} {'jacrev':>8}  cheaper")
for n, m in ((1, 16), (2, 16), (4, 16), (16, 16), (16, 4), (16, 2), (16, 1)):
    costs = jacobian_counts(make_f(n, m), ag.tensor(np.linspace(-1, 1, n)))
    print(f"{n:>4} {m:>4} {costs['jacfwd']:>8} {costs['jacrev']:>8}  {cheaper_mode(n, m)}")
''')
    tests("q8", ["jacobian_counts", "cheaper_mode"], 1, 2)
    md('''
**Q8 (written).** State the rule you measured. Then compare the two modes on the memory they need
for intermediate values, on what can run in parallel, and on the sizes of the vectors and
matrices involved. Which mode does training a neural network use, and why?
''')
    written("q8", 2, '''
Forward mode gives one Jacobian column per pass, so it needs n passes; reverse mode gives one
row per pass (after one forward pass), so it needs m: forward wins when n << m, reverse when
m << n. Memory: forward mode carries one tangent alongside each value and can forget values as
it goes; reverse mode must store the intermediates of the whole forward pass until the backward
pass has used them (memory grows with the length of the computation; checkpointing trades it
for recomputation). Parallelism: the n JVPs (or m VJPs) are independent and can run at once,
and forward mode runs in step with the evaluation; a backward pass must wait for the forward
pass to end and then runs in reverse order. Sizes: a JVP pushes vectors of the input's size, a
VJP vectors of the output's size. Training has millions of parameters and a scalar loss
(m = 1), so reverse mode (backpropagation) gives the whole gradient in one backward pass.''', '''
- 0.5 point: the rule (cost of forward ~ n passes, reverse ~ m passes; pick the smaller side).
- 0.5 point: memory: reverse mode stores the forward pass's intermediates; forward does not.
- 0.5 point: parallelism / ordering: independent passes in parallel; backward needs the finished
  forward pass and runs sequentially in reverse.
- 0.5 point: scalar loss with many parameters -> reverse mode (backpropagation).''')

    md('''
## Self-check

Run this cell to run every visible test at once. It prints a pass/fail line per question; the
hidden tests run only when your notebook is graded.
''')
    code('''
from graders.selfcheck import run_all
summary = run_all(globals())
''', grade_id="self_check", locked=True)

    CELLS[intro_index] = nbformat.v4.new_markdown_cell(introduction().strip("\n"))
    CELLS[intro_index].metadata.update(_meta("introduction", locked=True))
    return list(CELLS)


def question_header(q):
    auto, manual = POINTS_PLAN[q]
    n = q[1:]
    parts = f"{auto + manual} points: {auto} checked automatically"
    if manual:
        parts += f", {manual} graded by hand"
    return f"## Question {n} ({parts}). {TITLES[q]}\n"


# Points per question, (autograded, by hand); checked against the cells in build_notebook().
POINTS_PLAN = {"q1": (3, 2), "q2": (3, 1), "q3": (3, 1), "q4": (3, 1), "q5": (3, 0),
               "q6": (3, 0), "q7": (3, 0), "q8": (3, 2)}


def introduction():
    total = sum(a + m for a, m in POINTS_PLAN.values())
    rows = "\n".join(f"| {q[1:]} | {TITLES[q]} | {a} | {m} | {a + m} |"
                     for q, (a, m) in POINTS_PLAN.items())
    auto = sum(a for a, _ in POINTS_PLAN.values())
    manual = sum(m for _, m in POINTS_PLAN.values())
    return f'''
[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url()})

# Automatic differentiation: eight exercises

You work with `autograd_lite`, a small autodiff library on numpy. Each question asks you to
write a function (or some data) in the cell marked `YOUR CODE HERE`, or a short explanation in
the cell marked `YOUR ANSWER HERE`.

* Run the cells from the top. On Colab the first cell installs the library and the checks.
* After each answer, run its **visible tests** cell: it prints a line when your answer passes,
  and otherwise says what it expected, what you gave and a hint.
* Each question also has **hidden tests** on other inputs (other shapes, points and signs). They
  run when your notebook is graded, so write answers that work for any input.
* The **self-check** cell at the end runs all visible tests and prints a summary.

| Question | Topic | Autograded | By hand | Points |
|---|---|---|---|---|
{rows}
| | **Total** | **{auto}** | **{manual}** | **{total}** |
'''


def build_notebook():
    cells = build_cells()
    for q, (auto, manual) in POINTS_PLAN.items():
        if POINTS.get(q, {"auto": 0, "manual": 0}) != {"auto": auto, "manual": manual}:
            raise RuntimeError(f"{q}: the cells give {POINTS.get(q)} points, the plan "
                               f"({auto}, {manual})")
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"       # stable ids: rebuilding changes nothing
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(nb)
    return nb


def write_source(path=SOURCE):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(), str(path))
    return path


def nbgrader_command():
    exe = Path(sys.executable).with_name("nbgrader")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]


def nbgrader_environment():
    """nbgrader runs the ``alembic`` executable from PATH: put the interpreter's bin first."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def generate_release(course=COURSE, into=None):
    """Run nbgrader generate_assignment on a temporary copy of ``course``; return the release dir."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "course"
        shutil.copytree(course, root, ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "gradebook.db", "__pycache__"))
        env = nbgrader_environment()
        subprocess.run(nbgrader_command() + ["generate_assignment", ASSIGNMENT, "--force",
                                             f"--db=sqlite:///{root / 'gradebook.db'}"],
                       cwd=root, check=True, capture_output=True, text=True, env=env)
        target = Path(into) if into else course / "release"
        if target.exists():
            shutil.rmtree(target / ASSIGNMENT, ignore_errors=True)
        shutil.copytree(root / "release" / ASSIGNMENT, target / ASSIGNMENT)
        return target / ASSIGNMENT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="store_true",
                        help="also regenerate course/release with nbgrader generate_assignment")
    args = parser.parse_args(argv)
    print("wrote", write_source())
    if args.release:
        print("wrote", generate_release())


if __name__ == "__main__":
    main()
