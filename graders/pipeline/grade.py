"""Grade a class: repair and run every submission in parallel, write results through one writer.

Workers (a process pool sized to the cores) each take one submission at a time: read and
repair the notebook, run its cells in a jailed process of its own (``session``, ``jail``),
run its test cells (``trusted``: the course's checks run here, in the worker, calling the
student's functions through plain data; other test cells run in the student's process as
nbgrader runs them), and return plain data. Only the parent writes: the results cache (one
JSON per student, keyed by a hash of the submitted bytes, the course and the limits, so a
re-run or a resumed run skips what is already graded), nbgrader's gradebook (one open session,
so no SQLite lock errors) and the autograded notebooks (so formgrader and ``nbgrader export``
keep working).
"""
import concurrent.futures as cf
import fcntl
import hashlib
import json
import os
import shutil
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from . import jail
from . import repair as rp
from .repair import nbformat        # imported the fast way (see there)
from . import secret as course_secret
from .limits import Isolation, Limits
from .session import Worker, WorkerLost
from .trusted import CourseModules, plan_for, run_plan, setup_bindings

PIPELINE_VERSION = "2"
SLOT_DIR = Path(tempfile.gettempdir()) / "autograde-slots"
SLOT_COUNT = 64
SLOT_UID_BASE = 61000
NBGRADER_FOLDERS = {"source", "release", "submitted", "autograded", "feedback", "gradebook.db",
                    ".ipynb_checkpoints", "__pycache__"}


# -- the working copy of the course ------------------------------------------------------------
def nbgrader_env():
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def course_digest(course_root):
    """A hash of what, besides the assignment's source, decides a grade: the course's own code
    (its check modules), its nbgrader configuration and its secret."""
    root = Path(course_root)
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        if not NBGRADER_FOLDERS & set(p.relative_to(root).parts):
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    h.update(course_secret.read(root) or b"-")
    return h.hexdigest()


RELEASE_CACHE_ENTRIES = 16        # releases kept; the least recently used go first


def release_cache_dir():
    """Where generated releases are kept between runs: $AUTOGRADE_CACHE, else the user's cache
    folder; None when $AUTOGRADE_CACHE is "off"."""
    chosen = os.environ.get("AUTOGRADE_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "autograde-class"


def prepare_course(course_root, assignment, work):
    """A private copy of the course (source + generated release + its own gradebook) in work/.

    ``nbgrader generate_assignment`` is slow (a new interpreter and all of nbgrader's imports),
    and its output depends only on the assignment's source, the course's nbgrader
    configuration and nbgrader's version; so its release and assignment-only gradebook are
    kept in ``release_cache_dir()`` under a hash of those, and a second run or a second class
    of the same assignment copies them instead. The cache holds the course's own files (the
    gradebook stores the solutions and hidden tests), so it is made private to the user."""
    course_root, work = Path(course_root).resolve(), Path(work).resolve()
    src = course_root / "source" / assignment
    if not src.is_dir():
        raise SystemExit(f"no assignment source at {src} (is {course_root} an nbgrader course root?)")
    digest = _tree_hash(src) + _file_hash(course_root / "nbgrader_config.py")
    stamp = work / ".source-hash"
    if stamp.exists() and stamp.read_text() == digest and (work / "release" / assignment).is_dir():
        return work
    if work.exists():
        shutil.rmtree(work)
    (work / "source").mkdir(parents=True)
    shutil.copytree(src, work / "source" / assignment)
    config = course_root / "nbgrader_config.py"
    text = config.read_text() if config.exists() else "c = get_config()\n"
    # The course's configuration runs as if from its own folder (it may find its files there).
    text = (f"__file__ = {str(config)!r}\n" + text +
            f"\n# added by the grading pipeline: a private root and gradebook\n"
            f"c.CourseDirectory.root = {str(work)!r}\n"
            f"c.CourseDirectory.db_url = {('sqlite:///' + str(work / 'gradebook.db'))!r}\n")
    (work / "nbgrader_config.py").write_text(text)
    cache = release_cache_dir()
    entry = cache / _release_key(digest, assignment) if cache else None
    if entry is None or not _copy_release(entry, work):
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                               "--force", "--log-level=ERROR"], cwd=work, env=nbgrader_env(),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"nbgrader generate_assignment failed:\n{proc.stderr[-3000:]}")
        if entry is not None:
            _store_release(work, entry)
    stamp.write_text(digest)
    return work


