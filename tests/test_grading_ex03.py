"""Grading of ex03_forward_and_losses through nbgrader, on a copy of the course.

Submissions: the instructor's solution (18 points), the untouched student notebook (0), one with
four realistic mistakes (each scoring the partial marks designed below and showing its hint), one
that hard-codes the visible examples' answers (earns visible checks only, no hidden ones), and one
that calls the course library's losses (0 for those functions, and for what is built on them:
while graded, the library's own implementations are not available).
"""
from __future__ import annotations

import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex03_forward_and_losses"
POINTS = {"test_dense_forward": 3, "test_forward_2layer": 3, "test_mse": 2,
          "test_binary_cross_entropy": 3, "test_categorical_cross_entropy": 4,
          "test_network_loss": 3}

FORGOT_BIAS = {  # planted alone: the two functions built on dense_forward lose marks with it
    "dense_forward": '''
        def dense_forward(X, W, b):
            return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float)
    ''',
}
FORGOT_BIAS_SCORES = dict(
    {"test_mse": 2, "test_binary_cross_entropy": 3, "test_categorical_cross_entropy": 4},
    test_dense_forward=0.86,          # 2 of 7: the shape, and the [2 3] example (b = 0)
    test_forward_2layer=0.5,          # 1 of 6: the [2 3] example
    test_network_loss=0.6,            # 1 of 5: the notes' multi-class example (zero biases)
)
FORGOT_BIAS_HINTS = {
    "test_dense_forward": "the bias b is missing",
    "test_forward_2layer": "the biases are missing",
    "test_network_loss": "the biases are missing from the forward pass",
}

MISTAKES = {
    # divided by the number of rows instead of the number of entries
    "mse": '''
        def mse(y_pred, y_true):
            diff = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
            return float(np.sum(diff ** 2) / len(diff))
    ''',
    # no clipping: log(0) for confident answers
    "binary_cross_entropy": '''
        def binary_cross_entropy(p, y, eps=1e-12):
            p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
            return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / p.shape[0])
    ''',
    # summed over the batch instead of averaged
    "categorical_cross_entropy": '''
        def categorical_cross_entropy(p, y, eps=1e-12):
            q = np.clip(np.asarray(p, dtype=float), eps, 1.0)
            y = np.asarray(y)
            if y.ndim == 1:
                y = np.eye(q.shape[1])[y]
            return float(-np.sum(y * np.log(q)))
    ''',
}
MISTAKE_SCORES = {
    "test_dense_forward": 3,
    "test_forward_2layer": 3,
    "test_mse": 0.4,                          # 1 of 5: the 1-D example (the perfect prediction is weak)
    "test_binary_cross_entropy": 1.8,         # 3 of 5: fails where p is exactly 0 or 1
    "test_categorical_cross_entropy": 0.67,   # 1 of 6: only the batch of one
    "test_network_loss": 2.4,                 # 4 of 5: the summed cross-entropy fails its batch of 5
}
MISTAKE_HINTS = {
    "test_mse": "you divided by the number of examples N only",
    "test_binary_cross_entropy": "clip p to [eps, 1 − eps] first",
    "test_categorical_cross_entropy": "you summed over the batch",
}

NOTES_BINARY_LOSS = 1.2562919355941107      # the visible examples' values, to full precision
NOTES_MULTICLASS_LOSS = 0.801462372384082
HARD_CODED = {
    "dense_forward": '''
        def dense_forward(X, W, b):
            return np.array([[0.85, 0.48]])
    ''',
    "forward_2layer": '''
        def forward_2layer(X, W1, b1, W2, b2, hidden="sigmoid", output="linear"):
            return np.array([[0.191]])
    ''',
    "mse": '''
        def mse(y_pred, y_true):
            return 0.16666666666666666
    ''',
    "binary_cross_entropy": '''
        def binary_cross_entropy(p, y, eps=1e-12):
            return 0.2797765635793423
    ''',
    "categorical_cross_entropy": '''
        def categorical_cross_entropy(p, y, eps=1e-12):
            return 0.5249110622493389
    ''',
    "network_loss": f'''
        def network_loss(X, y, W1, b1, W2, b2, output="softmax"):
            return {NOTES_BINARY_LOSS!r} if output == "sigmoid" else {NOTES_MULTICLASS_LOSS!r}
    ''',
}
HARD_CODED_SCORES = {  # every visible check it can pass, no hidden one
    "test_dense_forward": 0.43,               # 1 of 7: the [2 3] example
    "test_forward_2layer": 0.5,               # 1 of 6: the [2 3] example
    "test_mse": 0.4,                          # 1 of 5
    "test_binary_cross_entropy": 0.6,         # 1 of 5
    "test_categorical_cross_entropy": 1.33,   # 2 of 6: the two visible label forms
    "test_network_loss": 1.2,                 # 2 of 5: the notes' two examples
}

LIBRARY = {
    "mse": '''
        from nnlib import losses

        def mse(y_pred, y_true):
            return losses.mse(y_pred, y_true)
    ''',
    "categorical_cross_entropy": '''
        from nnlib.losses import categorical_cross_entropy as _cce

        def categorical_cross_entropy(p, y, eps=1e-12):
            return _cce(p, y)
    ''',
}
LIBRARY_SCORES = dict(POINTS, test_mse=0, test_categorical_cross_entropy=0,
                      test_network_loss=1.8)   # 3 of 5: its two softmax cases go through the library


@pytest.fixture(scope="module")
def graded(course_copy):
    root = course_copy
    scores = grade_all(root, A, class_of(mistakes=MISTAKES, forgot_bias=FORGOT_BIAS,
                                         hard_coded=HARD_CODED, library=LIBRARY))
    return root, scores


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 18, POINTS)


def test_untouched_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_and_show_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS, abs=0.005)


def test_forgotten_bias_costs_marks_where_the_layer_is_used(graded):
    root, scores = graded
    assert scores["forgot_bias"]["cells"] == pytest.approx(FORGOT_BIAS_SCORES)
    for gid, hint in FORGOT_BIAS_HINTS.items():
        assert hint in output_text(root, "forgot_bias", A, gid), gid


def test_hard_coded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hard_coded"]["cells"] == pytest.approx(HARD_CODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    assert scores["library"]["cells"] == pytest.approx(LIBRARY_SCORES)
    shown = output_text(root, "library", A, "test_mse")
    assert "it calls nnlib.losses.mse of the course library" in shown
    assert "not available while graded" in shown
    assert "it calls nnlib.losses.categorical_cross_entropy of the course library" in output_text(
        root, "library", A, "test_network_loss")
