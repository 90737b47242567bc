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

* ``FIGURES["check"]`` (what the test run uses, through coursetools.pytest_plugin) sends no PNG
  either, but runs matplotlib's whole draw pass on every figure a cell shows
  (``Figure.draw_without_rendering``: layout, text, every artist; no pixels), so a drawing error
  or warning still shows in the cell's outputs and fails the comparison. About 30 % less CPU
  than "tight" on the lectures.

In every case the text outputs, ``<Figure size 600x300 with 1 Axes>`` included, are the committed
ones (nbval passed on all 22 lectures with each setting).

The kernels also keep their input history in memory (nbval's kernels would otherwise all write to
one ``history.sqlite`` in the user's IPython folder) and read none of the user's IPython start-up
files: the profile lives in its own IPYTHONDIR.

Use, in the test run's set-up, before any kernel starts::

    os.environ.update(testkernels.environment(ROOT / ".cache" / "test-kernels", figures="check"))
    testkernels.compile_library(ROOT / "lib")      # once, in the controlling process
"""
from __future__ import annotations

import compileall
import os
import tempfile
from pathlib import Path

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

CONFIG = '''\
# Written by coursetools.testkernels for the kernels the tests start; students never use it.
c.HistoryManager.hist_file = ":memory:"
{figures}
'''


def kernel_config(figures="check"):
    """Text of the ipython_kernel_config.py for test kernels; ``figures`` is a key of FIGURES."""
    if figures not in FIGURES:
        raise ValueError(f"figures must be one of {sorted(FIGURES)}, not {figures!r}")
    return CONFIG.format(figures=FIGURES[figures])


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