def _release_key(digest, assignment):
    """What decides the release: the source, the course's configuration, nbgrader's version
    and any nbgrader configuration of the user's or the system's that nbgrader also reads."""
    from importlib.metadata import version
    from jupyter_core.paths import jupyter_config_path
    key = f"{PIPELINE_VERSION}|{assignment}|{digest}|nbgrader {version('nbgrader')}"
    for folder in jupyter_config_path():
        for name in ("nbgrader_config.py", "nbgrader_config.json"):
            key += f"|{name}:{_file_hash(Path(folder) / name)}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _copy_release(entry, work):
    """Copy a cached release into work; False when there is none (or it cannot be read: a
    cache folder of another user's, say), and then work holds nothing of it."""
    try:
        if not (entry / "gradebook.db").is_file():
            return False
        shutil.copytree(entry / "release", work / "release")
        shutil.copyfile(entry / "gradebook.db", work / "gradebook.db")
    except OSError:
        shutil.rmtree(work / "release", ignore_errors=True)
        if (work / "gradebook.db").exists():
            os.unlink(work / "gradebook.db")
        return False
    try:
        os.utime(entry)     # recently used: kept when older entries are dropped
    except OSError:
        pass
    return True


def _store_release(work, entry):
    """Copy work's release and gradebook into the cache entry, whole or not at all (a cache
    that cannot be written only costs the next run the time to generate again)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(entry.parent, 0o700)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=entry.parent))
        shutil.copytree(work / "release", tmp / "release")
        shutil.copyfile(work / "gradebook.db", tmp / "gradebook.db")
        try:
            os.rename(tmp, entry)
        except OSError:         # another run stored it first
            shutil.rmtree(tmp, ignore_errors=True)
        entries = sorted((p for p in entry.parent.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[RELEASE_CACHE_ENTRIES:]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass


def _file_hash(path):
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-"


def _tree_hash(root):
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def load_templates(work, assignment):
    rel = Path(work) / "release" / assignment
    src = Path(work) / "source" / assignment
    return {p.stem: rp.load_template(p, src / p.name) for p in sorted(rel.glob("*.ipynb"))}


def resemblance(templates):
    """How much a file looks like each notebook of the assignment (for choosing between a
    student's files): the share of the notebook's instruction and test cells it holds."""
    def score(path, notebook):
        try:
            return rp.match_score(rp.read_notebook(Path(path).read_bytes(), []), templates[notebook])
        except (rp.SubmissionError, OSError):
            return 0.0
    return score


def trusted_plans(templates, course_root):
    """{notebook: {grade_id: Plan}} for the test cells the grader can run on its side."""
    modules = CourseModules(course_root)
    plans = {}
    for name, template in templates.items():
        setup = [t.release_source for t in template.cells if t.kind == "locked" and t.cell_type == "code"]
        bindings = setup_bindings(setup, modules)
        plans[name] = {}
        for t in template.test_cells:
            plan = plan_for(t.graded_source, bindings, modules)
            if plan is not None:
                plans[name][t.grade_id] = plan
    return plans


# -- one submission, in a worker -----------------------------------------------------------------
_SLOT = {"uid": None, "fh": None}


def _claim_slot():
    """A uid of our own for this worker's sandboxes (a lock file per slot, machine-wide)."""
    if _SLOT["fh"] is not None:
        return _SLOT["uid"]
    SLOT_DIR.mkdir(parents=True, exist_ok=True)
    for n in range(SLOT_COUNT):
        fh = open(SLOT_DIR / f"slot-{n}", "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            continue
        _SLOT.update(uid=SLOT_UID_BASE + n, fh=fh)
        return _SLOT["uid"]
    raise RuntimeError("no free sandbox slot")


_SANDBOX = {}


def _worker_sandbox(asked):
    """A scratch root and the jail this (remote) worker allows, at most as strong as ``asked``;
    made once per worker process and removed when it exits."""
    if "scratch" not in _SANDBOX:
        import atexit
        root = Path(tempfile.mkdtemp(prefix="autograde-"))
        os.chmod(root, 0o711)
        atexit.register(shutil.rmtree, root, True)
        _SANDBOX.update(scratch=str(root), modes={})
    modes = _SANDBOX["modes"]
    if asked.mode not in modes:
        modes[asked.mode] = probe_isolation(_SANDBOX["scratch"], asked.mode)
    return {"sandbox_root": _SANDBOX["scratch"], "isolation": modes[asked.mode],
            "asked_isolation": asked}


def grade_submission(job):
    """Grade one student's files; returns a JSON-able result (never raises for student errors)."""
    start = time.monotonic()
    templates = job["templates"]
    result = {"student_id": job["student_id"], "first_name": job.get("first_name", ""),
              "last_name": job.get("last_name", ""), "hash": job["hash"], "notes": list(job["notes"]),
              "found": list(job.get("found", [])), "notebooks": {}, "events": []}
    if job["sandbox_root"] is None:
        job = {**job, **_worker_sandbox(job["isolation"])}
        if job.get("require_isolation") and job["isolation"].mode == "none":
            raise RuntimeError("this worker cannot shut submissions in (no root, no user "
                               "namespaces) and --require-isolation was given")
        if job["isolation"].mode != job["asked_isolation"].mode:
            result["events"].append(f"graded with the weaker isolation this worker allows "
                                    f"({job['isolation'].mode}; lost: {'; '.join(job['isolation'].lost)})")
    uid = _claim_slot() if job["isolation"].mode == "root" else -1
    for name, template in templates.items():
        nb_result = {"cells": [], "error": "", "executed": None}
        result["notebooks"][name] = nb_result
        path = job["files"].get(name)
        notes = []
        try:
            if path is None:
                raise rp.SubmissionError(f"{name}.ipynb was not submitted")
            student = rp.read_notebook(Path(path).read_bytes(), notes)
            graded = rp.repair(student, template, notes)
        except rp.SubmissionError as exc:
            nb_result["error"] = str(exc)
            result["notes"] += [f"{name}: {n}" for n in notes]
            nb_result["cells"] = [_cell_record(t, 0.0 if t.points else None, "not graded", str(exc))
                                  for t in template.cells if t.kind in rp.GRADED]
            continue
        result["notes"] += [f"{name}: {n}" for n in notes]
        run_notebook(graded, template, job, uid, nb_result, result["events"], name)
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _cell_record(t, score, status, message, output=""):
    return {"grade_id": t.grade_id, "kind": t.kind, "points": t.points, "score": score,
            "status": status, "message": message, "output": output}


def _make_box(root, uid, files):
    """A scratch folder holding only ``files`` ({name: bytes}), and an empty folder for the jail's
    root; both private to this submission."""
    root = Path(root)
    token = secrets.token_hex(8)
    box, jail_root = root / token, root / f"{token}-root"
    box.mkdir(mode=0o700)
    jail_root.mkdir(mode=0o700)
    for name, data in files.items():
        target = box / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for sub in (".ipython", ".mpl"):
        (box / sub).mkdir(exist_ok=True)
    if uid >= 0 and os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(box):
            os.chown(dirpath, uid, uid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, uid)
    return box, jail_root


def _lost_output(lost, limits):
    if lost.reason == "timeout":
        return {"output_type": "error", "ename": "CellTimeoutError",
                "evalue": f"the cell ran longer than {limits.cell_timeout:g} s and was stopped",
                "traceback": [f"CellTimeoutError: the cell ran longer than {limits.cell_timeout:g} s"]}
    return {"output_type": "error", "ename": "DeadKernelError",
            "evalue": "the kernel died while this cell ran",
            "traceback": ["DeadKernelError: the kernel died while this cell ran"]}


def _outputs(raw):
    """Outputs from the student's process, rebuilt as valid nbformat outputs (or dropped)."""
    clean = []
    for out in raw if type(raw) is list else []:
        if type(out) is not dict:
            continue
        kind = out.get("output_type")
        try:
            if kind == "stream" and out.get("name") in ("stdout", "stderr") and type(out.get("text")) is str:
                clean.append(nbformat.v4.new_output("stream", name=out["name"], text=out["text"]))
            elif kind in ("display_data", "execute_result") and type(out.get("data")) is dict:
                data = {k: v for k, v in out["data"].items() if type(k) is str and "/" in k}
                meta = out.get("metadata") if type(out.get("metadata")) is dict else {}
                extra = {"execution_count": out.get("execution_count")
                         if type(out.get("execution_count")) is int else None} \
                    if kind == "execute_result" else {}
                clean.append(nbformat.v4.new_output(kind, data=data, metadata=meta, **extra))
            elif kind == "error":
                tb = out.get("traceback")
                clean.append(nbformat.v4.new_output(
                    "error", ename=str(out.get("ename", ""))[:200], evalue=str(out.get("evalue", ""))[:5000],
                    traceback=[str(line) for line in tb][:200] if type(tb) is list else []))
        except (ValueError, TypeError):
            continue
    return clean


class Run:
    """One notebook's run: the sandboxed process, restarts, and the cells that ran well."""

    def __init__(self, nb, job, uid, events):
        self.nb, self.job, self.events = nb, job, events
        self.limits = job["limits"]
        files = {k: Path(v).read_bytes() for k, v in job["data_files"].items()}
        self.box, self.jail_root = _make_box(job["sandbox_root"], uid, files)
        iso = job["isolation"]
        lim = self.limits
        self.spec = jail.Spec(mode=iso.mode, root_dir=str(self.jail_root), scratch=str(self.box),
                              uid=uid, read_only=list(iso.read_only),
                              memory_bytes=lim.memory_mb * 1024 ** 2,
                              max_processes=lim.max_processes,
                              max_file_bytes=lim.max_file_mb * 1024 ** 2)
        self.worker = Worker(self.spec, str(self.jail_root) + ".diag",
                             job.get("start_method", "fork-server"))
        self.deadline = time.monotonic() + lim.submission_timeout
        self.ok_cells, self.restarts, self.dead = [], 0, False

    def remaining(self):
        return self.deadline - time.monotonic()

    def budget(self):
        return max(0.5, min(self.limits.cell_timeout, self.remaining()))

    def start(self):
        try:
            self.worker.start(self.limits.startup_timeout)
            return True
        except WorkerLost as lost:
            self.events.append(f"the sandbox could not start ({lost})")
            self.dead = True
            return False

    def restart(self, after_index, why):
        """A new process after cell ``after_index`` killed the last one: the earlier cells that
        ran well run again, never the cell that killed it."""
        self.restarts += 1
        if self.restarts > self.limits.max_restarts:
            self.events.append("too many restarts; the remaining cells were not run")
            self.worker.stop()
            self.dead = True
            return
        self.events.append(f"cell {after_index}: {why}; restarted, re-ran the "
                           f"{len(self.ok_cells)} earlier cell(s) that had run")
        if not self.start():
            return
        for j in self.ok_cells:
            try:
                self.worker.request({"op": "run", "code": self.nb.cells[j].source}, self.budget())
            except WorkerLost as lost:
                self.events.append(f"re-running cell {j} after the restart failed ({lost.reason})")
                if not self.start():
                    return

    def run_code(self, i):
        """Run code cell i in the student's process; its outputs go into the cell."""
        cell = self.nb.cells[i]
        try:
            reply = self.worker.request({"op": "run", "code": cell.source}, self.budget())
        except WorkerLost as lost:
            cell.outputs = [nbformat.from_dict(_lost_output(lost, self.limits))]
            self.restart(i, f"the cell ran longer than {self.limits.cell_timeout:g} s and was "
                         "stopped" if lost.reason == "timeout" else
                         f"the kernel died while this cell ran ({lost.reason}"
                         + (f": {lost.detail}" if lost.detail else "") + ")")
            return "timeout" if lost.reason == "timeout" else "crashed"
        cell.outputs = _outputs(reply.get("outputs"))
        if reply.get("status") != "ok" and not any(o.output_type == "error" for o in cell.outputs):
            # as nbgrader does: a failed cell whose error was not shown still records one
            ename = str(reply.get("ename") or "Error")[:200]
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename=ename, evalue=str(reply.get("evalue") or "")[:2000],
                traceback=["ERROR: An error occurred while showtraceback was disabled"]))
        if type(reply.get("execution_count")) is int:
            cell.execution_count = reply["execution_count"]
        if reply.get("exited"):
            self.worker.stop()
            self.restart(i, "the notebook called exit(), which ends the kernel")
            return "exited"
        return "ok" if reply.get("status") == "ok" else "error"

    def close(self):
        self.worker.stop()
        shutil.rmtree(self.box, ignore_errors=True)
        shutil.rmtree(self.jail_root, ignore_errors=True)
        try:
            os.unlink(str(self.jail_root) + ".diag")
        except OSError:
            pass


