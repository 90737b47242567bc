"""Worked examples of lectures 10, 11 and 12, computed through the library.

Each test recomputes one example of the lectures (most of them from the course notes) and asserts
the correct values; where the notes print something else (an erratum in the lecture), the test
also asserts that the notes' value is indeed different, so that the erratum cannot silently come
back.
"""
import numpy as np
import pytest

from nnlib import activations as act
from nnlib import data, losses, optimizers, widgets
from nnlib.autograd import Value
from nnlib.gradcheck import check_parameters, numerical_gradient, rel_error
from nnlib.layers import Activation, Dense
from nnlib.models import Sequential, check_model


def _flat(model):
    return np.concatenate([p.ravel() for layer in model.layers for p in layer.params.values()])


# ----------------------------------------------------------------------------------------------
# Lecture 10: gradient descent
# ----------------------------------------------------------------------------------------------
def _line():
    x, y = data.regression_line(n=64, slope=2.0, intercept=1.0, noise=0.3, seed=0)
    return x, y


def test_10_each_step_multiplies_the_distance_by_one_minus_two_eta():
    for lr in (0.01, 0.1, 0.4, 0.8, 1.0, 1.05):
        path = widgets.descent_path(lr, steps=5, surface="1d")
        assert path[1:, 0] - 1 == pytest.approx((1 - 2 * lr) * (path[:-1, 0] - 1))
    assert widgets.descent_path(0.5, steps=1, surface="1d")[1, 0] == pytest.approx(1.0)
    far = widgets.descent_path(1.05, steps=20, surface="1d")
    assert abs(far[-1, 0] - 1) == pytest.approx(3 * 1.1 ** 20)       # 20.18: diverges


def test_10_linear_regression_batch_gd_matches_least_squares_and_the_library():
    x, y = _line()
    model = Sequential([Dense(1, input_dim=1, init="zeros")])
    model.compile(loss="mse", optimizer=optimizers.SGD(lr=0.2))
    model.fit(x, y, epochs=100, batch_size=None)
    A = np.column_stack([x[:, 0], np.ones(len(x))])
    (w_ls, b_ls), *_ = np.linalg.lstsq(A, y[:, 0], rcond=None)
    W, b = model.layers[0].params["W"][0, 0], model.layers[0].params["b"][0]
    assert (W, b) == pytest.approx((w_ls, b_ls), abs=5e-5)
    assert (round(W, 4), round(b, 4)) == (1.9434, 1.0165)
    assert model.evaluate(x, y)["loss"] == pytest.approx(0.0869, abs=5e-5)


def test_10_modes_from_scratch_equal_fit_with_the_same_shuffling():
    x, y = _line()
    for batch_size in (None, 8, 1):
        model = Sequential([Dense(1, input_dim=1, init="zeros")])
        model.compile(loss="mse", optimizer=optimizers.SGD(lr=0.05))
        model.fit(x, y, epochs=5, batch_size=batch_size, seed=0)
        n = len(y)
        size = n if batch_size is None else batch_size
        order_rng = np.random.default_rng(0)
        w, b = 0.0, 0.0
        for _ in range(5):
            order = order_rng.permutation(n) if size < n else np.arange(n)
            for s in range(0, n, size):
                i = order[s:s + size]
                r = w * x[i, 0] + b - y[i, 0]
                w, b = w - 0.05 * 2 * np.mean(r * x[i, 0]), b - 0.05 * 2 * np.mean(r)
        assert model.layers[0].params["W"][0, 0] == pytest.approx(w, abs=1e-10)
        assert model.layers[0].params["b"][0] == pytest.approx(b, abs=1e-10)


def test_10_notes_bias_update_b_equals_delta_b_cannot_learn_the_intercept():
    x, y = _line()
    x, y = x[:, 0], y[:, 0]

    def run(slip):
        w, b = 0.0, 0.0
        for _ in range(100):
            r = w * x + b - y
            gw, gb = 2 * np.mean(r * x), 2 * np.mean(r)
            w, b = w - 0.2 * gw, (-0.2 * gb if slip else b - 0.2 * gb)
        return w, b, np.mean((w * x + b - y) ** 2)

    _, b_ok, loss_ok = run(False)
    _, b_slip, loss_slip = run(True)
    assert (round(b_ok, 2), round(loss_ok, 4)) == (1.02, 0.0869)
    assert (round(b_slip, 2), round(loss_slip, 4)) == (0.29, 0.6140)


def test_10_gradient_accumulation_equals_the_big_batch():
    x, y = _line()
    w, b = 0.7, 0.3
    r = w * x[:, 0] + b - y[:, 0]
    big = np.array([2 * np.mean(r * x[:, 0]), 2 * np.mean(r)])
    acc = np.zeros(2)
    for s in range(0, 64, 8):
        rs, xs = r[s:s + 8], x[s:s + 8, 0]
        acc += 8 / 64 * np.array([2 * np.mean(rs * xs), 2 * np.mean(rs)])
    assert acc == pytest.approx(big, abs=1e-12)

    def net():
        m = Sequential([Dense(8, input_dim=1, seed=1), Activation("tanh"), Dense(1, seed=2)])
        return m.compile(loss="mse", optimizer=optimizers.SGD(lr=0.1))

    a, b_, c = net(), net(), net()
    a.fit(x, y, epochs=3, batch_size=64)
    b_.fit(x, y, epochs=3, batch_size=8, accumulate=8)
    c.fit(x, y, epochs=3, batch_size=8)
    assert np.max(np.abs(_flat(a) - _flat(b_))) < 1e-12
    assert np.max(np.abs(_flat(a) - _flat(c))) > 0.1          # updating after each micro-batch differs


def test_10_logistic_regression_gradient_is_a_minus_y_times_x_and_matches_the_library():
    X, y = data.blobs(n_per_class=50, centers=np.array([[-1.0, -0.5], [1.0, 1.0]]), std=0.8, seed=0)
    w, b = np.zeros(2), 0.0
    for _ in range(300):
        r = act.sigmoid(X @ w + b) - y
        w, b = w - 0.5 * X.T @ r / len(y), b - 0.5 * np.mean(r)
    model = Sequential([Dense(1, input_dim=2, init="zeros"), Activation("sigmoid")])
    model.compile(loss="binary_cross_entropy", optimizer=optimizers.SGD(lr=0.5), metrics=["accuracy"])
    model.fit(X, y, epochs=300)
    assert model.layers[0].params["W"][:, 0] == pytest.approx(w, abs=1e-10)
    assert model.layers[0].params["b"][0] == pytest.approx(b, abs=1e-10)
    result = model.evaluate(X, y)
    assert (round(result["loss"], 4), round(result["accuracy"], 2)) == (0.1943, 0.91)
    # the three factors of the notes' chain rule multiply to a − y
    a, t = 0.4805, 0
    assert (a - t) / (a * (1 - a)) * a * (1 - a) == pytest.approx(a - t)
    # the notes' ŷ = wᵀx + b (no sigmoid) is no probability: the cross-entropy is undefined
    assert np.sum((X @ w + b <= 0) | (X @ w + b >= 1)) == 97
