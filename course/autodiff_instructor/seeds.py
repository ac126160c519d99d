"""The seeds of the hidden inputs.

With a course secret (``autograde-class init``) each submission gets its own hidden inputs,
derived from the secret, the question, the student's id and a digest of the submitted answers
(``graders.pipeline.secret``). Without one, every student gets the repository's default seeds
below, which are public: run ``autograde-class init`` once per course offering.

Under the grading pipeline the student's id and the digest are passed in. Under plain nbgrader
they are read from the folder nbgrader runs the notebook in
(``autograded/<student>/<assignment>/``) and from the notebook file there.
"""
import os
from pathlib import Path

from graders.pipeline import secret as course_secret

COURSE = "autodiff"
NOTEBOOK = "autodiff.ipynb"
COURSE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS = {"q1": 51807, "q2": 66421, "q3": 73019, "q4": 24601, "q5": 90210, "q6": 31337,
                 "q7": 42424, "q8": 86753}


def student_from_cwd():
    parts = Path(os.getcwd()).parts
    return parts[-2] if len(parts) >= 3 and parts[-3] == "autograded" else ""


def seed(question, student=None, answers=None):
    key = course_secret.read(COURSE_ROOT)
    if key is None:
        return DEFAULT_SEEDS[question]
    if student is None:
        student = student_from_cwd()
    if answers is None:
        answers = course_secret.answers_digest_of_file(Path(os.getcwd()) / NOTEBOOK)
    return course_secret.derive_seed(key, COURSE, question, student, answers)
