"""ag.checkpoint and ag.custom_vjp: the gradients users get through them."""
import numpy as np
import pytest

import autograd_lite as ag


def _block(x, w):
    return ag.tanh(ag.matmul(x, w)) * ag.sin(x)


def _chain(x, w, depth, segment=None):
    for _ in range(depth):
        x = ag.checkpoint(_block)(x, w) if segment else _block(x, w)
    return (x * x).sum()


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    w = ag.tensor(rng.normal(size=(4, 4)) * 0.5, requires_grad=True)
    return x, w


def test_checkpoint_gradients_equal_plain_ones():
    x, w = _inputs()
    _chain(x, w, 5).backward()
    plain = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None
    _chain(x, w, 5, segment=True).backward()
    np.testing.assert_allclose(x.grad.numpy(), plain[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), plain[1], rtol=1e-12)


def test_checkpoint_under_grad_and_vjp():
    x, w = _inputs(1)
    g_plain = ag.grad(lambda a, b: _chain(a, b, 3), argnums=(0, 1))(x.detach(), w.detach())
    g_ckpt = ag.grad(lambda a, b: _chain(a, b, 3, True), argnums=(0, 1))(x.detach(), w.detach())
    for a, b in zip(g_plain, g_ckpt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    out, pullback = ag.vjp(ag.checkpoint(_block), x.detach(), w.detach())
    cot = np.ones((3, 4))
    expect = ag.vjp(_block, x.detach(), w.detach())[1](cot)
    for a, b in zip(pullback(cot), expect):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_checkpoint_keeps_no_inner_graph_and_recomputes_in_backward():
    x, w = _inputs()
    y = ag.checkpoint(_block)(x, w)
    assert y.grad_fn.next == (x, w)         # the inner ops left no nodes behind
    forward = ag.count_ops(lambda a, b: ag.checkpoint(_block)(a, b), x, w)
    assert forward.stored_elements == x.numpy().size + w.numpy().size   # its inputs only
    assert forward.by_primitive["tanh"] == 1
    backward = ag.count_ops(lambda: (y * y).sum().backward())
    # the backward runs the block's forward once more, recording it this time
    assert backward.by_primitive["tanh"] == 1 and backward.by_primitive["sin"] == 1


def test_checkpoint_closed_over_tensor_is_a_constant():
    x, w = _inputs()
    y = ag.checkpoint(lambda a: _block(a, w))(x)
    y.sum().backward()
    assert w.grad is None                   # documented: pass it as an argument instead
    expect = ag.grad(lambda a: _block(a, w.detach()).sum())(x.detach())
    np.testing.assert_allclose(x.grad.numpy(), expect.numpy(), rtol=1e-12)


def test_checkpoint_mixed_arguments_and_clear_errors():
    x, w = _inputs()
    y = ag.checkpoint(lambda a, k, b: _block(a, b) * k)(x, 2.0, w.detach())
    y.sum().backward()
    expect = ag.grad(lambda a: (_block(a, w.detach()) * 2.0).sum())(x.detach())
    np.testing.assert_allclose(x.grad.numpy(), expect.numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="first derivatives only"):
        ag.grad(ag.grad(lambda a: ag.checkpoint(ag.sin)(a)))(ag.tensor(0.3))
    # with nothing to record, forward mode goes straight through f
    _, tangent = ag.jvp(ag.checkpoint(ag.sin), (ag.tensor(0.3),), (ag.tensor(1.0),))
    assert abs(tangent.item() - np.cos(0.3)) < 1e-15
    with pytest.raises(NotImplementedError, match="forward mode"):
        ag.hessian(lambda a: ag.checkpoint(ag.sin)(a).sum())(ag.tensor([0.3]))
    with pytest.raises(TypeError, match="return one tensor"):
        ag.checkpoint(lambda a: (a, a))(x)


def test_checkpoint_matches_torch_utils_checkpoint():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint
    x, w = _inputs(2)
    _chain(x, w, 4, segment=True).backward()
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tw = torch.tensor(w.numpy(), requires_grad=True)

    def block(a, b):
        return torch.tanh(a @ b) * torch.sin(a)
    h = tx
    for _ in range(4):
        h = torch_checkpoint(block, h, tw, use_reentrant=False)
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


# -- custom_vjp --------------------------------------------------------------------------

def _log_sigmoid_naive(x):
    return ag.log(ag.sigmoid(x))


@ag.custom_vjp
def log_sigmoid(x):
    return -ag.log(1 + ag.exp(-x))


def _ls_fwd(x):
    # log sigmoid(x) = min(x, 0) - log(1 + exp(-|x|)): no exp of a large number
    e = ag.exp(-ag.abs(x))
    sigmoid_minus_x = ag.where(x >= 0, e / (1 + e), 1 / (1 + e))
    return ag.minimum(x, 0.0) - ag.log(1 + e), sigmoid_minus_x


def _ls_bwd(sigmoid_minus_x, g):
    return (g * sigmoid_minus_x,)


log_sigmoid.defvjp(_ls_fwd, _ls_bwd)


@ag.custom_vjp
def logsumexp(x):
    return ag.log(ag.exp(x).sum())


def _lse_fwd(x):
    top = x.max()
    out = top + ag.log(ag.exp(x - top).sum())
    return out, ag.exp(x - out)             # the softmax, computed without overflow


logsumexp.defvjp(_lse_fwd, lambda p, g: (g * p,))


def test_custom_log_sigmoid_is_finite_where_the_naive_form_is_not():
    x = ag.tensor([-800.0, -30.0, 0.0, 30.0, 800.0], requires_grad=True)
    with np.errstate(all="ignore"):
        _log_sigmoid_naive(x).sum().backward()
    assert not np.all(np.isfinite(x.grad.numpy()))
    x.grad = None
    y = log_sigmoid(x)
    y.sum().backward()
    v = x.numpy()
    np.testing.assert_allclose(y.numpy(), np.minimum(v, 0) - np.log1p(np.exp(-np.abs(v))),
                               rtol=1e-12, atol=1e-12)
    # d/dx log sigmoid(x) = sigmoid(-x)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(-np.logaddexp(0, v)), rtol=1e-12)


def test_custom_logsumexp_is_finite_and_its_gradient_is_the_softmax():
    x = ag.tensor([1000.0, 999.0, -5.0], requires_grad=True)
    with np.errstate(all="ignore"):
        logsumexp.fun(x).backward()
    assert not np.all(np.isfinite(x.grad.numpy()))
    g = ag.grad(logsumexp)(x.detach())
    z = x.numpy() - 1000.0
    np.testing.assert_allclose(g.numpy(), np.exp(z) / np.exp(z).sum(), rtol=1e-12)
    assert abs(logsumexp(x).item() - (1000.0 + np.log(np.exp(z).sum()))) < 1e-12


def test_custom_vjp_replaces_the_derivative_and_checks_bwd():
    # JAX's documentation example: f(x, y) = sin(x) * y with a hand-written VJP
    @ag.custom_vjp
    def f(x, y):
        return ag.sin(x) * y
    f.defvjp(lambda x, y: (ag.sin(x) * y, (ag.cos(x), ag.sin(x), y)),
             lambda res, g: (res[0] * g * res[2], res[1] * g))
    gx, gy = ag.grad(f, argnums=(0, 1))(ag.tensor(2.0), ag.tensor(3.0))
    assert abs(gx.item() - np.cos(2.0) * 3.0) < 1e-14
    assert abs(gy.item() - np.sin(2.0)) < 1e-14
    # the rule is the user's: a deliberately different bwd is what backward uses
    @ag.custom_vjp
    def clipped(x):
        return x * 1.0
    clipped.defvjp(lambda x: (x * 1.0, None), lambda res, g: (ag.clamp(g, -1.0, 1.0),))
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (clipped(x) * ag.tensor([5.0, -0.5])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -0.5])
    bad = ag.custom_vjp(lambda x: x * 2.0)
    bad.defvjp(lambda x: (x * 2.0, None), lambda res, g: g)
    with pytest.raises(TypeError, match="one cotangent per argument"):
        bad(ag.tensor(1.0, requires_grad=True)).backward()


def test_custom_vjp_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    @jax.custom_vjp
    def jf(x, y):
        return jnp.sin(x) * y
    jf.defvjp(lambda x, y: (jnp.sin(x) * y, (jnp.cos(x), jnp.sin(x), y)),
              lambda res, g: (res[0] * g * res[2], res[1] * g))

    @ag.custom_vjp
    def f(x, y):
        return ag.sin(x) * y
    f.defvjp(lambda x, y: (ag.sin(x) * y, (ag.cos(x), ag.sin(x), y)),
             lambda res, g: (res[0] * g * res[2], res[1] * g))
    expect = jax.grad(jf, argnums=(0, 1))(2.0, 3.0)
    got = ag.grad(f, argnums=(0, 1))(ag.tensor(2.0), ag.tensor(3.0))
    for a, b in zip(got, expect):
        assert abs(a.item() - float(b)) < 1e-6          # jax computes in float32
