"""Execute lecture notebooks in place, so that their committed outputs are what nbval expects.

    python -m coursetools.execute lectures/06_perceptron.ipynb [more.ipynb ...]

Each notebook runs top to bottom in a fresh kernel from its own folder (as nbval runs it), with
Jupyter's inline matplotlib back end (figures stored as PNG); the run fails loudly if any cell raises.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursetools import testkernels
from coursetools.pytest_plugin import SINGLE_THREAD


def run(nb, folder, timeout=120, keep_figures=True):
    """Execute the notebook object ``nb`` in place, in a fresh kernel started in ``folder``, with
    the same back end, environment and single-threaded arithmetic as nbval; raise if a cell does.
    With keep_figures (the default) figures are stored as PNG even when called from a test run,
    whose kernels would otherwise draw none (coursetools.testkernels)."""
    # the kernel must draw with Jupyter's inline back end (as in JupyterLab and under nbval),
    # whatever back end the calling shell asks for
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["NNLIB_QUIET"] = "1"  # no progress lines: nbval runs quiet too
    os.environ.update(SINGLE_THREAD)  # the same arithmetic on every machine, as under nbval
    if keep_figures and os.environ.pop(testkernels.MARK, None):
        os.environ.pop("IPYTHONDIR", None)  # the test kernels' profile draws no PNG
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def execute(path, timeout=120):
    """Run the notebook at ``path`` and write it back with its outputs; return the seconds taken."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run(nb, path.parent, timeout)
    seconds = time.perf_counter() - start
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds


def main(argv=None):
    paths = (argv if argv is not None else sys.argv[1:])
    if not paths:
        print(__doc__)
        return 2
    for p in paths:
        print(f"{p}: {execute(p):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
