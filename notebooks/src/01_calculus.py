# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/01_calculus.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 1. Calculus for automatic differentiation
#
# Automatic differentiation (AD) is the chain rule, executed by a program. Before we look at how
# a program does it, this notebook collects the calculus it relies on: the derivative as a
# limit, the rules that combine derivatives, the chain rule in one and in several variables,
# and the gradient with its geometric meaning, which is what gradient descent uses.
#
# We check each statement numerically. Where a derivative is worked out by hand, the notebook
# says so, and compares it with what `autograd_lite` computes.

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag
from autograd_lite.instruments.widgets import figure_with_sliders


# %% [markdown]
# ## The derivative is a limit
#
# The derivative of $f$ at $x$ is the slope of the secant through $(x, f(x))$ and
# $(x+h, f(x+h))$ as $h$ shrinks to zero:
#
# $$f'(x) = \lim_{h \to 0} \frac{f(x+h) - f(x)}{h}.$$
#
# Take $f(x) = 3x^2 - 4x$ at $x = 1$. The difference quotient approaches a limit as $h$ shrinks;
# the rules below (worked by hand) say that limit is $f'(1) = 6 \cdot 1 - 4 = 2$.

# %%
def f(x):
    return 3 * x ** 2 - 4 * x


for h in [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]:
    quotient = (f(1.0 + h) - f(1.0)) / h
    print(f"h = {h:.0e}   (f(1+h) - f(1)) / h = {quotient:.6f}")

# %% [markdown]
# Each tenfold decrease of $h$ brings the quotient ten times closer to 2: the error of this
# *forward difference* is proportional to $h$ (here it is exactly $3h$). Notebook 2 shows what
# goes wrong when $h$ gets too small in floating point.
#
# Geometrically, $f'(x)$ is the slope of the tangent line, the best straight-line approximation
# of $f$ near $x$: $f(x + \epsilon) \approx f(x) + f'(x)\,\epsilon$.

# %%
xs = np.linspace(-0.5, 2.5, 200)
slope = ag.grad(f)(1.0).item()          # the derivative at 1, computed by AD
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(xs, f(xs), label="f(x) = 3x² - 4x")
for h, style in [(1.0, ":"), (0.5, "-.")]:
    secant = (f(1 + h) - f(1)) / h
    ax.plot(xs, f(1) + secant * (xs - 1), style, label=f"secant, h = {h} (slope {secant:.1f})")
ax.plot(xs, f(1) + slope * (xs - 1), "k--", label=f"tangent (slope {slope:.1f})")
ax.plot([1], [f(1)], "ko")
ax.set_ylim(-3, 8)
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Rules of calculus
#
# A handful of derivatives of elementary functions, together with a few rules for combining
# them, are enough to differentiate any formula built from those functions:
#
# | rule | statement |
# |---|---|
# | constant multiple | $(c\,f)' = c\,f'$ |
# | sum | $(f + g)' = f' + g'$ |
# | product | $(f g)' = f' g + f g'$ |
# | quotient | $(f / g)' = (f' g - f g') / g^2$ |
# | chain | $(f \circ g)'(x) = f'(g(x))\, g'(x)$ |
#
# and elementary derivatives such as $(x^n)' = n x^{n-1}$, $(e^x)' = e^x$,
# $(\ln x)' = 1/x$, $(\sin x)' = \cos x$, $(\cos x)' = -\sin x$.
#
# AD is built from exactly this list: every elementary operation in `autograd_lite` knows its
# own derivative (look at `autograd_lite/primitives.py`), and the rules say how to combine
# them. Let us check the product and quotient rules on $u(x) = x^3$ and $v(x) = e^x$ at
# $x = 0.7$, comparing the hand-applied rule with AD.

# %%
x0 = 0.7
u, du = x0 ** 3, 3 * x0 ** 2          # by hand: (x^3)' = 3x^2
v, dv = np.exp(x0), np.exp(x0)        # by hand: (e^x)' = e^x

product_by_hand = du * v + u * dv
quotient_by_hand = (du * v - u * dv) / v ** 2
product_by_ad = ag.grad(lambda x: x ** 3 * ag.exp(x))(x0).item()
quotient_by_ad = ag.grad(lambda x: x ** 3 / ag.exp(x))(x0).item()
print(f"product rule : by hand {product_by_hand:.12f}   AD {product_by_ad:.12f}")
print(f"quotient rule: by hand {quotient_by_hand:.12f}   AD {quotient_by_ad:.12f}")

