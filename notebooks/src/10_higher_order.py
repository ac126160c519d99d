# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/10_higher_order.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 10. Higher-order derivatives
#
# A reverse pass is itself a computation built from primitives: multiplications, sums, the
# rules of `sin` and `exp`. If the library records it the way it records the function, the
# gradient has a graph of its own and can be differentiated again. This notebook uses that to
# get second and higher derivatives, Hessians, and Hessian-vector products, and measures what
# each one costs as the number of inputs grows.

# %%
import numpy as np
import matplotlib.pyplot as plt
from numpy.polynomial import hermite_e
import autograd_lite as ag


# %% [markdown]
# ## `create_graph=True`: a gradient with a graph
#
# Our test function is the bell curve $g(x) = e^{-x^2/2}$. An ordinary `backward()` runs the
# rules on plain arrays and leaves a gradient that is just a number: it remembers nothing
# about how it was made, so it cannot be differentiated.

# %%
def bell(x):
    return (-(x * x) / 2).exp()


x = ag.tensor(0.3, requires_grad=True)
bell(x).backward()
print("g'(0.3) =", x.grad, "  has a graph:", x.grad.grad_fn is not None)
try:
    x.grad.backward()
except RuntimeError as error:
    print("differentiating it again fails:", str(error).split(":")[0])

# %% [markdown]
# With `create_graph=True` the backward pass runs the same rules on tensors, so every step
# of it is recorded. The gradient then has a `grad_fn`, and a second `backward()` through it
# gives $g''$. (We clear `x.grad` in between, since `backward()` adds into it.)

# %%
x = ag.tensor(0.3, requires_grad=True)
bell(x).backward(create_graph=True)
first = x.grad
print("g'(0.3)  =", first, "  has a graph:", first.grad_fn is not None)
x.grad = None
first.backward()
print("g''(0.3) =", x.grad)
print(f"exact    : {(0.3 ** 2 - 1) * np.exp(-0.3 ** 2 / 2):.4f}   (g''(x) = (x² - 1) g(x))")

# %% [markdown]
# Here is the graph of $g$ itself, four primitives:

# %%
x = ag.tensor(0.3, requires_grad=True)
ag.draw_graph(bell(x))

# %% [markdown]
# And the graph of $g'$: the forward pass *and* the backward pass that used it. Every rule the
# backward pass applied is now a node that a further backward pass can walk: the
# multiplication by $e^{\dots}$ from the rule of `exp`, the rules of the division and the
# negation, and the product rule of $x \cdot x$ (two multiplications and their sum).

# %%
bell(x).backward(create_graph=True)
ag.draw_graph(x.grad)


# %% [markdown]
# ## Grad of grad
#
# The functional form does the bookkeeping for us: `ag.grad(f)` is a function, so
# `ag.grad(ag.grad(f))` is its derivative, and so on. (Inside, each level runs its backward
# pass with `create_graph=True` whenever an outer level is recording.) The derivatives of
# the bell curve are known in closed form, $g^{(k)}(x) = (-1)^k \mathrm{He}_k(x)\, e^{-x^2/2}$
# with the Hermite polynomials $\mathrm{He}_k$, which numpy evaluates; that gives us an
# exact reference.

# %%
def exact_derivative(k, x):
    return (-1) ** k * hermite_e.hermeval(x, [0] * k + [1]) * np.exp(-x ** 2 / 2)


derivatives = [bell]
for k in range(1, 5):
    derivatives.append(ag.grad(derivatives[-1]))

point = 0.3
for k, d in enumerate(derivatives):
    value = d(ag.tensor(point)).item()
    assert np.isclose(value, exact_derivative(k, point), rtol=1e-12, atol=1e-14)
    print(f"g^({k})({point}) = {value:+.10f}   closed form {exact_derivative(k, point):+.10f}")


# %% [markdown]
# `ag.grad` wants a scalar output, but for a function applied element by element the
# gradient of the sum is the vector of the elementwise derivatives. That lets us draw each
# derivative over a whole grid in one call:

# %%
def elementwise_derivative(h):
    """x -> h'(x) for each element of x, for an h that works element by element."""
    return lambda x: ag.grad(lambda y: ag.sum(h(y)))(x)


grid = np.linspace(-4, 4, 161)
curves = [bell]
for k in range(1, 5):
    curves.append(elementwise_derivative(curves[-1]))

fig, ax = plt.subplots(figsize=(6.4, 3.8))
for k, h in enumerate(curves):
    values = h(ag.tensor(grid)).numpy()
    assert np.allclose(values, exact_derivative(k, grid), atol=1e-12)
    ax.plot(grid, values, label=f"$g^{{({k})}}$")
ax.set_xlabel("x")
ax.set_ylabel("derivative value")
ax.set_title("the bell curve and its derivatives, by nested reverse mode")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown]
# Each level differentiates everything the level below did, forward pass and backward pass
# together, so the work compounds. `ag.count_ops(fn, x)` runs `fn(x)` once and counts the
# primitive calls the library makes (`.total`):

# %%
print("order   primitive calls   ratio to the order below")
calls = [ag.count_ops(d, ag.tensor(point)).total for d in derivatives]
for k, c in enumerate(calls):
    ratio = f"{c / calls[k - 1]:.2f}" if k else ""
    print(f"{k:5d}   {c:15d}   {ratio:>10s}")


# %% [markdown]
# Each order here costs roughly twice the one below it. For a function of one input that is
# cheap enough to go far; for a function of many inputs, the next question is what the
# second derivatives cost, and the rest of this notebook is about that.

# %% [markdown]
# ## Hessians, two ways
#
# For $f: \mathbb{R}^n \to \mathbb{R}$ the gradient $\nabla f$ maps $\mathbb{R}^n \to \mathbb{R}^n$,
# and its Jacobian is the Hessian $H_{ij} = \partial^2 f / \partial x_i \partial x_j$. Any
# Jacobian method from notebooks 3 and 4 applied to `ag.grad(f)` gives it:
#
# - **forward-over-reverse**, `ag.jacfwd(ag.grad(f))`: one forward-mode pass through the
#   gradient computation per column (this is `ag.hessian`);
# - **reverse-over-reverse**, `ag.jacrev(ag.grad(f))`: record the gradient computation once,
#   then one reverse pass through it per row.
#
# Our example is log-sum-exp, $f(\mathbf{x}) = \log \sum_i e^{x_i}$, the smooth maximum
# behind softmax. Its Hessian has a closed form, $H = \operatorname{diag}(\mathbf{p}) -
# \mathbf{p}\mathbf{p}^\top$ with $\mathbf{p} = \operatorname{softmax}(\mathbf{x})$, and it is
# dense: every entry is nonzero.

# %%
def logsumexp(x):
    return ag.log(ag.sum(ag.exp(x)))


x = ag.tensor([0.5, -1.0, 2.0, 0.0])
p = np.exp(x.numpy()) / np.exp(x.numpy()).sum()
closed_form = np.diag(p) - np.outer(p, p)
forward_over_reverse = ag.jacfwd(ag.grad(logsumexp))(x).numpy()
reverse_over_reverse = ag.jacrev(ag.grad(logsumexp))(x).numpy()
print("forward-over-reverse matches the closed form:", np.allclose(forward_over_reverse, closed_form))
print("reverse-over-reverse matches the closed form:", np.allclose(reverse_over_reverse, closed_form))
print("ag.hessian is forward-over-reverse:", np.array_equal(ag.hessian(logsumexp)(x).numpy(),
                                                           forward_over_reverse))
print(np.round(forward_over_reverse, 4))

# %% [markdown]
# **Try it.** Every row of this Hessian sums to zero: adding the same number to every $x_i$
# leaves the softmax, and so the gradient, unchanged. Check it at a point of your own, with
# another length; the closed form $\operatorname{diag}(\mathbf{p}) - \mathbf{p}\mathbf{p}^\top$
# should hold there too.

