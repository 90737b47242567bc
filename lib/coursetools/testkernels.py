"""Settings for the notebook kernels that the tests start: faster, with the same compared outputs.

Where the time of ``pytest lectures -n 2`` goes (measured on the project's 2-core machine, CPU
seconds summed over the 22 lectures; nbval starts one fresh kernel per lecture):

* starting the kernels: about 13 s (0.6 s each, a fifth of it ipykernel importing debugpy);
* each lecture's first cell (numpy, matplotlib, ipywidgets, nnlib): about 20 s;
* the other cells: about 107 s, of which about 60 s is the inline back end turning figures into
  PNG. It saves every figure with ``bbox_inches="tight"``, so matplotlib draws each figure twice:
  once to measure the tight box, once to render it.

nbval compares text outputs only (``image/png`` is never compared), so the kernels the tests
start need not make the PNGs JupyterLab shows (``FIGURES["tight"]``):

* ``FIGURES["once"]`` draws each figure once, on its full canvas: every artist, label and layout
  engine still runs, so a drawing error, or a warning printed while drawing (a missing glyph),
  still fails the comparison. About 10 % less CPU than "tight".
* ``FIGURES["skip"]`` sends no PNG at all, so figures are not drawn: about half the CPU of
  "tight". Drawing is then checked elsewhere: tests/test_lib_plotting.py draws every nnlib figure
  under Agg, and coursetools.execute draws every lecture figure when a lecture is re-executed.

* ``FIGURES["check"]`` (what the test run's kernels use, through coursetools.pytest_plugin; only
  nbval's pass over the lectures uses "skip", their figures being drawn when the lectures run
  with their worked answers) sends no PNG
  either, but runs matplotlib's whole draw pass on every figure a cell shows
  (``Figure.draw_without_rendering``: layout, text, every artist; no pixels), so a drawing error
  or warning still shows in the cell's outputs and fails the comparison. About 30 % less CPU
  than "tight" on the lectures.

In every case the text outputs, ``<Figure size 600x300 with 1 Axes>`` included, are the committed
ones (nbval passed on all 22 lectures with each setting).

The kernels also keep their input history in memory (nbval's kernels would otherwise all write to
one ``history.sqlite`` in the user's IPython folder) and read none of the user's IPython start-up
files: the profile lives in its own IPYTHONDIR.

Starting a kernel the way nbval does took about 1.8 s from launch to ready on the project's
2-core machine, 1.5 s of it the kernel's CPU: Python, ipykernel's imports and its set-up about
0.5 s; numpy and matplotlib about 0.85 s (``draw_on_display`` imports them, and every lecture's
first cell would import them anyway); and three costs that the tests need not pay:

* ipykernel creates a debugger whenever ``debugpy`` can be imported, and has no setting to
  switch it off; importing debugpy takes about 0.2 s of CPU. Test kernels never debug: their
  configuration marks debugpy as absent (NO_DEBUGGER), and ipykernel then starts without it.
* jupyter_client's ``wait_for_ready``, once the kernel has answered, reads IOPub until it has
  been silent for 0.2 s: a fixed 0.2 s wait on every start. nbval reads only the messages that
  answer its own requests (it checks their parent), so nothing needs flushing:
  KernelClientForTests returns as soon as the kernel has answered on the shell channel and a
  message has come through IOPub, the same two proofs jupyter_client waits for.
* Stopping a kernel kills it and then checks every 0.1 s whether it has exited, so each stop
  took 0.1 s; KernelManagerForTests checks every 0.01 s (the 5 s limit is unchanged).

Use, in the test run's set-up, before any kernel starts::

    os.environ.update(testkernels.environment(ROOT / ".cache" / "test-kernels", figures="check"))
    testkernels.compile_library(ROOT / "lib")      # once, in the controlling process
    nbval.kernel.KernelManager = testkernels.KernelManagerForTests
"""
from __future__ import annotations

import compileall
import os
import tempfile
import time
from pathlib import Path
from queue import Empty

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager
from traitlets import DottedObjectName

#: Set in the environment of the test kernels (and of the test run that starts them).
MARK = "COURSE_TEST_KERNELS"

#: How the inline back end turns a figure into the PNG it sends (InlineBackend settings).
FIGURES = {
    "tight": "c.InlineBackend.print_figure_kwargs = {'bbox_inches': 'tight'}",
    "once": "c.InlineBackend.print_figure_kwargs = {'bbox_inches': None}",
    "skip": "c.InlineBackend.figure_formats = set()",
    "check": "c.InlineBackend.figure_formats = set()\n"
             "c.InteractiveShellApp.exec_lines = ['import coursetools.testkernels as _tk; _tk.draw_on_display()']",
}


