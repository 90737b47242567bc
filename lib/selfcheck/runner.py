"""Executing a submitted notebook inside the grading sandbox.

    python -m selfcheck.runner NOTEBOOK --output-fd FD [--keep N] --cell-timeout SECONDS

runs every cell of NOTEBOOK in a fresh Python kernel (errors do not stop the run; a cell that runs
past its time limit is interrupted once and counts as an error) and writes, as one JSON object
``{"status": …, "notebook": …}``, the first N cells with their outputs and the status (``ok``, or
why the run ended early) to the file descriptor FD, a pipe that the grader reads.

It is started by the grader inside the sandbox. The pipe is not inherited by the kernel, and this
process makes itself undumpable (so the kernel, which runs as the same user, cannot trace it): the
kernel and anything it starts can neither write to the pipe nor change what is written there.
Only the first N cells (the student's notebook) are sent back: the cells after them call the
student's functions on the checks' inputs, and nothing they print reaches the feedback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("--output-fd", type=int, required=True)
    parser.add_argument("--keep", type=int, default=None)
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)
    os.set_inheritable(args.output_fd, False)
    _undumpable()

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, timeout=args.cell_timeout, interrupt_on_timeout=True,
                            allow_errors=True, kernel_name="python3", record_timing=False,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": "."}})
    status = "ok"
    try:
        client.execute()
    except DeadKernelError as exc:
        status = f"the kernel died: {str(exc)[:200]}"
    except CellTimeoutError as exc:
        status = f"a cell ran past the time limit: {str(exc)[:200]}"
    except Exception as exc:  # anything else that ended the run
        status = f"the run stopped: {type(exc).__name__}: {str(exc)[:200]}"
    if args.keep is not None:
        nb.cells = nb.cells[:args.keep]
    data = json.dumps({"status": status, "notebook": nb}).encode("utf-8")
    with os.fdopen(args.output_fd, "wb") as out:
        out.write(data)
    return 0


def _undumpable():
    """prctl(PR_SET_DUMPABLE, 0): processes of the same user can no longer ptrace this one."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
