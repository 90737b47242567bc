"""The visible checks the students are given (visible_checks.json) are those the judge holds.

The file is written from solutions/<assignment>/checks.py by ``make generate`` and copied by
nbgrader into exercises/. Regenerating it on another machine (the first autograde there does) may
give expected values that differ in their last bits; such a file holds the same checks and is left
as it is, while any real change is written.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from coursetools import judge
from selfcheck import codec

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "solutions").glob(f"*/{judge.CHECKS_FILE}"))


def _fresh(assignment):
    return json.loads(json.dumps(judge.load(assignment, ROOT).visible_plan(), sort_keys=True))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_committed_visible_checks_are_the_judge_s(assignment):
    given = (ROOT / "exercises" / assignment / judge.VISIBLE_FILE).read_text(encoding="utf-8")
    kept = (ROOT / "solutions" / assignment / judge.VISIBLE_FILE).read_text(encoding="utf-8")
    assert given == kept, f"exercises/{assignment} has another {judge.VISIBLE_FILE}: make generate"
    assert judge.same_plan(_fresh(assignment), json.loads(kept)), (
        f"solutions/{assignment}/{judge.VISIBLE_FILE} is out of date with checks.py and the "
        f"library: run make generate")


def _first_case(plan):
    test = next(iter(plan["tests"].values()))
    return next(c for c in test["cases"] if "atol" in c)


def _shift_expected(case, by):
    """Move a case's expected value(s) by ``by``."""
    value = codec.decode(case["expected"]) if isinstance(case["expected"], dict) else case["expected"]
    shifted = np.asarray(value, dtype=float) + by
    case["expected"] = codec.encode(shifted) if isinstance(case["expected"], dict) else float(shifted)


def test_last_bits_are_the_same_check_and_a_real_change_is_not():
    plan = json.loads((ROOT / "solutions" / "ex01_neurons" / judge.VISIBLE_FILE).read_text())
    case = _first_case(plan)
    near, far, worded = copy.deepcopy(plan), copy.deepcopy(plan), copy.deepcopy(plan)
    _shift_expected(_first_case(near), 1e-4 * case["atol"])       # rounding's size
    _shift_expected(_first_case(far), 0.5 * case["atol"])         # half the tolerance: a change
    _first_case(worded)["where"] = "another input"
    assert judge.same_plan(near, plan)
    assert not judge.same_plan(far, plan)
    assert not judge.same_plan(worded, plan)


def test_regenerating_leaves_a_current_file_alone_and_rewrites_a_stale_one(tmp_path):
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / "ex01_neurons", root / "solutions" / "ex01_neurons")
    path = root / "solutions" / "ex01_neurons" / judge.VISIBLE_FILE
    plan = json.loads(path.read_text())
    _shift_expected(_first_case(plan), 1e-4 * _first_case(plan)["atol"])
    near = json.dumps(plan, indent=1, sort_keys=True) + "\n"
    path.write_text(near)
    judge.write_visible("ex01_neurons", root)
    assert path.read_text() == near                            # the same checks: untouched
    _shift_expected(_first_case(plan), _first_case(plan)["atol"])
    path.write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    judge.write_visible("ex01_neurons", root)
    assert judge.same_plan(json.loads(path.read_text()), _fresh("ex01_neurons"))
