"""Reverse mode: walk the recorded graph from the output back to the leaves.

The walk is iterative (no recursion limit) and visits each node once, newest first: a node
is always created after the nodes that feed it, so creation order reversed is a valid
order for the sweep. Each node's VJP rules come from the rule table. A plain backward
runs them on numpy arrays; with ``create_graph=True`` (or while forward mode or an
observer is active) it runs them on tensors, so the gradient is itself a recorded,
differentiable computation.
"""
from heapq import heappop, heappush, heappushpop

import numpy as np

from ._state import state, _GradMode
from .tensor import Tensor, Node
from .inplace import mark_written
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
        for i, x in enumerate(node.inputs or ()):
            if isinstance(x, Tensor) and (x if x._counter is None else x._counter)._version \
                    > node.stamp:         # a view shares its base's version counter
                raise _modified_error(node, f"input {i}")
    if node.out_modified and node.out is not None:
        raise _modified_error(node, "output")


def _rule_arguments(node, as_tensors):
    """What a node's rules receive besides ``g``: the input values and the output (as
    tensors when the rules run on tensors), checked to be unchanged since the op ran."""
    if node.prim.saves is None:         # the rules read only shapes: nothing to check
        return node.values, None
    if node.values is None:
        raise _freed_error(node)
    _check_unmodified(node)
    if not as_tensors:
        return node.values, node.out
    out = node.out
    if out is not None:
        out = Tensor._wrap(out)
        out.grad_fn, out.requires_grad = node, True
        if node.out_tangent is not None:
            out.tangent = node.out_tangent
    return (node.values if node.inputs is None else node.inputs), out


def run_backward(root, seed, retain_graph=False, create_graph=False, targets=None):
    """Propagate ``seed`` (d output / d root) backwards.

    Without ``targets`` the gradients accumulate into the leaves' ``.grad``; with a list of
    ``targets`` they are returned instead (for the functional transforms) and ``.grad`` is
    left alone.
    """
    as_tensors = create_graph or state.forward_active > 0 or bool(state.observers)
    if as_tensors and not isinstance(seed, Tensor):
        seed = Tensor._wrap(seed)
    if not as_tensors and isinstance(seed, Tensor):
        seed = seed._data
    wanted = None
    if targets is not None:
        wanted = {(t.grad_fn if t.grad_fn is not None else t): None for t in targets}

    start = root.grad_fn if root.grad_fn is not None else root
    grads = {start: seed}
    handed_out = {id(seed)}     # arrays a leaf must not adopt: the caller's, or given away
    phase, state.phase = state.phase, "adjoint"
    try:
        with _GradMode(create_graph):
            if isinstance(start, Node):
                _sweep(start, grads, as_tensors, retain_graph, create_graph, wanted,
                       targets is None, handed_out)
            for leaf, g in grads.items():
                if isinstance(leaf, Node):
                    continue
                if wanted is None:
                    _accumulate_leaf(leaf, g, create_graph, handed_out)
                elif leaf in wanted:
                    wanted[leaf] = g
    finally:
        state.phase = phase
    if wanted is not None:
        return [wanted[t.grad_fn if t.grad_fn is not None else t] for t in targets]
    return None


