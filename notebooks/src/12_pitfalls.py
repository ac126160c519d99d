# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/12_pitfalls.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 12. Pitfalls
#
# AD gives the exact derivative of the program that ran, one branch at a time. Most
# surprises come from that: kinks, flat steps, a `where` whose other branch is broken, a
# `detach` in the wrong place, and formulas that overflow. This notebook shows each one with
# the library and the usual fix.

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag

# %% [markdown]
# ## Kinks: AD differentiates the branch taken
#
# `relu` and `abs` have no derivative at 0. AD does not notice: at 0 the program takes one
# branch, and the rule of that branch gives a number. What each rule returns there is a
# convention of the library, not mathematics.

# %%
zero = ag.tensor(0.0)
print("relu'(0)        =", ag.grad(ag.relu)(zero).item())
print("abs'(0)         =", ag.grad(ag.abs)(zero).item())
print("d/dx max(x, 0) at 0 =", ag.grad(lambda x: ag.maximum(x, ag.tensor(0.0)))(zero).item(),
      "  (a tie: the gradient is split)")

# %% [markdown]
# So `relu(x)` and `maximum(x, 0)`, the same function, get different derivatives at the kink.
# Away from 0 they agree. Drawn on a grid that contains 0:

# %%
grid = np.linspace(-1, 1, 9)


def elementwise_grad(f, xs):
    return ag.grad(lambda x: f(x).sum())(ag.tensor(xs)).numpy()


fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(grid, elementwise_grad(ag.relu, grid), "o-", label="relu")
ax.plot(grid, elementwise_grad(lambda x: ag.maximum(x, ag.zeros_like(x)), grid), "s--",
        label="maximum(x, 0)")
ax.set_xlabel("x")
ax.set_ylabel("derivative computed by AD")
ax.set_title("Same function, two values at the kink")
ax.legend()
plt.show()

# %% [markdown]
# ## Flat steps: zero gradients
#
# A function built from comparisons is constant between its jumps, so its derivative is zero
# almost everywhere, and AD reports exactly that. Accuracy is such a function of a model's
# weights: a correct count does not change under a small nudge.

# %%
inputs = np.array([-2.0, -0.5, 0.4, 1.5, 3.0])
labels = np.array([0.0, 0.0, 1.0, 1.0, 1.0])


def accuracy(w):
    predicted = ag.where(w * ag.tensor(inputs) > 1.0, ag.ones_like(w * inputs),
                         ag.zeros_like(w * inputs))
    return (predicted == ag.tensor(labels)).mean()


def smooth_loss(w):                 # the log-loss of a logistic model
    p = ag.sigmoid(w * ag.tensor(inputs) - 1.0)
    y = ag.tensor(labels)
    return -(y * ag.log(p) + (1 - y) * ag.log(1 - p)).mean()


w = ag.tensor(0.8)
print("accuracy:", accuracy(w).item(), "  its gradient:", ag.grad(accuracy)(w).item())
print("log-loss:", round(smooth_loss(w).item(), 4), "  its gradient:",
      round(ag.grad(smooth_loss)(w).item(), 4))

# %% [markdown]
# That is why we train on a smooth loss and only report accuracy.

# %%
ws = np.linspace(0.1, 4, 80)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(ws, [accuracy(ag.tensor(v)).item() for v in ws])
left.set_xlabel("weight w")
left.set_ylabel("accuracy")
left.set_title("Piecewise constant: gradient 0")
right.plot(ws, [smooth_loss(ag.tensor(v)).item() for v in ws], color="C1")
right.set_xlabel("weight w")
right.set_ylabel("log-loss")
right.set_title("Smooth: a useful gradient")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## `where` and NaN gradients
#
# A guarded square root, $\sqrt{x}$ for $x > 0$ and $0$ otherwise, looks safe: the forward
# values are fine. But `where` computes *both* branches, and in backward the untaken branch
# still runs its rule. Its gradient there is multiplied by 0, and $0 \cdot \infty$ or
# $0 \cdot \text{NaN}$ is NaN. (The warnings numpy prints on the way are silenced here.)

# %%
xs = np.array([-1.0, 0.0, 0.25, 4.0])


def guarded_sqrt(x):
    return ag.where(x > 0, ag.sqrt(x), ag.zeros_like(x))


