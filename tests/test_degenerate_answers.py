"""Answers that do nothing earn nothing, in every test of every assignment.

Each answer function of an assignment is replaced, one at a time, by a body that does no work:
``return None``, ``0.0``, ``True``, an argument handed back (alone, twice, or with another,
negated or transposed), zeros, ones, 0.5 or uniform rows of the first argument's shape, zeros or
ones one per row. Every probe is evaluated as the grader's kernel does (``selfcheck.runtime``,
values through the codec) and judged by the assignment's judge, hidden checks included. A values
check such an answer passes (an edge case whose answer *is* an input, zeros, "unchanged") must be
marked weak in checks.py, so that it counts only beside the test's main checks
(``selfcheck.verdict.judge``). Shape checks earn their share for any array of the right shape,
by design (the instructor guide says so). No sandbox: the answers here are the tests' own.
"""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from coursetools import course, judge as judging
from selfcheck import codec, runtime
from selfcheck.verdict import judge as judge_test

ROOT = course.ROOT
BODIES = {
    "None": "return None",
    "0.0": "return 0.0",
    "first": "return {a0}",
    "second": "return {a1}",
    "third": "return {a2}",
    "zeros like the first": "return np.zeros_like(np.asarray({a0}, dtype=float))",
    "first, twice": "return {a0}, {a0}",
    "first and None": "return {a0}, None",
    "first and second": "return {a0}, {a1}",
    "first and third": "return {a0}, {a2}",
    "first, three times": "return {a0}, {a0}, {a0}",
    "its negative": "return -np.asarray({a0}, dtype=float)",
    "its transpose": "return np.asarray({a0}, dtype=float).T",
    "0.5 like the first": "return np.full_like(np.asarray({a0}, dtype=float), 0.5)",
    "ones like the first": "return np.ones_like(np.asarray({a0}, dtype=float))",
    "uniform rows like the first": "return np.ones_like(np.asarray({a0}, dtype=float)) / np.shape({a0})[-1]",
    "zeros, one per row": "return np.zeros(len({a0}))",
    "ones, one per row": "return np.ones(len({a0}))",
    "True": "return True",
    "zeros like the first, twice": "return np.zeros_like(np.asarray({a0}, dtype=float)), np.zeros_like(np.asarray({a0}, dtype=float))",
}


def _answer_functions(assignment):
    """[(name, parameters)] of the functions the student writes (the answer cells' defs)."""
    nb = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text())
    found = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            found += re.findall(r"^def (\w+)\((.*?)\):", "".join(cell["source"]), re.M)
    return found


def _passed_not_shape(assignment_judge, plan, namespace):
    """{test id: [where of each check passed that is not a shape check]} and the points earned
    with the shape checks left out."""
    outcomes = _outcomes(plan, namespace)
    out = {}
    for test_id, test in assignment_judge.judge_plan().items():
        cases = [c for c in test["cases"] if c["kind"] != "shape"]
        verdict = judge_test(dict(test, cases=cases), outcomes[test_id])
        if verdict.earned > 0:
            out[test_id] = verdict.earned
    return out


def _outcomes(plan, namespace):
    outcomes = {}
    for test_id, test in plan["tests"].items():
        outcomes[test_id] = {}
        for case in test["cases"]:
            inputs = {k: codec.decode(v) for k, v in case["inputs"].items()}
            out = runtime.encode_outcome(runtime.call(case["expr"], inputs, namespace, test["prelude"]))
            out = json.loads(json.dumps(out))
            if "value" in out:
                out["value"] = codec.decode(out["value"])
            outcomes[test_id][case["id"]] = out
    return outcomes


@pytest.mark.grading
@pytest.mark.parametrize("assignment", course.assignments(ROOT))
def test_an_answer_that_does_nothing_earns_nothing(assignment):
    assignment_judge = judging.load(assignment, ROOT)
    plan = assignment_judge.probe_plan()
    earned = []
    for name, params in _answer_functions(assignment):
        names = [p.split("=")[0].strip().lstrip("*") for p in params.split(",") if p.strip()]
        args = {f"a{i}": (names[i] if i < len(names) else "None") for i in range(3)}
        for strategy, body in BODIES.items():
            code = f"def {name}({params}):\n    {body.format(**args)}\n"
            namespace = {"np": np, "__name__": "__main__"}
            exec(compile(code, f"<{name}: {strategy}>", "exec"), namespace)  # noqa: S102
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = _passed_not_shape(assignment_judge, plan, namespace)
            earned += [f"{name} ({strategy}): {test_id} {points}" for test_id, points in scores.items()
                       if points > 0]
    assert not earned, "\n".join(earned)