# %% [markdown]
# ## The chain rule
#
# For a composition $y = f(g(x))$, write the intermediate value $u = g(x)$. Then
#
# $$\frac{dy}{dx} = \frac{dy}{du}\,\frac{du}{dx}.$$
#
# A long composition $y = f_k(\dots f_2(f_1(x)))$, with $u_0 = x$ and $u_i = f_i(u_{i-1})$,
# gives a long product of local derivatives, one factor per step, written in the same order
# as above, the output's factor on the left:
#
# $$\frac{dy}{dx} = f_k'(u_{k-1}) \cdots f_2'(u_1)\, f_1'(u_0).$$
#
# The order in which that product is multiplied out is *the* design choice of AD. Starting at
# the right-hand end, with the input's factor $f_1'$, and working leftwards is forward mode.
# Starting at the left-hand end, with the output's factor $f_k'$, and working rightwards is
# reverse mode.
#
# Example: $y = \sin(x^2)$ at $x = 1.5$. The steps are $u = x^2$, $y = \sin u$, so by hand
# $dy/dx = \cos(u) \cdot 2x$.

# %%
x0 = 1.5
u = x0 ** 2
by_hand = np.cos(u) * 2 * x0
by_ad = ag.grad(lambda x: ag.sin(x ** 2))(x0).item()
print(f"chain rule by hand: {by_hand:.12f}")
print(f"AD                : {by_ad:.12f}")

# %% [markdown]
# ## The multivariate chain rule
#
# Let $y$ depend on $u_1, \dots, u_m$, each of which depends on $x_1, \dots, x_n$. A change in
# $x_i$ reaches $y$ along every path through some $u_j$, and the contributions add up:
#
# $$\frac{\partial y}{\partial x_i} = \sum_{j=1}^{m} \frac{\partial y}{\partial u_j}\,\frac{\partial u_j}{\partial x_i}.$$
#
# In matrix form this is a product of Jacobians, $\nabla_{\mathbf{x}} y = J_{\mathbf{u}}(\mathbf{x})^\top\, \nabla_{\mathbf{u}} y$.
# The *sum over paths* is exactly what reverse mode does when a value feeds several
# operations: its adjoint accumulates one contribution per use (notebook 4).
#
# Example: $y = u_1 u_2$ with $u_1 = x_1 + x_2$ and $u_2 = x_1 x_2$, at $(x_1, x_2) = (2, 3)$.

# %%
x1, x2 = 2.0, 3.0
u1, u2 = x1 + x2, x1 * x2
dy_du = np.array([u2, u1])                 # by hand: dy/du1 = u2, dy/du2 = u1
du_dx = np.array([[1.0, 1.0],              # row j: du_j/dx1, du_j/dx2 (by hand)
                  [x2, x1]])
by_hand = du_dx.T @ dy_du
by_ad = ag.grad(lambda x: (x[0] + x[1]) * (x[0] * x[1]))(ag.tensor([x1, x2]))
print("sum over paths, by hand:", by_hand)
print("AD                     :", by_ad)


# %% [markdown]
# ## Gradients and their geometry
#
# For $f: \mathbb{R}^n \to \mathbb{R}$ the gradient collects the partial derivatives,
# $\nabla f = (\partial f/\partial x_1, \dots, \partial f/\partial x_n)$. Moving a small step
# $\epsilon\,\mathbf{d}$ changes $f$ by about $\epsilon\,\nabla f \cdot \mathbf{d}$. Over unit
# directions $\mathbf{d}$ the dot product is largest when $\mathbf{d}$ points along $\nabla f$
# and most negative when it points the opposite way. Hence:
#
# - the gradient points in the direction of steepest ascent, $-\nabla f$ in the direction of
#   steepest descent;
# - it is perpendicular to the contour line through the point (moving along the contour does
#   not change $f$, so $\nabla f \cdot \mathbf{d} = 0$ there).
#
# We check the first claim on $f(x, y) = x^2 + 3y^2 + xy$ at $(1, 1)$ by scanning directions.

# %%
def bowl(p):
    return p[0] ** 2 + 3 * p[1] ** 2 + p[0] * p[1]


point = ag.tensor([1.0, 1.0])
gradient = ag.grad(bowl)(point).numpy()
angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
rates = directions @ gradient                 # directional derivatives
best = directions[np.argmax(rates)]
print("gradient at (1, 1) by AD  :", gradient)
print("gradient direction        :", np.round(gradient / np.linalg.norm(gradient), 3))
print("steepest of 360 directions:", np.round(best, 3))
print("largest rate = |gradient| :", round(rates.max(), 3), round(float(np.linalg.norm(gradient)), 3))

# %% [markdown]
# Drawing the gradient at a few points over the contour lines shows the right angles. All
# arrows come from one AD call: the sum of `bowl` over a grid of points has, as its gradient,
# each point's own gradient.

