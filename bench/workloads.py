"""The work each library does, written once per library, on identical data.

Every library gets the same three workloads:

* ``chain(kind, steps)``: ``y = relu(y * a + b)`` repeated ``steps`` times (three ops a
  step: mul, add, relu). ``kind`` is "scalar" (0-d values) or "vector" (64 elements, summed
  at the end so there is one scalar to differentiate). Returns a function that builds one
  graph, runs backward and returns the gradients of ``a`` and ``b`` as numpy values.
  mul, add and relu are the ops micrograd 0.1.0 has in common with the others (it has
  no tanh, sin or exp), so every library runs the same op mix.
* ``mlp()``: one SGD training step of a 784 -> 256 -> 10 relu network on a batch of 256,
  softmax cross-entropy loss against one-hot labels, learning rate 0.1. Returns a function
  that performs one step (forward, backward, parameter update) and returns the loss.
* ``deep(steps)``: the chain again on scalars, long enough to be a million nodes deep,
  split into a forward function (builds the graph) and a backward function.

All arithmetic is float64 (torch is told so) and all data comes from ``numpy`` with seed 0,
so every library computes the same numbers; the harness compares them.
"""
import numpy as np

VECTOR_SIZE = 64
BATCH, N_IN, N_HIDDEN, N_OUT = 256, 784, 256, 10
LEARNING_RATE = 0.1
SEED = 0


def chain_data(kind):
    """Start value and the two parameters of the chain; the chain stays bounded (0 < a < 1)."""
    if kind == "scalar":
        return np.float64(0.5), np.float64(0.9), np.float64(0.1)
    rng = np.random.default_rng(SEED)
    y0 = rng.uniform(0.0, 1.0, VECTOR_SIZE)
    a = rng.uniform(0.5, 0.95, VECTOR_SIZE)
    b = rng.uniform(0.05, 0.2, VECTOR_SIZE)
    return y0, a, b


def chain_ops(kind, steps):
    """How many ops one chain graph holds (the final sum counts for vectors)."""
    return 3 * steps + (1 if kind == "vector" else 0)


def mlp_data():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((BATCH, N_IN))
    labels = rng.integers(0, N_OUT, BATCH)
    onehot = np.zeros((BATCH, N_OUT))
    onehot[np.arange(BATCH), labels] = 1.0
    w1 = rng.standard_normal((N_IN, N_HIDDEN)) * np.sqrt(2.0 / N_IN)
    b1 = np.zeros(N_HIDDEN)
    w2 = rng.standard_normal((N_HIDDEN, N_OUT)) * np.sqrt(2.0 / N_HIDDEN)
    b2 = np.zeros(N_OUT)
    return x, onehot, [w1, b1, w2, b2]


def deep_data():
    return chain_data("scalar")


# ---------------------------------------------------------------- hand-written numpy
class NumpyManual:
    """The reference: the same computations with the backward pass written by hand."""

    name = "numpy"
    module = "numpy"

    def setup(self, threads):
        pass

    def chain(self, kind, steps):
        y0, a, b = chain_data(kind)
        if kind == "scalar":
            y0, a, b = np.array(y0), np.array(a), np.array(b)   # 0-d arrays, as the others hold

        def run():
            ys, zs = [], []
            y = y0
            for _ in range(steps):
                ys.append(y)
                z = y * a + b
                zs.append(z)
                y = np.maximum(z, 0.0)
            g = np.ones_like(y)                     # d sum(y) / d y
            grad_a, grad_b = np.zeros_like(a), np.zeros_like(b)
            for y_in, z in zip(reversed(ys), reversed(zs)):
                dz = g * (z > 0)
                grad_a = grad_a + dz * y_in
                grad_b = grad_b + dz
                g = dz * a
            return grad_a, grad_b
        return run

    def mlp(self):
        x, onehot, params = mlp_data()
        w1, b1, w2, b2 = params

        def step():
            h_pre = x @ w1 + b1
            h = np.maximum(h_pre, 0.0)
            z = h @ w2 + b2
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            log_p = shifted - np.log(total)
            loss = -(onehot * log_p).sum() / BATCH
            dz = (e / total - onehot) / BATCH
            dw2 = h.T @ dz
            db2 = dz.sum(axis=0)
            dh = dz @ w2.T
            dh *= h_pre > 0
            dw1 = x.T @ dh
            db1 = dh.sum(axis=0)
            for p, g in zip(params, (dw1, db1, dw2, db2)):
                p -= LEARNING_RATE * g
            return float(loss)
        return step

    def deep(self, steps):
        y0, a, b = deep_data()
        saved = {}

        def forward():
            ys, zs = [], []
            y = y0
            for _ in range(steps):
                ys.append(y)
                z = y * a + b
                zs.append(z)
                y = z if z > 0 else 0.0 * z
            saved.update(ys=ys, zs=zs)

        def backward():
            ys, zs = saved.pop("ys"), saved.pop("zs")
            g, grad_a, grad_b = 1.0, 0.0, 0.0
            for y_in, z in zip(reversed(ys), reversed(zs)):
                dz = g if z > 0 else 0.0 * g
                grad_a += dz * y_in
                grad_b += dz
                g = dz * a
            return grad_a, grad_b
        return forward, backward


