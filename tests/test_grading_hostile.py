"""Hostile and broken submissions graded in one class run beside honest ones.

A catalogue of submissions of ex01_neurons, each with the exact outcome it must produce, graded
together through the instructor's grading step (coursetools.grading, what `make autograde` runs)
on a temporary copy of the course, with two workers. The attacks are those a student can mount
from inside their own notebook: patching the checking code, shadowing names, rewriting cells
with an input transformer, reading the caller's frames for expected values, calling the course
library (directly, from a thread, with the profiler off, or by executing its source), reaching the
course, the gradebook or other students through the library's path or absolute paths, leaving a
daemon behind, killing the grader, writing to the runner's pipes, forking without end, and
printing what the kernel holds or what any file it can open holds. The
targets: no unearned marks, no effect on other students, no file changed outside the sandbox,
no crash of the class run, nothing of the hidden checks in the feedback.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursetools import course, grading, judge, sandbox

A = "ex01_neurons"
NB = f"{A}.ipynb"
FULL = 20.0
MARKER = "hostile-catalogue-daemon"

pytestmark = pytest.mark.skipif(not sandbox.available()[0],
                                reason=f"no grading sandbox here: {sandbox.available()[1]}")

# Placeholders in the submissions' code, filled in by the fixture: ROOT (the course copy),
# VICTIM (a folder outside the course that no submission may touch).
LIBCALL = ("from nnlib import activations as _act\n"
           "def sigmoid(v, a=1.0):\n    return CALL(_act.sigmoid, v, a)\n"
           "def sigmoid_derivative(v, a=1.0):\n    return CALL(_act.sigmoid_derivative, v, a)\n")

# student: (base notebook, {answer cell: source} or a special key, expected status,
#           expected score or None, words the reason or notes must contain)
CATALOGUE = {
    # --- honest work, which must be unaffected by everything else in the class ---
    "honest_full": ("perfect", {}, "graded", FULL, ""),
    "honest_partial": ("perfect", {"softmax": "def softmax(v):\n    e = np.exp(np.asarray(v, dtype=float))\n"
                                              "    return e / e.sum(axis=-1, keepdims=True)"},
                       "graded", 19.0, ""),
    # --- unearned marks: no work, only an attack: everything must score 0 ---
    "patches_checking": ("released", {"mcp_unit": (
        "import selfcheck, selfcheck.verdict, selfcheck.compare, selfcheck.runtime\n"
        "selfcheck.verdict.judge = lambda *a, **k: None\n"
        "selfcheck.compare.compare = lambda *a, **k: (True, '')\n"
        "selfcheck.check = lambda *a, **k: None\n"
        "def mcp_unit(X, w, theta):\n    return 0")}, "graded", 0.0, ""),
    "new_module_globals": ("released", {"mcp_unit": (
        "import selfcheck.compare, selfcheck.verdict\n"
        "selfcheck.compare.abs = lambda x: 0.0\nselfcheck.verdict.compare = lambda *a: (True, '')\n"
        "def mcp_unit(X, w, theta):\n    return 0")}, "graded", 0.0, ""),
    "shadows_names": ("released", {"mcp_unit": (
        "check = lambda *a, **k: None\nsummary = lambda: print('20 of 20 checks passed')\n"
        "class Checker:\n    def __init__(self, *a, **k): pass\n"
        "    def __getattr__(self, name): return lambda *a, **k: None\n"
        "def mcp_unit(X, w, theta):\n    return 0")}, "graded", 0.0, ""),
    "input_transformer": ("released", {"mcp_unit": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
        "def mcp_unit(X, w, theta):\n    return 0")}, "graded", 0.0, ""),
    "reads_caller_frames": ("released", {"sigmoid": (
        "import sys\n"
        "def _steal(shape):\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        for name in ('expected', 'want', 'reference'):\n"
        "            if name in f.f_locals:\n"
        "                return f.f_locals[name]\n"
        "        f = f.f_back\n"
        "    return None\n"
        "def sigmoid(v, a=1.0):\n    return _steal(np.shape(v))\n"
        "def sigmoid_derivative(v, a=1.0):\n    return _steal(np.shape(v))")}, "graded", 0.0, ""),
    "forges_results": ("released", {"mcp_unit": (
        "import json, selfcheck.runtime as rt\n"
        "for t in ['test_mcp_unit', 'test_gates', 'test_sigmoid', 'test_softmax']:\n"
        "    for k in range(10):\n"
        "        with open('results.jsonl', 'a') as f:\n"
        "            f.write(json.dumps({'test': t, 'id': f'{t}/{k}', 'outcome': {'value': 0.5}}) + '\\n')\n"
        "with open('results.jsonl', 'a') as f:\n"
        "    f.write('[' * 100000 + '\\n' + '{\"test\": [1], \"id\": {}, \"outcome\": 7}\\n')\n"
        "rt.run = lambda *a, **k: None\n"
        "def mcp_unit(X, w, theta):\n    return 0")}, "graded", 0.0, ""),
    "calls_library": ("released", {"sigmoid": "CALL = lambda f, *a: f(*a)\n" + LIBCALL},
                      "graded", 0.0, ""),
    "library_in_thread": ("released", {"sigmoid": "from concurrent.futures import ThreadPoolExecutor\n"
                                                  "CALL = lambda f, *a: ThreadPoolExecutor(1).submit(f, *a).result()\n"
                                                  + LIBCALL}, "graded", 0.0, ""),
    "profiler_off": ("released", {"sigmoid": "import sys\n"
                                             "def CALL(f, *a):\n    sys.setprofile(None)\n    return f(*a)\n"
                                             + LIBCALL}, "graded", 0.0, ""),
    "execs_library_source": ("released", {"sigmoid": (
        "import nnlib, pathlib\n"
        "_src = (pathlib.Path(nnlib.__file__).parent / 'activations.py').read_text()\n"
        "_ns = {}\nexec('\\n' + _src, _ns)\n"
        "def sigmoid(v, a=1.0):\n    return _ns['sigmoid'](v, a)\n"
        "def sigmoid_derivative(v, a=1.0):\n    return _ns['sigmoid_derivative'](v, a)")},
        "graded", 0.0, ""),
    "finds_the_course": ("released", {"sigmoid": (
        "import nnlib, pathlib, glob\n"
        "_found = {}\n"
        "for base in [pathlib.Path(nnlib.__file__).resolve().parents[2], pathlib.Path('ROOT')]:\n"
        "    for p in glob.glob(str(base / '**' / 'checks.py'), recursive=True)[:50]:\n"
        "        try:\n            exec(pathlib.Path(p).read_text(), _found)\n"
        "        except Exception:\n            pass\n"
        "def sigmoid(v, a=1.0):\n    return _found['ref'].sigmoid(v, a)\n"
        "def sigmoid_derivative(v, a=1.0):\n    return _found['ref'].sigmoid_derivative(v, a)")},
        "graded", 0.0, ""),
    "calls_visible_helpers": ("released", {"mcp_unit": (
        "def mcp_unit(X, w, theta):\n    return _mcp_reference(X, w, theta)\n"), "sigmoid": (
        "def sigmoid(v, a=1.0):\n    return _ref.sigmoid(v, a)\n"
        "def sigmoid_derivative(v, a=1.0):\n    return _numeric(v, a)")}, "graded", 0.0, ""),
    # --- effects on others: correct work plus an attack; the attack must change nothing ---
    "writes_everywhere": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import pathlib, nnlib, sqlite3\n"
        "_targets = ['ROOT/gradebook.db', 'ROOT/submitted/honest_full/ex01_neurons/ex01_neurons.ipynb',\n"
        "            'ROOT/solutions/ex01_neurons/checks.py', 'VICTIM/victim.txt',\n"
        "            str(pathlib.Path(nnlib.__file__).resolve().parent / 'activations.py'),\n"
        "            str(pathlib.Path(nnlib.__file__).resolve().parents[2] / 'gradebook.db'),\n"
        "            '../../honest_full/ex01_neurons/ex01_neurons.ipynb']\n"
        "for _t in _targets:\n"
        "    try:\n"
        "        pathlib.Path(_t).parent.mkdir(parents=True, exist_ok=True)\n"
        "        pathlib.Path(_t).write_text('overwritten')\n"
        "    except Exception:\n"
        "        pass\n"
        "try:\n"
        "    _db = sqlite3.connect('ROOT/gradebook.db')\n"
        "    _db.execute('update grade set auto_score = 0')\n"
        "    _db.commit()\n"
        "except Exception:\n"
        "    pass")}, "graded", FULL, ""),
    "leaves_a_daemon": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time, sys\\n"
        "if os.fork(): sys.exit(0)\\nos.setsid()\\n"
        "while True:\\n    time.sleep(0.2)\\n"
        "    for p in (\"ROOT/gradebook.db\", \"VICTIM/victim.txt\"):\\n"
        "        try: open(p, \"w\").write(\"late\")\\n"
        "        except Exception: pass', 'MARKER'], start_new_session=True, env={})")},
        "graded", FULL, ""),
    "kills_the_grader": ("perfect", {"gates": (
        "import os, signal\n"
        "for pid in sorted(int(p) for p in os.listdir('/proc') if p.isdigit()):\n"
        "    if pid != os.getpid():\n"
        "        try:\n            os.kill(pid, signal.SIGKILL)\n"
        "        except Exception:\n            pass\n")},
        "not graded", None, "ended without a result"),
    "writes_to_the_runner": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import os\n"
        "for _pid in [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:\n"
        "    for _fd in range(64):\n"
        "        try:\n"
        "            _w = os.open(f'/proc/{_pid}/fd/{_fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "            os.write(_w, b'{\"status\": \"ok\", \"notebook\": {\"cells\": []}}')\n"
        "            os.close(_w)\n"
        "        except Exception:\n"
        "            pass")}, "graded", FULL, ""),
    "forks_without_end": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import os, time\n"
        "try:\n"
        "    for _i in range(100000):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(600)\n"
        "            os._exit(0)\n"
        "except OSError:\n"
        "    pass")}, "graded", FULL, ""),
    # --- leaks: correct work that prints what the kernel holds ---
    "prints_everything": ("perfect", {"sigmoid": "SOLUTION\n" + (
        "import os, sys, threading, time\n"
        "_solution_sigmoid = sigmoid\n"
        "def sigmoid(v, a=1.0):\n"
        "    print(get_ipython().user_ns['In'][-1], dict(os.environ), sys.prefix, os.getcwd())\n"
        "    return _solution_sigmoid(v, a)\n"
        "def _spy():\n"
        "    while True:\n"
        "        print(get_ipython().user_ns['In'][-1][:300])\n"
        "        time.sleep(0.01)\n"
        "threading.Thread(target=_spy, daemon=True).start()\n"
        "print(dict(os.environ), sys.prefix, os.getcwd(), sys.path)")}, "graded", FULL, ""),
    "reads_the_notebook": ("perfect", {"softmax": "SOLUTION\n" + (
        "import base64, glob, os, re\n"
        "np.set_printoptions(precision=12)\n"
        "for _p in glob.glob('*') + glob.glob('/tmp/*') + glob.glob('/proc/*/fd/*') + glob.glob('/proc/*/cmdline'):\n"
        "    try:\n"
        "        _fd = os.open(_p, os.O_RDONLY | os.O_NONBLOCK)\n"
        "        _t = os.read(_fd, 1 << 24).decode('utf-8', 'replace')\n"
        "        os.close(_fd)\n"
        "    except Exception:\n"
        "        continue\n"
        "    for _b, _d, _s in re.findall(r'ndarray\\W+([A-Za-z0-9+/=]+)\\W+dtype\\W+([<>|a-z0-9]+)\\W+shape\\W+\\[([0-9, ]*)\\]', _t):\n"
        "        try:\n"
        "            print(_p, np.frombuffer(base64.b64decode(_b), _d).reshape([int(x) for x in _s.split(',') if x.strip()]))\n"
        "        except Exception:\n"
        "            pass")}, "graded", FULL, ""),
    "injects_html": ("perfect", "inject-html", "graded", FULL, ""),
    "returns_the_source": ("perfect", {"sigmoid": (
        "def sigmoid(v, a=1.0):\n    return get_ipython().user_ns['In'][-1]\n"
        "def sigmoid_derivative(v, a=1.0):\n    return get_ipython().user_ns['In'][-1]")},
        "graded", FULL - 5, ""),
    # --- broken work: nothing crashes the class, nothing is lost ---
    "edited_test_cells": ("perfect", "edit-test", "graded", FULL, ""),
    "deleted_test_cell": ("perfect", "delete-test", "graded", FULL, "test_softmax was deleted"),
    "test_cell_made_an_answer": ("perfect", "test-to-answer", "not graded", None,
                                 "grading metadata was altered"),
    "renamed_grade_id": ("perfect", "rename-id", "not graded", None, "grading metadata was altered"),
    "endless_loop": ("perfect", {"gates": "while True:\n    pass"}, "graded", FULL - 3, "was interrupted"),
    "swallows_interrupt": ("perfect", {"gates": "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                                                "    except KeyboardInterrupt:\n        pass"},
                           "not graded", None, "time limit"),
    "exhausts_memory": ("perfect", {"relu_family": "SOLUTION\nhog = bytearray(16 * 1024 ** 3)"},
                        "graded", FULL, ""),
    "kills_kernel": ("perfect", {"gates": "import os\nos._exit(1)"}, "not graded", None, "kernel died"),
    "system_exit": ("perfect", {"gates": "raise SystemExit(0)"}, "graded", FULL - 3, ""),
    "floods_output": ("perfect", {"relu_family": "SOLUTION\nfor i in range(100000):\n    print('spam', i)"},
                      "graded", FULL, ""),
    "invalid_json": ("perfect", "invalid-json", "not graded", None, "not a readable notebook"),
    "renamed_notebook": ("perfect", "renamed", "not graded", None, "missing notebook ex01_neurons.ipynb"),
    "wrong_kernel": ("perfect", "wrong-kernel", "graded", FULL, "asked for kernel 'ir'"),
    "extra_files": ("perfect", "extra-files", "graded", FULL, "extra files ignored: notes.txt"),
    # --- answers shaped to slip through the comparison, or to say more than they should ---
    "answers_complex_nan": ("released", {
        "mcp_unit": "_N = complex('nan')\ndef mcp_unit(X, w, theta):\n    return np.full(np.shape(X)[0], _N)",
        "gates": "def and_gate(X):\n    return np.full(len(X), complex('nan'))\nor_gate = not_gate = and_gate",
        "sigmoid": "def sigmoid(v, a=1.0):\n    return np.full(np.shape(v), complex('nan'))\n"
                   "sigmoid_derivative = sigmoid",
        "relu_family": "relu = relu_derivative = leaky_relu = leaky_relu_derivative = tanh_derivative = "
                       "lambda v, *a, **k: np.full(np.shape(v), complex('nan'))",
        "softmax": "def softmax(v):\n    return np.full(np.shape(v), complex(0.5, 1e-9))"},
        "graded", 0.86, ""),          # the shapes are right: the two shape checks' share, nothing more
    "packs_its_input": ("perfect", {"sigmoid": (
        "def _tree(items):\n    while len(items) > 8:\n"
        "        items = [tuple(items[i:i + 8]) for i in range(0, len(items), 8)]\n    return tuple(items)\n"
        "def sigmoid(v, a=1.0):\n    return _tree([repr(float(x)) for x in np.ravel(v)])\n"
        "def sigmoid_derivative(v, a=1.0):\n    raise ValueError(repr(np.asarray(v).tolist()))")},
        "graded", FULL - 5, ""),
    "bloats_its_messages": ("perfect", {"softmax": (
        "def softmax(v):\n    t = 'x' * 50\n    for _ in range(6):\n        t = (t,) * 8\n    return t")},
        "graded", FULL - 3, ""),
    "warns_with_its_input": ("perfect", {"sigmoid": "SOLUTION\n" + (
        "import warnings\n_right = sigmoid\n"
        "def sigmoid(v, a=1.0):\n"
        "    for x in np.ravel(v)[:24]:\n"
        "        if x % 1:   # not the published inputs (whole numbers): a hidden one\n"
        "            warnings.warn(repr(float(x)))\n"
        "    return _right(v, a)")}, "graded", FULL, ""),
    "leaves_a_kernel_key": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import ctypes, os\n"
        "_libc = ctypes.CDLL(None, use_errno=True)\n"
        "_libc.syscall.restype = ctypes.c_long\n"
        "_number = {'x86_64': 248, 'aarch64': 217}[os.uname().machine]   # add_key\n"
        "_made = _libc.syscall(_number, b'user', b'MARKER-key', b'for the next student', 20, -4)\n"
        "print('add_key:', os.strerror(ctypes.get_errno()) if _made < 0 else f'made key {_made}')")},
        "graded", FULL, ""),
    # a copy of Python with its set-user-ID bit set would run, for whoever starts it from outside,
    # as the sandbox's user (the instructor, or the uid of every later student of the slot)
    "leaves_a_set_uid_file": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import os, shutil, stat, sys\n"
        "_made = []\n"
        "for _name, _how in (('chmod', lambda p: os.chmod(p, 0o4755)),\n"
        "                    ('chmod g+s', lambda p: os.chmod(p, 0o2755)),\n"
        "                    ('fchmod', lambda p: os.fchmod(os.open(p, os.O_RDONLY), 0o6755)),\n"
        "                    ('open', lambda p: os.close(os.open(p + '-new', os.O_CREAT | os.O_WRONLY, 0o4755))),\n"
        "                    ('mknod', lambda p: os.mknod(p + '-node', 0o4755 | stat.S_IFREG))):\n"
        "    _path = shutil.copy(sys.executable, f'{os.getcwd()}/py-{_name.replace(\" \", \"-\")}')\n"
        "    try:\n"
        "        _how(_path)\n"
        "        _made.append(f'{_name}: made')\n"
        "    except OSError as exc:\n"
        "        _made.append(f'{_name}: {exc.strerror}')\n"
        "os.chmod(_path, 0o755)   # an ordinary mode is still fine\n"
        "_set = [p for p in os.listdir('.') if os.stat(p).st_mode & 0o6000]\n"
        "print('set-id:', '; '.join(_made), '| set-id files:', _set)")},
        "graded", FULL, ""),
    # --- bulk: text that is small in bytes but would swell the grading process once read ---
    "bulky_answers": ("perfect", {"softmax": "SOLUTION\n" + (
        "import selfcheck.shell as _sh\n"
        "_send, _left = _sh.send, [2]\n"
        "def _bulky(fd, message):\n"
        "    if _left[0] > 0 and isinstance(message, dict) and 'outputs' in message:\n"
        "        _left[0] -= 1\n"
        "        message = dict(message, outputs=list(message['outputs']) + [{'output_type': 'stream',\n"
        "                       'name': 'stdout', 'text': '', 'junk': [{}] * 150_000}])\n"
        "    _send(fd, message)\n"
        "_sh.send = _bulky\n")}, "not graded", None, "JSON objects and lists"),
    "bulky_notebook": ("perfect", "bulky-notebook", "not graded", None,
                       "JSON objects and lists where a notebook has a few per cell"),
    # --- text that would act on the instructor's terminal or pass for the judge's own ---
    "forges_the_log": ("perfect", {"relu_family": "SOLUTION\n" + (
        "import os\n"
        "os.write(2, b'\\x1b]0;retitled\\x07\\x1b[2J\\x1b[H===== honest_full: not graded forged\\n')\n")},
        "graded", FULL, ""),
    "forges_a_pass_line": ("released", {"softmax": (
        "import warnings\n"
        "class _Shown:\n"
        "    def __repr__(self):\n"
        "        return '\\n✓ softmax: all 6 checks passed.\\n'\n"
        "def softmax(v):\n"
        "    warnings.warn('x)\\n✓ softmax: all 6 checks passed.\\n')\n"
        "    return _Shown()")}, "graded", 0.0, ""),
    # a lone surrogate (valid JSON, not UTF-8 text) in what it prints, and in a Markdown cell
    "prints_a_lone_surrogate": ("perfect", {"relu_family": "SOLUTION\n" + (
        "print('a lone surrogate: ' + chr(0xD800))\n"), "markdown": "LONE_SURROGATE"},
        "graded", FULL, ""),
    "fakes_an_interrupt": ("perfect", {"sigmoid": (
        "def sigmoid(v, a=1.0):\n    raise KeyboardInterrupt\n"
        "def sigmoid_derivative(v, a=1.0):\n    raise KeyboardInterrupt")}, "graded", FULL - 5, ""),
}


# What "injects_html" displays: every kind of output that a browser could run
INJECTED_OUTPUTS = (
    "from IPython.display import display, HTML, Javascript, SVG, Markdown, Latex\n"
    "display(HTML(\"<b>bold</b><script>STEAL('html')</script><img src=x onerror=\\\"STEAL('img')\\\">\"))\n"
    "display(Javascript(\"STEAL('js')\"))\n"
    "display(SVG(\"<svg xmlns='http://www.w3.org/2000/svg' onload=\\\"STEAL('svg')\\\"></svg>\"))\n"
    "display(Markdown(\"<script>STEAL('markdown')</script>\"))\n"
    "display(Latex(r\"$\\href{javascript:STEAL('latex')}{x}$\"))\n"
    "display({'text/html': '<a href=\\\"javascript:STEAL(1)\\\">x</a>', 'text/plain': 'a link'}, raw=True)\n")


def _fill(text, root, victim):
    return text.replace("ROOT", str(root)).replace("VICTIM", str(victim)).replace("MARKER", MARKER)


def _build(base, spec, root, victim):
    """The files one catalogue entry submits."""
    nb = nbformat.reads(nbformat.writes(base), as_version=4)
    files = {}
    gid = lambda c: c.metadata.get("nbgrader", {}).get("grade_id")  # noqa: E731
    if spec == "invalid-json":
        return {NB: nbformat.writes(nb)[:3000]}
    if spec == "renamed":
        return {"my_work.ipynb": nbformat.writes(nb)}
    if spec == "wrong-kernel":
        nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    elif spec == "extra-files":
        files["notes.txt"] = "my notes"
        files["submission_secret.txt"] = "nbgrader's own"
    elif spec == "edit-test":
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass  # tests are for other people"
    elif spec == "delete-test":
        nb.cells = [c for c in nb.cells if gid(c) != "test_softmax"]
    elif spec == "test-to-answer":
        cell = next(c for c in nb.cells if gid(c) == "test_gates")
        cell.metadata.nbgrader.update(grade=False, solution=True, locked=False)
        cell.source = "pass"
    elif spec == "inject-html":
        # correct work, plus active content everywhere a student can put it: outputs of every
        # kind, a Markdown cell and raw cells of their own (the instructor's browser shows them all)
        solutions = {gid(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            if gid(cell) == "relu_family":
                cell.source = solutions["relu_family"] + "\n" + INJECTED_OUTPUTS
        nb.cells.append(nbformat.v4.new_markdown_cell(
            "My notes <script>STEAL('md')</script> <img src=x onerror=\"STEAL('md-img')\"> "
            "<iframe src=\"javascript:STEAL('md-frame')\"></iframe> [link](javascript:STEAL('md-link')) "
            "$\\href{javascript:STEAL('md-tex')}{x}$"))
        nb.cells.append(nbformat.v4.new_raw_cell("<script>STEAL('raw')</script>"))
        raw = nbformat.v4.new_raw_cell("<img src=x onerror=\"STEAL('raw-html')\">")
        raw.metadata["format"] = "text/html"
        nb.cells.append(raw)
    elif spec == "bulky-notebook":
        nb.cells[0].metadata["x"] = [{}] * 150_000             # 600 kB of text
    elif spec == "rename-id":
        next(c for c in nb.cells if gid(c) == "softmax").metadata.nbgrader["grade_id"] = "softmax_v2"
    else:
        if "markdown" in spec:                                  # a Markdown cell of the student's own
            nb.cells.append(nbformat.v4.new_markdown_cell(spec["markdown"]))
        solutions = {gid(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            if gid(cell) in spec:
                cell.source = _fill(spec[gid(cell)], root, victim).replace("SOLUTION", solutions[gid(cell)])
    files[NB] = nbformat.writes(nb).replace("LONE_SURROGATE", "\\ud800")   # JSON's escape
    return files


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _library_digest():
    """The course library's files that the submissions above try to overwrite."""
    lib = course.ROOT / "lib" / "nnlib"
    return {name: hashlib.sha256((lib / name).read_bytes()).hexdigest()
            for name in ("__init__.py", "activations.py")}


