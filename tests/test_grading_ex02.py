"""Grading of ex02_perceptron through nbgrader, on a copy of the course.

Submissions: the instructor's solution (16 points), the untouched student notebook (0), one with
four realistic mistakes (each scoring the partial marks designed below and showing its hint), one
that hard-codes the visible examples' answers (earns visible checks only, no hidden ones), and one
that calls the course library's perceptron (0 for those functions: while graded, the library's own
implementations are not available).
"""
from __future__ import annotations

import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex02_perceptron"
POINTS = {"test_perceptron_output": 2, "test_perceptron_step": 3, "test_perceptron_train": 4,
          "test_epoch_table": 3, "test_convergence_verdict": 4}

MISTAKES = {
    # ">" where the rule says "≥": a point on the boundary answers 0
    "perceptron_output": '''
        def perceptron_output(X, w, b):
            return (np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b > 0).astype(float)
    ''',
    # the bias is never corrected
    "perceptron_step": '''
        def perceptron_step(x, d, w, b, eta=1.0):
            x = np.asarray(x, dtype=float)
            w = np.asarray(w, dtype=float)
            y = 1.0 if float(x @ w + b) >= 0 else 0.0
            e = d - y
            return w + eta * e * x, float(b)
    ''',
    # in-place update, and the trace stores the same array every time
    "perceptron_train": '''
        def perceptron_train(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
            X = np.asarray(X, dtype=float)
            w = np.array(w0, dtype=float)
            b = float(b0)
            trace = []
            for epoch in range(1, max_epochs + 1):
                errors = 0
                for i, (x, target) in enumerate(zip(X, d), start=1):
                    v = float(x @ w + b)
                    y = 1.0 if v >= 0 else 0.0
                    e = float(target) - y
                    w += eta * e * x
                    b += eta * e
                    errors += e != 0
                    trace.append({"epoch": epoch, "iteration": i, "v": v, "y": y, "e": e,
                                  "w": w, "b": b})
                if errors == 0:
                    return w, b, True, trace
            return w, b, False, trace
    ''',
    # compares each epoch's weights with the previous epoch's only (finds cycles of period 1 only)
    "convergence_verdict": '''
        def convergence_verdict(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
            X = np.asarray(X, dtype=float)
            w, b = np.array(w0, dtype=float), float(b0)
            for epoch in range(1, max_epochs + 1):
                w_start, b_start, mistakes = w.copy(), b, 0
                for x, target in zip(X, d):
                    e = target - (1.0 if x @ w + b >= 0 else 0.0)
                    w, b = w + eta * e * x, b + eta * e
                    mistakes += e != 0
                if mistakes == 0:
                    return True, epoch, 0
                if np.array_equal(w, w_start) and b == b_start:
                    return False, epoch, 1
            return False, max_epochs, 0
    ''',
}
# Designed scores: points × (weight of checks passed) / (total weight), rounded to 0.01.
MISTAKE_SCORES = {
    "test_perceptron_output": 1.33,    # 4 of 6: both boundary cases (v = 0) fail
    "test_perceptron_step": 0.43,      # 1 of 7: the step that changes nothing (w left alone is weak)
    "test_perceptron_train": 2.0,      # final weights and verdicts right (8 of 16), every trace wrong
    "test_epoch_table": 3.0,
    "test_convergence_verdict": 3.5,   # 7 of 8: misses the cycle of period 2
}
MISTAKE_HINTS = {
    "test_perceptron_output": "use ≥ 0, not > 0",
    "test_perceptron_step": "the bias must be corrected too",
    "test_perceptron_train": "store w.copy(), not w itself",
    "test_convergence_verdict": "compare with every earlier epoch's weights",
}

