"""Scoring one test cell from what the student's functions returned, and the message it shows.

A test is a dict ``{"name", "points", "cases": [case, …]}``; a case is a dict with

    id, kind ("values" | "shape" | "satisfies"), where (how the call is shown to the student),
    weight, weak (optional: see ``judge``), and for "values": expected, rtol, atol, hints
    [[wrong value, text], …];
    for "shape": expected_shape; for "satisfies": test (an expression in r, the received value)
    and message; for "judged" (hidden checks only, judged where they are graded): fn (a function
    of r) and message. Both may carry like: the ``structure_of`` form r must have before anything
    is computed on it.

An outcome is what one call gave: ``{"value": …}``, or ``{"error": "Type: message"}``, or
``{"not_implemented": True}``, each with optional ``"notes"`` (warnings raised inside the call).

``judge(test, outcomes)`` returns a ``Verdict``: the points earned (all, none, or the weighted
share of the checks passed, rounded to 0.01 and below the full points), and the text to show.
The same function scores the student's own check in JupyterLab (visible cases) and the grader's
(visible and hidden cases), so the messages are the same in both.
"""
from __future__ import annotations

import builtins
import math
from dataclasses import dataclass, field

import numpy as np

from selfcheck.compare import compare, cut, describe, shape_of, structure_of

#: The longest failure message of one check (the descriptions in it are bounded already), and
#: the longest description of what a hidden check received (a value, or an error's text).
MAX_MESSAGE = 1000
HIDDEN_RECEIVED = 100


@dataclass
class Verdict:
    name: str
    points: float
    earned: float
    passed: int
    total: int
    failures: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    @property
    def full(self):
        return self.total > 0 and self.passed == self.total

    def text(self):
        """What the test cell shows (without the ✗/✓ status of the whole cell for zero marks)."""
        if self.total == 0:
            return f"no checks were run for {self.name}"
        warn = "".join(f"\n  note: {where} gave a warning ({_one_line(note)}). It costs no points, but it "
                       f"usually means something overflowed or divided by zero."
                       for note, where in list(self.notes.items())[:5])
        if self.full:
            return f"✓ {self.name}: all {self.total} checks passed.{warn}"
        unique = "\n".join(f"✗ {m}" for m in dict.fromkeys(self.failures))
        if self.passed == 0:
            return f"{self.name}: none of {self.total} checks passed.\n{unique}"
        return (f"{self.name}: {self.passed} of {self.total} checks passed "
                f"({self.earned:g} of {self.points:g} points).\n{unique}")


#: the significant digits a hidden check's message shows of the numbers expected and received:
#: enough to see how far off an answer is, too few to pass the check with, copied from a page
HIDDEN_DIGITS = 2


def _value_text(x, limit=None, digits=None):
    text = describe(np.asarray(x) if isinstance(x, (list, tuple)) and _numeric(x) else x, digits=digits)
    return text if limit is None else cut(text, limit)


#: the denominators of the simple fractions a reader would try for a number shown rounded
GUESSED_DENOMINATORS = range(1, 13)


def _gives_away(expected, rtol, atol, digits):
    """Whether ``expected``, each entry written to ``digits`` significant digits (as a message
    shows it), would give the answer away: the shown number itself passes the check, or a simple
    fraction (p/q, q at most 12) that is shown the same (3.3: 10/3) does."""
    try:
        shape_of(expected)
        flat = np.asarray(expected).ravel().tolist()
        if any(isinstance(v, complex) for v in flat):
            return False
        e = np.array([float(v) for v in flat])
        shown = [f"{v:.{digits}g}" for v in e]
        s = np.array([float(t) for t in shown])
        if not np.all(np.isfinite(e)):
            return False
        q = np.array(GUESSED_DENOMINATORS, dtype=float)
        guesses = np.concatenate([s[:, None], np.round(s[:, None] * q) / q], axis=1)   # (N, 13)
        close = np.abs(guesses - e[:, None]) <= atol + rtol * np.abs(e[:, None])
        looks = np.array([[f"{g:.{digits}g}" == t for g in row] for row, t in zip(guesses, shown)])
        return bool(np.all(np.any(close & looks, axis=1)))
    except Exception:
        return False


