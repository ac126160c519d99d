"""What the fork server imports once, before any student's code exists (``session.Worker``).

Every submission's sandbox is a fresh fork of a process that has run this module and
nothing else: the interpreter, numpy, IPython, matplotlib's inline backend, the library and
the agent are loaded once per grading process instead of once per student. Nothing here is
secret: the checks, the seeds and the course's answer key are never imported on this side.
"""
import os

os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

import numpy  # noqa: E402,F401
import matplotlib  # noqa: E402,F401
import matplotlib.pyplot  # noqa: E402,F401
import matplotlib_inline.backend_inline  # noqa: E402,F401
import IPython.core.interactiveshell  # noqa: E402,F401

import autograd_lite  # noqa: E402,F401
from .. import families, plain  # noqa: E402,F401
from . import agent, jail, shell  # noqa: E402,F401
