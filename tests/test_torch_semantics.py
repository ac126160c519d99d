"""autograd_lite against PyTorch on the semantics that give silently wrong gradients when
they differ: in-place writes, views, ``.data``, ``.grad`` accumulation, nested transforms.

Each program runs twice, once with ``ag`` and once with ``torch`` (float64), and the values,
gradients and errors must agree. Deliberate differences are tested at the end.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import autograd_lite as ag  # noqa: E402


class Lib:
    """The few calls where the two libraries are spelled differently."""

    def __init__(self, module):
        self.m = module
        self.torch = module is torch

    def tensor(self, values, requires_grad=False):
        if self.torch:
            return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)
        return ag.tensor(values, requires_grad=requires_grad)

    def no_grad(self):
        return self.m.no_grad()


def _numbers(t):
    return None if t is None else np.asarray(t.detach().numpy(), dtype=float).tolist()


def run_both(program):
    """Run ``program(lib)`` on both libraries; it returns tensors (or None) to compare."""
    results = []
    for module in (ag, torch):
        try:
            out = program(Lib(module))
            results.append(("ok", [_numbers(t) for t in out]))
        except RuntimeError as exc:
            results.append(("RuntimeError", "inplace" in str(exc).replace("in-place", "inplace")))
    assert results[0] == results[1], f"autograd_lite {results[0]} vs torch {results[1]}"
    return results[0]


# -- 1. in-place writes into a result are recorded ------------------------------------------
def _x(L):
    return L.tensor([1.0, 2.0], requires_grad=True)


PRODUCERS = {
    "add": lambda L, x: x + 1, "sub": lambda L, x: 3 - x, "neg": lambda L, x: -x,
    "sum": lambda L, x: (x.reshape(2, 1) * 1).sum(1), "reshape": lambda L, x: (x + 0).reshape(2),
    "getitem": lambda L, x: (x * 1)[0:2], "transpose": lambda L, x: (x + 0).reshape(1, 2).T,
    "where": lambda L, x: L.m.where(x > 1.5, x, -x),
    "concatenate": lambda L, x: L.m.cat([x, x]),
}
WRITES = {
    "zero_": lambda L, y: y.zero_(), "fill_": lambda L, y: y.fill_(1.0),
    "setitem": lambda L, y: y.__setitem__(0, 5.0), "add_": lambda L, y: y.add_(2.0),
    "mul_": lambda L, y: y.mul_(3.0), "iadd": lambda L, y: y.__iadd__(1.0),
    "copy_": lambda L, y: y.copy_(y.detach() * 0 + 4.0),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_an_in_place_write_into_a_result_changes_its_gradient_like_torch(producer, write):
    def program(L):
        x = _x(L)
        y = PRODUCERS[producer](L, x)
        WRITES[write](L, y)
        (y * y).sum().backward()
        return [y, x.grad]
    assert run_both(program)[0] == "ok"


def test_the_three_examples_of_the_issue():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1
    y.zero_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    y = x + 1
    y[0] = 5.0
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    x.grad = None
    (x + 0).reshape(2)[0:2].fill_(1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_a_write_through_a_view_rebases_the_base_and_its_other_views():
    def program(L):
        x, w = _x(L), L.tensor([3.0, 4.0], requires_grad=True)
        b = x * 1
        left, right, whole = b[0:1], b[1:2], b.reshape(2, 1)
        left.mul_(w[0:1])
        (left + right).sum().backward(retain_graph=True)
        (whole * b.reshape(2, 1)).sum().backward()
        return [b, whole, x.grad, w.grad]
    assert run_both(program)[0] == "ok"


def test_a_write_into_the_base_reaches_a_view_made_before():
    def program(L):
        x = _x(L)
        b = x * 1
        v = b[0:2]
        b.mul_(2.0)
        v.sum().backward()
        return [v, x.grad]
    assert run_both(program)[0] == "ok"


def test_an_element_taken_by_an_integer_is_a_view_that_writes_reach():
    """numpy copies x[0] into a scalar; torch's x[0] is a 0-d view of x."""
    def program(L):
        plain = L.tensor([1.0, 2.0, 3.0])
        plain[0].add_(1.0)
        plain[-1] += 5.0
        x = _x(L)
        b = x * 1
        b[1].mul_(3.0)
        b.sum().backward()
        return [plain, b, x.grad]
    assert run_both(program) == ("ok", [[2.0, 2.0, 8.0], [1.0, 6.0], [1.0, 3.0]])


