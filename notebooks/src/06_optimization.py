# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/06_optimization.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 6. Gradient-based optimization
#
# Training a model means choosing parameters that make a loss small. AD supplies the gradient
# of the loss with respect to every parameter in one reverse sweep; an optimizer turns
# gradients into parameter updates. This notebook trains two small models with
# `autograd_lite`: a linear regression and a two-class logistic classifier, with full-batch
# gradient descent (GD) and minibatch stochastic gradient descent (SGD), and looks at what the
# learning rate does.

# %%
import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag

# %% [markdown]
# ## Data for a linear regression
#
# We generate data from a known line so we can tell whether training recovers it:
# $y = \mathbf{x}^\top \mathbf{w}^\star + b^\star + \text{noise}$ with two features. The
# random generator is seeded, so the numbers below are the same on every run.

# %%
rng = np.random.default_rng(0)
true_w, true_b = np.array([2.0, -3.4]), 4.2
features = rng.normal(size=(200, 2))
labels = features @ true_w + true_b + 0.1 * rng.normal(size=200)
X, y = ag.tensor(features), ag.tensor(labels)
print("features:", X.shape, " labels:", y.shape)


# %% [markdown]
# ## The training loop
#
# The model is $\hat y = X\mathbf{w} + b$, the loss is the mean squared error. One step of
# gradient descent:
#
# 1. compute the loss (the library records the operations);
# 2. `loss.backward()` fills `w.grad` and `b.grad`;
# 3. update the parameters *without recording* (inside `ag.no_grad()`), since the update
#    itself is not part of the model;
# 4. clear the gradients, because `backward()` accumulates.

# %%
def mse(w, b, X, y):
    return ((X @ w + b - y) ** 2).mean()


def train_linear(lr, epochs=30, batch_size=None, seed=0):
    """GD when batch_size is None, minibatch SGD otherwise. Returns (w, b, losses per epoch)."""
    order_rng = np.random.default_rng(seed)
    w = ag.zeros(2, requires_grad=True)
    b = ag.zeros((), requires_grad=True)
    n = len(labels)
    losses = [mse(w, b, X, y).item()]
    for _ in range(epochs):
        if batch_size is None:
            batches = [np.arange(n)]
        else:
            perm = order_rng.permutation(n)
            batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
        for idx in batches:
            loss = mse(w, b, X[idx], y[idx])
            loss.backward()
            with ag.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad = None
            b.grad = None
        with ag.no_grad():
            losses.append(mse(w, b, X, y).item())
    return w.detach().numpy(), b.item(), losses


# %%
w_gd, b_gd, losses_gd = train_linear(lr=0.1)
print("learned w:", np.round(w_gd, 3), "  true w:", true_w)
print("learned b:", round(b_gd, 3), "  true b:", true_b)
print("final training loss:", round(losses_gd[-1], 5))

# %% [markdown]
# The learned parameters sit close to the true ones; the remaining loss is about the variance
# of the noise we added, which no line can remove.

# %%
noise_variance = np.var(labels - features @ true_w - true_b)
print("variance of the added noise:", round(noise_variance, 5))

# %% [markdown]
# ## GD versus minibatch SGD
#
# GD uses all 200 examples for each step. SGD estimates the gradient from a small random
# batch, so it makes many more (noisier, cheaper) steps per pass over the data. In one epoch
# (one pass over the data) both compute the gradient of every example once, so per epoch they
# do the same work.
#
# A fair comparison gives each method a learning rate that suits it. We run GD at the 0.1
# used above and at 0.5, and SGD with batches of 10.

# %%
_, _, losses_gd_fast = train_linear(lr=0.5)
_, _, losses_sgd = train_linear(lr=0.05, batch_size=10)
runs = {"GD, lr 0.1 (1 step per epoch)": (losses_gd, 1),
        "GD, lr 0.5 (1 step per epoch)": (losses_gd_fast, 1),
        "SGD, lr 0.05, batch 10 (20 steps per epoch)": (losses_sgd, 20)}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (losses, _) in runs.items():
    ax.semilogy(losses, label=name)
ax.axhline(noise_variance, color="gray", ls=":", label="variance of the noise")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (MSE)")
ax.legend(fontsize=8)
plt.show()

# %%
for name, (losses, steps_per_epoch) in runs.items():
    epochs = next(i for i, loss in enumerate(losses) if loss < 1.1 * noise_variance)
    print(f"{name:45s} within 10% of the noise variance after {epochs:2d} epochs "
          f"= {epochs * steps_per_epoch:3d} updates")


# %% [markdown]
# Against GD at 0.1, SGD looks far ahead, but that is the small learning rate's doing: at
# 0.5, GD reaches the noise floor in as few epochs as SGD, with far fewer updates.
# On a small, well-conditioned problem like this one, SGD buys nothing per epoch. Its
# advantage appears on large, redundant data sets, where a small batch's gradient is nearly
# as good as the full one and a full pass is expensive.

# %% [markdown]
# ## The learning rate
#
# The same GD loop with several learning rates. Too small: the loss falls slowly. Too large:
# each step overshoots and the loss grows without bound. For a quadratic loss like the MSE the
# boundary is $2/\lambda_{\max}$, with $\lambda_{\max}$ the largest eigenvalue of the loss's
# Hessian, which AD can compute for us.

# %%
def mse_of_params(params):
    return mse(params[:2], params[2], X, y)


