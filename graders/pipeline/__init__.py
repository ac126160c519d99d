"""The instructor's grading pipeline: LMS download in, grades, feedback and Gradescope results out."""
