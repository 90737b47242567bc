"""The grading round trip of ex05_training, through nbgrader, on a copy of the course.

Submissions: the solution (20 of 20), the untouched student notebook (0), four realistic mistakes
with their hints, correct code with settings that underfit (partial credit on the outcome), the same
with a predict that searches its callers for the new points' labels (no more than the underfit
network earns), answers that hard-code the visible expected outputs (no hidden points), and a loss written with the course
library's own implementation (0 for it, and for everything that trains through it: while graded,
the library's own implementations are not available).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex05_training"
NB = f"{A}.ipynb"

MISTAKES = {
    # the last, smaller batch is dropped
    "minibatches": '''
def minibatches(X, y, batch_size, rng):
    N = len(X)
    order = rng.permutation(N)
    return [(X[order[s:s + batch_size]], y[order[s:s + batch_size]])
            for s in range(0, N - batch_size + 1, batch_size)]
''',
    # softmax without subtracting the row maximum
    "forward": '''
def forward(params, X):
    L = len(params) // 2
    H = X
    inputs = [X]
    for l in range(1, L):
        H = np.maximum(H @ params[f"W{l}"] + params[f"b{l}"], 0.0)
        inputs.append(H)
    Z = H @ params[f"W{L}"] + params[f"b{L}"]
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True), inputs
''',
    # moved up the gradient
    "train_step": '''
def train_step(params, X, y, lr):
    J, grads = loss_and_grads(params, X, y)
    for key in params:
        params[key] += lr * grads[key]
    return J
''',
}
# A gradient that is N times too large, on its own (a wrong gradient also changes what
# train_step and train produce, so it is submitted separately).
GRADIENT_MISTAKE = {
    # dJ/dZ_L not divided by the batch size
    "loss_and_grads": '''
def loss_and_grads(params, X, y):
    L = len(params) // 2
    P, inputs = forward(params, X)
    N = len(X)
    J = float(-np.mean(np.log(P[np.arange(N), y])))
    dZ = P.copy()
    dZ[np.arange(N), y] -= 1.0
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = inputs[l - 1].T @ dZ
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dZ = (dZ @ params[f"W{l}"].T) * (inputs[l - 1] > 0)
    return J, grads
''',
}

MISTAKE_HINTS = {
    "test_minibatches": "the last, smaller batch is missing",
    "test_forward": "softmax overflows for large scores",
    "test_train_step": "the parameters moved UP the gradient",
}
MISTAKE_SCORES = {
    "test_minibatches": 0.3,       # 1 of 10: only batch_size=1 (N a multiple) comes out right
    "test_forward": 2.4,           # 4 of 5: NaN when the scores are in the thousands
    "test_loss_and_grads": 4.0,
    "test_train_step": 0.5,        # 1 of 4: only the returned loss is right
    "test_predict": 1.0,
    "test_trained_network": 0.0,   # up the gradient: chance level (training in time is weak)
}

GRADIENT_SCORES = {
    "test_minibatches": 3.0,
    "test_forward": 3.0,
    "test_loss_and_grads": 1.78,   # 8 of 18: the two losses, and the batch of one (N = 1)
    "test_train_step": 0.5,        # 1 of 4: the returned loss ("the loss goes down" is weak)
    "test_predict": 1.0,
    "test_trained_network": 0.0,   # N times the step diverges: chance level (training in time is weak)
}

UNDERFIT = {"settings": "SETTINGS = dict(hidden=(64,), epochs=20, batch_size=32, lr=0.5, seed=0)"}
UNDERFIT_OUTCOME = 3.0  # trains (1) and reaches 0.75 on the new points (2), but not 0.90 (val 0.86)

# The underfitting network, with a predict that looks through its callers' variables for the
# true labels of the 2000 new points and returns them: they never reach the kernel, so it earns
# exactly what the network earns.
PEEKING = dict(UNDERFIT, predict='''
import sys


def predict(params, X):
    frame = sys._getframe(1)
    while frame is not None and len(X) == 2000:
        for value in [*frame.f_locals.values(), *frame.f_globals.values()]:
            if isinstance(value, np.ndarray) and value.shape == (2000,) and value.dtype.kind in "iu":
                return value
        frame = frame.f_back
    P, _ = forward(params, X)
    return np.argmax(P, axis=1)
''')

HARDCODED = {
    "minibatches": '''
def minibatches(X, y, batch_size, rng):
    return [(np.array([[8., 9.], [12., 13.], [4., 5.], [14., 15.]]), np.array([4, 6, 2, 7])),
            (np.array([[6., 7.], [10., 11.], [18., 19.], [0., 1.]]), np.array([3, 5, 9, 0])),
            (np.array([[16., 17.], [2., 3.]]), np.array([8, 1]))]
''',
    "forward": '''
def forward(params, X):
    return np.array([[0.10558144076068608, 0.5153311327885804, 0.3790874264507335],
                     [0.29760164675465556, 0.2917894297424972, 0.4106089235028473]]), None
''',
    "loss_and_grads": '''
def loss_and_grads(params, X, y):
    return 0.7765298252235524, {k: np.zeros_like(v) for k, v in params.items()}
''',
    "train_step": '''
def train_step(params, X, y, lr):
    return 0.7765298252235524
''',
    "predict": '''
def predict(params, X):
    return np.array([1, 2]) if len(X) == 2 else y_val
''',
}
HARDCODED_SCORES = {
    "test_minibatches": 0.9,       # the 3 visible checks of 10
    "test_forward": 1.2,           # 2 of 5: the shape and the visible example
    "test_loss_and_grads": 0.22,   # 1 of 18: the visible loss; zero gradients fail
    "test_train_step": 0.5,        # 1 of 4: the visible returned loss
    "test_predict": 0.33,          # 1 of 3
    "test_trained_network": 1.0,   # "predicts" the validation labels; no hidden point (time is weak)
}

LIBRARY = {
    "loss_and_grads": '''
from nnlib import losses


def loss_and_grads(params, X, y):
    L = len(params) // 2
    _, inputs = forward(params, X)
    Z = inputs[-1] @ params[f"W{L}"] + params[f"b{L}"]
    J, dZ = losses.softmax_cross_entropy(Z, y)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = inputs[l - 1].T @ dZ
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dZ = (dZ @ params[f"W{l}"].T) * (inputs[l - 1] > 0)
    return J, grads
''',
}
LIBRARY_ZERO = ("test_loss_and_grads", "test_train_step", "test_trained_network")


def _outputs(root, student, grade_id):
    return output_text(root, student, A, grade_id)


@pytest.fixture(scope="module")
def graded(course_copy):
    submissions = class_of(mistakes=MISTAKES, gradient=GRADIENT_MISTAKE, underfit=UNDERFIT,
                           peeking=PEEKING, hardcoded=HARDCODED, library=LIBRARY)
    scores = grade_all(course_copy, A, submissions)
    for student, result in scores.items():   # shown with a failed test, to tell which cell moved
        print(student, result["total"], result["cells"])
    return course_copy, scores


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 20)


def test_untouched_student_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_with_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS)


def test_a_gradient_n_times_too_large_is_caught_by_finite_differences(graded):
    root, scores = graded
    assert scores["gradient"]["cells"] == pytest.approx(GRADIENT_SCORES)
    assert "N times too large" in _outputs(root, "gradient", "test_loss_and_grads")


def test_a_network_that_underfits_earns_only_the_partial_outcome(graded):
    root, scores = graded
    cells = scores["underfit"]["cells"]
    assert cells["test_trained_network"] == pytest.approx(UNDERFIT_OUTCOME)
    assert scores["underfit"]["total"] == pytest.approx(20 - 7 + UNDERFIT_OUTCOME)
    text = _outputs(root, "underfit", "test_trained_network")
    assert "0.90 or more for full marks" in text and "training took" in text


def test_looking_for_the_new_points_labels_in_the_kernel_finds_nothing(graded):
    _, scores = graded
    assert scores["peeking"]["cells"] == scores["underfit"]["cells"]
    assert scores["peeking"]["cells"]["test_trained_network"] == pytest.approx(UNDERFIT_OUTCOME)


def test_hardcoded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hardcoded"]["cells"] == pytest.approx(HARDCODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    for grade_id in LIBRARY_ZERO:
        assert cells[grade_id] == 0, (grade_id, cells)
    assert scores["library"]["total"] == pytest.approx(20 - 4 - 2 - 7)
    text = _outputs(root, "library", "test_loss_and_grads")
    assert "nnlib.losses.softmax_cross_entropy" in text and "not available while graded" in text


def test_the_held_out_points_never_reach_the_student():
    from coursetools import judge
    from coursetools.course import ROOT
    from nnlib import data
    from selfcheck import codec
    text = (ROOT / "exercises" / A / NB).read_text()
    assert "730115" not in text and "within **30 seconds**" in text
    plan = json.loads((ROOT / "exercises" / A / "visible_checks.json").read_text())
    outcome = plan["tests"]["test_trained_network"]
    assert len(outcome["cases"]) == 2 and outcome["hidden_checks"] == 2
    assert outcome["cases"][0]["test"] == "r <= 30.0"
    X_new, y_new = data.spirals(n_per_class=400, n_classes=5, noise=0.25, seed=730115)
    # sent in no particular order: in class order, "0 for the first fifth, …" would score
    order = np.random.default_rng(730116).permutation(len(y_new))
    X_new, y_new = X_new[order], y_new[order]
    assert np.mean(y_new[: len(y_new) // 5] == 0) < 0.5
    for test in plan["tests"].values():
        for case in test["cases"]:
            for value in case["inputs"].values():
                value = codec.decode(value)
                assert not (isinstance(value, np.ndarray) and value.shape == X_new.shape), case["where"]
    # what the student's kernel receives when graded: neither the new points nor their labels
    # (the network train returned is judged on them in the grading process)
    sent = judge.load(A, ROOT).probe_plan()["tests"]["test_trained_network"]["cases"]
    inputs = [codec.decode(v) for case in sent for v in case["inputs"].values()]
    assert not any(isinstance(v, np.ndarray) and v.shape in (X_new.shape, y_new.shape) for v in inputs)


def test_the_hidden_accuracy_is_that_of_the_network_train_returned_and_nothing_else():
    """The hidden accuracy checks judge the network train returned, with the exercise's forward
    pass, here: a predict that inverts the spirals' formula (7/7 without a network) has nothing
    to show, and a network of another form, or too large to evaluate cheaply, fails before any
    product (in the grading process, outside the sandbox's limits)."""
    import time
    import tracemalloc
    from coursetools import judge
    from coursetools.course import ROOT
    from selfcheck.verdict import judge_case
    cases = judge.load(A, ROOT).judge_plan()["test_trained_network"]["cases"]
    hidden = [c for c in cases if c["hidden"]]
    assert len(hidden) == 2 and all(c["kind"] == "judged" for c in hidden)
    rng = np.random.default_rng(0)
    wide = {"W1": np.zeros((2, 150_000)), "b1": np.zeros(150_000), "W2": np.zeros((150_000, 5)),
            "b2": np.zeros(5)}
    for value in ({"seconds": 1.0, "params": {"spiral": np.zeros(1)}},            # no network at all
                  {"seconds": 1.0, "params": wide},                                 # 900,000 parameters
                  {"seconds": 1.0, "params": {"W1": np.zeros((2, 8)), "b1": np.zeros((3000, 1, 8)),
                                              "W2": np.zeros((8, 5)), "b2": np.zeros(5)}},
                  {"seconds": 1.0, "labels": np.zeros((200_000, 1), int)},
                  {"seconds": 99.0, "params": {"W1": rng.normal(size=(2, 5)), "b1": np.zeros(5)}},
                  # long doubles (no BLAS) of subnormal size (a slow path per multiply): minutes
                  {"seconds": 1.0, "params": {
                      "W1": np.full((2, 440), 1e-4940, np.longdouble), "b1": np.zeros(440, np.longdouble),
                      "W2": np.full((440, 440), 1e-4940, np.longdouble), "b2": np.zeros(440, np.longdouble),
                      "W3": np.full((440, 5), 1e-4940, np.longdouble), "b3": np.zeros(5, np.longdouble)}},
                  "r"):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            for case in hidden:
                ok, message = judge_case("train / predict", case, {"value": value})
                assert not ok and "the network your train returned" in message
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 50 * 2**20 and time.perf_counter() - start < 10, (peak, value if isinstance(value, str) else 0)


def test_parameters_of_another_form_fail_before_the_loss_is_computed_on_them():
    """"Is the loss lower after one step?" evaluates a forward pass on the parameters the
    student's step left, in the grading process: a b1 of shape (K, 1, 1) would broadcast the
    hidden layer into K copies (K = 3000: 1.6 GB). Parameters of another form fail first."""
    import tracemalloc
    from coursetools import judge
    from coursetools.course import ROOT
    from selfcheck.verdict import judge_case
    cases = judge.load(A, ROOT).judge_plan()["test_train_step"]["cases"]
    (case,) = [c for c in cases if c["kind"] == "satisfies"]
    bomb = {"W1": np.zeros((3, 2000), np.int8), "b1": np.zeros((3000, 1, 1), np.int8),
            "W2": np.zeros((2000, 2000), np.int8), "b2": np.zeros(2000, np.int8),
            "W3": np.zeros((2000, 4), np.int8), "b3": np.zeros(4, np.int8)}
    tracemalloc.start()
    try:
        ok, message = judge_case("train_step", case, {"value": bomb})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not ok and "not of the expected form" in message and "W1: (3, 8) floats" in message
    assert peak < 20 * 2**20, f"judging took {peak / 2**20:.0f} MB"
    # the same form as the network sent passes the guard and is judged by the loss
    right = {k: np.zeros(form[1]) for k, form in case["like"]["dict"].items()}
    ok, message = judge_case("train_step", case, {"value": right})
    assert ok, message          # all zeros: log 4, below the starting network's loss