def test_a_view_of_a_leaf_requiring_grad_is_refused_in_place():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.reshape(2).zero_()
    assert x.tolist() == [1.0, 2.0]
    with ag.no_grad():
        x.reshape(2)[0:1].fill_(3.0)        # a parameter update through a view: allowed
    assert x.tolist() == [3.0, 2.0]


def test_a_saved_output_written_in_place_is_refused_like_torch():
    def program(L):
        x = _x(L)
        e = x.exp()
        e.add_(1.0)                 # exp's rule reads its output
        e.sum().backward()
        return [x.grad]
    assert run_both(program) == ("RuntimeError", True)


def test_writing_a_tensor_into_itself_through_mul_is_refused_like_torch():
    def program(L):
        y = _x(L) * 1
        y.mul_(y)
        y.sum().backward()
        return []
    assert run_both(program) == ("RuntimeError", True)


# -- 2. views share their base's version counter -----------------------------------------
VIEWS = {"reshape": lambda y: y.reshape(2), "getitem": lambda y: y[0:2],
         "T": lambda y: y.reshape(1, 2).T, "detach": lambda y: y.detach()}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_a_change_to_the_base_is_seen_through_a_view_saved_by_the_graph(view):
    def program(L):
        x = _x(L)
        y = VIEWS[view](x)
        z = (y * y).sum() if view != "detach" else (x * y).sum()
        with L.no_grad():
            x.mul_(3.0)
        z.backward()
        return [x.grad]
    assert run_both(program) == ("RuntimeError", True)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_a_change_through_a_view_is_seen_by_a_graph_saving_the_base(view):
    def program(L):
        x = _x(L)
        z = (x * x).sum()
        with L.no_grad():
            VIEWS[view](x).mul_(3.0)
        z.backward()
        return [x.grad]
    assert run_both(program) == ("RuntimeError", True)


# -- 3. assigning a recorded value into a plain tensor ------------------------------------
def test_setitem_of_a_value_requiring_grad_is_differentiable():
    def program(L):
        w = L.tensor([1.5], requires_grad=True)
        c = L.tensor([0.0, 0.0, 0.0])
        before = c[1:3]                 # a view made before the write is rebased too
        c[0] = (w * 2)[0]
        c[1:3] = w * w
        (c * c).sum().backward(retain_graph=True)
        (before * 3).sum().backward()
        return [c, w.grad]
    assert run_both(program)[0] == "ok"
    w = ag.tensor(1.0, requires_grad=True)
    c = ag.zeros(2)
    c[0] = w * 2
    c.sum().backward()
    assert w.grad.item() == 2.0


# -- 4. .data and detach() share memory ---------------------------------------------------
THROUGH = {"add_": lambda d: d.add_(1.0), "zero_": lambda d: d.zero_(),
           "setitem": lambda d: d.__setitem__(0, 7.0), "iadd": lambda d: d.__iadd__(2.0),
           "copy_": lambda d: d.copy_(d * 0 + 5.0)}


@pytest.mark.parametrize("shape", [(2,), ()])
@pytest.mark.parametrize("how", ["data", "detach"])
@pytest.mark.parametrize("write", sorted(THROUGH))
def test_writes_through_data_and_detach_reach_the_tensor(write, how, shape):
    if shape == () and write == "setitem":
        pytest.skip("a 0-d tensor has no element 0")

    def program(L):
        x = L.tensor(np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape).tolist(),
                     requires_grad=True)
        THROUGH[write](x.data if how == "data" else x.detach())
        return [x]
    assert run_both(program)[0] == "ok"


def test_the_tutorial_update_line_changes_the_leaf_in_place():
    for module in (ag, torch):
        w = Lib(module).tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        w.data -= 0.25 * w.grad
        assert w.tolist() == [0.5, 1.0] and w.is_leaf and w.requires_grad
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    w.data = ag.tensor([9.0, 9.0])
    assert w.tolist() == [9.0, 9.0] and w.requires_grad


