"""The grading round trip of ex06_optimizers_regularization, through nbgrader, on a copy of the
course.

Submissions: the solution (18 of 18), the untouched student notebook (0), six realistic mistakes
(one per function) with their hints, answers that hard-code the visible expected outputs (no
hidden points), answers that call the course library's own optimizers and batch norm (0 for
those functions, whose implementations are not available while graded), and an answer that
patches the checks' comparison in its own kernel (0: the checks are judged outside it).
"""
from __future__ import annotations


import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex06_optimizers_regularization"
NB = f"{A}.ipynb"

MISTAKES = {
    # momentum written as a running average of the gradients (Adam's first moment)
    "momentum": '''
def momentum_update(w, dw, state=None, lr=0.01, beta=0.9):
    v = np.zeros_like(w, dtype=float) if state is None else state["v"]
    v = beta * v + (1 - beta) * dw
    return w - lr * v, {"v": v}
''',
    # eps inside the square root, as the notes write it
    "rmsprop": '''
def rmsprop_update(w, dw, state=None, lr=0.001, rho=0.9, eps=1e-8):
    s = np.zeros_like(w, dtype=float) if state is None else state["s"]
    s = rho * s + (1 - rho) * dw ** 2
    return w - lr * dw / np.sqrt(s + eps), {"s": s}
''',
    # no bias correction
    "adam": '''
def adam_update(w, dw, state=None, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w, dtype=float), "v": np.zeros_like(w, dtype=float)}
    m = beta1 * state["m"] + (1 - beta1) * dw
    v = beta2 * state["v"] + (1 - beta2) * dw ** 2
    return w - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v}
''',
    # rate read as the probability of keeping a unit; backward multiplies by mask > 0
    "dropout": '''
def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    keep = rng.random(x.shape) < rate
    mask = keep / rate if rate > 0 else keep * 1.0
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * (mask > 0)
''',
    # the sample variance (ddof=1)
    "batchnorm": '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta
''',
}
MISTAKE_HINTS = {
    "test_momentum": "you averaged the gradients",
    "test_rmsprop": "eps goes after the square root",
    "test_adam": "the bias correction is missing",
    "test_dropout_forward": "rate is the probability of DROPPING a unit",
    "test_dropout_backward": "the mask already holds 1/(1 − rate)",
    "test_batchnorm": "the variance divides by N (ddof=0",
}
MISTAKE_SCORES = {
    "test_momentum": 0.6,          # 1 of 5: the shape (zero gradients is weak)
    "test_rmsprop": 1.2,           # 2 of 5: wrong where s is small (tiny gradients, rho=0.99); zero gradients is weak
    "test_adam": 0.67,             # 1 of 6: the shape (zero gradients is weak)
    "test_dropout_forward": 0.0,   # only the two test-time checks, which are weak
    "test_dropout_backward": 0.0,  # the scaling is lost everywhere
    "test_batchnorm": 0.5,         # 1 of 6: the shape
}

HARDCODED = {
    "momentum": '''
_STEPS = [np.array([0.95, -1.9, 0.3]), np.array([0.865, -1.76, 0.22]), np.array([0.7785, -1.654, 0.118])]


def momentum_update(w, dw, state=None, lr=0.01, beta=0.9):
    k = 0 if state is None else state["k"] + 1
    return _STEPS[k], {"k": k}
''',
    "rmsprop": '''
_RMS = [np.array([0.96837723, -1.96837722, 0.46837722]), np.array([0.94799134, -1.95363303, 0.48312142]),
        np.array([0.94269507, -1.95973297, 0.47850876])]


def rmsprop_update(w, dw, state=None, lr=0.001, rho=0.9, eps=1e-8):
    k = 0 if state is None else state["k"] + 1
    return _RMS[k], {"k": k}
''',
    "adam": '''
_ADAM = [np.array([0.99, -1.99, 0.49]), np.array([0.98011874, -1.9806782, 0.48733663]),
         np.array([0.97158564, -1.97471109, 0.48444595])]


def adam_update(w, dw, state=None, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    k = 0 if state is None else state["k"] + 1
    return _ADAM[k], {"k": k}
''',
    "dropout": '''
def dropout_forward(x, rate, rng, training=True):
    if not training:
        return np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), None
    mask = np.array([1.42857143, 0.0, 0.0, 0.0, 1.42857143, 1.42857143])
    return np.array([1.42857143, 0.0, 0.0, 0.0, 7.14285714, 8.57142857]), mask


def dropout_backward(dout, mask):
    return np.array([0.625, 0.0, 2.5])
''',
    "batchnorm": '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return np.array([[-1.34163542, 5.2659836], [-0.44721181, 0.3670082],
                     [0.44721181, 0.3670082], [1.34163542, 2.0]])
''',
}
HARDCODED_SCORES = {  # the visible checks only
    "test_momentum": 1.2,          # 2 of 5
    "test_rmsprop": 1.2,           # 2 of 5
    "test_adam": 1.33,             # 2 of 6
    "test_dropout_forward": 0.43,  # 1 of 7: the visible example (test time is weak; statistics fail)
    "test_dropout_backward": 0.5,  # 1 of 4 (the visible finite-difference check fails too)
    "test_batchnorm": 1.0,         # 2 of 6
}

LIBRARY = {
    "momentum": '''
from nnlib.optimizers import Momentum


def momentum_update(w, dw, state=None, lr=0.01, beta=0.9):
    optimizer = Momentum(lr=lr, beta=beta) if state is None else state["optimizer"]
    w = np.array(w, dtype=float)
    optimizer.step([w], [dw])
    return w, {"optimizer": optimizer}
''',
    "batchnorm": '''
from nnlib.layers import BatchNorm


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    layer = BatchNorm(eps=eps)
    layer.build((x.shape[1],))
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    return layer.forward(x, training=True)
''',
}

# The checks' comparison patched in the kernel so that every check() there passes, with a wrong
# answer: the grader judges outside the kernel, so the patch changes nothing.
TAMPERING = {
    "momentum": '''
import selfcheck.compare
import selfcheck.verdict

selfcheck.compare.compare = selfcheck.verdict.compare = lambda *args, **kwargs: (True, "")


def momentum_update(w, dw, state=None, lr=0.01, beta=0.9):
    return w[:1], state
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
    assert_full_marks(graded[1], 18)


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
    assert cells["test_momentum"] == 0 and cells["test_batchnorm"] == 0, cells
    assert scores["library"]["total"] == pytest.approx(18 - 3 - 3)
    # while graded the library keeps its names but not its implementations
    for grade_id, module in (("test_momentum", "nnlib.optimizers"), ("test_batchnorm", "nnlib.layers")):
        text = _outputs(root, "library", grade_id)
        assert f"it calls {module}." in text and "not available while graded" in text, (grade_id, text)


def test_patching_the_checks_in_the_kernel_earns_nothing(graded):
    root, scores = graded
    cells = scores["tampering"]["cells"]
    assert cells["test_momentum"] == 0, cells
    assert scores["tampering"]["total"] == pytest.approx(18 - 3)
    assert "none of 5 checks passed" in _outputs(root, "tampering", "test_momentum")