with np.errstate(all="ignore"):
    print("values:   ", guarded_sqrt(ag.tensor(xs)).numpy())
    print("gradients:", elementwise_grad(guarded_sqrt, xs))


# %% [markdown]
# The same happens with `log` of a non-positive number, or a division by zero, in the branch
# not taken. The fix is a second `where`, on the *input*: give the risky function a harmless
# value wherever its result will be thrown away, so its rule never sees a bad input.

# %%
def double_where_sqrt(x):
    safe = ag.where(x > 0, x, ag.ones_like(x))      # 1 is any value sqrt handles
    return ag.where(x > 0, ag.sqrt(safe), ag.zeros_like(x))


print("values:   ", double_where_sqrt(ag.tensor(xs)).numpy())
print("gradients:", elementwise_grad(double_where_sqrt, xs))
assert np.all(np.isfinite(elementwise_grad(double_where_sqrt, xs)))


# %% [markdown]
# **Try it.** Guard a logarithm the same way: $\log x$ for $x > 0$ and $0$ otherwise. First
# with one `where` (which gradients come out NaN or infinite?), then with the double `where`.

# %%
def guarded_log(x):
    return ag.where(x > 0, ag.log(x), ag.zeros_like(x))


def double_where_log(x):
    return ag.where(x > 0, ag.log(ag.where(x > 0, x, ag.ones_like(x))), ag.zeros_like(x))


with np.errstate(all="ignore"):
    print("one where:   ", elementwise_grad(guarded_log, xs))
print("double where:", elementwise_grad(double_where_log, xs))

# %%
line = np.linspace(-1, 2, 61)
with np.errstate(all="ignore"):
    naive = elementwise_grad(guarded_sqrt, line)
fixed = elementwise_grad(double_where_sqrt, line)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(line, fixed, label="double where")
ax.plot(line[np.isnan(naive)], np.zeros(np.isnan(naive).sum()), "rx", label="single where: NaN")
ax.set_ylim(-0.2, 3)
ax.set_xlabel("x")
ax.set_ylabel("derivative computed by AD")
ax.set_title("A guarded square root")
ax.legend()
plt.show()


# %% [markdown]
# ## `detach`: stopping the gradient on purpose
#
# `detach()` (JAX calls it `stop_gradient`) keeps a value and cuts it out of the graph. One
# good use is a *target*: a value the loss should move towards without the target itself
# moving. Here a value is pulled towards a target computed from itself, as in
# temporal-difference learning.

# %%
def pull_towards(theta, stop):
    target = 0.9 * ag.tanh(theta) + 1.0
    if stop:
        target = target.detach()
    return (theta - target) ** 2


theta = ag.tensor(0.5)
target_value = (0.9 * ag.tanh(theta) + 1.0).item()
print("with detach:   ", round(ag.grad(lambda t: pull_towards(t, True))(theta).item(), 6),
      "  = 2 (theta - target) =", round(2 * (0.5 - target_value), 6))
print("without detach:", round(ag.grad(lambda t: pull_towards(t, False))(theta).item(), 6),
      "  (the target moves too)")


# %% [markdown]
# Another good use is the *straight-through* estimator. A binarizer $b(x) = \pm 1$ is flat, so
# its gradient is 0 (as with accuracy above). Writing it as `x + (b(x) - x).detach()` gives
# the same forward value, but backward sees only `x`, so the gradient passes through as if
# $b$ were the identity.

# %%
def binarize(x):
    return ag.where(x > 0, ag.ones_like(x), -ag.ones_like(x))


def straight_through(x):
    return x + (binarize(x) - x).detach()


v = ag.tensor([-0.7, 0.2, 1.5])
print("forward values:", straight_through(v).numpy(), " = binarize:", binarize(v).numpy())
print("plain gradient:         ", elementwise_grad(binarize, v.numpy()) + 0.0)  # no -0
print("straight-through gradient:", elementwise_grad(straight_through, v.numpy()))

# %% [markdown]
# A misuse: detaching something the result truly depends on. Normalising a vector by a
# detached norm looks like a harmless shortcut, but the gradient then ignores how the norm
# changes. Finite differences (from notebook 2) show which one is right.

# %%
u = ag.tensor([3.0, 4.0])
weights = ag.tensor([1.0, 2.0])


