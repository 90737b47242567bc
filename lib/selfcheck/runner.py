"""Executing a submitted notebook inside the grading sandbox.

    python -m selfcheck.runner --output-fd FD [--keep N] [--cell-timeout SECONDS] < NOTEBOOK

reads a notebook (JSON) from its standard input and runs its code cells in order in a second
process, an IPython shell (``selfcheck.shell``: what a Jupyter kernel runs cells with, without
the kernel's sockets). Errors do not stop the run. A cell still running after SECONDS is
interrupted, once (SIGINT: a ``KeyboardInterrupt`` error in that cell), and the run goes on with
the next cell; a cell still running SECONDS after its interrupt ends the run, with the shell
stopped (status "a cell ran past the time limit …"). A shell that dies ends the run too ("the
kernel died …"). The first N cells, with their outputs, and the status (``ok``, or why the run
ended early) are written as one JSON object ``{"status": …, "notebook": {"cells": […]},
"outcomes": […]}`` to the file descriptor FD, a pipe that the grader reads.

A cell of the notebook may name a check's case, ``"case": [test id, case id]``: what that cell
left as its result (``selfcheck.runtime.run_case``) is that case's outcome, kept here, under the
name this process gave it, before the next cell is sent (``{"test", "id", "outcome"}`` in
``outcomes``; nothing for a cell that left none).

Why two processes. This one is the grader's: it alone holds FD, and it makes itself undumpable,
so the shell, which runs as the same user, cannot trace it, read its memory or reach its file
descriptors. The shell is forked before the notebook is read, so it never holds the notebook: it
receives each cell only when that cell's turn comes. The cells after the first N call the
student's functions on the checks' inputs; they are sent only once the first N cells' outputs
are final here, and nothing the shell sends back for them is kept. So nothing the student's code
does can put a check's input into the outputs the grader receives, or write to FD; and no call
can change the outcome of a call before it, or give one for a call that has not come yet.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import select
import signal
import sys
import time
import traceback

MAX_NOTEBOOK_BYTES = 32 << 20   # read from standard input
MAX_OUTCOME_BYTES = 8 << 20     # one check's outcome; a larger one is replaced by a note
MAX_OUTCOMES_BYTES = 64 << 20   # all of them
MAX_ANSWER_BYTES = 64 << 20     # one cell's answer from the shell
STARTUP_SECONDS = 60            # for the shell to start (as a Jupyter kernel's start-up limit)


class ShellStopped(Exception):
    """The run cannot go on; the message is the run's status."""


class Shell:
    """The shell process, forked from this one, and the pipes to it."""

    def __init__(self, closed_in_shell=()):
        commands_r, self.commands = os.pipe()
        self.results, results_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            _serve_in_child(commands_r, results_w, closed_in_shell + (self.commands, self.results))
        os.close(commands_r)
        os.close(results_w)
        self.pending = collections.deque()
        self.ended = False
        try:
            self.exited = os.pidfd_open(self.pid)  # readable once the shell has exited
        except (AttributeError, OSError):
            self.exited = None
        from selfcheck.shell import FrameReader
        self.reader = FrameReader(MAX_ANSWER_BYTES)

    def ready(self, seconds=STARTUP_SECONDS):
        """Wait until the shell has started (its start does not count in the first cell's time)."""
        if self._next(seconds) is None:
            raise ShellStopped(f"the kernel died: the shell did not start in {seconds} s")

    def run(self, source, seconds):
        """Run one cell; its answer ``{"outputs": […], "execution_count": n, "interrupted": b}``
        (``interrupted``: this process interrupted the cell at the time limit).

        Raises ``ShellStopped`` when the shell died, or ignored the interrupt at the time limit."""
        from selfcheck.shell import send
        self.pending.clear()  # anything the shell sent unasked is not this cell's answer
        try:
            send(self.commands, {"source": source})
        except OSError:
            raise ShellStopped(self._died())
        answer, interrupted = self._next(seconds), False
        if answer is None:
            self._signal(signal.SIGINT)
            answer, interrupted = self._next(seconds), True
        if answer is None:
            raise ShellStopped(f"a cell ran past the time limit of {seconds} s and was still "
                               f"running {seconds} s after it was interrupted")
        if not isinstance(answer, dict):
            answer = {}
        return {**answer, "interrupted": interrupted}   # the runner's word, never the shell's

    def _next(self, seconds):
        """The shell's next message, or None if it sent none within ``seconds``."""
        deadline = time.monotonic() + seconds
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._wait(left)
        return self.pending.popleft()

    def _wait(self, seconds):
        """Wait up to ``seconds`` for the shell's answer, reading what it sent."""
        watched = [self.results] + ([self.exited] if self.exited is not None else [])
        ready, _, _ = select.select(watched, [], [], seconds if self.exited is not None
                                    else min(seconds, 0.5))
        if self.results in ready:
            self._read()
        shell_ended = (self.exited in ready) if self.exited is not None else self._has_exited()
        if shell_ended and not self.pending:
            while select.select([self.results], [], [], 0)[0] and not self.ended:
                self._read()  # an answer written just before the shell ended
            if not self.pending:
                raise ShellStopped(self._died())

    def _read(self):
        data = os.read(self.results, 1 << 20)
        if not data:
            self.ended = True
            if not self.pending:
                raise ShellStopped(self._died())
            return
        try:
            self.pending.extend(self.reader.feed(data))
        except ValueError as exc:
            raise ShellStopped(f"the kernel died: it sent what is not a cell's outputs ({exc})"[:300])

    def _has_exited(self):
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True

    def _died(self):
        return "the kernel died (the shell process ended)"

    def _signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self):
        """Stop the shell at once (the sandbox ends every process it left anyway)."""
        self._signal(signal.SIGKILL)
        for fd in (self.commands, self.results, self.exited):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _serve_in_child(commands, results, close):
    """The forked shell process: close what is the runner's, then run cells until told to end."""
    code = 0
    try:
        for fd in close:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # the notebook comes through standard input: never into the shell
        os.close(devnull)
        from selfcheck.shell import serve
        serve(commands, results)
    except BaseException:  # noqa: B036 (the shell's own failure: say why, then end)
        code = 1
        try:
            traceback.print_exc()
        except BaseException:  # noqa: B036
            pass
    os._exit(code)


