# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/autograd-lite/autograd-lite-course/blob/main/notebooks/09_build_your_own.ipynb)

# %%
# On Google Colab this installs the course package; anywhere else it does nothing.
import subprocess
import sys

REPO_URL = "https://github.com/autograd-lite/autograd-lite-course"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    f"autograd-lite-course @ git+{REPO_URL}"], check=True)

# %% [markdown]
# # 9. Build your own autograd
#
# So far `autograd_lite` did the differentiating for us. In this notebook we write the two
# modes ourselves, for plain Python numbers, in about a hundred lines: a `Value` class for
# reverse mode and a `Dual` class for forward mode. Each is checked against the library on
# the same functions. At the end we open the library's own files and find each of our
# pieces there, so that its core is no longer a black box.

# %%
import inspect
import math
import os

import numpy as np
import matplotlib.pyplot as plt
import autograd_lite as ag


# %% [markdown]
# ## A number that remembers where it came from
#
# Reverse mode needs the graph of the computation. We get it by making every arithmetic
# result remember three things: its inputs (its **parents**), the partial derivative of the
# result with respect to each parent (its **local gradients**), and the name of the
# operation, for printing. The local gradients are plain numbers, known as soon as the
# operation has run: for $c = a b$ they are $\partial c/\partial a = b$ and
# $\partial c/\partial b = a$.
#
# Python's operator overloading does the recording: `a * b` calls `a.__mul__(b)`, which we
# write to return a new `Value`.

