#!/usr/bin/env bash
# Execute every lecture notebook under Google Colab's pinned stack, in a separate venv, so a
# Colab student meets no import or widget error (ipywidgets 7.7.1 in particular). Fails on
# the first error output. The venv is reused between runs while the pins stay the same.
#
#   bash .ci/colab_stack.sh                 # all notebooks
#   COLAB_VENV=/tmp/v COLAB_PYTHON=python3.12 bash .ci/colab_stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# Colab's stack: ipywidgets 7.7.1 is what Colab pins; the other versions are recent Colab
# releases, not re-checked against a live runtime. Refresh them from `!pip list` on Colab.
PINS=(ipywidgets==7.7.1 ipykernel==6.17.1 ipython==7.34.0 numpy==2.0.2 matplotlib==3.10.0
      sympy==1.13.1)
RUNNER=(nbclient nbformat)
export PYDEVD_DISABLE_FILE_VALIDATION=1   # quiet ipykernel 6 debugger warning on Python 3.11+
VENV=${COLAB_VENV:-${TMPDIR:-/tmp}/autograd-lite-colab-venv}
PYTHON=${COLAB_PYTHON:-python3}

stamp="${PINS[*]} ${RUNNER[*]} $($PYTHON --version 2>&1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$stamp" ]; then
  echo "colab-stack: creating $VENV with ${PINS[*]}"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "${PINS[@]}" "${RUNNER[@]}"
  echo "$stamp" > "$VENV/.pins"
fi
# The package itself, from this checkout (Colab installs it from GitHub; its own stack
# already provides numpy, so no dependencies are pulled here).
"$VENV/bin/python" -m pip install --quiet --no-deps --force-reinstall .

"$VENV/bin/python" - <<'PY'
"""Run each notebook top to bottom in a kernel of this venv; stop at the first error."""
import sys
import time
from pathlib import Path

import ipywidgets
import nbformat
from nbclient import NotebookClient

assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__
probe = nbformat.v4.new_code_cell(
    "import sys, ipywidgets, numpy, matplotlib\n"
    "print(sys.executable, ipywidgets.__version__, numpy.__version__, matplotlib.__version__)")
failures = []
for path in sorted(Path("notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(probe)
    begin = time.perf_counter()
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as exc:   # CellExecutionError carries the cell and the traceback
        failures.append(path.name)
        print(f"colab-stack: FAILED {path.name}\n{exc}", flush=True)
        continue
    seconds = time.perf_counter() - begin
    seen = nb.cells[-1].outputs[0]["text"].split()
    if seen[0] != sys.executable or seen[1] != "7.7.1":
        failures.append(path.name)
        print(f"colab-stack: {path.name} ran in the wrong kernel: {seen}", flush=True)
        continue
    print(f"colab-stack: ok {path.name} in {seconds:.1f} s "
          f"(ipywidgets {seen[1]}, numpy {seen[2]}, matplotlib {seen[3]})", flush=True)
if failures:
    sys.exit(f"colab-stack: {len(failures)} notebook(s) failed: {', '.join(failures)}")
PY
echo "colab-stack: finished in $((SECONDS - start)) s"
