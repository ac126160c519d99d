# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/08_summary.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 8. Summary: four ways to get a derivative
#
# We close the course by measuring the four methods side by side on the same problems:
#
# - **numerical** differentiation (forward, central and complex-step finite differences),
# - **symbolic** differentiation (SymPy),
# - **forward-mode** AD (one JVP per input),
# - **reverse-mode** AD (one VJP for the whole gradient).
#
# For each we measure the **cost** of a full gradient and its **accuracy**. Cost is counted by
# running: elementary operations applied, where one evaluation of $f$ costs what
# `ag.count_ops` measures, finite differences cost their number of $f$ calls times that, and
# a symbolic gradient costs the operations in its formulas (`sympy.count_ops`). Those are
# counted as trees, where a subexpression that appears twice counts twice; a second symbolic
# row counts them after `sympy.cse` has named every repeated subexpression once. Accuracy is
# the largest error against a 30-digit evaluation of the exact symbolic derivative. Finite
# differences use fixed steps ($h = 10^{-5}$ forward, $10^{-3}$ central, $10^{-20}$ complex),
# where their error is mostly truncation, so the table is the same on every machine. Their
# call counts include one call at $\mathbf{x}$ itself: the forward formula needs $f(\mathbf{x})$;
# the central and complex-step formulas do not, and `fd_gradient` makes that call only to learn
# the shape of $f$'s output.

# %%
import numpy as np
import matplotlib.pyplot as plt
import sympy
from IPython.display import Markdown, display
import autograd_lite as ag

# %%
STEPS = {"forward": 1e-5, "central": 1e-3, "complex": 1e-20}


def magnitude(error):
    """Two significant digits; rounding-level errors (whose digits vary by machine) as a bound."""
    if error < 1e-14:
        return "< 1e-14 (rounding only)"
    return f"{error:.1e}"


def plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def compare(f, x0):
    """Measure every method on the gradient of f(*scalars) at x0; return the table rows."""
    x0 = np.asarray(x0, dtype=float)
    n = len(x0)

    def f_vec(x):
        return f(*[x[i] for i in range(n)])

    symbolic = ag.symbolic_derivative(f, *x0)
    point = dict(zip(symbolic.symbols, [sympy.Float(v, 30) for v in x0]))
    exact = np.array([float(d.evalf(30, subs=point)) for d in symbolic.derivatives])
    f_ops = ag.count_ops(f_vec, x0).total

    rows = []
    for method, h in STEPS.items():
        calls = {"at x": 0, "perturbed": 0}

        def counted(x):
            calls["at x" if np.array_equal(np.asarray(x), x0) else "perturbed"] += 1
            return f_vec(x)

        estimate = ag.fd_gradient(counted, x0, h=h, method=method)
        total = sum(calls.values())
        rows.append((f"finite differences, {method}",
                     plural(total, "call") + f" of f ({calls['at x']} at x)", total * f_ops,
                     "-", magnitude(np.max(np.abs(estimate - exact)))))
    symbolic_values = np.array(symbolic.symbolic_values)
    rows.append(("symbolic (SymPy), formula trees", plural(n, "formula"), symbolic.derivative_size,
                 "-", magnitude(np.max(np.abs(symbolic_values - exact)))))
    pieces, reduced = sympy.cse(list(symbolic.derivatives))
    shared_ops = sum(sympy.count_ops(p) for _, p in pieces) + sum(sympy.count_ops(r) for r in reduced)
    values = {s: sympy.Float(v) for s, v in zip(symbolic.symbols, x0)}
    for name, piece in pieces:                  # evaluate the named pieces in order, in floats
        values[name] = piece.evalf(subs=values)
    shared_values = np.array([float(r.evalf(subs=values)) for r in reduced])
    rows.append(("symbolic, shared subexpressions (sympy.cse)",
                 plural(len(pieces), "named piece") + f", {plural(n, 'formula')}", shared_ops,
                 "-", magnitude(np.max(np.abs(shared_values - exact)))))
    forward = ag.count_ops(ag.jacfwd(f_vec), x0)
    rows.append(("forward-mode AD", plural(n, "JVP"), forward.total, forward.stored,
                 magnitude(np.max(np.abs(forward.result.numpy() - exact)))))
    reverse = ag.count_ops(ag.grad(f_vec), x0)
    rows.append(("reverse-mode AD", "1 VJP", reverse.total, reverse.stored,
                 magnitude(np.max(np.abs(reverse.result.numpy() - exact)))))
    return f_ops, rows


def show(title, f_ops, rows):
    lines = [f"**{title}** (one evaluation of $f$: {f_ops} operations)", "",
             "| method | work | operations | ratio to $f$ | values stored | largest error |",
             "|---|---|---|---|---|---|"]
    for name, work, ops, stored, error in rows:
        lines.append(f"| {name} | {work} | {ops} | {ops / f_ops:.1f} | {stored} | {error} |")
    display(Markdown("\n".join(lines)))


# %% [markdown]
# ## Problem A: many inputs, a flat formula
#
# $f(x_1, \dots, x_8) = \sum_{i} \big(\ln(x_i)\, x_{i+1} - \sin x_i\big)$ (indices wrap around),
# at one point of $\mathbb{R}^8$ whose coordinates are spread evenly from 0.5 to 2. This is the shape of a training loss: many inputs, one
# output, no deep nesting.

