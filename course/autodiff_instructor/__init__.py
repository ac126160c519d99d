"""The instructor's side of the autodiff course: hidden checks, reference solutions, seeds.

Nothing in this package ships to students: it is not part of the installed project (see
pyproject.toml), and the grading pipeline runs it in its own process, never in the
student's. Plain nbgrader imports it in the kernel that runs the submission (its test cells
do), which is nbgrader's own, weaker isolation (course/README.md says what that means).

- ``reference``: the reference solutions and the case generators behind every expected value;
- ``hidden``: the hidden check of each question, ``hidden.qN(answers..., student=None)``;
- ``seeds``: the hidden inputs' seeds, drawn from the course's secret when there is one;
- ``feedback``: the nbgrader preprocessor that keeps hidden tests out of students' feedback.
"""
