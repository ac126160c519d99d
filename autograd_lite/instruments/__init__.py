"""Teaching instruments: evaluation traces, graph drawings, finite differences,
symbolic comparison and op counting. All derivative values come from the library's
rule table (``autograd_lite/primitives.py``), so a table can never disagree with it.
"""
from .counting import OpCount, cost_table, count_ops, derivative_costs
from .numeric import ErrorCurve, fd_error_curve, fd_gradient, fd_jacobian, finite_difference
from .tables import TraceTable
from .trace import Trace, trace
from .graph import GraphDrawing, draw_graph, graphviz_available, sweep_frames, sweep_widget
from .symbolic import SymbolicComparison, expression_size, expression_swell, symbolic_derivative
