"""The instructor's grading steps, one command each, that never lose a submission or a grade.

    python -m coursetools.grading import     ASSIGNMENT FOLDER   # a folder of submissions
    python -m coursetools.grading autograde  ASSIGNMENT [--workers N] [--cluster local|ADDRESS]
                                                        [--no-sandbox]
    python -m coursetools.grading feedback   ASSIGNMENT
    python -m coursetools.grading grades     ASSIGNMENT          # writes grades-ASSIGNMENT.csv

(`make collect|autograde|feedback|grades A=ASSIGNMENT` run the same.)

How a submission is graded:

1. It is checked before anything runs: a notebook that is missing, renamed or not readable, or
   whose grading metadata was altered, is reported by name with the reason.
2. The notebook is rebuilt from the released one: the student's answer cells, the course's own
   test and read-only cells (whatever the student did to them), the student's extra cells.
3. It runs in a sandbox of its own (``coursetools.sandbox``): its own unprivileged user, no
   network, no view of the course, the gradebook, other students or the grader, limits on time,
   memory, processes and file size, and a course library without the graded implementations.
   Each test cell there only remembers the student's names; after the last cell, the student's
   functions are called on the checks' inputs (visible and hidden) and what they return is
   written to the sandbox's scratch folder.
4. The judge, in this process, compares what came back with the expected values it computed
   itself (``coursetools.judge``), decides the points and writes the messages under each test
   cell. The scores go to nbgrader's gradebook and the judged notebook to autograded/, from which
   ``feedback`` makes the students' HTML.

Students are graded concurrently (``workers``, default: the number of cores), each in its own
sandbox; results are written to the gradebook by this process alone, one student at a time. A
submission that hangs, crashes or misbehaves affects only its own row. The outcome of every student
is written to reports/ASSIGNMENT.json and reports/ASSIGNMENT.log, and the grade table marks a
submission that could not be graded as "not graded" with the reason, never as a plain 0.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime
import json
import os
import queue
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
import warnings
from pathlib import Path

import nbformat

from coursetools import course, judge as judging, safe_display, sandbox as sandboxing

LIB = Path(__file__).resolve().parents[1]     # the repository's lib/ (nnlib, selfcheck, …)
#: Files a submission may carry besides its notebooks, without a note.
EXPECTED_EXTRAS = {"timestamp.txt", "submission_secret.txt", judging.VISIBLE_FILE}
#: what an import leaves out of a student's folder (JupyterLab's and Python's caches)
IMPORT_IGNORED = (".ipynb_checkpoints", "__pycache__", "*.pyc")
MAX_RESULTS_BYTES = 64 << 20
MAX_NOTEBOOK_BYTES = 32 << 20
#: The most cells a submitted notebook may have (the released ones have at most a few hundred):
#: each cell costs the grading process time and memory outside the sandbox's limits.
MAX_CELLS = 2000
MAX_OUTPUT_LINES = 400
#: The most JSON objects and lists read from a submitted notebook or from what its run sends
#: back (a notebook holds a few per cell: the course's largest, with outputs, about 500). Bytes
#: alone do not bound the grading process: each ``{}`` of a text costs it about 500 bytes once
#: read, so 30 MB of them would take more than 4 GB outside the sandbox's limits.
MAX_JSON_CONTAINERS = 100_000
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_SURROGATE = re.compile("[\ud800-\udfff]")
FEEDBACK_SHARE = 40   # feedback pages worth starting one more nbgrader process for


def json_containers(data):
    """How many objects and lists the JSON text ``data`` (bytes) holds: its braces and brackets
    outside strings. Counted without building anything (a bound, for text that is not JSON)."""
    n = data.count(b"{") + data.count(b"[")
    if n <= MAX_JSON_CONTAINERS:            # at most that many: no need to look inside strings
        return n
    bare = _JSON_STRING.sub(b"", data)
    return bare.count(b"{") + bare.count(b"[")


class TooManyContainers(ValueError):
    """A JSON text holds more objects and lists than the grading process reads."""


def read_notebook(path):
    """A submitted notebook (nbformat 4), read only if it holds at most ``MAX_JSON_CONTAINERS``
    objects and lists (else ``TooManyContainers``, saying how many)."""
    data = Path(path).read_bytes()
    n = json_containers(data)
    if n > MAX_JSON_CONTAINERS:
        raise TooManyContainers(f"it holds {n:,} JSON objects and lists where a notebook has a "
                                f"few per cell (at most {MAX_JSON_CONTAINERS:,} are read)")
    return nbformat.reads(data.decode("utf-8"), as_version=4)


def limit(name):
    """A grading limit by its environment variable's name (see ``sandbox.Limits``)."""
    return getattr(sandboxing.Limits.from_environment(), {
        "GRADING_SECONDS_PER_STUDENT": "seconds", "GRADING_MEMORY_MB": "memory_mb",
        "GRADING_CELL_SECONDS": "cell_seconds", "GRADING_PROCESSES": "processes",
        "GRADING_FILE_MB": "file_mb"}[name])


# ----------------------------------------------------------------------------------------------
# Bringing submissions in
# ----------------------------------------------------------------------------------------------
def expected_notebooks(assignment, root=course.ROOT):
    return sorted(p.name for p in (Path(root) / "solutions" / assignment).glob("*.ipynb"))


