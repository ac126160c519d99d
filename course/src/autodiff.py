# %% [markdown] nbgrader={"grade": false, "grade_id": "introduction", "locked": true, "schema_version": 3, "solution": false, "task": false}
# {{colab_badge}}
#
# # Automatic differentiation: eight exercises
#
# You work with `autograd_lite`, a small autodiff library on numpy. Each question asks you to
# write a function (or some data) in the cell marked `YOUR CODE HERE`, or a short explanation in
# the cell marked `YOUR ANSWER HERE`.
#
# * Run the cells from the top. On Colab the first cell installs the library and the checks.
# * After each answer, run its **visible tests** cell: it prints a line when your answer passes,
#   and otherwise says what it expected, what you gave and a hint.
# * Each question also has **hidden tests** on other inputs (other shapes, points and signs). They
#   run when your notebook is graded, so write answers that work for any input.
# * The **self-check** cell at the end runs all visible tests and prints a summary.
#
# {{points_table}}
#

# %% nbgrader={"grade": false, "grade_id": "setup_install", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Setup. On Google Colab this installs the course package (autograd_lite and the checks);
# anywhere else it does nothing: install the package first (see the course README).
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{{install_spec}}"], check=True)

# %% nbgrader={"grade": false, "grade_id": "setup_imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
import autograd_lite as ag
from graders import checks


# %% [markdown]
# ## Question 1 ({{points q1}}). What a gradient and a Hessian cost, predicted before measured
#
# `ag.count_ops(fn, *args)` runs `fn(*args)` once and returns an object with two measures of
# its cost:
#
# * `.total`, the number of **primitive calls** the library made (forward and backward). One
#   call on an array of n numbers counts once, whatever n is, so this is not the arithmetic.
# * `.elements`, the sum of the sizes of all results those calls computed. Each element costs
#   a few floating-point operations, so this follows the **flops**.
#
# The lecture on higher-order derivatives measures both for gradients and Hessians. Here you
# predict them for sizes far too large to run: at n = 100,000 the Hessian alone has 10^10
# entries. Measure at a few small n, decide how each cost grows, and extrapolate.
#
# Write
#
# * `predicted_costs(g, n)` for a function `g` from R^n to R (written with `ag` operations, for
#   any n) and a size `n`: a dict with the predicted counts `"grad_calls"` and
#   `"grad_elements"` of `ag.grad(g)` at an input of size n, and `"hessian_calls"` and
#   `"hessian_elements"` of `ag.hessian(g)` there. Every prediction is a whole number and must
#   be exact. Measuring at the size n itself will not finish in time.

