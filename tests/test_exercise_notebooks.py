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
import numpy as np
import pytest
from nbclient import NotebookClient

from coursetools import course
from coursetools.execute import ShortWaitKernelManager

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
                   kernel_manager_class=ShortWaitKernelManager,
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


# ----------------------------------------------------------------------------------------------
# A functional leak check: no function a student is given computes a graded answer
# ----------------------------------------------------------------------------------------------
def _given_functions(name, exercises=None):
    """Every function the student notebook of ``name`` defines outside its answer cells, and
    every helper its checks send to the kernel (the prelude), by name."""
    import contextlib
    import os
    import types
    folder = Path(exercises or ROOT / "exercises") / name
    functions = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        namespace = {"__name__": "__exercise__"}
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type != "code" or meta.get("solution"):
                    continue
                with contextlib.suppress(Exception), contextlib.redirect_stdout(None):
                    exec(compile(cell.source, f"<{name} cell>", "exec"), namespace)  # noqa: S102
        finally:
            os.chdir(cwd)
        functions.update({f"cell {k}": v for k, v in namespace.items()
                          if isinstance(v, types.FunctionType) and v.__code__.co_filename.startswith("<")})
    visible = json.loads((folder / "visible_checks.json").read_text())
    for test in visible["tests"].values():
        scope = {}
        exec(test.get("prelude", ""), scope)  # noqa: S102
        functions.update({f"prelude {k}": v for k, v in scope.items() if callable(v) and not k.startswith("__")})
    return functions


_CALL = re.compile(r"^\w+\((?:_a\d+|\w+=_k_\w+)?(?:, (?:_a\d+|\w+=_k_\w+))*\)$")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_function_given_to_students_returns_a_graded_answer(name):
    leaks = given_function_leaks(name)
    assert not leaks, f"exercises/{name} gives students functions that compute graded answers: {leaks[:5]}"


def given_function_leaks(name, exercises=None):
    """What the functions given with exercise ``name`` (in ``exercises``, default this
    repository's) return that equals a graded answer, as sentences (empty: nothing leaks)."""
    import copy
    import signal
    import warnings
    from coursetools import judge
    from selfcheck.compare import compare
    functions = _given_functions(name, exercises)
    plan = judge.load(name, ROOT).judge_plan()

    def alarm(*_):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, alarm)
    leaks, tried = [], 0
    try:
        for test in plan.values():
            for case in test["cases"]:
                if case["kind"] != "values" or not _CALL.match(case["expr"]):
                    continue
                expected = np.asarray(case["expected"]) if not isinstance(case["expected"], (str, dict)) else None
                if expected is None or expected.dtype.kind not in "biufc" or expected.size < 2 \
                        or np.all(expected == expected.ravel()[0]):
                    continue  # a constant answer is matched by chance too easily to prove anything
                inputs = case["inputs"]
                args = [inputs[f"_a{i}"] for i in range(sum(k.startswith("_a") for k in inputs))]
                kwargs = {k[3:]: v for k, v in inputs.items() if k.startswith("_k_")}
                for label, func in functions.items():
                    tried += 1
                    signal.alarm(5)
                    try:
                        with warnings.catch_warnings(), np.errstate(all="ignore"):
                            warnings.simplefilter("ignore")
                            got = func(*copy.deepcopy(args), **copy.deepcopy(kwargs))
                        if compare(got, case["expected"], case["rtol"], case["atol"])[0]:
                            leaks.append(f"{label} returns the answer of {case['where']}")
                    except BaseException as exc:  # noqa: BLE001  (anything a helper may raise)
                        if isinstance(exc, KeyboardInterrupt):
                            raise
                    finally:
                        signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    if (Path(exercises or ROOT / "exercises") / name / judge.CHECKS_FILE).exists():
        leaks.append("checks.py was released")
    return leaks


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_test_cell_says_how_many_checks_it_runs(name):
    """"# f: 3 visible checks here; 4 more, on other inputs, when graded": the counts are the plan's."""
    plan = json.loads((ROOT / "exercises" / name / "visible_checks.json").read_text())["tests"]
    nb = nbformat.read(ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)
    seen = 0
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        match = re.search(r"(\d+) visible checks? here; (\d+) more", cell.source)
        if grade_id in plan and match:
            seen += 1
            test = plan[grade_id]
            assert (int(match[1]), int(match[2])) == (len(test["cases"]), test["hidden_checks"]), grade_id
    assert seen, f"{name}: no test cell says how many checks it runs"
