"""Reverse mode: walk the recorded graph from the output back to the leaves.

The walk is iterative (no recursion limit) and visits each node once, newest first: a node
is always created after the nodes that feed it, so creation order reversed is a valid
order for the sweep. Each node's VJP rules come from the rule table. A plain backward
runs them on numpy arrays; with ``create_graph=True`` (or while forward mode or an
observer is active) it runs them on tensors, so the gradient is itself a recorded,
differentiable computation.
"""
import gc
import math
from heapq import heappop, heappush, heappushpop

import numpy as np

from ._state import state, _GradMode
from .tensor import Tensor, Node
from . import primitives as P
from .primitives import unchanged

def _freed_error(node):
    return RuntimeError(
        f"Trying to backward through the graph a second time: the values saved by "
        f"{node.name()} were already freed by the first backward(). Pass retain_graph=True "
        f"to the first backward() (or grad()) if you need to backward through it again.")


def _modified_error(node, what):
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an in-place "
        f"operation: the {what} of {node.name()} changed after it was used. Compute the gradient "
        f"before changing it, or change a .clone() instead.")


def _check_unmodified(node):
    """Fail if an input this node keeps was written in place after the op ran (a node keeps
    only inputs its rules read: exp, tanh and relu keep none, as in PyTorch), or if its own
    output was: the graph would no longer describe that tensor."""
    if node.stamp < state.last_inplace:          # something was written in place since
        for i, x in enumerate(node.inputs):
            if isinstance(x, Tensor) and (x if x._counter is None else x._counter)._version \
                    > node.stamp:         # a view shares its base's version counter
                raise _modified_error(node, f"input {i}")
    if node.out_modified and node.out is not None:
        raise _modified_error(node, "output")


def _rule_arguments(node, as_tensors):
    """What the rules of a node with saved values receive: the inputs and the output."""
    if node.inputs is None:
        raise _freed_error(node)
    _check_unmodified(node)
    if not as_tensors:
        return node.values, node.out
    out = node.out
    if out is not None:
        out = Tensor.__new__(Tensor)._init_constant(out)
        out.grad_fn, out.requires_grad = node, True
        if node.out_tangent is not None:
            out.tangent = node.out_tangent
    return node.inputs, out


