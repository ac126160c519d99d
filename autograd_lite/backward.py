"""Reverse mode: walk the recorded graph from the output back to the leaves.

The walk is iterative (no recursion limit), visits each node once, and calls the node's
VJP rules from the rule table. A plain backward runs the rules on numpy arrays; with
``create_graph=True`` (or while forward mode or an observer is active) it runs them on
tensors, so the gradient is itself a recorded, differentiable computation.
"""
import numpy as np

from ._state import state, _GradMode
from .tensor import Tensor, Node, Meta
from . import primitives as P


def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that feeds its gradient."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.next:
            if parent.__class__ is Node and parent not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _freed_error(node):
    return RuntimeError(
        f"Trying to backward through the graph a second time: the values saved by "
        f"{node.name()} were already freed by the first backward(). Pass retain_graph=True "
        f"to the first backward() (or grad()) if you need to backward through it again.")


def _modified_error(node, index):
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an in-place "
        f"operation: input {index} of {node.name()} changed after it was used. Compute the "
        f"gradient before changing it, or change a .clone() instead.")


def _rule_arguments(node, as_tensors):
    """What the node's rules receive: the saved inputs (or their shapes) and the output."""
    prim = node.prim
    if prim.saves is not None and node.freed:
        raise _freed_error(node)
    if node.inputs is not None:
        for i, (x, version) in enumerate(zip(node.inputs, node.versions)):
            if isinstance(x, Tensor) and x._version != version:
                raise _modified_error(node, i)
        inputs = node.inputs if as_tensors else tuple(
            x._data if isinstance(x, Tensor) else x for x in node.inputs)
    else:
        inputs = tuple(Meta(shape, dtype) for shape, dtype in node.metas)
    if node.out is not None:
        if node.out_modified:
            raise _modified_error(node, "out")
        out = node.out
        if as_tensors:
            out = Tensor.__new__(Tensor)._init_constant(node.out)
            out.grad_fn, out.requires_grad, out.tangent = node, True, node.out_tangent
    else:
        out = None                       # this primitive's rules never read its output
    return inputs, out


def run_backward(root, seed, retain_graph=False, create_graph=False, targets=None):
    """Propagate ``seed`` (d loss / d root) backwards.

    Without ``targets`` the gradients accumulate into the leaves' ``.grad``; with a list of
    ``targets`` they are returned instead (for the functional transforms) and ``.grad`` is
    left alone.
    """
    as_tensors = create_graph or state.forward_active > 0 or bool(state.observers)
    if as_tensors and not isinstance(seed, Tensor):
        seed = Tensor.__new__(Tensor)._init_constant(seed)
    if not as_tensors and isinstance(seed, Tensor):
        seed = seed._data
    wanted = None
    if targets is not None:
        wanted = {(t.grad_fn if t.grad_fn is not None else t): None for t in targets}

    start = root.grad_fn if root.grad_fn is not None else root
    grads = {start: seed}
    with _GradMode(create_graph):
        if start.__class__ is Node:
            for node in _topological_order(start):
                g = grads.pop(node, None)
                if g is None:
                    continue
                if wanted is not None and node in wanted:
                    wanted[node] = g
                if node.retained is not None and targets is None:
                    _accumulate_leaf(node.retained, g, create_graph)
                inputs, out = _rule_arguments(node, as_tensors)
                prim = node.prim
                for i, parent in enumerate(node.next):
                    if parent is None:
                        continue
                    gi = prim.vjp_rule(i)(g, out, *inputs, **node.params)
                    shape = node.metas[i][0]
                    if np.shape(gi) != shape:
                        gi = P.sum_to(gi, shape=shape)
                    previous = grads.get(parent)
                    grads[parent] = gi if previous is None else previous + gi
                if not retain_graph:
                    node.release()
        for leaf, g in grads.items():
            if leaf.__class__ is Node:
                continue
            if wanted is not None:
                if leaf in wanted:
                    wanted[leaf] = g
            else:
                _accumulate_leaf(leaf, g, create_graph)
    if wanted is not None:
        return [wanted[t.grad_fn if t.grad_fn is not None else t] for t in targets]
    return None


def _accumulate_leaf(leaf, g, create_graph):
    if isinstance(g, Tensor):
        if not create_graph:
            g = g.detach()
        if g.dtype != leaf.dtype:
            g = g.double() if leaf.dtype == np.float64 else g.float()
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    g = np.asarray(g, dtype=leaf.dtype)
    if leaf.grad is None:
        leaf.grad = Tensor.__new__(Tensor)._init_constant(np.array(g))   # own copy: safe for zero_()
    elif leaf.grad.shape == g.shape and isinstance(leaf.grad._data, np.ndarray):
        leaf.grad._data += g
    else:
        leaf.grad = Tensor.__new__(Tensor)._init_constant(leaf.grad._data + g)


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: check the request like PyTorch does, then run the engine."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: nothing "
            "upstream of this tensor was marked with requires_grad=True (or it was computed "
            "under no_grad()). Call x.requires_grad_(True) on the inputs before computing it.")
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{tuple(tensor.shape)}. Pass gradient= (a tensor of that shape, e.g. "
                f"ag.ones_like(y)) or reduce it first (y.sum()).")
        seed = np.ones_like(tensor._data)
    else:
        seed = gradient._data if isinstance(gradient, Tensor) and not create_graph else gradient
        if np.shape(seed) != tuple(tensor.shape):
            raise RuntimeError(
                f"Mismatch in shape: gradient has shape {tuple(np.shape(seed))} but the output "
                f"has shape {tuple(tensor.shape)}; backward(gradient=...) needs the output's shape.")
        if not isinstance(seed, Tensor):
            seed = np.asarray(seed, dtype=tensor.dtype)
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = run_backward(tensor, seed, retain_graph, create_graph, targets)
        for t, g in zip(targets, grads):
            if g is not None:
                _accumulate_leaf(t, g, create_graph)
        return
    run_backward(tensor, seed, retain_graph, create_graph)
