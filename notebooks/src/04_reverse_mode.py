# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/04_reverse_mode.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 4. Reverse mode
#
# Forward mode answers "if this input moves, how does everything downstream move?", one input
# direction per pass. Reverse mode answers the opposite question, "how sensitive is this
# output to every value upstream?", for all inputs in one pass. Since a training loss is one
# number depending on very many parameters, reverse mode is what deep learning runs, under
# the name backpropagation.

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag


# %% [markdown]
# ## Adjoints
#
# For an output $y$, the **adjoint** of a value $v_i$ is $\bar v_i = \partial y / \partial v_i$:
# how much $y$ would change per unit change of $v_i$, everything else in the program
# following along. The adjoint of the output is $\bar y = 1$. If $v_i$ is used by the
# operations producing $v_j, v_k, \dots$, the multivariate chain rule gives
#
# $$\bar v_i = \sum_{j \,:\, v_i \text{ feeds } v_j} \bar v_j \,\frac{\partial v_j}{\partial v_i},$$
#
# so adjoints can be computed from the output backwards once all primal values are known:
# first a forward pass that stores the values, then a **reverse sweep**.
#
# Same example as in notebook 3: $y = x_1 x_2 + x_2 - \ln x_1$ at $(3, -4)$.

# %%
def f(x1, x2):
    return x1 * x2 + x2 - ag.log(x1)


tr = ag.trace(f, 3.0, -4.0)
reverse = tr.reverse(numbers=True)
reverse

# %% [markdown]
# Read the adjoint column from the top down: that is the order in which the sweep performs
# the updates. $x_1 = v_{-1}$ and $x_2 = v_0$ are each used twice, so each receives two
# contributions, and the second update of each *adds* to what was already there:

# %%
for step in reverse.steps:
    if step["accumulated"]:
        print(f"{step['target'].name}: adds {float(step['contribution']):+.4f} "
              f"from {step['source'].name}, total now {float(step['adjoint']):.4f}")

# %% [markdown]
# The final adjoints of the inputs are the gradient. One reverse sweep produced both partial
# derivatives; forward mode needed two passes for that.

# %%
print("reverse sweep   :", reverse.result)
print("ag.grad         :", tuple(g.item() for g in ag.grad(f, argnums=(0, 1))(3.0, -4.0)))
print("forward, 2 seeds:", tr.forward(seed=(1.0, 0.0)).result, tr.forward(seed=(0.0, 1.0)).result)

# %% [markdown]
# The graph with each node's adjoint and, on each edge, the local partial derivative that
# the sweep multiplies by. The output node carries the seed $\bar y = 1$ the sweep starts from:

# %%
ag.draw_graph(tr, edge_labels=True, overlay="adjoint")


# %% [markdown]
# ## Vector-Jacobian products and Jacobian rows
#
# For $f: \mathbb{R}^n \to \mathbb{R}^m$, seeding the output adjoints with a vector
# $\mathbf{u} \in \mathbb{R}^m$ instead of 1 makes the reverse sweep return
# $\mathbf{u}^\top J$, a **vector-Jacobian product** (VJP), again without forming $J$.
# Seeding the $j$-th unit vector returns the $j$-th **row** of $J$: $m$ reverse passes build
# the whole Jacobian.

# %%
def g(x):
    return ag.stack([x[0] * x[1], ag.sin(x[0]), x[1] ** 2 + x[0]])


point = ag.tensor([1.0, 2.0])
value, pullback = ag.vjp(g, point)
rows = [pullback(ag.tensor(e))[0].numpy() for e in np.eye(3)]
print("row by row (3 reverse passes):\n", np.stack(rows))
print("ag.jacrev(g):\n", ag.jacrev(g)(point).numpy())
print("ag.jacfwd(g) agrees:", np.allclose(ag.jacrev(g)(point).numpy(), ag.jacfwd(g)(point).numpy()))

# %% [markdown]
# JVPs and VJPs are two views of the same matrix. For any $\mathbf{u}$ and $\mathbf{v}$,
# $\mathbf{u}^\top (J\mathbf{v}) = (\mathbf{u}^\top J)\,\mathbf{v}$, a handy check that forward
# and reverse mode agree:

# %%
rng = np.random.default_rng(0)
u, v = rng.normal(size=3), rng.normal(size=2)
jv = ag.jvp(g, (point,), (ag.tensor(v),))[1].numpy()
uj = pullback(ag.tensor(u))[0].numpy()
print(f"u . (J v)    = {u @ jv:.12f}")
print(f"(u^T J) . v = {uj @ v:.12f}")