def draw_on_display(shell=None):
    """In a kernel: whenever a figure is displayed, run matplotlib's whole draw pass on it
    (layout, text, every artist) without rasterising pixels, and show its usual text
    ``<Figure size ... with N Axes>``. A drawing error (printed with its traceback) or a warning
    still shows in the cell's outputs, where nbval compares them; the PNG that JupyterLab would
    show is not made."""
    from IPython import get_ipython
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    shell = shell or get_ipython()
    # The inline back end removes every formatter of Figure when it is first activated: activate
    # it now (creating and closing a figure displays nothing), then register.
    pyplot.close(pyplot.figure())

    def plain(fig, printer, cycle):
        try:
            fig.draw_without_rendering()
        except Exception:  # IPython would swallow it: print it where nbval compares outputs
            import traceback
            traceback.print_exc()
        printer.text(repr(fig))

    shell.display_formatter.formatters["text/plain"].for_type(Figure, plain)

#: A line of the kernels' configuration (which the kernel runs before it creates its debugger)
#: that makes ``import debugpy`` fail, so that ipykernel starts without a debugger: it has no
#: setting for that, it only checks whether debugpy imports. Saves about 0.2 s of CPU per kernel.
NO_DEBUGGER = "import sys; sys.modules.setdefault('debugpy', None)  # ipykernel: then no debugger"

CONFIG = '''\
# Written by coursetools.testkernels for the kernels the tests start; students never use it.
{no_debugger}
c.HistoryManager.hist_file = ":memory:"
{figures}
'''


def kernel_config(figures="check"):
    """Text of the ipython_kernel_config.py for test kernels; ``figures`` is a key of FIGURES."""
    if figures not in FIGURES:
        raise ValueError(f"figures must be one of {sorted(FIGURES)}, not {figures!r}")
    return CONFIG.format(no_debugger=NO_DEBUGGER, figures=FIGURES[figures])


def environment(directory, figures="check"):
    """Write an IPython profile for test kernels under ``directory``; return the variables
    ({"IPYTHONDIR": ...}) that make kernels started with this environment use it.

    Safe to call from several processes at once (pytest-xdist workers): the file is replaced
    atomically, and only when its text changes.
    """
    directory = Path(directory).resolve()
    profile = directory / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    target = profile / "ipython_kernel_config.py"
    text = kernel_config(figures)
    if not target.exists() or target.read_text() != text:
        fd, tmp = tempfile.mkstemp(dir=profile, prefix=".config-", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, target)
    return {"IPYTHONDIR": str(directory), MARK: "1"}


def compile_library(lib):
    """Byte-compile the course's packages under ``lib`` (only files that changed).

    An editable install is not compiled by pip, and where PYTHONDONTWRITEBYTECODE is set no kernel
    writes the bytecode either: each of the 22 lecture kernels then compiles nnlib from source
    again (about 0.2 s of CPU each). Returns True when every file compiled.
    """
    return bool(compileall.compile_dir(str(lib), quiet=1, workers=1))


class KernelClientForTests(BlockingKernelClient):
    """jupyter_client's blocking client, but ``wait_for_ready`` returns as soon as the kernel has
    answered, without then waiting for 0.2 s of silence on IOPub (see the module's docstring)."""

    def wait_for_ready(self, timeout=None):
        """Block until the kernel is ready: it has answered a ``kernel_info`` request on the shell
        channel, and a message has come through IOPub (so its outputs will reach us). Raise
        RuntimeError if the kernel dies first or after ``timeout`` seconds (None: no limit).

        The same requests and waits as jupyter_client's: ask again every second until answered,
        and wait up to 0.2 s for IOPub. Messages left on IOPub are not flushed: nbval skips those
        that answer other requests than its own.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.kernel_info()
            reply = self._shell_reply(timeout=1)
            if reply and reply["msg_type"] == "kernel_info_reply" and self._iopub_delivers():
                self._handle_kernel_info_reply(reply)
                return
            if not self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    def _shell_reply(self, timeout):
        """The next message on the shell channel, or None if none comes within ``timeout`` s."""
        try:
            return self.get_shell_msg(timeout=timeout)
        except Empty:
            return None

    def _iopub_delivers(self):
        """True when a message arrives on IOPub within 0.2 s (its status for our request does)."""
        try:
            self.get_iopub_msg(timeout=0.2)
        except Empty:
            return False
        return True


class KernelManagerForTests(KernelManager):
    """jupyter_client's KernelManager with KernelClientForTests as its client; once it has killed
    its kernel it checks every 0.01 s, not every 0.1 s, whether the process has exited (the
    limit of that wait, 5 s, is jupyter_client's)."""

    client_class = DottedObjectName("coursetools.testkernels.KernelClientForTests", config=True)

    async def _async_wait(self, pollinterval=0.1):
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))