hess = ag.hessian(mse_of_params)(ag.zeros(3)).numpy()
eigenvalues = np.linalg.eigvalsh(hess)
threshold = 2 / eigenvalues.max()
best_lr = 2 / (eigenvalues.min() + eigenvalues.max())
print("Hessian eigenvalues:", np.round(eigenvalues, 4))
print("largest learning rate that does not diverge: about", round(threshold, 4))

# %% [markdown]
# Closer to the threshold is not faster. Along the Hessian's $i$-th eigenvector, one GD step
# multiplies the distance to the minimum by $1 - \eta\lambda_i$. The slowest direction sets the
# pace, so the rate of convergence is $\max_i |1 - \eta\lambda_i|$. Near $2/\lambda_{\max}$
# the factor of the steepest direction is close to $-1$: the iterate jumps from one side of the
# valley to the other and barely gets closer. The best balance makes the two extreme factors
# equal and opposite, $1 - \eta\lambda_{\min} = -(1 - \eta\lambda_{\max})$, that is
# $\eta^\star = 2 / (\lambda_{\min} + \lambda_{\max})$.

# %%
print(f"best step 2/(lmin + lmax) = {best_lr:.4f}")
for lr in [0.1, 0.5, best_lr, 0.9 * threshold]:
    factor = np.abs(1 - lr * eigenvalues).max()
    print(f"lr = {lr:.4f}: distance to the minimum shrinks by a factor {factor:.3f} per step")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for lr in [0.01, 0.1, 0.5, best_lr, 0.9 * threshold, 1.05 * threshold]:
    _, _, losses = train_linear(lr=lr, epochs=30)
    ax.semilogy(losses, label=f"lr = {lr:.3f}: final loss {losses[-1]:.3g}")
ax.set_xlabel("epoch (= step)")
ax.set_ylabel("training loss")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## A tiny classifier
#
# Now two classes of points in the plane, and a logistic regression:
# $p(\text{class 1} \mid \mathbf{x}) = \sigma(\mathbf{x}^\top\mathbf{w} + b)$, trained by
# minimising the cross-entropy. The gradient code is the same as before; only the loss
# changed, and AD takes care of its derivative.

# %%
rng = np.random.default_rng(1)
n_per_class = 100
points = np.concatenate([rng.normal([-1.0, -1.0], 0.9, size=(n_per_class, 2)),
                         rng.normal([1.5, 1.0], 0.9, size=(n_per_class, 2))])
classes = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
P, c = ag.tensor(points), ag.tensor(classes)


def softplus(z):
    """log(1 + e^z) without overflow: e^-|z| never exceeds 1.

    (z + |z|)/2 rather than relu(z) so that the slope at z = 0, a kink of |z| and relu
    where their rules pick 0, still adds up to the true value 1/2."""
    return 0.5 * (z + ag.abs(z)) + ag.log(1 + ag.exp(-ag.abs(z)))


def cross_entropy(w, b):
    # log sigmoid(z) = -softplus(-z) and log(1 - sigmoid(z)) = -softplus(z): no log of 0
    logits = P @ w + b
    return (c * softplus(-logits) + (1 - c) * softplus(logits)).mean()


w = ag.zeros(2, requires_grad=True)
b = ag.zeros((), requires_grad=True)
history = []
for step in range(150):
    loss = cross_entropy(w, b)
    history.append(loss.item())
    loss.backward()
    with ag.no_grad():
        w -= 0.5 * w.grad
        b -= 0.5 * b.grad
    w.grad = None
    b.grad = None

with ag.no_grad():
    predicted = (ag.sigmoid(P @ w + b) > 0.5).numpy()
accuracy = np.mean(predicted == classes.astype(bool))
print("final cross-entropy:", round(history[-1], 4), "  training accuracy:", accuracy)

# %%
wv, bv = w.detach().numpy(), b.item()
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
for k, color in [(0, "tab:blue"), (1, "tab:red")]:
    mine = classes == k
    left.scatter(points[mine, 0], points[mine, 1], color=color, s=12, label=f"class {k}")
line_x = np.linspace(-4, 4, 2)
left.plot(line_x, -(wv[0] * line_x + bv) / wv[1], "k--", label="decision boundary")
left.set_xlim(-4, 4)
left.set_ylim(-4, 4)
left.set_xlabel("feature 1")
left.set_ylabel("feature 2")
left.legend(fontsize=8)
right.plot(history)
right.set_xlabel("step")
right.set_ylabel("cross-entropy")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# - An optimizer needs only the loss's gradient; AD provides it for any model the loss is
#   written in, in one backward pass whatever the number of parameters.
# - The loop is always: forward, `backward()`, update under `no_grad()`, clear the gradients.
# - SGD trades exact gradients for many cheap steps. Compared fairly, with a good learning
#   rate for each, it matches GD per pass over this small data set; its gains come on large,
#   redundant data.
# - The learning rate must stay below a curvature limit ($2/\lambda_{\max}$ for quadratics),
#   and the fastest step is $2/(\lambda_{\min} + \lambda_{\max})$, not the largest one;
#   AD's Hessian measures both.
# - Losses written with the library's ops can be made numerically stable, as the
#   cross-entropy is here, through softplus, without any epsilon.
#
# **Exercise.** Add a hidden layer (`tanh`) to the classifier and train it on data that is not
# linearly separable, e.g. points inside versus outside a circle.
