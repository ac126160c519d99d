#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 dev.py course   # make .venv, install the course, open JupyterLab on the notebooks
    python3 dev.py test     # make .venv, install everything, run the whole test suite
    python3 dev.py bench    # make .venv, install everything, run the benchmark

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k trace`).
"""
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
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


def main(argv):
    if not argv or argv[0] not in ("course", "test", "bench"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    if command == "course":
        ensure_env("course")
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        run(venv_python(), "-m", "jupyter", "lab", "notebooks/README.md", *as_root, *rest)
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
