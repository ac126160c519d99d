"""A plain reverse-mode engine on numpy, the yardstick for the chain benchmarks.

Each ``Var`` holds its array, its parents and a closure that turns its gradient into its
parents' gradients; ``backward`` orders the graph with an explicit stack (no recursion
limit) and runs the closures newest first. It has exactly the four operations the chains
use and none of autograd_lite's features: no broadcasting, no rule table (so no forward
mode, traces or op counts), no checks or error messages, no release of saved arrays, no
``no_grad``. Its time per op is what graph bookkeeping in Python costs when written the
straightforward way; autograd_lite has to carry its features within that budget.
"""
import numpy as np

ZERO = np.zeros(())     # numpy pairs a 0-d array with an array faster than the number 0.0


class Var:
    __slots__ = ("value", "grad", "parents", "pullback")

    def __init__(self, value, parents=(), pullback=None):
        self.value, self.parents, self.pullback, self.grad = value, parents, pullback, None

    def __add__(self, other):
        return Var(self.value + other.value, (self, other), lambda g: (g, g))

    def __mul__(self, other):
        a, b = self.value, other.value
        return Var(a * b, (self, other), lambda g: (g * b, g * a))

    def relu(self):
        x = self.value
        return Var(np.maximum(x, ZERO), (self,), lambda g: (g * (x > ZERO),))

    def sum(self):
        shape = np.shape(self.value)
        return Var(np.sum(self.value), (self,), lambda g: (np.broadcast_to(g, shape),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:                        # depth-first, parents before their consumers
            var, expanded = stack.pop()
            if expanded:
                order.append(var)
            elif var not in seen:
                seen.add(var)
                stack.append((var, True))
                stack.extend((parent, False) for parent in var.parents)
        self.grad = np.ones_like(self.value)
        for var in reversed(order):
            if var.pullback is not None:
                for parent, g in zip(var.parents, var.pullback(var.grad)):
                    parent.grad = g if parent.grad is None else parent.grad + g
