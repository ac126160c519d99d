"""Grade a class: repair and run every submission in parallel, write results through one writer.

Workers (a process pool sized to the cores) each take one submission at a time: read and
repair the notebook, run it in a sandboxed kernel (``sandbox``), judge the test cells and
return plain data. Only the parent writes: the results cache (one JSON per student, keyed by
a hash of the submitted bytes, the assignment and the limits, so a re-run or a resumed run
skips what is already graded), nbgrader's gradebook (one open session, so no SQLite lock
errors) and the autograded notebooks (so formgrader and ``nbgrader export`` keep working).
"""
import concurrent.futures as cf
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import nbformat

from . import repair as rp
from .sandbox import KernelSession, Limits, make_sandbox, probe_isolation, remove_sandbox

PIPELINE_VERSION = "1"
SLOT_DIR = Path(tempfile.gettempdir()) / "autograde-slots"
SLOT_COUNT = 64


# -- the working copy of the course ------------------------------------------------------------
def nbgrader_env():
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def prepare_course(course_root, assignment, work):
    """A private copy of the course (source + generated release + its own gradebook) in work/."""
    course_root, work = Path(course_root).resolve(), Path(work)
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
    text += (f"\n# added by the grading pipeline: a private root and gradebook\n"
             f"c.CourseDirectory.root = {str(work)!r}\n"
             f"c.CourseDirectory.db_url = {('sqlite:///' + str(work / 'gradebook.db'))!r}\n")
    (work / "nbgrader_config.py").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                           "--force", "--log-level=ERROR"], cwd=work, env=nbgrader_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{proc.stderr[-3000:]}")
    stamp.write_text(digest)
    return work


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


# -- one submission, in a worker -----------------------------------------------------------------
_SLOT = {"uid": None, "fh": None}


def _claim_slot():
    """A uid of our own for this worker's kernels (a lock file per slot, machine-wide)."""
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
        _SLOT.update(uid=61000 + n, fh=fh)
        return _SLOT["uid"]
    raise RuntimeError("no free sandbox slot")


def grade_submission(job):
    """Grade one student's files; returns a JSON-able result (never raises for student errors)."""
    start = time.monotonic()
    templates, limits, isolation = job["templates"], job["limits"], job["isolation"]
    result = {"student_id": job["student_id"], "first_name": job.get("first_name", ""),
              "last_name": job.get("last_name", ""), "hash": job["hash"], "notes": list(job["notes"]),
              "notebooks": {}, "events": []}
    uid = _claim_slot() if isolation.setuid else None
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
                                  for t in template.cells if t.kind in ("test", "manual")]
            continue
        result["notes"] += [f"{name}: {n}" for n in notes]
        run_notebook(graded, template, job, uid, nb_result, result["events"])
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _cell_record(t, score, status, message, output=""):
    return {"grade_id": t.grade_id, "kind": t.kind, "points": t.points, "score": score,
            "status": status, "message": message, "output": output}


