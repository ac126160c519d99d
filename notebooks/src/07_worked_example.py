# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/07_worked_example.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 7. A worked example, step by step
#
# We now follow one function through everything the course has built, one elementary step at
# a time:
#
# $$f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2 \qquad\text{at}\qquad (x_1, x_2) = (2, 5).$$
#
# First the evaluation trace and its graph, then the forward (tangent) sweep, then the reverse
# (adjoint) sweep, each with a slider that replays the sweep on the graph. Finally we check
# the answers against finite differences and against SymPy's symbolic derivative.

# %%
import io

import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag
from autograd_lite.instruments.widgets import figure_with_sliders


def f(x1, x2):
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


tr = ag.trace(f, 2.0, 5.0)
tr

# %% [markdown]
# ## Step 1: the evaluation trace
#
# Five elementary operations. The inputs get the names $v_{-1} = x_1$ and $v_0 = x_2$.

# %%
tr.primal_table()

# %%
ag.draw_graph(tr)

# %% [markdown]
# ## Step 2: the forward sweep
#
# To get $\partial f / \partial x_1$ in forward mode, seed the tangents $\dot x_1 = 1$,
# $\dot x_2 = 0$ and push them down the trace. Each tangent uses only the tangents above it
# and the primal values of the same row.

# %%
forward = tr.forward(seed=(1.0, 0.0), numbers=True)
forward


# %% [markdown]
# Move the slider to replay the forward sweep on the graph: at step $k$, the tangent of the
# $k$-th operation is computed from its operands (highlighted), and the title shows the rule
# with its value.

# %%
def forward_step(step):
    return tr.draw_step(step, mode="forward", seed=(1.0, 0.0), edge_labels=True)


forward_steps = len(tr.steps("forward", seed=(1.0, 0.0)))
print("forward sweep: steps 0 to", forward_steps - 1)
figure_with_sliders(forward_step, step=(0, forward_steps - 1, 1, 0))


# %% [markdown]
# Where no slider can move (a printout, GitHub's viewer), the whole sweep at once, one small
# picture per step, read left to right and top to bottom:

# %%
def sweep_at_a_glance(frames, columns=2):
    """Every frame of a sweep as small multiples, in the order the sweep runs."""
    rows = -(-len(frames) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(9, 1.6 * rows))
    for ax in axes.ravel():
        ax.axis("off")          # pictures of graphs: no axes to label
    for ax, frame in zip(axes.ravel(), frames):
        ax.imshow(plt.imread(io.BytesIO(frame.render("png")), format="png"))
    fig.tight_layout()
    return fig


sweep_at_a_glance(tr.steps("forward", seed=(1.0, 0.0)))
plt.show()

# %% [markdown]
# The second partial derivative needs a second forward sweep, seeded with $(0, 1)$:

# %%
tr.forward(seed=(0.0, 1.0), numbers=True)

# %% [markdown]
# ## Step 3: the reverse sweep
#
# Reverse mode gets both partial derivatives from one sweep. Seed $\bar y = 1$ and walk the
# trace backwards. Watch $\bar v_{-1}$ and $\bar v_0$: each input is used twice, so each
# adjoint is updated twice, and the second update adds to the first.

# %%
reverse = tr.reverse(numbers=True)
reverse


# %%
def reverse_step(step):
    return tr.draw_step(step, mode="reverse", edge_labels=True)


reverse_steps = len(tr.steps("reverse"))
print("reverse sweep: steps 0 to", reverse_steps - 1)
figure_with_sliders(reverse_step, step=(0, reverse_steps - 1, 1, 0))

# %% [markdown]
# And the whole reverse sweep at once:

# %%
sweep_at_a_glance(tr.steps("reverse"))
plt.show()

# %% [markdown]
# The graph at the end of the reverse sweep, every node labelled with its adjoint:

# %%
ag.draw_graph(tr, edge_labels=True, overlay="adjoint")

# %% [markdown]
# ## Step 4: check the answers
#
# The gradient from the reverse sweep, the two forward sweeps, `ag.grad`, central finite
# differences and SymPy's symbolic derivative, side by side, to 8 decimals.

# %%
forward_result = (tr.forward(seed=(1.0, 0.0)).result, tr.forward(seed=(0.0, 1.0)).result)
library = tuple(g.item() for g in ag.grad(f, argnums=(0, 1))(2.0, 5.0))
numerical = tuple(ag.fd_gradient(lambda x: f(x[0], x[1]), np.array([2.0, 5.0])))
symbolic = ag.symbolic_derivative(f, 2.0, 5.0)
rows = {"reverse sweep (one pass)": reverse.result,
        "forward sweeps (two passes)": forward_result,
        "ag.grad": library,
        "central finite differences": numerical,
        "SymPy, evaluated": symbolic.symbolic_values}
for name, (d1, d2) in rows.items():
    print(f"{name:28s} df/dx1 = {d1:.8f}   df/dx2 = {d2:.8f}")

# %% [markdown]
# At 8 decimals all five rows look the same, but they are not equally exact. AD and the
# symbolic derivative agree to rounding; finite differences carry an approximation error that
# is too small to show at this precision. We measure each row against the reverse sweep
# directly. (The last digits depend on the machine's rounding, so we print bounds.)

# %%
for name, values in rows.items():
    error = np.max(np.abs(np.subtract(values, reverse.result)))
    bound = next(b for b in [1e-15, 1e-9, 1e-6, np.inf] if error <= b)
    print(f"{name:28s} largest difference from the reverse sweep: at most {bound:.0e}"
          + ("  (rounding)" if bound <= 1e-15 else ""))

# %%
symbolic.table()

# %% [markdown]
# ## Summary
#
# - The trace of $f$ has five operations; both inputs feed two of them.
# - Forward mode: one sweep per input direction; the tangent of each row follows from the rows
#   above it.
# - Reverse mode: one sweep for the whole gradient; adjoints flow from $\bar y = 1$ back to the
#   inputs and accumulate where a value is used more than once.
# - All methods agree to the 8 decimals shown. Finite differences alone carry an
#   approximation error, too small to see at that precision; measured against AD, it is
#   bounded in step 4.
#
# **Exercise.** Change the point to $(x_1, x_2) = (0.5, -1)$ and predict the signs of the
# adjoints before re-running the reverse sweep.
