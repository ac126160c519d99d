"""The sandbox's walls, in every mode the machine allows, and what the grader says when it has none.

- The jail itself (``graders.pipeline.jail`` through a real agent session): the student's
  process sees its scratch folder and the Python environment, not a file the grader can read
  elsewhere; it has no network; nothing it starts outlives it.
- The whole pipeline run by an unprivileged user (``setpriv`` to ``nobody``), which can only
  use user namespaces: it grades, and says what is lost.
- ``--isolation none`` (what a machine without root or user namespaces gets): the log, the
  summary line and the exit message say exactly what is lost; ``--require-isolation`` refuses.
"""
import csv
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from graders.pipeline import jail
from graders.pipeline.demo_course import CORRECT, make_course, student_notebook
from graders.pipeline.session import START_METHODS, Worker, WorkerLost, agent_environment

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def _modes():
    probe_dir = tempfile.mkdtemp(prefix="probe-")
    try:
        best = jail.probe(probe_dir)
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    order = ["root", "userns", "none"]
    return order[order.index(best):]


MODES = _modes()


@pytest.fixture()
def box(tmp_path):
    base = Path(tempfile.mkdtemp(prefix="jail-test-"))
    os.chmod(base, 0o711)
    (base / "root").mkdir()
    (base / "scratch").mkdir()
    secret = tmp_path / "grader-only.txt"
    secret.write_text("not for students")
    yield base, secret
    shutil.rmtree(base, ignore_errors=True)


def _worker(base, mode, start_method="fork-server"):
    if mode == "root":          # the slot uid owns the scratch folder, as in grade._make_box
        os.chown(base / "scratch", 61999, 61999)
    spec = jail.Spec(mode=mode, root_dir=str(base / "root"), scratch=str(base / "scratch"),
                     uid=61999 if mode == "root" else -1, read_only=jail.default_read_only())
    worker = Worker(spec, str(base / "diag"), start_method)
    worker.start(60)
    return worker


def _run(worker, code):
    reply = worker.request({"op": "run", "code": code}, 30)
    return "".join(o.get("text", "") for o in reply["outputs"] if o["output_type"] == "stream")


@pytest.mark.parametrize("mode", [m for m in MODES if m != "none"])
def test_the_jail_shows_only_the_scratch_folder_and_python(box, mode):
    base, secret = box
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    worker = _worker(base, mode)
    try:
        out = _run(worker, f"""
import os, socket, sys
print("cwd", os.getcwd())
for path in [{str(secret)!r}, {str(ROOT / 'course')!r}, {str(base)!r}, "/etc/shadow"]:
    print(path, os.path.exists(path))
try:
    socket.create_connection(("127.0.0.1", {listener.getsockname()[1]}), timeout=2)
    print("network yes")
except OSError:
    print("network no")
open("made-here.txt", "w").write("ok")
print("python", sys.executable, os.path.exists(sys.executable))
import numpy, autograd_lite
print("uid", os.getuid())
""")
    finally:
        worker.stop()
        listener.close()
    assert "cwd /home/student" in out
    assert f"{secret} False" in out and f"{ROOT / 'course'} False" in out
    assert f"{base} False" in out and "/etc/shadow False" in out
    assert "network no" in out and "python" in out and " True" in out.split("python", 1)[1]
    assert (base / "scratch" / "made-here.txt").read_text() == "ok"
    assert f"uid {61999 if mode == 'root' else jail.INNER_UID}" in out


@pytest.mark.parametrize("mode", [m for m in MODES if m != "none"])
def test_nothing_a_submission_starts_outlives_it(box, mode):
    base, _ = box
    marker = f"outlive-{mode}-{os.getpid()}"
    worker = _worker(base, mode)
    try:
        _run(worker, f"import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 300; :', '{marker}'], "
                     "start_new_session=True)")
        assert _alive(marker)
    finally:
        worker.stop()
    deadline = time.monotonic() + 5
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(marker)


def _alive(marker):
    for pid in os.listdir("/proc"):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


@pytest.mark.parametrize("start_method", START_METHODS)
def test_every_sandbox_starts_clean_and_alike_whatever_the_start_method(box, monkeypatch,
                                                                         start_method):
    """The fork server shares imports, never state: what one student's process changed, or
    what the grader's own environment holds, is not there for the next one."""
    base, _ = box
    monkeypatch.setenv("GRADER_ONLY_SETTING", "not for students")
    first = _worker(base, MODES[0], start_method)
    _run(first, "import numpy, os, matplotlib\nnumpy.left_behind = 1\n"
                "os.environ['LEFT_BEHIND'] = '1'\nmatplotlib.rcParams['lines.linewidth'] = 9\n"
                "import matplotlib.pyplot as plt\nplt.figure(); plt.figure()")
    first.stop()
    second = _worker(base, MODES[0], start_method)
    try:
        out = _run(second, """
import numpy, os, sys, matplotlib
print(hasattr(numpy, "left_behind"), matplotlib.rcParams["lines.linewidth"])
print(sorted(os.environ))
print(matplotlib.get_backend())
print(os.getcwd(), "" in sys.path)
import matplotlib.pyplot as plt
print(plt.get_fignums(), plt.figure().number)
""").splitlines()
    finally:
        second.stop()
    assert out[0] == "False 1.5"
    assert out[1] == str(sorted(agent_environment(second.spec.workdir())))
    assert out[2] == "module://matplotlib_inline.backend_inline"
    assert out[3] == f"{second.spec.workdir()} False"
    # the fork server's warm-up drawing left no figure open and took no figure number
    assert out[4] == "[] 1"