def run_notebook(shell, cells, keep, seconds):
    """Run the code cells of ``cells`` in ``shell``; (status, the first ``keep`` cells as run,
    the outcomes of the cells that name a case).

    The first ``keep`` cells' outputs are final before any later cell is sent."""
    ran = [{"cell_type": cell.get("cell_type"), "outputs": [], "execution_count": None}
           for cell in cells[:keep]]
    outcomes, size = [], [0]
    status = "ok"
    try:
        for index, cell in enumerate(cells):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("cell_type") != "code" or not source.strip():
                continue
            answer = shell.run(source, seconds)
            if index < keep:
                ran[index].update(outputs=answer.get("outputs", []),
                                  execution_count=answer.get("execution_count"),
                                  interrupted=answer["interrupted"])
            case = cell.get("case")
            if case is not None and "result" in answer:
                outcomes.append(_outcome(case, answer["result"], size))
    except ShellStopped as exc:
        status = str(exc)
    return status, ran, outcomes


def _outcome(case, result, size):
    """The record of one case's outcome, as this process names it; too large a result (alone, or
    after ``MAX_OUTCOMES_BYTES`` of others) is replaced by a note saying so."""
    test, case_id = case
    try:
        text = json.dumps(result, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        result, text = {"error": "ValueError: the value it returned could not be read"}, ""
    if len(text) > MAX_OUTCOME_BYTES or size[0] + len(text) > MAX_OUTCOMES_BYTES:
        result = {"error": f"ValueError: it returned {len(text) >> 20} MB of data, too much to "
                           f"judge (a check's answer is a few kilobytes)"}
    else:
        size[0] += len(text)
    return {"test": test, "id": case_id, "outcome": result}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-fd", type=int, required=True)
    parser.add_argument("--keep", type=int, default=None)
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)
    os.set_inheritable(args.output_fd, False)
    shell = Shell(closed_in_shell=(args.output_fd,))
    _undumpable()  # before any cell is sent: the shell can never trace this process
    try:
        notebook = json.loads(sys.stdin.buffer.read(MAX_NOTEBOOK_BYTES))
        cells = list(notebook["cells"])
        keep = len(cells) if args.keep is None else args.keep
        try:
            shell.ready()
        except ShellStopped as exc:
            status, ran, outcomes = str(exc), [], []
        else:
            status, ran, outcomes = run_notebook(shell, cells, keep, args.cell_timeout)
    finally:
        shell.stop()
    data = json.dumps({"status": status, "notebook": {"cells": ran}, "outcomes": outcomes},
                      default=repr).encode("utf-8")
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
