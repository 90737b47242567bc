"""The exercise checks: what they report, how they score, and what they refuse to be fooled by."""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from nnlib import activations as act
from nnlib.checking import CheckFailed, Checker, summary, reset


def stable_sigmoid(v, a=1.0):
    z = a * np.asarray(v, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def test_all_passed_prints_and_returns_nothing(capsys):
    check = Checker("sigmoid", stable_sigmoid, points=2, reference=act.sigmoid)
    check.values((np.array([-2.0, 0.0, 2.0]),))
    check.shape((np.zeros((2, 3)),))
    assert check.score() is None
    assert "all 2 checks passed" in capsys.readouterr().out


def test_failure_message_names_function_input_expected_received_and_worst_entry(capsys):
    check = Checker("sigmoid", lambda v, a=1.0: 1 / (1 + np.exp(-np.asarray(v))), points=2,
                    reference=act.sigmoid)
    check.values((np.array([0.0, 1.0]),))
    check.values((np.array([1.0, -1.0]), 3.0),
                 hints=[(lambda v, a=1.0: 1 / (1 + np.exp(-v)), "the slope a is ignored")])
    earned = check.score()
    out = capsys.readouterr().out
    assert earned == 1.0
    assert "sigmoid(array([ 1., -1.]), 3" in out
    assert "expected array([0.952574, 0.047426])" in out
    assert "received array([0.731059, 0.268941])" in out
    assert "worst entry at index (0,)" in out or "worst entry at index (1,)" in out
    assert "hint: the slope a is ignored" in out


def test_shape_mismatch_is_reported_as_shapes():
    check = Checker("softmax", lambda v: np.asarray(v).sum(axis=-1), points=1, reference=act.softmax)
    check.values((np.ones((2, 3)),))
    with pytest.raises(CheckFailed, match=r"wrong shape: expected \(2, 3\), received \(2,\)"):
        check.score()


def test_none_passed_raises_checkfailed_without_traceback():
    def not_done(v):
        raise NotImplementedError()
    check = Checker("relu", not_done, points=1, reference=act.relu)
    check.values((np.ones(3),))
    check.values((np.zeros(3),))
    with pytest.raises(CheckFailed) as info:
        check.score()
    message = str(info.value)
    assert message.count("is not implemented yet") == 1  # said once, not once per check
    assert info.value._render_traceback_()[0].startswith("CheckFailed: relu")


def test_exceptions_in_student_code_become_failed_checks():
    check = Checker("relu", lambda v: v.nonexistent(), points=1, reference=act.relu)
    check.values((np.ones(3),))
    with pytest.raises(CheckFailed, match="raised AttributeError"):
        check.score()


def test_warnings_and_stderr_in_student_code_cost_nothing(capsys):
    def noisy(v, a=1.0):
        warnings.warn("careful")
        print("debugging", file=sys.stderr)
        return 1 / (1 + np.exp(-a * np.asarray(v, dtype=float)))  # overflows at -1000
    check = Checker("sigmoid", noisy, points=2, reference=act.sigmoid)
    check.values((np.array([-1000.0, 0.0, 1000.0]),))
    assert check.score() is None
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "overflow" in captured.out and "careful" in captured.out and "debugging" in captured.out


def test_calling_the_library_reference_earns_nothing_even_through_an_alias():
    from nnlib.activations import softmax as my_softmax  # an alias taken before the check
    check = Checker("softmax", lambda v: my_softmax(v), points=3, reference=act.softmax)
    check.values((np.array([1.0, 2.0]),))
    with pytest.raises(CheckFailed, match="calls the course library's own nnlib.activations.softmax"):
        check.score()


def test_derivative_is_checked_against_finite_differences_with_a_sign_hint():
    check = Checker("tanh_derivative", lambda v: -(1 - np.tanh(v) ** 2), points=1)
    check.derivative(np.tanh, (np.array([-1.0, 0.5]),))
    with pytest.raises(CheckFailed, match="sign of your derivative is flipped"):
        check.score()
    good = Checker("tanh_derivative", lambda v: 1 - np.tanh(v) ** 2, points=1)
    good.derivative(np.tanh, (np.array([-1.0, 0.5]),))
    assert good.score() is None


def test_partial_credit_is_never_full_marks(capsys):
    check = Checker("f", lambda x: x, points=1)
    for _ in range(999):
        check.values((np.ones(1),), expected=np.ones(1))
    check.values((np.ones(1),), expected=np.zeros(1))
    assert check.score() == 0.99


def test_nan_received_is_a_failure_not_a_pass():
    check = Checker("f", lambda x: np.full(2, np.nan), points=1)
    check.values((np.ones(2),), expected=np.ones(2))
    with pytest.raises(CheckFailed, match="received nan"):
        check.score()


def test_patching_numpy_comparisons_does_not_change_the_verdict(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: np.array(True))
    monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
    check = Checker("f", lambda x: x + 1, points=1)
    check.values((np.ones(2),), expected=np.ones(2))
    with pytest.raises(CheckFailed):
        check.score()


def test_inputs_are_copied_so_the_student_cannot_change_them():
    def mutates(x):
        x[:] = 0
        return x
    x = np.ones(3)
    check = Checker("f", mutates, points=1)
    check.values((x,), expected=np.zeros(3))
    check.score()
    assert np.all(x == 1)


def test_summary_counts_checks(capsys):
    reset()
    summary()
    assert "No checks have run yet" in capsys.readouterr().out
    check = Checker("g", lambda x: x, points=1, quiet=True)
    check.values((np.ones(1),), expected=np.ones(1))
    check.score()
    summary()
    assert "1 of 1 checks passed" in capsys.readouterr().out
    reset()


def test_a_function_that_is_not_callable_is_explained():
    with pytest.raises(CheckFailed, match="should be a function"):
        Checker("softmax", None)


def test_tampering_with_numpy_or_the_checks_is_detected(monkeypatch):
    import nnlib.checking as checking
    import nnlib.comparison as comparison
    assert checking.tampering() == []
    monkeypatch.setattr(np, "exp", lambda x: x)
    monkeypatch.setattr(comparison, "compare", lambda *a, **k: (True, ""))
    assert checking.tampering() == ["numpy.exp", "nnlib.comparison.compare"]
    check = Checker("sigmoid", stable_sigmoid, points=2, reference=act.sigmoid)
    check.values((np.zeros(2),))
    with pytest.raises(CheckFailed, match="tampering detected: numpy.exp, nnlib.comparison.compare were replaced"):
        check.score()
