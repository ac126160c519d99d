#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 dev.py course   # make .venv, install the course, open JupyterLab on START_HERE.md
    python3 dev.py test     # make .venv, install everything, run the whole test suite
    python3 dev.py bench    # make .venv, install everything, run the benchmark

Extra arguments go to the command behind each one: after `course` to `jupyter lab` (e.g.
`python3 dev.py course --no-browser --port 8890`), after `test` to pytest (e.g.
`python3 dev.py test -k trace`), after `bench` to `python -m bench`.
"""
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# JupyterLab is rooted at the repository, so the lectures, the exercises and the library are
# all reachable from the landing page it opens.
LANDING_PAGE = "START_HERE.md"
PYTEST_ARGS = ["tests", "notebooks", "--nbval", "--nbval-sanitize-with",
               "notebooks/nbval_sanitize.cfg", "-p", "no:cacheprovider"]


def venv_python():
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*cmd):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_env(extra):
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}. "
                 f"Run this script with a newer python3.")
    if not venv_python().exists():
        print(f"Creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(venv_python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(venv_python(), "-m", "pip", "install", "--quiet", "-e", f".[{extra}]")


def lab_args(*extra):
    """The arguments of `python -m jupyter ...` that `dev.py course` runs."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return ["lab", f"--ServerApp.root_dir={ROOT}", LANDING_PAGE, *as_root, *extra]


def main(argv):
    if not argv or argv[0] not in ("course", "test", "bench"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    if command == "course":
        ensure_env("course")
        run(venv_python(), "-m", "jupyter", *lab_args(*rest))
    elif command == "test":
        ensure_env("dev")
        run(venv_python(), "-m", "pytest", *PYTEST_ARGS, *rest)
    else:
        ensure_env("dev")
        run(venv_python(), "-m", "bench", *rest)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