# %%
x_try = ag.tensor([3.0, -2.0, 0.1])
H_try = ag.hessian(logsumexp)(x_try).numpy()
p_try = np.exp(x_try.numpy()) / np.exp(x_try.numpy()).sum()
print(np.round(H_try, 4))
print("rows sum to zero:", np.allclose(H_try.sum(axis=1), 0.0, atol=1e-14))
print("closed form holds:", np.allclose(H_try, np.diag(p_try) - np.outer(p_try, p_try)))


# %% [markdown]
# ## Hessian-vector products without the Hessian
#
# Many methods need $H\mathbf{v}$ for a few vectors $\mathbf{v}$, never $H$ itself (Newton-CG,
# Lanczos estimates of curvature, influence functions). $H$ has $n^2$ entries, but $H\mathbf{v}$
# is a directional derivative of the gradient, so one pass gives it:
#
# - **forward-over-reverse**: $H\mathbf{v} = \frac{d}{dt} \nabla f(\mathbf{x} + t\mathbf{v})
#   \big|_{t=0}$, one JVP of `ag.grad(f)`;
# - **reverse-over-reverse**: $H\mathbf{v} = \nabla_{\mathbf{x}} \big(\nabla f(\mathbf{x})
#   \cdot \mathbf{v}\big)$, the gradient of a scalar, one more reverse pass.

# %%
def hvp_forward_over_reverse(f, x, v):
    return ag.jvp(ag.grad(f), (x,), (v,))[1]


def hvp_reverse_over_reverse(f, x, v):
    return ag.grad(lambda y: ag.dot(ag.grad(f)(y), v))(x)


v = ag.tensor([1.0, 2.0, -1.0, 0.5])
print("H v from the full Hessian:", np.round(closed_form @ v.numpy(), 6))
print("forward-over-reverse     :", np.round(hvp_forward_over_reverse(logsumexp, x, v).numpy(), 6))
print("reverse-over-reverse     :", np.round(hvp_reverse_over_reverse(logsumexp, x, v).numpy(), 6))
assert np.allclose(hvp_forward_over_reverse(logsumexp, x, v).numpy(), closed_form @ v.numpy())
assert np.allclose(hvp_reverse_over_reverse(logsumexp, x, v).numpy(), closed_form @ v.numpy())

# %% [markdown]
# **Try it.** From the last exercise, which direction $\mathbf{v}$ should give
# $H\mathbf{v} = \mathbf{0}$? Predict it, then try it below. Try a direction that gives a
# product that is not zero, too.

# %%
direction = ag.ones(4)
print("H v along", direction.numpy(), ":",
      np.round(hvp_forward_over_reverse(logsumexp, x, direction).numpy(), 12) + 0.0)

# %% [markdown]
# ## What each costs, measured
#
# We measure three costs of each computation, by running it:
#
# - **primitive calls**, `count_ops(...).total`: how many times the library applied a
#   primitive. In Python each call has a fixed overhead, so for small arrays this is the time.
# - **elements**, `count_ops(...).elements`: the sizes of all the results added up, the
#   amount of data the calls produced.
# - **flops**: arithmetic operations. `count_ops` does not count these, but it is built on an
#   observer hook that tells a callback about every primitive applied, with its inputs and
#   output. Our own callback counts one flop per output element of an elementwise operation,
#   $m - 1$ additions per sum of $m$ numbers, $2k$ per entry of a matrix product over $k$
#   terms, and nothing for operations that only move or reshape data.

# %%
from autograd_lite import observing

DATA_MOVES = {"reshape", "broadcast_to", "concatenate", "stack", "getitem", "transpose",
              "astype"}


def flops_of(prim, inputs, output):
    out_size = int(np.prod(output.shape))
    if prim.name in DATA_MOVES:
        return 0
    if prim.name in ("sum", "sum_to"):
        return int(np.prod(np.shape(inputs[0]))) - out_size
    if prim.name == "matmul":
        return 2 * np.shape(inputs[0])[-1] * out_size
    return out_size