def run_notebook(nb, template, job, uid, nb_result, events, name):
    from nbgrader.utils import determine_grade
    plans = job["plans"].get(name, {})
    modules = CourseModules(job["course_root"])
    kinds = [c.metadata.get("autograde", {}).get("kind") for c in nb.cells]
    verdicts = {}
    # What a check may ask about the submission: whose it is, and a digest of its answers
    # (course checks draw each submission's hidden inputs from them; see secret.py).
    context = {"student": job["student_id"], "answers": course_secret.answers_digest(nb.cells)}
    run = Run(nb, job, uid, events)
    try:
        run.start()
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("autograde", {}).get("grade_id")
            if run.dead:
                verdicts[i] = ("not run", "the notebook's process could not be restarted")
                continue
            if run.remaining() <= 0:
                verdicts[i] = ("not run", "not run: the submission's time "
                               f"({run.limits.submission_timeout:g} s) was used up")
                continue
            if kinds[i] == "test" and grade_id in plans:
                sources = [nb.cells[j].source for j in run.ok_cells]
                done = run_plan(plans[grade_id], modules, run.worker, sources, context, run.budget())
                cell.outputs = [nbformat.from_dict(o) for o in done.outputs]
                if done.status == "grader-error":
                    events.append(f"grading error in {grade_id}: {done.problem}")
                if done.status == "lost":
                    run.restart(i, f"the process stopped while {grade_id} ran ({done.lost.reason})")
                verdicts[i] = ("ok", "")
                continue
            status = run.run_code(i)
            if status == "ok" and kinds[i] != "test":
                run.ok_cells.append(i)
            verdicts[i] = ("ok", "") if status in ("ok", "error", "exited") else (status, "")
    except Exception as exc:        # noqa: BLE001 - a grader failure must not stop the batch
        events.append(f"grading error: {type(exc).__name__}: {exc}")
        nb_result["error"] = nb_result["error"] or f"the grader failed on this notebook: {exc}"
    finally:
        run.close()
    by_id = {t.grade_id: t for t in template.cells}
    for i, cell in enumerate(nb.cells):
        kind = kinds[i]
        if kind not in rp.GRADED:
            continue
        t = by_id[cell.metadata["autograde"]["grade_id"]]
        if kind == "task":
            nb_result["cells"].append(_cell_record(t, None, "needs manual grading", ""))
            continue
        if kind == "manual":
            unchanged = rp.normalize(cell.source) == rp.normalize(t.release_source)
            nb_result["cells"].append(_cell_record(
                t, 0.0 if unchanged else None, "unanswered" if unchanged else "needs manual grading", ""))
            continue
        status, message = verdicts.get(i, ("not run", "not run"))
        outputs = cell.get("outputs", [])
        stdout = "".join(o.get("text", "") for o in outputs
                         if o.get("output_type") == "stream" and o.get("name") == "stdout")[-2000:]
        if status != "ok":
            nb_result["cells"].append(_cell_record(t, 0.0, "failed", message or status, stdout))
            continue
        score = float(determine_grade(cell)[0] or 0.0)
        errors = [o for o in outputs if o.get("output_type") == "error"]
        message = f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else \
            ("wrote to stderr" if score < t.points else "")
        if errors and errors[0].get("ename") == "CheckFailed":
            message = errors[0].get("evalue", "")
        nb_result["cells"].append(_cell_record(t, score, "passed" if score == t.points else
                                               ("partial" if score else "failed"), message, stdout))
    nb_result["executed"] = json.loads(nbformat.writes(nb))


