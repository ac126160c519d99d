"""Shut the process that runs a student's code into a file system of its own, by allowlist.

``enter(spec)`` is called by the process that is about to run student code (the sandbox
agent), before it reads any. On Linux, when it returns, that process:

- sees a new root holding only its scratch folder (writable, at ``WORKDIR``), the Python environment and the
  system's libraries and tools (read-only), a private ``/tmp``, ``/dev/null`` and friends, and
  a ``/proc`` of its own processes. The course, the submissions, the output folder, other
  students, home directories and the rest of ``/tmp`` are not there: the old root is
  unmounted, not just covered;
- has no network (a network namespace with nothing in it), no shared IPC, and cannot see or
  signal any process outside its own PID namespace; when it ends, every process it started
  ends with it (the PID namespace's first process is a small reaper);
- runs as an unprivileged uid of its own with no capabilities, under rlimits on memory,
  processes, file size and open files, with no core dumps and no new privileges.

Three modes, chosen by ``probe()``:

- ``root``: the grader runs as root; everything above, with a slot uid per worker.
- ``userns``: an unprivileged grader on a kernel that allows user namespaces. Everything above
  except the separate uid: the student's processes keep the grader's uid outside the
  namespace (the PID namespace still hides and protects the grader's processes).
- ``none``: neither. The student's code runs as the grader's user and sees every file that
  user can read; the network is only blocked inside Python. ``LOST`` says this in words.
"""
import ctypes
import ctypes.util
import json
import os
import platform
import resource
import signal
import sys
from dataclasses import asdict, dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 1 << 18
ST_FLAGS = {os.ST_RDONLY: MS_RDONLY, os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV,
            getattr(os, "ST_NOEXEC", 8): MS_NOEXEC}
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
INNER_UID = 1000        # the student's uid inside a user namespace
SETUP_FAILED = 71       # exit status of a process whose jail could not be built
WORKDIR = "/home/student"   # where the scratch folder appears inside the jail

LOST = {
    "userns": ["a uid of its own: the student's processes run as the grader's user outside "
               "their namespace (they still cannot see, signal or outlive the grader's processes)"],
    "none": ["the file-system allowlist: student code can read every file the grader's user "
             "can read (the course, the answer key, other students' submissions, the output "
             "folder)",
             "network isolation: sockets are refused only inside Python; code that goes "
             "around Python (a subprocess, ctypes) reaches the network",
             "process isolation: student processes run as the grader's user and can signal "
             "the grader's other processes; a process that detaches can outlive its submission",
             "a uid of its own per submission"],
}

# Files of /etc that programs commonly read; the rest of /etc stays out.
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/fonts",
             "/etc/mime.types", "/etc/alternatives"]
SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"]
DEVICES = ["null", "zero", "full", "random", "urandom"]


@dataclass
class Spec:
    """What one jail looks like. JSON-able, so it can be handed to the agent's command line."""
    mode: str                        # root | userns | none
    root_dir: str = ""               # an empty folder the new root is built on
    scratch: str = ""                # the only writable folder
    uid: int = -1                    # the slot uid (root mode)
    read_only: list = field(default_factory=list)
    memory_bytes: int = 2 * 1024 ** 3
    max_processes: int = 64
    max_file_bytes: int = 64 * 1024 ** 2
    max_open_files: int = 256

    def workdir(self):
        """The scratch folder as the student's code sees it."""
        return self.scratch if self.mode == "none" else WORKDIR

    def to_json(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


class JailError(RuntimeError):
    """The jail could not be built."""


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(err)}")


# -- what the student's side may read ------------------------------------------------------------
STUDENT_PACKAGES = ("autograd_lite", "graders")


def package_dirs(packages=STUDENT_PACKAGES):
    """{package: folder} for the packages a student's notebook imports from this project: the
    copies this process itself runs (an editable install points into a source checkout, a
    Gradescope package puts them on PYTHONPATH)."""
    import importlib
    found = {}
    for name in packages:
        module = sys.modules.get(name) or importlib.import_module(name)
        found[name] = os.path.realpath(list(module.__path__)[0])
    return found


