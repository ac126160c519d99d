"""The hidden checks: each question's answers on inputs the student has not seen.

``hidden.qN(answers..., student=None, answers=None)`` draws the question's hidden cases from
the submission's seed (``seeds``; the grading pipeline passes the student's id and the digest
of their answers, plain nbgrader leaves them to be found), computes their expected values with the reference solutions
(``reference``) and judges the answers with the question's shared judging
(``graders.checks.judge_qN``), which words every failure without the hidden inputs.
"""
import numpy as np

from graders import checks
from graders.judging import Context, handles

from . import reference, seeds


def _cases(question, student, answers):
    return reference.cases(question, np.random.default_rng(seeds.seed(question, student, answers)))


def q1(predicted_costs, student=None, answers=None):
    ctx = Context("q1", hidden=True)
    checks.judge_q1(ctx, *handles([(predicted_costs, "predicted_costs")]),
                    _cases("q1", student, answers))
    ctx.passed("hidden checks")


def q2(second_backward_error, accumulated_grad, student=None, answers=None):
    ctx = Context("q2", hidden=True)
    checks.judge_q2(ctx, *handles([(second_backward_error, "second_backward_error"),
                                   (accumulated_grad, "accumulated_grad")]), _cases("q2", student, answers))
    ctx.passed("hidden checks")


def q3(control_flow_grad, control_flow_jacobian, student=None, answers=None):
    ctx = Context("q3", hidden=True)
    checks.judge_q3(ctx, *handles([(control_flow_grad, "control_flow_grad"),
                                   (control_flow_jacobian, "control_flow_jacobian")]),
                    _cases("q3", student, answers))
    ctx.passed("hidden checks (random shapes, both branches)")


def q4(sin_derivative, tangent_plot, student=None, answers=None):
    ctx = Context("q4", hidden=True)
    derivative, plot = handles([(sin_derivative, "sin_derivative"), (tangent_plot, "tangent_plot")])
    cases = _cases("q4", student, answers)
    checks.judge_q4_derivative(ctx, derivative, cases["derivative"])
    checks.judge_q4_plot(ctx, plot, cases["x0"])
    ctx.passed("hidden checks (random grids, a random tangent point)")


def q5(graph, student=None, answers=None):
    ctx = Context("q5", hidden=True)
    checks.judge_q5(ctx, *handles([(graph, "graph")]), _cases("q5", student, answers))
    ctx.passed("hidden checks")


def q6(edge_partials, all_paths, df_dx, student=None, answers=None):
    ctx = Context("q6", hidden=True)
    checks.judge_q6(ctx, *handles([(edge_partials, "edge_partials"), (all_paths, "all_paths"),
                                   (df_dx, "df_dx")]), _cases("q6", student, answers))
    ctx.passed("hidden checks (the graph of f and graphs drawn at random)")


def q7(forward_tangents, backward_adjoints, student=None, answers=None):
    ctx = Context("q7", hidden=True)
    checks.judge_q7(ctx, *handles([(forward_tangents, "forward_tangents"),
                                   (backward_adjoints, "backward_adjoints")]),
                    _cases("q7", student, answers))
    ctx.passed("hidden checks (the graph of f and graphs drawn at random)")


def q8(predicted_jacobian_calls, crossover_m, student=None, answers=None):
    ctx = Context("q8", hidden=True)
    checks.judge_q8(ctx, *handles([(predicted_jacobian_calls, "predicted_jacobian_calls"),
                                   (crossover_m, "crossover_m")]), _cases("q8", student, answers))
    ctx.passed("hidden checks")
