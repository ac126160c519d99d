"""``autograde-class``: one command from an LMS download to grades and feedback.

    autograde-class COURSE_ROOT ASSIGNMENT INPUT -o OUT [--workers N] [--cell-timeout S] ...

INPUT is a zip, a folder of notebooks (Canvas, Moodle or any names) or an nbgrader
``submitted/`` tree (or the course root itself). OUT receives grades.csv, feedback/,
gradescope/<student>/results.json, summary.csv, summary.png, grading.log, results/ (the
resume cache) and course/ (a private nbgrader course with the gradebook and autograded
notebooks). Also: ``autograde-class gradescope-export`` and ``gradescope-run``
(see ``graders.pipeline.gradescope``), ``demo-course DIR``.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from .sandbox import Limits


class TextBar:
    """A progress bar on stderr for when tqdm is not installed."""

    def __init__(self, total, width=30):
        self.total, self.done, self.width, self.start = total, 0, width, time.monotonic()
        self._draw()

    def update(self, n=1):
        self.done += n
        self._draw()

    def _draw(self):
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * self.width)
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                         f"{elapsed:5.0f} s")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")


def progress_bar(total):
    try:
        from tqdm import tqdm
        return tqdm(total=total, unit="submission")
    except ImportError:
        return TextBar(total)


def add_limit_args(parser):
    d = Limits()
    parser.add_argument("--cell-timeout", type=float, default=d.cell_timeout, help="seconds per cell")
    parser.add_argument("--submission-timeout", type=float, default=d.submission_timeout,
                        help="wall-clock seconds per submission")
    parser.add_argument("--memory-mb", type=int, default=d.memory_mb, help="kernel memory limit")
    parser.add_argument("--question-pattern", default=r"^(q\d+)",
                        help="regex whose group 1 names the question of a grade_id")
    parser.add_argument("--snapshot-module", action="append", default=None,
                        help="module whose state is restored before each test (default: numpy, graders, "
                             "autograd_lite)")


def limits_from(args):
    return Limits(cell_timeout=args.cell_timeout, submission_timeout=args.submission_timeout,
                  memory_mb=args.memory_mb)


def grade_main(argv):
    from . import discover, grade, report
    p = argparse.ArgumentParser(prog="autograde-class", description=__doc__.split("\n\n")[0])
    p.add_argument("course_root")
    p.add_argument("assignment")
    p.add_argument("input", help="zip, folder of notebooks, or nbgrader submitted/ tree")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: all cores)")
    p.add_argument("--id-rule", action="append", default=[],
                   help="regex on the file's relative path with a (?P<student_id>...) group; tried first")
    p.add_argument("--no-progress", action="store_true")
    add_limit_args(p)
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_fh = open(out / "grading.log", "a")

    def log(line):
        print(line, flush=True)
        log_fh.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")
        log_fh.flush()

    work = grade.prepare_course(args.course_root, args.assignment, out / "course")
    templates = grade.load_templates(work, args.assignment)
    src = Path(args.input).resolve()
    with tempfile.TemporaryDirectory(prefix="autograde-in-") as tmp:
        root = src
        if src.is_file() and src.suffix == ".zip":
            root = discover.extract_zip(src, tmp)
        elif src.is_file():
            root = Path(tmp)
            (root / src.name).write_bytes(src.read_bytes())
        subs, problems = discover.discover(root, list(templates), args.assignment, args.id_rule)
        for problem in problems:
            log(f"skipped: {problem}")
        log(f"{len(subs)} submission(s) found in {src}")
        hidden = [str(Path(args.course_root).resolve()), str(src), str(root)]
        results = grade.grade_class(
            subs, work, args.assignment, out, limits_from(args), args.workers, hidden,
            snapshot_modules=args.snapshot_module or ("numpy", "graders", "autograd_lite"),
            progress=None if args.no_progress else progress_bar, log=log)
    report.write_reports(results, args.assignment, out, args.question_pattern)
    log(f"wrote {out / 'grades.csv'}, feedback/, gradescope/, summary.csv, summary.png")
    log_fh.close()
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo-course":
        from .demo_course import make_course
        make_course(argv[1])
        print(f"demo course written to {argv[1]}")
        return 0
    if argv and argv[0] in ("gradescope-export", "gradescope-run"):
        from . import gradescope
        return gradescope.main(argv)
    return grade_main(argv)


if __name__ == "__main__":
    sys.exit(main())
