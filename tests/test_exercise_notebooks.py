"""The student notebooks in exercises/: they run, they match their source, they leak nothing.

* Every cell of a student notebook runs; the only errors are the unanswered stubs
  (NotImplementedError) and the test cells reporting that those functions are not implemented yet.
* Regenerating exercises/ from solutions/ with nbgrader gives exactly what is committed.
* No solution code and no hidden-test text appears anywhere in exercises/.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from coursetools import course

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = course.assignments(ROOT)
STUDENT_NOTEBOOKS = sorted((ROOT / "exercises").glob("*/*.ipynb"))


def test_every_assignment_has_a_student_version():
    assert ASSIGNMENTS, "no assignments found under solutions/"
    for name in ASSIGNMENTS:
        sources = sorted(p.name for p in (ROOT / "solutions" / name).glob("*.ipynb"))
        released = sorted(p.name for p in (ROOT / "exercises" / name).glob("*.ipynb"))
        assert released == sources, (f"exercises/{name} holds {released}, expected {sources}: "
                                     f"run `make generate`")


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_student_notebook_runs_with_only_not_implemented_errors(path):
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} is committed with outputs; student notebooks are released clean"
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                ok = out.ename == "NotImplementedError" or (
                    out.ename == "CheckFailed" and "is not implemented yet" in out.evalue)
                if not ok:
                    errors.append(f"cell {i}: {out.ename}: {out.evalue[:300]}")
            if out.output_type == "stream" and out.name == "stderr":
                errors.append(f"cell {i} wrote to stderr: {out.text[:300]}")
    assert not errors, "unexpected errors in the student notebook:\n" + "\n".join(errors)


def test_regenerating_exercises_gives_what_is_committed(course_copy):
    for name in ASSIGNMENTS:
        course.generate(name, root=course_copy)
        for fresh in sorted((course_copy / "exercises" / name).glob("*.ipynb")):
            committed = ROOT / "exercises" / name / fresh.name
            assert json.loads(fresh.read_text()) == json.loads(committed.read_text()), (
                f"exercises/{name}/{fresh.name} differs from what nbgrader generates from "
                f"solutions/{name}: run `make generate` and commit the result")


_REGION = re.compile(r"#+ *BEGIN (SOLUTION|HIDDEN TESTS)(.*?)#+ *END \1", re.S)


def _protected_lines(source_nb):
    """Substantial lines inside solution and hidden-test regions of an instructor notebook."""
    lines = set()
    for cell in source_nb.cells:
        for match in _REGION.finditer(cell.source):
            for line in match.group(2).splitlines():
                line = line.strip()
                # short or generic lines (return y, a closing bracket) may legitimately appear elsewhere
                if len(line) >= 25 and not line.startswith("#"):
                    lines.add(line)
    return lines


def _readable_text(path):
    """A file's text as a reader sees it: for notebooks, cell sources and outputs unescaped."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return text
    nb = nbformat.reads(text, as_version=4)
    parts = [text]
    for cell in nb.cells:
        parts.append(cell.source)
        parts.extend(json.dumps(o, ensure_ascii=False) for o in cell.get("outputs", []))
        parts.extend(o.get("text", "") for o in cell.get("outputs", []))
    return "\n".join(parts)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_solution_or_hidden_test_leaks_into_exercises(name):
    released_text = "\n".join(_readable_text(p) for p in (ROOT / "exercises" / name).rglob("*")
                              if p.is_file())
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in released_text, f"exercises/{name} contains the marker {marker!r}"
    for source in (ROOT / "solutions" / name).glob("*.ipynb"):
        secret = _protected_lines(nbformat.read(source, as_version=4))
        assert secret, f"{source.name} has no solution or hidden-test regions"
        leaked = [line for line in secret if line in released_text]
        assert not leaked, f"exercises/{name} contains protected lines: {leaked[:5]}"