def _sandbox_processes(scratch):
    """Processes still running in one of this class run's sandboxes (their home is a folder under
    ``scratch``), or carrying the daemon's marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            mounts = (entry / "mountinfo").read_text(errors="replace")
        except OSError:
            continue
        if MARKER.encode() in cmd or str(scratch) in mounts:
            found.append((entry.name, cmd[:80]))
    return found


@pytest.fixture(scope="module")
def graded_class(course_copy, tmp_path_factory):
    root = course_copy
    victim = tmp_path_factory.mktemp("victim")
    (victim / "victim.txt").write_text("untouched")
    os.environ["GRADING_CELL_SECONDS"] = "10"
    os.environ["GRADING_SECONDS_PER_STUDENT"] = "90"
    scratch = tmp_path_factory.mktemp("scratch")
    os.environ["GRADING_SCRATCH"] = str(scratch)
    try:
        course.generate(A, root=root)
        released = nbformat.read(root / "exercises" / A / NB, as_version=4)
        solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
        perfect = course.fill_with_solutions(released, solution)
        bases = {"perfect": perfect, "released": released}
        for student, (base, spec, *_rest) in CATALOGUE.items():
            folder = root / "submitted" / student / A
            folder.mkdir(parents=True)
            for name, text in _build(bases[base], spec, root, victim).items():
                (folder / name).write_text(text, encoding="utf-8")
        before = {"submitted": _digest(root / "submitted"), "solutions": _digest(root / "solutions"),
                  "lib": _library_digest(), "victim": _digest(victim)}
        report = grading.autograde(A, root=root, workers=2)
        rows = {r["student"]: r for r in grading.grade_table(A, root=root)}
    finally:
        os.environ.pop("GRADING_CELL_SECONDS", None)
        os.environ.pop("GRADING_SECONDS_PER_STUDENT", None)
        os.environ.pop("GRADING_SCRATCH", None)
    return root, report, rows, before, victim, scratch


@pytest.mark.parametrize("student", list(CATALOGUE))
def test_each_submission_gets_exactly_its_outcome(graded_class, student):
    _, report, rows, *_ = graded_class
    _, _, status, score, words = CATALOGUE[student]
    row = rows[student]
    assert row["status"] == status, (student, row, report[student].get("reason"))
    if score is None:
        assert row["score"] == ""
    else:
        assert float(row["score"]) == pytest.approx(score), (student, row)
    told = f"{row['reason']} {row['notes']}"
    assert words in told, (student, told)
    if status == "not graded":
        assert row["reason"], "a submission that was not graded must say why"


def test_the_class_run_has_one_row_per_student(graded_class):
    root, report, rows, *_ = graded_class
    assert sorted(rows) == sorted(CATALOGUE)
    log = (root / "reports" / f"{A}.log").read_text()
    for student in CATALOGUE:
        assert f"===== {student}:" in log


def test_the_log_cannot_act_on_a_terminal_or_forge_a_heading(graded_class):
    root, *_ = graded_class
    log = (root / "reports" / f"{A}.log").read_text()
    assert not any(c in log for c in "\x1b\x07\r"), "control characters reached the log"
    headings = [line for line in log.splitlines() if line.startswith("=====")]
    assert sorted(h.split(":")[0][6:] for h in headings) == sorted(CATALOGUE), headings
    assert r"\x1b]0;retitled" in log                          # shown, escaped, under its heading


def test_a_returned_object_or_a_warning_cannot_start_a_line_of_the_messages(graded_class):
    root, *_ = graded_class
    nb = nbformat.read(root / "autograded" / "forges_a_pass_line" / A / NB, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax")
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                      + o.get("evalue", "") + "\n".join(o.get("traceback", []))
                      for o in cell.outputs)
    assert "all 6 checks passed" in text                      # the object's text is shown …
    assert not [line for line in text.splitlines() if line.lstrip().startswith("✓")], text


def test_no_file_outside_the_sandbox_changed(graded_class):
    root, *_, before, victim, _ = graded_class
    assert _digest(root / "submitted") == before["submitted"]
    assert _digest(root / "solutions") == before["solutions"]
    assert _library_digest() == before["lib"]
    assert _digest(victim) == before["victim"]


def test_honest_grades_in_the_gradebook_are_untouched(graded_class):
    root, *_ = graded_class
    scores = course.scores(A, root=root)
    assert scores["honest_full"]["total"] == FULL
    assert scores["honest_partial"]["total"] == 19.0


def test_no_process_outlives_its_sandbox(graded_class):
    *_, scratch = graded_class
    assert _sandbox_processes(scratch) == []


def test_messages_say_why_library_calls_earn_nothing(graded_class):
    root, *_ = graded_class
    nb = nbformat.read(root / "autograded" / "profiler_off" / A / NB, as_version=4)
    text = " ".join(o.get("evalue", "") for c in nb.cells for o in c.get("outputs", []))
    assert "not available while graded" in text


def _hidden_numbers():
    """Every non-integer number of the hidden checks' inputs: its first five decimals."""
    plan = judge.load(A, course.ROOT).judge_plan()
    numbers = set()
    for test in plan.values():
        for case in test["cases"]:
            if not case["hidden"]:
                continue
            for value in case["inputs"].values():
                arr = np.asarray(value) if not callable(value) else np.zeros(0)
                if arr.dtype.kind == "f":
                    numbers |= {f"{abs(x):.12f}"[:f"{abs(x):.12f}".index(".") + 6]
                                for x in arr.ravel() if x != round(x)}
    return numbers


