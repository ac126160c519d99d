"""The notebook's last cell: run every visible check and print a pass/fail line per question.

Runs without nbgrader (in Colab too). Failures are reported on stdout, never raised, so the
summary always prints in full.
"""
import contextlib
import io

from . import checks


def run_all(namespace, questions=None):
    """Run the visible checks against the names defined in ``namespace`` (pass ``globals()``).

    Returns a dict question -> (passed, message).
    """
    results = {}
    for q, (check, names) in checks.VISIBLE.items():
        if questions is not None and q not in questions:
            continue
        missing = [n for n in names if n not in namespace]
        if missing:
            results[q] = (False, "not answered yet: define " + ", ".join(missing))
            continue
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                check(*[namespace[n] for n in names])
        except checks.CheckFailed as exc:
            results[q] = (False, str(exc))
        except Exception as exc:       # noqa: BLE001 - a summary must always print
            results[q] = (False, f"{type(exc).__name__}: {exc}")
        else:
            results[q] = (True, "all visible checks passed")
    passed = sum(ok for ok, _ in results.values())
    print(f"Self-check: {passed} of {len(results)} questions pass their visible checks")
    print("(hidden checks on other inputs run when your notebook is graded)\n")
    for q, (ok, message) in results.items():
        first, *rest = message.splitlines()
        print(f"  {q}  {'PASS' if ok else 'FAIL'}  {first}")
        for line in rest:
            print(f"          {line}")
    return results
