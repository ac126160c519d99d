"""An IPython shell that records a cell's outputs the way a Jupyter kernel reports them.

The sandbox agent runs a student's cells in this shell instead of a full ipykernel: the
same IPython (magics, ``display``, ``get_ipython()``, the displayhook and its ``Out``),
matplotlib's inline backend, and widgets without a front end, with every output of a cell
recorded as the nbformat output a kernel would have sent: ``stream`` (stdout and stderr,
warnings included), ``display_data``, ``execute_result`` and ``error``. ``input()`` raises
as it does in a kernel that allows no stdin, and ``exit()`` ends the process after the cell,
as it ends a kernel.
"""
import builtins
import getpass
import io
import sys

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import StdinNotImplementedError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

MAX_OUTPUT_CHARS = 2_000_000      # of text per cell; more is cut with a note


class Outputs:
    """The outputs of the request being served (a cell, or a call a check makes)."""

    def __init__(self):
        self.items, self.chars, self.clear_pending, self.cut = [], 0, False, False
        # A kernel buffers each stream and sends it before the next rich output and at the
        # end of the cell, stdout first: a quick cell's prints arrive as one stdout output
        # and one stderr output, however they interleaved.
        self.pending = {"stdout": "", "stderr": ""}

    def _room(self, n):
        if self.chars + n > MAX_OUTPUT_CHARS:
            if not self.cut:
                self.cut = True
                self.items.append({"output_type": "stream", "name": "stdout",
                                   "text": "\n[output cut: more than 2,000,000 characters]\n"})
            return False
        self.chars += n
        return True

    def _add(self, output, size):
        self.flush()
        if self.clear_pending:
            self.items, self.clear_pending = [], False
        if self._room(size):
            self.items.append(output)

    def stream(self, name, text):
        if text and self._room(len(text)):
            self.pending[name] += text

    def flush(self):
        """Send the buffered streams, as a kernel does before any other output."""
        for name, text in self.pending.items():
            if not text:
                continue
            self.pending[name] = ""
            if self.clear_pending:
                self.items, self.clear_pending = [], False
            last = self.items[-1] if self.items else None
            if last and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            else:
                self.items.append({"output_type": "stream", "name": name, "text": text})

    def display(self, data, metadata, transient=None, update=False):
        display_id = (transient or {}).get("display_id")
        self.flush()
        if update and display_id:
            for item in self.items:
                if item.get("_display_id") == display_id:
                    item["data"], item["metadata"] = dict(data), dict(metadata or {})
            return
        item = {"output_type": "display_data", "data": dict(data), "metadata": dict(metadata or {})}
        if display_id:
            item["_display_id"] = display_id
        self._add(item, sum(len(str(v)) for v in data.values()))

    def result(self, data, metadata, count):
        self._add({"output_type": "execute_result", "data": dict(data),
                   "metadata": dict(metadata or {}), "execution_count": count},
                  sum(len(str(v)) for v in data.values()))

    def error(self, ename, evalue, traceback):
        self._add({"output_type": "error", "ename": ename, "evalue": evalue,
                   "traceback": list(traceback)}, sum(len(t) for t in traceback))

    def clear(self, wait=False):
        self.flush()
        if wait:
            self.clear_pending = True
        else:
            self.items, self.clear_pending = [], False

    def take(self):
        self.flush()
        items = self.items
        for item in items:
            item.pop("_display_id", None)
        self.__init__()
        return items


OUT = Outputs()


class _Stream(io.TextIOBase):
    """sys.stdout or sys.stderr: text goes to the current request's outputs."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        OUT.stream(self.name, text)
        return len(text)

    def isatty(self):
        return False


class _Publisher(DisplayPublisher):
    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        OUT.display(data, metadata, transient, update)

    def clear_output(self, wait=False):
        OUT.clear(wait)


class _Hook(DisplayHook):
    def start_displayhook(self):
        self._pending = None

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self._pending = (format_dict, md_dict)

    def finish_displayhook(self):
        if getattr(self, "_pending", None):
            OUT.result(self._pending[0], self._pending[1], self.prompt_count)
        self._pending = None


class SandboxShell(InteractiveShell):
    displayhook_class = _Hook
    display_pub_class = _Publisher

    def _showtraceback(self, etype, evalue, stb):
        OUT.error(str(etype.__name__), str(evalue), stb)

    def ask_exit(self):
        self.exit_now = True

    def enable_gui(self, gui=None):
        pass            # no event loop: the inline backend needs none


def _no_stdin(*args, **kwargs):
    raise StdinNotImplementedError("raw_input was called, but this frontend does not support "
                                   "input requests.")


def start():
    """The shell, with stdout and stderr recorded; call once, in the sandbox."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "Linux"
    config.InteractiveShell.autocall = 0
    shell = SandboxShell.instance(config=config)
    # ipywidgets registers its comm targets when it is imported into a running shell; in a
    # fork-server child it was imported before (``preload``), so it does that now.
    register = getattr(sys.modules.get("ipywidgets"), "_handle_ipython", None)
    if register is not None:
        register()
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
    builtins.input = _no_stdin
    getpass.getpass = _no_stdin
    if "matplotlib.pyplot" in sys.modules:
        # Imported before the shell existed (the fork server's preload), pyplot could not hook
        # the inline backend into it; a kernel has it hooked, so figures show after each cell.
        # The same two calls matplotlib_inline makes when pyplot is imported into a shell.
        import matplotlib
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib_inline.backend_inline import configure_inline_support
        backend = matplotlib.get_backend()
        activate_matplotlib(backend)
        configure_inline_support(shell, backend)
    return shell


def run_cell(shell, code):
    """Run one cell; returns (status, outputs, execution count, whether it asked to exit, the
    error's name and message if it failed)."""
    OUT.take()
    result = shell.run_cell(code, store_history=True)
    sys.stdout.flush()
    status = "ok" if result.success else "error"
    error = result.error_in_exec or result.error_before_exec
    failure = (type(error).__name__, str(error)) if error is not None else ("", "")
    return status, OUT.take(), result.execution_count, bool(shell.exit_now), failure
