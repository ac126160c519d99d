"""Shared checks for the core tests: finite differences and the three gradient identities.

A *case* is a function of tensors plus the numpy arrays to call it with. ``check_case``
compares, in float64:
  * reverse mode (``backward(gradient=v)``) with central differences of ``<v, f(x)>``;
  * the same reverse pass with the rules run on tensors (the ``create_graph`` path);
  * forward mode (``ag.jvp``) with central differences along the tangent;
  * the inner-product identity ``<v, J t> == <J^T v, t>`` between the two modes.
"""
import dataclasses

import numpy as np

import autograd_lite as ag


@dataclasses.dataclass
class Case:
    fn: object                      # tensors -> tensor
    inputs: list                    # numpy float64 arrays
    eps: float = 1e-6               # finite-difference step
    rtol: float = 1e-5
    atol: float = 1e-6
    identity_tol: float = 1e-9      # relative, for <v, J t> == <J^T v, t>

    def __repr__(self):
        shapes = ", ".join(str(np.shape(x)) for x in self.inputs)
        name = getattr(self.fn, "__name__", "fn")
        return f"Case({name}, shapes {shapes}, inputs {[np.asarray(x).tolist() for x in self.inputs]})"


def evaluate(fn, arrays):
    """``fn`` on fresh constant tensors, as a float64 numpy array."""
    with ag.no_grad():
        return np.asarray(fn(*[ag.tensor(a) for a in arrays]).numpy(), dtype=np.float64)


def fd_vjp(fn, arrays, v, eps):
    """Central differences of x -> <v, fn(x)>, one gradient array per input."""
    grads = []
    for i, x in enumerate(arrays):
        g = np.zeros(np.shape(x))
        for j in np.ndindex(np.shape(x)):
            plus = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
            minus = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (np.sum(v * evaluate(fn, plus)) - np.sum(v * evaluate(fn, minus))) / (2 * eps)
        grads.append(g)
    return grads


def fd_jvp(fn, arrays, tangents, eps):
    plus = [a + eps * t for a, t in zip(arrays, tangents)]
    minus = [a - eps * t for a, t in zip(arrays, tangents)]
    return (evaluate(fn, plus) - evaluate(fn, minus)) / (2 * eps)


def reverse(fn, arrays, v, rules_on_tensors=False):
    """``.grad`` of every input after ``fn(*leaves).backward(gradient=v)``."""
    leaves = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    seed = ag.tensor(np.asarray(v, dtype=out.dtype))
    if rules_on_tensors:        # an observer makes backward run the rules on tensors
        with ag.observing(lambda *args: None):
            out.backward(gradient=seed)
    else:
        out.backward(gradient=seed)
    missing = [i for i, leaf in enumerate(leaves) if leaf.grad is None]
    assert not missing, f"inputs {missing} got no gradient"
    for leaf in leaves:
        assert leaf.grad.shape == leaf.shape, (leaf.grad.shape, leaf.shape)
    return [leaf.grad.numpy() for leaf in leaves]


def forward(fn, arrays, tangents):
    out, tangent = ag.jvp(fn, [ag.tensor(a) for a in arrays], [ag.tensor(t) for t in tangents])
    assert tangent.shape == out.shape, (tangent.shape, out.shape)
    return out.numpy(), tangent.numpy()


def check_case(case, seed=0):
    rng = np.random.default_rng(seed)
    fn, arrays = case.fn, [np.asarray(a, dtype=np.float64) for a in case.inputs]
    value = evaluate(fn, arrays)
    v = rng.standard_normal(value.shape)
    tangents = [rng.standard_normal(np.shape(a)) for a in arrays]
    tol = dict(rtol=case.rtol, atol=case.atol)

    expected = fd_vjp(fn, arrays, v, case.eps)
    got = reverse(fn, arrays, v)
    for i, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, err_msg=f"reverse mode, input {i}", **tol)
    got_tensor_rules = reverse(fn, arrays, v, rules_on_tensors=True)
    for i, (g, e) in enumerate(zip(got_tensor_rules, got)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12,
                                   err_msg=f"rules on tensors vs arrays, input {i}")

    primal, jv = forward(fn, arrays, tangents)
    np.testing.assert_allclose(primal, value, rtol=1e-12, atol=1e-12, err_msg="jvp primal")
    np.testing.assert_allclose(jv, fd_jvp(fn, arrays, tangents, case.eps),
                               err_msg="forward mode", **tol)

    left = np.sum(v * jv)
    right = sum(np.sum(g * t) for g, t in zip(got, tangents))
    scale = 1 + np.sum(np.abs(v * jv)) + sum(np.sum(np.abs(g * t)) for g, t in zip(got, tangents))
    assert abs(left - right) <= case.identity_tol * scale, \
        f"<v, J t> = {left} but <J^T v, t> = {right}"


def primitives_applied(fn, arrays):
    """Names of the primitives a forward call of ``fn`` applies."""
    seen = set()
    with ag.observing(lambda prim, inputs, output, params: seen.add(prim.name)):
        fn(*[ag.tensor(a) for a in arrays])
    return seen


def check_second_order(case, seed=0, eps=1e-5):
    """Differentiate the gradient again (create_graph=True): the Hessian-vector product
    H t of x -> <v, f(x)> must match central differences of the first gradient along t."""
    rng = np.random.default_rng(seed)
    fn, arrays = case.fn, [np.asarray(a, dtype=np.float64) for a in case.inputs]
    v = rng.standard_normal(evaluate(fn, arrays).shape)
    tangents = [rng.standard_normal(np.shape(a)) for a in arrays]

    leaves = [ag.tensor(a, requires_grad=True) for a in arrays]
    fn(*leaves).backward(gradient=ag.tensor(v), create_graph=True)
    first = [leaf.grad for leaf in leaves]
    directional = sum(ag.sum(g * ag.tensor(t)) for g, t in zip(first, tangents))
    for leaf in leaves:
        leaf.grad = None
    if directional.requires_grad:        # false when f is linear: the gradient is constant
        directional.backward()
    got = [np.zeros(np.shape(a)) if leaf.grad is None else leaf.grad.numpy()
           for a, leaf in zip(arrays, leaves)]

    plus = reverse(fn, [a + eps * t for a, t in zip(arrays, tangents)], v)
    minus = reverse(fn, [a - eps * t for a, t in zip(arrays, tangents)], v)
    for i, (g, p, m) in enumerate(zip(got, plus, minus)):
        np.testing.assert_allclose(g, (p - m) / (2 * eps), rtol=1e-4, atol=1e-5,
                                   err_msg=f"second order, input {i}")
