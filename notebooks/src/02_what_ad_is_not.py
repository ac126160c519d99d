# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/02_what_ad_is_not.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 2. What AD is not
#
# Automatic differentiation produces numbers, like numerical differentiation, and applies the
# rules of calculus, like symbolic differentiation. It is neither. This notebook measures the
# two weaknesses AD avoids: the **approximation error and O(n) cost** of finite differences,
# and the **expression swell** of symbolic derivatives.

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag


# %% [markdown]
# ## Finite differences
#
# Numerical differentiation replaces the limit in the definition of the derivative by a small
# but finite step $h$:
#
# $$\text{forward:}\ \frac{f(x+h) - f(x)}{h} \qquad
# \text{central:}\ \frac{f(x+h) - f(x-h)}{2h} \qquad
# \text{complex step:}\ \frac{\operatorname{Im} f(x + ih)}{h}.$$
#
# Taylor's theorem says the forward formula is off by a term proportional to $h$ and the
# central one by a term proportional to $h^2$ (the **truncation error**). So smaller $h$ should
# be better... until floating point gets in the way: $f(x+h)$ and $f(x)$ agree in most of
# their digits, and subtracting them cancels those digits, leaving an error of about
# $\varepsilon / h$, where $\varepsilon \approx 2.2 \times 10^{-16}$ is the machine precision
# (the **round-off error**). The complex step has no subtraction and escapes this, but only
# works for functions that accept complex inputs and are analytic.
#
# We measure the error of each formula against the AD derivative of $f(x) = e^x \sin x$ at
# $x = 1$, over step sizes from $10^{-16}$ to $1$.

# %%
def f(x):
    return ag.exp(x) * ag.sin(x)


print("machine epsilon:", np.finfo(float).eps)
print(f"AD derivative at x = 1: {ag.grad(f)(1.0).item():.12f}")
curves = {method: ag.fd_error_curve(f, 1.0, method=method)
          for method in ["forward", "central", "complex"]}
FLOOR = 1e-17     # where an error of exactly zero is drawn: a log axis has no 0
fig, ax = plt.subplots(figsize=(6.5, 4))
for (method, curve), marker in zip(curves.items(), "os^"):
    exact = curve.errors == 0
    line, = ax.loglog(curve.hs, np.where(exact, np.nan, curve.errors), marker + "-", ms=3,
                      label=method)
    if exact.any():
        ax.loglog(curve.hs[exact], np.full(exact.sum(), FLOOR), marker, ms=6, mfc="none",
                  color=line.get_color(), label=f"{method}: error exactly 0 (drawn at {FLOOR:.0e})")
ax.set_xlabel("step size h")
ax.set_ylabel("|finite difference − AD|")
ax.set_title("finite-difference error against the AD derivative")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The forward and central curves are U-shaped: to the right of the minimum, truncation
# dominates (slopes 1 and 2 on the log-log plot); to the left, round-off (slope −1). The best
# achievable accuracy is limited, and the best $h$ depends on the function and the point.
# The complex step has no U: once $h$ is small its error stays at rounding level, and at many
# steps the two numbers agree to the last bit. An error of exactly zero has no place on a log
# axis, so those points are drawn as hollow markers on the floor line instead of vanishing.

# %%
for method in ["forward", "central"]:
    print(f"{method:8s} smallest error at h = {curves[method].best_h:.1e}")
small = curves["complex"].hs < 1e-8
print("complex step, largest error over all h below 1e-8:",
      "below 1e-14" if curves["complex"].errors[small].max() < 1e-14 else "above 1e-14")
print("complex step, steps with an error of exactly zero:",
      int((curves["complex"].errors == 0).sum()), "of", len(curves["complex"]))

# %% [markdown]
# On the truncation side the errors are smooth and predictable. Dividing $h$ by 10 divides the
# forward-difference error by about 10 and the central and complex-step errors by about 100:

# %%
steps = [1e-1, 1e-2, 1e-3]
print("h        " + "".join(f"{method:>12s}" for method in curves))
for h in steps:
    errors = [ag.fd_error_curve(f, 1.0, hs=[h], method=m).errors[0] for m in curves]
    print(f"{h:.0e}   " + "".join(f"{e:12.2e}" for e in errors))