def test_a_write_through_data_is_not_seen_by_backward_like_torch():
    def program(L):
        x = _x(L)
        z = (x * x).sum()
        x.data.mul_(3.0)
        z.backward()
        return [x.grad]
    assert run_both(program)[0] == "ok"


# -- 5. .grad accumulation ---------------------------------------------------------------
def test_a_held_gradient_sees_the_next_accumulation_like_torch():
    def program(L):
        x = _x(L)
        (x * x).sum().backward()
        old = x.grad
        (x * x).sum().backward()
        return [old, x.grad]
    assert run_both(program) == ("ok", [[4.0, 8.0], [4.0, 8.0]])


def test_a_graph_saving_the_old_gradient_refuses_after_accumulation():
    def program(L):
        x = _x(L)
        (x * x).sum().backward(create_graph=True)
        uses_grad = (x.grad * x.grad).sum()
        (x * x).sum().backward()
        uses_grad.backward()
        return [x.grad]
    assert run_both(program) == ("RuntimeError", True)


def test_a_create_graph_gradient_is_not_overwritten_by_the_next_create_graph_backward():
    def program(L):
        x = _x(L)
        (x * x).sum().backward(create_graph=True)
        first = x.grad
        (x * x * x).sum().backward(create_graph=True)
        return [first, x.grad]
    assert run_both(program) == ("ok", [[2.0, 4.0], [5.0, 16.0]])


def test_assigning_a_gradient_of_the_wrong_shape_or_type_is_refused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*\(2,\)"):
        x.grad = ag.zeros(3)
    with pytest.raises(RuntimeError, match="dtype float32"):
        x.grad = ag.zeros(2, dtype=np.float32)
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = [0.0, 0.0]
    x.grad = ag.ones(2)
    assert x.grad.tolist() == [1.0, 1.0]


