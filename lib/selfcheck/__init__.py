"""Checking your own exercise: ``check("test_sigmoid")`` runs the visible checks of one test cell.

A graded exercise notebook starts with ``from selfcheck import check, summary``; each test cell is
one call, ``check("test_<name>")``. It calls your functions on the visible examples listed in
``visible_checks.json`` beside the notebook, and prints either "✓ … all N checks passed" or, for
each failed check, the function, the input, the expected and the received value (or shape), the
worst entry and a hint when your answer matches a known mistake. Like nbgrader's own tests it

* returns nothing when every check passed (full marks),
* returns the points earned when some passed (partial credit, as nbgrader's Validate shows it),
* raises ``CheckFailed`` (its message only, no traceback) when none passed.

This needs no grading set-up and nothing is at stake: it is the same code and the same messages
as the grader's, on the visible examples. When the work is graded, the grader runs these and
hidden checks on other inputs, outside your kernel.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from selfcheck import codec, runtime
from selfcheck.verdict import judge

__all__ = ["check", "summary", "CheckFailed"]

VISIBLE_FILE = "visible_checks.json"
_RESULTS: dict = {}


class CheckFailed(AssertionError):
    """Raised when every check of a test failed. Jupyter shows only the message."""

    def _render_traceback_(self):  # IPython hook: the message, not the source lines
        return [f"CheckFailed: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines())]


def _load(folder=None):
    path = Path(folder or ".") / VISIBLE_FILE
    if not path.exists():
        raise CheckFailed(f"the checks of this exercise were not found: {VISIBLE_FILE} should be in "
                          f"the same folder as the notebook ({Path(folder or '.').resolve()}). Open "
                          f"the notebook from its own folder, or copy {VISIBLE_FILE} beside it.")
    return json.loads(path.read_text(encoding="utf-8"))


def decode_test(test):
    """A test of the visible file with its expected values and hints decoded."""
    cases = []
    for case in test["cases"]:
        case = dict(case)
        if "expected" in case:
            case["expected"] = codec.decode(case["expected"])
        case["hints"] = [(codec.decode(v), text) for v, text in case.get("hints", ())]
        cases.append(case)
    return dict(test, cases=cases)


def check(test_id, namespace=None, folder=None):
    """Run the visible checks of ``test_id`` on the functions defined in the calling notebook."""
    plan = _load(folder)
    if test_id not in plan["tests"]:
        known = ", ".join(plan["tests"])
        raise CheckFailed(f"there is no test called {test_id!r} in this exercise (tests: {known})")
    test = decode_test(plan["tests"][test_id])
    scope = namespace if namespace is not None else sys._getframe(1).f_globals
    outcomes = {}
    for case in test["cases"]:
        inputs = {k: codec.decode(v) for k, v in case["inputs"].items()}
        outcomes[case["id"]] = runtime.call(case["expr"], inputs, scope, test.get("prelude", ""))
    verdict = judge(test, outcomes)
    _RESULTS[test["name"]] = (verdict.passed, verdict.total)
    if verdict.full:
        print(verdict.text())
        return None
    if verdict.passed == 0:
        raise CheckFailed(verdict.text())
    print(verdict.text())
    return verdict.earned


def summary():
    """Print "N of M checks passed" over every test checked so far in this kernel."""
    if not _RESULTS:
        print("No checks have run yet: run the test cells above (Run ▸ Run All Cells).")
        return
    passed = sum(p for p, _ in _RESULTS.values())
    total = sum(t for _, t in _RESULTS.values())
    print(f"{passed} of {total} visible checks passed.")
    for name, (p, t) in _RESULTS.items():
        print(f"  {'✓' if p == t else '✗'} {name}: {p} of {t}")


def reset():
    """Forget the results recorded so far (used by tests)."""
    _RESULTS.clear()