HARD_CODED = {  # the visible examples' answers, whatever the input
    "perceptron_output": '''
        def perceptron_output(X, w, b):
            return np.array([1.0, 0.0, 1.0])
    ''',
    "perceptron_step": '''
        def perceptron_step(x, d, w, b, eta=1.0):
            return np.array([-0.5, 0.0, 0.5]), -0.5
    ''',
    "perceptron_train": '''
        def perceptron_train(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
            rows = [(1, 1, 2.5, 1, -1, [-0.5, 0, 0.5], -0.5), (1, 2, -1.5, 0, 1, [0.5, 1, -0.5], 0.5),
                    (2, 1, 0.5, 1, -1, [-0.5, 2, 0.5], -0.5), (2, 2, 0.5, 1, 0, [-0.5, 2, 0.5], -0.5),
                    (3, 1, -3.5, 0, 0, [-0.5, 2, 0.5], -0.5), (3, 2, 0.5, 1, 0, [-0.5, 2, 0.5], -0.5)]
            trace = [dict(zip(["epoch", "iteration", "v", "y", "e", "w", "b"], r)) for r in rows]
            return np.array([-0.5, 2.0, 0.5]), -0.5, True, trace
    ''',
    "epoch_table": '''
        def epoch_table(trace):
            return np.array([[1, 1, 2.5, 1, -1, -0.5, 0, 0.5, -0.5], [1, 2, -1.5, 0, 1, 0.5, 1, -0.5, 0.5],
                             [2, 1, 0.5, 1, -1, -0.5, 2, 0.5, -0.5], [2, 2, 0.5, 1, 0, -0.5, 2, 0.5, -0.5],
                             [3, 1, -3.5, 0, 0, -0.5, 2, 0.5, -0.5], [3, 2, 0.5, 1, 0, -0.5, 2, 0.5, -0.5]])
    ''',
    "convergence_verdict": '''
        def convergence_verdict(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
            return (True, 6, 0) if d[-1] == 1 else (False, 3, 1)
    ''',
}
# Every visible check passes where it can; no hidden check does.
HARD_CODED_SCORES = {
    "test_perceptron_output": 0.67,    # 2 of 6: the visible shape and the visible example
    "test_perceptron_step": 0.43,      # 1 of 7: the visible notes' step (w left alone is weak)
    "test_perceptron_train": 1.0,      # the notes' example (weight 4 of 16)
    "test_epoch_table": 1.2,           # 2 of 5: shape and values of the notes' trace
    "test_convergence_verdict": 1.0,   # 2 of 8: the visible XOR and AND
}

LIBRARY = {
    "perceptron_output": '''
        from nnlib import classic

        def perceptron_output(X, w, b):
            return classic.perceptron_predict(X, w, b)
    ''',
    "perceptron_train": '''
        from nnlib import classic

        def perceptron_train(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
            r = classic.perceptron_train(X, d, w0, b0, eta, max_epochs)
            trace = [{"epoch": s.epoch, "iteration": s.iteration, "v": s.v, "y": s.y, "e": s.e,
                      "w": s.w_after, "b": s.b_after} for s in r.trace]
            return r.w, r.b, r.converged, trace
    ''',
}


@pytest.fixture(scope="module")
def graded(course_copy):
    root = course_copy
    scores = grade_all(root, A, class_of(mistakes=MISTAKES, hard_coded=HARD_CODED, library=LIBRARY))
    return root, scores


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 16, POINTS)


def test_untouched_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_and_show_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS)


def test_hard_coded_visible_answers_earn_no_hidden_points(graded):
    root, scores = graded
    assert scores["hard_coded"]["cells"] == pytest.approx(HARD_CODED_SCORES)
    assert scores["hard_coded"]["total"] == pytest.approx(sum(HARD_CODED_SCORES.values()))


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    assert cells["test_perceptron_output"] == 0
    assert cells["test_perceptron_train"] == 0
    assert scores["library"]["total"] == 16 - 2 - 4
    shown = output_text(root, "library", A, "test_perceptron_output")
    assert "it calls nnlib.classic.perceptron_predict of the course library" in shown
    assert "not available while graded" in shown
    assert "not available while graded" in output_text(root, "library", A, "test_perceptron_train")