def _leaked(text, hidden):
    return sorted(n for n in hidden if re.search(rf"(?<![\d.]){re.escape(n)}", text))


def test_no_hidden_input_reaches_any_output_but_the_judges_messages(graded_class):
    root, report, *_ = graded_class
    hidden = _hidden_numbers()
    assert len(hidden) > 20
    for student, r in report.items():
        path = root / "autograded" / student / A / NB
        if r["status"] != "graded":
            continue
        nb = nbformat.read(path, as_version=4)
        text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"
                           and not c.metadata.get("nbgrader", {}).get("grade")])
        assert not _leaked(text, hidden), f"{student}: hidden inputs in the student's own outputs"


def _active(html):
    """What in a page could run in the browser that shows it: the injected calls where they would
    execute (in a script, an event handler, a javascript: link, a MathJax link outside code, which
    MathJax leaves alone), not where they are shown as text."""
    outside_code = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S)
    return (re.findall(r"<script[^>]*>[^<]*STEAL|<\w+\b[^>]*\son\w+\s*=\s*[\"']?[^\"'>]*STEAL"
                       r"|<\w+\b[^>]*\s(?:href|src|action|formaction)\s*=\s*[\"']?\s*"
                       r"(?:javascript|vbscript|data):[^\"'>]*STEAL", html, flags=re.I)
            + re.findall(r"(?<!\\)\\href\s*\{\s*javascript", outside_code))


