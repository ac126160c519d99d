"""Cross-check against PyTorch: the same function gives the same values and gradients.

Each case is written once as ``fn(lib, *xs)`` and run with ``lib = autograd_lite`` and with
``lib = torch`` (float64, CPU). Skipped where torch is not installed.
"""
import numpy as np
import pytest

import autograd_lite as ag

torch = pytest.importorskip("torch")


def positive(*shape):
    return lambda rng: rng.uniform(0.3, 2.0, size=shape)


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def values(array):
    return lambda rng: np.asarray(array, dtype=np.float64)


CASES = {
    # elementwise
    "exp": (lambda L, x: L.exp(x), [normal(2, 3)]),
    "log": (lambda L, x: L.log(x), [positive(4)]),
    "sin_cos_tan": (lambda L, x: L.sin(x) * L.cos(x) + L.tan(x / 2), [normal(3, 2)]),
    "tanh_sigmoid": (lambda L, x: L.tanh(x) + L.sigmoid(3 * x), [normal(5)]),
    "relu_abs": (lambda L, x: L.relu(x) + L.abs(x) * 2, [normal(2, 4)]),
    "sqrt_pow": (lambda L, x: L.sqrt(x) + x ** 3 + x ** -1.5 + 2 ** x, [positive(3)]),
    "pow_tensor_exponent": (lambda L, a, b: a ** b, [positive(2, 3), normal(3)]),
    "neg_sub_div": (lambda L, a, b: -a - b / (1 + a * a), [normal(2, 3), normal(2, 3)]),
    "softmax": (lambda L, x: L.softmax(x, dim=1), [normal(3, 4)]),
    "log_softmax": (lambda L, x: L.log_softmax(x, dim=0), [normal(3, 4)]),
    "clamp": (lambda L, x: L.clamp(x, min=-0.5, max=0.5), [normal(10)]),
    # broadcasting
    "broadcast_add": (lambda L, a, b: a + b, [normal(2, 3), normal(3)]),
    "broadcast_mul_outer": (lambda L, a, b: a * b, [normal(2, 1), normal(1, 3)]),
    "broadcast_three_d": (lambda L, a, b: a / (2 + b * b) - a * b, [normal(4, 1, 3), normal(2, 1)]),
    "broadcast_scalar_tensor": (lambda L, a, b: a * b + b, [normal(), normal(2, 2)]),
    # reductions
    "sum_all": (lambda L, x: L.sum(x * x), [normal(2, 3)]),
    "sum_dim_keepdim": (lambda L, x: L.sum(x, dim=1, keepdim=True) * x, [normal(2, 3)]),
    "sum_dims": (lambda L, x: L.sum(x, dim=(0, 2)), [normal(2, 3, 4)]),
    "mean_dim": (lambda L, x: L.mean(x, dim=-1), [normal(2, 3, 4)]),
    "mean_dims_keepdim": (lambda L, x: L.mean(x, dim=(0, 1), keepdim=True) * x, [normal(2, 3, 4)]),
    "max_all": (lambda L, x: L.max(x), [normal(3, 4)]),
    "norm_all": (lambda L, x: L.norm(x), [normal(3, 4)]),
    "norm_dim": (lambda L, x: L.norm(x, dim=1, keepdim=True), [normal(3, 4)]),
    # linear algebra
    "dot": (lambda L, a, b: L.dot(a, b), [normal(4), normal(4)]),
    "matmul_vec_vec": (lambda L, a, b: a @ b, [normal(3), normal(3)]),
    "matmul_mat_vec": (lambda L, a, b: a @ b, [normal(2, 3), normal(3)]),
    "matmul_vec_mat": (lambda L, a, b: a @ b, [normal(3), normal(3, 4)]),
    "matmul_mat_mat": (lambda L, a, b: a @ b, [normal(2, 3), normal(3, 4)]),
    "matmul_batched": (lambda L, a, b: L.matmul(a, b), [normal(5, 2, 3), normal(5, 3, 4)]),
    "matmul_batch_broadcast": (lambda L, a, b: a @ b, [normal(2, 1, 2, 3), normal(4, 3, 2)]),
    "matmul_batch_mat": (lambda L, a, b: a @ b, [normal(5, 2, 3), normal(3, 4)]),
    "matmul_vec_batch": (lambda L, a, b: a @ b, [normal(3), normal(5, 3, 4)]),
    "matmul_batch_vec": (lambda L, a, b: a @ b, [normal(5, 2, 3), normal(3)]),
    "mlp": (lambda L, x, w1, w2: L.log_softmax(L.tanh(x @ w1) @ w2, dim=-1),
            [normal(4, 5), normal(5, 3), normal(3, 2)]),
    # shape ops
    "reshape_transpose": (lambda L, x: x.reshape(3, 2).T @ x.reshape(3, 2), [normal(2, 3)]),
    "transpose_dims": (lambda L, x: L.transpose(x, 0, 2) * L.arange(2.0), [normal(2, 3, 4)]),
    "permute": (lambda L, x: x.permute(2, 0, 1), [normal(2, 3, 4)]),
    "stack": (lambda L, a, b: L.stack([a, b * 2, a * b], dim=1), [normal(2, 3), normal(2, 3)]),
    "cat": (lambda L, a, b: L.cat([a, b, a], dim=1), [normal(2, 3), normal(2, 1)]),
    # indexing
    "index_basic": (lambda L, x: x[1:, ::2] * x[0, 1] + x[1:, ..., -1:], [normal(3, 4)]),
    "index_newaxis": (lambda L, x: x[None, :, 1] * 2, [normal(3, 4)]),
    "index_fancy_repeated": (lambda L, x: x[[0, 2, 0, 0, -1]], [normal(3, 2)]),
    "index_fancy_pairs": (lambda L, x: x[[0, 1, 1], [2, 0, 2]], [normal(3, 4)]),
    "index_fancy_axis1": (lambda L, x: x[:, [3, 3, 1]], [normal(3, 4)]),
    "index_mask": (lambda L, x: x[x > 0] * 3, [normal(4, 3)]),
    "where": (lambda L, a, b: L.where(a > b, a * a, b - a), [normal(2, 3), normal(3)]),
    "where_broadcast_cond": (lambda L, a, b: L.where(L.tensor([True, False, True]), a, b),
                             [normal(2, 3), normal(2, 1)]),
    # ties and kinks: the subgradients PyTorch chose
    "maximum_ties": (lambda L, a, b: L.maximum(a, b) + L.minimum(a, b) * 2,
                     [values([1.0, 2.0, 3.0, -1.0]), values([1.0, 0.5, 3.0, 4.0])]),
    "max_ties": (lambda L, x: L.max(x), [values([[1.0, 3.0], [3.0, 0.0]])]),
    "relu_abs_at_zero": (lambda L, x: L.relu(x) + L.abs(x), [values([0.0, -1.0, 2.0])]),
    "norm_at_zero": (lambda L, x: L.norm(x), [values([0.0, 0.0, 0.0])]),
    "norm_dim_with_a_zero_row": (lambda L, x: L.norm(x, dim=1), [values([[0.0, 0.0], [3.0, 4.0]])]),
}

