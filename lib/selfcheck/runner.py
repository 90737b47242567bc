"""Executing a submitted notebook inside the grading sandbox.

    python -m selfcheck.runner NOTEBOOK EXECUTED --cell-timeout SECONDS

runs every cell of NOTEBOOK in a fresh Python kernel (errors do not stop the run; a cell that runs
past its time limit is interrupted once and counts as an error) and writes the notebook with its
outputs to EXECUTED, and a line of status to EXECUTED + ".status" (``ok``, or why the run ended
early). It is started by the grader inside the sandbox, where nothing it does can reach anything
but the sandbox's scratch folder; what it writes is read back as the student's own claims.
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, timeout=args.cell_timeout, interrupt_on_timeout=True,
                            allow_errors=True, kernel_name="python3", record_timing=False,
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
    nbformat.write(nb, args.executed)
    with open(args.executed + ".status", "w", encoding="utf-8") as f:
        f.write(status + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