# %% nbgrader={"grade": false, "grade_id": "q1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def predicted_costs(g, n):
    def measure(transform, k):
        count = ag.count_ops(transform, ag.tensor(np.linspace(-0.9, 0.9, k)))
        return count.total, count.elements

    predictions = {}
    for name, transform in (("grad", ag.grad(g)), ("hessian", ag.hessian(g))):
        at2, at3, at4 = (measure(transform, k) for k in (2, 3, 4))
        for i, metric in enumerate(("calls", "elements")):
            first, second = at3[i] - at2[i], at4[i] - 2 * at3[i] + at2[i]
            # Newton's forward differences: the quadratic through the three measurements
            predictions[f"{name}_{metric}"] = (at2[i] + first * (n - 2)
                                               + second * (n - 2) * (n - 3) // 2)
    return predictions
### END SOLUTION


# %% [markdown]
# Your predictions beside measurements, where measuring is still possible (run after
# answering). The first line shows how f, f' and f'' compare for a scalar function.

# %%
f = lambda x: ag.sin(x) * ag.exp(x)
x0 = ag.tensor(0.7)
print("calls of f, f', f'':", [ag.count_ops(fn, x0).total
                               for fn in (f, ag.grad(f), ag.grad(ag.grad(f)))])

g = lambda x: ag.sum(ag.tanh(x) * x)
print(f"{'':>4} {'gradient, measured':>22} {'predicted':>16} {'Hessian, measured':>22} {'predicted':>16}")
print(f"{'n':>4}" + f" {'calls':>10} {'elements':>11} {'calls':>7} {'elements':>8}" * 2)
for n in (1, 2, 4, 8, 16, 32):
    x = ag.tensor(np.linspace(-0.9, 0.9, n))
    grad, hess = ag.count_ops(ag.grad(g), x), ag.count_ops(ag.hessian(g), x)
    p = predicted_costs(g, n)
    print(f"{n:>4} {grad.total:>10} {grad.elements:>11} {p['grad_calls']:>7} {p['grad_elements']:>8}"
          f" {hess.total:>10} {hess.elements:>11} {p['hessian_calls']:>7} {p['hessian_elements']:>8}")

# %% nbgrader={"grade": true, "grade_id": "q1_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q1 (1 point): run this cell to check your answer.
checks.q1_visible(predicted_costs)

# %% nbgrader={"grade": true, "grade_id": "q1_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q1 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q1(predicted_costs)
### END HIDDEN TESTS

# %% [markdown]
# **Q1 (written).** From your table: how do the calls and the elements of the gradient grow with
# n, and those of the Hessian? Explain each law from how reverse mode and forward-over-reverse
# work. Then say which of the two measures tells you about running time for large n, and why
# "the gradient's cost does not grow with n" is true of one and false of the other.

# %% [markdown] nbgrader={"grade": true, "grade_id": "q1_written", "locked": false, "schema_version": 3, "solution": true, "task": false, "points": 2}
# **Model answer (instructors only).** The gradient's primitive calls stay constant in n: one
# forward pass and one backward pass, each applying the same few primitives to whole arrays,
# whatever their length. Its elements grow linearly in n, because every one of those calls
# works on arrays of n numbers: the gradient costs a small constant multiple of g's own work,
# in flops as well. The Hessian, computed as `jacfwd(grad(g))`, pushes one tangent through
# the recorded gradient computation per input direction: n passes, so its calls grow
# linearly in n, and since each pass again works on n-vectors (and the result has n^2
# entries), its elements grow like n^2. For running time at large n the elements (flops) are
# what matters: a call costs roughly the same fixed overhead whatever n is, but the arithmetic
# inside it grows with n. "The gradient's cost is flat in n" is therefore true of the count of
# calls, an artefact of counting whole-array operations, and false of the flops, which grow
# with n, as g's own flops do.
#
# **Rubric (2 points).**
# - 1 point: the four laws read from the student's own numbers (gradient calls constant,
#   gradient elements linear, Hessian calls linear, Hessian elements quadratic), each with its
#   reason (one backward pass; whole-array calls on n-vectors; n forward passes through the
#   gradient; n passes of O(n) work or n^2 entries).
# - 1 point: calls versus flops: the elements (flops) decide the time for large n, and a flat
#   call count does not mean a flat cost; the gradient stays a constant multiple of g in flops.

# %% [markdown]
# ## Question 2 ({{points q2}}). Running backward twice
#
# Compute `y = f(x)` once, call `y.backward()`, then call `y.backward()` again. Find out what
# happens, then make several backward passes through the same graph work and watch `x.grad`.
#
# Write
#
# * `second_backward_error(f, x)`: builds the graph of `f` at the numpy array `x` (as a tensor that
#   requires grad), calls `backward()` on the output, then calls `backward()` again and returns the
#   exception that the second call raises (the exception object, not its message);
# * `accumulated_grad(f, x, times)`: builds the graph **once** and runs `times` backward passes
#   through it, then returns `x.grad` as a numpy array.

# %% nbgrader={"grade": false, "grade_id": "q2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
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
### END SOLUTION


# %%
f = lambda x: ag.sum(x * ag.sin(x))
x = np.array([0.5, 1.0, 2.0])
print("second backward:", repr(second_backward_error(f, x)))
for times in (1, 2, 3):
    print(f"x.grad after {times} backward pass(es):", accumulated_grad(f, x, times))

# %% nbgrader={"grade": true, "grade_id": "q2_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q2 (1 point): run this cell to check your answer.
checks.q2_visible(second_backward_error, accumulated_grad)

# %% nbgrader={"grade": true, "grade_id": "q2_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q2 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q2(second_backward_error, accumulated_grad)
### END HIDDEN TESTS

# %% [markdown]
# **Q2 (written).** Why does the second plain `backward()` fail, what does `retain_graph=True`
# change, and why does `x.grad` grow with each pass? When is that accumulation what you want, and
# what must a training loop do about it?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q2_written", "locked": false, "schema_version": 3, "solution": true, "task": false, "points": 1}
# **Model answer (instructors only).** A backward pass frees the intermediate values the graph saved for it (memory is released as
# soon as possible), so a second pass finds them gone and raises. `retain_graph=True` keeps them.
# Gradients are added into `.grad` instead of overwritten, so each pass adds f'(x) again: after k
# passes `x.grad` is k f'(x). Accumulation is useful to sum gradients over several losses or
# mini-batches; a training loop must zero the gradients (`x.grad = None` or `.zero_()`) before
# each step.
#
# **Rubric (1 point).**
# - 0.5 point: saved values are freed after the first backward; retain_graph keeps them.
# - 0.5 point: gradients accumulate (add up) in `.grad`, hence zeroing between steps.

# %% [markdown]
# ## Question 3 ({{points q3}}). Control flow with a vector or matrix input
#
# The function below doubles its input until it is large, then takes one branch or the other
# depending on the sign of the sum. With a scalar `a` its derivative is easy to read off. Now let
# `a` be a vector or a matrix: `f_control(a)` is no longer a scalar.

# %% nbgrader={"grade": false, "grade_id": "q3_given", "locked": true, "schema_version": 3, "solution": false, "task": false}
def f_control(a):
    b = a * 2
    while ag.norm(b) < 1000:
        b = b * 2
    if ag.sum(b) > 0:
        c = b
    else:
        c = 100 * b
    return c


# %% [markdown]
# Write
#
# * `control_flow_grad(a)`: for a numpy array `a` of any shape, the gradient of `sum(f_control(a))`
#   with respect to `a`, as a numpy array of `a`'s shape (call `backward` on the non-scalar output
#   with a suitable `gradient` argument, or on its sum);
# * `control_flow_jacobian(a)`: for a vector `a` of length n, the n-by-n Jacobian of `f_control`
#   at `a`, as a numpy array.

# %% nbgrader={"grade": false, "grade_id": "q3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def control_flow_grad(a):
    a = ag.tensor(a, requires_grad=True)
    d = f_control(a)
    d.backward(ag.ones_like(d))      # the same as d.sum().backward()
    return a.grad.numpy()


def control_flow_jacobian(a):
    return ag.jacrev(f_control)(ag.tensor(a)).numpy()
### END SOLUTION


# %%
ag.manual_seed(0)
for a in (ag.randn(3).numpy(), -ag.randn(2, 2).numpy() ** 2):
    d = f_control(ag.tensor(a)).numpy()
    print("a =", a.round(3).tolist())
    print("  f(a) / a        =", (d / a).round(3).tolist())
    print("  gradient of sum =", control_flow_grad(a).tolist())
print(control_flow_jacobian(np.array([0.3, -0.1, 0.4])))

# %% nbgrader={"grade": true, "grade_id": "q3_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q3 (1 point): run this cell to check your answer.
checks.q3_visible(control_flow_grad, control_flow_jacobian)

# %% nbgrader={"grade": true, "grade_id": "q3_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q3 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q3(control_flow_grad, control_flow_jacobian)
### END HIDDEN TESTS

# %% [markdown]
# **Q3 (written).** What is `f_control(a)` as a function of `a`, what does its Jacobian look like,
# and what exactly does `backward` compute when the output is not a scalar?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q3_written", "locked": false, "schema_version": 3, "solution": true, "task": false, "points": 1}
# **Model answer (instructors only).** For any input the loop and the branch only pick a number: `f_control(a) = k a` with k a power
# of two (times 100 on the negative branch) that depends on the norm and sign of the sum of a. So
# f is piecewise linear and its Jacobian is k times the identity (elementwise scaling). With a
# non-scalar output, backward needs a vector v of the output's shape and computes vᵀJ (a
# vector-Jacobian product); v of ones gives the gradient of the sum, k in every entry, which is
# why `a.grad` equals `f(a) / a`.
#
# **Rubric (1 point).**
# - 0.5 point: f(a) = k a with k chosen by the loop count and the branch; Jacobian k I.
# - 0.5 point: backward of a non-scalar output computes a vector-Jacobian product (needs a
#   gradient argument / a reduction to a scalar).

# %% [markdown]
# ## Question 4 ({{points q4}}). The derivative of sin, found by autodiff
#
# Plot sin(x) and its derivative, where the derivative comes from automatic differentiation of
# `ag.sin`, not from knowing that it is cos(x): `sin_derivative` must not mention cos at all, and
# its cell must differentiate with the library (the checks read your code as well as run it).
#
# Write
#
# * `sin_derivative(xs)`: for a numpy array of points (any shape), the derivative of sin at each
#   point, computed by the library, as a numpy array of the same shape;
# * `tangent_plot(x0)`: draws, on one new figure, sin(x), its derivative from `sin_derivative`
#   (at least 20 points each) and the tangent line to sin at `x0`, and returns the figure.

# %% nbgrader={"grade": false, "grade_id": "q4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
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
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "q4_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q4 (1 point): run this cell to check your answer.
checks.q4_visible(sin_derivative, tangent_plot)

# %% nbgrader={"grade": true, "grade_id": "q4_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q4 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q4(sin_derivative, tangent_plot)
### END HIDDEN TESTS

# %% [markdown]
# **Q4 (widget, graded by hand).** Make the plot interactive: a slider for the tangent point `x0`
# that redraws `tangent_plot(x0)` (for example with `widgets.interact` and a
# `widgets.FloatSlider`). Where is the tangent horizontal, and what is the derivative curve there?

# %% nbgrader={"grade": true, "grade_id": "q4_widget", "locked": false, "schema_version": 3, "solution": true, "task": false, "points": 1}
### BEGIN SOLUTION
def show_tangent(x0=1.0):
    tangent_plot(x0)
    plt.show()


widgets.interact(show_tangent, x0=widgets.FloatSlider(value=1.0, min=-6.0, max=6.0, step=0.05,
                                                      description="x0"));
### END SOLUTION

# %% [markdown]
# ## Question 5 ({{points q5}}). The dependency graph of a function, as data
#
# Take f(x) = log(x²) · sin(x) + 1/x. Write its dependency graph as data: a dict, in the order the
# values are computed, from a node's name to a tuple `(operation, parent, ...)`. One node is
# `("input",)` (it stands for x), a node `("const", 2.0)` holds a number, and every other node
# applies **one** elementary operation to earlier nodes. The last node is f. The elementary
# operations are
#
# | one parent | two parents |
# |---|---|
# | `neg`, `square`, `reciprocal`, `sqrt`, `exp`, `log`, `sin`, `cos` | `add`, `sub`, `mul`, `div`, `pow` |
#
# For example, 3 sin(x) could be `{"x": ("input",), "c": ("const", 3.0), "s": ("sin", "x"),
# "y": ("mul", "c", "s")}`. Any correct decomposition is accepted: the checks evaluate your graph
# at points you do not know.

# %% nbgrader={"grade": false, "grade_id": "q5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
graph = {
    "x": ("input",),
    "a": ("square", "x"),       # a = x^2
    "b": ("log", "a"),          # b = log(x^2)
    "c": ("sin", "x"),          # c = sin(x)
    "d": ("mul", "b", "c"),     # d = log(x^2) sin(x)
    "e": ("reciprocal", "x"),   # e = 1/x
    "f": ("add", "d", "e"),     # f = d + e
}
### END SOLUTION

# %%
for name, (op, *parents) in graph.items():
    print(f"{name:>4} = {op}({', '.join(map(str, parents))})")

# %% nbgrader={"grade": true, "grade_id": "q5_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q5 (1 point): run this cell to check your answer.
checks.q5_visible(graph)

# %% nbgrader={"grade": true, "grade_id": "q5_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q5 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q5(graph)
### END HIDDEN TESTS

# %% [markdown]
# ## Question 6 ({{points q6}}). The chain rule on a graph
#
# Put the chain rule on a graph written as in question 5. Each edge (parent → child) carries a
# *local partial*: the derivative of the child's operation with respect to that parent, at the
# values the nodes have for the given x. The derivative of the output with respect to x is the
# sum, over all paths from the input to the output, of the product of the local partials along
# the path.
#
# Your functions receive the graph as an argument, so they work for any graph, not only for the
# graph of f: the tests run them on the example graph below (y = sin(3x)·eˣ + x²), on a correct
# graph of f, and on other graphs. A mistake in question 5 therefore costs no points here.
# `node_values(graph, x)` (given) computes the value of every node.
#
# Write
#
# * `edge_partials(graph, x)`: a dict from `(parent, child)` to the local partial at `x` (a
#   float), for every edge whose parent depends on x (edges leaving `const` nodes carry none). A
#   node that uses the same parent twice, like `("mul", "x", "x")`, has one edge from it, whose
#   partial is the sum of both (2x here);
# * `all_paths(graph)`: the list of all paths from the input to the output (the last node), each a
#   list of node names;
# * `df_dx(graph, x)`: the derivative of the output at `x`, as the sum over `all_paths(graph)` of
#   the products of `edge_partials(graph, x)` along each path.

# %% nbgrader={"grade": false, "grade_id": "q6_given", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

VALUE = {"neg": lambda u: -u, "square": lambda u: u * u, "reciprocal": lambda u: 1 / u,
         "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos,
         "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}


def node_values(graph, x):
    """The value of every node of `graph` at input `x`."""
    values = {}
    for node, (op, *args) in graph.items():
        if op == "input":
            values[node] = x
        elif op == "const":
            values[node] = args[0]
        else:
            values[node] = VALUE[op](*[values[parent] for parent in args])
    return values


example_graph = {       # y = sin(3x) exp(x) + x^2
    "x": ("input",), "c": ("const", 3.0), "u": ("mul", "c", "x"), "s": ("sin", "u"),
    "e": ("exp", "x"), "p": ("mul", "s", "e"), "q": ("square", "x"), "y": ("add", "p", "q"),
}

# %% nbgrader={"grade": false, "grade_id": "q6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
LOCAL = {   # op -> its partial derivatives with respect to each parent, at the parents' values
    "neg": lambda u: [-1.0],
    "square": lambda u: [2 * u],
    "reciprocal": lambda u: [-1 / u ** 2],
    "sqrt": lambda u: [0.5 / math.sqrt(u)],
    "exp": lambda u: [math.exp(u)],
    "log": lambda u: [1 / u],
    "sin": lambda u: [math.cos(u)],
    "cos": lambda u: [-math.sin(u)],
    "add": lambda a, b: [1.0, 1.0],
    "sub": lambda a, b: [1.0, -1.0],
    "mul": lambda a, b: [b, a],
    "div": lambda a, b: [1 / b, -a / b ** 2],
    # a ** b: the exponent's partial is needed only when b depends on x (then a > 0)
    "pow": lambda a, b: [b * a ** (b - 1), a ** b * math.log(a) if a > 0 else math.nan],
}


def depends_on_x(graph):
    """The nodes whose value changes with x."""
    live = set()
    for node, (op, *args) in graph.items():
        if op == "input" or (op != "const" and any(p in live for p in args)):
            live.add(node)
    return live


def edge_partials(graph, x):
    values, live, local = node_values(graph, x), depends_on_x(graph), {}
    for node, (op, *args) in graph.items():
        if op in ("input", "const"):
            continue
        for parent, d in zip(args, LOCAL[op](*[values[p] for p in args])):
            if parent in live:
                local[(parent, node)] = local.get((parent, node), 0.0) + d
    return local


def all_paths(graph):
    nodes = list(graph)
    start = next(n for n in nodes if graph[n][0] == "input")
    children = {n: [] for n in nodes}
    for node, (op, *args) in graph.items():
        if op != "const":
            for parent in dict.fromkeys(args):
                children[parent].append(node)
    paths = []

    def extend(path):
        if path[-1] == nodes[-1]:
            paths.append(path)
        for child in children[path[-1]]:
            extend(path + [child])
    extend([start])
    return paths


def df_dx(graph, x):
    local = edge_partials(graph, x)
    total = 0.0
    for path in all_paths(graph):
        product = 1.0
        for parent, child in zip(path, path[1:]):
            product *= local[(parent, child)]
        total += product
    return total
### END SOLUTION

# %%
for path in all_paths(example_graph):
    print(" -> ".join(path))
x0 = 0.5
print(f"dy/dx at {x0}: {df_dx(example_graph, x0):.6f}, autograd_lite: "
      f"{ag.grad(lambda x: ag.sin(3 * x) * ag.exp(x) + x ** 2)(ag.tensor(x0)).item():.6f}")
print(f"df/dx of your graph of f at 1.5: {df_dx(graph, 1.5):.6f}, autograd_lite: "
      f"{ag.grad(lambda x: ag.log(x ** 2) * ag.sin(x) + 1 / x)(ag.tensor(1.5)).item():.6f}")

# %% nbgrader={"grade": true, "grade_id": "q6_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q6 (1 point): run this cell to check your answer.
checks.q6_visible(edge_partials, all_paths, df_dx)

# %% nbgrader={"grade": true, "grade_id": "q6_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q6 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q6(edge_partials, all_paths, df_dx)
### END HIDDEN TESTS

# %% [markdown]
# ## Question 7 ({{points q7}}). Forward and backward over a graph
#
# Evaluate the derivative over a graph both ways, reusing `edge_partials`. As in question 6 the
# tests give your functions the graphs.
#
# * `forward_tangents(graph, x)`: forward mode, from the input to the output. The tangent of a
#   node is d(node)/dx: 1 at the input, and at every other node the sum over its parents of
#   (local partial) × (parent's tangent). Return a dict from node name to tangent, for every node
#   that depends on x.
# * `backward_adjoints(graph, x)`: reverse mode, from the output back to the input. The adjoint of
#   a node is d(output)/d(node): 1 at the output, and at every other node the sum over its
#   children of (child's adjoint) × (local partial). Return a dict from node name to adjoint, for
#   every node that depends on x.
#
# Both must end at the derivative: the tangent of the output and the adjoint of the input.

# %% nbgrader={"grade": false, "grade_id": "q7_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def forward_tangents(graph, x):
    local, tangent = edge_partials(graph, x), {}
    for node, (op, *args) in graph.items():
        if op == "input":
            tangent[node] = 1.0
        elif op != "const" and any(p in tangent for p in args):
            tangent[node] = sum(local[(p, node)] * tangent[p]
                                for p in dict.fromkeys(args) if p in tangent)
    return tangent


def backward_adjoints(graph, x):
    local, live = edge_partials(graph, x), depends_on_x(graph)
    nodes = list(graph)
    adjoint = {node: 0.0 for node in nodes if node in live}
    adjoint[nodes[-1]] = 1.0
    for node in reversed(nodes):
        op, *args = graph[node]
        if node not in live or op == "input":
            continue
        for parent in dict.fromkeys(args):
            if (parent, node) in local:
                adjoint[parent] += adjoint[node] * local[(parent, node)]
    return adjoint
### END SOLUTION

# %%
x0 = 0.5
tangents, adjoints = forward_tangents(example_graph, x0), backward_adjoints(example_graph, x0)
print(f"{'node':>5} {'tangent d(node)/dx':>20} {'adjoint dy/d(node)':>20}")
for node in example_graph:
    print(f"{node:>5} {tangents.get(node, 0.0):>20.6f} {adjoints.get(node, 0.0):>20.6f}")

# %% nbgrader={"grade": true, "grade_id": "q7_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q7 (1 point): run this cell to check your answer.
checks.q7_visible(forward_tangents, backward_adjoints)

# %% nbgrader={"grade": true, "grade_id": "q7_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q7 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q7(forward_tangents, backward_adjoints)
### END HIDDEN TESTS

# %% [markdown]
# ## Question 8 ({{points q8}}). Forward or reverse mode, and where they cross
#
# `ag.jacfwd(f)` builds the Jacobian of f: R^n → R^m by forward mode, `ag.jacrev(f)` by reverse
# mode. The rule of thumb says forward mode wins when n < m. Find the exact rule for the map
# `make_f(n, m)` given below, counting primitive calls (`.total`), and use it where measuring
# is out of reach.
#
# Write
#
# * `predicted_jacobian_calls(n, m)`: a dict with the predicted `.total` of
#   `ag.count_ops(ag.jacfwd(f), x)` as `"jacfwd"` and of `ag.jacrev(f)` as `"jacrev"`, for
#   `f = make_f(n, m)` and an input `x` of size n, for n and m up to a million;
# * `crossover_m(n)`: for `make_f(n, m)` with this n, the largest m for which reverse mode
#   needs fewer primitive calls than forward mode (0 if there is none).

# %% nbgrader={"grade": false, "grade_id": "q8_given", "locked": true, "schema_version": 3, "solution": false, "task": false}
def make_f(n, m, seed=0):
    """A map from R^n to R^m: tanh of a fixed random m-by-n matrix times x."""
    A = ag.tensor(np.random.default_rng(seed).normal(size=(m, n)))
    return lambda x: ag.tanh(A @ x)

# %% nbgrader={"grade": false, "grade_id": "q8_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def _calls(transform, n, m):
    return ag.count_ops(transform(make_f(n, m)), ag.tensor(np.linspace(-1.0, 1.0, n))).total


def predicted_jacobian_calls(n, m):
    # Forward mode: one pass per input, whatever m is. Reverse mode: one pass per output.
    forward_1, forward_2 = _calls(ag.jacfwd, 1, 1), _calls(ag.jacfwd, 2, 1)
    reverse_1, reverse_2 = _calls(ag.jacrev, 1, 1), _calls(ag.jacrev, 1, 2)
    return {"jacfwd": forward_1 + (forward_2 - forward_1) * (n - 1),
            "jacrev": reverse_1 + (reverse_2 - reverse_1) * (m - 1)}


def crossover_m(n):
    forward = predicted_jacobian_calls(n, 1)["jacfwd"]
    reverse_1 = predicted_jacobian_calls(1, 1)["jacrev"]
    per_output = predicted_jacobian_calls(1, 2)["jacrev"] - reverse_1
    # the largest m with reverse_1 + per_output * (m - 1) < forward
    return max(0, -(-(forward - reverse_1) // per_output))
### END SOLUTION


# %% [markdown]
# Your predictions beside measurements (run after answering), then the two costs for n = 16 as
# m grows, with your crossover marked.

# %%
print(f"{'n':>4} {'m':>4} {'jacfwd':>8} {'predicted':>10} {'jacrev':>8} {'predicted':>10}")
for n, m in ((1, 16), (4, 16), (16, 16), (16, 4), (16, 1)):
    x = ag.tensor(np.linspace(-1.0, 1.0, n))
    fwd = ag.count_ops(ag.jacfwd(make_f(n, m)), x).total
    rev = ag.count_ops(ag.jacrev(make_f(n, m)), x).total
    p = predicted_jacobian_calls(n, m)
    print(f"{n:>4} {m:>4} {fwd:>8} {p['jacfwd']:>10} {rev:>8} {p['jacrev']:>10}")

# %%
import matplotlib.pyplot as plt

n = 16
ms = np.arange(1, 25)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ms, [predicted_jacobian_calls(n, m)["jacfwd"] for m in ms], "o-", label="jacfwd")
ax.plot(ms, [predicted_jacobian_calls(n, m)["jacrev"] for m in ms], "s-", label="jacrev")
ax.axvline(crossover_m(n) + 0.5, color="gray", ls="--", label=f"crossover (m = {crossover_m(n)})")
ax.set_xlabel("m, the number of outputs (n = 16 inputs)")
ax.set_ylabel("primitive calls")
ax.legend()
plt.show()

# %% nbgrader={"grade": true, "grade_id": "q8_visible_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 1}
# Visible tests for q8 (1 point): run this cell to check your answer.
checks.q8_visible(predicted_jacobian_calls, crossover_m)

# %% nbgrader={"grade": true, "grade_id": "q8_hidden_tests", "locked": true, "schema_version": 3, "solution": false, "task": false, "points": 2}
# Hidden tests for q8 (2 points) run here when your notebook is graded,
# on inputs you have not seen: make your answer work for any input.
### BEGIN HIDDEN TESTS
from autodiff_instructor import hidden
hidden.q8(predicted_jacobian_calls, crossover_m)
### END HIDDEN TESTS

# %% [markdown]
# **Q8 (written).** State the rule you found, and explain why the crossover is not at m = n.
# Then compare the two modes on the memory they need for intermediate values and on the sizes
# of the vectors each pass pushes. Which mode does training a neural network use, and why?

# %% [markdown] nbgrader={"grade": true, "grade_id": "q8_written", "locked": false, "schema_version": 3, "solution": true, "task": false, "points": 2}
# **Model answer (instructors only).** Forward mode builds the Jacobian one column per pass, so
# its cost grows with n and not with m; reverse mode builds it one row per pass, so its cost
# grows with m and not with n. Each is linear, but with its own constants: a reverse pass
# costs more primitive calls than a forward pass (it runs the function once and then the
# backward rules, with their extra broadcasts and sums), so reverse mode is cheaper only
# while m is somewhat below n (the plot above marks where, for n = 16), not all the way to m = n. Memory:
# forward mode carries one tangent beside each value and can forget values as it goes;
# reverse mode keeps the intermediates of the whole forward pass until the backward pass has
# used them (memory grows with the length of the computation; checkpointing trades it for
# recomputation). Sizes: a JVP pushes vectors of the input's size, a VJP of the output's.
# Training has millions of parameters and one scalar loss (m = 1), so reverse mode
# (backpropagation) gives the whole gradient in one backward pass.
#
# **Rubric (2 points).**
# - 0.5 point: the rule, forward cost linear in n and reverse cost linear in m, with the
#   crossover off m = n because the two passes cost different constants (the student's own
#   measured laws).
# - 0.5 point: memory: reverse mode stores the forward pass's intermediates; forward does not.
# - 0.5 point: sizes: a JVP carries input-sized tangents, a VJP output-sized cotangents.
# - 0.5 point: scalar loss with many parameters -> reverse mode (backpropagation).

# %% [markdown]
# ## Self-check
#
# Run this cell to run every visible test at once. It prints a pass/fail line per question; the
# hidden tests run only when your notebook is graded.

# %% nbgrader={"grade": false, "grade_id": "self_check", "locked": true, "schema_version": 3, "solution": false, "task": false}
from graders.selfcheck import run_all
summary = run_all(globals())