def import_folder(assignment, folder, root=course.ROOT, refused=None):
    """Copy a folder of submissions into submitted/<student>/<assignment>/.

    Accepted layouts: FOLDER/<student>/<assignment>/*, FOLDER/<student>/* (one folder per student)
    and FOLDER/<student>.ipynb (one notebook per student, saved under the assignment's notebook
    name). Returns the students imported. The originals are only read, never changed.

    Nothing is copied through a link (``exchange.copy_folder``): a student whose submission is,
    or holds, a link, a pipe or a device is not imported (a link could point at any file the
    instructor can read, the solutions included). ``refused``, a dict when given, receives
    {student: reason} for them; an earlier import of that student is left as it was.
    """
    from coursetools import exchange
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no folder of submissions at {folder}")
    wanted = expected_notebooks(assignment, root)
    refused = {} if refused is None else refused
    students, entries = [], []
    for entry in sorted(folder.iterdir()):
        mode = entry.lstat().st_mode
        is_dir, is_file = stat.S_ISDIR(mode), stat.S_ISREG(mode)
        if entry.name.startswith(".") or (is_file and entry.suffix != ".ipynb"):
            continue
        entries.append((entry, mode, is_dir, is_file,
                        entry.name if is_dir or entry.suffix != ".ipynb" else entry.stem))
    named = {}
    for entry, *_, student in entries:
        named.setdefault(student, []).append(entry.name)
    for entry, mode, is_dir, is_file, student in entries:
        if any(unicodedata.category(c) in ("Cc", "Cf") or c in "<>&\"'`*?[]" for c in student):
            # a name shown by the Formgrader's pages and printed in the terminal (nothing in it
            # may read as markup or as a terminal's control sequence) and read by nbgrader as
            # a file pattern (where * ? [ ] match other names)
            refused[student] = (f"the name {student!r} holds a control character or one of "
                                f"< > & \" ' ` * ? [ ]: rename it to the student's name")
            continue
        if len(named[student]) > 1:
            refused[student] = (f"{' and '.join(named[student])} are both {student}'s: keep the one "
                                f"to grade and import again")
            continue
        if not (is_dir or is_file):
            refused[student] = f"{entry.name} is {exchange.kind_of(mode)}, not a file or a folder"
            continue
        target = Path(root) / "submitted" / student / assignment
        staging = target.parent / f".{assignment}.importing"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            if is_file:
                # one notebook per student: it is their answer to the assignment's (single) notebook
                staging.mkdir(parents=True)
                name = wanted[0] if len(wanted) == 1 else entry.name
                exchange.copy_file(entry, staging / name)
            else:
                inner = entry / assignment
                source = inner if os.path.lexists(inner) else entry
                staging.parent.mkdir(parents=True, exist_ok=True)
                # the instructor made this folder (a download): hard links in it are the instructor's
                exchange.copy_folder(source, staging, exclude=IMPORT_IGNORED, hard_links=True)
        except exchange.Refused as exc:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):        # the student's folder, if this made it
                staging.parent.rmdir()
            refused[student] = str(exc)
            continue
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        exchange.record_received(root, assignment, student, exchange.IMPORTED)  # no time known
        students.append(student)
    return students


def precheck(assignment, student, root=course.ROOT):
    """Check a submission before grading. Returns (problem or None, notes)."""
    from coursetools.exchange import kind_of
    folder = Path(root) / "submitted" / student / assignment
    notes = []
    for path in (folder.parent, folder):       # copied in by hand, links could lead anywhere
        if path.is_symlink():
            return f"{path.name} is a link, not a folder: links in a submission are not followed", notes
    wanted = expected_notebooks(assignment, root)
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [n for n in wanted if n not in present]
    if missing:
        found = ", ".join(present) or "no notebook"
        return f"missing notebook {', '.join(missing)} (found: {found})", notes
    for name in wanted:
        path = folder / name
        mode = path.lstat().st_mode
        if not stat.S_ISREG(mode):
            why = ": links in a submission are not followed" if stat.S_ISLNK(mode) else ""
            return f"{name} is {kind_of(mode)}, not a file{why}", notes
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB", notes
        try:
            nb = read_notebook(path)
        except TooManyContainers as exc:
            return f"{name} is not read: {exc}", notes
        except Exception as exc:  # invalid JSON, not a notebook, unreadable bytes
            detail = " ".join(str(exc).split(": '")[0].split())[:80]
            return f"{name} is not a readable notebook ({type(exc).__name__}: {detail})", notes
        if len(nb.cells) > MAX_CELLS:
            return (f"{name} has {len(nb.cells):,} cells; a submitted notebook may have at most "
                    f"{MAX_CELLS:,}"), notes
        kernel = nb.metadata.get("kernelspec", {}).get("name")
        if kernel not in (None, "python3"):
            notes.append(f"{name} asked for kernel {kernel!r}; graded with python3")
    late_claim = submission_time(assignment, student, root)[1]
    if late_claim:
        notes.append(late_claim)
    extra = sorted(p.name for p in folder.iterdir()
                   if p.name not in wanted and p.name not in EXPECTED_EXTRAS)
    if extra:
        notes.append(f"extra files ignored: {', '.join(extra)}")
    return None, notes


# ----------------------------------------------------------------------------------------------
# The notebook that is graded: the released one with the student's answers
# ----------------------------------------------------------------------------------------------
class MetadataAltered(ValueError):
    """The submission's grading metadata does not match the released notebook."""


def _meta(cell):
    m = cell.get("metadata", {}).get("nbgrader", {})
    return m if isinstance(m, dict) else {}


def _role(meta):
    return ("test" if meta.get("grade") and not meta.get("solution") else
            "answer" if meta.get("solution") and not meta.get("grade") else
            "graded answer" if meta.get("solution") else "read-only")


def _plain_cell(cell_type, source, metadata):
    """A cell of the student's own (no grading role) for the graded copy, with an id of its own
    (a copied cell repeats the id of the cell it was copied from)."""
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[cell_type]
    return make(source=source, metadata=nbformat.from_dict(metadata))


