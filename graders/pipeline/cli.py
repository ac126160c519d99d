"""``autograde-class``: one command from an LMS download to grades and feedback.

    autograde-class COURSE_ROOT ASSIGNMENT INPUT -o OUT [options]
    autograde-class init COURSE_ROOT
    autograde-class gradescope-export COURSE_ROOT ASSIGNMENT -o DIR
    autograde-class demo-course DIR

Each user mistake (a path that does not exist, a file that is not a zip, a damaged zip, no
notebooks, a missing assignment) ends with one line that says what is wrong and what to do,
and a non-zero exit status; nothing is written then, and the final line lists only the files
that were written.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import secret
from .limits import Limits

EXIT_USAGE, EXIT_INPUT, EXIT_REFUSED = 2, 1, 3

DESCRIPTION = """Grade a class's notebooks for one nbgrader assignment, straight from the LMS download.

INPUT is a zip (Canvas, Moodle, or any zip of notebooks), a folder of notebooks with any names,
nbgrader's submitted/ tree, or one notebook. OUT receives grades.csv (nbgrader export's columns
plus one per question), feedback/<student>.html, gradescope/<student>/results.json, summary.csv,
summary.png, grading.log, results/ (the cache that lets a re-run resume) and course/ (a private
nbgrader course with the gradebook and the autograded notebooks, for formgrader and export)."""

EPILOG = """example:
  autograde-class init course                # once per course offering: the hidden inputs' secret
  autograde-class course autodiff submissions.zip -o graded/ --workers 4
  autograde-class course autodiff submissions.zip -o graded/ --scheduler tcp://head:8786

other commands:
  autograde-class init COURSE_ROOT                              create the course's secret
  autograde-class gradescope-export COURSE_ROOT ASSIGNMENT -o DIR  a Gradescope autograder package
  autograde-class demo-course DIR                               a small course to try the grader on
