"""Running a notebook's cells in this very process, with their outputs recorded as a notebook
holds them.

``RecordingShell`` is IPython's ``InteractiveShell``, the interpreter a Jupyter kernel runs cells
with (``get_ipython()``, magics, ``display``, ``In``/``Out``, inline matplotlib figures), whose
outputs are kept in the notebook format instead of being sent over a kernel's sockets:
``stream`` (stdout, stderr), ``display_data``, ``execute_result`` and ``error`` (name, value and
IPython's traceback lines), within the limits below.

``serve(commands, results)`` says ``{"ready": true}`` through one pipe once IPython has started,
then runs the cells sent through the other, one at a time, and answers each with
``{"outputs": [...], "execution_count": n}``, and ``"result": …`` when the cell left one with
``set_cell_result`` (the outcome of a check's call: ``selfcheck.runtime.run_case``). An interrupt (SIGINT) that
arrives while a cell runs becomes a ``KeyboardInterrupt`` error of that cell, as in a kernel;
one that arrives between cells is ignored. ``exit()`` in a cell ends the process after that cell,
as it ends a kernel.

``selfcheck.runner`` runs this in a process of its own and decides what to keep; the frames both
use are ``send`` and ``FrameReader``: an 8-byte length, then that many bytes of JSON.
"""
from __future__ import annotations

import io
import json
import os
import signal
import struct
import sys
import threading

MAX_STREAM_CHARS = 1_000_000     # of printed text per cell; the rest is cut (the grader keeps less)
MAX_OUTPUTS = 100                # outputs per cell; the grader keeps the first 50
MAX_DISPLAY_BYTES = 2_000_000    # one displayed object (a figure); the grader drops larger ones
_HEADER = struct.Struct("!Q")


# ----------------------------------------------------------------------------------------------
# Frames through a pipe
# ----------------------------------------------------------------------------------------------
def send(fd, message):
    """Write ``message`` (JSON-able) to the file descriptor ``fd`` as one frame."""
    data = json.dumps(message, default=repr).encode("utf-8")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd):
    """Read one frame from ``fd`` (blocking); the message, or None at the end of the pipe."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(fd, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body.decode("utf-8"))


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Frames from a non-blocking reader: ``feed(bytes)`` returns the messages now complete.

    A frame longer than ``limit`` bytes, or one that is not a JSON object, raises ``ValueError``."""

    def __init__(self, limit):
        self.limit, self.buffer = limit, bytearray()

    def feed(self, data):
        self.buffer.extend(data)
        messages = []
        while len(self.buffer) >= _HEADER.size:
            size = _HEADER.unpack_from(self.buffer)[0]
            if size > self.limit:
                raise ValueError(f"a frame of {size} bytes, more than the {self.limit} allowed")
            if len(self.buffer) < _HEADER.size + size:
                break
            body = bytes(self.buffer[_HEADER.size:_HEADER.size + size])
            del self.buffer[:_HEADER.size + size]
            try:
                message = json.loads(body.decode("utf-8"))
            except RecursionError:
                raise ValueError("a frame nested too deeply") from None
            if not isinstance(message, dict):
                raise ValueError(f"a frame holding a {type(message).__name__}, not an object")
            messages.append(message)
        return messages


# ----------------------------------------------------------------------------------------------
# The outputs of the cell that runs now
# ----------------------------------------------------------------------------------------------
class CellOutputs:
    """The outputs of the running cell, in the notebook format (thread-safe: a thread the cell
    started may print). Consecutive text on the same stream makes one output, as in JupyterLab;
    beyond ``MAX_STREAM_CHARS`` of text or ``MAX_OUTPUTS`` outputs the rest is dropped, with one
    line saying so."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        """Start a new cell."""
        with self._lock:
            self._items, self._chars, self._clear_pending, self._cut = [], 0, False, False

    def stream(self, name, text):
        with self._lock:
            self._clear_if_pending()
            room = MAX_STREAM_CHARS - self._chars
            if len(text) > room:
                text = text[:max(room, 0)]
                if not self._cut:
                    self._cut = True
                    text += "\n… (output cut)\n"
            if not text:
                return
            self._chars += len(text)
            last = self._items[-1] if self._items else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"].append(text)
            elif len(self._items) < MAX_OUTPUTS:
                self._items.append({"output_type": "stream", "name": name, "text": [text]})

    def add(self, output):
        """Add a display_data, execute_result or error output (a dict)."""
        with self._lock:
            self._clear_if_pending()
            if len(self._items) < MAX_OUTPUTS:
                self._items.append(output)

    def clear(self, wait=False):
        """IPython's clear_output: now, or (``wait``) when the next output comes."""
        with self._lock:
            if wait:
                self._clear_pending = True
            else:
                self._items, self._chars = [], 0

    def _clear_if_pending(self):
        if self._clear_pending:
            self._items, self._chars, self._clear_pending = [], 0, False

    def collected(self):
        """The outputs so far, as notebook outputs."""
        with self._lock:
            return [dict(o, text="".join(o["text"])) if o["output_type"] == "stream" else dict(o)
                    for o in self._items]


