"""Grade one generated class of the real ``autodiff`` exercise with ``nbgrader autograde`` and
with ``autograde-class``; compare their throughput, peak memory and scores.

Run from the repository root:  ``.venv/bin/python -m bench.grading``
(``--sizes 30,100,300 --nbgrader-sizes 30,100 --start-methods fork-server,exec,dask``).

The class is built from the course's own model answers and the test battery's variants
(tests/submissions/autodiff_battery.py): correct answers, valid alternatives (a ``pow``
graph, a Tensor handed to matplotlib), partial answers (some questions left as released)
and typical mistakes, in a fixed rotation, so scores vary. Both graders start from the same
files in an nbgrader ``submitted/`` tree, with the repository's default hidden inputs (no
course secret). nbgrader runs as one sequential ``nbgrader autograde`` command; the pipeline
as one ``python -m graders.pipeline`` command with one worker per core, or with "dask" on a
Dask ``LocalCluster`` of as many worker processes (``--dask-cluster N``). Times are end to end,
except that each grader's release is generated beforehand, untimed: nbgrader's by
``nbgrader generate_assignment``, the pipeline's into its release cache (a private one for
the benchmark), as a second class of the same assignment finds it. Peak memory is the largest
resident set of any one process of the run (``wait4``). Each row gives the load average
(1 min) before and after each timed run: the host may be shared.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "submissions"))
import autodiff_battery as battery  # noqa: E402

ASSIGNMENT, NOTEBOOK = "autodiff", "autodiff.ipynb"
BIN = Path(sys.executable).parent


def env():
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def copy_course(target):
    shutil.copytree(ROOT / "course", target, ignore=shutil.ignore_patterns(
        "submitted", "autograded", "feedback", "gradebook.db", "__pycache__",
        "autograde_secret.txt"))
    return target


def variants(course):
    """The rotation of submissions: (kind, notebook)."""
    return [("correct", battery.notebook(course)),
            ("pow graph", battery.notebook(course, {"q5_answer": battery.POW_GRAPH})),
            ("typical mistakes", battery.notebook(course, battery.TYPICAL_MISTAKES)),
            ("tensor plotted", battery.notebook(course, {"q4_answer": battery.TENSOR_PLOT})),
            ("half answered", battery.notebook(course, untouched=["q5_answer", "q6_answer",
                                                                   "q7_answer", "q8_answer"])),
            ("untouched", battery.notebook(course, untouched=battery.ALL_ANSWERS))]


def make_class(course, n):
    rotation = variants(course)
    for i in range(n):
        target = course / "submitted" / f"student{i:03d}" / ASSIGNMENT / NOTEBOOK
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(rotation[i % len(rotation)][1], str(target))


def timed(cmd, cwd=None):
    """Run ``cmd``; return (seconds, peak RSS in MiB of its largest process, stdout+stderr,
    the load averages before and after)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        log.seek(0)
        text = log.read()
    if proc.returncode != 0:
        print(text[-3000:])
        raise SystemExit(f"{cmd[2:4]} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024, text, (load, os.getloadavg()[0])


def nbgrader(*args, cwd):
    return timed([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"], cwd=cwd)


def export_scores(course_dir):
    out = Path(course_dir) / "bench-export.csv"
    nbgrader("export", "--to", str(out), cwd=course_dir)
    return {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(open(out))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="30,100,300", help="class sizes the pipeline grades")
    p.add_argument("--nbgrader-sizes", default="30,100", help="class sizes nbgrader grades too")
    p.add_argument("--start-methods", default="fork-server,exec,dask",
                   help="the pipeline's --start-method values to time, and dask for a Dask "
                        "LocalCluster (each at every size nbgrader grades, the first one also "
                        "at the other sizes)")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    nbgrader_sizes = [int(s) for s in args.nbgrader_sizes.split(",")]
    methods = args.start_methods.split(",")
    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    os.environ["AUTOGRADE_CACHE"] = str(base / "release-cache")
    print(f"the autodiff exercise, {os.cpu_count()} cores, {args.workers} pipeline workers",
          flush=True)
    rows = []
    try:
        for n in sorted(set(sizes) | set(nbgrader_sizes)):
            course = copy_course(base / f"class{n}" / "course")
            make_class(course, n)
            warm_release_cache(course, base / f"class{n}" / "warm")
            row = {"n": n}
            if n in nbgrader_sizes:
                work = base / f"class{n}" / "nbgrader"
                shutil.copytree(course, work)
                nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=work)
                row["nbgrader"] = nbgrader("autograde", ASSIGNMENT, cwd=work)
                theirs = export_scores(work)
            for method in methods if n in nbgrader_sizes else methods[:1]:
                out = base / f"class{n}" / f"out-{method}"
                how = (["--dask-cluster", str(args.workers)] if method == "dask" else
                       ["--workers", str(args.workers), "--start-method", method])
                row[method] = timed([sys.executable, "-m", "graders.pipeline", str(course),
                                     ASSIGNMENT, str(course / "submitted"), "-o", str(out),
                                     "--no-progress", *how])
                if n in nbgrader_sizes:
                    ours = export_scores(out / "course")
                    row[f"{method} same scores"] = ours == theirs
                    if ours != theirs:
                        diff = {s: (theirs.get(s), ours.get(s)) for s in set(theirs) | set(ours)
                                if theirs.get(s) != ours.get(s)}
                        print("differences (nbgrader, pipeline):", dict(sorted(diff.items())[:10]))
            rows.append(row)
            report(row)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("kept", base)


def warm_release_cache(course, scratch):
    """Generate the pipeline's release into its cache, untimed (see the module docstring)."""
    from graders.pipeline.grade import prepare_course
    prepare_course(course, ASSIGNMENT, scratch)
    shutil.rmtree(scratch, ignore_errors=True)


def report(row):
    n = row["n"]
    line = [f"{n:4d} submissions:"]
    if "nbgrader" in row:
        seconds, mib, _, (before, after) = row["nbgrader"]
        line.append(f"nbgrader {seconds:6.1f} s ({n / seconds:5.2f}/s, {mib:4.0f} MiB, "
                    f"load {before:.1f}-{after:.1f})")
    for method in ("fork-server", "exec", "dask"):
        if method in row:
            seconds, mib, _, (before, after) = row[method]
            text = (f"{method} {seconds:6.1f} s ({n / seconds:5.2f}/s, {mib:4.0f} MiB, "
                    f"load {before:.1f}-{after:.1f})")
            if "nbgrader" in row:
                text += (f" = {row['nbgrader'][0] / seconds:4.2f}x nbgrader, scores "
                         f"{'identical' if row[f'{method} same scores'] else 'DIFFER'}")
            line.append(text)
    print("  ".join(line), flush=True)


if __name__ == "__main__":
    main()
