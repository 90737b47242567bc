"""Grading of ex04_backprop through nbgrader, on a copy of the course.

Submissions: the instructor's solution (20 points), the untouched student notebook (0), one with
four realistic backpropagation mistakes, one whose gradient checker uses one-sided differences
(each scoring the partial marks designed below and showing its hint), one that hard-codes the
visible examples' answers (earns visible checks only, no hidden ones), and one that calls the
course library (0 for those functions: while graded, the library's own implementations are not
available). Gradients are graded against finite differences, so the scores below also show that
the tests catch wrong gradients.
"""
from __future__ import annotations

import nbformat
import numpy as np
import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text, replace_answers, solution_source)

A = "ex04_backprop"
POINTS = {"test_backprop_222": 5, "test_train_222": 2, "test_mlp_gradients": 8,
          "test_numerical_gradient": 2, "test_gradient_check": 3}

MISTAKES = {
    # each hidden neuron sends its error back along one path only (h1 via o1, h2 via o2)
    "backprop_222": '''
        def backprop_222(i, t, w, b):
            i1, i2 = i
            t1, t2 = t
            w1, w2, w3, w4, w5, w6, w7, w8 = w
            b1, b2 = b
            h1, h2 = sigmoid(w1 * i1 + w2 * i2 + b1), sigmoid(w3 * i1 + w4 * i2 + b1)
            o1, o2 = sigmoid(w5 * h1 + w6 * h2 + b2), sigmoid(w7 * h1 + w8 * h2 + b2)
            d_o1 = (o1 - t1) * o1 * (1 - o1)
            d_o2 = (o2 - t2) * o2 * (1 - o2)
            d_h1 = d_o1 * w5 * h1 * (1 - h1)
            d_h2 = d_o2 * w8 * h2 * (1 - h2)
            return np.array([d_h1 * i1, d_h1 * i2, d_h2 * i1, d_h2 * i2,
                             d_o1 * h1, d_o1 * h2, d_o2 * h1, d_o2 * h2])
    ''',
    # updates w5 … w8 first, then uses the new values for the hidden layer's gradients
    "train_222": '''
        def train_222(i, t, w, b, eta=0.5, steps=1):
            i1, i2 = i
            t1, t2 = t
            b1, b2 = b
            w1, w2, w3, w4, w5, w6, w7, w8 = np.array(w, dtype=float)

            def forward():
                h1, h2 = sigmoid(w1 * i1 + w2 * i2 + b1), sigmoid(w3 * i1 + w4 * i2 + b1)
                return h1, h2, sigmoid(w5 * h1 + w6 * h2 + b2), sigmoid(w7 * h1 + w8 * h2 + b2)

            def error():
                _, _, o1, o2 = forward()
                return 0.5 * ((t1 - o1) ** 2 + (t2 - o2) ** 2)

            errors = [error()]
            for _ in range(steps):
                h1, h2, o1, o2 = forward()
                d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
                w5, w6 = w5 - eta * d1 * h1, w6 - eta * d1 * h2
                w7, w8 = w7 - eta * d2 * h1, w8 - eta * d2 * h2
                dh1 = (d1 * w5 + d2 * w7) * h1 * (1 - h1)
                dh2 = (d1 * w6 + d2 * w8) * h2 * (1 - h2)
                w1, w2 = w1 - eta * dh1 * i1, w2 - eta * dh1 * i2
                w3, w4 = w3 - eta * dh2 * i1, w4 - eta * dh2 * i2
                errors.append(error())
            return np.array([w1, w2, w3, w4, w5, w6, w7, w8]), np.array(errors)
    ''',
    # the output gradient is P − Y, not (P − Y) / N
    "mlp_gradients": '''
        def mlp_gradients(X, y, weights, biases):
            activations = [np.asarray(X, dtype=float)]
            for W, b in zip(weights[:-1], biases[:-1]):
                activations.append(sigmoid(activations[-1] @ W + b))
            Z = activations[-1] @ weights[-1] + biases[-1]
            log_P = Z - Z.max(axis=1, keepdims=True)
            log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
            loss = -log_P[np.arange(len(y)), y].mean()
            G = np.exp(log_P) - np.eye(Z.shape[1])[y]
            grad_weights, grad_biases = [], []
            for layer in range(len(weights) - 1, -1, -1):
                H = activations[layer]
                grad_weights.insert(0, H.T @ G)
                grad_biases.insert(0, G.sum(axis=0))
                G = (G @ weights[layer].T) * H * (1 - H)
            return loss, grad_weights, grad_biases
    ''',
    # relative error taken entry by entry
    "gradient_checker": None,   # the solution with one line changed, below
}
MISTAKE_SCORES = {
    "test_backprop_222": 3.0,          # 6 of 10: every w5 … w8 check, and w1 … w4 when the inputs are 0
    "test_train_222": 0.33,            # 1 of 6: the final weights are off; so are the errors, except E after one step
    "test_mlp_gradients": 2.46,        # 4 of 13 (weighted): the losses and the batch of one
    "test_numerical_gradient": 2,
    "test_gradient_check": 2.7,        # 9 of 10: misses the 10 % error in the smallest entry
}
MISTAKE_HINTS = {
    "test_backprop_222": "the paths add up",
    "test_train_222": "compute all eight gradients first, then update",
    "test_mlp_gradients": "the output gradient is (P − Y) / N",
    "test_gradient_check": "you divided entry by entry",
}
ENTRYWISE = ("    error = float(np.max(np.abs(a - g)) / max(float(np.max(np.abs(a) + np.abs(g))), 1e-12))",
             "    error = float(np.max(np.abs(a - g) / np.maximum(np.abs(a) + np.abs(g), 1e-12)))")