# %%
class Value:
    """A scalar that records how it was computed, so that it can be differentiated."""

    def __init__(self, data, parents=(), local_grads=(), op="input"):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents            # the Values this one was computed from
        self.local_grads = local_grads    # d(this) / d(parent), one number per parent
        self.op = op

    def __repr__(self):
        return f"Value({self.data:.4g}, grad={self.grad:.4g})"

    def _result(self, data, parents, local_grads, op):
        return type(self)(data, parents, local_grads, op)

    def _lift(self, other):                # a plain number takes part as a constant
        return other if isinstance(other, Value) else type(self)(other, op="const")

    def __add__(self, other):
        other = self._lift(other)
        return self._result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._lift(other)
        return self._result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k):                  # a constant exponent only
        return self._result(self.data ** k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    __radd__, __rmul__ = __add__, __mul__

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def exp(self):
        e = math.exp(self.data)
        return self._result(e, (self,), (e,), "exp")

    def log(self):
        return self._result(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def sin(self):
        return self._result(math.sin(self.data), (self,), (math.cos(self.data),), "sin")

    def tanh(self):
        t = math.tanh(self.data)
        return self._result(t, (self,), (1.0 - t * t,), "tanh")


# %% [markdown]
# Every operation is built from a handful of primitives. Subtraction and division are not
# primitives here: they are written with `+`, `*` and `**`, so they need no derivative of
# their own. A computation now leaves a graph behind:

# %%
a, b = Value(3.0), Value(-4.0)
y = a * b + b - a.log()
print(y, "made by", y.op, "from", y.parents)
print("its local gradients:", y.local_grads)


# %% [markdown]
# ## Visiting the graph in the right order
#
# The chain rule sends gradient from a value to its parents. A value may pass its gradient on
# only once it has received everything from all of its consumers, so the values must be
# visited in an order where every value comes after all the values computed from it. Such an
# order is a reversed **topological order**: a depth-first walk that lists a value after its
# parents gives the topological order, and we read it backwards.

# %%
def topological_order(root):
    """Every Value that ``root`` depends on, each listed after its parents."""
    order, seen = [], set()

    def visit(v):
        if id(v) not in seen:
            seen.add(id(v))
            for parent in v.parents:
                visit(parent)
            order.append(v)

    visit(root)
    return order


print([v.op for v in topological_order(y)])


# %% [markdown]
# The backward pass seeds the output with $\bar y = 1$, then walks the order backwards. At
# each value $v$ it hands every parent $p$ the product $\bar v \cdot \partial v / \partial p$.
# How a parent *receives* that share is a separate method, because that one line is where a
# classic bug hides. Here is the first attempt: the parent simply takes the share as its
# gradient.

# %%
def backward(self):
    order = topological_order(self)
    for v in order:
        v.grad = 0.0
    self.grad = 1.0
    for v in reversed(order):
        for parent, local in zip(v.parents, v.local_grads):
            parent.receive(v.grad * local)


def receive(self, share):
    self.grad = share


Value.backward, Value.receive = backward, receive

# %% [markdown]
# ## The bug: a value used twice
#
# Test it on $f(x) = x \cdot x$ at $x = 3$, where $f'(x) = 2x = 6$, and compare with the library:

# %%
x = Value(3.0)
(x * x).backward()
library = ag.grad(lambda t: t * t)(ag.tensor(3.0)).item()
print(f"our Value: {x.grad}   autograd_lite: {library}   agree: {math.isclose(x.grad, library)}")

# %% [markdown]
# Half the answer is missing. The product node has $x$ as *both* parents, so $x$ gets two
# shares, $3$ and $3$, and the second assignment overwrote the first. The multivariate chain
# rule says the shares of all uses must be **added**. The bug is silent whenever no value is
# used twice, which makes it easy to miss: here is a function where every value has one
# consumer, and the faulty version gets it right.

# %%
u, w = Value(0.5), Value(2.0)
(u.sin() * w).backward()
print(f"d/du: ours {u.grad:.6f}, exact {math.cos(0.5) * 2.0:.6f}")
print(f"d/dw: ours {w.grad:.6f}, exact {math.sin(0.5):.6f}")


# %% [markdown]
# The fix is one character, `=` becomes `+=`. Our `backward` resets every gradient to zero
# before it starts, so shares from an earlier call do not leak in. PyTorch and `autograd_lite`
# do not reset a leaf's `.grad`: they keep adding into it across calls, which is why a training
# loop zeroes it (notebook 5).

# %%
def receive(self, share):
    self.grad += share      # every use of a value sends its own share: add them all


Value.receive = receive

x = Value(3.0)
(x * x).backward()
print(f"our Value: {x.grad}   autograd_lite: {library}   agree: {math.isclose(x.grad, library)}")


# %% [markdown]
# **Try it.** Before running the next cell, predict what the faulty `receive` gives for
# $x \cdot x \cdot x$ at $x = 2$, where the true derivative is $3x^2 = 12$. Walk the graph by
# hand: which share arrives at $x$ last? The cell swaps the faulty version in for one call, then
# puts the fixed one back. Try $x \cdot x \cdot x \cdot x$ too.

# %%
def faulty_receive(self, share):
    self.grad = share


def derivative_at_2(f, receiver):
    Value.receive = receiver
    try:
        x = Value(2.0)
        f(x).backward()
        return x.grad
    finally:
        Value.receive = receive          # always back to the fixed version


cube = lambda x: x * x * x
print(f"faulty: {derivative_at_2(cube, faulty_receive)}   fixed: {derivative_at_2(cube, receive)}"
      f"   exact 3·2² = {3 * 2.0 ** 2}")

# %% [markdown]
# ## Checking against the library
#
# A handful of test functions, written once so that they run on our `Value`, on our `Dual`
# (below) and on `autograd_lite` tensors alike: they use only operators and the methods
# `.log()`, `.sin()`, `.exp()`, `.tanh()`, which all three provide. Several of them use a
# variable more than once.

# %%
tests = {
    "x1*x2 + x2 - log x1": (lambda x1, x2: x1 * x2 + x2 - x1.log(), (3.0, -4.0)),
    "x*x*x / (1 + x*x)": (lambda x: x * x * x / (1 + x * x), (0.8,)),
    "tanh(a*b + b) * a": (lambda a, b: (a * b + b).tanh() * a, (0.3, -1.2)),
    "exp(sin x) - x**3": (lambda x: x.sin().exp() - x ** 3, (1.1,)),
    "(a - b) / (a + b)": (lambda a, b: (a - b) / (a + b), (2.0, 0.5)),
}


def reverse_gradient(f, point):
    """The gradient of f at point, by our Value: one backward pass for all inputs."""
    inputs = [Value(p) for p in point]
    f(*inputs).backward()
    return [v.grad for v in inputs]


def library_gradient(f, point):
    argnums = tuple(range(len(point)))
    grads = ag.grad(f, argnums=argnums)(*[ag.tensor(p) for p in point])
    return [g.item() for g in grads]


for name, (f, point) in tests.items():
    ours, theirs = reverse_gradient(f, point), library_gradient(f, point)
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-14), name
    print(f"{name:22s} Value {np.round(ours, 6)}   autograd_lite {np.round(theirs, 6)}")

# %% [markdown]
# Our graph is small enough to draw. The library's drawing code takes a plain list of
# nodes and edges (`GraphSpec` in `autograd_lite/instruments/graph.py`), so we can hand it the
# graph our `Value`s built, each node showing its value and, after the backward pass, its
# gradient.

# %%
from autograd_lite.instruments.graph import GraphDrawing, GraphSpec


def draw_values(root):
    spec = GraphSpec("our Value graph")
    order = topological_order(root)
    key = {id(v): f"n{i}" for i, v in enumerate(order)}      # a stable name for each node
    for v in order:
        kind = "output" if v is root else "input" if not v.parents else "op"
        kind = "const" if v.op == "const" else kind
        spec.node(key[id(v)], [v.op, f"{v.data:.4g}", f"grad = {v.grad:.4g}"], kind)
        for parent, local in zip(v.parents, v.local_grads):
            spec.edge(key[id(parent)], key[id(v)], label=f"{local:.3g}")
    return GraphDrawing(spec)


a, b = Value(3.0, op="a"), Value(-4.0, op="b")    # an input's op is only its label
y = a * b + b - a.log()
y.backward()
draw_values(y)


# %% [markdown]
# Each edge carries the local gradient, and each node's gradient is the sum, over its outgoing
# edges, of (edge label) times (gradient at the edge's end). The inputs $a$ and $b$ each have
# two outgoing edges: those are the two shares that `+=` adds. Subtraction shows up as `*`
# by the constant $-1$ followed by `+`, as we defined it.

# %% [markdown]
# ## Forward mode in twenty lines: dual numbers
#
# Forward mode needs no graph. Carry with every number $a$ a second number $\dot a$, its
# derivative with respect to the one input we chose, and write the pair as $a + \dot a\,\varepsilon$
# with the rule $\varepsilon^2 = 0$. Multiplying out,
# $(a + \dot a\varepsilon)(b + \dot b\varepsilon) = ab + (\dot a b + a \dot b)\varepsilon$:
# the $\varepsilon$ part obeys the product rule by itself. For a function,
# $g(a + \dot a\varepsilon) = g(a) + g'(a)\,\dot a\,\varepsilon$. These **dual numbers** make
# the derivative travel along with the value.

# %%
class Dual:
    """a + ȧ·ε with ε² = 0: the ε part is a derivative carried along with the value."""

    def __init__(self, val, dot=0.0):
        self.val, self.dot = val, dot

    def _chain(self, val, slope):                  # g(a + ȧε) = g(a) + g'(a)·ȧ·ε
        return Dual(val, slope * self.dot)

    def __add__(s, o):
        o = o if isinstance(o, Dual) else Dual(o)
        return Dual(s.val + o.val, s.dot + o.dot)

    def __mul__(s, o):
        o = o if isinstance(o, Dual) else Dual(o)
        return Dual(s.val * o.val, s.dot * o.val + s.val * o.dot)

    __radd__, __rmul__ = __add__, __mul__
    __neg__ = lambda s: s * -1.0
    __sub__ = lambda s, o: s + (-o)
    __rsub__ = lambda s, o: -s + o
    __pow__ = lambda s, k: s._chain(s.val ** k, k * s.val ** (k - 1))
    __truediv__ = lambda s, o: s * (o if isinstance(o, Dual) else Dual(o)) ** -1
    __rtruediv__ = lambda s, o: Dual(o) / s
    exp = lambda s: s._chain(math.exp(s.val), math.exp(s.val))
    log = lambda s: s._chain(math.log(s.val), 1.0 / s.val)
    sin = lambda s: s._chain(math.sin(s.val), math.cos(s.val))
    tanh = lambda s: s._chain(math.tanh(s.val), 1.0 - math.tanh(s.val) ** 2)


# %% [markdown]
# One forward pass gives the derivative with respect to one input: the one whose $\dot x$ we
# seed with 1 (all others get 0). A gradient of $n$ inputs therefore takes $n$ passes, one per
# seed, where the `Value` needed one backward pass. The same five functions, now three ways:

# %%
def forward_gradient(f, point):
    """The gradient of f at point, by our Dual: one forward pass per input."""
    grads = []
    for k in range(len(point)):
        seeded = [Dual(p, 1.0 if i == k else 0.0) for i, p in enumerate(point)]
        grads.append(f(*seeded).dot)
    return grads


print(f"{'function':22s} {'inputs':>6s}  {'Dual passes':>11s}  {'Value backward passes':>21s}"
      f"  all three agree to 1e-12")
for name, (f, point) in tests.items():
    theirs = np.array(library_gradient(f, point))
    by_dual = np.array(forward_gradient(f, point))
    by_value = np.array(reverse_gradient(f, point))
    assert np.allclose(by_dual, theirs, rtol=1e-12, atol=1e-14), name
    agree = np.allclose(by_value, theirs, rtol=1e-12, atol=1e-14)
    print(f"{name:22s} {len(point):6d}  {len(point):11d}  {1:21d}  {agree}")

# %% [markdown]
# **Try it.** Give both classes a `cos`. Its local gradient is $-\sin$: one line for `Value`
# and one for `Dual`. Then check a function that uses it against the library. Change the
# function or the point and run the cell again.

# %%
Value.cos = lambda self: self._result(math.cos(self.data), (self,), (-math.sin(self.data),), "cos")
Dual.cos = lambda s: s._chain(math.cos(s.val), -math.sin(s.val))

g, point = (lambda a, b: (a * b).cos() * a + b.exp()), (0.7, -1.3)
three_ways = {"Value (reverse)": reverse_gradient(g, point),
              "Dual (forward)": forward_gradient(g, point),
              "autograd_lite": library_gradient(g, point)}
for how, gradient in three_ways.items():
    print(f"{how:16s} {np.round(gradient, 8)}")
print("all agree:", all(np.allclose(v, three_ways["autograd_lite"], rtol=1e-12)
                        for v in three_ways.values()))

# %% [markdown]
# All three agree to rounding error. Over a whole interval, the derivative of
# $x^3/(1+x^2)$ from our two classes lies exactly on the library's:

# %%
f = tests["x*x*x / (1 + x*x)"][0]
xs = np.linspace(-3, 3, 121)
by_value = [reverse_gradient(f, (x,))[0] for x in xs]
by_dual = [forward_gradient(f, (x,))[0] for x in xs]
by_library = ag.grad(lambda t: ag.sum(f(t)))(ag.tensor(xs)).numpy()   # elementwise f: one pass
assert np.allclose(by_value, by_library) and np.allclose(by_dual, by_library)

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(xs, [f(x) for x in xs], color="0.6", label="f(x)")
ax.plot(xs, by_library, lw=5, alpha=0.35, label="f'(x), autograd_lite")
ax.plot(xs[::6], by_value[::6], "o", ms=5, label="f'(x), our Value (reverse)")
ax.plot(xs[3::6], by_dual[3::6], "x", ms=6, label="f'(x), our Dual (forward)")
ax.set_xlabel("x")
ax.set_ylabel("value")
ax.set_title("f(x) = x³ / (1 + x²) and its derivative, three ways")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# How long is what we wrote? IPython files the source of every cell it runs under a name of
# its own, and each function knows the name of the file it came from. So we can count the
# non-blank lines of the cells that define the two classes and the backward pass:

# %%
import linecache

defined_in = {"Value": Value.__init__, "topological_order": topological_order,
              "backward (and the first receive)": backward, "Dual": Dual.__init__}
lines = {name: sum(1 for line in linecache.getlines(fn.__code__.co_filename) if line.strip())
         for name, fn in defined_in.items()}
for name, n in lines.items():
    print(f"{n:3d}  {name}")
print(f"{sum(lines.values()):3d}  in all")

# %% [markdown]
# ## A tour of the real thing
#
# `autograd_lite` does the same on numpy arrays, with more care for speed, memory and error
# messages. Here is where each of our pieces lives, so you can open the files and read them.
# The table is computed from the library itself (the file each object is defined in):

# %%
from importlib import import_module

# (import_module, because the name ag.tensor is taken by the factory function)
core, engine, fwd, table = [import_module(f"autograd_lite.{name}")
                            for name in ("tensor", "backward", "forward", "primitives")]

tour = [
    ("Value: data and grad", ag.Tensor, "._data holds a numpy array; .grad as ours"),
    ("parents + op", core.Node, "a Tensor's .grad_fn: .prim and .next (the parents)"),
    ("recording an operation", core.binary_operation, "what our _result did"),
    ("local gradients", table.Primitive, "a VJP rule per input, kept in PRIMITIVES"),
    ("topological order + backward", engine.run_backward, "the reverse sweep"),
    ("receive (+=)", engine._sweep, "previous + gi: the shares of one node summed"),
    ("leaf .grad", engine._accumulate_leaf, "summed across backward() calls"),
    ("Dual", fwd.make_dual, "a Tensor carrying a .tangent"),
    ("Dual arithmetic", core._push_tangent, "JVP rules from the same table"),
    ("ag.grad, ag.jvp", ag.grad, "the transforms, built on the two modes"),
    ("drawing the graph", ag.draw_graph, "graphviz or matplotlib"),
]
root = os.path.dirname(ag.__file__)
for ours, obj, note in tour:
    where = os.path.relpath(inspect.getsourcefile(obj), root)
    print(f"{ours:30s} {where:24s} {obj.__qualname__:20s} {note}")

# %% [markdown]
# Three differences are worth knowing before you open them.
#
# **The library keeps rules, not numbers.** Our `Value` stored its local gradients as
# numbers at once. A library node keeps what its rule needs (inputs or output) and calls the
# rule during the backward pass: the rule maps the output's gradient $g$ to an input's share.
# It is the product we computed, written as a function. The rule of `sin`, called by hand:

# %%
g, x0 = 2.0, 0.5
share = ag.PRIMITIVES["sin"].vjp[0](g, None, x0)   # arguments: (g, output, *inputs)
print(f"sin's VJP rule: {share:.6f};  our product g * cos(x): {g * math.cos(x0):.6f}")

# %% [markdown]
# Keeping rules pays off twice. The rules run on arrays, where "multiply by the local
# gradient" becomes a vector-Jacobian product that never forms the Jacobian. And the rules
# are written with the library's own functions, so they can run on tensors and be recorded
# themselves: that is how `create_graph=True` and derivatives of derivatives work (the next
# notebook). The same table also holds each primitive's JVP rule, which plays the part of our
# `Dual` methods.
#
# **The order comes from a clock, not from a walk.** Every node gets a creation stamp when it is
# recorded; a node is always newer than the nodes that feed it. So instead of our recursive
# depth-first search, the sweep in `backward.py` takes the newest waiting node from a heap:
# no recursion (so no recursion limit on a deep graph) and no separate sorting pass.
#
# **The graph is the same.** The library records the same structure ours did, with its own
# names for the nodes:

# %%
a, b = ag.tensor(3.0, requires_grad=True), ag.tensor(-4.0, requires_grad=True)
y_lib = a * b + b - a.log()
y_lib.backward()
node = y_lib.grad_fn
print("output node:", node, "  its parents:", [parent for parent, _ in node.next_functions])
print("gradients:  library", (a.grad.item(), b.grad.item()),
      "  ours", tuple(reverse_gradient(tests["x1*x2 + x2 - log x1"][0], (3.0, -4.0))))

# %% [markdown]
# ## Summary
#
# - A reverse-mode autograd is a value that records its parents and local gradients, a
#   topological order, and one loop that hands out $\bar v \cdot \partial v/\partial p$.
# - A value used twice receives two shares: they must be added (`+=`). Assigning them loses
#   all but the last, and only tests with a reused value catch it.
# - Forward mode is arithmetic on dual numbers $a + \dot a\varepsilon$, $\varepsilon^2 = 0$:
#   no graph, one pass per input direction.
# - `autograd_lite` has the same parts on arrays: `Tensor` and `Node` in `tensor.py`, the
#   rules in `primitives.py`, the sweep in `backward.py`, tangents in `forward.py`.