def _value_chain(make, kind, steps, no_grad):
    """``chain`` for the engines with micrograd's interface (micrograd, the bare engine):
    ``make`` turns a number or an array into one of their values, ``no_grad`` is what their
    ``.grad`` holds before a backward."""
    y0, a0, b0 = chain_data(kind)
    a, b = make(a0), make(b0)

    def run():
        a.grad = b.grad = no_grad
        y = make(y0)
        for _ in range(steps):
            y = (y * a + b).relu()
        if kind == "vector":
            y = y.sum()
        y.backward()
        return a.grad, b.grad
    return run


def _value_deep(make, steps):
    """``deep`` for the engines with micrograd's interface (micrograd, the bare engine):
    ``make`` turns a number into one of their values."""
    y0, a0, b0 = deep_data()
    a, b = make(a0), make(b0)
    saved = {}

    def forward():
        y = make(y0)
        for _ in range(steps):
            y = (y * a + b).relu()
        saved["y"] = y

    def backward():
        saved["y"].backward()     # keep the graph alive on failure, like the others would
        saved.clear()
        return a.grad, b.grad
    return forward, backward


# ---------------------------------------------------------------- autograd_lite
class AutogradLite:
    name = "autograd_lite"
    module = "autograd_lite"

    def setup(self, threads):
        import autograd_lite as ag
        self.ag = ag
        ag.manual_seed(SEED)

    def chain(self, kind, steps):
        ag = self.ag
        y0, a0, b0 = chain_data(kind)
        a = ag.tensor(a0, requires_grad=True)
        b = ag.tensor(b0, requires_grad=True)
        y_start = ag.tensor(y0)
        relu = ag.relu

        def run():
            a.grad = b.grad = None
            y = y_start
            for _ in range(steps):
                y = relu(y * a + b)
            if kind == "vector":
                y = y.sum()
            y.backward()
            return a.grad.numpy(), b.grad.numpy()
        return run

    def mlp(self):
        ag = self.ag
        x_np, onehot_np, params_np = mlp_data()
        x, onehot = ag.tensor(x_np), ag.tensor(onehot_np)
        params = [ag.tensor(p, requires_grad=True) for p in params_np]
        w1, b1, w2, b2 = params

        def step():
            h = ag.relu(x @ w1 + b1)
            z = h @ w2 + b2
            loss = -(onehot * ag.log_softmax(z, axis=1)).sum() / BATCH
            loss.backward()
            with ag.no_grad():
                for p in params:
                    p -= LEARNING_RATE * p.grad
                    p.grad = None
            return float(loss)
        return step

    def deep(self, steps):
        ag = self.ag
        y0, a0, b0 = deep_data()
        a = ag.tensor(a0, requires_grad=True)
        b = ag.tensor(b0, requires_grad=True)
        saved = {}

        def forward():
            y = ag.tensor(y0)
            for _ in range(steps):
                y = ag.relu(y * a + b)
            saved["y"] = y

        def backward():
            saved.pop("y").backward()
            return a.grad.item(), b.grad.item()
        return forward, backward


# ---------------------------------------------------------------- PyTorch
class Torch:
    name = "torch"
    module = "torch"

    def setup(self, threads):
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(SEED)
        self.torch = torch

    def _tensor(self, value, requires_grad=False):
        return self.torch.tensor(value, dtype=self.torch.float64, requires_grad=requires_grad)

    def chain(self, kind, steps):
        torch = self.torch
        y0, a0, b0 = chain_data(kind)
        a, b = self._tensor(a0, True), self._tensor(b0, True)
        y_start = self._tensor(y0)
        relu = torch.relu

        def run():
            a.grad = b.grad = None
            y = y_start
            for _ in range(steps):
                y = relu(y * a + b)
            if kind == "vector":
                y = y.sum()
            y.backward()
            return a.grad.numpy(), b.grad.numpy()
        return run

    def mlp(self):
        torch = self.torch
        x_np, onehot_np, params_np = mlp_data()
        x, onehot = self._tensor(x_np), self._tensor(onehot_np)
        params = [self._tensor(p, True) for p in params_np]
        w1, b1, w2, b2 = params

        def step():
            h = torch.relu(x @ w1 + b1)
            z = h @ w2 + b2
            loss = -(onehot * torch.log_softmax(z, dim=1)).sum() / BATCH
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= LEARNING_RATE * p.grad
                    p.grad = None
            return loss.item()
        return step

    def deep(self, steps):
        torch = self.torch
        y0, a0, b0 = deep_data()
        a, b = self._tensor(a0, True), self._tensor(b0, True)
        saved = {}

        def forward():
            y = self._tensor(y0)
            for _ in range(steps):
                y = torch.relu(y * a + b)
            saved["y"] = y

        def backward():
            saved.pop("y").backward()
            return a.grad.item(), b.grad.item()
        return forward, backward