def rebuild(released, submitted):
    """The notebook to grade: ``released``'s cells in order, with the student's answer cells and
    the student's own extra cells in place. Returns (notebook, notes).

    Raises ``MetadataAltered`` when a cell's grading id is unknown, or a cell claims another role
    than in the released notebook (a test cell made an answer, an answer marked graded). A
    duplicated answer cell (copied in JupyterLab with its metadata) is kept as a plain cell.
    """
    release_cells = {_meta(c)["grade_id"]: c for c in released.cells if _meta(c).get("grade_id")}
    order = list(release_cells)
    notes, problems, seen = [], [], set()
    out = []
    for cell in submitted.cells:
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if gid is not None and not isinstance(gid, str):
            problems.append("a cell's grading id is not a name")
            continue
        if not meta or not gid:
            if cell.get("cell_type") in ("code", "markdown", "raw"):
                # without the student's metadata: some of it changes what the Formgrader and the
                # feedback show (transient.remove_source hides the cell's code, tags can remove it)
                out.append(_plain_cell(cell["cell_type"], cell.get("source", ""), {}))
            continue
        original = release_cells.get(gid)
        if original is None:
            problems.append(f"a cell has the unknown grading id {str(gid)[:40]!r}")
            continue
        if _role(meta) != _role(_meta(original)):
            problems.append(f"the cell {gid} is marked as {_role(meta)}, but it is {_role(_meta(original))}")
            continue
        if cell.get("cell_type") != original.cell_type:
            problems.append(f"the {_role(meta)} cell {gid} was changed from {original.cell_type} to "
                            f"{str(cell.get('cell_type'))[:20]}: change it back (in JupyterLab, select "
                            f"it and press {'Y' if original.cell_type == 'code' else 'M'})")
            continue
        if gid in seen:
            if _role(meta) == "answer":
                notes.append(f"the answer cell {gid} appears twice; the first is graded, "
                             f"the copy runs as an ordinary cell")
                out.append(_plain_cell(cell.cell_type, cell.source, {}))
            else:
                notes.append(f"the cell {gid} appears twice; the copy was dropped")
            continue
        seen.add(gid)
        fresh = nbformat.from_dict(json.loads(json.dumps(original)))
        if _role(meta) == "answer":
            fresh.source = cell.get("source", "")
        out.append(fresh)
    if problems:
        raise MetadataAltered("; ".join(dict.fromkeys(problems)))
    # cells the student deleted come back after the nearest surviving cell that preceded them
    for gid in order:
        if gid in seen:
            continue
        index = {_meta(c).get("grade_id"): i for i, c in enumerate(out) if _meta(c).get("grade_id")}
        position = len(out)
        for earlier in reversed(order[:order.index(gid)]):
            if earlier in index:
                position = index[earlier] + 1
                break
        if position == len(out) and not any(e in index for e in order[:order.index(gid)]):
            position = 0
        role = _role(_meta(release_cells[gid]))
        if role == "test":
            notes.append(f"the test cell {gid} was deleted; it was put back and graded")
        elif role == "answer":
            notes.append(f"the answer cell {gid} was deleted; its stub was put back")
        out.insert(position, nbformat.from_dict(json.loads(json.dumps(release_cells[gid]))))
    nb = nbformat.v4.new_notebook(cells=out, metadata=released.metadata)
    return nb, notes


def _test_ids(nb):
    return [_meta(c)["grade_id"] for c in nb.cells
            if c.cell_type == "code" and _role(_meta(c)) == "test"]


def probe_cells(probes, tests):
    """The checks' calls as the runner's cells, made once per class run from
    ``judge.probe_plan()``: [(test id, case id, cell source)], one cell per case, every visible
    case before any hidden one. A call can only learn the inputs of the cases before it, and the
    outcome of every visible case (whose messages show more of what came back) is kept before any
    hidden input reaches the student's code."""
    runtime = "__import__('selfcheck.runtime', fromlist=['run_case'])"
    hidden = {c["id"] for t in tests.values() for c in t["cases"] if c.get("hidden")}
    cells = []
    for test_id, plan in probes["tests"].items():
        prelude = plan.get("prelude", "")
        for case in plan["cases"]:
            text = json.dumps(case, allow_nan=False)
            cells.append((case["id"] in hidden, test_id, case["id"],
                          f"{runtime}.run_case({test_id!r}, {text!r}, {prelude!r})"))
    return [cell[1:] for cell in sorted(cells, key=lambda c: c[0])]     # a stable sort


def sandbox_notebook(graded, calls):
    """What runs in the sandbox, as the runner reads it (``{"cells": [{"cell_type", "source"}]}``):
    test cells only take a snapshot; the checks' calls come last, one cell per case, each naming
    its case (``calls``: see ``probe_cells``; they exist nowhere in the sandbox before that).
    Cases of tests whose cell is not in the notebook are left out."""
    runtime = "__import__('selfcheck.runtime', fromlist=['snapshot'])"
    cells = []
    for cell in graded.cells:
        source = cell.source if cell.cell_type == "code" else ""
        if cell.cell_type == "code" and _role(_meta(cell)) == "test":
            source = f"{runtime}.snapshot({_meta(cell)['grade_id']!r}, globals())"
        cells.append({"cell_type": cell.cell_type, "source": source})
    present = set(_test_ids(graded))
    for test_id, case_id, source in calls:
        if test_id in present:
            cells.append({"cell_type": "code", "source": source, "case": [test_id, case_id]})
    return {"cells": cells}


# ----------------------------------------------------------------------------------------------
# Reading back what the sandbox sent (all of it the student's claims, checked before use)
# ----------------------------------------------------------------------------------------------
def read_outcomes(records, tests):
    """{test id: {case id: outcome}} from the runner's outcome records; unreadable ones are
    ignored."""
    from selfcheck import codec
    known = {t: {c["id"] for c in plan["cases"]} for t, plan in tests.items()}
    out = {t: {} for t in tests}
    if not isinstance(records, list):
        return out
    for record in records:
        try:
            test, case, outcome = record["test"], record["id"], record["outcome"]
        except Exception:  # not a record: the student's own loss
            continue
        if not isinstance(test, str) or test not in known or case not in known[test] or case in out[test]:
            continue
        if not isinstance(outcome, dict):
            continue
        clean = {}
        if outcome.get("not_implemented") is True:
            clean["not_implemented"] = True
        elif isinstance(outcome.get("error"), str):
            clean["error"] = outcome["error"][:400]
        elif "value" in outcome:
            try:
                clean["value"] = codec.decode(outcome["value"])
            except Exception:
                clean["error"] = "the value it returned could not be read"
        else:
            continue
        notes = outcome.get("notes")
        if isinstance(notes, list):
            clean["notes"] = [str(n)[:200] for n in notes[:5]]
        out[test][case] = clean
    return out