# %% [markdown]
# ## The backpropagation algorithm
#
# Backpropagation is reverse mode applied to a neural network's loss:
#
# 1. **Forward pass.** Evaluate the network and the loss, storing every intermediate value
#    (each layer's input and pre-activation).
# 2. **Seed.** Set the loss's adjoint to 1.
# 3. **Reverse sweep.** Visit the operations in reverse order; for each, multiply its output
#    adjoint by its local derivative and *add* the result into the adjoints of its inputs.
# 4. **Read off.** The adjoints of the parameters are the gradient used by the optimizer.
#
# For a layer $\mathbf{h} = \tanh(W\mathbf{x} + \mathbf{b})$ the local rules come out as
# matrix products. Below the forward and reverse pass of a small two-layer network are
# written out by hand in numpy, next to `autograd_lite` computing the same gradient.

# %%
rng = np.random.default_rng(1)
X = rng.normal(size=(8, 3))           # 8 examples, 3 features
t = rng.normal(size=(8, 1))           # targets
W1, b1 = rng.normal(size=(3, 4)), np.zeros(4)
W2, b2 = rng.normal(size=(4, 1)), np.zeros(1)

# 1. forward pass, keeping what the reverse sweep needs (by hand)
a1 = X @ W1 + b1
h1 = np.tanh(a1)
out = h1 @ W2 + b2
loss = np.mean((out - t) ** 2)
# 2. seed and 3. reverse sweep, one line per operation, in reverse order (by hand)
out_bar = 2 * (out - t) / out.size    # adjoint of out, from loss_bar = 1
W2_bar, b2_bar = h1.T @ out_bar, out_bar.sum(axis=0)
h1_bar = out_bar @ W2.T
a1_bar = h1_bar * (1 - h1 ** 2)       # tanh' = 1 - tanh^2
W1_bar, b1_bar = X.T @ a1_bar, a1_bar.sum(axis=0)

# the same with autograd_lite
params = [ag.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
data, targets = ag.tensor(X), ag.tensor(t)
hidden = ag.tanh(data @ params[0] + params[1])
ag_loss = ((hidden @ params[2] + params[3] - targets) ** 2).mean()
ag_loss.backward()
for name, by_hand, p in zip(["W1", "b1", "W2", "b2"], [W1_bar, b1_bar, W2_bar, b2_bar], params):
    agree = np.allclose(by_hand, p.grad.numpy(), rtol=1e-12, atol=1e-12)
    print(f"{name}: shape {p.grad.shape}, hand-written backprop and autograd_lite agree "
          f"to 1e-12: {agree}")

# %% [markdown]
# The graph that `backward()` walked for that loss, drawn from the top down. Each inner node
# is a recorded operation; the leaves (blue), each at the top of its branch, are the four parameters,
# named in the drawing. The data `X` and the targets `t` are not in it: they need no
# gradient, so the sweep has no reason to reach them.

# %%
ag.draw_graph(ag_loss, direction="TB",
              names=dict(zip(["W1", "b1", "W2", "b2"], params)))


# %% [markdown]
# ## Why reverse mode wins for a scalar loss
#
# A gradient of $f: \mathbb{R}^n \to \mathbb{R}$ costs forward mode $n$ passes and reverse
# mode one. We measure it: `ag.derivative_costs` runs each method and counts the elementary
# operations applied (on whole arrays), for $f(\mathbf{x}) = \sum_i x_i \sin x_i$ with a
# growing number of inputs.

# %%
def loss_like(x):
    return ag.sum(ag.sin(x) * x)


sizes = [1, 3, 10, 30, 100, 300]
measured = {n: ag.derivative_costs(loss_like, np.ones(n)) for n in sizes}
print(" n   f   gradient by reverse mode   gradient by forward mode   values stored (reverse)")
for n, c in measured.items():
    print(f"{n:3d}  {c['f'].total:2d}   {c['grad'].total:24d}   {c['jacfwd'].total:24d}   "
          f"{c['grad'].stored:23d}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(sizes, [measured[n]["jacfwd"].total / measured[n]["f"].total for n in sizes], "s-",
          label="forward mode (n JVPs)")
ax.loglog(sizes, [measured[n]["grad"].total / measured[n]["f"].total for n in sizes], "o-",
          label="reverse mode (1 VJP)")
ax.set_xlabel("number of inputs n")
ax.set_ylabel("operations / operations of f")
ax.set_title("measured cost of a gradient")
ax.legend()
plt.show()

# %% [markdown]
# Reverse mode's cost stays a constant multiple of evaluating $f$ however many inputs there
# are (the "cheap gradient principle"); forward mode's grows with $n$. The price of reverse
# mode is memory: it stores the intermediate values of the forward pass until the sweep has
# used them (the last column above counts them; for a deep network that is every layer's
# activations).
#
# ## Summary
#
# - The adjoint $\bar v_i = \partial y / \partial v_i$ is computed backwards from $\bar y = 1$;
#   a value used several times accumulates one contribution per use.
# - One reverse sweep gives a VJP $\mathbf{u}^\top J$: one row of the Jacobian, or the whole
#   gradient of a scalar function.
# - Backpropagation is reverse mode on a network's loss; its cost is a small constant times
#   the cost of the loss, whatever the number of parameters, paid for in stored activations.
