"""Run one submission's notebook in a Jupyter kernel that cannot hurt the grader.

The kernel is a real ipykernel started by nbclient, but launched through ``_isolate`` (run in
the child between fork and exec, as root when the grader is root):

- a new network namespace: the kernel has no network at all (it talks to us over Unix
  sockets, ZMQ's ``ipc`` transport, which live in the file system, not the network);
- a new mount namespace in which the course root, the submissions, the output folder and the
  results cache are covered by empty, unreadable tmpfs mounts: solutions, hidden tests, the
  gradebook and other students' work are not there to read or write;
- an unprivileged uid of its own (one per worker slot) that owns only the private sandbox
  folder holding this one submission;
- rlimits: address space (memory), processes (fork bombs), file size, no core files;
- stdin disabled (nbclient's default), so ``input()`` raises instead of waiting.

When the grader is not root these steps degrade (logged in ``isolation_report``): the kernel
then blocks AF_INET/AF_INET6 sockets from its prelude instead of having no network.

Tests are judged by the execute reply of the test cell (its own error state, never printed
text), and each test cell is bracketed by a *guard* (see ``PRELUDE``): before the test it
restores numpy, math, builtins, the graders and autograd_lite modules, their classes and the
IPython shell hooks to the state snapshotted before any student code ran; after the test it
reports whether any of that was changed while the test ran. The guard proves it is genuine by
returning an HMAC of a fresh nonce under a key only the prelude read (from a file it deletes),
so a student who replaces the guard with a stub gets every later test marked failed.
"""
import ast
import ctypes
import ctypes.util
import hashlib
import hmac
import inspect
import json
import os
import resource
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_BIND = 4096
MNT_DETACH = 2
SLOT_UID_BASE = 61000


@dataclass
class Limits:
    """Resource limits for one submission (all configurable from the command line)."""
    cell_timeout: float = 30.0          # seconds per cell
    submission_timeout: float = 300.0   # wall-clock seconds for the whole notebook
    memory_mb: int = 2048               # RLIMIT_AS of the kernel
    max_processes: int = 64             # RLIMIT_NPROC of the slot uid
    max_file_mb: int = 64               # RLIMIT_FSIZE
    startup_timeout: float = 60.0
    max_restarts: int = 4               # kernel restarts after crashes, per submission


@dataclass
class Isolation:
    """What this machine lets us do; probed once in the parent."""
    namespaces: bool = False
    setuid: bool = False
    hidden_paths: list = field(default_factory=list)
    # [(blocked_dir, [paths under it the kernel needs])]: a directory the slot uid cannot
    # traverse (e.g. /root holding pyenv's Python) is covered by a tmpfs in the kernel's mount
    # namespace and only the needed paths are bind-mounted back into it.
    exposures: list = field(default_factory=list)
    staging: str = ""

    def describe(self):
        parts = ["network namespace + hidden instructor paths" if self.namespaces
                 else "NO namespaces (sockets blocked in the kernel prelude instead)",
                 "unprivileged uid per worker" if self.setuid else "kernel runs as the grader's user"]
        return "; ".join(parts)


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def probe_isolation(hidden_paths=()):
    """Check, in a throwaway child, whether namespaces and uid switching work here."""
    iso = Isolation(hidden_paths=[str(Path(p).resolve()) for p in hidden_paths if p])
    if not sys.platform.startswith("linux"):
        return iso
    iso.setuid = os.geteuid() == 0
    pid = os.fork()
    if pid == 0:            # child: try, report by exit status, never return
        try:
            ok = _libc().unshare(CLONE_NEWNS | CLONE_NEWNET) == 0
            os._exit(0 if ok else 1)
        except BaseException:   # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    iso.namespaces = os.waitstatus_to_exitcode(status) == 0
    if iso.namespaces and iso.setuid:
        iso.exposures = _exposures()
    elif iso.setuid and _exposures():
        iso.setuid = False      # the unprivileged uid could not even start Python here
    return iso


def _needed_paths():
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(p for p in sys.path if p and os.path.isdir(p))
    return sorted(os.path.realpath(p) for p in paths)


def _exposures():
    """Directories on the way to Python and its packages that others cannot traverse."""
    groups = {}
    for path in _needed_paths():
        parts = Path(path).parts
        for i in range(2, len(parts) + 1):
            ancestor = str(Path(*parts[:i]))
            if not os.stat(ancestor).st_mode & 0o001:
                groups.setdefault(ancestor, set()).add(path)
                break
    result = []
    for blocked, needed in sorted(groups.items()):
        keep = sorted(p for p in needed if not any(p != q and p.startswith(q + os.sep) for q in needed))
        result.append((blocked, keep))
    return result


def _mount_tmpfs(libc, path):
    return libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                      b"size=4k,mode=000")


