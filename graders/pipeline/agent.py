"""The sandbox agent: the process that runs one student's notebook and answers the checks' calls.

    python -m graders.pipeline.agent SPEC_JSON FD_IN FD_OUT

It jails itself first (``jail.enter``), then starts an IPython shell (``shell``) and serves
requests from the grader, one at a time, each a length-prefixed JSON message on FD_IN with
its reply on FD_OUT:

- ``{"op": "run", "code": ...}``: run a cell; the reply carries its outputs;
- ``{"op": "names", "names": [...]}``: which of these names the notebook has not defined;
- ``{"op": "get", "name": ...}``: a name's value, as plain data (``graders.plain``);
- ``{"op": "call", "name": ..., "args": [...], "hidden": bool}``: call a function the
  student defined, on plain-data arguments (tensors and function families are rebuilt
  here from public code), and return its result as plain data.

Nothing here is trusted by the grader: the student's code runs in this process and can
change any of it. The grader reads every reply as untrusted data (``session``); all it
could learn from a forged reply is a different answer from this student.
"""
import json
import os
import struct
import sys

from . import jail

HEADER = struct.Struct(">Q")
MAX_REQUEST = 64 * 1024 * 1024


def read_message(fd, limit=MAX_REQUEST):
    head = _read_exactly(fd, HEADER.size)
    if head is None:
        return None
    (size,) = HEADER.unpack(head)
    if size > limit:
        raise ValueError(f"a message of {size} bytes is over the limit of {limit}")
    body = _read_exactly(fd, size)
    if body is None:
        raise EOFError("the message was cut short")
    return body


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None if left == n else None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_message(fd, data):
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _block_network():
    """The fallback when there is no network namespace: refuse internet sockets in Python."""
    import socket
    real = socket.socket

    class NoNetworkSocket(real):
        def __init__(self, family=-1, *args, **kwargs):
            if family in (socket.AF_INET, socket.AF_INET6, -1):
                raise OSError("network access is disabled while grading")
            super().__init__(family, *args, **kwargs)
    socket.socket = NoNetworkSocket


class Agent:
    def __init__(self, fd_in, fd_out):
        from . import shell as shell_module
        from .. import families, plain
        self.fd_in, self.fd_out = fd_in, fd_out
        self.plain, self.families, self.shell_module = plain, families, shell_module
        self.shell = shell_module.start()

    def reply(self, message):
        write_message(self.fd_out, json.dumps(message, allow_nan=False).encode())

    def serve(self):
        self.reply({"status": "ready"})
        while True:
            raw = read_message(self.fd_in)
            if raw is None:
                return
            request = json.loads(raw)
            op = request.get("op")
            if op == "run":
                status, outputs, count, exited, (ename, evalue) = self.shell_module.run_cell(
                    self.shell, request["code"])
                self.reply({"status": status, "outputs": outputs, "execution_count": count,
                            "exited": exited, "ename": ename, "evalue": evalue[:2000]})
                if exited:
                    return
            elif op == "names":
                ns = self.shell.user_ns
                self.reply({"status": "ok", "missing": [n for n in request["names"] if n not in ns]})
            elif op == "get":
                self.reply(self._get(request["name"]))
            elif op == "call":
                self.reply(self._call(request))
            elif op == "bye":
                return

    def _get(self, name):
        ns = self.shell.user_ns
        if name not in ns:
            return {"status": "missing"}
        return self._plain_reply(ns[name], "")

    def _plain_reply(self, value, stdout):
        try:
            tree = self.plain.encode_tree(value)
        except (self.plain.PlainDataError, RecursionError) as exc:
            return {"status": "unreadable", "reason": str(exc)[:300], "stdout": stdout}
        except Exception as exc:        # noqa: BLE001 - the student's object misbehaved
            return {"status": "unreadable", "reason": f"{type(exc).__name__} while reading it",
                    "stdout": stdout}
        return {"status": "ok", "value": tree, "stdout": stdout}

    def _call(self, request):
        ns = self.shell.user_ns
        fn = ns.get(request["name"], _MISSING)
        if fn is _MISSING:
            return {"status": "missing"}
        if not callable(fn):
            return {"status": "not callable", "value": self.plain.encode_tree(
                self.plain.OpaqueRecord(type(fn).__name__))}
        import autograd_lite as ag
        try:
            args = self.plain.decode_tree(
                request["args"], build_function=self.families.build,
                build_tensor=lambda arr, rg: ag.tensor(arr, requires_grad=rg))
        except (self.plain.PlainDataError, self.families.SpecError) as exc:
            return {"status": "bad request", "reason": str(exc)[:300]}
        figures = _open_figures()
        out = self.shell_module.OUT
        out.take()
        import warnings
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = fn(*args)
        except BaseException as exc:        # noqa: BLE001 - SystemExit too: it is an answer
            text = _message(exc)
            reply = {"status": "raised", "type": type(exc).__name__,
                     "module": type(exc).__module__, "message": text}
        else:
            reply = None
        printed = "".join(o["text"] for o in out.take()
                          if o["output_type"] == "stream" and o["name"] == "stdout")
        stdout = "" if request.get("hidden") else printed[-4000:]
        if reply is None:
            reply = self._plain_reply(result, stdout)
        else:
            reply["stdout"] = stdout
        _close_new_figures(figures)
        return reply


_MISSING = object()


def _message(exc):
    try:
        return str(BaseException.__str__(exc))[:2000]
    except Exception:       # noqa: BLE001
        return ""


def _open_figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    return set(pyplot.get_fignums()) if pyplot else set()


def _close_new_figures(before):
    """Figures a call made are closed: under a kernel they would show in the test cell's
    output, and must not turn up in the next cell's."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot:
        for number in set(pyplot.get_fignums()) - before:
            pyplot.close(number)


def main(argv):
    spec = jail.Spec.from_json(argv[0])
    serve(spec, int(argv[1]), int(argv[2]))


def forked_main(spec_json, request, reply, env, diag_path):
    """The same agent, in a child of the pre-imported fork server (``session.Worker``).

    The fork server has imported only public modules (``preload``) and never ran a student's
    code, so the child starts as clean as a fresh interpreter would, only without paying for
    the imports. It first makes itself what ``subprocess.Popen`` would have made: its own
    session, stdin and stdout on /dev/null, stderr to the diagnostics file, the agent's
    environment and working folder, and no search-path entry for the working folder."""
    import multiprocessing
    fd_in, fd_out = os.dup(request.fileno()), os.dup(reply.fileno())
    request.close()
    reply.close()
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    diag = os.open(diag_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for target, fd in ((0, null), (1, null), (2, diag)):
        os.dup2(fd, target)
    os.close(null)
    os.close(diag)
    os.environ.clear()
    os.environ.update(env)
    multiprocessing.current_process().authkey = os.urandom(32)   # not the grader's
    spec = jail.Spec.from_json(spec_json)
    os.chdir(spec.scratch)
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p) and p != spec.scratch]
    serve(spec, fd_in, fd_out)


def serve(spec, fd_in, fd_out):
    jail.enter(spec, keep_fds=(fd_in, fd_out))
    sys.path.insert(0, spec.workdir())      # the notebook's own files import, as in a kernel
    if spec.mode == "none":
        _block_network()
    try:
        agent = Agent(fd_in, fd_out)
    except BaseException as exc:        # noqa: BLE001
        os.write(2, f"sandbox: the shell could not start: {type(exc).__name__}: {exc}\n".encode())
        os._exit(jail.SETUP_FAILED)
    agent.serve()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
