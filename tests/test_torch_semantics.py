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