def test_nothing_a_student_displayed_or_wrote_can_run_in_the_instructor_s_browser(graded_class):
    """The graded copy is shown by the Formgrader in the instructor's own Jupyter server and in
    the feedback: rendered the way both render it, none of the injected calls can run."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    assert len(_active("<script>STEAL(1)</script> <img src=x onerror=\"STEAL(2)\"> "
                       "<a href=\"javascript:STEAL(3)\">")) == 3            # the detector finds them
    root, *_ = graded_class
    nb = nbformat.read(root / "autograded" / "injects_html" / A / NB, as_version=4)
    shown = json.dumps(nb)
    assert "bold" in shown and "My notes" in shown and "STEAL('raw')" in shown   # kept, as text
    assert "application/javascript" not in shown and "image/svg+xml" not in shown
    for course_settings in (False, True):   # nbconvert's own rendering, then the course's
        config = Config()
        if course_settings:                  # what nbgrader reads from the course's configuration
            path = root / "nbgrader_config.py"
            exec(compile(path.read_text(), str(path), "exec"), {"get_config": lambda: config,
                                                                "__file__": str(path)})
            assert config.HTMLExporter.sanitize_html is True
        config.HTMLExporter.template_name = "formgrade"          # as the Formgrader sets them
        config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
        html, _ = HTMLExporter(config=config).from_notebook_node(
            nb, resources={"base_url": "", "notebook_id": A, "submission_id": "s", "index": 0,
                           "total": 1, "notebook_path": "", "mathjax_url": ""})
        assert "My notes" in html
        assert _active(html) == [], f"the Formgrader's page could run: {_active(html)}"
    grading.feedback(A, root=root)
    page = (root / "feedback" / "injects_html" / A / f"{A}.html").read_text()
    assert "My notes" in page and _active(page) == [], f"the feedback page could run: {_active(page)}"


def test_feedback_shows_no_hidden_input_no_checks_and_no_machine_path(graded_class):
    root, *_ = graded_class
    grading.feedback(A, root=root)
    pages = {p.parent.parent.name: p.read_text() for p in (root / "feedback").rglob("*.html")}
    assert {"honest_full", "prints_everything", "returns_the_source", "warns_with_its_input"} <= set(pages)
    hidden = _hidden_numbers()
    scores = course.scores(A, root=root)
    for student, page in pages.items():
        # a path the student wrote into their own code is theirs to see
        own = (root / "submitted" / student / A / NB).read_text()
        for secret in ("checks.py", "default_rng(30101)", str(root), str(course.ROOT), "/tmp/",
                       "/root/", "GRADING_", "NBGRADER"):
            if secret not in own:
                assert secret not in page, f"{student}: feedback shows {secret!r}"
        if scores[student]["total"] == FULL:  # no failure message describes a hidden input
            assert not _leaked(page, hidden), f"{student}: feedback shows hidden inputs"


def test_only_the_runner_says_a_cell_was_interrupted(graded_class):
    """A KeyboardInterrupt the student raises is their error, not the time limit's."""
    _, report, rows, *_ = graded_class
    assert "interrupted" not in rows["fakes_an_interrupt"]["notes"]
    assert "was interrupted" in rows["endless_loop"]["notes"]


