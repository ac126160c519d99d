# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/11_memory_checkpointing.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 11. Reverse mode's memory and checkpointing
#
# Reverse mode needs, during the backward pass, values computed during the forward pass: the
# input of each multiplication, the output of each `tanh`. So the graph keeps them until the
# backward pass has used them. This notebook measures how much that is, and how
# *checkpointing* trades recomputation for memory.

# %%
import tracemalloc

import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag

# %% [markdown]
# ## A chain of layers
#
# Our model is a chain: each layer multiplies the state elementwise by a weight vector and
# applies `tanh`. The state holds `width` floats; `depth` layers run one after the other.

# %%
width = 10_000
rng = np.random.default_rng(0)
x_values = rng.normal(size=width)
w_values = rng.uniform(0.5, 1.5, size=width)


def layer(h, w):
    return ag.tanh(h * w)


def chain(h, w, depth):
    for _ in range(depth):
        h = layer(h, w)
    return h


def fresh_inputs():
    return ag.tensor(x_values, requires_grad=True), ag.tensor(w_values, requires_grad=True)


# %% [markdown]
# ## What the graph keeps
#
# `ag.count_ops` watches every primitive as it runs and adds up the floats in the values that
# recorded nodes keep for backward (`stored_elements`). We run only the forward pass, at
# several depths.

# %%
depths = [1, 2, 5, 10, 20, 50, 100]
stored = []
for depth in depths:
    x, w = fresh_inputs()
    count = ag.count_ops(lambda: (chain(x, w, depth) ** 2).sum())
    stored.append(count.stored_elements)
    print(f"depth {depth:3d}: {count.stored_elements:9,d} floats kept   "
          f"({count.stored_elements / width:.0f} × width)")

# %% [markdown]
# Each extra layer adds the same amount: one state vector, the input of its multiplication.
# (`tanh` keeps its output, which is the next layer's input, so it is counted once.) The
# weight, the input and the final square add a fixed amount on top.

# %%
per_layer = np.diff(stored) / np.diff(depths)
print("floats added per layer:", sorted(set(per_layer.tolist())))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(depths, stored, "o-")
ax.set_xlabel("depth (layers)")
ax.set_ylabel("floats kept for backward")
ax.set_title("Reverse mode's memory grows linearly with depth")
plt.show()

# %% [markdown]
# **Try it.** Predict the floats kept at depth 300 from two numbers above: the amount kept
# at depth 1 and the amount added per layer. Then measure it. Change `width` in the first
# cell, and the prediction changes in proportion.

# %%
predicted = stored[0] + per_layer[0] * (300 - 1)
x, w = fresh_inputs()
measured = ag.count_ops(lambda: (chain(x, w, 300) ** 2).sum()).stored_elements
print(f"depth 300: predicted {predicted:,.0f} floats, measured {measured:,d}")


# %% [markdown]
# ## Checkpointing a segment
#
# `ag.checkpoint(f)` runs `f` without recording anything inside it, keeping only `f`'s
# arguments. During backward, it runs `f` again, this time recording, and backpropagates
# through that short-lived graph. Only explicit tensor arguments receive gradients.

# %%
def segment(h, w, layers):
    return chain(h, w, layers)


x, w = fresh_inputs()
plain = ag.count_ops(lambda: chain(x, w, 20))
x, w = fresh_inputs()
checked = ag.count_ops(lambda: ag.checkpoint(lambda a, b: segment(a, b, 20))(x, w))
print(f"20 layers, recorded:     {plain.stored_elements:8,d} floats kept")
print(f"20 layers, checkpointed: {checked.stored_elements:8,d} floats kept (its two arguments)")


# %% [markdown]
# The gradients are the same, and the cost shows up in the backward pass: it applies the
# segment's forward primitives a second time.

# %%
def backward_of(loss_fn):
    x, w = fresh_inputs()
    loss = loss_fn(x, w)
    count = ag.count_ops(loss.backward)
    return x.grad.numpy(), w.grad.numpy(), count


plain_gx, plain_gw, plain_back = backward_of(lambda x, w: (chain(x, w, 20) ** 2).sum())
ckpt_gx, ckpt_gw, ckpt_back = backward_of(
    lambda x, w: (ag.checkpoint(lambda a, b: segment(a, b, 20))(x, w) ** 2).sum())
