"""Test cells that the grader runs in its own process, never in the student's.

A test cell is *trusted* when every statement in it is an import of a check module, or a call
of a check function whose arguments are names the notebook defines and constants::

    from autodiff_instructor import hidden
    hidden.q3(control_flow_grad, control_flow_jacobian)

Check modules are ``graders.checks`` and the modules of the course itself (files under the
course root, such as ``course/autodiff_instructor``); the names the course's locked setup
cells bind to them (``from graders import checks``) count too. The grader imports those
modules itself and calls the check with ``RemoteAnswer`` handles in place of the names, so the
check's code, its hidden inputs' seeds and its reference values stay in this process: the
student's process only ever receives a request to call one of its own functions on plain
data. The check's verdict depends on nothing the student's code can touch.

A test cell of any other shape (plain ``assert`` statements, say) runs in the student's
process as nbgrader runs it, with nbgrader's guarantees and no more.
"""
import ast
import contextlib
import importlib
import inspect
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import plain
from ..judging import Answer, CheckFailed, raised
from .session import WorkerLost

PUBLIC_CHECK_MODULES = ("graders.checks",)
MAX_STDOUT = 2000


@dataclass
class Call:
    module: str
    function: str
    args: list = field(default_factory=list)        # [("name", "f") | ("const", 1.0)]
    kwargs: dict = field(default_factory=dict)


@dataclass
class Plan:
    calls: list

    @property
    def names(self):
        return list(dict.fromkeys(v for call in self.calls for kind, v in call.args if kind == "name"))


class CourseModules:
    """Which modules count as check modules for one course, imported in this process."""

    def __init__(self, course_root):
        self.course_root = Path(course_root).resolve()

    def load(self, name):
        root = str(self.course_root)
        if root not in sys.path:
            sys.path.insert(0, root)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    def trusted(self, name):
        if name in PUBLIC_CHECK_MODULES:
            return True
        try:
            module = self.load(name)
        except Exception:       # noqa: BLE001 - not importable here: not a check module
            return False
        origin = getattr(module, "__file__", None)
        return bool(origin) and self.course_root in Path(origin).resolve().parents


def _imports(stmt, modules):
    """{alias: ("module", name) | ("function", module, name)} for a trusted import, else None."""
    bound = {}
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname is None and "." in alias.name:
                return None
            if not modules.trusted(alias.name):
                return None
            bound[alias.asname or alias.name] = ("module", alias.name)
        return bound
    if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
        for alias in stmt.names:
            full = f"{stmt.module}.{alias.name}"
            if modules.trusted(full):
                bound[alias.asname or alias.name] = ("module", full)
            elif modules.trusted(stmt.module):
                bound[alias.asname or alias.name] = ("function", stmt.module, alias.name)
            else:
                return None
        return bound
    return None


def setup_bindings(sources, modules):
    """The check modules that the course's locked setup cells import, by the names they bind."""
    bound = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                names = _imports(stmt, modules)
                if names:
                    bound.update(names)
    return bound


def _constant(node):
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None, False
    return value, True