def _sweep(root, grads, as_tensors, retain_graph, create_graph, wanted, fill_retained,
           handed_out):
    """Visit the nodes newest first, turning each output gradient into input gradients.

    A node is created after every node that feeds it, so taking the newest waiting node
    (a heap on creation stamps) reaches a node only after all of its consumers have added
    their contributions to its gradient in ``grads``.

    A primitive may have a ``vjp_into`` rule that writes its result into ``g`` itself, as
    hand-written numpy does (``dh *= mask``). It runs only on a node in ``owned``: one whose
    gradient is a big array that a rule just made, that is not what any rule was given, and
    that was not handed out meanwhile (``handed_out``: retained or requested gradients).
    """
    queue, node = [], root
    owned = set()       # nodes whose gradient is an array only this sweep holds
    # Looked up once, not once per node: this loop runs once for every op of the program.
    pop, get, last_inplace = grads.pop, grads.get, state.last_inplace
    ndarray = np.ndarray
    while node is not None:
        g = pop(node)
        if wanted is not None and node in wanted:
            wanted[node] = g
            handed_out.add(id(g))
        if fill_retained and node.retained is not None:
            _accumulate_leaf(node.retained, g, create_graph)
            handed_out.add(id(g))
        prim, params = node.prim, node.params
        saves = prim.saves
        if saves is None:
            args, out = node.values, None          # shapes only: nothing to check
        elif as_tensors or node.values is None or node.stamp < last_inplace:
            args, out = _rule_arguments(node, as_tensors)     # freed? written since?
        else:
            args, out = node.values, node.out
        newest = None       # the newest node this one reached first: likely the next one
        rules = prim.vjp_rules
        if owned and node in owned and id(g) not in handed_out:
            rules = prim.vjp_into           # g is ours alone: the rule may write into it
        # enumerate and indexing, not zip(node.next, rules, args): three iterators a node
        # cost more than the rest of this loop on a chain.
        for i, parent in enumerate(node.next):
            if parent is None:
                continue
            rule, x = rules[i], args[i]
            if rule is unchanged:           # add's rules, sub's first: g passes on as it is
                gi = g
            elif params:
                gi = rule(g, out, *args, **params)
            # One and two inputs spelled out: a call through *args builds a tuple and
            # cannot be inlined by the interpreter.
            elif len(args) == 2:
                gi = rule(g, out, args[0], args[1])
            elif len(args) == 1:
                gi = rule(g, out, args[0])
            else:
                gi = rule(g, out, *args)
            if x is not None and gi.shape != x.shape:   # x was broadcast: sum back to its shape
                gi = P.sum_to(gi, shape=x.shape)
            previous = get(parent)
            if previous is not None:
                grads[parent] = previous + gi
            else:
                grads[parent] = gi
                if parent.__class__ is Node:
                    if (parent.prim.vjp_into is not None and type(gi) is ndarray
                            and gi.nbytes >= _IN_PLACE_MIN_BYTES     # the cheap tests first
                            and _nobody_else_holds(gi, g, out, args)):
                        owned.add(parent)
                    if newest is None:
                        newest = parent
                    else:
                        if newest.stamp < parent.stamp:
                            newest, parent = parent, newest
                        heappush(queue, (-parent.stamp, parent))
        if saves is not None and not retain_graph:
            # Release the saved values: memory goes back, and a second backward through
            # this node says so. Shape-only nodes keep their shapes, so a graph that saved
            # nothing can be backpropagated again.
            node.inputs = node.values = node.out = None
        # Next, the newest node waiting. Taking the newest parent straight, when the heap has
        # nothing newer, lets a chain run without the heap.
        if newest is None:
            node = heappop(queue)[1] if queue else None
        elif queue and -queue[0][0] > newest.stamp:
            node = heappushpop(queue, (-newest.stamp, newest))[1]
        else:
            node = newest


# Below this many bytes numpy reuses freed buffers itself and writing in place saves
# nothing; above it each new array is fresh memory from the system.
_IN_PLACE_MIN_BYTES = 16384


def _nobody_else_holds(gi, g, out, args):
    """Is the array ``gi`` of its own memory, held by no one else: a rule's new result, not
    its ``g`` passed on, a view, or a saved value?"""
    return (gi is not g and gi.base is None and gi.flags.writeable and gi is not out
            and all([gi is not x for x in args]))


def _accumulate_leaf(leaf, g, create_graph, handed_out=None):
    """Add ``g`` into ``leaf.grad``, as PyTorch does.

    A fresh gradient array is adopted as the leaf's ``.grad`` without a copy; an array that
    something else may hold (a view, the caller's seed, one already given to another tensor,
    listed in ``handed_out``) is copied, so ``x.grad.zero_()`` can never touch another tensor.
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
                and g.dtype == leaf.dtype and handed_out is not None
                and id(g) not in handed_out):
            handed_out.add(id(g))
        else:
            g = np.array(g, dtype=leaf.dtype)
        leaf.grad = Tensor._wrap(g)
    elif leaf.grad.shape == np.shape(g) and isinstance(leaf.grad._data, np.ndarray) \
            and leaf.grad._data.flags.writeable:
        leaf.grad._data += g
        mark_written(leaf.grad)
    else:
        leaf.grad = Tensor._wrap(leaf.grad._data + g)


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
