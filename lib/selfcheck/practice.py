"""Ungraded practice in the lectures: check your own answer to an exercise, right or not yet.

    answer(name, received, expected, rtol=1e-3, atol=1e-6, hints=())
        a number, a vector or an array you computed (by hand or by code)
    answer_function(name, function, reference, cases, rtol=1e-6, atol=1e-9, hints=())
        a function you wrote, called on each case and compared with the reference's result

Each prints one line per check: ``✓ <name>: right``; ``… <name>: not answered yet`` while the
answer is still ``None`` (or the function returns ``None``); or ``✗ <name>: not yet`` followed by
what was wrong: the shape expected, the entry that is off and whether it is too large or too small,
or the error your function raised and on which input. The expected value itself is not printed,
so that a wrong try does not give the answer away. ``hints`` lists known mistakes as
``(value, explanation)`` pairs: when your answer equals one of those values, its explanation is
printed. Nothing is graded and nothing is recorded; no grading set-up is needed.

The comparison is the graded checks' own (``selfcheck.compare``): entry by entry,
|received − expected| ≤ atol + rtol·|expected|.
"""
from __future__ import annotations

import math

import numpy as np

from selfcheck.compare import compare, describe, shape_of

__all__ = ["answer", "answer_function", "RIGHT", "NOT_YET", "UNANSWERED"]

RIGHT, NOT_YET, UNANSWERED = "✓", "✗", "…"


def _numeric(x):
    try:
        shape_of(x)
        return True
    except (ValueError, TypeError):
        return False


def _where_off(received, expected, rtol, atol):
    """Which entry is off and in which direction, without printing the expected value."""
    r = np.asarray(received, dtype=float)
    e = np.asarray(expected, dtype=float)
    if r.shape != e.shape:
        return f"wrong shape: expected shape {e.shape}, received shape {r.shape}"
    if np.isnan(r).any() and not np.isnan(e).any():
        return "your answer contains nan"
    excess = np.abs(r - e) - (atol + rtol * np.abs(e))
    excess = np.where(np.isnan(excess), np.inf, excess)
    k = int(np.argmax(excess))
    where = "" if e.ndim == 0 else f" at index {tuple(int(i) for i in np.unravel_index(k, e.shape))}"
    a, b = r.ravel()[k], e.ravel()[k]
    side = "too large" if a > b else "too small"
    if b != 0 and a != 0 and math.isclose(a, -b, rel_tol=rtol, abs_tol=atol):
        side = "the right size but the wrong sign"
    off = "" if e.ndim == 0 else f" ({int((excess > 0).sum())} of {e.size} entries are off)"
    return f"{describe(float(a))}{where} is {side}{off}"


def _hint(received, hints, rtol, atol):
    for value, text in hints:
        if _numeric(value) and _numeric(received):
            ok, _ = compare(received, value, rtol, atol)
        else:
            ok = received == value
        if ok:
            return text
    return ""


def answer(name, received, expected, rtol=1e-3, atol=1e-6, hints=()):
    """Print whether ``received`` equals ``expected`` within atol + rtol·|expected|, entry by entry.

    name: how the exercise is called in the message ("exercise 2"); received: your answer (a
    number, a list or an array; ``None`` means not answered yet); expected: the value it should
    have (same shape); hints: ``(value, explanation)`` pairs for known mistakes.
    """
    if received is None or received is Ellipsis:
        print(f"{UNANSWERED} {name}: not answered yet (replace None with your answer)")
        return
    if _numeric(expected) and not _numeric(received):
        print(f"{NOT_YET} {name}: not yet: expected a number or an array of numbers, received "
              f"{describe(received)} of type {type(received).__name__}")
        return
    ok, _ = compare(received, expected, rtol, atol)
    if ok:
        print(f"{RIGHT} {name}: right")
        return
    if _numeric(expected):
        detail = _where_off(received, expected, rtol, atol)
    else:
        detail = f"received {describe(received)}"
    hint = _hint(received, hints, rtol, atol)
    print(f"{NOT_YET} {name}: not yet: {detail}" + (f". Hint: {hint}" if hint else ""))


def answer_function(name, function, reference, cases, rtol=1e-6, atol=1e-9, hints=()):
    """Call ``function(*case)`` and ``reference(*case)`` for every case and compare the results.

    name: the exercise's name; function: yours (``None`` means not written yet); reference: a
    function that computes the right result; cases: a list of argument tuples; hints:
    ``(value, explanation)`` pairs checked against your result on the first failing case.
    Prints one line: right on every case, or the first case that is not.
    """
    if function is None:
        print(f"{UNANSWERED} {name}: not answered yet (write the function)")
        return
    for case in cases:
        case = case if isinstance(case, tuple) else (case,)
        shown = ", ".join(describe(a) for a in case)
        try:
            received = function(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in case])
        except Exception as exc:  # the student's code: report, do not raise
            print(f"{NOT_YET} {name}: not yet: calling it on ({shown}) raised "
                  f"{type(exc).__name__}: {exc}")
            return
        if received is None:
            print(f"{UNANSWERED} {name}: not answered yet (your function returns None)")
            return
        expected = reference(*case)
        ok, _ = compare(received, expected, rtol, atol)
        if not ok:
            detail = (_where_off(received, expected, rtol, atol) if _numeric(expected)
                      and _numeric(received) else f"received {describe(received)}")
            hint = _hint(received, hints, rtol, atol)
            print(f"{NOT_YET} {name}: not yet: on input ({shown}): {detail}"
                  + (f". Hint: {hint}" if hint else ""))
            return
    print(f"{RIGHT} {name}: right on all {len(cases)} inputs")