def measure(fn, *args):
    """Run fn(*args) once: its primitive calls, result elements and flops."""
    flops = []
    with observing(lambda prim, inputs, output, params: flops.append(
            flops_of(prim, inputs, output))):
        count = ag.count_ops(fn, *args)
    return {"calls": count.total, "elements": count.elements, "flops": sum(flops)}


print(measure(logsumexp, x))
print(measure(ag.grad(logsumexp), x))

# %% [markdown]
# Now the same measurement for every computation of this notebook, at sizes
# $n = 1, 2, 4, \dots, 32$ (small sizes are enough, as we will see):

# %%
computations = {
    "f": lambda x, v: logsumexp(x),
    "gradient": lambda x, v: ag.grad(logsumexp)(x),
    "Hessian, fwd-over-rev": lambda x, v: ag.jacfwd(ag.grad(logsumexp))(x),
    "Hessian, rev-over-rev": lambda x, v: ag.jacrev(ag.grad(logsumexp))(x),
    "Hv, fwd-over-rev": lambda x, v: hvp_forward_over_reverse(logsumexp, x, v),
    "Hv, rev-over-rev": lambda x, v: hvp_reverse_over_reverse(logsumexp, x, v),
}
sizes = [1, 2, 4, 8, 16, 32]


def point_and_direction(n):
    return ag.tensor(np.linspace(-1.0, 1.0, n)), ag.tensor(np.cos(np.arange(n)))


costs = {name: [measure(fn, *point_and_direction(n)) for n in sizes]
         for name, fn in computations.items()}
for kind in ("calls", "elements", "flops"):
    print(f"{kind:22s}" + "".join(f"{'n=' + str(n):>8s}" for n in sizes))
    for name in computations:
        print(f"  {name:20s}" + "".join(f"{c[kind]:8d}" for c in costs[name]))

# %%
styles = {"f": "k:", "gradient": "ko-", "Hessian, fwd-over-rev": "s-",
          "Hessian, rev-over-rev": "D--", "Hv, fwd-over-rev": "^-", "Hv, rev-over-rev": "v--"}
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, kind in zip(axes, ("calls", "elements", "flops")):
    for name in computations:
        ax.loglog(sizes, [c[kind] for c in costs[name]], styles[name], label=name, ms=4)
    ax.set_xticks(sizes, [str(n) for n in sizes], minor=False)
    ax.minorticks_off()
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel(kind if kind != "calls" else "primitive calls")
    ax.set_title({"calls": "primitive calls", "elements": "elements produced",
                  "flops": "flops"}[kind])
axes[0].legend(fontsize=7)
fig.suptitle("measured cost of log-sum-exp's derivatives")
fig.tight_layout()
plt.show()


# %% [markdown]
# On log-log axes a power law $c(n) \approx a n^p$ is a straight line of slope $p$. Three
# slopes show: the calls of $f$, of the gradient and of both Hessian-vector products stay flat
# ($p = 0$: the same program runs, only on longer arrays); the calls of a full Hessian rise
# with slope 1 (one pass per row or column); elements and flops of a Hessian rise with
# slope 2 ($n$ passes that each touch arrays of length $n$), and everything else with slope 1.
#
# ## Reading a law off small measurements
#
# These laws can be read off exactly, without any theory, from the small sizes alone. The
# recipe:
#
# 1. **Find the degree.** Double $n$ and look at the ratio $c(2n)/c(n)$ at the largest sizes:
#    it tends to $2^p$, so $p = \log_2$ of the ratio (1 means constant, 2 linear, 4 quadratic).
# 2. **Find the coefficients.** The counts of a fixed program are whole numbers that follow
#    a polynomial in $n$ exactly, so fit a polynomial of degree $p$ through the measurements
#    and round its coefficients.
# 3. **Check the fit** on every measured size, then **predict** a size you did not measure,
#    and measure it to see.
#
# For the Hessian by forward-over-reverse:

