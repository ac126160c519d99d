"""The grader's end of a sandbox: start the agent, send it requests, read its replies as untrusted.

``Worker`` owns one jailed agent process (``agent``) for one submission. Every reply is read
with a deadline and a size limit and must be a JSON object; anything else, an early end of
the pipe, or a missed deadline means the process is gone (``WorkerLost``), and it is killed
with everything it started.
"""
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from multiprocessing.connection import Connection

from .agent import HEADER, forked_main
from . import jail

MAX_REPLY = 96 * 1024 * 1024
MPL_INLINE = "module://matplotlib_inline.backend_inline"


class WorkerLost(Exception):
    """The sandboxed process ended, stopped answering, or answered nonsense."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def agent_environment(scratch):
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    keep["PATH"] = str(Path(sys.executable).parent) + os.pathsep + keep.get("PATH", "/usr/bin:/bin")
    keep.update(HOME=scratch, IPYTHONDIR=os.path.join(scratch, ".ipython"),
                MPLCONFIGDIR=os.path.join(scratch, ".mpl"), MPLBACKEND=MPL_INLINE,
                OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                PYDEVD_DISABLE_FILE_VALIDATION="1", TMPDIR="/tmp")
    return keep


# The agent starts in isolated mode (-I): neither the working folder nor PYTHONPATH can put a
# module ahead of ours before the jail is entered. It imports the project's packages from the
# folders the grader itself runs them from, which are the folders the jail exposes.
_BOOT = ("import sys; sys.path[:0] = {paths!r}; sys.dont_write_bytecode = True; "
         "from graders.pipeline.agent import main; main(sys.argv[1:])")


START_METHODS = ("fork-server", "exec")


def _fork_server():
    """multiprocessing's fork server, loaded with ``preload`` (started on first use, once per
    grading process)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["graders.pipeline.preload"])
    return context


def _forget_inherited_fork_server():
    """In a process forked from one that had started the fork server (a pool worker forked
    from a grader that graded in-process before), that server is the parent's: multiprocessing
    checks on it with ``waitpid``, which only its parent may call, and fails. The child starts
    a fork server of its own instead."""
    from multiprocessing import forkserver
    server = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_forkserver_pid", None) is None:
        return
    if server._forkserver_alive_fd is not None:
        try:
            os.close(server._forkserver_alive_fd)
        except OSError:
            pass
    server._forkserver_pid = server._forkserver_address = server._forkserver_alive_fd = None


os.register_at_fork(after_in_child=_forget_inherited_fork_server)


class _ForkedAgent:
    """A fork-server child seen through the part of ``subprocess.Popen`` that Worker uses."""

    def __init__(self, process):
        self.process, self.pid = process, process.pid

    def poll(self):
        return None if self.process.is_alive() else self.process.exitcode

    def wait(self, timeout=None):
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired("sandbox agent", timeout)
        return self.process.exitcode


class Worker:
    """``start_method`` is "fork-server" (a fork of a process that has done the imports every
    student needs, see ``preload``) or "exec" (a new interpreter that does them itself). A
    daemonic process, which multiprocessing allows no children, always uses "exec"."""

    def __init__(self, spec, diag_path, start_method="fork-server"):
        if start_method not in START_METHODS:
            raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
        self.spec, self.diag_path, self.start_method = spec, diag_path, start_method
        self.proc = None
        self.to_agent = self.from_agent = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout):
        self.stop()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = agent_environment(self.spec.workdir())
        # multiprocessing lets no daemonic process (a Dask worker, say) start children
        if self.start_method == "fork-server" and not multiprocessing.current_process().daemon:
            request, reply = Connection(req_r, writable=False), Connection(rep_w, readable=False)
            process = _fork_server().Process(
                target=forked_main, args=(self.spec.to_json(), request, reply, env, self.diag_path),
                daemon=True, name="sandbox-agent")
            process.start()
            request.close()
            reply.close()
            self.proc = _ForkedAgent(process)
        else:
            extra = sorted({os.path.dirname(d) for d in jail.package_dirs().values()})
            cmd = [sys.executable, "-I", "-c", _BOOT.format(paths=extra), self.spec.to_json(),
                   str(req_r), str(rep_w)]
            with open(self.diag_path, "ab") as diag:
                self.proc = subprocess.Popen(cmd, pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=diag, env=env,
                                             cwd=self.spec.scratch, start_new_session=True)
            os.close(req_r)
            os.close(rep_w)
        self.to_agent, self.from_agent = req_w, rep_r
        os.set_blocking(self.to_agent, False)
        reply = self._receive(time.monotonic() + timeout, "starting")
        if reply.get("status") != "ready":
            raise WorkerLost("protocol", "the sandbox did not say it was ready")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        for kill in (os.killpg, os.kill):      # its session, and itself if it has none yet
            try:
                kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.to_agent, self.from_agent):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.proc = self.to_agent = self.from_agent = None
        if self.spec.mode == "root":
            kill_uid_processes(self.spec.uid)

    # -- requests ------------------------------------------------------------------------------
    def request(self, message, timeout):
        """Send one request and return its reply (a dict), or raise WorkerLost."""
        if not self.alive():
            raise WorkerLost("crashed", self.diagnostics())
        deadline = time.monotonic() + max(0.0, timeout)
        data = json.dumps(message, allow_nan=False).encode()
        self._send(HEADER.pack(len(data)) + data, deadline)
        return self._receive(deadline, "answering")

    def _send(self, data, deadline):
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise WorkerLost("timeout")
            _, ready, _ = select.select([], [self.to_agent], [], min(left, 1.0))
            if ready:
                try:
                    view = view[os.write(self.to_agent, view):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    self.stop()
                    raise WorkerLost("crashed", self.diagnostics()) from None

    def _read(self, n, deadline):
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self.stop()
                raise WorkerLost("timeout")
            ready, _, _ = select.select([self.from_agent], [], [], min(wait, 1.0))
            if not ready:
                continue
            chunk = os.read(self.from_agent, min(left, 1 << 20))
            if not chunk:
                exit_note = self._exit_note()
                self.stop()
                raise WorkerLost("crashed", exit_note)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _receive(self, deadline, doing):
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        if size > MAX_REPLY:
            self.stop()
            raise WorkerLost("protocol", f"a reply of {size} bytes")
        body = self._read(size, deadline)
        try:
            reply = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.stop()
            raise WorkerLost("protocol", f"a reply that is not JSON while {doing}") from None
        if type(reply) is not dict:
            self.stop()
            raise WorkerLost("protocol", "a reply that is not a JSON object")
        return reply

    def _exit_note(self):
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return self.diagnostics()
        if code == jail.SETUP_FAILED:
            return "the sandbox could not start: " + self.diagnostics()
        return self.diagnostics()

    def diagnostics(self):
        """The last line the sandbox wrote about itself, if any (its own messages only)."""
        try:
            text = Path(self.diag_path).read_bytes()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.startswith("sandbox: ")]
        return lines[-1][len("sandbox: "):] if lines else ""


def kill_uid_processes(uid):
    """Kill every process of the slot uid: nothing a student started outlives the submission."""
    if uid is None or uid < 0 or os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:   # noqa: BLE001
            pass
        os._exit(0)
    os.waitpid(pid, 0)
