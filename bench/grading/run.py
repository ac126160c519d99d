"""Grade the same generated class with ``nbgrader autograde`` and with the pipeline; compare.

Run from the repository root:  ``.venv/bin/python -m bench.grading`` (``--students 100``).

A demo nbgrader course (graders.pipeline.demo_course) gets N generated submissions in its
``submitted/`` tree: a mix of correct, hard-coded, wrong and unanswered answers, so scores
vary. Both graders start from the same files: nbgrader runs sequentially as one
``nbgrader autograde`` command on a copy of the course; the pipeline runs as one
``python -m graders.pipeline`` command on all cores, then once more with ``--dask-cluster``
(as many workers, on a Dask LocalCluster) unless ``--no-dask``. The times are end to end (start-up,
assignment generation for the pipeline's private course copy, grading, writing the
gradebook). The scores are compared per student from each gradebook's ``nbgrader export``.
"""
import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from graders.pipeline.demo_course import ASSIGNMENT, CORRECT, NOTEBOOK, make_course, nbgrader_env, student_notebook

VARIANTS = {
    "q1_answer": [CORRECT["q1_answer"], "def square(x):\n    return 9", "def square(x):\n    return 2 * x", None],
    "q2_answer": [CORRECT["q2_answer"], "def normalize(v):\n    return np.asarray(v, dtype=float) / 5.0", None],
    "q3_answer": ["Because d(x^2)/x^2 = 2 dx/x.", None],
}


def make_class(course, n, seed=0):
    rng = random.Random(seed)
    for i in range(n):
        answers = {gid: rng.choice(options) for gid, options in VARIANTS.items()}
        nb = student_notebook(course, {k: v for k, v in answers.items() if v is not None})
        target = course / "submitted" / f"student{i:03d}" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def export_scores(course_dir):
    out = Path(course_dir) / "bench-export.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(out), "--log-level=ERROR"],
                   cwd=course_dir, env=nbgrader_env(), check=True)
    return {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(open(out))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=100)
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--no-dask", action="store_true", help="skip the run on a Dask LocalCluster")
    args = p.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        course = make_course(base / "course")
        make_class(course, args.students)
        nbg = base / "nbgrader"
        shutil.copytree(course, nbg)
        print(f"{args.students} submissions, {os.cpu_count()} cores", flush=True)

        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--log-level=ERROR"],
                       cwd=nbg, env=nbgrader_env(), check=True, capture_output=True)
        t_nbgrader = time.perf_counter() - t0
        print(f"nbgrader autograde (sequential): {t_nbgrader:7.1f} s", flush=True)

        out = base / "pipeline-out"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "graders.pipeline", str(course), ASSIGNMENT,
                               str(course / "submitted"), "-o", str(out), "--workers", str(args.workers),
                               "--no-progress"], capture_output=True, text=True)
        t_pipeline = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-3000:])
            raise SystemExit("the pipeline failed")
        print(f"pipeline ({args.workers} workers):        {t_pipeline:7.1f} s", flush=True)

        on_dask = None
        if not args.no_dask:
            dask_out = base / "dask-out"
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "graders.pipeline", str(course), ASSIGNMENT,
                                   str(course / "submitted"), "-o", str(dask_out), "--dask-cluster",
                                   str(args.workers), "--no-progress"], capture_output=True, text=True)
            t_dask = time.perf_counter() - t0
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-3000:])
                raise SystemExit("the pipeline on a Dask LocalCluster failed")
            print(f"pipeline (LocalCluster, {args.workers} workers): {t_dask:7.1f} s "
                  f"({t_dask / t_pipeline:.2f}x the process pool's time)", flush=True)
            on_dask = export_scores(dask_out / "course")

        theirs = export_scores(nbg)
        ours = export_scores(out / "course")
        same = theirs == ours
        if on_dask is not None:
            print(f"LocalCluster scores identical to the process pool's: {on_dask == ours}")
        print(f"ratio (nbgrader time / pipeline time): {t_nbgrader / t_pipeline:.2f}x (target >= 1.9x)")
        print(f"scores identical for all {len(theirs)} students: {same}")
        if not same:
            diff = {s: (theirs.get(s), ours.get(s)) for s in set(theirs) | set(ours) if theirs.get(s) != ours.get(s)}
            print("differences (nbgrader, pipeline):", dict(sorted(diff.items())[:10]))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("kept", base)


if __name__ == "__main__":
    main()
