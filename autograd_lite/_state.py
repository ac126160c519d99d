"""Global switches of the library: gradient recording, forward mode, observers.

Kept in one tiny module so every other module reads the same flags.
"""
import contextlib
import functools


class _State:
    __slots__ = ("grad_enabled", "forward_active", "observers", "last_inplace", "phase")

    def __init__(self):
        self.grad_enabled = True    # record the reverse-mode graph?
        self.forward_active = 0     # >0 while dual (tangent-carrying) tensors may flow
        self.observers = ()         # callables told about every primitive applied
        self.last_inplace = 0       # clock reading of the latest in-place write
        self.phase = "primal"       # which sweep is running: "primal", "tangent" or "adjoint"


state = _State()


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that switches graph recording on or off."""

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        state.grad_enabled = self.previous
        return False

    def __call__(self, func):
        # A fresh instance per call keeps nested/recursive uses independent.
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return func(*args, **kwargs)
        return wrapper


def no_grad():
    """Stop recording operations, like ``torch.no_grad()``: inside, results have no grad_fn."""
    return _GradMode(False)


def enable_grad():
    """Record operations again, even inside ``no_grad()``."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):
    """Switch recording on or off now (``ag.set_grad_enabled(False)``, as in PyTorch), or
    for a ``with`` block or a decorated function, after which the previous mode returns."""

    def __init__(self, mode):
        super().__init__(bool(mode))
        self.previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __enter__(self):
        pass            # already switched when made

    def __call__(self, func):
        state.grad_enabled = self.previous      # a decorator switches only while func runs
        return super().__call__(func)


def is_grad_enabled():
    return state.grad_enabled


@contextlib.contextmanager
def observing(callback):
    """Call ``callback(primitive, inputs, output, params)`` for every primitive applied.

    The op counters and evaluation traces are built on this hook. While an observer is
    installed, backward passes run their rules on tensors, so they are observed too.
    """
    previous = state.observers
    state.observers = previous + (callback,)
    try:
        yield callback
    finally:
        state.observers = previous
