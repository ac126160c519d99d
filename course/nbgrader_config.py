"""nbgrader configuration of the course (run nbgrader commands from this folder)."""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
COURSE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "autodiff-course"
# Student code may take a while on slow machines (the checks count operations); a cell that
# runs longer than this is stopped and scored as failed, the rest of the notebook still runs.
c.ExecutePreprocessor.timeout = 120

# The hidden test cells import the instructor's checks (course/autodiff_instructor), which are
# not part of the installed package: the kernels nbgrader starts find them through PYTHONPATH.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(COURSE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
sys.path.insert(0, str(COURSE))

# Feedback without hidden tests: failed hidden tests keep only their message, then nbgrader's
# ClearHiddenTests removes the hidden part of every test cell's source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autodiff_instructor.feedback.HideHiddenTestDetails",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Released test cells lack their hidden region, so nbgrader's checksum comparison warns for
# every one of them (nbgrader #1961); this OverwriteCells stays quiet exactly in that case.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autodiff_instructor.overwrite.OverwriteCellsKnowingHiddenTests",
    "nbgrader.preprocessors.CheckCellMetadata",
]