_OUTPUT_FIELDS = {"stream": {"name": "stdout", "text": ""},
                  "display_data": {"metadata": {}, "data": {}},
                  "execute_result": {"metadata": {}, "data": {}, "execution_count": None},
                  "error": {"ename": "Error", "evalue": "", "traceback": []}}
_SHOWN_TYPES = ("text/plain", "text/html", "image/png", "text/markdown", "text/latex", "image/svg+xml",
                "application/vnd.jupyter.widget-view+json")


def _output(output_type, **fields):
    """An output as nbformat's ``new_output`` makes it, without validating each one: the judged
    notebook is validated once, when it is written."""
    return nbformat.from_dict(dict(_OUTPUT_FIELDS[output_type], output_type=output_type, **fields))


def _shown(mime, value):
    """Whether ``value`` is a valid ``mime`` entry of a display (text: a string or lines)."""
    if mime.endswith("json"):
        return True
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


#: what the student's outputs may hold in all in the graded copy: characters of text (printed
#: text and errors) and characters of displays (images, HTML, …). Converting them into feedback
#: pages runs outside the sandbox's limits: 100 cells of coloured text made a 116 MB page.
OUTPUT_TEXT_BUDGET = 2_000_000
OUTPUT_DATA_BUDGET = 10_000_000


def _clean_outputs(outputs, budget=None):
    """The student's cell outputs, limited in size (as nbgrader's LimitOutput); what could run in
    the browser that shows them is removed from the whole notebook afterwards
    (``safe_display.make_safe``). ``budget``: [characters of text, characters of displays]
    left for the notebook, reduced here; an output past it is replaced by a line saying so."""
    budget = budget if budget is not None else [OUTPUT_TEXT_BUDGET, OUTPUT_DATA_BUDGET]
    clean = []

    def fits(which, size):
        if size > budget[which]:
            budget[which] = 0
            return False
        budget[which] -= size
        return True

    for output in outputs[:50]:
        kind = output.get("output_type")
        if kind == "stream":
            lines = str(output.get("text", "")).splitlines(keepends=True)
            if len(lines) > MAX_OUTPUT_LINES:
                lines = lines[:MAX_OUTPUT_LINES] + [f"… (output cut at {MAX_OUTPUT_LINES} lines)\n"]
            text = "".join(lines)[:200_000]
            if fits(0, len(text)):
                clean.append(_output("stream", name=output.get("name", "stdout") if output.get("name")
                                     in ("stdout", "stderr") else "stdout", text=text))
            else:
                clean.append(_output("stream", name="stdout", text=_PAST_BUDGET))
        elif kind in ("display_data", "execute_result"):
            data = {k: v for k, v in dict(output.get("data", {})).items()
                    if k in _SHOWN_TYPES and _shown(k, v) and len(json.dumps(v)) < 2_000_000}
            if data and fits(1, len(json.dumps(data))):   # made safe to show by make_safe, at the end
                clean.append(_output("display_data", data=data))
            elif data:
                clean.append(_output("stream", name="stdout", text=_PAST_BUDGET))
        elif kind == "error":
            tb = [str(line)[:2000] for line in list(output.get("traceback", []))[-40:]]
            evalue = str(output.get("evalue", ""))[:2000]
            if fits(0, sum(map(len, tb)) + len(evalue)):
                clean.append(_output("error", ename=str(output.get("ename", "Error"))[:200],
                                     evalue=evalue, traceback=tb))
            else:
                clean.append(_output("stream", name="stderr", text=_PAST_BUDGET))
    return clean


_PAST_BUDGET = ("[an output not shown in the graded copy: the notebook's outputs before it used up "
                "what the graded copy shows]\n")


def _verdict_outputs(verdict):
    text = verdict.text()
    if verdict.full:
        return [_output("stream", name="stdout", text=text + "\n")]
    if verdict.passed == 0:
        lines = text.splitlines()
        return [_output("error", ename="CheckFailed", evalue=text,
                        traceback=[f"CheckFailed: {lines[0]}", *lines[1:]])]
    return [_output("stream", name="stdout", text=text + "\n"),
            _output("execute_result", data={"text/plain": f"{verdict.earned:g}"}, execution_count=None)]


