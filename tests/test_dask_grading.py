"""Grading on a Dask cluster (``--dask-cluster N`` / ``--scheduler``) gives what the local pool
gives, and a worker lost mid-submission costs that submission one retry, then an
infrastructure error that no report shows as a score.

A few cases of the demo course's battery (a correct and an untouched notebook, one that kills
its own kernel, one that tries to read the gradebook and another student's notebook) are graded once by the local pool and once by a LocalCluster of two worker
processes, on one private copy of the course.
"""
import csv
import os
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("distributed")

from graders.pipeline import discover, grade, report  # noqa: E402
from graders.pipeline.cluster import DaskExecutor  # noqa: E402
from graders.pipeline.demo_course import CORRECT, make_course, student_notebook  # noqa: E402
from graders.pipeline.limits import Limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "submissions"))
from battery import cases  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")

CASES = ("lovelace", "babbage", "killer", "snoop")
LIMITS = Limits(cell_timeout=6)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("dask")
    # one nbgrader run: the grader's private copy has the released notebook students start from
    root = make_course(base / "course", generate=False)
    work = grade.prepare_course(root, "ps1", base / "work")
    return {"base": base, "root": root, "work": work, "templates": grade.load_templates(work, "ps1")}


@pytest.fixture(scope="module")
def executor():
    ex = DaskExecutor(n_workers=2)
    yield ex
    ex.close()


def _subs(course, folder):
    subs, problems = discover.discover(folder, list(course["templates"]), "ps1", [],
                                       resemblance=grade.resemblance(course["templates"]))
    assert not problems, problems
    return subs


def _grade(course, subs, out, executor=None, log=None):
    return grade.grade_class(subs, course["work"], "ps1", out, course["root"], LIMITS, workers=2,
                             log=log or (lambda line: None), executor=executor)


def _scores(results):
    return {sid: (grade.score_of(res), [(c["grade_id"], c["score"], c["status"])
                                        for nb in res["notebooks"].values() for c in nb["cells"]])
            for sid, res in results.items()}


def test_a_local_cluster_grades_the_battery_as_the_local_pool_does(course, executor):
    base, lms = course["base"], course["base"] / "lms"
    ctx = {"source_notebook": str(course["root"] / "source" / "ps1" / "problems.ipynb"),
           "gradebook": str(course["work"] / "gradebook.db"),
           "other_submission": str(lms / "lovelace_1001_555_problems.ipynb"),
           "results_dir": str(base / "out-dask" / "results"), "port": 9}
    expected = {}
    for name, nb, total, _ in cases(course["work"], ctx):
        if name.split("_")[0] in CASES:
            (lms / name).parent.mkdir(parents=True, exist_ok=True)
            (lms / name).write_text(nb if isinstance(nb, str) else nbformat.writes(nb))
            expected[name.split("_")[1]] = total
    subs = _subs(course, lms)
    local = _grade(course, subs, base / "out-local")
    lines = []
    on_dask = _grade(course, subs, base / "out-dask", executor, log=lines.append)
    assert {sid: grade.score_of(r) for sid, r in on_dask.items()} == expected, lines
    assert _scores(on_dask) == _scores(local)
    # a re-run reuses the cache, as on one machine
    lines = []
    _grade(course, subs, base / "out-dask", executor, log=lines.append)
    assert any(f"{len(subs)} submission(s) already graded" in line for line in lines), lines


def _kill_while_grading(executor, kills):
    """Kill the worker process grading a student, once per attempt, ``kills[student]`` times."""
    seen = {sid: set() for sid in kills}

    def watch():
        deadline = time.monotonic() + 40
        while any(len(seen[s]) < kills[s] for s in kills) and time.monotonic() < deadline:
            for addr, keys in executor.client.processing().items():
                for key in map(str, keys):
                    sid = key.split("-")[1]
                    if sid in kills and len(seen[sid]) < kills[sid] and key not in seen[sid]:
                        seen[sid].add(key)
                        time.sleep(1.0)     # inside the submission's sleep, after it began
                        os.kill(executor.client.run(os.getpid, workers=[addr])[addr], signal.SIGKILL)
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, seen


