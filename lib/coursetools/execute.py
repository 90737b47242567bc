"""Execute lecture notebooks in place, so that their committed outputs are what nbval expects.

    python -m coursetools.execute lectures/06_perceptron.ipynb [more.ipynb ...]

Each notebook runs top to bottom in a fresh kernel from its own folder (as nbval runs it), with
Jupyter's inline matplotlib back end (figures stored as PNG); the run fails loudly if any cell raises.
nbclient drives the kernel, through a client that waits for the kernel's messages half a second at
a time (``ShortWaitChannel``: a whole wait can miss the message it waits for).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import DottedObjectName, Type

from coursetools import testkernels
from coursetools.pytest_plugin import SINGLE_THREAD

#: The longest a wait for a kernel's message lasts before the socket is asked again (seconds).
POLL_SLICE = 0.5


async def wait_in_slices(get_msg, timeout, slice_seconds=POLL_SLICE):
    """``await get_msg(t)`` for at most ``timeout`` seconds in all (None: no limit), with t never
    longer than ``slice_seconds``: a message missed by one wait is found by the next.

    ``get_msg(t)`` returns a message or raises queue.Empty after t seconds. Raises Empty once
    ``timeout`` has passed without a message.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await get_msg(slice_seconds if left is None else min(slice_seconds, left))
        except Empty:
            if left is not None and left <= slice_seconds:
                raise


class ShortWaitChannel(AsyncZMQSocketChannel):
    """A kernel channel whose ``get_msg`` waits in slices of ``POLL_SLICE`` seconds.

    Waiting on a ZeroMQ socket from asyncio can miss the wake-up of a message that has arrived
    (it is seen only when the wait's time runs out; reported as jupyter/nbclient issue 312): a
    lecture whose cell had finished in 0.8 s then sat until the 300 s cell limit, and the run
    passed 5 minutes late. Asking again every half second bounds that delay.
    """

    async def get_msg(self, timeout=None):
        return await wait_in_slices(super().get_msg, timeout)


class ShortWaitKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client with ShortWaitChannel for replies and outputs."""

    shell_channel_class = Type(ShortWaitChannel)
    iopub_channel_class = Type(ShortWaitChannel)


class ShortWaitKernelManager(AsyncKernelManager):
    """The kernel manager ``run`` gives nbclient: its clients are ShortWaitKernelClients."""

    client_class = DottedObjectName("coursetools.execute.ShortWaitKernelClient")
    client_factory = Type(klass="coursetools.execute.ShortWaitKernelClient")  # (as the parent sets both)


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
                   kernel_manager_class=ShortWaitKernelManager,
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