# -- 6. nested transforms and closed-over tensors -----------------------------------------
def test_an_inner_grad_closing_over_the_outer_input_is_differentiated():
    y0 = [1.0, 2.0, 3.0]
    x0 = [0.5, -1.0, 2.0]

    def f(L, grad):
        return lambda x: grad(lambda y: L.m.sum(x * y * y))(L.tensor(y0)).sum()
    ours = ag.grad(f(Lib(ag), ag.grad))(ag.tensor(x0))
    theirs = torch.func.grad(f(Lib(torch), torch.func.grad))(torch.tensor(x0, dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    np.testing.assert_allclose(ours.numpy(), [2.0, 4.0, 6.0])


def test_jacrev_over_an_inner_grad_closing_over_its_input():
    y0 = [1.0, 2.0]

    def f(L, grad):
        return lambda x: grad(lambda y: L.m.sum(L.m.sin(x) * y * y * y))(L.tensor(y0))
    x0 = [0.3, -0.7]
    ours = ag.jacrev(f(Lib(ag), ag.grad))(ag.tensor(x0))
    theirs = torch.func.jacrev(f(Lib(torch), torch.func.grad))(torch.tensor(x0, dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_grad_and_vjp_over_a_closed_over_tensor_stay_attached_to_its_graph():
    w = ag.tensor([2.0, 3.0], requires_grad=True)
    y0 = ag.tensor([1.0, -1.0])
    g = ag.grad(lambda y: ag.sum(w * y * y))(y0)           # 2 w y
    assert g.requires_grad
    g.sum().backward()
    assert w.grad.tolist() == [2.0, -2.0]
    w.grad = None
    out, pullback = ag.vjp(lambda y: w * y, y0)
    (v,) = pullback(ag.ones(2))
    assert out.requires_grad and v.requires_grad
    (out.sum() + v.sum()).backward()
    assert w.grad.tolist() == [2.0, 0.0]


def test_a_transform_touching_nothing_outside_returns_plain_values():
    g = ag.grad(lambda y: ag.sum(y * y))(ag.tensor([1.0, 2.0]))
    assert not g.requires_grad and g.tolist() == [2.0, 4.0]


# -- 7. 0-d tensors and dim 0 ---------------------------------------------------------------
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "norm"])
@pytest.mark.parametrize("dim", [0, -1])
def test_a_0d_tensor_reduces_over_dim_0_like_torch(reduce, dim):
    def program(L):
        s = L.tensor(-3.0, requires_grad=True)
        out = getattr(s, reduce)(dim=dim)
        out = out[0] if isinstance(out, tuple) else out      # torch.max(dim=) gives (values, indices)
        (out * out).backward()
        return [out, s.grad]
    assert run_both(program)[0] == "ok"


def test_a_0d_tensor_refuses_dim_1_clearly():
    with pytest.raises(IndexError, match="axis 1 is out of range"):
        ag.tensor(3.0).sum(dim=1)


# -- 8. set_grad_enabled -------------------------------------------------------------------
def test_set_grad_enabled_as_a_call_and_as_a_context_manager():
    x = ag.tensor(1.0, requires_grad=True)
    try:
        ag.set_grad_enabled(False)
        assert not ag.is_grad_enabled() and (x * 2).grad_fn is None
        with ag.set_grad_enabled(True):
            assert (x * 2).grad_fn is not None
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)
    with ag.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert ag.is_grad_enabled()

    @ag.set_grad_enabled(False)
    def unrecorded():
        return x * 2
    assert ag.is_grad_enabled() and unrecorded().grad_fn is None and ag.is_grad_enabled()


# -- 9. sigmoid in the tails ---------------------------------------------------------------
def test_sigmoid_is_accurate_in_its_tails():
    values = [-700.0, -40.0, -30.0, -1.0, 0.0, 2.0, 40.0, 800.0]
    ours = ag.sigmoid(ag.tensor(values)).numpy()
    theirs = torch.sigmoid(torch.tensor(values, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    assert abs(ours[2] / np.exp(-30.0) * (1 + np.exp(-30.0)) - 1) < 1e-15
    assert np.isfinite(ag.log(ag.sigmoid(ag.tensor(-40.0))).item())
    x = ag.tensor(-30.0, requires_grad=True)
    ag.sigmoid(x).backward()
    assert x.grad.item() == pytest.approx(np.exp(-30.0), rel=1e-12)


# -- 10. transforms at the edges, dtypes ------------------------------------------------------
def test_hessian_with_several_argnums_is_nested_as_in_jax():
    def f(x, y):
        return ag.sum(x * x * y) + ag.sum(y * y * y)
    x, y = ag.tensor([1.0, 2.0]), ag.tensor([3.0, -1.0])
    (hxx, hxy), (hyx, hyy) = ag.hessian(f, argnums=(0, 1))(x, y)
    assert hxx.tolist() == [[6.0, 0.0], [0.0, -2.0]]
    assert hxy.tolist() == [[2.0, 0.0], [0.0, 4.0]] == hyx.tolist()
    assert hyy.tolist() == [[18.0, 0.0], [0.0, -6.0]]
    full = torch.func.hessian(lambda a, b: (a * a * b).sum() + (b ** 3).sum(), argnums=(0, 1))(
        torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([3.0, -1.0], dtype=torch.float64))
    for ours, theirs in zip([hxx, hxy, hyx, hyy], [full[0][0], full[0][1], full[1][0], full[1][1]]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("jac", ["jacfwd", "jacrev"])
def test_jacobians_of_empty_inputs_and_outputs_have_the_right_shape(jac):
    transform = getattr(ag, jac)
    assert transform(lambda x: ag.sum(x) * ag.ones(3))(ag.zeros(0)).shape == (3, 0)
    assert transform(lambda x: x[0:0])(ag.ones(2)).shape == (0, 2)


def test_float16_stays_float16():
    t = ag.tensor(np.array([1.0, 2.0], dtype=np.float16))
    assert t.dtype == np.float16 == (t * 2).dtype
    assert ag.tensor(np.float16(1.5)).dtype == np.float16
    assert ag.tensor([1.0]).dtype == np.float64       # Python floats: float64, the library's default


# -- where we differ from PyTorch on purpose ------------------------------------------------
def test_relu_at_nan_passes_nan_where_torch_passes_the_gradient_on():
    """Documented in relu_slope: a NaN input gets a NaN gradient, so it is not hidden."""
    x, xt = ag.tensor(np.nan, requires_grad=True), torch.tensor(np.nan, requires_grad=True)
    ag.relu(x).backward()
    torch.relu(xt).backward()
    assert np.isnan(x.grad.item()) and xt.grad.item() == 1.0


def test_ties_in_max_over_a_dim_share_the_gradient_where_torch_picks_one():
    """Documented in functions.max: like torch.amax, not like torch.max(x, dim)."""
    x = ag.tensor([[2.0, 2.0]], requires_grad=True)
    ag.max(x, dim=1).sum().backward()
    xt = torch.tensor([[2.0, 2.0]], requires_grad=True)
    torch.max(xt, dim=1).values.sum().backward()
    assert x.grad.tolist() == [[0.5, 0.5]] and sorted(xt.grad.tolist()[0]) == [0.0, 1.0]


def test_a_float64_0d_tensor_promotes_float32_as_numpy_does():
    """Documented in the tensor module: numpy's promotion rules, not PyTorch's."""
    a = ag.tensor([1.0], dtype=np.float32) * ag.tensor(2.0)
    b = torch.tensor([1.0], dtype=torch.float32) * torch.tensor(2.0, dtype=torch.float64)
    assert a.dtype == np.float64 and b.dtype == torch.float32


# -- random short programs against torch ---------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_TARGETS = ["b", "view"]
_STEP = st.one_of(
    st.tuples(st.just("view"), st.sampled_from(["reshape", "slice", "T", "detach", "element"])),
    st.tuples(st.just("write"), st.sampled_from(_TARGETS),
              st.sampled_from(["add_", "mul_", "zero_", "fill_", "setitem", "setitem_w",
                               "copy_w", "iadd"]), st.sampled_from([-1.5, 0.5, 2.0])),
    st.tuples(st.just("use"), st.sampled_from(_TARGETS)),
    st.tuples(st.just("update"), st.sampled_from(["data", "no_grad"])),
)


def _run_program(L, steps):
    x = L.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    w = L.tensor([0.75, -1.25], requires_grad=True)
    b = x + 0.0         # add saves nothing (mul by a number saves its tensor here, not in torch)
    tensors = {"b": b, "view": b}
    loss = b.sum() * 0.0
    for step in steps:
        kind = step[0]
        if kind == "view":
            make = {"reshape": lambda t: t.reshape(2, 2), "slice": lambda t: t[1:3],
                    "T": lambda t: t.reshape(2, 2).T, "detach": lambda t: t.detach(),
                    "element": lambda t: t[2]}
            if tensors["view"].ndim == 1 or step[1] in ("detach",):
                tensors["view"] = make[step[1]](tensors["b"])
        elif kind == "write":
            t, c = tensors[step[1]], step[3]
            first = (0,) * t.ndim
            {"add_": lambda: t.add_(c), "mul_": lambda: t.mul_(c), "zero_": lambda: t.zero_(),
             "fill_": lambda: t.fill_(c), "setitem": lambda: t.__setitem__(first, c),
             "setitem_w": lambda: t.__setitem__(first, w[0] * c),
             "copy_w": lambda: t.copy_(w.sum() * c), "iadd": lambda: t.__iadd__(w[1] * c),
             }[step[2]]()
        elif kind == "use":
            loss = loss + (tensors[step[1]] * tensors[step[1]]).sum()
        elif step[1] == "data":
            x.data.mul_(0.5)
        else:
            with L.no_grad():
                x.sub_(0.25)
    loss = loss + tensors["b"].sum() + tensors["view"].sum()
    loss.backward()
    return [loss, tensors["b"], tensors["view"], x, x.grad, w.grad]


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(_STEP, max_size=6))
def test_random_programs_with_writes_and_views_agree_with_torch(steps):
    run_both(lambda L: _run_program(L, steps))


def test_setitem_through_a_transposed_view_of_a_result():
    """Found by the random programs: the write lands in the base, at the view's element."""
    def program(L):
        x = L.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
        b = x + 0.0
        v = b.reshape(2, 2).T
        v[0, 1] = -1.5
        (b * b).sum().backward()
        return [b, v, x.grad]
    assert run_both(program)[0] == "ok"
