"""Benchmark: the grading pipeline against plain sequential ``nbgrader autograde``."""