# %%
gx, gy = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9))
points = ag.tensor(np.stack([gx.ravel(), gy.ravel()]))     # shape (2, 81)
field = ag.grad(lambda p: bowl(p).sum())(points).numpy()

cx, cy = np.meshgrid(np.linspace(-2.2, 2.2, 200), np.linspace(-2.2, 2.2, 200))
fig, ax = plt.subplots(figsize=(5, 5))
ax.contour(cx, cy, cx ** 2 + 3 * cy ** 2 + cx * cy, levels=12, cmap="viridis")
ax.quiver(gx.ravel(), gy.ravel(), field[0], field[1], color="crimson", angles="xy",
          scale_units="xy", scale=25, width=0.005)
ax.set_aspect("equal")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("gradients (from AD) cross the contours at right angles")
plt.show()

# %% [markdown]
# ## Gradient descent
#
# To minimise $f$, repeatedly take a small step downhill:
# $\mathbf{x}_{t+1} = \mathbf{x}_t - \eta\,\nabla f(\mathbf{x}_t)$, with step size (learning rate)
# $\eta > 0$. Everything depends on $\eta$: too small and progress crawls; too large and the
# iterates overshoot the valley and can diverge. For this bowl the iteration diverges once
# $\eta$ exceeds $2 / \lambda_{\max}$, where $\lambda_{\max}$ is the largest eigenvalue of the
# Hessian; we let AD compute the Hessian too.

# %%
hess = ag.hessian(bowl)(ag.tensor([0.0, 0.0])).numpy()
eigenvalues = np.linalg.eigvalsh(hess)
print("Hessian (AD):\n", hess)
print("eigenvalues:", np.round(eigenvalues, 4), "  divergence threshold 2/lambda_max =",
      round(2 / eigenvalues.max(), 4))

# %%
bowl_grad = ag.grad(bowl)


def descend(start, lr, steps=25):
    path = [np.array(start, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - lr * bowl_grad(ag.tensor(path[-1])).numpy())
    return np.array(path)


def draw_path(ax, path, title):
    """The iterates over the contour lines; points that left the frame are not drawn."""
    ax.contour(cx, cy, cx ** 2 + 3 * cy ** 2 + cx * cy, levels=12, cmap="viridis")
    inside = np.all(np.abs(path) < 2.2, axis=1)
    ax.plot(path[inside, 0], path[inside, 1], "o-", color="crimson", ms=3)
    ax.set_xlim(-2.2, 2.2)
    ax.set_ylim(-2.2, 2.2)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title, fontsize=10)


def draw_descent(lr, x_start, y_start):
    path = descend([x_start, y_start], lr)
    values = [bowl(p) for p in path]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    draw_path(left, path, f"lr = {lr:.2f}, start ({x_start:.1f}, {y_start:.1f})")
    right.semilogy(np.maximum(values, 1e-16))
    right.set_xlabel("step")
    right.set_ylabel("f (log scale)")
    right.set_title(f"f after {len(path) - 1} steps: {values[-1]:.3g}")
    fig.tight_layout()
    return fig


# %% [markdown]
# Move the sliders: the learning rate and the starting point. Try a learning rate just below
# and just above the threshold printed above.

# %%
figure_with_sliders(draw_descent, lr=(0.01, 0.4, 0.01, 0.1),
                    x_start=(-2.0, 2.0, 0.1, -1.8), y_start=(-2.0, 2.0, 0.1, 1.5))

# %% [markdown]
# Without widgets, here are three learning rates side by side: too small, about right, too
# large. "About right" is $2 / (\lambda_{\min} + \lambda_{\max})$, the step that shrinks the
# slowest direction of a quadratic bowl as fast as possible (notebook 6 comes back to it);
# "too large" is just past the divergence threshold.

# %%
threshold = 2 / eigenvalues.max()
rates = {"too small": 0.02, "about right": 2 / (eigenvalues.min() + eigenvalues.max()),
         "too large": 1.05 * threshold}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
for ax, (verdict, lr) in zip(axes, rates.items()):
    path = descend([-1.8, 1.5], lr)
    draw_path(ax, path, f"{verdict}: lr = {lr:.3f}\nf after {len(path) - 1} steps = "
                        f"{bowl(path[-1]):.2e}")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# - The derivative is the limit of difference quotients; it gives the best linear approximation.
# - Sum, product, quotient and chain rules plus a table of elementary derivatives differentiate
#   any formula; AD applies the same rules to the operations a program executes.
# - The multivariate chain rule sums contributions over all paths from input to output.
# - The gradient points uphill, perpendicular to contour lines; gradient descent steps against
#   it, and its learning rate must stay below a curvature-dependent threshold.