# %%
N = 8


def flat(*x):
    total = ag.log(x[0]) * x[1] - ag.sin(x[0])
    for i in range(1, N):
        total = total + ag.log(x[i]) * x[(i + 1) % N] - ag.sin(x[i])
    return total


f_ops_a, rows_a = compare(flat, np.linspace(0.5, 2.0, N))
show("Problem A: 8 inputs, flat", f_ops_a, rows_a)

# %% [markdown]
# Forward-mode AD and forward differences both make one pass per input, yet AD counts more
# operations. A forward difference costs exactly one evaluation of $f$; a JVP runs every
# operation of $f$ and, next to it, that operation's tangent rule (a product needs two
# multiplications and an addition), so it costs a few evaluations' worth. What the extra
# work buys is exactness: no step $h$, no truncation error.

# %%
ops_a = {name: ops for name, _, ops, _, _ in rows_a}
print(f"forward-mode AD / forward differences: "
      f"{ops_a['forward-mode AD'] / ops_a['finite differences, forward']:.1f} times the operations")
print(f"one JVP: {ops_a['forward-mode AD'] / N / f_ops_a:.1f} evaluations of f; "
      f"one forward difference: 1")


# %% [markdown]
# ## Problem B: one input, deep nesting
#
# $y \leftarrow y \sin y$ repeated six times, starting from $y = x$, at $x = 0.9$. One input,
# so forward mode needs only one pass, but every step reuses the previous value twice, which
# is where symbolic formulas swell.

# %%
def nested(x):
    y = x
    for _ in range(6):
        y = y * ag.sin(y)
    return y


f_ops_b, rows_b = compare(nested, [0.9])
show("Problem B: 1 input, 6 nested levels", f_ops_b, rows_b)


# %% [markdown]
# ## Cost as the number of inputs grows
#
# The decisive difference for machine learning: we repeat the cost measurement of Problem A
# with more inputs (a loss written over a vector, as a real model would) and plot each
# method's cost relative to one evaluation of $f$.

# %%
def vector_loss(x):
    return ag.sum(ag.log(x) * ag.concatenate([x[1:], x[:1]]) - ag.sin(x))


sizes = [2, 8, 32, 128, 512]
ratios = {"finite differences, central": [], "forward-mode AD": [], "reverse-mode AD": []}
calls = 0


def counted_loss(x):
    global calls
    calls += 1
    return vector_loss(x)


for n in sizes:
    x = np.linspace(0.5, 2.0, n)
    base = ag.count_ops(vector_loss, x).total
    calls = 0
    ag.fd_gradient(counted_loss, x, method="central")
    ratios["finite differences, central"].append(calls)      # each call costs one f
    ratios["forward-mode AD"].append(ag.count_ops(ag.jacfwd(vector_loss), x).total / base)
    ratios["reverse-mode AD"].append(ag.count_ops(ag.grad(vector_loss), x).total / base)

fig, ax = plt.subplots(figsize=(6, 3.8))
for label, values in ratios.items():
    ax.loglog(sizes, values, "o-", label=label)
ax.set_xlabel("number of inputs n")
ax.set_ylabel("cost of the gradient / cost of f")
ax.legend()
plt.show()
for label, values in ratios.items():
    print(f"{label:30s}", [round(v, 1) for v in values])

# %% [markdown]
# ## What the measurements say
#
# - **Finite differences** are the easiest to write and cost $n + 1$ (forward) or $2n$
#   (central, plus the one call for the output's shape) evaluations of $f$, as counted; the forward and central errors are
#   approximation errors, orders of magnitude above rounding in both tables. The complex step
#   is accurate but needs analytic code that accepts complex numbers, and still costs about
#   $n$ evaluations.
# - **Symbolic** differentiation gives exact formulas; on the flat problem they are as small
#   as the function, on the nested one their trees are many times larger than the program
#   that computes $f$ (expression swell). Naming shared subexpressions once (`sympy.cse`)
#   brings them back to the order of AD's work: AD is, in effect, symbolic differentiation
#   with shared subexpressions, evaluated as numbers on the way.
# - **Forward-mode AD** is exact to rounding and costs one pass per input: ideal for few
#   inputs (Problem B), linear in $n$ otherwise, and a constant factor above forward
#   differences (measured after Problem A).
# - **Reverse-mode AD** is exact to rounding and costs a small constant multiple of $f$
#   whatever $n$ is, paying with memory for the stored intermediate values. That is why
#   every deep learning framework is built around it.
#
# Those bullet points restate the tables above; rerun the notebook with other functions and
# sizes to test them.
#
# ## Where to go from here
#
# - Read `autograd_lite/primitives.py`: every rule used in this course, each a few lines.
# - The exercises of the course (`course/`) ask you to build traces and sweeps yourself.
# - Further reading: Baydin, Pearlmutter, Radul and Siskind, *Automatic differentiation in
#   machine learning: a survey* (JMLR, 2018); Griewank and Walther, *Evaluating Derivatives*
#   (SIAM, 2008).