# %% [markdown]
# (At the bottom of each U the error is dominated by rounding, whose exact digits differ
# from one machine's math library to another; the picture, not those digits, is the point.)
#
# ### The cost of a gradient
#
# For $f: \mathbb{R}^n \to \mathbb{R}$, each partial derivative needs its own perturbed
# evaluation. Forward differences need $f(\mathbf{x})$ itself once and $f(\mathbf{x} + h\mathbf{e}_i)$
# for each $i$: $n + 1$ evaluations. Central differences need $f(\mathbf{x} \pm h\mathbf{e}_i)$:
# $2n$ evaluations, none of them at $\mathbf{x}$ itself.
#
# We count the calls `ag.fd_gradient` makes, keeping the calls at $\mathbf{x}$ apart from the
# perturbed ones, and compare with the measured cost of a reverse-mode AD gradient in the same
# unit (operations of the gradient divided by operations of one evaluation of $f$).

# %%
def loss_like(x):
    return ag.sum(ag.sin(x) * x)


def fd_calls(x, method):
    """How often fd_gradient calls f: (calls at x itself, calls at perturbed points)."""
    calls = {"at x": 0, "perturbed": 0}

    def counted(z):
        calls["at x" if np.array_equal(np.asarray(z), x) else "perturbed"] += 1
        return loss_like(z)

    ag.fd_gradient(counted, x, method=method)
    return calls["at x"], calls["perturbed"]


print("     n   forward FD: at x + perturbed   central FD: at x + perturbed   reverse AD cost, "
      "in evaluations of f")
for n in [10, 100, 1000]:
    x = np.linspace(0.0, 1.0, n)
    fwd, cen = fd_calls(x, "forward"), fd_calls(x, "central")
    ad_ratio = ag.count_ops(ag.grad(loss_like), x).total / ag.count_ops(loss_like, x).total
    print(f"{n:6d}   {fwd[0]:12d} + {fwd[1]:4d} = {sum(fwd):4d}   {cen[0]:12d} + {cen[1]:4d} = "
          f"{sum(cen):4d}   {ad_ratio:10.2f}")


# %% [markdown]
# Forward differences take $n + 1$ calls, as counted above. Central differences take the $2n$
# perturbed calls the formula needs, plus one call at $\mathbf{x}$ that the formula does not
# use: `fd_gradient` makes it only to learn the shape of $f$'s output.
#
# Finite differences grow linearly with $n$; reverse-mode AD stays at a few evaluations'
# worth, exact to rounding. With millions of parameters, that is the difference between
# feasible and not. (Finite differences remain useful for *checking* AD code, on small
# problems, which is exactly how this library's own tests use them.)
#
# ## Symbolic differentiation
#
# A computer algebra system such as SymPy applies the rules of calculus to a formula and
# returns a formula. The result is exact, and for small expressions, perfect:

# %%
def survey_example(x1, x2):
    return ag.log(x1) + x1 * x2 - ag.sin(x2)


comparison = ag.symbolic_derivative(survey_example, 2.0, 5.0)
comparison.table()

# %% [markdown]
# The trouble begins when subexpressions repeat. The product rule turns one product into a sum
# of two products, each containing a copy of a factor and of the other's derivative. Apply it
# at every level of a nested computation and the copies multiply. Take the function built by
# repeating $y \leftarrow y \sin y$ (starting from $y = x$) $n$ times: the program is $2n$
# operations long, because each step reuses the value $y$ it already has. The formula,
# however, writes $y$ out in full wherever it appears.

# %%
swell = ag.expression_swell("self_product", sizes=range(1, 8))
swell

# %% [markdown]
# The formula for $f$ itself already doubles with each level, because $y$ is written out twice
# in $y \sin y$. So the derivative's size has to be read against $f$'s: the ratio of the two
# says how much the differentiation adds on top of $f$'s own swell.

# %%
f_sizes = [row["expression_ops"] for row in swell.rows]
sizes = [row["derivative_ops"] for row in swell.rows]
print("growth of the symbolic derivative from one n to the next:",
      [round(b / a, 2) for a, b in zip(sizes, sizes[1:])])
print("growth of f's own formula from one n to the next:         ",
      [round(b / a, 2) for a, b in zip(f_sizes, f_sizes[1:])])