ONE_SIDED = ("        grad[j] = (f_plus - f_minus) / (2 * h)",
             "        grad[j] = (f_plus - f(x)) / h")
ONE_SIDED_SCORES = dict(
    {"test_backprop_222": 5, "test_train_222": 2, "test_mlp_gradients": 8},
    test_numerical_gradient=0.0,       # only "x is left unchanged", which is weak
    test_gradient_check=1.8,           # 6 of 10: it catches every wrong gradient and fails every right one
)

HARD_CODED_SCORES = {  # every visible check it can pass, no hidden one
    "test_backprop_222": 1.0,          # 2 of 10: the notes' example
    "test_train_222": 0.67,            # 2 of 6: the notes' example
    "test_mlp_gradients": 1.85,        # 3 of 13 (weighted): the 2-3-2 example's loss and gradients
    "test_numerical_gradient": 0.4,    # 1 of 5: Σ x³ at the visible x (x unchanged is weak)
    "test_gradient_check": 0.0,        # only the visible right gradient ("passed"), which is weak
}

LIBRARY = {
    "mlp_gradients": '''
        from nnlib import losses

        def mlp_gradients(X, y, weights, biases):
            activations = [np.asarray(X, dtype=float)]
            for W, b in zip(weights[:-1], biases[:-1]):
                activations.append(sigmoid(activations[-1] @ W + b))
            loss, G = losses.softmax_cross_entropy(activations[-1] @ weights[-1] + biases[-1], y)
            grad_weights, grad_biases = [None] * len(weights), [None] * len(weights)
            for layer in reversed(range(len(weights))):
                H = activations[layer]
                grad_weights[layer], grad_biases[layer] = H.T @ G, G.sum(axis=0)
                G = (G @ weights[layer].T) * H * (1 - H)
            return loss, grad_weights, grad_biases
    ''',
    "gradient_checker": '''
        from nnlib import gradcheck

        def numerical_gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            return gradcheck.numerical_gradient(lambda: f(x), x, h)

        def gradient_check(f, x, analytic, h=1e-5, tol=1e-6):
            error = gradcheck.rel_error(analytic, numerical_gradient(f, x, h))
            return error <= tol, error
    ''',
}