# ----------------------------------------------------------------------------------------------
# Grading one student
# ----------------------------------------------------------------------------------------------
class ClassRun:
    """What every student of one assignment's grading shares: the judge, the sandbox, the plan."""

    def __init__(self, assignment, root=course.ROOT, unsafe=False, limits=None):
        self.assignment, self.root = assignment, Path(root)
        names = expected_notebooks(assignment, root)
        if len(names) != 1:
            raise ValueError(f"{assignment} must have exactly one notebook, found {names}")
        self.notebook = names[0]
        self.judge = judging.load(assignment, root)
        self.tests = self.judge.judge_plan()
        # the sandboxes' scratch folders go here (GRADING_SCRATCH, default: the system's temp folder)
        self.work = Path(tempfile.mkdtemp(prefix=f"grading-{assignment}-",
                                          dir=os.environ.get("GRADING_SCRATCH") or None))
        os.chmod(self.work, 0o700)     # no other user reaches the sandboxes' folders
        library = judging.build_library(LIB, self.work / "lib", self.judge.library)
        if limits is None:
            limits = sandboxing.Limits.from_environment()
            if self.judge.cell_seconds and "GRADING_CELL_SECONDS" not in os.environ:
                limits.cell_seconds = self.judge.cell_seconds  # the assignment's own cell limit
        self.sandbox = sandboxing.Sandbox(library, limits=limits, unsafe=unsafe)
        self.probes = self.judge.probe_plan()
        self.calls = probe_cells(self.probes, self.tests)
        self.released = nbformat.read(self.root / "exercises" / assignment / self.notebook,
                                      as_version=4)

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def bundle(self):
        """What a grading task needs of the assignment, as plain data (for remote workers)."""
        checks = (self.root / "solutions" / self.assignment / judging.CHECKS_FILE).read_text(encoding="utf-8")
        return {"assignment": self.assignment, "notebook": self.notebook, "checks": checks,
                "released": nbformat.writes(self.released)}

    def grade(self, student, slot=0):
        """Grade one student; returns a result dict (never raises for the student's doing)."""
        start = time.perf_counter()
        result = {"status": "graded", "reason": "", "notes": [], "seconds": 0.0, "log": "",
                  "scores": {}}
        problem, notes = precheck(self.assignment, student, self.root)
        # the file names in them are the student's: nothing in them may act on a terminal
        problem = problem and safe_display.printable(problem)
        notes = [safe_display.printable(n) for n in notes]
        result["notes"] = notes
        if problem:
            result.update(status="not graded", reason=problem)
            return result
        submitted = read_notebook(self.root / "submitted" / student / self.assignment / self.notebook)
        try:
            graded, rebuild_notes = rebuild(self.released, submitted)
        except MetadataAltered as exc:
            result.update(status="not graded", reason=f"the notebook's grading metadata was altered "
                                                      f"({str(exc)[:300]})")
            return result
        notes += rebuild_notes
        scratch = self.sandbox.prepare_scratch(self.work / f"student-{slot}-{time.monotonic_ns()}", slot)
        try:
            # the notebook goes in through the runner's standard input, never onto the sandbox's
            # disk: the cells that carry the checks' inputs reach the student's code only when run
            notebook = json.dumps(sandbox_notebook(graded, self.calls)).encode()
            python = (f"{sandboxing.ENV_MOUNT}/bin/python" if not self.sandbox.unsafe
                      else sys.executable)
            run = self.sandbox.run([python, "-m", "selfcheck.runner",
                                    "--keep", str(len(graded.cells)), "--output-fd", "{fd}",
                                    "--cell-timeout", str(self.sandbox.limits.cell_seconds)],
                                   scratch, slot, channel=MAX_NOTEBOOK_BYTES + MAX_RESULTS_BYTES,
                                   stdin=notebook)
            result["log"], result["sandbox_seconds"] = run.output, round(run.seconds, 3)
            executed, status, sent = None, "", {}
            bulky = json_containers(run.channel)
            try:
                if bulky > MAX_JSON_CONTAINERS:   # read, it would swell the grading process
                    raise TooManyContainers
                sent = json.loads(run.channel.decode("utf-8"))
                status = str(sent.get("status", ""))[:300]
                executed = nbformat.from_dict(sent["notebook"])
                if not isinstance(executed.get("cells"), list):
                    executed = None
            except Exception:  # nothing sent (the run was killed), or not what the runner sends
                executed = None
            outcomes = read_outcomes(sent.get("outcomes") if isinstance(sent, dict) else None,
                                     self.tests)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        verdicts = self.judge.judge(outcomes)
        # the judged notebook: the student's outputs, and the judge's messages under test cells
        interrupted = False
        budget = [OUTPUT_TEXT_BUDGET, OUTPUT_DATA_BUDGET]     # the student's outputs, in all
        for i, cell in enumerate(graded.cells):
            if cell.cell_type != "code":
                continue
            if _role(_meta(cell)) == "test":
                verdict = verdicts[_meta(cell)["grade_id"]]
                cell.outputs = _verdict_outputs(verdict)
                cell.execution_count = i + 1
            elif executed is not None and i < len(executed.cells):
                try:  # what the sandbox sent is the student's: anything malformed is dropped
                    ran = executed.cells[i]
                    if ran.get("cell_type") != "code":
                        continue
                    cell.outputs = _clean_outputs(list(ran.get("outputs", []))[:50], budget)
                    interrupted |= ran.get("interrupted") is True     # said by the runner
                    cell.execution_count = i + 1 if cell.outputs or ran.get("execution_count") else None
                except Exception:
                    cell.outputs, cell.execution_count = [], None
        total = sum(v.passed for v in verdicts.values()), sum(v.total for v in verdicts.values())
        for cell in graded.cells:  # the notebook's closing summary() reports the judge's count
            if cell.cell_type == "code" and _role(_meta(cell)) == "read-only" and cell.source.strip() == "summary()":
                lines = [f"{total[0]} of {total[1]} checks passed (visible and hidden)."]
                lines += [f"  {'✓' if v.full else '✗'} {v.name}: {v.passed} of {v.total}"
                          for v in verdicts.values()]
                cell.outputs = [_output("stream", name="stdout", text="\n".join(lines) + "\n")]

        if interrupted:
            notes.append(f"a cell ran past {self.sandbox.limits.cell_seconds} s, was interrupted and "
                         f"counts as an error")
        result["seconds"] = round(time.perf_counter() - start, 3)
        ran = ", ".join(f"{tid} {v.earned:g}/{v.points:g}" for tid, v in verdicts.items()
                        if any(outcomes[tid].values()))
        if run.out_of_memory:
            result.update(status="not graded", reason=f"the notebook's processes together held more "
                                                      f"than {self.sandbox.limits.memory_mb} MB of "
                                                      f"memory and the run was stopped")
            notes.append(f"checks that ran before it stopped: {ran or 'none'}")
        elif run.timed_out:
            result.update(status="not graded", reason=f"the time limit of {self.sandbox.limits.seconds} s "
                                                      f"for grading one notebook was reached and the run was stopped")
            notes.append(f"checks that ran before it stopped: {ran or 'none'}")
        elif status.startswith("a cell ran past the time limit"):
            seconds = self.sandbox.limits.cell_seconds
            result.update(status="not graded", reason=f"a cell was still running {seconds} s after it "
                                                      f"was interrupted at the time limit of {seconds} s "
                                                      f"for one cell, and the run was stopped")
            notes.append(f"checks that ran before it stopped: {ran or 'none'}")
        elif status.startswith("the kernel died"):
            result.update(status="not graded", reason="the notebook's kernel died (the code crashed "
                                                      "it or ran out of memory)")
            notes.append(f"checks that ran before it stopped: {ran or 'none'}")
        elif bulky > MAX_JSON_CONTAINERS:
            result.update(status="not graded", reason=f"what the notebook's run sent back held "
                                                      f"{bulky:,} JSON objects and lists (outputs or "
                                                      f"answers far beyond any exercise's; at most "
                                                      f"{MAX_JSON_CONTAINERS:,} are read)")
        elif executed is None:
            result.update(status="not graded", reason="the notebook's run in the sandbox ended without "
                                                      "a result (its code may have stopped the run; see the log)")
        result["scores"] = {tid: v.earned for tid, v in verdicts.items()}
        result["max_scores"] = {tid: v.points for tid, v in verdicts.items()}
        # shown by the Formgrader in the instructor's browser: the student's HTML must not run
        result["notebook"] = safe_display.make_safe(graded, self.released)
        return result