def score(x, stop):
    size = ag.norm(x)
    return ((x / (size.detach() if stop else size)) * weights).sum()


numeric = ag.fd_gradient(lambda x: score(x, False), u)
for stop in (False, True):
    g = ag.grad(lambda x: score(x, stop))(u).numpy()
    print(f"detach={stop!s:5}: AD {np.round(g, 6)}   matches finite differences:",
          np.allclose(g, numeric, atol=1e-6))


# %% [markdown]
# ## Numerically stable losses with `ag.custom_vjp`
#
# $\log \sigma(x) = -\log(1 + e^{-x})$ is the log-likelihood of a logistic model. Written
# straight from the formula, as `log(1 / (1 + exp(-x)))`, it breaks for very negative $x$:
# $e^{-x}$ overflows to $\infty$, $\sigma(x)$ becomes 0, the log is $-\infty$ and the gradient
# NaN, though the true derivative, $\sigma(-x)$, is nearly 1. (The library's own `ag.sigmoid`
# is computed in a stable way; a formula you type yourself is not.)

# %%
def log_sigmoid_naive(x):
    return ag.log(1.0 / (1.0 + ag.exp(-x)))


far = np.array([-800.0, -50.0, 0.0, 50.0])
with np.errstate(all="ignore"):
    print("values:   ", log_sigmoid_naive(ag.tensor(far)).numpy())
    print("gradients:", elementwise_grad(log_sigmoid_naive, far))


# %% [markdown]
# The stable form is $\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})$, whose exponent is
# never positive. `ag.custom_vjp` pairs it with a backward rule of our own, in JAX's style:
# `fwd` returns the value and what `bwd` needs (the residuals), and `bwd(residuals, g)`
# returns one cotangent per argument. Here the residual is $\sigma(-x)$, the derivative.

# %%
def log_sigmoid_stable(x):
    return ag.minimum(x, 0.0) - ag.log(1 + ag.exp(-ag.abs(x)))


def sigmoid_of_minus(x):
    e = ag.exp(-ag.abs(x))                             # at most 1: cannot overflow
    return ag.where(x >= 0, e / (1 + e), 1 / (1 + e))


log_sigmoid = ag.custom_vjp(log_sigmoid_stable)
log_sigmoid.defvjp(lambda x: (log_sigmoid_stable(x), sigmoid_of_minus(x)),
                   lambda sigmoid_minus_x, g: (g * sigmoid_minus_x,))

print("values:   ", log_sigmoid(ag.tensor(far)).numpy())
print("gradients:", elementwise_grad(log_sigmoid, far))

# %% [markdown]
# The stable formula alone would already give finite gradients by AD. What the hand-written
# rule adds is a cheaper backward pass: one multiplication by the saved residual instead of
# the rules of `minimum`, `abs`, `exp` and `log`. Counted on one input:

# %%
point = ag.tensor(-3.0)
by_ad = ag.count_ops(ag.grad(log_sigmoid_stable), point)
by_rule = ag.count_ops(ag.grad(log_sigmoid), point)
assert np.isclose(by_ad.result.item(), by_rule.result.item(), rtol=1e-14)
print("primitive calls in backward, AD through the formula:", by_ad.adjoint)
print("primitive calls in backward, custom rule:           ", by_rule.adjoint)

# %%
span = np.linspace(-780, 20, 81)
stable = elementwise_grad(log_sigmoid, span)
with np.errstate(all="ignore"):
    naive = elementwise_grad(log_sigmoid_naive, span)
broken = ~np.isfinite(naive)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(span, stable, label="custom_vjp")
ax.plot(span[~broken], naive[~broken], "--", label="log(1 / (1 + exp(-x)))")
ax.plot(span[broken], stable[broken], "rx", markersize=4, label="the formula: not finite")
ax.set_xlabel("x")
ax.set_ylabel("d/dx log sigmoid(x)")
ax.set_title("Gradient of log sigmoid")
ax.legend()
plt.show()
print(f"the naive gradient is not finite for x <= {span[broken].max():.0f} on this grid")


# %% [markdown]
# `logsumexp` has the same problem at large inputs: $e^{1000}$ is infinite in float64. The
# usual shift by the maximum fixes the forward value (the shift is detached: the value does
# not depend on it), and the gradient is the softmax, which `fwd` hands to `bwd` as its
# residual.