def _hard_coded(solution_nb):
    """Answers that return the visible examples' values whatever the input."""
    namespace = {"np": np, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    exec(solution_source(solution_nb, "mlp_gradients"), namespace)   # the 2-3-2 example's values
    rng = np.random.default_rng(4)
    X = rng.normal(size=(4, 2))
    weights = [rng.normal(0, 0.5, size=(2, 3)), rng.normal(0, 0.5, size=(3, 2))]
    loss, gw, gb = namespace["mlp_gradients"](X, np.array([0, 1, 1, 0]), weights,
                                              [np.zeros(3), np.zeros(2)])
    as_list = lambda arrays: "[" + ", ".join(f"np.array({a.tolist()!r})" for a in arrays) + "]"
    return {
        "backprop_222": '''
            def backprop_222(i, t, w, b):
                return np.array([0.000438568, 0.000877135, 0.000497713, 0.000995425,
                                 0.082167041, 0.082667628, -0.02260254, -0.022740242])
        ''',
        "train_222": '''
            def train_222(i, t, w, b, eta=0.5, steps=1):
                return (np.array([0.149780716, 0.199561432, 0.249751144, 0.299502287,
                                  0.358916480, 0.408666186, 0.511301270, 0.561370121]),
                        np.array([0.298371109, 0.291027774]))
        ''',
        "mlp_gradients": f'''
            def mlp_gradients(X, y, weights, biases):
                return {loss!r}, {as_list(gw)}, {as_list(gb)}
        ''',
        "gradient_checker": '''
            def numerical_gradient(f, x, h=1e-5):
                return np.array([[3.0, 12.0], [0.75, 27.0]])

            def gradient_check(f, x, analytic, h=1e-5, tol=1e-6):
                return True, 4.7e-12
        ''',
    }


# A checker without finite differences: the first gradient it is given for a point x is taken as
# the truth, and later ones are measured against it (the checks once gave the right one first).
REMEMBERS = '''
_seen = {}

def numerical_gradient(f, x, h=1e-5):
    raise NotImplementedError

def gradient_check(f, x, analytic, h=1e-5, tol=1e-6):
    a = np.asarray(analytic, float)
    key = np.asarray(x, float).tobytes()
    if key not in _seen:
        _seen[key] = a
        return True, 0.0
    g = _seen[key]
    error = float(np.max(np.abs(a - g)) / max(float(np.max(np.abs(a) + np.abs(g))), 1e-12))
    return error <= tol, error
'''


@pytest.fixture(scope="module")
def graded(course_copy):
    root = course_copy
    solution_nb = nbformat.read(root / "solutions" / A / f"{A}.ipynb", as_version=4)
    checker = solution_source(solution_nb, "gradient_checker")
    checker = "\n".join(line for line in checker.splitlines() if "SOLUTION" not in line)
    assert ENTRYWISE[0] in checker and ONE_SIDED[0] in checker
    mistakes = dict(MISTAKES, gradient_checker=checker.replace(*ENTRYWISE))
    scores = grade_all(root, A, {**class_of(mistakes=mistakes, hard_coded=_hard_coded(solution_nb), library=LIBRARY),
        "one_sided": lambda released, perfect: replace_answers(
            perfect, {"gradient_checker": checker.replace(*ONE_SIDED)}),
        "remembers": lambda released, perfect: replace_answers(perfect, {"gradient_checker": REMEMBERS}),
    })
    return root, scores


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 20, POINTS)


def test_untouched_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_and_show_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS)


def test_one_sided_differences_are_caught_and_spoil_the_checker(graded):
    root, scores = graded
    assert scores["one_sided"]["cells"] == pytest.approx(ONE_SIDED_SCORES)
    assert "use the centred" in output_text(root, "one_sided", A, "test_numerical_gradient")


def test_hard_coded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hard_coded"]["cells"] == pytest.approx(HARD_CODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    assert cells == dict(POINTS, test_mlp_gradients=0, test_numerical_gradient=0, test_gradient_check=0)
    text = output_text(root, "library", A, "test_numerical_gradient")
    assert "nnlib.gradcheck.numerical_gradient" in text and "not available while graded" in text
    text = output_text(root, "library", A, "test_mlp_gradients")
    assert "nnlib.losses.softmax_cross_entropy" in text and "not available while graded" in text


def test_a_checker_that_remembers_earlier_gradients_earns_no_hidden_check(graded):
    """No two hidden checks share a point, some give the wrong gradient first and one gives only
    a wrong gradient: remembering what came before answers none of them."""
    cells = graded[1]["remembers"]["cells"]
    # visible: the two wrong ones measured against the right one (taken as the truth; that check
    # is weak, and no hidden check backs it)
    assert cells["test_gradient_check"] == pytest.approx(0.6)        # 2 of 10: no hidden one