def _numeric(x):
    try:
        shape_of(x)
        return True
    except Exception:
        return False


#: the kinds of error a hidden check's message names: Python's and numpy's own
KNOWN_ERRORS = frozenset({name for name in dir(builtins) if name.endswith(("Error", "Exception"))}
                         | {"StopIteration", "KeyboardInterrupt", "LinAlgError", "AxisError"})


def _problem(name, where, outcome, limit=160, hidden=False):
    if outcome is None:
        return (f"{where} was not checked: the notebook stopped before this check could run "
                f"(an earlier cell failed, or the time limit was reached).")
    if outcome.get("not_implemented"):
        return f"{name} is not implemented yet (it raises NotImplementedError)."
    if outcome.get("error"):
        if hidden:   # named by its kind only: the text (and a class's name) is the code's choice
            return f"{where} raised {_kind(outcome['error'], KNOWN_ERRORS, 'an exception of its own kind')}"
        return f"{where} raised {cut(_one_line(outcome['error']), limit)}"
    return None


def _form_text(form):
    """A short description of a ``structure_of`` form: "a dict with W1 (2, 16) floats, …"."""
    if isinstance(form, dict):
        items = ", ".join(f"{k}: {_form_text(v)}" for k, v in form["dict"].items())
        return cut(f"a dict with {items}", 300)
    if form[0] == "array":
        kinds = {"f": "floats", "i": "integers", "c": "complex numbers"}
        return f"{tuple(form[1])} {kinds.get(form[2], form[2])}" if form[1] else "a number"
    if form[0] == "list":
        return f"a sequence of {len(form[1])}"
    return form[1]


def _kind(text, known, other):
    """The kind a message starts with ("RuntimeWarning: …" → RuntimeWarning) if it is one of
    ``known`` (Python's and numpy's own), else ``other``: a class the student's code made could
    be named anything, a hidden input included."""
    kind = str(text).split(":", 1)[0]
    return kind if kind in known else other


def _one_line(text):
    """``text`` on one line: what the student's code wrote cannot start a line of the message of
    its own (a fake "✓ all checks passed", say)."""
    return " ".join(str(text).split())


def _notes(outcome):
    return "".join(f"\n    note: your code raised a warning: {_one_line(n)}"
                   for n in (outcome or {}).get("notes", []))


def judge_case(name, case, outcome):
    """(ok, failure message or None) for one case."""
    where = case["where"]
    # what came back from a hidden check is shown shorter: the student's code may have packed
    # the hidden input into it (a failed check then shows about as much of it as its label)
    limit = HIDDEN_RECEIVED if case.get("hidden") else None
    digits = HIDDEN_DIGITS if case.get("hidden") else None
    problem = _problem(name, where, outcome, limit or 160, hidden=bool(case.get("hidden")))
    if problem:
        return False, problem + _notes(outcome)
    value = outcome.get("value")
    kind = case["kind"]
    if kind == "shape":
        try:
            got = shape_of(value)
        except Exception:
            got = None
        want = tuple(case["expected_shape"])
        if got == want:
            return True, None
        return False, f"{where} returned shape {got}, expected shape {want}" + _notes(outcome)
    if kind in ("satisfies", "judged"):     # an expression in r, or (hidden) a grader's function
        like = case.get("like")
        if like is not None and structure_of(value) != like:
            # the expression runs only on a value of the expected form: arithmetic on arrays of
            # other shapes could broadcast into more memory and time than any answer needs
            return False, (f"{where}: {case['message']}\n    received {_value_text(value, limit, digits)}, "
                           f"which is not of the expected form ({_form_text(like)})" + _notes(outcome))
        try:
            with np.errstate(all="ignore"):
                ok = bool(case["fn"](value) if kind == "judged" else
                          eval(case["test"], {"np": np, "math": math, "__builtins__": {}},  # noqa: S307
                               {"r": value}))
        except Exception:
            ok = False
        if ok:
            return True, None
        return False, (f"{where}: {case['message']}\n    received {_value_text(value, limit, digits)}"
                       + _notes(outcome))
    expected = case["expected"]
    rtol, atol = case.get("rtol", 1e-6), case.get("atol", 1e-9)
    ok, detail = compare(value, expected, rtol, atol, digits)
    if ok:
        return True, None
    about = "about " if digits is not None else ""
    if digits is not None and _gives_away(expected, rtol, atol, digits):
        # a small integer, 0.5, a verdict: written to a few digits it is the answer itself, the
        # same for every student; the message says how the answer is wrong, not what is right
        told = detail if detail.startswith(("wrong shape", "received")) else "not the expected value"
        message = (f"{where}\n    received {about}{_value_text(value, limit, digits)}\n    {told} "
                   f"(a hidden check's expected value is not shown when {digits} digits of it "
                   f"would be the answer)")
    else:
        message = (f"{where}\n    expected {about}{_value_text(expected, digits=digits)}\n    "
                   f"received {about}{_value_text(value, limit, digits)}\n    {detail}")
    for wrong, text in case.get("hints", ()):
        try:
            if compare(value, wrong, 1e-6, 1e-9)[0]:
                message += f"\n    hint: {text}"
                break
        except Exception:
            continue
    return False, message + _notes(outcome)