def run_backward(root, seed, retain_graph=False, create_graph=False, targets=None):
    """Propagate ``seed`` (d output / d root) backwards.

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
    shared = {id(seed)}           # arrays leaves must not adopt: the caller's seed, adopted ones
    collecting = gc.isenabled()
    if collecting:
        gc.disable()       # the sweep makes no reference cycles; scanning the graph is waste
    phase, state.phase = state.phase, "adjoint"
    try:
        with _GradMode(create_graph):
            if start.__class__ is Node:
                _sweep(start, grads, as_tensors, retain_graph, create_graph, wanted,
                       targets is None and state.retaining, shared)
            for leaf, g in grads.items():
                if leaf.__class__ is Node:
                    continue
                if wanted is None:
                    _accumulate_leaf(leaf, g, create_graph, shared)
                elif leaf in wanted:
                    wanted[leaf] = g
    finally:
        state.phase = phase
        if collecting:
            gc.enable()
    if wanted is not None:
        return [wanted[t.grad_fn if t.grad_fn is not None else t] for t in targets]
    return None


def _sweep(root, grads, as_tensors, retain_graph, create_graph, wanted, fill_retained, shared):
    """Visit the nodes newest first, turning each output gradient into input gradients.

    A node is created after every node that feeds it, so popping the newest queued node
    (a heap on creation stamps) reaches a node only after all of its consumers. For the
    same reason a node that already has a gradient entry is already queued. A gradient is
    summed back to its input's shape (undoing broadcasting) only where the node's
    ``broadcast`` flag says an input may have been broadcast.

    ``owned`` lists the nodes (of primitives with a ``vjp_into`` rule) whose gradient is a
    big array only this sweep holds: a rule's new result, not its ``g`` passed on, a view or
    a saved value (a later sum of contributions is new too). Their rule may write into it,
    unless the array was handed out meanwhile (``shared``: retained or requested gradients).
    """
    pop, get = grads.pop, grads.get
    sum_to = P.sum_to
    # Nodes older than the latest in-place write take the careful path; with tensors, all do.
    last_inplace = state.last_inplace if not as_tensors else math.inf
    watch = wanted is not None or fill_retained
    queue = []
    owned = set()
    ndarray, in_place_min = np.ndarray, _IN_PLACE_MIN_BYTES
    node = root
    while node is not None:
        g = pop(node)                   # a node is reached only once it has its gradient
        if watch:
            if wanted is not None and node in wanted:
                wanted[node] = g
                shared.add(id(g))
            if fill_retained and node.retained is not None:
                _accumulate_leaf(node.retained, g, create_graph)
                shared.add(id(g))
        prim = node.prim
        saves = prim.saves
        if saves is None:
            args, out = node.values, None       # shapes only (Meta)
        elif node.inputs is None or node.stamp < last_inplace:
            args, out = _rule_arguments(node, as_tensors)      # the careful path
        else:
            args, out = node.values, node.out
        rules = prim.vjp_rules
        if owned and node in owned and id(g) not in shared:
            rules = prim.vjp_into           # g is ours alone: the rule may write into it
        params, broadcast = node.params, node.broadcast
        newest = None                   # the newest parent queued by this node
        i = -1                          # counted by hand: cheaper here than enumerate()
        for parent in node.next:
            i += 1
            if parent is None:
                continue
            rule = rules[i]
            if rule is unchanged:
                gi = g
            else:
                gi = rule(g, out, *args, **params) if params else rule(g, out, *args)
            if broadcast:
                shape = args[i].shape
                if gi.shape != shape:
                    gi = sum_to(gi, shape=shape)
            previous = get(parent)
            if previous is None:
                grads[parent] = gi
                if parent.__class__ is Node:
                    if (parent.prim.vjp_into is not None and gi is not g
                            and type(gi) is ndarray and gi.nbytes >= in_place_min
                            and _new_array(gi, out, args)):
                        owned.add(parent)
                    if newest is not None:
                        if newest.stamp < parent.stamp:
                            newest, parent = parent, newest
                        heappush(queue, (-parent.stamp, parent))
                    else:
                        newest = parent
            else:
                grads[parent] = previous + gi
        if saves is not None and not retain_graph:
            # Release the saved values: memory goes back, and a later backward through this
            # node fails (Node.freed). Shape-only nodes keep their Metas, so a graph with
            # nothing saved can be backpropagated again.
            node.inputs = node.values = node.out = None
        # Next: the newest node waiting. A chain hands its one parent straight on, without
        # going through the heap.
        if newest is None:
            node = heappop(queue)[1] if queue else None
        elif queue and -queue[0][0] > newest.stamp:
            node = heappushpop(queue, (-newest.stamp, newest))[1]
        else:
            node = newest


# Below this many bytes numpy reuses freed buffers itself, and its in-place path costs more
# than the allocation it saves; above it each new array means fresh pages from the system.
_IN_PLACE_MIN_BYTES = 16384


def _new_array(gi, out, args):
    """Whether a rule's array result owns writable memory and is none of the values it was
    given."""
    return (gi.base is None and gi.flags.writeable and gi is not out
            and all([gi is not x for x in args]))


def _accumulate_leaf(leaf, g, create_graph, shared=None):
    """Add ``g`` into ``leaf.grad``, as PyTorch does.

    A fresh gradient array is adopted as the leaf's ``.grad`` without a copy; an array that
    something else may hold (a view, the caller's seed, one already given to another tensor,
    listed in ``shared``) is copied, so ``x.grad.zero_()`` can never touch another tensor.
    A later plain backward adds into the same ``.grad`` in place (``old = x.grad`` sees the
    sum) and bumps its version, so a graph that saved the old gradient refuses to run. With
    ``create_graph=True`` the sum is a new tensor: a recorded gradient is never overwritten.
    """
    if isinstance(g, Tensor):
        if g.dtype != leaf.dtype:
            g = g.to(leaf.dtype)
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            return
        g = g._data
    if leaf.grad is None:
        if (type(g) is np.ndarray and g.base is None and g.flags.writeable
                and g.dtype == leaf.dtype and shared is not None and id(g) not in shared):
            shared.add(id(g))
        else:
            g = np.array(g, dtype=leaf.dtype)
        leaf.grad = Tensor.__new__(Tensor)._init_constant(g)
    elif leaf.grad.shape == np.shape(g) and isinstance(leaf.grad._data, np.ndarray) \
            and leaf.grad._data.flags.writeable:
        leaf.grad._data += g
        leaf.grad._mark_written()
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
    if inputs is None:
        run_backward(tensor, seed, retain_graph, create_graph)
        return
    targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grads = run_backward(tensor, seed, retain_graph, create_graph, targets)
    for t, g in zip(targets, grads):
        if g is not None:
            _accumulate_leaf(t, g, create_graph)