# -- the class, in the parent ---------------------------------------------------------------------
def job_hash(sub, templates_hash, limits):
    h = hashlib.sha256(f"{PIPELINE_VERSION}|{templates_hash}|{sorted(asdict(limits).items())}".encode())
    for name in sorted(sub.files):
        h.update(name.encode() + b"\0" + Path(sub.files[name]).read_bytes())
    return h.hexdigest()


def score_of(result):
    total = 0.0
    for nb in result["notebooks"].values():
        total += sum(c["score"] or 0.0 for c in nb["cells"])
    return total


def probe_isolation(sandbox_root, wanted="auto"):
    """The jail this machine allows (probed once, in the parent)."""
    return Isolation(mode=jail.probe(str(sandbox_root), wanted), read_only=jail.default_read_only())


def grade_class(subs, work, assignment, out, course_root, limits=None, workers=None,
                isolation="auto", progress=None, log=print, executor=None,
                start_method="fork-server"):
    """Grade all submissions; returns {student_id: result}. Results are cached in out/results.

    ``isolation`` is "auto" (the strongest this machine allows), a mode name to ask for a
    weaker one, or an Isolation already probed. ``executor`` (``cluster.DaskExecutor``) grades
    on a Dask cluster instead of the local process pool; this process still writes everything.
    ``start_method`` is how each sandbox process starts (``session.Worker``)."""
    limits = limits or Limits()
    out = Path(out)
    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    templates = load_templates(work, assignment)
    plans = trusted_plans(templates, course_root)
    templates_hash = _tree_hash(Path(work) / "source" / assignment) + course_digest(course_root)
    data_files = {p.relative_to(Path(work) / "release" / assignment).as_posix(): str(p)
                  for p in (Path(work) / "release" / assignment).rglob("*")
                  if p.is_file() and p.suffix != ".ipynb"}
    sandbox_root = Path(tempfile.mkdtemp(prefix="autograde-"))
    os.chmod(sandbox_root, 0o711)
    if not isinstance(isolation, Isolation):
        isolation = probe_isolation(sandbox_root, isolation)
        log(f"isolation: {isolation.describe()}")
    results, jobs = {}, []
    for sub in subs:
        h = job_hash(sub, templates_hash, limits)
        cached = results_dir / f"{sub.student_id}.json"
        if cached.exists():
            try:
                old = json.loads(cached.read_text())
                if old.get("hash") == h:
                    results[sub.student_id] = old
                    continue
            except ValueError:
                pass
        jobs.append({"student_id": sub.student_id, "first_name": sub.first_name,
                     "last_name": sub.last_name, "files": {k: str(v) for k, v in sub.files.items()},
                     "notes": [], "found": list(sub.notes), "hash": h, "templates": templates, "plans": plans,
                     "course_root": str(Path(course_root).resolve()), "limits": limits,
                     "isolation": isolation, "data_files": data_files,
                     "sandbox_root": str(sandbox_root), "start_method": start_method})
    if len(results):
        log(f"{len(results)} submission(s) already graded with these inputs; reusing their results")
    bar = progress(total=len(jobs)) if progress else None
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    pool = None
    writer = None
    try:
        # The workers start grading first; opening the gradebook (nbgrader's imports) overlaps them.
        if executor is not None:
            # Remote workers probe their own jail and make their own scratch folders.
            for job in jobs:
                job["sandbox_root"] = None
            outcomes = executor.grade(jobs, log)
        elif workers == 1:
            outcomes = ((job, _call(grade_submission, job)) for job in jobs)
        else:
            pool = cf.ProcessPoolExecutor(max_workers=workers)
            outcomes = _pool_outcomes(pool, jobs)
        writer = GradebookWriter(work, assignment)
        for sid, res in results.items():
            writer.write(res)
        for job, res in outcomes:
            _finish(job, res, results, results_dir, writer, bar, log)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if writer is not None:
            writer.close()
        if bar:
            bar.close()
        shutil.rmtree(sandbox_root, ignore_errors=True)
    return results


