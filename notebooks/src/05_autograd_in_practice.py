# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/05_autograd_in_practice.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 5. Autograd in practice
#
# The earlier notebooks built automatic differentiation (AD) from the inside: traces, tangents,
# adjoints. This one uses it the way you will use it every day, through a tensor that records
# what was computed and a `backward()` call that replays the record in reverse.
#
# `autograd_lite` deliberately copies PyTorch's names, so everything here transfers directly.
# Where a name differs, the PyTorch spelling is given next to ours.
#
# | What | autograd_lite | PyTorch |
# |---|---|---|
# | import | `import autograd_lite as ag` | `import torch` |
# | make a tensor | `ag.tensor`, `ag.arange`, `ag.randn` | `torch.tensor`, `torch.arange`, `torch.randn` |
# | ask for gradients | `x.requires_grad_(True)` | `x.requires_grad_(True)` |
# | reverse sweep | `y.backward()` | `y.backward()` |
# | read a gradient | `x.grad` | `x.grad` |
# | clear it | `x.grad.zero_()` or `x.grad = None` | `x.grad.zero_()` or `x.grad = None` |
# | cut the graph | `y.detach()` | `y.detach()` |
# | stop recording | `with ag.no_grad():` | `with torch.no_grad():` |
# | functional gradient | `ag.grad(f)(x)` | `torch.func.grad(f)(x)` |
# | reproducible randomness | `ag.manual_seed(0)` | `torch.manual_seed(0)` |

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag
from autograd_lite.instruments.widgets import figure_with_sliders

# %% [markdown]
# ## A first gradient: $y = 2\,\mathbf{x}^\top\mathbf{x}$
#
# We differentiate $y = 2\,\mathbf{x}^\top\mathbf{x} = 2\sum_i x_i^2$ with respect to the vector
# $\mathbf{x}$. Calculus tells us in advance what to expect: $\partial y / \partial x_i = 4x_i$,
# so $\nabla_{\mathbf{x}} y = 4\mathbf{x}$. That gives us something to check the machine against.

# %%
x = ag.arange(4.0)
x

# %% [markdown]
# A gradient has the same shape as the variable it belongs to, and it has to be stored
# somewhere. Marking `x` with `requires_grad_(True)` tells the library two things: record every
# operation that uses `x`, and keep a `.grad` slot on `x`. Until a backward pass has run, the slot
# is empty.

# %%
x.requires_grad_(True)
print(x.grad)

# %%
y = 2 * ag.dot(x, x)
y

# %% [markdown]
# The `grad_fn` in the printout is the last recorded operation: `y` knows it came out of a
# multiplication, which knows about the dot product, which knows about `x`. Calling `backward()`
# walks that chain from `y` back to `x` and leaves the result in `x.grad`.

# %%
y.backward()
x.grad

# %%
x.grad == 4 * x

# %% [markdown]
# ## Gradients accumulate
#
# `backward()` **adds** into `.grad` rather than overwriting it. This is what you want when one
# parameter is used by several losses: each backward pass adds its share, and `.grad` ends up
# holding the gradient of their sum. It surprises everyone once, so we watch it happen.
#
# Right now `x.grad` holds $4\mathbf{x}$ from the pass above. We clear it, then run backward on
# two different losses of the same $\mathbf{x}$, whose gradients we know by hand:
# $\nabla \sum_i x_i^3 = 3\mathbf{x}^2$ and $\nabla \sum_i 5 x_i = 5$.

# %%
x.grad.zero_()
(x ** 3).sum().backward()
print("after the first loss :", x.grad)
(5 * x).sum().backward()
print("after the second loss:", x.grad)

# %%
x.grad == 3 * x ** 2 + 5

# %% [markdown]
# So before each new gradient computation the slot has to be cleared, exactly as in PyTorch
# (`x.grad.zero_()`; an optimizer's `zero_grad()` does the same for every parameter). The
# gradient of $y = \sum_i x_i$ is a vector of ones:

# %%
x.grad.zero_()
y = x.sum()
y.backward()
x.grad

# %% [markdown]
# ## Backward for a non-scalar output
#
# If $\mathbf{y}$ is a vector, the derivative of $\mathbf{y}$ with respect to $\mathbf{x}$ is a
# whole matrix, the Jacobian $J$. Reverse mode never builds $J$; one backward pass computes a
# *vector-Jacobian product* $\mathbf{v}^\top J$ for a vector $\mathbf{v}$ you choose. For a
# scalar output $\mathbf{v}=1$ is implied, which is why `y.backward()` needed no argument. For a
# vector output the library refuses to guess:

# %%
x.grad.zero_()
y = x * x
try:
    y.backward()
except RuntimeError as err:
    print("RuntimeError:", err)

# %% [markdown]
# Passing `gradient=` supplies $\mathbf{v}$. With $\mathbf{v}$ all ones, $\mathbf{v}^\top J$ is
# the gradient of $\sum_i y_i$, the usual choice when $\mathbf{y}$ holds one loss per example
# of a batch. Here $J$ is diagonal with entries $2x_i$:

# %%
y.backward(gradient=ag.ones(4))
x.grad

# %% [markdown]
# Summing first gives the same numbers, since $\nabla \sum_i y_i = \mathbf{1}^\top J$:

# %%
x.grad.zero_()
(x * x).sum().backward()
x.grad