def test_a_worker_killed_mid_submission_is_retried_once_then_an_infrastructure_error(course, executor,
                                                                                    tmp_path):
    lms = tmp_path / "lms"
    lms.mkdir()
    slow = dict(CORRECT, q1_answer=CORRECT["q1_answer"] + "\nimport time\ntime.sleep(3)")
    for name in ("once_4001", "twice_4002"):
        nbformat.write(student_notebook(course["work"], slow), lms / f"{name}_1_problems.ipynb")
    nbformat.write(student_notebook(course["work"], CORRECT), lms / "fine_5001_1_problems.ipynb")
    subs = _subs(course, lms)
    thread, seen = _kill_while_grading(executor, {"4001": 1, "4002": 2})
    lines = []
    results = _grade(course, subs, tmp_path / "out", executor, log=lines.append)
    thread.join()
    assert {sid: len(keys) for sid, keys in seen.items()} == {"4001": 1, "4002": 2}, lines
    assert grade.score_of(results["5001"]) == 6
    assert sum("grading it again" in line for line in lines) >= 2, lines
    # lost once: graded on the retry, like any other submission
    assert grade.score_of(results["4001"]) == 6 and not results["4001"].get("infra_error"), lines
    # lost twice: no score at all, and the reports say why
    lost = results["4002"]
    assert "infrastructure error" in lost["infra_error"]
    assert all(c["score"] is None for nb in lost["notebooks"].values() for c in nb["cells"])
    report.write_reports(results, "ps1", tmp_path)
    row = next(r for r in csv.DictReader(open(tmp_path / "grades.csv")) if r["student_id"] == "4002")
    assert row["score"] == "" and row["q1"] == "" and "infrastructure error" in row["problems"]
    # the next run grades it again instead of reusing the lost result
    lines = []
    again = _grade(course, subs, tmp_path / "out", executor, log=lines.append)
    assert grade.score_of(again["4002"]) == 6, lines


def test_without_dask_the_cluster_options_say_what_to_install(tmp_path):
    import subprocess
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from graders.pipeline.cluster import DaskExecutor\nDaskExecutor(n_workers=1)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        'grading on a Dask cluster needs dask.distributed, which is not installed: '
        'pip install "autograd-lite-course[grader]"  (or: pip install "dask[distributed]")']


class _InProcess:
    """The executor protocol run here, so that a test can decide what the 'worker' probes."""

    def __init__(self, require_isolation=False):
        self.require_isolation = require_isolation

    def grade(self, jobs, log):
        for job in jobs:
            try:
                yield job, grade.grade_submission({**job, "require_isolation": self.require_isolation})
            except RuntimeError as exc:
                yield job, grade._failed_result(job, exc)


@pytest.mark.parametrize("required", [False, True])
def test_a_worker_with_a_weaker_jail_says_so_or_refuses_when_isolation_is_required(course, tmp_path,
                                                                                monkeypatch, required):
    lms = tmp_path / "lms"
    lms.mkdir()
    nbformat.write(student_notebook(course["work"], CORRECT), lms / "weak_6001_1_problems.ipynb")
    monkeypatch.setattr(grade, "_SANDBOX", {})
    monkeypatch.setattr(grade, "probe_isolation", lambda root, wanted="auto": grade.Isolation(mode="none"))
    res = grade.grade_class(_subs(course, lms), course["work"], "ps1", tmp_path / "out", course["root"],
                            LIMITS, isolation=grade.Isolation(mode="userns"), log=lambda line: None,
                            executor=_InProcess(required))["6001"]
    if required:
        assert "--require-isolation" in res["infra_error"] and grade.score_of(res) == 0
        assert all(c["score"] is None for nb in res["notebooks"].values() for c in nb["cells"])
    else:
        assert grade.score_of(res) == 6
        assert any("weaker isolation this worker allows (none" in e for e in res["events"]), res["events"]
