"""Calling the student's functions on the checks' inputs, inside the student's own kernel.

This is the only part of checking that runs where the student's code runs. It evaluates each
case's expression (for example ``sigmoid(v, a)``) in the student's namespace with the case's
inputs, and records what came back: the value, or the exception, plus any warning raised on the
way. It decides nothing: the expected values and the scoring stay with whoever reads the outcomes
(``selfcheck.verdict``), so nothing done in this kernel can change a verdict, only the student's
own answers.

When graded, every test cell first takes a snapshot of the namespace (``snapshot``), so that each
test later sees the functions as they were defined at its cell; the calls themselves happen after
the student's last cell, one case per cell (``run_case``), and each outcome goes out with that
cell's answer to the runner (``selfcheck.runner``), which keeps it before the next case's inputs
are sent: nothing a later call does can change or add to what an earlier one returned.
"""
from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np

from selfcheck import codec

_SNAPSHOTS: dict = {}
#: Words of the NotImplementedError that the graded copy of the course library raises.
LIBRARY_REMOVED = "of the course library is not available while an exercise is graded"
MAX_ENTRIES = 2_000_000  # a returned array larger than this is not sent back


def call(expr, inputs, namespace, prelude=""):
    """Evaluate ``expr`` with ``inputs`` (decoded values) on top of ``namespace``; the outcome."""
    scope = dict(namespace)
    if prelude:
        exec(prelude, scope)  # noqa: S102  (helpers of the checks, e.g. flattening a result)
    scope.update(inputs)
    outcome = {}
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"), \
            contextlib.redirect_stderr(printed):
        warnings.simplefilter("always")
        try:
            outcome["value"] = eval(expr, scope)  # noqa: S307
        except NotImplementedError as exc:
            text = str(exc)
            if LIBRARY_REMOVED in text:  # the answer called the course library's own solution
                outcome = {"error": "NotImplementedError: it calls " + text.split(" of the course")[0]
                           + " of the course library, which is not available while graded: "
                           "the exercise asks you to write it yourself, so this check earns no points"}
            else:
                outcome = {"not_implemented": True}
        except Exception as exc:  # the student's bug becomes a failed check, never a crash
            outcome = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    notes = sorted({f"{w.category.__name__}: {w.message}"[:200] for w in caught})
    text = printed.getvalue().strip()
    if text:
        notes.append("it printed to stderr: " + (text[:200] + " …" if len(text) > 200 else text))
    if notes:
        outcome["notes"] = notes
    return outcome


def encode_outcome(outcome):
    """The outcome with its value encoded as data (too large a value is refused)."""
    out = dict(outcome)
    if "value" in out:
        value = out["value"]
        if isinstance(value, np.ndarray) and value.size > MAX_ENTRIES:
            out = {"error": f"the result has {value.size} entries, too many to check"}
        else:
            out["value"] = codec.encode(value)
    return out


def snapshot(test_id, namespace):
    """Remember the names defined when the test cell ``test_id`` ran (graded runs only)."""
    _SNAPSHOTS[test_id] = dict(namespace)


def run_case(test_id, case, prelude=""):
    """Run one case (``case``: its probe, as JSON text) of ``test_id`` in the namespace of the
    test's snapshot; its outcome goes with the cell's answer (``selfcheck.shell``).

    A test whose cell never ran (the notebook stopped before it) records nothing, so its cases
    count as not checked.
    """
    if test_id not in _SNAPSHOTS:
        return
    case = json.loads(case)
    inputs = {k: codec.decode(v) for k, v in case["inputs"].items()}
    outcome = encode_outcome(call(case["expr"], inputs, _SNAPSHOTS[test_id], prelude))
    from selfcheck.shell import set_cell_result
    set_cell_result(outcome)