def _pool_outcomes(pool, jobs):
    """Submit every job now; yield (job, result) as they finish."""
    futures = {pool.submit(grade_submission, job): job for job in jobs}

    def finished():
        for fut in cf.as_completed(futures):
            job = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:    # noqa: BLE001 - a dead worker: record, go on
                res = _failed_result(job, exc)
            yield job, res
    return finished()


def _call(fn, job):
    try:
        return fn(job)
    except Exception as exc:        # noqa: BLE001
        return _failed_result(job, exc)


def _failed_result(job, exc):
    """The result of a submission the grading machinery lost (its worker died, say): no score
    at all, so nothing mistakes it for a zero; an empty hash, so the next run grades it again."""
    why = f"{type(exc).__name__}: {exc}"
    return {"student_id": job["student_id"], "first_name": job.get("first_name", ""),
            "last_name": job.get("last_name", ""), "hash": "", "notes": list(job["notes"]),
            "found": list(job.get("found", [])),
            "infra_error": f"infrastructure error, not graded (run the same command again to "
                           f"grade it): {why}",
            "notebooks": {name: {"cells": [_cell_record(t, None, "not graded", "infrastructure error")
                                           for t in tpl.cells if t.kind in rp.GRADED],
                                 "error": "", "executed": None}
                          for name, tpl in job["templates"].items()},
            "events": [f"worker failure: {why}"]}