def plan_for(source, bindings, modules):
    """The trusted plan of a test cell's source, or None if the cell is not of that shape."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    local, calls = dict(bindings), []
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = _imports(stmt, modules)
            if names is None:
                return None
            local.update(names)
            continue
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return None
        call = stmt.value
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                local.get(func.value.id, ("",))[0] == "module":
            target = (local[func.value.id][1], func.attr)
        elif isinstance(func, ast.Name) and local.get(func.id, ("",))[0] == "function":
            target = local[func.id][1:]
        else:
            return None
        args = []
        for arg in call.args:
            if isinstance(arg, ast.Name):
                args.append(("name", arg.id))
            else:
                value, ok = _constant(arg)
                if not ok:
                    return None
                args.append(("const", value))
        kwargs = {}
        for kw in call.keywords:
            value, ok = _constant(kw.value) if kw.arg else (None, False)
            if not ok:
                return None
            kwargs[kw.arg] = value
        calls.append(Call(target[0], target[1], args, kwargs))
    return Plan(calls) if calls else None


# -- running a plan ---------------------------------------------------------------------------------
class RemoteAnswer(Answer):
    """A handle on a name in the student's sandboxed process (see graders.judging.Answer)."""

    def __init__(self, worker, name, deadline, sources):
        self.worker, self.name, self.deadline, self.sources = worker, name, deadline, sources

    def _request(self, message):
        return self.worker.request(message, self.deadline - time.monotonic())

    def _value(self, ctx, reply):
        status = reply.get("status")
        if status == "ok":
            try:
                value = plain.decode_tree(reply.get("value"))
            except (plain.PlainDataError, RecursionError) as exc:
                ctx.fail(f"what {self.name} returned cannot be read ({exc})", None, None,
                         "return numbers, numpy arrays, strings, or lists and dicts of them")
            printed = reply.get("stdout")
            if type(printed) is str and printed and not ctx.hidden:
                print(printed[-MAX_STDOUT:], end="" if printed.endswith("\n") else "\n")
            return value
        if status == "missing":
            ctx.fail(f"{self.name} is not defined", None, None,
                     f"define {self.name} in the answer cell above and run that cell")
        if status == "not callable":
            ctx.fail(f"{self.name} should be a function", "a function", "something else",
                     "define it with def in the answer cell above and run that cell")
        if status == "raised":
            record = plain.ExceptionRecord(_text(reply, "type"), _text(reply, "module"),
                                           _text(reply, "message"))
            raised(ctx, self.name, record, self._args)
        if status == "unreadable":
            ctx.fail(f"what {self.name} returned cannot be read ({_text(reply, 'reason')})", None,
                     None, "return numbers, numpy arrays, strings, or lists and dicts of them")
        raise WorkerLost("protocol", f"an unknown reply status {str(status)[:40]!r}")

    def call(self, ctx, *args):
        self._args = args
        tree = [plain.encode_tree(a) for a in args]
        return self._value(ctx, self._request({"op": "call", "name": self.name, "args": tree,
                                               "hidden": ctx.hidden}))

    def value(self, ctx):
        self._args = ()
        return self._value(ctx, self._request({"op": "get", "name": self.name}))

    def _definition(self):
        for source in reversed(self.sources):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in reversed(tree.body):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                        node.name == self.name:
                    return source, ast.get_source_segment(source, node) or ""
                if isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == self.name for t in node.targets):
                    return source, ast.get_source_segment(source, node) or ""
        return "", ""

    def function_source(self):
        return self._definition()[1]

    def cell_source(self):
        return self._definition()[0]


def _text(reply, key):
    value = reply.get(key)
    return value[:2000] if type(value) is str else ""


@dataclass
class TrustedRun:
    status: str                     # ok | failed | lost | grader-error
    outputs: list
    lost: WorkerLost = None
    problem: str = ""


def _error(ename, evalue):
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"]}


def run_plan(plan, modules, worker, sources, context, timeout):
    """Run a trusted test cell; returns a TrustedRun whose outputs nbgrader would score."""
    deadline = time.monotonic() + timeout
    printed = io.StringIO()
    outputs = []
    try:
        reply = worker.request({"op": "names", "names": plan.names}, timeout)
        missing = reply.get("missing")
        if type(missing) is not list:
            raise WorkerLost("protocol", "a names reply without a list")
        missing = [m for m in missing if m in plan.names]
        if missing:
            return TrustedRun("failed", [_error("NameError", f"name {missing[0]!r} is not defined")])
        for call in plan.calls:
            fn = getattr(modules.load(call.module), call.function)
            args = [RemoteAnswer(worker, value, deadline, sources) if kind == "name" else value
                    for kind, value in call.args]
            kwargs = dict(call.kwargs)
            accepted = inspect.signature(fn).parameters
            kwargs.update({k: v for k, v in context.items() if k in accepted and k not in kwargs})
            with contextlib.redirect_stdout(printed):
                fn(*args, **kwargs)
    except CheckFailed as exc:
        outputs = _stream(printed) + [_error("CheckFailed", str(exc))]
        return TrustedRun("failed", outputs)
    except WorkerLost as lost:
        what = ("ran longer than the cell's time limit and was stopped" if lost.reason == "timeout"
                else "stopped the process that runs it")
        outputs = _stream(printed) + [_error("DeadKernelError", f"your code {what} while this test ran")]
        return TrustedRun("lost", outputs, lost=lost)
    except Exception as exc:        # noqa: BLE001 - a check that breaks must not stop the class
        return TrustedRun("grader-error", _stream(printed) + [
            _error("GradingError", "the check could not run; your instructor has been told")],
            problem=f"{type(exc).__name__}: {exc}")
    return TrustedRun("ok", _stream(printed))


def _stream(buffer):
    text = buffer.getvalue()
    return [{"output_type": "stream", "name": "stdout", "text": text}] if text else []