# torch.max with dim= returns (values, indices) and torch.sum has no `axis`; amax is the
# values-only reduction. Everything else shares its spelling with autograd_lite.
_TORCH_SPELLINGS = {"max": lambda x, dim=None, keepdim=False:
                    torch.max(x) if dim is None else torch.amax(x, dim=dim, keepdim=keepdim)}


class _Torch:
    def __getattr__(self, name):
        if name in _TORCH_SPELLINGS:
            return _TORCH_SPELLINGS[name]
        if name == "tensor":
            return lambda data: torch.tensor(data) if not isinstance(data, float) else \
                torch.tensor(data, dtype=torch.float64)
        if name == "arange":
            return lambda n: torch.arange(n, dtype=torch.float64)
        return getattr(torch, name)


def run(lib, fn, arrays, cotangent_seed=0):
    if lib is ag:
        xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    else:
        xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(lib if lib is ag else _Torch(), *xs)
    v = np.random.default_rng(cotangent_seed).standard_normal(tuple(out.shape))
    if lib is ag:
        out.backward(gradient=ag.tensor(v))
        return out.numpy(), [x.grad.numpy() for x in xs]
    out.backward(gradient=torch.tensor(v, dtype=torch.float64))
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_values_and_gradients_as_pytorch(name):
    fn, makers = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    arrays = [make(rng) for make in makers]
    ours, our_grads = run(ag, fn, arrays)
    theirs, their_grads = run(torch, fn, arrays)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        assert g.shape == h.shape
        np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12, err_msg=f"gradient of input {i}")


def test_second_derivatives_match_pytorch():
    x = np.array([0.3, -1.2, 0.8])

    def f(L, x):
        return L.sum(L.tanh(x) * L.sin(x) ** 2) + L.norm(x) ** 3

    ours = ag.hessian(lambda x: f(ag, x))(ag.tensor(x)).numpy()
    theirs = torch.autograd.functional.hessian(lambda x: f(_Torch(), x),
                                               torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_create_graph_matches_pytorch():
    def f(L, x):
        return L.sum(L.exp(x) * x * x)

    x_ag = ag.tensor([0.5, -0.25], requires_grad=True)
    f(ag, x_ag).backward(create_graph=True)
    g = x_ag.grad
    x_ag.grad = None
    (g * g).sum().backward()

    x_t = torch.tensor([0.5, -0.25], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(f(_Torch(), x_t), x_t, create_graph=True)
    (gt * gt).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x_ag.grad.numpy(), x_t.grad.numpy(), rtol=1e-12)


def test_float32_matches_pytorch_float32():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = ag.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    (ag.sigmoid(x) @ x.T).sum().backward()
    (torch.sigmoid(t) @ t.T).sum().backward()
    assert x.grad.dtype == ag.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_pow_at_zero_matches_pytorch():
    """0 ** 0 and 0 ** b: PyTorch takes the slopes as 0 instead of 0 * inf = nan."""
    def f(L, a, b):
        return a ** b + a ** 0 + (a * 0) ** b
    a, b = [0.0, 1.5, 0.0], [2.0, 1.0, 0.0]
    xs = [ag.tensor(v, requires_grad=True) for v in (a, b)]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b)]
    f(ag, *xs).sum().backward()
    f(_Torch(), *ts).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