# %%
def read_law(values, sizes):
    """The polynomial in n that the measured values follow (integer coefficients)."""
    ratio = values[-1] / values[-2]                      # sizes double each step
    degree = max(0, round(np.log2(ratio)))
    coefficients = np.round(np.polyfit(sizes, values, degree)).astype(int)
    fits = all(np.polyval(coefficients, n) == c for n, c in zip(sizes, values))
    return ratio, degree, coefficients, fits


def as_formula(coefficients):
    degree = len(coefficients) - 1
    terms = [f"{a}" + ("" if k == 0 else " n" if k == 1 else f" n^{k}")
             for a, k in zip(coefficients, range(degree, -1, -1)) if a != 0]
    return " + ".join(terms).replace("+ -", "- ") or "0"


name = "Hessian, fwd-over-rev"
laws = {}
for kind in ("calls", "elements", "flops"):
    values = [c[kind] for c in costs[name]]
    ratio, degree, coefficients, fits = read_law(values, sizes)
    laws[kind] = coefficients
    print(f"{kind:9s} last ratio {ratio:5.2f} -> degree {degree}:  {as_formula(coefficients):24s}"
          f" fits all sizes: {fits}")

# %% [markdown]
# The prediction for a size twenty times beyond the largest one measured, against a fresh
# measurement:

# %%
n_big = 640
predicted = {kind: int(np.polyval(laws[kind], n_big)) for kind in laws}
measured = measure(computations[name], *point_and_direction(n_big))
for kind in laws:
    print(f"{kind:9s} predicted {predicted[kind]:10d}   measured {measured[kind]:10d}")
assert predicted == measured

# %% [markdown]
# The same recipe reads the law of every computation above. Before you run the next cell,
# predict what it prints from the plot; then compare.

# %%
print(f"{'':22s}{'calls':>18s}{'elements':>26s}{'flops':>26s}")
for name in computations:
    formulas = []
    for kind in ("calls", "elements", "flops"):
        _, _, coefficients, fits = read_law([c[kind] for c in costs[name]], sizes)
        formulas.append(as_formula(coefficients) + ("" if fits else " (no exact fit)"))
    print(f"{name:22s}" + "".join(f"{formula:>26s}" if i else f"{formula:>18s}"
                                  for i, formula in enumerate(formulas)))

# %% [markdown]
# What the laws say:
#
# - A **Hessian** takes calls that grow like $n$ and flops that grow like $n^2$, whatever the
#   mode: it is $n$ passes, each about as dear as one Hessian-vector product, and it has $n^2$
#   entries to fill. Reverse-over-reverse needs fewer calls here because it records the gradient's
#   computation once and sweeps it $n$ times, where `ag.jacfwd` reruns the function and its
#   gradient for every column; in exchange it keeps that recorded graph alive for all $n$
#   sweeps.
# - A **Hessian-vector product** costs a fixed number of calls and a constant multiple of
#   the flops of $f$ itself, for any $n$. That is why second-order methods at scale work
#   with $H\mathbf{v}$ and never form $H$.
# - The recipe needs only a few sizes because these programs contain no branches that depend
#   on $n$: the counts are exact polynomials. Where a program does branch, or a primitive's
#   cost is not a polynomial in $n$, the fit says so (it stops fitting).
#
# ## Summary
#
# - `backward(create_graph=True)` records the backward pass, so a gradient can be
#   differentiated again; `ag.grad(ag.grad(f))` does this for you, to any order.
# - A Hessian is the Jacobian of the gradient: `ag.jacfwd(ag.grad(f))` (forward-over-reverse,
#   `ag.hessian`) or `ag.jacrev(ag.grad(f))` (reverse-over-reverse). Both take $n$ passes.
# - $H\mathbf{v}$ takes one pass: a JVP of the gradient, or the gradient of
#   $\nabla f \cdot \mathbf{v}$.
# - Costs can be measured (`count_ops`: `.total`, `.elements`; an observer for flops) and
#   their laws in $n$ read off exactly from a few small sizes: the ratio at doubling gives the
#   degree, a polynomial fit gives the coefficients, a larger size checks the prediction.