#: how much earlier than its files' change times a submission's own timestamp may be (nbgrader's
#: submit writes the timestamp first, then copies the files)
#: how much earlier than its files' change times a submission's own timestamp may be and still
#: count: ``nbgrader submit`` writes it as it starts, then copies at most ``max_dir_size``
#: (100 MB), seconds at most; more would let any late student choose their time within it
CLAIM_SLACK = datetime.timedelta(minutes=1)


def _claimed_timestamp(assignment, student, root):
    path = Path(root) / "submitted" / student / assignment / "timestamp.txt"
    if path.is_file() and not path.is_symlink():
        try:
            from nbgrader.utils import parse_utc
            return parse_utc(path.read_text(encoding="utf-8").strip()[:64])
        except Exception:
            return None
    return None


def submission_time(assignment, student, root=course.ROOT):
    """(the time the submission counts as handed in, a note or None), as naive UTC.

    The submission's own timestamp.txt (written by the student's ``nbgrader submit``), unless it
    claims a time more than ``CLAIM_SLACK`` earlier than when collect received it (the file
    system's record, ``exchange.received``): then the time received counts, and the note says so.
    A submission imported from a folder has no such record: its claimed time counts, with a note
    that nothing checked it.
    The gradebook's lateness is computed from this time."""
    from coursetools import exchange
    claimed = _claimed_timestamp(assignment, student, root)
    real = exchange.received(root, assignment, student)
    if real is not None:
        real = real.astimezone(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    if real is None and claimed is not None and exchange.imported(root, assignment, student):
        return claimed, (f"its timestamp says {claimed:%Y-%m-%d %H:%M:%S} UTC; it was imported "
                         f"from a folder, where nothing checks that time")
    if real is None or (claimed is not None and claimed >= real - CLAIM_SLACK):
        return claimed, None
    if claimed is None:
        return real, None
    return real, (f"its timestamp says {claimed:%Y-%m-%d %H:%M:%S} UTC, but the exchange received it "
                  f"at {real:%Y-%m-%d %H:%M:%S} UTC; that time is recorded")


def _record(gb, run, student, result):
    """Write one judged student to the gradebook and autograded/ (called by one thread only)."""
    target = run.root / "autograded" / student / run.assignment
    if target.exists():
        shutil.rmtree(target)
    if result["status"] != "graded":
        _withdraw(gb, run, student, result)
        return
    target.mkdir(parents=True)
    # what the student's code printed may hold lone surrogates (valid in a str, not in UTF-8
    # text): each is written as U+FFFD, so that the graded copy can always be written
    text = nbformat.writes(result.pop("notebook"))
    (target / run.notebook).write_bytes(_SURROGATE.sub("\ufffd", text).encode("utf-8"))
    # the exchange's files of the submission go along, as with nbgrader's autograde: generate_feedback
    # copies them to feedback/, and release_feedback needs both there to name the feedback it puts
    # in the exchange (the time it was submitted, and the secret only that student's fetch knows).
    # The time is the one recorded below, written as nbgrader submit writes it, never the
    # student's text (release_feedback prints it in the instructor's terminal).
    timestamp, _ = submission_time(run.assignment, student, run.root)
    if timestamp is not None:
        (target / "timestamp.txt").write_text(f"{timestamp:%Y-%m-%d %H:%M:%S.%f} UTC", encoding="ascii")
    secret = run.root / "submitted" / student / run.assignment / "submission_secret.txt"
    if secret.is_file() and not secret.is_symlink():
        shutil.copyfile(secret, target / "submission_secret.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notices from nbgrader's models
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(run.assignment, student,
                                                    **({"timestamp": timestamp} if timestamp else {}))
        notebook = next(nb for nb in submission.notebooks if nb.name == run.notebook[:-len(".ipynb")])
        grades = {grade.name: grade for grade in notebook.grades}  # one query, not one per cell
        for test_id, score in result["scores"].items():
            grade = grades[test_id]
            grade.auto_score = score
            # a score given by hand (Formgrader) is the instructor's decision: a new run keeps it,
            # as nbgrader's autograde does, and asks for it to be looked at again
            grade.needs_manual_grade = grade.manual_score is not None
            if grade.manual_score is not None and grade.manual_score != score:
                result["notes"].append(f"{test_id}: the score given by hand, {grade.manual_score:g}, "
                                       f"is kept over the new automatic {score:g} (review it in the "
                                       f"Formgrader)")
        gb.db.commit()


def _withdraw(gb, run, student, result):
    """A submission that could not be graded this time: the scores and the feedback page of an
    earlier run are of work that is no longer the one handed in, so they are removed (and the
    notes say so), and the gradebook, the Formgrader, ``nbgrader export`` and
    ``release_feedback`` agree with the grade table that there is no grade."""
    from nbgrader.api import MissingEntry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notices from nbgrader's models
        try:
            earlier = gb.find_submission(run.assignment, student)
        except MissingEntry:
            earlier = None
        if earlier is not None:
            score, max_score = earlier.score, earlier.max_score
            gb.remove_submission(run.assignment, student)
            result["notes"].append(f"the grade of an earlier run ({score:g} of {max_score:g}) was "
                                   f"withdrawn: the submission now handed in could not be graded")
    page = run.root / "feedback" / student / run.assignment
    if page.exists():
        shutil.rmtree(page)
        result["notes"].append("the feedback of an earlier run was removed")


def _ensure_in_gradebook(assignment, root):
    """nbgrader needs the assignment's source cells in the gradebook: regenerate if missing."""
    from nbgrader.api import Gradebook, MissingEntry
    config = course.load_config(root)
    try:
        with Gradebook(config.CourseDirectory.db_url) as gb:
            gb.find_assignment(assignment)
            return
    except MissingEntry:
        pass
    course.generate(assignment, root=root)


def _submission_files(assignment, student, root):
    folder = Path(root) / "submitted" / student / assignment
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.is_symlink()}


def default_workers():
    return max(1, os.cpu_count() or 1)


def autograde(assignment, root=course.ROOT, students=None, workers=None, unsafe=False,
              quiet=False, cluster=None):
    """Autograde every submission of ``assignment``; write reports/ASSIGNMENT.json and .log.

    ``workers`` students are graded at once, by threads of this process (each in its own
    sandbox); with ``cluster`` the grading tasks run on Dask instead: ``"local"`` starts a
    ``LocalCluster`` of ``workers`` processes, any other value is a Dask scheduler's address
    (``coursetools.cluster``). Either way the gradebook is written here, one student at a time.
    Raises ``sandbox.SandboxUnavailable`` when no sandbox can be made (unless ``unsafe``)."""
    from nbgrader.api import Gradebook
    root = Path(root)
    if not unsafe:
        ok, why = sandboxing.available()
        if not ok:
            raise sandboxing.SandboxUnavailable(why)
    _ensure_in_gradebook(assignment, root)
    submitted = root / "submitted"
    if students is None:
        students = sorted(p.name for p in submitted.iterdir()
                          if (p / assignment).is_dir()) if submitted.exists() else []
    workers = max(1, min(int(workers or default_workers()), len(students) or 1))
    run = ClassRun(assignment, root, unsafe=unsafe)
    report = {}
    slots = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def grade_one(student):
        slot = slots.get()
        try:
            return run.grade(student, slot)
        except Exception as exc:  # a fault of the grader itself: this student only, said plainly
            return {"status": "not graded", "reason": f"the grader failed on this submission "
                    f"({type(exc).__name__}: {str(exc)[:200]})", "notes": [], "seconds": 0.0,
                    "log": traceback.format_exc()[-5000:], "scores": {}}
        finally:
            slots.put(slot)

    def results():
        """(student, result) as each finishes, from threads here or from a Dask cluster."""
        if cluster:
            from coursetools import cluster as dask_cluster
            sent = []
            for s in students:                 # what this machine can tell (a link, a missing
                problem, notes = precheck(assignment, s, root)   # notebook) is said here
                if problem:
                    yield s, {"status": "not graded", "reason": problem, "notes": notes,
                              "seconds": 0.0, "log": "", "scores": {}}
                else:
                    sent.append(s)
            yield from dask_cluster.grade(run.bundle(), {s: _submission_files(assignment, s, root)
                                                         for s in sent},
                                          cluster, workers, run.sandbox.limits, unsafe)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_one, s): s for s in students}
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()

    try:
        with Gradebook(course.load_config(root).CourseDirectory.db_url) as gb:
            for student, r in results():
                try:
                    if isinstance(r.get("notebook"), str):  # from a Dask worker, as text
                        r["notebook"] = nbformat.reads(r["notebook"], as_version=4)
                    recording = time.perf_counter()
                    _record(gb, run, student, r)
                    r["record_seconds"] = round(time.perf_counter() - recording, 3)
                except Exception as exc:
                    gb.db.rollback()
                    r.update(status="not graded", reason=f"the grade could not be recorded "
                             f"({type(exc).__name__}: {str(exc)[:200]})")
                    # no grade now: an earlier run's grade and page are not of this submission
                    shutil.rmtree(run.root / "autograded" / student / run.assignment,
                                  ignore_errors=True)
                    with contextlib.suppress(Exception):
                        _withdraw(gb, run, student, r)
                        gb.db.commit()
                r.pop("notebook", None)
                report[student] = r
                if not quiet:
                    print(safe_display.printable(
                        f"{student:20s} {r['status']:11s} {r['seconds']:6.1f} s  {r['reason']}"), flush=True)
    finally:
        run.close()
    report = {s: report[s] for s in sorted(report)}
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    # the log is what each sandbox printed, the student's code's output included: shown with its
    # control characters escaped and every line indented under its student's heading, so that it
    # can neither act on the terminal that shows it nor pass for another student's heading
    with open(reports / f"{assignment}.log", "w", encoding="utf-8", errors="backslashreplace") as log:
        for student, r in report.items():
            lines = safe_display.printable(r.pop("log", "") or "").splitlines()
            log.write(safe_display.printable(f"===== {student}: {r['status']} {r['reason']}") + "\n"
                      + "".join(f"  | {line}\n" for line in lines) + "\n")
    (reports / f"{assignment}.json").write_text(json.dumps(report, indent=1))
    return report