assert np.allclose(plain_gx, ckpt_gx, rtol=1e-12) and np.allclose(plain_gw, ckpt_gw, rtol=1e-12)
print("same gradients:", True)
print("primitive calls in backward, plain:       ", plain_back.total)
print("primitive calls in backward, checkpointed:", ckpt_back.total,
      f"  (tanh applied {ckpt_back.by_primitive.get('tanh', 0)} times)")


# %% [markdown]
# ## Segments of a long chain
#
# Split a chain of `n` layers into `k` equal segments and checkpoint all but the last (its
# graph is needed right away, so recomputing it would gain nothing). After the forward pass
# the graph keeps `k - 1` segment inputs and the last segment's graph. During backward one
# segment's graph at a time is rebuilt. Few segments mean long segments; many segments mean
# many kept inputs. Somewhere in between the peak is smallest.

# %%
def segmented(x, w, n, k):
    size = n // k
    h = x
    for s in range(k - 1):
        h = ag.checkpoint(lambda a, b: segment(a, b, size))(h, w)
    return (segment(h, w, n - size * (k - 1)) ** 2).sum()


# %% [markdown]
# We measure two things for each `k`: the peak memory numpy allocates during forward and
# backward together (Python's `tracemalloc` sees numpy's arrays), in units of one state
# vector; and the extra primitive calls the backward pass makes, against `k = 1`, which is no
# checkpointing at all.

# %%
def peak_in_states(n, k):
    x, w = fresh_inputs()
    tracemalloc.start()
    segmented(x, w, n, k).backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / (8 * width)


def backward_calls(n, k):
    x, w = fresh_inputs()
    loss = segmented(x, w, n, k)
    return ag.count_ops(loss.backward).total


n = 64
segment_counts = [1, 2, 4, 8, 16, 32, 64]
peak_in_states(n, 4)                    # a first run, so one-time allocations are not counted
peaks = [peak_in_states(n, k) for k in segment_counts]
calls = [backward_calls(n, k) for k in segment_counts]
extra = [c - calls[0] for c in calls]
for k, p, e in zip(segment_counts, peaks, extra):
    print(f"k = {k:2d}: peak {p:5.0f} state vectors, {e:4d} extra primitive calls in backward")
best = segment_counts[int(np.argmin(peaks))]
print(f"smallest peak at k = {best}; sqrt(n) = {np.sqrt(n):.0f}")

# %% [markdown]
# The two pictures side by side: memory falls, then rises again, with its minimum near
# $k = \sqrt{n}$; the recomputation grows with `k` towards one whole extra forward pass.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(segment_counts, peaks, "o-")
left.axvline(np.sqrt(n), color="gray", linestyle=":", label=r"$\sqrt{n}$")
left.set_xscale("log", base=2)
left.set_xlabel("number of segments k")
left.set_ylabel("peak memory (state vectors)")
left.set_title(f"Memory, chain of n = {n} layers")
left.legend()
right.plot(segment_counts, extra, "o-", color="C1")
right.set_xscale("log", base=2)
right.set_xlabel("number of segments k")
right.set_ylabel("extra primitive calls in backward")
right.set_title("Time: recomputed primitives")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each layer is two primitives (`mul` and `tanh`), so recomputing every segment but the last
# costs two calls per recomputed layer:

# %%
recomputed_layers = [n - n // k for k in segment_counts]
assert extra == [2 * r for r in recomputed_layers]
print("extra calls = 2 × recomputed layers:", list(zip(segment_counts, recomputed_layers)))

# %% [markdown]
# **Try it.** Use the rule to predict the extra calls for a chain of 48 layers in 6 segments.
# Measure it, then try a split that does not divide evenly (say 50 layers in 6 segments). Who
# gets the leftover layers in `segmented`?

# %%
for layers, k in [(48, 6), (50, 6)]:
    predicted = 2 * (layers // k) * (k - 1)
    measured = backward_calls(layers, k) - backward_calls(layers, 1)
    print(f"n = {layers}, k = {k}: predicted {predicted} extra calls, measured {measured}")

# %% [markdown]
# ## Summary
#
# - Reverse mode keeps values from the forward pass, so its memory grows with the length of
#   the computation, here one state vector per layer.
# - `ag.checkpoint` keeps a segment's inputs only and recomputes the segment in backward.
# - With `k` segments of a chain of `n` layers the peak is smallest near $k = \sqrt{n}$, for
#   the price of recomputing almost one forward pass.