def python_paths(packages=STUDENT_PACKAGES):
    """The Python environment, and the folders of the packages above: only those packages'
    own folders are exposed, never the checkout or folder around them."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(package_dirs(packages).values())
    return sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)})


def default_read_only():
    keep = [p for p in SYSTEM_DIRS + ETC_FILES if os.path.lexists(p)]
    return keep + python_paths()


# -- building the jail ------------------------------------------------------------------------------
def _statvfs_flags(path):
    flags = os.statvfs(path).f_flag
    return sum(ms for st, ms in ST_FLAGS.items() if flags & st)


def _bind(libc, source, target, read_only):
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _check(libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None),
           f"bind {source}")
    if read_only:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | _statvfs_flags(target)
        _check(libc.mount(None, target.encode(), None, flags, None), f"read-only {source}")


def _mount(libc, kind, target, flags, options):
    os.makedirs(target, exist_ok=True)
    _check(libc.mount(kind.encode(), target.encode(), kind.encode(), flags, options.encode()),
           f"mount {kind} on {target}")


def _build_root(libc, spec):
    root = spec.root_dir
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    _mount(libc, "tmpfs", root, MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    # The private /dev, /tmp and /proc first: what is bound next may lie under /tmp.
    _mount(libc, "tmpfs", root + "/dev", MS_NOSUID | MS_NOEXEC, "size=64k,mode=755")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(libc, f"/dev/{name}", f"{root}/dev/{name}", read_only=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    _mount(libc, "tmpfs", root + "/dev/shm", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    _mount(libc, "tmpfs", root + "/tmp", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    _mount(libc, "proc", root + "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")
    for path in spec.read_only:
        target = root + path
        if os.path.islink(path) and os.path.dirname(path) == "/":
            os.symlink(os.readlink(path), target)      # /bin -> usr/bin on merged-usr systems
        elif os.path.exists(path):
            _bind(libc, path, target, read_only=True)
    _bind(libc, spec.scratch, root + WORKDIR, read_only=False)
    old = root + "/.old-root"
    os.makedirs(old)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise JailError(f"pivot_root is not known on {platform.machine()}")
    _check(libc.syscall(number, root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old-root", MNT_DETACH), "unmount the old root")
    os.rmdir("/.old-root")
    _check(libc.mount(None, b"/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                      None), "read-only root")


def _map_user(outer_uid, outer_gid):
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{INNER_UID} {outer_uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{INNER_UID} {outer_gid} 1")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc):
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "drop capabilities")


def _limits(spec):
    for kind, value in ((resource.RLIMIT_AS, spec.memory_bytes),
                        (resource.RLIMIT_FSIZE, spec.max_file_bytes),
                        (resource.RLIMIT_NOFILE, spec.max_open_files),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    if spec.mode != "userns":       # in a user namespace the count is the grader's uid's
        resource.setrlimit(resource.RLIMIT_NPROC, (spec.max_processes, spec.max_processes))
    os.umask(0o077)


def _wait_and_exit(pid):
    """Wait for ``pid`` and leave with its status (a signal becomes 128 + its number)."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(SETUP_FAILED)
        except InterruptedError:
            continue
        if done == pid:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def _close_from(low):
    os.closerange(low, 4096)


def enter(spec, keep_fds=()):
    """Jail this process (see the module docstring); returns in the process that runs the
    student's code. ``keep_fds`` stay open there and are closed in the helper processes."""
    if spec.mode == "none":
        _limits(spec)
        return
    libc = _libc()
    outer_uid, outer_gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if spec.mode == "userns":
        flags |= CLONE_NEWUSER
    _check(libc.unshare(flags), "unshare")
    if spec.mode == "userns":
        _map_user(outer_uid, outer_gid)
    stub_pid = os.fork()
    if stub_pid:                                   # outside the PID namespace: wait, relay
        for fd in keep_fds:
            os.close(fd)
        _wait_and_exit(stub_pid)
    try:                                           # PID 1 of the new namespace
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _build_root(libc, spec)
        os.chdir(WORKDIR)
    except BaseException as exc:                   # noqa: BLE001
        os.write(2, f"sandbox: could not build the jail: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    worker = os.fork()
    if worker:                                     # the reaper: keep nothing, wait, leave
        for fd in keep_fds:
            os.close(fd)
        _wait_and_exit(worker)
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if spec.mode == "root":
            os.setgroups([])
            os.setgid(spec.uid)
            os.setuid(spec.uid)
        else:
            _drop_capabilities(libc)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _limits(spec)
    except BaseException as exc:                   # noqa: BLE001
        os.write(2, f"sandbox: could not drop privileges: {exc}\n".encode())
        os._exit(SETUP_FAILED)


# -- which mode this machine allows ------------------------------------------------------------------
def _try(mode, root_dir, scratch):
    """Build a jail of ``mode`` in a throwaway child; True if it worked."""
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            spec = Spec(mode=mode, root_dir=root_dir, scratch=scratch, uid=65534,
                        read_only=default_read_only())
            enter(spec)
            ok = os.path.isdir(spec.workdir()) and \
                not os.path.exists(os.path.dirname(root_dir) + "/probe-marker")
            os._exit(0 if ok else 1)
        except BaseException:       # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def probe(work_dir, wanted="auto"):
    """The strongest mode that works here (or ``wanted``, if it works); returns the mode name."""
    if not sys.platform.startswith("linux") or platform.machine() not in SYS_PIVOT_ROOT:
        return "none"
    order = ["root", "userns", "none"]
    if wanted != "auto":
        order = order[order.index(wanted):]
    root_dir = os.path.join(work_dir, ".probe-root")
    scratch = os.path.join(work_dir, ".probe-scratch")
    os.makedirs(root_dir, exist_ok=True)
    os.makedirs(scratch, exist_ok=True)
    open(os.path.join(work_dir, "probe-marker"), "w").close()
    for mode in order:
        if mode == "none":
            return mode
        if mode == "root" and os.geteuid() != 0:
            continue
        if _try(mode, root_dir, scratch):
            return mode
    return "none"