# ----------------------------------------------------------------------------------------------
# Feedback and the grade table
# ----------------------------------------------------------------------------------------------
def feedback(assignment, root=course.ROOT, workers=None):
    """HTML feedback for every graded submission (hidden tests removed), in feedback/.

    nbgrader's ``generate_feedback``, run by up to ``workers`` processes at once (default: the
    number of cores), each on its share of the students. A page costs about a tenth of a second of
    one core and nbgrader's start about as much as 20 pages, so a process is started only for
    every ``FEEDBACK_SHARE`` pages. Returns the CompletedProcess (the shares' output joined)."""
    root = Path(root)
    folder = root / "autograded"
    graded = sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir()) if folder.is_dir() else []
    workers = max(1, min(int(workers or default_workers()), len(graded) // FEEDBACK_SHARE))
    if workers == 1 or any("," in s for s in graded):  # nbgrader's exclusion list is comma-separated
        return course.nbgrader("generate_feedback", assignment, "--force", root=root, check=False)
    shares = [graded[k::workers] for k in range(workers)]

    def run(share):
        others = ",".join(s for s in graded if s not in set(share))
        return course.nbgrader("generate_feedback", assignment, "--force",
                               f"--CourseDirectory.student_id_exclude={others}", root=root, check=False)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(run, shares))
    return subprocess.CompletedProcess(done[0].args, max(p.returncode for p in done),
                                       "".join(p.stdout for p in done), "".join(p.stderr for p in done))


def grade_table(assignment, root=course.ROOT, path=None):
    """Write the grade table as CSV and return its rows.

    One row per student who submitted: status "graded" with the score, or "not graded" with an
    empty score and the reason. Per-test-cell points follow, for graded submissions.
    """
    root = Path(root)
    report_file = root / "reports" / f"{assignment}.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    scores = course.scores(assignment, root=root)
    cells = sorted({c for s in scores.values() for c in s["cells"]})
    students = sorted(set(report) | set(scores))
    rows = []
    for student in students:
        r = report.get(student, {"status": "graded" if student in scores else "not graded",
                                 "reason": "" if student in scores else "not autograded yet",
                                 "notes": []})
        graded = r["status"] == "graded" and student in scores
        row = {"student": student, "assignment": assignment,
               "status": "graded" if graded else "not graded",
               "score": f"{scores[student]['total']:g}" if graded else "",
               "max_score": f"{scores[student]['max']:g}" if student in scores else "",
               "reason": r.get("reason", ""), "notes": "; ".join(r.get("notes", []))}
        for c in cells:
            row[c] = f"{scores[student]['cells'].get(c, 0):g}" if graded else ""
        rows.append(row)
    path = Path(path) if path else root / f"grades-{assignment}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "assignment", "status", "score",
                                               "max_score", "reason", "notes", *cells])
        writer.writeheader()
        writer.writerows({k: _as_text(v) if k in ("student", "reason", "notes") else v
                          for k, v in row.items()} for row in rows)
    return rows


