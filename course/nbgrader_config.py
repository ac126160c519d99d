"""nbgrader configuration of the course (run nbgrader commands from this folder)."""
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "autodiff-course"
# Student code may take a while on slow machines (the checks count operations); a cell that
# runs longer than this is stopped and scored as failed, the rest of the notebook still runs.
c.ExecutePreprocessor.timeout = 120
