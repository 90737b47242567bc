"""Worked examples of lectures 13, 14 and 15, computed through the library.

Each test recomputes one example of the lectures (most of them from the course notes) and asserts
the correct values; where the notes print something else (an erratum in the lecture), the test
also asserts that the notes' value is indeed different, so that the erratum cannot silently come
back.
"""
import numpy as np
import pytest

from nnlib import callbacks, data, initializers, losses, models, optimizers
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import Activation, BatchNorm, Dense, Dropout, Softmax

# ----------------------------------------------------------------------------------------------
# Lecture 13: training end to end
# ----------------------------------------------------------------------------------------------
X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([[0.0], [1.0], [1.0], [0.0]])
# w1 w2 w01 | w3 w4 w02 | w5 w6 wB of notes 000's 2-2-1 tanh network (values chosen in lecture 07)
W1_221 = np.array([[0.5, 2.0], [-1.2, 0.7]])
B1_221 = np.array([0.3, -0.4])
W2_221 = np.array([[1.5], [-0.8]])
B2_221 = np.array([0.25])


def _net_221():
    hidden, out = Dense(2, input_dim=2), Dense(1, input_dim=2)
    hidden.params["W"][...], hidden.params["b"][...] = W1_221, B1_221
    out.params["W"][...], out.params["b"][...] = W2_221, B2_221
    return models.Sequential([hidden, Activation("tanh"), out])


def test_13_tanh_221_forward_and_gradients_through_the_library():
    net = _net_221()
    y_hat = net.predict(X_XOR)
    assert y_hat[:, 0] == pytest.approx([0.9909, -1.0575, 0.5087, -1.1040], abs=5e-5)
    assert losses.mse(y_hat, Y_XOR) == pytest.approx(1.6689, abs=5e-5)
    g = losses.mse_grad(y_hat, Y_XOR)
    for layer in reversed(net.layers):
        g = layer.backward(g)
    hidden, out = net.layers[0], net.layers[2]
    # chain-rule values printed in lecture 13 (w1, w2, w01, w3, w4, w02, w5, w6, wB)
    assert hidden.grads["W"][:, 0] == pytest.approx([-0.9145, -1.4598], abs=5e-5)
    assert hidden.grads["W"][:, 1] == pytest.approx([0.0470, 0.7706], abs=5e-5)
    assert hidden.grads["b"] == pytest.approx([-0.9857, 0.4610], abs=5e-5)
    assert out.grads["W"][:, 0] == pytest.approx([0.9278, -1.2554], abs=5e-5)
    assert out.grads["b"] == pytest.approx([-1.3309], abs=5e-5)
    # and finite differences agree
    W = hidden.params["W"]
    numeric = numerical_gradient(lambda: losses.mse(net.predict(X_XOR), Y_XOR), W)
    assert numeric == pytest.approx(hidden.grads["W"], abs=1e-7)


def test_13_tanh_221_notes_gradient_formula_is_wrong():
    net = _net_221()
    H = np.tanh(X_XOR @ W1_221 + B1_221)
    y, y_hat = Y_XOR[:, 0], net.predict(X_XOR)[:, 0]
    notes = [np.sum(2 / 4 * (y - y_hat) * H[:, j] * y) for j in range(2)]
    correct = [np.sum(-2 / 4 * (y - y_hat) * H[:, j]) for j in range(2)]
    assert notes == pytest.approx([-0.5738, 0.5261], abs=5e-5)
    assert correct == pytest.approx([0.9278, -1.2554], abs=5e-5)
    assert not np.allclose(notes, correct, atol=0.1)


def test_13_five_steps_by_hand_equal_library_sgd_and_learn_xor():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(0, 1, (2, 2)), np.zeros(2), rng.normal(0, 1, (2, 1)), np.zeros(1)
    net = models.Sequential([Dense(2, input_dim=2), Activation("tanh"), Dense(1, input_dim=2)])
    for layer, (W, b) in zip([net.layers[0], net.layers[2]], [(W1, b1), (W2, b2)]):
        layer.params["W"][...], layer.params["b"][...] = W, b
    history = []
    for _ in range(400):
        H = np.tanh(X_XOR @ W1 + b1)
        y_hat = H @ W2 + b2
        history.append(np.mean((y_hat - Y_XOR) ** 2))
        g = 2 * (y_hat - Y_XOR) / 4
        gZ = (g @ W2.T) * (1 - H ** 2)
        W2, b2 = W2 - 0.2 * H.T @ g, b2 - 0.2 * g.sum(0)
        W1, b1 = W1 - 0.2 * X_XOR.T @ gZ, b1 - 0.2 * gZ.sum(0)
    net.compile(loss="mse", optimizer=optimizers.SGD(lr=0.2))
    hist = net.fit(X_XOR, Y_XOR, epochs=400, batch_size=None)
    assert hist.history["loss"] == pytest.approx(history, abs=1e-10)
    assert net.layers[0].params["W"] == pytest.approx(W1, abs=1e-10)
    assert history[0] == pytest.approx(0.7421, abs=5e-5)
    assert history[-1] == pytest.approx(4.69e-5, abs=5e-8)
    assert np.all(np.diff(history) < 0)                 # a smooth descent at this rate
    assert np.all((net.predict(X_XOR) > 0.5) == (Y_XOR > 0.5))


def test_13_single_layer_recipe_equals_dense_sigmoid_with_sgd():
    X, y = data.blobs(n_per_class=50, centers=np.array([[-1.0, -0.5], [1.0, 0.8]]), std=0.7, seed=1)
    w = np.random.default_rng(0).normal(0, 0.1, 2)
    w0, b = w.copy(), 0.0
    sig = lambda v: 1 / (1 + np.exp(-v))
    for _ in range(200):
        v = X @ w + b
        dv = 2 / len(y) * (sig(v) - y) * sig(v) * (1 - sig(v))
        w, b = w - 0.5 * X.T @ dv, b - 0.5 * dv.sum()
    neuron = models.Sequential([Dense(1, input_dim=2), Activation("sigmoid")])
    neuron.layers[0].params["W"][...] = w0[:, None]
    neuron.compile(loss="mse", optimizer=optimizers.SGD(lr=0.5))
    neuron.fit(X, y[:, None], epochs=200, batch_size=None)
    assert neuron.layers[0].params["W"][:, 0] == pytest.approx(w, abs=1e-10)
    assert neuron.layers[0].params["b"][0] == pytest.approx(b, abs=1e-10)
    assert w == pytest.approx([2.2588, 1.7937], abs=5e-5) and b == pytest.approx(-0.0520, abs=5e-5)
    assert np.mean((sig(X @ w + b) > 0.5) == y) == pytest.approx(0.99)