def make_preexec(isolation, uid, limits, owned_files):
    """The function run in the kernel's child process before exec (keep it allocation-light)."""
    hidden = list(isolation.hidden_paths)
    exposures = list(isolation.exposures)
    staging = isolation.staging
    mem = int(limits.memory_mb) * 1024 * 1024
    fsize = int(limits.max_file_mb) * 1024 * 1024
    nproc = int(limits.max_processes)

    def _isolate():
        if isolation.namespaces:
            libc = _libc()
            if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
                os._exit(71)
            libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
            for n, (blocked, needed) in enumerate(exposures):
                stages = []
                for k, path in enumerate(needed):
                    stage = os.path.join(staging, f"{n}-{k}")
                    libc.mount(path.encode(), stage.encode(), None, MS_BIND | MS_REC, None)
                    stages.append((stage, path))
                libc.mount(b"tmpfs", blocked.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                           b"size=64k,mode=755")
                for stage, path in stages:
                    os.makedirs(path, exist_ok=True)
                    libc.mount(stage.encode(), path.encode(), None, MS_BIND | MS_REC, None)
                    libc.umount2(stage.encode(), MNT_DETACH)
            for path in hidden:
                if os.path.isdir(path):
                    _mount_tmpfs(libc, path)
        if isolation.setuid and uid is not None:
            for path in owned_files:
                os.chown(path, uid, uid)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.umask(0o077)
    return _isolate


def kill_uid_processes(uid):
    """Kill every process of the slot uid (a student's background process must not outlive it)."""
    if uid is None or os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, 9)
        except BaseException:   # noqa: BLE001
            pass
        os._exit(0)
    os.waitpid(pid, 0)


# -- the code run inside the kernel --------------------------------------------------------------
PRELUDE = r'''
def __autograde_setup(key_path, snapshot_prefixes, block_network):
    import builtins, hashlib, hmac, importlib, os, sys, threading, types
    with open(key_path, "rb") as fh:
        key = fh.read()
    os.unlink(key_path)
    for name in snapshot_prefixes:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    if block_network:
        import socket
        _real_socket = socket.socket
        class _NoNetworkSocket(_real_socket):
            def __init__(self, family=-1, *args, **kwargs):
                if family in (socket.AF_INET, socket.AF_INET6, -1):
                    raise OSError("network access is disabled while grading")
                super().__init__(family, *args, **kwargs)
        socket.socket = _NoNetworkSocket
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    prefixes = tuple(snapshot_prefixes) + ("builtins", "math")

    def watched_modules():
        return {n: m for n, m in list(sys.modules.items())
                if isinstance(m, types.ModuleType)
                and (n in prefixes or n.startswith(tuple(p + "." for p in prefixes)))}

    def interesting(value):
        return callable(value) or isinstance(value, (types.ModuleType, type, property,
                                                     staticmethod, classmethod))

    classes = set()
    for cls in type(ip).__mro__ + (type(kernel).__mro__ if kernel is not None else ()):
        if cls is not object:
            classes.add(cls)
    modules = watched_modules()
    for mod in modules.values():
        for value in list(vars(mod).values()):
            if isinstance(value, type) and getattr(value, "__module__", "").split(".")[0] in prefixes:
                classes.add(value)
    builtins.__autograde_guard__ = None          # placeholder so the snapshot keeps the name
    volatile = {"builtins": {"input", "raw_input", "get_ipython", "display", "exit", "quit", "help",
                             "__autograde_guard__"}}
    mod_snap = {n: (m, {k: v for k, v in vars(m).items()
                        if k not in volatile.get(n, ()) and not (n == "builtins" and k.startswith("_")
                                                                 and k not in ("__import__", "__build_class__"))})
                for n, m in modules.items()}
    cls_snap = {c: dict(vars(c)) for c in classes}
    shell_snap = dict(vars(ip))
    lists = {"input_transformers_cleanup": list(ip.input_transformers_cleanup),
             "input_transformers_post": list(ip.input_transformers_post),
             "ast_transformers": list(ip.ast_transformers)}
    events = {k: list(v) for k, v in ip.events.callbacks.items()}
    sys_snap = {k: getattr(sys, k) for k in ("displayhook", "excepthook", "stdout", "stderr")}
    set_ = setattr
    del_ = delattr

    def changed():
        found = []
        for name, (mod, snap) in mod_snap.items():
            if sys.modules.get(name) is not mod:
                found.append("sys.modules[%r]" % name)
            current = vars(mod)
            for k, v in snap.items():
                if interesting(v) and current.get(k, None) is not v:
                    found.append("%s.%s" % (name, k))
        for cls, snap in cls_snap.items():
            current = vars(cls)
            for k, v in snap.items():
                if interesting(v) and current.get(k, None) is not v:
                    found.append("%s.%s" % (cls.__name__, k))
            for k in current:
                if k not in snap:
                    found.append("%s.%s" % (cls.__name__, k))
        for k, v in vars(ip).items():
            if interesting(v) and shell_snap.get(k, None) is not v and k in dir(type(ip)):
                found.append("shell." + k)
        return found

    def restore():
        for name, (mod, snap) in mod_snap.items():
            sys.modules[name] = mod
            current = vars(mod)
            skip = volatile.get(name, ())
            for k in [k for k in current if k not in snap and k not in skip and not k.startswith("_")
                      and not isinstance(current[k], types.ModuleType)]:
                del current[k]
            current.update(snap)
        for cls, snap in cls_snap.items():
            for k in [k for k in vars(cls) if k not in snap]:
                try:
                    del_(cls, k)
                except (AttributeError, TypeError):
                    pass
            for k, v in snap.items():
                if vars(cls).get(k, None) is not v and k not in ("__dict__", "__weakref__", "__doc__"):
                    try:
                        set_(cls, k, v)
                    except (AttributeError, TypeError):
                        pass
        for k in [k for k in vars(ip) if k not in shell_snap]:
            del vars(ip)[k]
        for k, v in shell_snap.items():
            if interesting(v):
                vars(ip)[k] = v
        for k, v in lists.items():
            getattr(ip, k)[:] = v
        ip.custom_exceptions = ()
        for k, v in events.items():
            ip.events.callbacks[k][:] = v
        for k, v in sys_snap.items():
            set_(sys, k, v)
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)

    def guard(nonce, phase):
        found = changed() if phase == "after" else []
        restore()
        state = "tampered:" + ",".join(sorted(set(found))[:8]) if found else "clean"
        token = hmac.new(key, (nonce + "|" + state).encode(), hashlib.sha256).hexdigest()
        return state + "|" + token

    builtins.__autograde_guard__ = guard


__autograde_setup(*__ARGS__)
del __autograde_setup
'''