# ---------------------------------------------------------------- HIPS autograd
class HipsAutograd:
    name = "hips_autograd"
    module = "autograd"

    def setup(self, threads):
        import autograd
        import autograd.numpy as anp
        from autograd.tracer import getval
        self.autograd, self.anp, self.getval = autograd, anp, getval

    def chain(self, kind, steps):
        anp = self.anp
        y0, a, b = chain_data(kind)

        def f(a, b):
            y = y0
            for _ in range(steps):
                y = anp.maximum(y * a + b, 0.0)
            return anp.sum(y) if kind == "vector" else y
        grad_ab = self.autograd.grad(f, argnum=(0, 1))

        def run():
            grad_a, grad_b = grad_ab(a, b)
            return grad_a, grad_b
        return run

    def mlp(self):
        anp, getval = self.anp, self.getval
        x, onehot, params = mlp_data()

        def loss_fn(params):
            w1, b1, w2, b2 = params
            h = anp.maximum(x @ w1 + b1, 0.0)
            z = h @ w2 + b2
            # log-softmax as the others do it: shift by the row max, taken as a constant
            # (getval unboxes it, as .detach() does); autograd.scipy would need scipy.
            shifted = z - getval(z).max(axis=1, keepdims=True)
            log_p = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.sum(onehot * log_p) / BATCH
        value_and_grad = self.autograd.value_and_grad(loss_fn)

        def step():
            loss, grads = value_and_grad(params)
            for p, g in zip(params, grads):
                p -= LEARNING_RATE * g
            return float(loss)
        return step

    def deep(self, steps):
        anp = self.anp
        y0, a, b = deep_data()
        saved = {}

        def f(ab):
            a, b = ab
            y = y0
            for _ in range(steps):
                y = anp.maximum(y * a + b, 0.0)
            return y

        def forward():
            saved["vjp"], _ = self.autograd.make_vjp(f)((a, b))

        def backward():
            grad_a, grad_b = saved.pop("vjp")(1.0)
            return float(grad_a), float(grad_b)
        return forward, backward


# ---------------------------------------------------------------- micrograd
class Micrograd:
    """Karpathy's scalar engine: every number is a Value; there is no vector or matrix op."""

    name = "micrograd"
    module = "micrograd"
    scalar_only = "scalar-only engine: a 64-vector op would be 64 separate Value ops"
    no_mlp = ("scalar-only engine: one step would be ~51 million Value multiplications "
              "(minutes per step), so the MLP is not measured")

    def setup(self, threads):
        from micrograd.engine import Value
        self.Value = Value

    def chain(self, kind, steps):
        if kind != "scalar":
            raise NotImplementedError(self.scalar_only)
        Value = self.Value
        return _value_chain(lambda v: Value(float(v)), kind, steps, no_grad=0)

    def mlp(self):
        raise NotImplementedError(self.no_mlp)

    def deep(self, steps):
        Value = self.Value
        return _value_deep(lambda v: Value(float(v)), steps)


# ---------------------------------------------------------------- the yardstick
class BareEngine:
    """bench/bare_engine.py: a plain closure-per-op engine on numpy (see its docstring).

    Not a library anyone uses: it is there to show what straightforward graph bookkeeping
    in Python costs per op, next to what autograd_lite's costs with its features."""

    name = "bare_engine"
    module = "numpy"
    no_mlp = "chains only: it has just mul, add, relu and sum"

    def setup(self, threads):
        from .bare_engine import Var
        self.Var = Var

    def chain(self, kind, steps):
        return _value_chain(self.Var, kind, steps, no_grad=None)

    def mlp(self):
        raise NotImplementedError(self.no_mlp)

    def deep(self, steps):
        return _value_deep(self.Var, steps)


LIBRARIES = {lib.name: lib for lib in (AutogradLite, Micrograd, Torch, HipsAutograd, NumpyManual,
                                       BareEngine)}