def run_notebook(nb, template, job, uid, nb_result, events):
    limits, isolation = job["limits"], job["isolation"]
    files = {k: Path(v).read_bytes() for k, v in job["data_files"].items()}
    box = make_sandbox(job["sandbox_root"], uid, files, isolation)
    session = KernelSession(nb, box, limits, isolation, uid=uid,
                            snapshot_prefixes=job["snapshot_modules"])
    kinds = [c.metadata.get("autograde", {}).get("kind") for c in nb.cells]
    ok_cells, restarts = [], 0
    verdicts = {}
    try:
        session.start()
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or session.remaining() <= 0 and kinds[i] != "test":
                continue
            problem = ""
            if kinds[i] == "test" and session.client is not None:
                problem = _safe_guard(session, "before")
            if session.client is None:
                verdicts[i] = ("not run", "the kernel could not be restarted")
                continue
            run = session.run_cell(i)
            if kinds[i] == "test" and run.status == "ok" and not problem:
                problem = _safe_guard(session, "after")
            if run.status in ("crashed", "timeout") and session.remaining() > 0:
                events.append(f"cell {i} ({cell.metadata['autograde'].get('grade_id') or kinds[i]}): "
                              f"{run.message}; restarting the kernel")
                restarts += 1
                if restarts > limits.max_restarts:
                    events.append("too many kernel restarts; the remaining cells were not run")
                    session.stop()
                else:
                    _restart(session, ok_cells, events)
            elif run.status == "ok" and kinds[i] != "test":
                ok_cells.append(i)
            if run.status == "timeout" and session.remaining() <= 0:
                events.append(run.message)
            verdicts[i] = (run.status, problem or run.message)
    except Exception as exc:        # noqa: BLE001 - a grader failure must not stop the batch
        events.append(f"grading error: {type(exc).__name__}: {exc}")
        nb_result["error"] = nb_result["error"] or f"the grader failed on this notebook: {exc}"
    finally:
        session.stop()
        remove_sandbox(box)
    from nbgrader.utils import determine_grade
    by_id = {t.grade_id: t for t in template.cells}
    for i, cell in enumerate(nb.cells):
        kind = kinds[i]
        if kind not in ("test", "manual"):
            continue
        t = by_id[cell.metadata["autograde"]["grade_id"]]
        if kind == "manual":
            unchanged = rp.normalize(cell.source) == rp.normalize(t.release_source)
            nb_result["cells"].append(_cell_record(
                t, 0.0 if unchanged else None, "unanswered" if unchanged else "needs manual grading", ""))
            continue
        status, message = verdicts.get(i, ("not run", "not run (the submission's time ran out)"))
        stdout = "".join(o.get("text", "") for o in cell.get("outputs", [])
                         if o.get("output_type") == "stream" and o.get("name") == "stdout")[-2000:]
        if status == "ok" and not message:
            judged = nbformat.from_dict(json.loads(json.dumps(cell)))
            judged.outputs = [o for o in judged.outputs
                              if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            score = float(determine_grade(judged)[0] or 0.0)
            nb_result["cells"].append(_cell_record(t, score, "passed" if score == t.points else "partial",
                                                   "", stdout))
        else:
            if status == "ok":
                status = "error"
            nb_result["cells"].append(_cell_record(t, 0.0, "failed", message or status, stdout))
    nb_result["executed"] = json.loads(nbformat.writes(nb))


def _safe_guard(session, phase):
    try:
        return session.guard(phase)
    except Exception as exc:        # noqa: BLE001 - dead kernel or timeout in the guard
        return f"the grading guard could not run ({type(exc).__name__})"


def _restart(session, ok_cells, events):
    """New kernel, then re-run the student's earlier cells that had worked."""
    try:
        session.start()
        for j in ok_cells:
            run = session.run_cell(j)
            if run.status in ("crashed", "timeout"):
                events.append(f"re-running cell {j} after the restart failed ({run.status})")
                session.start()
    except Exception as exc:        # noqa: BLE001
        events.append(f"kernel restart failed: {exc}")
        session.stop()


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


def grade_class(subs, work, assignment, out, limits=None, workers=None, hidden_paths=(),
                snapshot_modules=("numpy", "graders", "autograd_lite"), progress=None, log=print):
    """Grade all submissions; returns {student_id: result}. Results are cached in out/results."""
    limits = limits or Limits()
    out = Path(out)
    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    templates = load_templates(work, assignment)
    templates_hash = _tree_hash(Path(work) / "source" / assignment)
    data_files = {p.relative_to(Path(work) / "release" / assignment).as_posix(): str(p)
                  for p in (Path(work) / "release" / assignment).rglob("*")
                  if p.is_file() and p.suffix != ".ipynb"}
    sandbox_root = Path(tempfile.mkdtemp(prefix="autograde-"))
    os.chmod(sandbox_root, 0o711)
    isolation = probe_isolation(list(hidden_paths) + [str(out), str(work)])
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
                     "notes": sub.notes, "hash": h, "templates": templates, "limits": limits,
                     "isolation": isolation, "data_files": data_files,
                     "sandbox_root": str(sandbox_root), "snapshot_modules": list(snapshot_modules)})
    if len(results):
        log(f"{len(results)} submission(s) already graded with these inputs; reusing their results")
    writer = GradebookWriter(work, assignment)
    for sid, res in results.items():
        writer.write(res)
    bar = progress(total=len(jobs)) if progress else None
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    try:
        if workers == 1:
            outcomes = (_call(grade_submission, job) for job in jobs)
            for job, res in zip(jobs, outcomes):
                _finish(job, res, results, results_dir, writer, bar, log)
        else:
            with cf.ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(grade_submission, job): job for job in jobs}
                for fut in cf.as_completed(futures):
                    job = futures[fut]
                    try:
                        res = fut.result()
                    except Exception as exc:    # noqa: BLE001 - a dead worker: record, go on
                        res = _failed_result(job, exc)
                    _finish(job, res, results, results_dir, writer, bar, log)
    finally:
        writer.close()
        if bar:
            bar.close()
        shutil.rmtree(sandbox_root, ignore_errors=True)
    return results


def _call(fn, job):
    try:
        return fn(job)
    except Exception as exc:        # noqa: BLE001
        return _failed_result(job, exc)


def _failed_result(job, exc):
    return {"student_id": job["student_id"], "first_name": job.get("first_name", ""),
            "last_name": job.get("last_name", ""), "hash": "", "notes": list(job["notes"]),
            "notebooks": {name: {"cells": [_cell_record(t, 0.0 if t.points else None, "not graded",
                                                        "grader failure")
                                           for t in tpl.cells if t.kind in ("test", "manual")],
                                 "error": f"the grader failed: {exc}", "executed": None}
                          for name, tpl in job["templates"].items()},
            "events": [f"worker failure: {type(exc).__name__}: {exc}"]}


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
    parts = [f"{res['student_id']}: {score_of(res):g}/{max_points:g}"]
    errors = [f"{n}: {nb['error']}" for n, nb in res["notebooks"].items() if nb["error"]]
    parts += errors
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
        from nbgrader.api import MissingEntry
        gb, sid = self.gb, res["student_id"]
        gb.update_or_create_student(sid, first_name=res.get("first_name") or None,
                                    last_name=res.get("last_name") or None)
        gb.update_or_create_submission(self.assignment, sid)
        for name, nb in res["notebooks"].items():
            for cell in nb["cells"]:
                try:
                    grade = gb.find_grade(cell["grade_id"], name, self.assignment, sid)
                except MissingEntry:
                    continue
                grade.auto_score = cell["score"]
                grade.needs_manual_grade = cell["score"] is None
            if nb.get("executed"):
                target = self.work / "autograded" / sid / self.assignment / f"{name}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(nb["executed"]))
        gb.db.commit()

    def close(self):
        self.gb.close()