# %%
def logsumexp_naive(x):
    return ag.log(ag.exp(x).sum())


def logsumexp_stable(x):
    top = x.max().detach()          # any shift gives the same value; this one cannot overflow
    return top + ag.log(ag.exp(x - top).sum())


logsumexp = ag.custom_vjp(logsumexp_stable)
logsumexp.defvjp(lambda x: (logsumexp_stable(x), ag.softmax(x, axis=0)),
                 lambda softmax, g: (g * softmax,))

big = ag.tensor([1000.0, 999.0, 990.0])
with np.errstate(all="ignore"):
    print("naive:  value", logsumexp_naive(big).item(), "  gradient",
          ag.grad(logsumexp_naive)(big).numpy())
print("stable: value", round(logsumexp(big).item(), 6),
      "  gradient", np.round(ag.grad(logsumexp)(big).numpy(), 6))
print("softmax:", np.round(ag.softmax(big, axis=0).numpy(), 6))

# %% [markdown]
# **Try it.** A hand-written rule is only as good as its derivation, so check it. Compare
# `log_sigmoid`'s gradient with a central difference of the stable formula, at points of your
# own. At $x = -40$ the difference is off in the tenth digit while the rule is not: how large
# is the rounding error of $f(x \pm h)$ there, divided by $2h$?

# %%
h = 1e-5
for x0 in [-40.0, -3.0, 0.5, 25.0]:
    by_rule = ag.grad(log_sigmoid)(ag.tensor(x0)).item()
    central = (log_sigmoid_stable(ag.tensor(x0 + h)).item()
               - log_sigmoid_stable(ag.tensor(x0 - h)).item()) / (2 * h)
    print(f"x = {x0:6.1f}: rule {by_rule:.10f}   central difference {central:.10f}")


# %% [markdown]
# ## Perturbation confusion in nested derivatives
#
# When a function that takes a derivative is itself differentiated, the two derivatives must
# keep their perturbations apart. Take $h(x) = x \cdot \frac{d}{dy}(x + y)\big|_{y=1}$. The
# inner derivative is 1 whatever $x$ is, so $h(x) = x$ and $h'(x) = 1$. An implementation
# that lets the inner derivative see the outer perturbation of $x$ as its own counts it
# twice and answers 2. The library keeps them apart; finite differences (nested too) agree.

# %%
def h(x):
    return x * ag.grad(lambda y: x + y)(ag.tensor(1.0))


def h_numeric(x, eps=1e-4):
    inner = ((x + 1.0 + eps) - (x + 1.0 - eps)) / (2 * eps)
    return x * inner


x0 = 3.0
by_ad = ag.grad(h)(ag.tensor(x0)).item()
by_fd = (h_numeric(x0 + 1e-4) - h_numeric(x0 - 1e-4)) / 2e-4
print(f"h'({x0}) by nested AD: {by_ad:.6f}   by nested finite differences: {by_fd:.6f}")

# %% [markdown]
# The same care matters when the inner function closes over a tensor of the outer one, as
# in $f(x) = \sum_i \partial_{y_i} \sum_j x_j y_j^2 = \sum_i 2 x_i y_i$ at a fixed $y$, whose
# gradient in $x$ is $2y$:

# %%
y_fixed = ag.tensor([1.0, 2.0, 3.0])
f_nested = lambda x: ag.grad(lambda y: ag.sum(x * y * y))(y_fixed).sum()
print("gradient by nested AD:", ag.grad(f_nested)(ag.tensor([0.5, -1.0, 2.0])).numpy(),
      "  2y:", 2 * y_fixed.numpy())

# %% [markdown]
# ## Summary
#
# - AD returns the derivative of the branch that ran: at kinks the value is a convention,
#   and flat steps give zero gradients.
# - `where` runs both branches' rules; guard the input of a risky function with a second
#   `where`.
# - `detach` is for targets and straight-through estimators; on a value the result depends
#   on, it silently gives a wrong gradient.
# - A stable forward formula and a hand-written rule (`ag.custom_vjp`) keep losses like log
#   sigmoid and logsumexp finite.
# - Nested derivatives must keep their perturbations apart; check a nested result against
#   nested finite differences once.
