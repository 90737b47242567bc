"""Checks for the graded exercises, with failure messages in the student's terms.

A test cell of an exercise builds a ``Checker`` for one function, runs a few checks, and ends
with ``check.score()``::

    check = Checker("sigmoid", sigmoid, points=2, reference=act.sigmoid)
    check.shape((np.zeros((2, 3)),))
    check.values((np.array([-2.0, 0.0, 2.0]),))
    check.score()

Every check calls the student's function on a copy of its inputs and compares what comes back
with the reference. A failed check prints which function, which input, the expected and the
received value (or shape), the worst entry and its error, and a hint when the answer matches a
common mistake (``hints=``). ``score()`` then

* prints "all N checks passed" and returns nothing when everything passed (full marks),
* returns the points earned when some checks passed (nbgrader reads that number as partial
  credit, and nbgrader's Validate reports it as partial),
* raises ``CheckFailed`` (shown without a traceback) when none passed: zero marks.

What the student's code does that is not the answer does not cost marks: numpy warnings raised
inside it are caught and reported as notes (nbgrader would otherwise score any cell that writes to
stderr 0), and exceptions become failed checks with the exception's message.

An answer that calls the course library's own implementation (anything in ``nnlib`` except this
module, ``style``, ``data``, ``plotting`` and ``widgets``) fails the check with a message saying why:
the exercise is to write it.

The comparisons are done in plain Python on ``ndarray.tolist()`` values, not with numpy
functions a notebook could replace, and the module keeps its own references to what it uses.
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import hashlib
import hmac
import io
import json
import math
import os
import sys
import types
import warnings

import numpy as np

from nnlib import comparison as _comparison
from nnlib.comparison import compare as _compare, describe, shape_of as _shape_of

__all__ = ["CheckFailed", "Checker", "summary", "reset", "describe"]

# Parts of nnlib a student may use freely; everything else in nnlib is a reference answer.
_ALLOWED_MODULES = {"nnlib", "nnlib.checking", "nnlib.style", "nnlib.data", "nnlib.plotting",
                    "nnlib.widgets"}
_RESULTS: dict = {}          # function name -> (passed, total), for summary()
_setprofile = sys.setprofile  # our own references, taken at import time
_getprofile = sys.getprofile
_asarray = np.asarray
_ndarray = np.ndarray


# ----------------------------------------------------------------------------------------------
# Tampering: what the checks rely on is recorded when this module is imported (the first cell of
# an exercise, before any student code), and verified before every verdict.
# ----------------------------------------------------------------------------------------------
_BUILTINS_USED = ("abs", "all", "any", "bool", "callable", "dict", "enumerate", "float",
                  "getattr", "int", "isinstance", "iter", "len", "list", "map", "max", "min",
                  "next", "open", "print", "range", "repr", "round", "set", "sorted", "str",
                  "sum", "tuple", "type", "zip")


def _snapshot():
    watched = {"numpy": np, "numpy.linalg": np.linalg, "numpy.random": np.random, "math": math,
               "builtins": builtins, "warnings": warnings, "copy": copy, "json": json}
    snap = {}
    for label, module in watched.items():
        # the kernel swaps some builtins on every execution (input, …): watch only those we use
        names = _BUILTINS_USED if module is builtins else dir(module)
        for name in names:
            if not name.startswith("_"):
                obj = getattr(module, name, None)
                if callable(obj):
                    snap[(label, name)] = obj
    return watched, snap


_WATCHED, _SNAPSHOT = _snapshot()
_SELF = {}  # this module's own public objects, filled in at the end of the module
_COMPARISON = {name: getattr(_comparison, name) for name in _comparison.__all__}

# Where the grading run wants signed verdicts (set by coursetools.autograde; absent elsewhere).
# Both are removed from the environment so that code run later in the kernel cannot read them.
_VERDICT_PATH = os.environ.pop("NNLIB_VERDICTS", None)
_VERDICT_KEY = os.environ.pop("NNLIB_VERDICT_KEY", "").encode()
_hmac_new, _sha256, _dumps, _open = hmac.new, hashlib.sha256, json.dumps, builtins.open


def tampering():
    """What was replaced since this module was imported, as a list of names (empty if nothing)."""
    changed = [f"{label}.{name}" for (label, name), obj in _SNAPSHOT.items()
               if getattr(_WATCHED[label], name, None) is not obj]
    module = sys.modules.get(__name__)
    changed += [f"{__name__}.{name}" for name, obj in _SELF.items()
                if module is None or getattr(module, name, None) is not obj]
    changed += [f"nnlib.comparison.{name}" for name, obj in _COMPARISON.items()
                if getattr(_comparison, name, None) is not obj]
    return changed


def _sign_verdict(name, passed, total, earned, points):
    """Append a signed record of a verdict for the grading run to verify (no-op elsewhere)."""
    if not _VERDICT_PATH:
        return
    shell = getattr(builtins, "get_ipython", lambda: None)()
    cell = getattr(shell, "execution_count", 0) - 1 if shell is not None else -1
    record = {"cell": cell, "name": name, "passed": passed, "total": total,
              "earned": earned, "points": points}
    body = _dumps(record, sort_keys=True)
    record["mac"] = _hmac_new(_VERDICT_KEY, body.encode(), _sha256).hexdigest()
    with _open(_VERDICT_PATH, "a", encoding="utf-8") as f:
        f.write(_dumps(record, sort_keys=True) + "\n")


class CheckFailed(AssertionError):
    """Raised when every check of a function failed. Jupyter shows only the message."""

    def _render_traceback_(self):  # IPython hook: show the message, not the test's source lines
        return [f"CheckFailed: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines())]


# ----------------------------------------------------------------------------------------------
# Calling the student's function safely
# ----------------------------------------------------------------------------------------------
def _reference_codes():
    """Code objects of the library's reference implementations (functions and methods)."""
    codes = set()
    for name, mod in list(sys.modules.items()):
        if not name.startswith("nnlib.") or mod is None:
            continue
        if any(name == a or name.startswith(a + ".") for a in _ALLOWED_MODULES if a != "nnlib"):
            continue
        for obj in list(vars(mod).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            if isinstance(obj, types.FunctionType):
                codes.add(obj.__code__)
            elif isinstance(obj, type):
                for member in vars(obj).values():
                    fn = getattr(member, "__func__", member)
                    if isinstance(fn, types.FunctionType):
                        codes.add(fn.__code__)
    return codes


class _Call:
    """Outcome of one call of the student's function."""

    def __init__(self):
        self.value = None
        self.error = None          # text, when the call raised
        self.not_implemented = False
        self.notes = []            # warnings raised, or text printed to stderr, inside the call
        self.used_reference = None  # name of a library function it called, if any


def _call(func, args, kwargs):
    outcome = _Call()
    args = copy.deepcopy(args)
    kwargs = copy.deepcopy(kwargs)
    codes = _reference_codes()
    seen = []

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes and not seen:
            seen.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")

    previous = _getprofile()
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"), \
            contextlib.redirect_stderr(printed):
        warnings.simplefilter("always")
        _setprofile(profiler)
        try:
            outcome.value = func(*args, **kwargs)
        except NotImplementedError:
            outcome.not_implemented = True
        except Exception as exc:  # the student's bug becomes a failed check, never a crash
            outcome.error = f"{type(exc).__name__}: {exc}"
        finally:
            _setprofile(previous)
    outcome.notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if printed.getvalue().strip():
        text = printed.getvalue().strip()
        outcome.notes.append("it printed to stderr: " + (text[:200] + " …" if len(text) > 200 else text))
    outcome.used_reference = seen[0] if seen else None
    return outcome


# ----------------------------------------------------------------------------------------------
# The checker
# ----------------------------------------------------------------------------------------------
class Checker:
    """Runs checks of one student function and scores them.

    ``name``: the function's name as the student knows it; ``func``: the student's function;
    ``points``: what the test cell is worth; ``reference``: the correct implementation used to
    compute expected values (may be None when every check passes ``expected=``).
    """

    def __init__(self, name, func, points=1.0, reference=None, quiet=False):
        if not callable(func):
            raise CheckFailed(f"{name} should be a function, but it is {describe(func)}: "
                              f"did you run the cell that defines it?")
        self.name, self.func, self.points, self.reference = name, func, float(points), reference
        self.quiet = quiet
        self.passed_weight = 0.0
        self.total_weight = 0.0
        self.failures = []
        self.notes = {}            # warnings seen in the student's code, said once at the end
        self.n_checks = 0
        self.n_passed = 0

    # -- bookkeeping ----------------------------------------------------------------------------
    def _record(self, ok, weight, message=None):
        self.n_checks += 1
        self.total_weight += weight
        if ok:
            self.n_passed += 1
            self.passed_weight += weight
        else:
            self.failures.append(message)
        return ok

    def _signature(self, args, kwargs, label):
        if label:
            return f"{self.name}({label})"
        parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def _run(self, args, kwargs, label):
        """Call the student's function; return (call, failure message or None)."""
        call = _call(self.func, args, kwargs)
        where = self._signature(args, kwargs, label)
        for note in call.notes:
            self.notes.setdefault(note, where)
        if call.not_implemented:
            return call, f"{self.name} is not implemented yet (it raises NotImplementedError)."
        if call.used_reference:
            return call, (f"{where} calls the course library's own {call.used_reference}; "
                          f"this exercise asks you to write it yourself, so this check earns "
                          f"no points.")
        if call.error:
            return call, f"{where} raised {call.error}"
        return call, None

    def _warning_text(self):
        if not self.notes:
            return ""
        lines = [f"\n  note: {where} gave a warning ({note}). It costs no points, but it "
                 f"usually means something overflowed or divided by zero."
                 for note, where in self.notes.items()]
        return "".join(lines)

    def _notes(self, call):
        return "".join(f"\n    note: your code raised a warning: {n}" for n in call.notes)

    # -- checks ---------------------------------------------------------------------------------
    def values(self, args, kwargs=None, expected=None, rtol=1e-6, atol=1e-9, weight=1.0,
               hints=(), label=None):
        """Check that ``func(*args, **kwargs)`` equals ``expected`` (or the reference's value).

        ``hints``: pairs (wrong_function, hint text); if the received value matches what
        ``wrong_function(*args, **kwargs)`` gives, the hint is added to the message.
        """
        kwargs = kwargs or {}
        if expected is None:
            expected = self.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        call, problem = self._run(args, kwargs, label)
        where = self._signature(args, kwargs, label)
        if problem:
            return self._record(False, weight, problem + self._notes(call))
        ok, detail = _compare(call.value, expected, rtol, atol)
        if ok:
            return self._record(True, weight)
        message = (f"{where}\n    expected {describe(_asarray(expected))}"
                   f"\n    received {describe(call.value if not isinstance(call.value, (list, tuple)) else _asarray(call.value))}"
                   f"\n    {detail}")
        for wrong, text in hints:
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    guess = wrong(*copy.deepcopy(args), **copy.deepcopy(kwargs))
                if _compare(call.value, guess, 1e-6, 1e-9)[0]:
                    message += f"\n    hint: {text}"
                    break
            except Exception:
                continue
        return self._record(False, weight, message + self._notes(call))

    def shape(self, args, kwargs=None, expected_shape=None, weight=1.0, label=None):
        """Check only the shape of what ``func`` returns (partial credit for the right shape)."""
        kwargs = kwargs or {}
        if expected_shape is None:
            expected_shape = _shape_of(self.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        call, problem = self._run(args, kwargs, label)
        if problem:
            return self._record(False, weight, problem + self._notes(call))
        got = _shape_of(call.value) if call.value is not None else None
        if got == tuple(expected_shape):
            return self._record(True, weight)
        where = self._signature(args, kwargs, label)
        return self._record(False, weight, f"{where} returned shape {got}, expected shape "
                                           f"{tuple(expected_shape)}" + self._notes(call))

    def derivative(self, forward, args, index=0, kwargs=None, h=1e-6, rtol=1e-5, atol=1e-7,
                   weight=1.0, label=None):
        """Gradient check: ``func`` must return d forward / d args[index], elementwise.

        The expected value is the centred difference (f(x + h) − f(x − h)) / 2h of ``forward``
        (usually the reference forward function) at the same input, so the derivative is graded
        against the definition of a derivative, not against fixed numbers.
        """
        kwargs = kwargs or {}
        x = _asarray(args[index], dtype=float)
        plus = list(args); plus[index] = x + h
        minus = list(args); minus[index] = x - h
        with np.errstate(all="ignore"):
            numeric = (_asarray(forward(*plus, **kwargs)) - _asarray(forward(*minus, **kwargs))) / (2 * h)
        return self.values(args, kwargs, expected=numeric, rtol=rtol, atol=atol, weight=weight,
                           hints=((lambda *a, **k: -numeric, "the sign of your derivative is "
                                   "flipped."),), label=label)

    def true(self, condition, message, weight=1.0):
        """A free-form check: ``condition`` must hold; ``message`` explains it when it does not."""
        return self._record(bool(condition), weight, f"{self.name}: {message}")

    # -- result ---------------------------------------------------------------------------------
    def score(self):
        """Print the outcome and return the points earned (see the module docstring).

        Before any verdict, the checks verify that nothing they rely on (numpy, math, builtins,
        this module) was replaced since the exercise's first cell: if something was, every check
        of this cell fails with a message saying that tampering was detected.
        """
        replaced = tampering()
        if replaced:
            _RESULTS[self.name] = (0, max(self.n_checks, 1))
            _sign_verdict(self.name, 0, max(self.n_checks, 1), 0.0, self.points)
            raise CheckFailed(f"{self.name}: tampering detected: {', '.join(replaced[:5])} "
                              f"{'was' if len(replaced) == 1 else 'were'} replaced after the "
                              f"exercise started, so none of these checks can be trusted and "
                              f"this cell scores 0. Restart the kernel and do not redefine "
                              f"library or numpy functions.")
        _RESULTS[self.name] = (self.n_passed, self.n_checks)
        if self.n_checks == 0:
            raise CheckFailed(f"no checks were run for {self.name}")
        earned = self.points if self.n_passed == self.n_checks else (
            0.0 if self.n_passed == 0 else
            min(round(self.points * self.passed_weight / self.total_weight, 2), self.points - 0.01))
        _sign_verdict(self.name, self.n_passed, self.n_checks, earned, self.points)
        if self.n_passed == self.n_checks:
            if not self.quiet:
                print(f"✓ {self.name}: all {self.n_checks} checks passed.{self._warning_text()}")
            return None
        unique = list(dict.fromkeys(self.failures))  # the same problem is said once
        text = "\n".join(f"✗ {m}" for m in unique)
        if self.n_passed == 0:
            raise CheckFailed(f"{self.name}: none of {self.n_checks} checks passed.\n{text}")
        print(f"{self.name}: {self.n_passed} of {self.n_checks} checks passed "
              f"({earned:g} of {self.points:g} points).\n{text}")
        return earned


def summary():
    """Print "N of M checks passed" over every checker run so far in this kernel."""
    if not _RESULTS:
        print("No checks have run yet: run the test cells above (Run ▸ Run All Cells).")
        return
    passed = sum(p for p, _ in _RESULTS.values())
    total = sum(t for _, t in _RESULTS.values())
    print(f"{passed} of {total} checks passed.")
    for name, (p, t) in _RESULTS.items():
        print(f"  {'✓' if p == t else '✗'} {name}: {p} of {t}")


def reset():
    """Forget the results recorded so far (used by tests)."""
    _RESULTS.clear()


_SELF.update({name: globals()[name] for name in ("Checker", "CheckFailed", "summary", "tampering",
                                                 "_compare", "_call", "_sign_verdict", "describe")})