def test_a_returned_value_shows_only_a_few_numbers_of_a_hidden_input(graded_class):
    """Packed into nested tuples, or raised in an error, a hidden input reaches the feedback only
    as far as a failed hidden check describes what came back: in about 100 characters."""
    root, *_ = graded_class
    grading.feedback(A, root=root)
    page = (root / "feedback" / "packs_its_input" / A / f"{A}.html").read_text()
    plan = judge.load(A, course.ROOT).judge_plan()
    sigmoid_inputs = {f"{abs(x):.12f}"[:f"{abs(x):.12f}".index(".") + 6]
                      for t in ("test_sigmoid", "test_sigmoid_derivative")
                      for c in plan[t]["cases"] if c["hidden"]
                      for v in c["inputs"].values() for x in np.ravel(v) if x != round(x)}
    assert len(sigmoid_inputs) >= 20
    leaked = _leaked(page, sigmoid_inputs)
    print(f"{len(leaked)} of {len(sigmoid_inputs)} hidden numbers shown")
    assert len(leaked) < len(sigmoid_inputs) * 0.6
    nb = nbformat.read(root / "autograded" / "packs_its_input" / A / NB, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("test_sigmoid", "test_sigmoid_derivative"):
            text = "\n".join(o.get("text", "") + o.get("evalue", "") + "\n".join(o.get("traceback", []))
                             for o in cell.outputs)
            received = [line.strip() for line in text.splitlines() if line.strip().startswith("received")]
            received += [line.split(" raised ", 1)[1] for line in text.splitlines() if " raised " in line]
            assert received and all(len(part) <= 220 for part in received), received


def test_messages_stay_short_whatever_comes_back(graded_class):
    root, *_ = graded_class
    graded = root / "autograded" / "bloats_its_messages" / A / NB
    honest = root / "autograded" / "honest_full" / A / NB
    assert graded.stat().st_size < 2 * honest.stat().st_size


def test_the_kernel_s_key_store_is_closed_to_the_sandbox(graded_class):
    """The kernel keeps a key after its process and namespaces are gone, readable by other users
    when the key says so: a note for a student graded later. The sandbox's seccomp filter
    refuses the key calls."""
    root, *_ = graded_class
    nb = nbformat.read(root / "autograded" / "leaves_a_kernel_key" / A / NB, as_version=4)
    said = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "add_key: Operation not permitted" in said, said[-500:]
    keys = Path("/proc/keys").read_text() if Path("/proc/keys").exists() else ""
    assert f"{MARKER}-key" not in keys


def test_no_file_made_in_the_sandbox_can_run_as_its_user(graded_class):
    """chmod, fchmod, open and mknod with a set-user-ID or set-group-ID bit fail in the sandbox:
    such a file, started from outside while the class is graded, would run as the instructor
    (grading as a normal user) or as the uid later students are graded as (grading as root)."""
    root, *_ = graded_class
    nb = nbformat.read(root / "autograded" / "leaves_a_set_uid_file" / A / NB, as_version=4)
    said = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert ("set-id: chmod: Operation not permitted; chmod g+s: Operation not permitted; fchmod: "
            "Operation not permitted; open: Operation not permitted; mknod: Operation not permitted "
            "| set-id files: []") in said, said[-800:]


def test_the_sandbox_s_filter_refuses_set_id_modes_and_nothing_else(tmp_path):
    """The seccomp filter on its own, in a sandbox: the ordinary modes still work."""
    from coursetools import sandbox as sandboxing
    ok, why = sandboxing.available()
    if not ok or sandboxing.seccomp_filter() is None:
        pytest.skip(why or "no seccomp filter for this machine")
    box = sandboxing.Sandbox(grading.LIB, limits=sandboxing.Limits(seconds=60))
    scratch = box.prepare_scratch(tmp_path / "scratch")
    code = ("import os\n"
            "open('f', 'w').close(); os.chmod('f', 0o755); os.chmod('f', 0o644)\n"
            "fd = os.open('g', os.O_CREAT | os.O_WRONLY, 0o600); os.fchmod(fd, 0o640); os.close(fd)\n"
            "os.mkdir('d', 0o755)\n"
            "for mode in (0o4755, 0o2755):\n"
            "    try:\n"
            "        os.chmod('f', mode)\n"
            "    except PermissionError:\n"
            "        print('refused', oct(mode))\n"
            "print(oct(os.stat('f').st_mode & 0o7777), oct(os.stat('g').st_mode & 0o7777))")
    run = box.run([f"{sandboxing.ENV_MOUNT}/bin/python", "-c", code], scratch)
    assert "refused 0o4755\nrefused 0o2755\n0o644 0o640" in run.output, run.output