def _start_in_a_fork(base, result):
    try:
        worker = _worker(base, MODES[0])
        result.put(_run(worker, "print(6 * 7)"))
        worker.stop()
    except Exception as exc:       # noqa: BLE001
        result.put(repr(exc))


def test_a_fork_of_a_process_that_used_the_fork_server_starts_sandboxes_too(box):
    """A pool worker forked from a grader that already graded in-process (as a test run or a
    notebook session does) cannot use its parent's fork server, and starts its own."""
    import multiprocessing
    base, _ = box
    here = _worker(base, MODES[0])
    assert _run(here, "print(6 * 7)") == "42\n"
    here.stop()
    fork = multiprocessing.get_context("fork")
    result = fork.Queue()
    child = fork.Process(target=_start_in_a_fork, args=(base, result))
    child.start()
    child.join(120)
    assert result.get(timeout=5) == "42\n"


def test_a_crash_and_a_timeout_are_reported_as_such(box):
    base, _ = box
    worker = _worker(base, MODES[0])
    with pytest.raises(WorkerLost) as lost:
        worker.request({"op": "run", "code": "import os; os._exit(3)"}, 10)
    assert lost.value.reason == "crashed"
    worker.start(60)
    with pytest.raises(WorkerLost) as lost:
        worker.request({"op": "run", "code": "while True: pass"}, 1.5)
    assert lost.value.reason == "timeout"
    worker.stop()


# -- the pipeline without root ---------------------------------------------------------------------
def _class(base):
    course = make_course(base / "course")
    lms = base / "lms"
    lms.mkdir()
    nbformat.write(student_notebook(course, CORRECT), str(lms / "lovelace_1001_555_problems.ipynb"))
    nbformat.write(student_notebook(course, {"q1_answer": "def square(x):\n    return 9"}),
                   str(lms / "hardcoder_1004_557_problems.ipynb"))
    return course, lms


def _as_nobody_command(args, home):
    """Run args as nobody, with every folder on the way to Python traversable (a machine where
    an unprivileged instructor owns their Python would be like that already)."""
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, str(ROOT))}
    blocked = {}
    for path in needed:
        parts = Path(path).parts
        for i in range(2, len(parts) + 1):
            ancestor = str(Path(*parts[:i]))
            if not os.stat(ancestor).st_mode & stat.S_IXOTH:
                blocked.setdefault(ancestor, set()).add(str(Path(*parts[:i + 1])))
                break
    script = []
    for n, (ancestor, children) in enumerate(sorted(blocked.items())):
        for k, child in enumerate(sorted(children)):
            stage = f"{home}/.stage-{n}-{k}"
            script += [f"mkdir -p {stage}", f"mount --bind {child} {stage}"]
        script.append(f"mount -t tmpfs -o mode=755 tmpfs {ancestor}")
        for k, child in enumerate(sorted(children)):
            script += [f"mkdir -p {child}", f"mount --bind {home}/.stage-{n}-{k} {child}"]
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
    script.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups {quoted}")
    return ["unshare", "-m", "sh", "-c", " && ".join(script)]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"),
                    reason="switching to an unprivileged user needs root, setpriv and unshare")
@pytest.mark.skipif("userns" not in MODES, reason="this kernel allows no user namespaces")
def test_an_unprivileged_grader_uses_user_namespaces_and_says_what_is_lost():
    base = Path(tempfile.mkdtemp(prefix="nobody-grader-"))
    try:
        os.chmod(base, 0o755)
        course, lms = _class(base)
        os.chown(base, NOBODY, NOBODY)
        for dirpath, dirnames, filenames in os.walk(base):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), NOBODY, NOBODY)
        out = base / "out"
        env = dict(os.environ, HOME=str(base), PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
        cmd = _as_nobody_command([sys.executable, "-m", "graders.pipeline", str(course), "ps1",
                                  str(lms), "-o", str(out), "--no-progress"], str(base))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=base)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "isolation: user namespaces (the grader is not root)" in proc.stdout
        assert "lost: a uid of its own" in proc.stdout
        assert "graded with reduced isolation" in proc.stdout.splitlines()[-1]
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(out / "grades.csv"))}
        assert rows == {"1001": 6.0, "1004": 1.0}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_without_isolation_the_grader_says_what_is_lost_and_can_refuse(tmp_path):
    course, lms = _class(tmp_path)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    base = [sys.executable, "-m", "graders.pipeline", str(course), "ps1", str(lms), "--no-progress",
            "--isolation", "none"]
    refused = subprocess.run(base + ["-o", str(tmp_path / "refused"), "--require-isolation"],
                             capture_output=True, text=True, timeout=600, env=env)
    assert refused.returncode == 3
    assert "refusing to grade" in refused.stderr and "NONE" in refused.stdout
    assert not (tmp_path / "refused" / "grades.csv").exists()
    graded = subprocess.run(base + ["-o", str(tmp_path / "out")], capture_output=True, text=True,
                            timeout=600, env=env)
    assert graded.returncode == 0, graded.stderr[-2000:]
    for lost in jail.LOST["none"]:
        assert lost in graded.stdout
    assert "graded with reduced isolation" in graded.stdout.splitlines()[-1]
    log = (tmp_path / "out" / "grading.log").read_text()
    assert "file-system allowlist" in log
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert rows == {"1001": 6.0, "1004": 1.0}
