"""Teaching instruments: evaluation traces, graph drawings, finite differences,
symbolic comparison and op counting. All derivative values come from the library's
rule table (``autograd_lite/primitives.py``), so a table can never disagree with it.
"""
from .counting import OpCount, count_ops, derivative_costs