class CellStream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while cells run: text goes to the running cell's outputs.
    ``fileno()`` is the process's own descriptor (what subprocesses and faulthandler write to)."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, outputs, name, fd):
        super().__init__()
        self._outputs, self._name, self._fd = outputs, name, fd

    @property
    def name(self):
        return f"<{self._name}>"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._outputs.stream(self._name, text)
        return len(text)


# ----------------------------------------------------------------------------------------------
# IPython, recording
# ----------------------------------------------------------------------------------------------
def _shell_class():
    """RecordingShell and its display hook and publisher (IPython is imported only here)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class RecordingDisplayHook(DisplayHook):
        """The value of a cell's last expression becomes an ``execute_result``."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.shell.cell_outputs.add({"output_type": "execute_result", "data": format_dict,
                                    "metadata": md_dict or {}, "execution_count": self.prompt_count})

        def finish_displayhook(self):
            self._is_active = False

    class RecordingDisplayPublisher(DisplayPublisher):
        """``display(...)`` and inline figures become ``display_data``."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                    **kwargs):
            self._validate_data(data, metadata)
            if update:  # updating an earlier display by its id: not kept in a graded notebook
                return
            if len(json.dumps(data, default=repr)) > MAX_DISPLAY_BYTES:
                return
            self.shell.cell_outputs.add({"output_type": "display_data", "data": data,
                                    "metadata": metadata or {}})

        def clear_output(self, wait=False):
            self.shell.cell_outputs.clear(wait)

    class RecordingShell(InteractiveShell):
        """InteractiveShell whose outputs go to ``self.cell_outputs`` (a ``CellOutputs``)."""

        displayhook_class = RecordingDisplayHook
        display_pub_class = RecordingDisplayPublisher

        def __init__(self, **kwargs):
            self.cell_outputs = CellOutputs()
            super().__init__(**kwargs)

        def ask_exit(self):
            """``exit()`` or ``quit()``: the process ends after this cell, as a kernel does."""
            self.exit_now = True

        def _showtraceback(self, etype, evalue, stb):
            self.cell_outputs.add({"output_type": "error", "ename": str(etype.__name__),
                              "evalue": str(evalue), "traceback": list(stb)})

    return RecordingShell


def make_shell():
    """A RecordingShell with no history file (``In`` and ``Out`` are kept in memory), drawing
    matplotlib figures inline as a Jupyter kernel does, with sys.stdout and sys.stderr sent to
    its outputs."""
    from traitlets.config import Config
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = _shell_class().instance(config=config)
    sys.stdout = CellStream(shell.cell_outputs, "stdout", 1)
    sys.stderr = CellStream(shell.cell_outputs, "stderr", 2)
    return shell


class _Interruptible:
    """SIGINT raises KeyboardInterrupt only while a cell runs (``with interruptible: …``)."""

    def __init__(self):
        self.running = False
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame):
        __tracebackhide__ = True  # noqa: F841 (IPython leaves this frame out of the traceback)
        if self.running:
            raise KeyboardInterrupt

    def __enter__(self):
        self.running = True

    def __exit__(self, *exc):
        self.running = False


_CELL_RESULT = []


def set_cell_result(result):
    """Send ``result`` (JSON-able) with the answer of the cell that runs now."""
    _CELL_RESULT[:] = [result]


def run_cell(shell, source, interruptible):
    """Run one cell's ``source``; its outputs, execution count and result, if it left one."""
    shell.cell_outputs.reset()
    _CELL_RESULT.clear()
    try:
        with interruptible:
            shell.run_cell(source, store_history=True)
    except BaseException as exc:  # an interrupt that arrived outside the cell's own code
        shell.cell_outputs.add({"output_type": "error", "ename": type(exc).__name__,
                           "evalue": str(exc), "traceback": [f"{type(exc).__name__}: {exc}"]})
    answer = {"outputs": shell.cell_outputs.collected(), "execution_count": shell.execution_count - 1}
    if _CELL_RESULT:
        answer["result"] = _CELL_RESULT[0]
    return answer


def serve(commands, results):
    """Run the cells that come through ``commands`` (frames ``{"source": …}``), answering each
    through ``results``, until the pipe ends or a cell calls ``exit()``."""
    interruptible = _Interruptible()
    shell = make_shell()
    send(results, {"ready": True})
    while True:
        command = receive(commands)
        if command is None:
            return
        send(results, run_cell(shell, command["source"], interruptible))
        if shell.exit_now:
            return