#: the kinds of warning a hidden check's message may name: Python's and numpy's own (a class the
#: student's code made could be named anything, a hidden input included)
KNOWN_WARNINGS = frozenset({name for name in dir(builtins) if name.endswith("Warning")}
                           | {"ComplexWarning", "RankWarning", "VisibleDeprecationWarning",
                              "it printed to stderr"})


def _as_shown(case, outcome):
    """The outcome as the messages may show it: for a hidden check, a warning is named by its
    kind only (RuntimeWarning, …; "it printed to stderr"), never by text the student's code
    chose, which could carry the hidden input out: a kind that is not Python's or numpy's own is
    "a warning of its own kind"."""
    if not case.get("hidden") or not outcome or not outcome.get("notes"):
        return outcome
    return {**outcome, "notes": sorted({_kind(note, KNOWN_WARNINGS, "a warning of its own kind")
                                        for note in outcome["notes"]})}


def judge(test, outcomes):
    """The ``Verdict`` of one test from ``outcomes`` ({case id: outcome}, missing = not run).

    A *weak* case (``"weak": true``: one a trivial answer passes, such as handing an input back,
    zeros, the right shape, or "nothing moves" when nothing should) counts as passed only beside
    the test's real work: when a case that is not weak passed too, a hidden one if the test has
    hidden cases that are not weak. So an answer that does nothing earns nothing from the edge
    cases meant to catch a working answer's slips.
    """
    name, points = test["name"], float(test["points"])
    judged = []
    notes = {}
    for case in test["cases"]:
        outcome = _as_shown(case, outcomes.get(case["id"]))
        ok, failure = judge_case(name, case, outcome)
        judged.append((case, ok, failure))
        for note in (outcome or {}).get("notes", []):
            notes.setdefault(note, f"{name} (a hidden check)" if case.get("hidden") else case["where"])
    strong = [(case, ok) for case, ok, _ in judged if not case.get("weak")]
    backing = [(case, ok) for case, ok in strong if case.get("hidden")] or strong
    backed = not strong or any(ok for _, ok in backing)
    passed = total = 0
    passed_weight = total_weight = 0.0
    failures = []
    for case, ok, failure in judged:
        if ok and case.get("weak") and not backed:
            ok, failure = False, (f"{case['where']}: this check passed, but it is one that an answer "
                                  f"doing nothing can pass, so it counts only when the test's main "
                                  f"checks pass too")
        weight = float(case.get("weight", 1.0))
        total += 1
        total_weight += weight
        if ok:
            passed += 1
            passed_weight += weight
        else:
            failures.append(cut(failure, MAX_MESSAGE))
    if total and passed == total:
        earned = points
    elif passed == 0:
        earned = 0.0
    else:
        earned = min(round(points * passed_weight / total_weight, 2), points - 0.01)
    return Verdict(name, points, earned, passed, total, failures, notes)
