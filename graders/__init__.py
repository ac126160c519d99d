"""Checking code behind the course's exercise tests, and the instructor's grading pipeline."""