@dataclass
class CellRun:
    """What happened to one cell."""
    index: int
    status: str = "ok"          # ok | error | timeout | crashed | skipped
    message: str = ""
    tampered: str = ""


class KernelSession:
    """One kernel for one submission: start, run cells, guard tests, restart after crashes."""

    def __init__(self, nb, sandbox, limits, isolation, uid=None, snapshot_prefixes=("numpy",),
                 log=None):
        self.nb = nb
        self.sandbox = Path(sandbox)
        self.limits = limits
        self.isolation = isolation
        self.uid = uid
        self.prefixes = list(snapshot_prefixes)
        self.log = log if log is not None else []
        self.client = None
        self.key = None
        self.last_reply = None
        self.deadline = time.monotonic() + limits.submission_timeout

    # -- kernel lifecycle --------------------------------------------------------------------
    def start(self):
        self.stop()
        conn = self.sandbox / f"kernel-{secrets.token_hex(4)}.json"
        km = AsyncKernelManager(kernel_name="python3", transport="ipc",
                           ip=str(self.sandbox / f"ipc-{secrets.token_hex(4)}"),
                           connection_file=str(conn))
        self.client = NotebookClient(
            self.nb, km=km, timeout=self.limits.cell_timeout, allow_errors=True,
            startup_timeout=self.limits.startup_timeout, interrupt_on_timeout=False,
            extra_arguments=["--HistoryManager.enabled=False"], record_timing=False,
            on_cell_executed=self._remember_reply, kernel_name="python3")
        self.key = secrets.token_bytes(32)
        key_path = self.sandbox / f".guard-{secrets.token_hex(6)}"
        key_path.write_bytes(self.key)
        owned = [str(key_path)]
        env = self._kernel_env()
        preexec = make_preexec(self.isolation, self.uid, self.limits, owned)
        # the connection file is written by start_kernel; chown it in the child too
        km_owned_hook = _ChownConnection(preexec, conn, self.isolation, self.uid)
        self.client.start_new_kernel(cwd=str(self.sandbox), env=env, preexec_fn=km_owned_hook)
        self.client.start_new_kernel_client()
        args = (str(key_path), list(self.prefixes), not self.isolation.namespaces)
        code = PRELUDE.replace("__ARGS__", repr(args))
        reply = self._silent(code)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("the grading prelude failed in the kernel: "
                               f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")

    def _kernel_env(self):
        home = str(self.sandbox)
        keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
        keep["PATH"] = str(Path(sys.executable).parent) + os.pathsep + keep.get("PATH", "/usr/bin:/bin")
        keep.update(HOME=home, IPYTHONDIR=str(self.sandbox / ".ipython"),
                    MPLCONFIGDIR=str(self.sandbox / ".mpl"), MPLBACKEND="Agg",
                    JUPYTER_RUNTIME_DIR=str(self.sandbox / ".runtime"),
                    OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                    PYDEVD_DISABLE_FILE_VALIDATION="1", PYTHONDONTWRITEBYTECODE="1",
                    TMPDIR=home)
        return keep

    def stop(self):
        if self.client is None:
            return
        try:
            if self.client.kc is not None:
                self.client.kc.stop_channels()
            _sync(self.client.km.shutdown_kernel)(now=True)
        except Exception:       # noqa: BLE001 - a dead kernel may refuse a clean shutdown
            pass
        kill_uid_processes(self.uid if self.isolation.setuid else None)
        self.client = None

    def _remember_reply(self, cell, cell_index, execute_reply):
        self.last_reply = execute_reply

    def _silent(self, code, user_expressions=None, timeout=None):
        kc = self.client.kc
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                            user_expressions=user_expressions or {})
        timeout = timeout or max(5.0, min(self.limits.cell_timeout, self.remaining()))
        end = time.monotonic() + timeout
        get = _sync(kc.get_shell_msg)
        alive = _sync(self.client.km.is_alive)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CellTimeoutError("grading helper timed out")
            try:
                msg = get(timeout=min(1.0, left))
            except Exception:   # noqa: BLE001 - queue.Empty: check the kernel is alive
                if not alive():
                    raise DeadKernelError("kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def remaining(self):
        return self.deadline - time.monotonic()

    # -- running cells -----------------------------------------------------------------------
    def run_cell(self, index):
        """Execute code cell ``index`` of the notebook; returns a CellRun."""
        cell = self.nb.cells[index]
        result = CellRun(index)
        if self.remaining() <= 0:
            cell.outputs = []
            return CellRun(index, "timeout", "not run: the submission's wall-clock limit "
                           f"({self.limits.submission_timeout:.0f} s) was used up")
        self.client.timeout = max(1, int(min(self.limits.cell_timeout, self.remaining())))
        self.last_reply = None
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            result.status, result.message = "timeout", (
                f"the cell ran longer than {self.client.timeout} s and was stopped")
        except DeadKernelError:
            result.status, result.message = "crashed", "the kernel died while this cell ran"
        else:
            reply = (self.last_reply or {}).get("content", {})
            if reply.get("status") != "ok":
                result.status = "error"
                result.message = f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"
        return result

    def guard(self, phase):
        """Run the guard; returns '' if intact and clean, else a description of the problem."""
        nonce = secrets.token_hex(16)
        try:
            reply = self._silent("", {"g": f"__autograde_guard__({nonce!r}, {phase!r})"})
        except (CellTimeoutError, DeadKernelError) as exc:
            raise exc
        expr = reply["content"].get("user_expressions", {}).get("g", {})
        if expr.get("status") != "ok":
            return "the grading guard is missing from the kernel (replaced or deleted)"
        text = expr.get("data", {}).get("text/plain", "")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        state, _, token = str(value).rpartition("|")
        expected = hmac.new(self.key, (nonce + "|" + state).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(token, expected):
            return "the grading guard was replaced by student code"
        if state != "clean":
            return "student code changed the grading environment while this test ran (" + \
                state.split(":", 1)[-1] + ")"
        return ""


def _sync(fn):
    """jupyter_client methods are sync or async depending on the client class; call either."""
    if inspect.iscoroutinefunction(fn):
        from jupyter_core.utils import run_sync
        return run_sync(fn)
    return fn


class _ChownConnection:
    """preexec wrapper: hand the connection file to the slot uid, then isolate."""

    def __init__(self, preexec, conn, isolation, uid):
        self.preexec, self.conn, self.isolation, self.uid = preexec, str(conn), isolation, uid

    def __call__(self):
        if self.isolation.setuid and self.uid is not None:
            os.chown(self.conn, self.uid, self.uid)
        self.preexec()


def make_sandbox(root, uid, files, isolation=None):
    """A private folder for one submission: only ``files`` ({name: bytes}) in it, owned by uid."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o711)
    for n, (blocked, needed) in enumerate(isolation.exposures if isolation else ()):
        for k in range(len(needed)):
            (root / ".stage" / f"{n}-{k}").mkdir(parents=True, exist_ok=True)
    if isolation is not None:
        isolation.staging = str(root / ".stage")
    box = root / secrets.token_hex(8)
    box.mkdir(mode=0o700)
    for name, data in files.items():
        target = box / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for sub in (".ipython", ".mpl", ".runtime"):
        (box / sub).mkdir(exist_ok=True)
    if uid is not None and os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(box):
            os.chown(dirpath, uid, uid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, uid)
    return box


def remove_sandbox(box):
    shutil.rmtree(box, ignore_errors=True)


def new_notebook_copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))
