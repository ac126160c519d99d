"""autograd_lite: automatic differentiation on numpy, small enough to read.

Reverse mode with a PyTorch-like Tensor, forward mode with dual tensors, and JAX-style
function transforms, all driven by one table of derivative rules (``primitives.py``).
"""
from ._state import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, observing
from .tensor import Tensor, float32, float64, int64, bool_
from . import methods, inplace  # noqa: F401  (they attach operators and in-place methods to Tensor)
from .factories import (tensor, as_tensor, zeros, ones, full, zeros_like, ones_like, eye,
                        arange, linspace, randn, rand, randint, manual_seed)
from .functions import (exp, log, sin, cos, tan, tanh, sigmoid, relu, abs, sqrt, square,
                        maximum, minimum, where, sum, mean, max, min, norm, dot, matmul,
                        reshape, transpose, permute, concatenate, cat, stack, softmax,
                        log_softmax, clamp, add, sub, mul, div, neg, pow)
from .forward import make_dual, unpack_dual, dual_level
from .transforms import grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian
from .primitives import PRIMITIVES
from .custom import checkpoint, custom_vjp

__version__ = "0.1.0"
from .instruments import OpCount, count_ops, derivative_costs
from .instruments import (trace, Trace, TraceTable, finite_difference, fd_gradient, fd_jacobian,
                          fd_error_curve, ErrorCurve)
from .instruments import draw_graph, sweep_widget
from .instruments import symbolic_derivative, expression_swell
from .instruments import cost_table
