"""Shared test configuration.

Under CI (the CI environment variable is set) hypothesis draws the same examples every run,
so a landing never depends on a lucky draw; locally it explores new examples each time.
"""
import atexit
import os
import shutil
import tempfile

from hypothesis import settings

# The grader keeps generated releases in the user's cache; the tests keep theirs apart, for
# this run only (shared by its tests, and by the commands they start).
if "AUTOGRADE_CACHE" not in os.environ:
    os.environ["AUTOGRADE_CACHE"] = tempfile.mkdtemp(prefix="autograde-cache-tests-")
    atexit.register(shutil.rmtree, os.environ["AUTOGRADE_CACHE"], True)

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
