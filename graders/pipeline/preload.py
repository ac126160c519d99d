"""What the fork server imports once, before any student's code exists (``session.Worker``).

Every submission's sandbox is a fresh fork of a process that has run this module and
nothing else: the interpreter, numpy, IPython, matplotlib's inline backend, ipywidgets, the
library, the public checks a notebook imports, and the agent are loaded once per grading
process instead of once per student. Nothing here is secret: the course's hidden checks,
the seeds and the answer key are never imported on this side.

Besides imports, two things every notebook's process would otherwise do on its own, each
time the same: one figure is drawn off-screen, so that the fonts and the mathtext parser,
which matplotlib loads on the first drawing, are ready (it goes through no pyplot state: no
figure number, no open figure, so a student's first figure is figure 1, as in a new
kernel); and one traceback is formatted the way the shell formats a cell's error, so that
the syntax highlighter and its regular expressions are built. Neither holds anything of a
student's.
"""
import os
import sys

os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

import io  # noqa: E402

import numpy  # noqa: E402,F401
import matplotlib  # noqa: E402,F401
import matplotlib.pyplot  # noqa: E402,F401
import matplotlib_inline.backend_inline  # noqa: E402,F401
import IPython.core.interactiveshell  # noqa: E402,F401
# What starting the shell and the first cells import lazily (the completer, the history's
# sqlite3, the magics, the debugger), and the widgets a notebook imports.
import IPython.core.application  # noqa: E402,F401
import IPython.core.completer  # noqa: E402,F401
import IPython.core.completerlib  # noqa: E402,F401
import IPython.core.crashhandler  # noqa: E402,F401
import IPython.core.logger  # noqa: E402,F401
import IPython.core.magics  # noqa: E402,F401
import IPython.core.oinspect  # noqa: E402,F401
import bdb  # noqa: E402,F401
import glob  # noqa: E402,F401
import mimetypes  # noqa: E402,F401
import sqlite3  # noqa: E402,F401
try:
    import comm  # noqa: F401
    import ipywidgets  # noqa: F401
except ImportError:         # widgets are optional for the grader
    pass

import autograd_lite  # noqa: E402,F401
from .. import checks, families, plain, selfcheck  # noqa: E402,F401
from . import agent, jail, shell  # noqa: E402,F401


def _warm_matplotlib():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], "o-", label="line")
    ax.set_xlabel("x")
    ax.set_title(r"$\partial y / \partial x$")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")


def _warm_tracebacks():
    from IPython.core import ultratb
    from pygments.lexers.python import PythonLexer
    import pygments.formatters.html  # noqa: F401
    list(PythonLexer().get_tokens("x = 1\n"))
    try:
        raise NotImplementedError()
    except NotImplementedError:
        etype, value, tb = sys.exc_info()
    ultratb.AutoFormattedTB(mode="Context", theme_name="linux").structured_traceback(etype, value, tb)


# Only a head start: on a version whose API differs, the children just do this work themselves.
for _warm in (_warm_matplotlib, _warm_tracebacks):
    try:
        _warm()
    except Exception:       # noqa: BLE001
        pass
