"""The runner that executes a submission inside the grading sandbox (selfcheck.runner), run
directly: what it records of each cell, its time limit per cell, a shell that dies, and what it
never sends back (the outputs of the cells after the student's own).

The sandbox around it is tested by test_grading_hostile.py; here the runner runs as a plain
process, so that each behaviour is checked on its own.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

ENDLESS_SECONDS = 3  # the limit per cell in the tests of endless cells (the others run in ms)


def run(cells, tmp_path, keep=None, cell_seconds=120):
    """Run ``cells`` (sources, or cell dicts) through the runner in ``tmp_path``; what it wrote
    to its output."""
    notebook = {"cells": [dict({"cell_type": "code", "source": s, "metadata": {}}) if isinstance(s, str)
                          else dict({"cell_type": "code", "metadata": {}}, **s) for s in cells]}
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    with tempfile.TemporaryFile() as out:
        argv = [sys.executable, "-m", "selfcheck.runner", "--output-fd", str(out.fileno()),
                "--cell-timeout", str(cell_seconds)] + (["--keep", str(keep)] if keep is not None else [])
        proc = subprocess.run(argv, input=json.dumps(notebook).encode(), pass_fds=(out.fileno(),),
                              cwd=tmp_path, env=env, capture_output=True, timeout=600)
        assert proc.returncode == 0, proc.stderr.decode()[-3000:]
        out.seek(0)
        return json.loads(out.read().decode())


def outputs(result, index):
    return result["notebook"]["cells"][index]["outputs"]


def test_outputs_are_recorded_as_a_notebook_holds_them(tmp_path):
    result = run(["print('to stdout')\nimport sys\nprint('to stderr', file=sys.stderr)\n6 * 7",
                  "from IPython.display import HTML, display\ndisplay(HTML('<b>bold</b>'))",
                  "1 / 0",
                  "x = 1;",
                  "import matplotlib.pyplot as plt\nplt.plot([1, 2]);"], tmp_path)  # fonts: slow once
    assert result["status"] == "ok"
    first = outputs(result, 0)
    assert [o["output_type"] for o in first] == ["stream", "stream", "execute_result"]
    assert (first[0]["name"], first[0]["text"]) == ("stdout", "to stdout\n")
    assert (first[1]["name"], first[1]["text"]) == ("stderr", "to stderr\n")
    assert first[2]["data"]["text/plain"] == "42" and first[2]["execution_count"] == 1
    assert outputs(result, 1)[0]["data"]["text/html"] == "<b>bold</b>"
    error = outputs(result, 2)[0]
    assert (error["output_type"], error["ename"], error["evalue"]) == ("error", "ZeroDivisionError",
                                                                       "division by zero")
    assert any("1 / 0" in re.sub(r"\x1b\[[0-9;]*m", "", line) for line in error["traceback"])
    assert outputs(result, 3) == []
    assert [o["output_type"] for o in outputs(result, 4)] == ["display_data"]
    assert "image/png" in outputs(result, 4)[0]["data"]
    assert [c["execution_count"] for c in result["notebook"]["cells"]] == [1, 2, 3, 4, 5]


def test_a_cell_past_its_time_limit_is_interrupted_once_and_the_run_goes_on(tmp_path):
    result = run(["open('started', 'a').write('x')\nwhile True:\n    pass", "print('next')"], tmp_path,
                 cell_seconds=ENDLESS_SECONDS)
    assert result["status"] == "ok"
    assert outputs(result, 0)[0]["ename"] == "KeyboardInterrupt"
    assert outputs(result, 1)[0]["text"] == "next\n"
    assert (tmp_path / "started").read_text() == "x"  # the cell was never run twice


def test_a_cell_that_ignores_the_interrupt_ends_the_run(tmp_path):
    result = run(["print('before')",
                  "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                  "    except KeyboardInterrupt:\n        pass",
                  "open('ran', 'w').write('x')"], tmp_path, cell_seconds=ENDLESS_SECONDS)
    assert result["status"].startswith("a cell ran past the time limit")
    assert outputs(result, 0)[0]["text"] == "before\n"
    assert not (tmp_path / "ran").exists()


def test_a_shell_that_dies_ends_the_run_and_keeps_what_ran_before(tmp_path):
    result = run(["print('before')", "import os\nos._exit(3)", "print('after')"], tmp_path)
    assert result["status"].startswith("the kernel died")
    assert outputs(result, 0)[0]["text"] == "before\n"
    assert outputs(result, 2) == []


def test_exit_ends_the_run_as_it_ends_a_kernel(tmp_path):
    result = run(["exit()", "print('after')"], tmp_path)
    assert result["status"].startswith("the kernel died")
    assert outputs(result, 1) == []


def test_only_the_kept_cells_come_back_and_nothing_of_the_later_ones(tmp_path):
    spy = ("import threading, time\n"
           "def spy():\n"
           "    while True:\n"
           "        print(get_ipython().user_ns['In'][-1])\n"
           "        time.sleep(0.001)\n"
           "threading.Thread(target=spy, daemon=True).start()\n"
           "time.sleep(0.2)")
    result = run([spy, "print('mine')", "secret = 'SECRET-4711'\nimport time\ntime.sleep(0.5)"],
                 tmp_path, keep=2)
    assert result["status"] == "ok"
    assert len(result["notebook"]["cells"]) == 2
    assert "mine" in json.dumps(result)
    assert "SECRET-4711" not in json.dumps(result)


def test_a_flood_of_output_is_cut(tmp_path):
    result = run(["for i in range(300000):\n    print('spam', i)"], tmp_path)
    text = outputs(result, 0)[0]["text"]
    assert result["status"] == "ok"
    assert text.startswith("spam 0\n") and text.endswith("… (output cut)\n")
    assert len(text) < 1_100_000


@pytest.mark.parametrize("stdin_read", ["import sys\nprint(sys.stdin.read())",
                                        "import os\nprint(os.read(0, 100))"])
def test_the_shell_cannot_read_the_notebook(tmp_path, stdin_read):
    result = run([stdin_read, "'SECRET-4711'"], tmp_path, keep=1)
    assert "SECRET" not in json.dumps(result)


def test_what_the_shell_forges_on_its_own_pipe_ends_only_its_own_run(tmp_path):
    forge = ("import os, struct\n"
             "for fd in range(3, 64):\n"
             "    try:\n"
             "        os.write(fd, struct.pack('!Q', 200000) + b'[' * 200000)\n"
             "    except OSError:\n"
             "        pass\n"
             "print('forged')")
    result = run(["print('before')", forge, "print('after')"], tmp_path)
    assert result["status"].startswith("the kernel died")
    assert outputs(result, 0)[0]["text"] == "before\n"


def test_each_check_s_outcome_is_kept_before_the_next_call_and_under_the_runner_s_name(tmp_path):
    """A cell that names a case sends that case's outcome with its answer. A later cell can
    neither change an earlier case's outcome, nor give one under another case's name, nor
    leave one for a case whose cell has not run."""
    shell = "__import__('selfcheck.shell', fromlist=['set_cell_result'])"
    cells = [
        "answers = []",
        {"source": f"{shell}.set_cell_result({{'value': 1.0}})", "case": ["t", "t/0"]},
        # a later call: rewrites what it can reach of the earlier outcome, and claims other names
        {"source": (f"import selfcheck.shell as s\n"
                    f"s._CELL_RESULT[:] = []\n"
                    f"s.set_cell_result({{'test': 'u', 'id': 't/0', 'value': 99.0}})"), "case": ["t", "t/1"]},
        {"source": "x = 1", "case": ["t", "t/2"]},                  # leaves no result
        "print('the student cell after the checks')",
    ]
    result = run(cells, tmp_path, keep=1)
    assert result["status"] == "ok"
    assert result["outcomes"] == [
        {"test": "t", "id": "t/0", "outcome": {"value": 1.0}},
        {"test": "t", "id": "t/1", "outcome": {"test": "u", "id": "t/0", "value": 99.0}},
    ]