# %% [markdown]
# ## Detaching part of the computation
#
# Sometimes a value should be treated as a constant even though it was computed from `x`, for
# example a target computed by the model itself. `detach()` returns a tensor with the same
# values and no history, so the gradient cannot flow through it.
#
# Below $z = u \cdot x$ with $u = x^2$ detached. The gradient of $z$ therefore treats $u$ as a
# constant and is $u$ itself, not $3x^2$:

# %%
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
x.grad == u

# %% [markdown]
# Detaching `u` did not touch `y`: its own history is still recorded, so we can still
# differentiate `y` and get $2x$.

# %%
x.grad.zero_()
y.sum().backward()
x.grad == 2 * x

# %% [markdown]
# The record is consumed by a backward pass: the values saved for the chain rule are freed to
# save memory. A second backward through the same graph is an error unless the first one asked
# to keep them with `retain_graph=True` (same rule, same flag name, as PyTorch):

# %%
try:
    y.sum().backward()
except RuntimeError as err:
    print("RuntimeError:", err)


# %% [markdown]
# ## Gradients through Python control flow
#
# AD differentiates what actually ran. Loops and branches are ordinary Python, deciding which
# operations get recorded; only the executed operations enter the graph. In the function below
# the number of loop iterations and the branch taken both depend on the input.

# %%
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


# %%
ag.manual_seed(0)
a = ag.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print("a =", a.item())
print("d =", d.item())
print("dd/da =", a.grad.item())

# %% [markdown]
# For a given `a`, every path through `f` multiplies the input by a constant: `f(a) = k * a`
# where `k` depends on how many doublings ran and which branch was taken. So the derivative
# must equal `d / a`:

# %%
print(a.grad == d / a)
print("doublings + branch give k =", (d / a).item())

# %% [markdown]
# ## tanh and its derivative, computed by AD
#
# Here is a picture that uses nothing we did not just learn. We evaluate $\tanh$, the
# activation of many networks, on a grid of points with gradients switched on, run one
# backward pass, and plot the values next to the gradient. We never tell the library what the
# derivative of $\tanh$ is: the curve in orange is whatever `backward()` produced.
#
# Because every $\tanh(x_i)$ depends only on its own $x_i$, the gradient of
# $\sum_i \tanh(x_i)$ holds each derivative $\tanh'(x_i)$ separately; one sweep gives all of
# them.

# %%
grid = ag.linspace(-4.0, 4.0, 401, requires_grad=True)
ag.tanh(grid).sum().backward()
xs = grid.detach().numpy()
tanh_values = ag.tanh(grid.detach()).numpy()
ad_derivative = grid.grad.numpy()
print("derivative from AD at x = 0:", ad_derivative[200])


# %% [markdown]
# The slider moves the point $x_0$ where the tangent line is drawn. Its slope is the AD
# derivative at $x_0$, again obtained with one backward pass at that point.

# %%
def ad_slope(x0):
    """tanh'(x0) computed by reverse mode (no formula for it is written here)."""
    point = ag.tensor(x0, requires_grad=True)
    ag.tanh(point).backward()
    return point.grad.item()


def draw_tangent(x0):
    slope = ad_slope(x0)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(xs, tanh_values, label="tanh(x)")
    ax.plot(xs, ad_derivative, label="derivative of tanh, from autograd_lite")
    near = np.abs(xs - x0) < 1.0
    ax.plot(xs[near], np.tanh(x0) + slope * (xs[near] - x0), "k--", label="tangent at $x_0$")
    ax.plot([x0], [np.tanh(x0)], "ko")
    ax.set_ylim(-1.4, 1.4)
    ax.set_xlabel("x")
    ax.set_ylabel("tanh(x) and its derivative")
    ax.set_title(f"x0 = {x0:.2f}, slope from AD = {slope:.4f}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


figure_with_sliders(draw_tangent, x0=(-3.5, 3.5, 0.05, 0.5))

# %% [markdown]
# The orange bump is largest at 0 and vanishes on both sides, where $\tanh$ flattens out: a
# saturated unit passes almost no gradient back. Calculus says $\tanh' = 1 - \tanh^2$. Now that
# the plot is made we may compare, as a check on the library rather than as a source of the
# answer:

# %%
print("largest |AD derivative - (1 - tanh^2)| on the grid:",
      np.max(np.abs(ad_derivative - (1 - np.tanh(xs) ** 2))))

# %% [markdown]
# ## Summary
#
# - `requires_grad_(True)` marks the variables we want derivatives for; operations on them are
#   recorded; `backward()` runs the chain rule through the record in reverse; results land in
#   `.grad`.
# - Gradients accumulate: clear them between steps.
# - A non-scalar output needs a `gradient=` vector: backward computes a vector-Jacobian product.
# - `detach()` turns a value into a constant for differentiation.
# - Control flow is fine: only the operations that ran are differentiated.
#
# **Exercises.** (1) After the two losses in "Gradients accumulate", run backward on a fresh
# `(x * x).sum()` without clearing `x.grad`. Predict the result first. (2) In the control-flow example, make `a` a random vector of
# length 3. `d` is then a vector: what must you pass to `backward()`, and is `a.grad == d / a`
# still true? (3) Replace $\tanh$ by $x \mapsto \tanh(x^2)$ in the plot; predict the derivative by
# the chain rule first, then let AD draw it.
