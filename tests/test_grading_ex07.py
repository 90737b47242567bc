"""The grading round trip of ex07_recurrent, through nbgrader, on a copy of the course.

Submissions: the solution (14 of 14), the untouched student notebook (0), realistic mistakes (a
transposed recurrent matrix, hidden states not fed forward, the forget and input gates swapped,
clipping each array by its own norm, clipping one side only) with their hints, answers that
hard-code the visible expected outputs (no hidden points), answers that call the course
library's own cells and clipping (0 for those functions, whose implementations are not available
while graded), and an answer that patches the checks' comparison in its own kernel (0: the checks
are judged outside it).
"""
from __future__ import annotations


import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex07_recurrent"
NB = f"{A}.ipynb"

MISTAKES = {
    # Wh transposed (the column-vector formula copied onto row batches)
    "rnn_step": '''
def rnn_step(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh.T + b)
''',
    # every step starts again from h0
    "rnn_forward": '''
def rnn_forward(X, h0, Wx, Wh, b):
    return np.stack([np.tanh(X[:, t] @ Wx + h0 @ Wh + b) for t in range(X.shape[1])], axis=1)
''',
    # the gate blocks read in the order input, forget, candidate, output
    "lstm_step": '''
def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    z = x_t @ Wx + h_prev @ Wh + b
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
    g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
''',
    # each array clipped by its own norm; clip_by_value only clips the top
    "clipping": '''
def clip_by_norm(grads, max_norm):
    return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]


def clip_by_value(grads, limit):
    return [np.minimum(g, limit) for g in grads]
''',
}
MISTAKE_HINTS = {
    "test_rnn_step": "Wh is transposed",
    "test_rnn_forward": "every step starts from h0",
    "test_lstm_step": "the forget and input gates are swapped",
    "test_clip_by_norm": "use ONE global norm",
    "test_clip_by_value": "only the upper side is clipped",
}
MISTAKE_SCORES = {
    "test_rnn_step": 1.2,          # 2 of 5: the shape, and h_prev = 0 (where Wh does not matter)
    "test_rnn_forward": 1.0,       # 2 of 4: the shape, and a sequence of one step
    "test_lstm_step": 0.0,         # every gate is wrong
    "test_clip_by_norm": 0.0,      # only shapes, norms already below the limit and zeros: all weak
    "test_clip_by_value": 0.5,     # 1 of 4: the example with nothing below −limit (within the limit is weak)
}

HARDCODED = {
    "rnn_step": '''
def rnn_step(x_t, h_prev, Wx, Wh, b):
    return np.array([[-0.16084993660498054, -0.2593156522617096, -0.6246738501747233],
                     [-0.09180457402407534, 0.050709347423631625, 0.30648729033860694]])
''',
    "rnn_forward": '''
def rnn_forward(X, h0, Wx, Wh, b):
    return np.array([[[-0.24984980736166246, -0.14190763814681218, -0.5483151136387833],
                      [0.11073828458240861, -0.3402157997225791, 0.2821420161817627],
                      [-0.057682688507901994, -0.4518166071950222, -0.5741260588902192]]])
''',
    "lstm_step": '''
def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    h = np.array([[-0.03103838065976009, 0.07138037520501468], [0.16196854681302394, 0.17047373720749004]])
    c = np.array([[-0.11770143230727914, 0.09019460206493717], [0.2602994010241064, 1.0133861842512812]])
    return h, c
''',
    "clipping": '''
def clip_by_norm(grads, max_norm):
    return [np.array([1.5, 2.0]), np.array([6.0])]


def clip_by_value(grads, limit):
    return [np.array([3.0, 4.0]), np.array([5.0])]
''',
}
HARDCODED_SCORES = {  # the visible example of each function only
    "test_rnn_step": 1.2,          # 2 of 5
    "test_rnn_forward": 1.0,       # 2 of 4
    "test_lstm_step": 1.14,        # 2 of 7
    "test_clip_by_norm": 0.5,      # 1 of 6 (the visible shapes check fails too)
    "test_clip_by_value": 0.5,     # 1 of 4 (the visible check with negative entries fails too)
}

LIBRARY = {
    "lstm_step": '''
from nnlib.layers import LSTMCell


def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    cell = LSTMCell(h_prev.shape[1], input_dim=x_t.shape[1])
    cell.params.update(Wx=Wx, Wh=Wh, b=b)
    return cell.step(x_t, h_prev, c_prev)
''',
    "clipping": '''
from nnlib import optimizers


def clip_by_norm(grads, max_norm):
    return optimizers.clip_by_norm(grads, max_norm)


def clip_by_value(grads, limit):
    return optimizers.clip_by_value(grads, limit)
''',
}

# The checks' comparison patched in the kernel so that every check() there passes, with a wrong
# answer: the grader judges outside the kernel, so the patch changes nothing.
TAMPERING = {
    "lstm_step": '''
import selfcheck.compare
import selfcheck.verdict

selfcheck.compare.compare = selfcheck.verdict.compare = lambda *args, **kwargs: (True, "")


def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    return h_prev, c_prev
''',
}


def _outputs(root, student, grade_id):
    return output_text(root, student, A, grade_id)


@pytest.fixture(scope="module")
def graded(course_copy):
    submissions = class_of(mistakes=MISTAKES, hardcoded=HARDCODED, library=LIBRARY,
                           tampering=TAMPERING)
    return course_copy, grade_all(course_copy, A, submissions)


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 14)


def test_untouched_student_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_with_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS)


def test_hardcoded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hardcoded"]["cells"] == pytest.approx(HARDCODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    for grade_id in ("test_lstm_step", "test_clip_by_norm", "test_clip_by_value"):
        assert cells[grade_id] == 0, (grade_id, cells)
    assert scores["library"]["total"] == pytest.approx(14 - 4 - 3 - 2)
    # while graded the library keeps its names but not its implementations
    for grade_id, module in (("test_lstm_step", "nnlib.layers"), ("test_clip_by_norm", "nnlib.optimizers"),
                             ("test_clip_by_value", "nnlib.optimizers")):
        text = _outputs(root, "library", grade_id)
        assert f"it calls {module}." in text and "not available while graded" in text, (grade_id, text)


def test_patching_the_checks_in_the_kernel_earns_nothing(graded):
    root, scores = graded
    cells = scores["tampering"]["cells"]
    assert cells["test_lstm_step"] == 0, cells
    assert scores["tampering"]["total"] == pytest.approx(14 - 4)
    assert "none of 7 checks passed" in _outputs(root, "tampering", "test_lstm_step")