def _as_text(value):
    """A cell of the CSV file that a spreadsheet shows as text, never runs as a formula.

    Student names, reasons and notes can hold what a student chose (a file's or a kernel's name);
    a spreadsheet would take a cell starting with = + - @ (or a tab or carriage return) for a
    formula, so such a cell gets a leading apostrophe, as spreadsheets themselves write text;
    so does one whose first character after spaces is one of those (a spreadsheet told to trim
    spaces on import would otherwise find the formula)."""
    value = safe_display.printable(value)
    return "'" + value if value.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    flags = {a for a in argv if a.startswith("--")}
    workers = cluster = None
    if "--cluster" in argv:
        k = argv.index("--cluster")
        cluster = argv[k + 1] if k + 1 < len(argv) else None
        del argv[k:k + 2]
        if not cluster:
            print("--cluster needs `local` or a Dask scheduler's address, e.g. tcp://host:8786")
            return 2
    if "--workers" in argv:
        k = argv.index("--workers")
        workers = argv[k + 1] if k + 1 < len(argv) else None
        del argv[k:k + 2]
        if not (workers or "").isdigit():
            print("--workers needs a number, e.g. --workers 4")
            return 2
    argv = [a for a in argv if not a.startswith("--")]
    if len(argv) < 2 or argv[0] not in {"import", "autograde", "feedback", "grades"}:
        print(__doc__)
        return 2
    step, assignment = argv[0], argv[1]
    # the course is the current folder when it holds an nbgrader_config.py, else this repository
    root = Path.cwd() if (Path.cwd() / "nbgrader_config.py").exists() else course.ROOT
    if assignment not in course.assignments(root):
        print(f"unknown assignment {assignment!r}; the assignments are: "
              f"{', '.join(course.assignments(root))}")
        return 2
    if step == "import":
        if len(argv) < 3:
            print("give the folder of submissions: import ASSIGNMENT FOLDER")
            return 2
        refused = {}
        print("imported:", ", ".join(import_folder(assignment, argv[2], root, refused)) or "nobody")
        for student, why in refused.items():
            print(safe_display.printable(f"not imported: {student}: {why}"))
    elif step == "autograde":
        unsafe = "--no-sandbox" in flags
        if unsafe:
            print("WARNING: --no-sandbox: the submissions run with your rights, unconfined. Use it "
                  "only to try the grading on work you trust, never for graded work.", flush=True)
        try:
            report = autograde(assignment, root, workers=int(workers) if workers else None,
                               unsafe=unsafe, cluster=cluster)
        except sandboxing.SandboxUnavailable as exc:
            print(f"cannot autograde: no sandbox can be made on this machine. {exc}\n"
                  f"Grade on a Linux machine with bubblewrap, or pass --no-sandbox (make autograde "
                  f"... NO_SANDBOX=1) to grade without one: unsafe, only for work you trust.")
            return 2
        graded = sum(r["status"] == "graded" for r in report.values())
        print(f"{graded} of {len(report)} submissions graded; report: reports/{assignment}.json")
    elif step == "feedback":
        proc = feedback(assignment, root)
        print(safe_display.printable(proc.stdout[-2000:]), safe_display.printable(proc.stderr[-2000:]))
    elif step == "grades":
        rows = grade_table(assignment, root)
        for row in rows:
            print(safe_display.printable(f"{row['student']:20s} {row['status']:11s} {row['score']:>6s} / "
                                         f"{row['max_score']:>4s}  {row['reason']}"))
        print(f"written: grades-{assignment}.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
