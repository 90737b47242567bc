"""The exercise checks: what they report, how they score, and what nothing in a kernel can change.

The same verdict code scores a student's own check in JupyterLab (``selfcheck.check``, visible
cases read from visible_checks.json) and the grader's (``coursetools.judge``, outside the kernel);
these tests build small assignments with the instructor's API and run both.
"""
from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest

import selfcheck
from coursetools.judge import Assignment, build_library, call, probe
from nnlib import activations as act
from selfcheck import CheckFailed, codec, runtime


def stable_sigmoid(v, a=1.0):
    z = a * np.asarray(v, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def assignment(build, points=2, name="sigmoid", test_id="test_f"):
    a = Assignment("demo")
    a.test(test_id, name=name, points=points)(build)
    return a


def local(a, tmp_path, namespace, test_id="test_f"):
    """Run the visible checks of ``a`` as a student would, in JupyterLab."""
    (tmp_path / "visible_checks.json").write_text(json.dumps(a.visible_plan()))
    return selfcheck.check(test_id, namespace=dict(namespace, np=np), folder=tmp_path)


def graded(a, namespace, test_id="test_f"):
    """The grader's verdict: every case (visible and hidden) called, then judged."""
    plan = a.probe_plan()["tests"][test_id]
    outcomes = {}
    for case in plan["cases"]:
        inputs = {k: codec.decode(v) for k, v in case["inputs"].items()}
        raw = runtime.encode_outcome(runtime.call(case["expr"], inputs, dict(namespace, np=np)))
        if "value" in raw:
            raw["value"] = codec.decode(json.loads(json.dumps(raw["value"])))
        outcomes[case["id"]] = raw
    return a.judge({test_id: outcomes})[test_id]


def sigmoid_checks(t):
    v = np.array([0.0, 1.0])
    t.values(call("sigmoid", v), expected=act.sigmoid(v))
    v = np.array([1.0, -1.0])
    t.values(call("sigmoid", v, 3.0), expected=act.sigmoid(v, 3.0),
             hints=[(lambda v, a=1.0: 1 / (1 + np.exp(-v)), "the slope a is ignored")])
    with t.hidden():
        v = np.array([-1000.0, 0.0, 1000.0])
        t.values(call("sigmoid", v), expected=act.sigmoid(v), label="large scores")


def test_all_passed_prints_and_returns_nothing(tmp_path, capsys):
    assert local(assignment(sigmoid_checks), tmp_path, {"sigmoid": stable_sigmoid}) is None
    assert "✓ sigmoid: all 2 checks passed" in capsys.readouterr().out


def test_failure_names_function_input_expected_received_worst_entry_and_hint(tmp_path, capsys):
    earned = local(assignment(sigmoid_checks), tmp_path,
                   {"sigmoid": lambda v, a=1.0: 1 / (1 + np.exp(-np.asarray(v)))})
    out = capsys.readouterr().out
    assert earned == 1.0
    assert "sigmoid(array([ 1., -1.]), 3)" in out
    assert "expected array([0.952574, 0.047426])" in out
    assert "received array([0.731059, 0.268941])" in out
    assert "worst entry at index" in out
    assert "hint: the slope a is ignored" in out


def test_local_and_graded_verdicts_agree_on_visible_cases_and_hidden_ones_count_when_graded():
    a = assignment(sigmoid_checks)
    naive = {"sigmoid": lambda v, a=1.0: 1 / (1 + np.exp(-a * np.asarray(v, float)))}
    verdict = graded(a, naive)
    assert (verdict.passed, verdict.total) == (3, 3)   # overflow warns but the values are right
    assert "overflow" in verdict.text()                  # said as a note, costing nothing
    wrong = graded(a, {"sigmoid": lambda v, a=1.0: np.zeros(np.shape(v))})
    assert wrong.earned == 0 and "sigmoid(large scores)" in wrong.text()


def test_shape_mismatch_is_reported_as_shapes(tmp_path):
    def build(t):
        t.values(call("softmax", np.ones((2, 3))), expected=act.softmax(np.ones((2, 3))))
    with pytest.raises(CheckFailed, match=r"wrong shape: expected \(2, 3\), received \(2,\)"):
        local(assignment(build, name="softmax"), tmp_path, {"softmax": lambda v: np.asarray(v).sum(-1)})


def test_none_passed_raises_checkfailed_said_once_without_traceback(tmp_path):
    def build(t):
        t.values(call("relu", np.ones(3)), expected=np.ones(3))
        t.values(call("relu", np.zeros(3)), expected=np.zeros(3))

    def not_done(v):
        raise NotImplementedError()
    with pytest.raises(CheckFailed) as info:
        local(assignment(build, name="relu"), tmp_path, {"relu": not_done})
    assert str(info.value).count("is not implemented yet") == 1
    assert info.value._render_traceback_()[0].startswith("CheckFailed: relu")


def test_a_missing_function_and_exceptions_become_failed_checks(tmp_path):
    def build(t):
        t.values(call("relu", np.ones(3)), expected=np.ones(3))
    with pytest.raises(CheckFailed, match="raised NameError"):
        local(assignment(build, name="relu"), tmp_path, {})
    with pytest.raises(CheckFailed, match="raised AttributeError"):
        local(assignment(build, name="relu"), tmp_path, {"relu": lambda v: v.nonexistent()})


def test_warnings_and_stderr_in_student_code_cost_nothing(tmp_path, capsys):
    def noisy(v, a=1.0):
        warnings.warn("careful")
        print("debugging", file=sys.stderr)
        return 1 / (1 + np.exp(-a * np.asarray(v, dtype=float)))

    def build(t):
        v = np.array([-1000.0, 0.0, 1000.0])
        t.values(call("sigmoid", v), expected=act.sigmoid(v))
    assert local(assignment(build), tmp_path, {"sigmoid": noisy}) is None
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "overflow" in captured.out and "careful" in captured.out and "debugging" in captured.out


def test_derivative_is_checked_against_finite_differences_with_a_sign_hint(tmp_path):
    def build(t):
        t.derivative(call("tanh_derivative", np.array([-1.0, 0.5])), np.tanh)
    a = assignment(build, name="tanh_derivative")
    with pytest.raises(CheckFailed, match="sign of your derivative is flipped"):
        local(a, tmp_path, {"tanh_derivative": lambda v: -(1 - np.tanh(v) ** 2)})
    assert local(a, tmp_path, {"tanh_derivative": lambda v: 1 - np.tanh(v) ** 2}) is None


def test_partial_credit_is_never_full_marks():
    def build(t):
        for _ in range(999):
            t.values(probe("f(x)", x=np.ones(1)), expected=np.ones(1))
        t.values(probe("f(x)", x=np.ones(1)), expected=np.zeros(1))
    assert graded(assignment(build, points=1, name="f"), {"f": lambda x: x}).earned == 0.99


def test_nan_received_is_a_failure_not_a_pass():
    def build(t):
        t.values(probe("f(x)", x=np.ones(2)), expected=np.ones(2))
    verdict = graded(assignment(build, name="f"), {"f": lambda x: np.full(2, np.nan)})
    assert verdict.earned == 0 and "received nan" in verdict.text()


def test_satisfies_and_shape_checks():
    def build(t):
        t.shape(probe("f(x)", x=np.ones((2, 2))), expected_shape=(2, 2))
        t.satisfies(probe("f(x).sum()", x=np.ones((2, 2))), "r >= 4", "the sum should be at least 4")
    verdict = graded(assignment(build, name="f"), {"f": lambda x: x * 0.5})
    assert (verdict.passed, verdict.total) == (1, 2)
    assert "the sum should be at least 4" in verdict.text()


def test_patching_numpy_or_the_checks_in_the_kernel_changes_nothing_in_the_judge(monkeypatch):
    a = assignment(sigmoid_checks)
    namespace = {"sigmoid": lambda v, a=1.0: np.zeros(np.shape(v))}
    monkeypatch.setattr(np, "allclose", lambda *args, **k: True)
    import selfcheck.compare
    monkeypatch.setattr(selfcheck.compare, "compare", lambda *args, **k: (True, ""))
    outcomes = {}
    for case in a.probe_plan()["tests"]["test_f"]["cases"]:
        inputs = {k: codec.decode(v) for k, v in case["inputs"].items()}
        outcomes[case["id"]] = runtime.call(case["expr"], inputs, dict(namespace, np=np))
    monkeypatch.undo()  # the judge runs in another process, where nothing was patched
    assert a.judge({"test_f": outcomes})["test_f"].earned == 0


def test_the_student_receives_copies_of_inputs():
    def build(t):
        t.values(probe("f(x)", x=np.ones(3)), expected=np.zeros(3))
        t.values(probe("x", x=np.ones(3)), expected=np.ones(3))
    def mutates(x):
        x[:] = 0
        return x
    assert graded(assignment(build, name="f"), {"f": mutates}).full


def test_summary_counts_checks(tmp_path, capsys):
    selfcheck.reset()
    selfcheck.summary()
    assert "No checks have run yet" in capsys.readouterr().out
    local(assignment(sigmoid_checks), tmp_path, {"sigmoid": stable_sigmoid})
    selfcheck.summary()
    assert "2 of 2 visible checks passed" in capsys.readouterr().out
    selfcheck.reset()


def test_visible_file_holds_no_hidden_case_and_a_missing_file_is_explained(tmp_path):
    plan = assignment(sigmoid_checks).visible_plan()
    text = json.dumps(plan)
    assert "large scores" not in text and "-1000" not in text
    assert plan["tests"]["test_f"]["hidden_checks"] == 1
    with pytest.raises(CheckFailed, match="visible_checks.json should be in the same folder"):
        selfcheck.check("test_f", namespace={}, folder=tmp_path)


def test_codec_round_trips_data_and_refuses_code():
    values = [None, True, 3, -2.5, float("nan"), float("inf"), 1 + 2j, "text", [1, (2.0, "x")],
              {"a": np.arange(6).reshape(2, 3)}, np.array([True, False]), np.float32(1.5)]
    for value in values:
        back = codec.loads(codec.dumps(value))
        assert repr(back).replace("np.float32(1.5)", "1.5") == repr(value).replace("np.float32(1.5)", "1.5") \
            or (isinstance(value, float) and np.isnan(value) and np.isnan(back)) \
            or (isinstance(value, dict) and np.array_equal(back["a"], value["a"]))
    unsupported = codec.loads(codec.dumps(lambda: 0))
    assert isinstance(unsupported, codec.Unsupported)
    for bad in ({"ndarray": "AAAA", "dtype": "|O", "shape": [1]},
                {"ndarray": "AAAA", "dtype": "<f8", "shape": [10 ** 9]},
                {"__class__": "os.system"}):
        with pytest.raises(ValueError):
            codec.decode(bad)


def test_graded_library_keeps_names_but_not_implementations(tmp_path):
    import subprocess
    from pathlib import Path
    lib = build_library(Path(__file__).resolve().parents[1] / "lib", tmp_path / "lib")
    code = ("import nnlib.activations as a, nnlib.layers, nnlib.data, nnlib.style\n"
            "try:\n    a.sigmoid(0.0)\nexcept NotImplementedError as e:\n    print('removed:', e)\n"
            "print('data works:', nnlib.data.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert "removed: nnlib.activations.sigmoid of the course library is not available" in out.stdout, out.stderr
    assert "data works: nnlib.data" in out.stdout
    assert "def sigmoid" in (lib / "nnlib" / "activations.py").read_text()
    assert "np.exp" not in (lib / "nnlib" / "activations.py").read_text()


def test_every_module_of_the_graded_library_imports(tmp_path):
    """Module-level code runs in the sandbox with every function body removed: a module that calls
    one of the library's functions while it is imported (to build a table, say) would make every
    import of it fail, and with it the graded exercises that only need its names."""
    import subprocess
    from pathlib import Path
    lib = build_library(Path(__file__).resolve().parents[1] / "lib", tmp_path / "lib")
    code = ("import importlib, pkgutil, nnlib\n"
            "names = [m.name for m in pkgutil.walk_packages(nnlib.__path__, 'nnlib.')]\n"
            "for name in names:\n    importlib.import_module(name)\n"
            "print('imported', len(names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin",
                              "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(tmp_path)}, cwd=tmp_path)
    assert out.returncode == 0 and "imported" in out.stdout, out.stderr[-2000:]


def test_complex_numbers_and_nan_never_pass_for_real_answers():
    """abs() of a complex nan is nan, and nan > anything is false: such an entry must count as
    the worst, not be skipped; a complex answer to a real question passes only if it is real."""
    from selfcheck.compare import compare
    expected = np.array([0.1, 0.5, 0.9])
    for received in (np.full(3, complex("nan")), np.array([0.1, 0.5, complex("nan")]),
                     np.full(3, complex("nan"), dtype=complex), np.array([0.1, 0.5, 0.9 + 1e-3j])):
        ok, detail = compare(received, expected, 1e-6, 1e-9)
        assert not ok and detail, received
    assert compare(expected.astype(complex), expected, 1e-6, 1e-9) == (True, "")
    assert not compare(np.array([1 + 1j, complex("nan")]), np.array([1 + 1j, 2 + 0j]), 1e-6, 1e-9)[0]


def test_descriptions_stay_short_however_a_value_is_packed():
    from selfcheck.compare import MAX_DESCRIPTION, describe
    nested = "x" * 50
    for _ in range(6):
        nested = (nested,) * 8
    assert len(describe(nested)) <= MAX_DESCRIPTION
    flat = tuple(tuple(repr(float(i)) for i in range(j, j + 8)) for j in range(0, 64, 8))
    assert len(describe(flat)) <= MAX_DESCRIPTION


def test_a_satisfies_check_with_a_form_judges_only_values_of_that_form():
    from selfcheck.compare import structure_of
    from selfcheck.verdict import judge_case
    like = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    case = {"kind": "satisfies", "where": "step(…)", "message": "the loss must go down",
            "test": "np.sum(r['W']) + np.sum(r['b']) == 0.0",
            "like": structure_of(like)}
    assert judge_case("step", case, {"value": {"W": np.zeros((2, 3)), "b": np.zeros(3)}}) == (True, None)
    for wrong in ({"W": np.zeros((2, 3))},                                  # a key missing
                  {"W": np.zeros((2, 3)), "b": np.zeros((4000, 1, 3))},      # would broadcast
                  {"W": np.zeros((2, 3), int), "b": np.zeros(3)},            # integers
                  {"W": np.zeros((2, 3)), "b": np.zeros(3), "extra": 1.0},
                  [np.zeros((2, 3)), np.zeros(3)], "W", None):
        ok, message = judge_case("step", case, {"value": wrong})
        assert not ok and "not of the expected form (a dict with W: (2, 3) floats, b: (3,) floats)" in message
    assert structure_of(np.float64(1.5)) == structure_of(2.0) == ["array", [], "f"]
    assert structure_of([1, [2, 3]])[0] == "list" and structure_of(True) == ["array", [], "i"]


def test_a_hidden_check_names_only_python_s_and_numpy_s_kinds_of_warning():
    """The kind of a warning is its class's name, which the student's code can choose: for a
    hidden check only known kinds are named."""
    from selfcheck.verdict import judge
    test = {"name": "f", "points": 1, "cases": [
        {"id": "f/0", "kind": "values", "where": "f(…)", "weight": 1.0, "hidden": True,
         "expected": 1.0, "rtol": 1e-6, "atol": 1e-9, "hints": []}]}
    for note, shown in (("RuntimeWarning: overflow encountered in exp", "RuntimeWarning"),
                        ("Zm9vYmFyIGhpZGRlbiBpbnB1dA: x", "a warning of its own kind"),
                        ("it printed to stderr: 0.25 0.5", "it printed to stderr")):
        verdict = judge(test, {"f/0": {"value": 1.0, "notes": [note]}})
        assert list(verdict.notes) == [shown] and "Zm9v" not in verdict.text()


def test_what_the_student_s_code_writes_cannot_start_a_line_of_a_message():
    from selfcheck.verdict import judge_case
    case = {"kind": "values", "where": "f(1)", "expected": 1.0, "rtol": 1e-6, "atol": 1e-9, "hints": []}
    fake = "oops\n✓ f: all 9 checks passed.\n✓ g: all 3 checks passed."
    for outcome in ({"error": f"ValueError: {fake}"}, {"value": 0.0, "notes": [f"UserWarning: {fake}"]}):
        ok, message = judge_case("f", case, outcome)
        assert not ok and not any(line.lstrip().startswith("✓") for line in message.splitlines()), message


def test_a_hidden_check_s_message_shows_numbers_too_roughly_to_be_copied():
    """The hidden inputs are the same for every student: a failed hidden check that printed its
    expected value to ten digits made every classmate's page (and last year's) an answer key."""
    from selfcheck.verdict import judge_case
    case = {"kind": "values", "where": "mse(random (6, 3) arrays)", "expected": 1.44357005, "rtol": 1e-6,
            "atol": 1e-9, "hints": [], "hidden": True}
    ok, message = judge_case("mse", case, {"value": -1.0})
    assert not ok and "expected about 1.4" in message and "1.443" not in message and "1.44" not in message
    array_case = dict(case, expected=np.array([0.123456789, -2.3456789, 0.0, 7.0]))
    ok, message = judge_case("f", array_case, {"value": np.array([0.1, -2.0, 0.5, 7.0])})
    assert not ok and "0.1234" not in message and "2.345" not in message and "about array([0.12, -2.3, 0, 7])" in message
    visible = dict(case, hidden=False)
    assert "expected 1.44357005" in judge_case("mse", visible, {"value": -1.0})[1]


def test_a_hidden_check_does_not_show_an_expected_value_that_its_digits_would_give_away():
    """Two digits of 15, 0.5 or (0, 15, 2) are the answer itself, the same for every student:
    such an expected value is not shown (a page of them was a lookup table for the class)."""
    from selfcheck.verdict import judge_case
    case = {"kind": "values", "where": "convergence_verdict(7 points that cycle)", "rtol": 1e-6,
            "atol": 1e-9, "hints": [], "hidden": True, "expected": np.array([0, 15, 2])}
    ok, message = judge_case("convergence_verdict", case, {"value": np.array([7, 7, 7])})
    assert not ok and "15" not in message and "not the expected value" in message
    assert "received about array([7, 7, 7])" in message
    ok, message = judge_case("convergence_verdict", case, {"value": np.array([7, 7])})
    assert not ok and "wrong shape: expected (3,), received (2,)" in message and "15" not in message
    ok, message = judge_case("sigmoid", dict(case, expected=0.5), {"value": 0.25})
    assert not ok and "0.5" not in message
    ok, message = judge_case("mse", dict(case, expected=10 / 3), {"value": 1.0})
    assert not ok and "3.3" not in message                    # shown as 3.3, 10/3 is the guess
    ok, message = judge_case("mse", dict(case, expected=1.44357005), {"value": -1.0})
    assert "expected about 1.4" in message                    # two digits that do not pass: shown
    visible = dict(case, hidden=False)
    assert "expected array([ 0, 15,  2])" in judge_case("f", visible, {"value": np.array([7, 7, 7])})[1]


def test_a_hidden_check_shows_integers_and_shapes_as_roughly_as_numbers():
    """The digits of integers and the lengths of a shape are the code's to choose, as its numbers
    are: a returned array of a hidden input's 64-bit patterns carried it out exactly."""
    from selfcheck.verdict import judge_case
    case = {"kind": "values", "where": "sigmoid(a hidden (5, 4) input)", "rtol": 1e-6,
            "atol": 1e-9, "hints": [], "hidden": True, "expected": np.linspace(0.1, 0.9, 4)}
    packed = np.array([4605789305838452195, 4617012379208120557, -7, 12345])
    ok, message = judge_case("sigmoid", case, {"value": packed})
    assert not ok and "4605789305838452195" not in message and "4.6e+18" in message
    assert "12345" not in message and "1.2e+04" in message
    ok, message = judge_case("sigmoid", case, {"value": 10 ** 400})
    assert not ok and "an integer of about 401 digits" in message and "1000" not in message
    ok, message = judge_case("sigmoid", case, {"value": np.zeros((0, 783021, 15))})
    assert not ok and "783021" not in message and "(3 axes, not shown)" in message
    ok, message = judge_case("sigmoid", case, {"value": np.zeros((2, 3))})
    assert "wrong shape: expected (4,), received (2, 3)" in message      # a plain shape: shown
    visible = dict(case, hidden=False)
    assert "12345" in judge_case("sigmoid", visible, {"value": packed})[1]


def test_a_hidden_check_shows_no_text_the_student_s_code_chose():
    """An error's text, an exception class's name and a returned string are the code's to
    choose: for a hidden check they could carry its input out, a few dozen characters a check."""
    from selfcheck.verdict import judge_case
    case = {"kind": "values", "where": "f(a hidden input)", "expected": 1.0, "rtol": 1e-6, "atol": 1e-9,
            "hints": [], "hidden": True}
    secret = "MC4xMjM0NTY3ODkgLTIuMzQ1Njc4OQ"
    for outcome, shown in (({"error": f"ValueError: {secret}"}, "raised ValueError"),
                           ({"error": f"{secret}Error: x"}, "raised an exception of its own kind"),
                           ({"value": secret}, "a string of 30 characters"),
                           ({"value": [1.5, secret]}, "a string of 30 characters")):
        ok, message = judge_case("f", case, outcome)
        assert not ok and shown in message and secret not in message, message
    visible = dict(case, hidden=False)
    assert secret in judge_case("f", visible, {"error": f"ValueError: {secret}"})[1]


def test_no_path_of_a_hidden_check_s_message_shows_more_digits():
    from selfcheck.compare import structure_of
    from selfcheck.verdict import judge_case
    hidden = {"where": "f(…)", "hidden": True, "hints": [], "rtol": 1e-6, "atol": 1e-9}
    ok, message = judge_case("f", dict(hidden, kind="values", expected=np.array([1.0, 2.0])),
                             {"value": np.array([1.23456789 + 1j, 2.0])})
    assert not ok and "1.2345" not in message
    guarded = dict(hidden, kind="satisfies", test="True", message="m", like=structure_of({"W": np.zeros(2)}))
    ok, message = judge_case("f", guarded, {"value": {"W": np.array([1.23456789, 2.0, 3.0])}})
    assert not ok and "1.2345" not in message and "not of the expected form" in message