def _finish(job, res, results, results_dir, writer, bar, log):
    results[res["student_id"]] = res
    tmp = results_dir / f".{res['student_id']}.json.tmp"
    tmp.write_text(json.dumps(res))
    os.replace(tmp, results_dir / f"{res['student_id']}.json")
    writer.write(res)
    if bar:
        bar.update(1)
    log(summary_line(res))


def summary_line(res):
    max_points = sum(c["points"] for nb in res["notebooks"].values() for c in nb["cells"])
    if res.get("infra_error"):
        return f"{res['student_id']}: {res['infra_error']}"
    parts = [f"{res['student_id']}: {score_of(res):g}/{max_points:g}"]
    errors = [f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"]]
    parts += errors
    if res.get("found"):
        parts.append("files: " + "; ".join(res["found"]))
    if res["notes"]:
        parts.append("repaired: " + "; ".join(res["notes"]))
    if res["events"]:
        parts.append("events: " + "; ".join(res["events"]))
    if res.get("seconds") is not None:
        parts.append(f"({res['seconds']} s)")
    return " | ".join(parts)


class GradebookWriter:
    """The only writer of the gradebook: one session, one commit per submission."""

    def __init__(self, work, assignment):
        import warnings
        from nbgrader.api import Gradebook
        warnings.filterwarnings("ignore", message=".*not in session.*")
        self.work, self.assignment = Path(work), assignment
        self.gb = Gradebook(f"sqlite:///{self.work / 'gradebook.db'}")

    def write(self, res):
        gb, sid = self.gb, res["student_id"]
        if res.get("infra_error"):
            return      # not graded: a zero in the gradebook would read as the student's mark
        gb.update_or_create_student(sid, first_name=res.get("first_name") or None,
                                    last_name=res.get("last_name") or None)
        gb.update_or_create_submission(self.assignment, sid)
        grades = self._grades(sid)
        for name, nb in res["notebooks"].items():
            for cell in nb["cells"]:
                grade = grades.get((name, cell["grade_id"]))
                if grade is None:
                    continue
                grade.auto_score = cell["score"]
                grade.needs_manual_grade = cell["score"] is None
            if nb.get("executed"):
                target = self.work / "autograded" / sid / self.assignment / f"{name}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(nb["executed"]))
        gb.db.commit()

    def _grades(self, sid):
        """{(notebook, grade id): Grade} of the student's submission, in one query (nbgrader's
        ``find_grade`` makes one per cell, which made the parent's writes the slow part)."""
        from nbgrader.api import (Assignment, BaseCell, Grade, Notebook, Student,
                                  SubmittedAssignment, SubmittedNotebook)
        rows = self.gb.db.query(Grade, Notebook.name, BaseCell.name) \
            .join(BaseCell, BaseCell.id == Grade.cell_id) \
            .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id) \
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id) \
            .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id) \
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id) \
            .join(Student, Student.id == SubmittedAssignment.student_id) \
            .filter(Assignment.name == self.assignment, Student.id == sid).all()
        return {(notebook, cell): grade for grade, notebook, cell in rows}

    def close(self):
        self.gb.close()