"""


class UserError(Exception):
    """A mistake in the command line or the input: one line, no traceback."""


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
    parser.add_argument("--cell-timeout", type=float, default=d.cell_timeout, metavar="S",
                        help="seconds a cell (a test cell's checks included) may run "
                             "(default: %(default)s)")
    parser.add_argument("--submission-timeout", type=float, default=d.submission_timeout,
                        metavar="S", help="wall-clock seconds for a whole notebook (default: %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=d.memory_mb, metavar="MB",
                        help="memory a submission's process may use (default: %(default)s)")
    parser.add_argument("--max-processes", type=int, default=d.max_processes, metavar="N",
                        help="processes and threads a submission may run (default: %(default)s)")
    parser.add_argument("--max-file-mb", type=int, default=d.max_file_mb, metavar="MB",
                        help="largest file a submission may write (default: %(default)s)")
    parser.add_argument("--max-restarts", type=int, default=d.max_restarts, metavar="N",
                        help="restarts after a crash or timeout, per submission (default: %(default)s)")
    parser.add_argument("--question-pattern", default=r"^(q\d+)", metavar="REGEX",
                        help="regex whose group 1 names the question of a grade id "
                             "(default: %(default)s)")
    parser.add_argument("--isolation", choices=["auto", "root", "userns", "none"], default="auto",
                        help="how to shut each submission in: the strongest this machine allows "
                             "(auto), or a weaker mode (default: %(default)s)")
    parser.add_argument("--require-isolation", action="store_true",
                        help="refuse to grade when submissions cannot be shut in (no root and no "
                             "user namespaces)")
    parser.add_argument("--start-method", choices=["fork-server", "exec"], default="fork-server",
                        help="how each submission's fresh sandbox process starts: forked from a "
                             "process that has already imported numpy, IPython, matplotlib and the "
                             "library (fork-server), or as a new interpreter that imports them "
                             "itself (exec, slower); either way no state is shared between "
                             "students (default: %(default)s)")


def limits_from(args):
    return Limits(cell_timeout=args.cell_timeout, submission_timeout=args.submission_timeout,
                  memory_mb=args.memory_mb, max_processes=args.max_processes,
                  max_file_mb=args.max_file_mb, max_restarts=args.max_restarts)


def parser():
    p = argparse.ArgumentParser(prog="autograde-class", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("course_root", help="the nbgrader course root (the folder with source/ and "
                                       "nbgrader_config.py)")
    p.add_argument("assignment", help="the assignment's name (a folder in COURSE_ROOT/source/)")
    p.add_argument("input", help="a zip, a folder of notebooks, nbgrader's submitted/ tree, or "
                                 "one notebook")
    p.add_argument("-o", "--out", required=True, help="the output folder (made if needed; a re-run "
                                                      "into it resumes)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="submissions graded at once on this machine (default: one per core; "
                        "not used with --scheduler or --dask-cluster)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:8786",
                       help="grade on the workers of this running Dask scheduler (a SLURM or "
                            "Kubernetes cluster, say); they must see COURSE_ROOT, INPUT and OUT at "
                            "the same paths; a worker lost mid-submission costs it one retry, then an "
                            "infrastructure error (no score); needs dask[distributed]")
    where.add_argument("--dask-cluster", type=int, metavar="N",
                       help="grade on a Dask LocalCluster of N worker processes started for this "
                            "run; needs dask[distributed]")
    p.add_argument("--id-rule", action="append", default=[], metavar="REGEX",
                   help="a regex on a file's path in INPUT with a (?P<student_id>...) group, tried "
                        "before the built-in Canvas, Moodle and nbgrader rules (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_limit_args(p)
    return p


def _check_inputs(args):
    course = Path(args.course_root)
    if not course.is_dir():
        raise UserError(f"the course root {course} does not exist: give the folder that holds "
                        "nbgrader_config.py and source/")
    source = course / "source" / args.assignment
    if not source.is_dir():
        found = sorted(p.name for p in (course / "source").iterdir() if p.is_dir()) \
            if (course / "source").is_dir() else []
        raise UserError(f"no assignment {args.assignment!r} in {course}: expected {source}/"
                        + (f" (assignments there: {', '.join(found)})" if found else
                           " (is this an nbgrader course root?)"))
    if not any(source.glob("*.ipynb")):
        raise UserError(f"{source} holds no notebook")
    src = Path(args.input)
    if not src.exists():
        raise UserError(f"the input {src} does not exist: give the LMS zip, a folder of "
                        "notebooks or one notebook")
    if src.is_file() and src.suffix.lower() not in (".zip", ".ipynb"):
        import zipfile
        if not zipfile.is_zipfile(src):
            raise UserError(f"the input {src} is neither a zip, a folder nor a notebook")
    for limit in ("cell_timeout", "submission_timeout", "memory_mb", "max_processes", "max_file_mb"):
        if getattr(args, limit) <= 0:
            raise UserError(f"--{limit.replace('_', '-')} must be positive")
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.dask_cluster is not None and args.dask_cluster < 1:
        raise UserError("--dask-cluster must be at least 1")


def grade_main(argv):
    from . import discover, grade, report
    args = parser().parse_args(argv)
    try:
        _check_inputs(args)
    except UserError as exc:
        print(f"autograde-class: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out).resolve()
    made_out = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        log_fh = open(out / "grading.log", "a")
    except OSError as exc:
        print(f"autograde-class: cannot write to {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE

    def log(line):
        print(line, flush=True)
        log_fh.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")
        log_fh.flush()

    def give_up(message, code=EXIT_INPUT):
        log_fh.close()
        if made_out:
            shutil.rmtree(out, ignore_errors=True)
        else:
            with open(out / "grading.log", "a") as fh:
                fh.write(time.strftime("%Y-%m-%d %H:%M:%S ") + "stopped: " + message + "\n")
        print(f"autograde-class: {message}", file=sys.stderr)
        return code

    try:
        work = grade.prepare_course(args.course_root, args.assignment, out / "course")
    except SystemExit as exc:
        return give_up(str(exc))
    templates = grade.load_templates(work, args.assignment)
    src = Path(args.input).resolve()
    with tempfile.TemporaryDirectory(prefix="autograde-in-") as tmp:
        root, nested = src, {}
        try:
            if src.is_file() and src.suffix.lower() != ".ipynb":
                root = Path(tmp)
                nested = discover.extract_zip(src, tmp)
            elif src.is_file():
                root = Path(tmp)
                (root / src.name).write_bytes(src.read_bytes())
        except discover.InputError as exc:
            return give_up(str(exc))
        subs, problems = discover.discover(root, list(templates), args.assignment, args.id_rule,
                                           nested=nested, resemblance=grade.resemblance(templates))
        if not subs:
            where = "the zip" if src.is_file() and src.suffix.lower() != ".ipynb" else str(src)
            detail = f"; {len(problems)} file(s) could not be placed: {problems[0]}" if problems else ""
            return give_up(f"no submitted notebook found in {where}{detail}")
        has_checks = any((p / "__init__.py").exists() for p in Path(args.course_root).iterdir()
                         if p.is_dir())
        if has_checks and secret.read(args.course_root) is None:
            log(f"no course secret ({secret.path_for(args.course_root)}): hidden tests use the "
                "repository's default seeds, which anyone who can read the repository can read; "
                f"run `autograde-class init {args.course_root}` once per course offering")
        isolation = grade.probe_isolation(out, args.isolation)
        log(f"isolation: {isolation.describe()}")
        if isolation.mode == "none" and args.require_isolation:
            return give_up("refusing to grade: --require-isolation was given and this machine "
                           "cannot shut submissions in (run as root, or enable user namespaces)",
                           EXIT_REFUSED)
        for problem in problems:
            log(f"skipped: {problem}")
        log(f"{len(subs)} submission(s) found in {src}")
        executor = None
        if args.scheduler or args.dask_cluster:
            from .cluster import DaskExecutor
            try:
                executor = DaskExecutor(args.scheduler, args.dask_cluster, args.require_isolation)
            except SystemExit as exc:
                return give_up(str(exc))
            log(f"grading on the Dask cluster at {executor.address} "
                f"({len(executor.worker_pids())} worker(s))")
        try:
            results = grade.grade_class(
                subs, work, args.assignment, out, args.course_root, limits_from(args), args.workers,
                isolation, progress=None if args.no_progress else progress_bar, log=log,
                executor=executor, start_method=args.start_method)
        finally:
            if executor is not None:
                executor.close()
    note = ("Graded with reduced isolation; lost: " + "; ".join(isolation.lost)) if isolation.lost else ""
    written = report.write_reports(results, args.assignment, out, args.question_pattern, note,
                                   problems=problems)
    log("wrote " + ", ".join(str(p.relative_to(out)) + ("/" if p.is_dir() else "")
                             for p in written if p.exists()) + f" in {out}")
    if isolation.lost:
        log("graded with reduced isolation; lost: " + "; ".join(isolation.lost))
    log_fh.close()
    return 0


def init_main(argv):
    p = argparse.ArgumentParser(prog="autograde-class init",
                                description="Create the course's secret, once per course offering: "
                                            "the hidden tests' inputs are then drawn from it.")
    p.add_argument("course_root")
    args = p.parse_args(argv)
    try:
        path = secret.create(args.course_root)
    except FileExistsError as exc:
        print(f"autograde-class init: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"autograde-class init: cannot write the secret: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the course secret to {path}: keep it private, out of the repository, and "
          "keep it for the whole course offering (a new one changes every hidden input)")
    return 0


def demo_main(argv):
    p = argparse.ArgumentParser(prog="autograde-class demo-course",
                                description="Write a small nbgrader course (three questions) to try "
                                            "the grader on.")
    p.add_argument("dir", help="the folder to write the course into (made if needed)")
    args = p.parse_args(argv)
    from .demo_course import make_course
    make_course(args.dir)
    print(f"demo course written to {args.dir}")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo-course":
        return demo_main(argv[1:])
    if argv and argv[0] == "init":
        return init_main(argv[1:])
    if argv and argv[0] in ("gradescope-export", "gradescope-run"):
        from . import gradescope
        return gradescope.main(argv)
    return grade_main(argv)


if __name__ == "__main__":
    sys.exit(main())