print("size of f' / size of f:", [round(d / e, 1) for d, e in zip(sizes, f_sizes)])
ad_costs = [row["gradient_ops"] for row in swell.rows]
print("growth of the AD gradient's cost:", [b - a for a, b in zip(ad_costs, ad_costs[1:])],
      "operations more per level")


# %% [markdown]
# Here is the derivative for $n = 2$, that is of $f(x) = (x \sin x)\,\sin(x \sin x)$, as SymPy
# writes it. Every occurrence of $x \sin x$ is spelled out again:

# %%
def two_levels(x):
    y = x * ag.sin(x)
    return y * ag.sin(y)


print(ag.symbolic_derivative(two_levels, 0.5).derivatives[0])

# %% [markdown]
# A formula need not repeat itself. `sympy.cse` (common subexpression elimination) names each
# repeated subexpression once, $x_0 = \sin x$, $x_1 = x x_0$, ..., and writes the rest in terms
# of those names. We count the operations of all the named pieces plus the final expression.

# %%
import sympy
from autograd_lite.instruments.symbolic import to_sympy


def shared_size(expr):
    """Operations of an expression once every repeated subexpression is named and counted once."""
    pieces, (rest,) = sympy.cse(expr)
    return sum(sympy.count_ops(p) for _, p in pieces) + sympy.count_ops(rest)


def self_product(n):
    def f(x):
        y = x
        for _ in range(n):
            y = y * ag.sin(y)
        return y
    return f


cse_f, cse_df = [], []
for row in swell.rows:
    expr, (x,) = to_sympy(ag.trace(self_product(row["n"]), 0.5))
    cse_f.append(shared_size(expr))
    cse_df.append(shared_size(sympy.diff(expr, x)))
print("n                  :", [row["n"] for row in swell.rows])
print("f' as a tree       :", sizes)
print("f' with cse        :", cse_df)
print("  more per level   :", [b - a for a, b in zip(cse_df, cse_df[1:])])
print("f with cse         :", cse_f)
print("AD gradient (ops)  :", ad_costs)

# %% [markdown]
# With shared subexpressions the exponential swell is gone. What is left grows by a couple of
# operations more at each level, because SymPy flattens the nested products into one long
# product and its product rule then writes one term per factor; that is mild polynomial
# growth, where the tree grew by the factors printed further up.

# %%
n_values = [row["n"] for row in swell.rows]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
left.semilogy(n_values, f_sizes, "o-", label="formula tree")
left.semilogy(n_values, cse_f, "s-", label="formula with cse")
left.semilogy(n_values, [row["trace_ops"] for row in swell.rows], "^-", label="AD trace")
left.set_title("f itself")
right.semilogy(n_values, sizes, "o-", label="formula tree (sympy.diff)")
right.semilogy(n_values, cse_df, "s-", label="formula with cse")
right.semilogy(n_values, ad_costs, "^-", label="reverse-mode AD, measured")
right.set_title("its derivative f'")
for ax in (left, right):
    ax.set_xlabel("n (levels of y <- y sin y)")
    ax.set_ylabel("operations")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel is the swell of $f$'s own formula, the right one the swell of its derivative
# on top of it. In both, writing shared subexpressions once removes the exponential.
#
# That is what AD is: symbolic differentiation in which every shared subexpression is kept
# once, as a named intermediate value, and evaluated numerically on the spot instead of being
# carried along as a formula. The trace's $v_1, v_2, \dots$ play the role of cse's
# $x_0, x_1, \dots$, and its cost grows linearly, in step with the program.
#
# A product of $n$ simple factors, $x (x+1) \cdots (x+n-1)$, shows the same effect more mildly:

# %%
ag.expression_swell("product", sizes=range(1, 9))

# %% [markdown]
# ## Summary
#
# | | finite differences | symbolic | AD |
# |---|---|---|---|
# | result | approximate number | exact formula | exact number (to rounding) |
# | gradient of $f:\mathbb{R}^n\to\mathbb{R}$ | $n+1$ evaluations of $f$ (forward, $f(\mathbf{x})$ included) or $2n$ (central, $f(\mathbf{x})$ not needed) | formula tree may swell exponentially; with shared subexpressions it does not | a few evaluations of $f$ (reverse mode) |
# | control flow | fine | needs a closed form | fine: differentiates what ran |
#
# The numbers behind this table were measured above; notebook 8 measures all methods side by
# side on one problem.
