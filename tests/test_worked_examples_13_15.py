"""Worked examples of lectures 13, 14 and 15, computed through the library.

Each test recomputes one example of the lectures (most of them from the course notes) and asserts
the correct values; where the notes print something else (an erratum in the lecture), the test
also asserts that the notes' value is indeed different, so that the erratum cannot silently come
back.
"""
import numpy as np
import pytest

from nnlib import callbacks, data, initializers, losses, models, optimizers
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import Activation, Add, BatchNorm, Dense, Dropout, Softmax

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


def test_13_xor_loss_waits_on_the_plateau_of_the_constant_answer():
    rng = np.random.default_rng(0)
    net = models.Sequential([Dense(2, input_dim=2), Activation("tanh"), Dense(1, input_dim=2)])
    for layer, shape in zip([net.layers[0], net.layers[2]], [(2, 2), (2, 1)]):
        layer.params["W"][...] = rng.normal(0, 1, shape)
    net.compile(loss="mse", optimizer=optimizers.SGD(lr=0.2))
    loss = np.array(net.fit(X_XOR, Y_XOR, epochs=400, batch_size=None).history["loss"])
    assert np.mean((0.5 - Y_XOR) ** 2) == 0.25                          # the constant answer 0.5
    assert np.all(np.abs(loss[5:100] - 0.25) < 0.005)                   # the plateau
    assert loss[200] < 0.2 and loss[-1] < 1e-4                          # then the steep fall


def test_13_bias_gradient_sign_follows_the_mean_error():
    y_hat = _net_221().predict(X_XOR)[:, 0]
    assert y_hat.mean() == pytest.approx(-0.1655, abs=5e-5)
    assert 2 * (y_hat.mean() - Y_XOR.mean()) == pytest.approx(-1.3309, abs=5e-5)


def _spiral_model(width):
    hidden = [Dense(width, seed=0), Activation("tanh")] if width else []
    model = models.Sequential(hidden + [Dense(3, seed=1), Softmax()])
    return model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(lr=2.0),
                         metrics=["accuracy"])


def test_13_plain_gradient_descent_learns_the_spirals_only_with_a_hidden_layer():
    X, y = data.spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0)
    acc = {w: _spiral_model(w).fit(X, y, epochs=500, batch_size=None).history["accuracy"][-1]
           for w in (0, 32)}
    assert acc[0] == pytest.approx(0.54, abs=0.005) and acc[32] == pytest.approx(0.97, abs=0.005)


def test_13_digits_with_minibatch_sgd_and_a_validation_set():
    X, y = data.load_digits()
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.25, seed=0, stratify=True)
    net = models.Sequential([Dense(32, seed=0), Activation("relu"), Dense(10, seed=1), Softmax()])
    net.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(lr=0.1), metrics=["accuracy"])
    h = net.fit(X_tr, y_tr, epochs=30, batch_size=32, validation_data=(X_val, y_val), seed=0).history
    last = {k: v[-1] for k, v in h.items()}
    assert last == pytest.approx({"loss": 0.074, "accuracy": 0.985, "val_loss": 0.150,
                                  "val_accuracy": 0.962}, abs=5e-4)
    assert h["loss"][0] > h["val_loss"][0]                              # epoch 1: mean over updates
    assert int(np.sum(net.predict(X_val).argmax(axis=1) != y_val)) == 17
    small = models.Sequential([Dense(8), Activation("relu"), Dense(10), Softmax()])
    small.build((64,))
    assert small.count_params() == 610                                  # exercise 2


def test_13_minibatch_epoch_by_hand_equals_library_fit_without_shuffling():
    X, y = data.blobs(n_per_class=50, centers=np.array([[-1.0, -0.5], [1.0, 0.8]]), std=0.7, seed=1)
    sig = lambda v: 1 / (1 + np.exp(-v))
    theta0 = np.array([0.1, -0.2, 0.05])
    for lr, bs in [(0.5, 32), (1.0, 7), (0.5, 100)]:
        theta = theta0.copy()
        for s in range(0, len(y), bs):
            Xb, yb = X[s:s + bs], y[s:s + bs]
            v = Xb @ theta[:2] + theta[2]
            dv = 2 / len(yb) * (sig(v) - yb) * sig(v) * (1 - sig(v))
            theta = theta - lr * np.append(Xb.T @ dv, dv.sum())
        model = models.Sequential([Dense(1, input_dim=2), Activation("sigmoid")])
        model.layers[0].params["W"][:, 0], model.layers[0].params["b"][0] = theta0[:2], theta0[2]
        model.compile(loss="mse", optimizer=optimizers.SGD(lr=lr))
        model.fit(X, y[:, None], epochs=1, batch_size=bs, shuffle=False)
        got = np.append(model.layers[0].params["W"][:, 0], model.layers[0].params["b"])
        assert got == pytest.approx(theta, abs=1e-12)
        assert not np.allclose(got, theta0)


# ----------------------------------------------------------------------------------------------
# Lecture 14: initialization and normalization
# ----------------------------------------------------------------------------------------------
def _circle_net(init):
    net = models.Sequential([Dense(8, init=init, seed=0), Activation("tanh"),
                             Dense(1, init=init, seed=1), Activation("sigmoid")])
    net.compile(loss="binary_cross_entropy", optimizer=optimizers.Adam(lr=0.05), metrics=["accuracy"])
    return net


@pytest.mark.parametrize("init", ["zeros", initializers.get("constant", value=0.5)])
def test_14_symmetric_start_keeps_hidden_units_identical(init):
    X, y = data.circles(n_per_class=100, noise=0.1, factor=0.5, seed=0)
    net = _circle_net(init)
    hist = net.fit(X, y, epochs=200, batch_size=None)
    W1, W2 = net.layers[0].params["W"], net.layers[2].params["W"]
    assert np.ptp(W1, axis=1).max() == 0.0 and np.ptp(W2) == 0.0       # all 8 units identical
    assert np.ptp(net.layers[0].params["b"]) == 0.0
    if init == "zeros":
        assert np.all(W1 == 0) and np.all(W2 == 0)                      # tanh(0) = 0: frozen
        assert hist.history["accuracy"][-1] == pytest.approx(0.5)
    else:
        assert hist.history["accuracy"][-1] < 0.7                        # one unit in disguise


def test_14_random_start_breaks_symmetry_and_solves_the_circles():
    X, y = data.circles(n_per_class=100, noise=0.1, factor=0.5, seed=0)
    net = _circle_net("glorot_uniform")
    hist = net.fit(X, y, epochs=200, batch_size=None)
    assert np.ptp(net.layers[0].params["W"], axis=1).min() > 1.0
    assert hist.history["accuracy"][-1] > 0.98


def test_14_initializer_scales_for_a_64_by_32_layer():
    expected = {  # name: (kind, formula value printed in lecture 14)
        "lecun_normal": ("std", 0.1250), "glorot_uniform": ("limit", 0.2500),
        "glorot_normal": ("std", 0.1443), "he_uniform": ("limit", 0.3062), "he_normal": ("std", 0.1768)}
    formulas = {"lecun_normal": np.sqrt(1 / 64), "glorot_uniform": np.sqrt(6 / 96),
                "glorot_normal": np.sqrt(2 / 96), "he_uniform": np.sqrt(6 / 64),
                "he_normal": np.sqrt(2 / 64)}
    for name, (kind, value) in expected.items():
        assert formulas[name] == pytest.approx(value, abs=5e-5)
        W = initializers.get(name)((64, 32), rng=0)
        assert W.shape == (64, 32)
        if kind == "limit":
            assert np.abs(W).max() <= value + 1e-12
        big = initializers.get(name)((400, 500), rng=1, fan_in=64, fan_out=32)
        variance = value ** 2 / 3 if kind == "limit" else value ** 2
        assert big.var() == pytest.approx(variance, rel=0.02)


def test_14_variance_of_a_sum_grows_with_the_number_of_inputs():
    rng = np.random.default_rng(0)
    for m in [10, 100]:
        x, w = rng.normal(0, 1, (20000, m)), rng.normal(0, 1, (20000, m))
        assert np.sum(w * x, axis=1).var() == pytest.approx(m, rel=0.05)
        assert np.sum(w * np.sqrt(1 / m) * x, axis=1).var() == pytest.approx(1, rel=0.05)


def _ten_layers(init, activation, n=200, width=100, seed=0):
    r = np.random.default_rng(seed)
    stack = []
    for k in range(10):
        stack += [Dense(width, input_dim=width, init=init, seed=seed + k), Activation(activation)]
    h = r.normal(0, 1, (n, width))
    outs = []
    for layer in stack:
        h = layer.forward(h)
        if isinstance(layer, Activation):
            outs.append(h)
    g = r.normal(0, 1, h.shape) / n
    for layer in reversed(stack):
        g = layer.backward(g)
    grads = [layer.grads["W"].std() for layer in stack if isinstance(layer, Dense)]
    return np.array([o.std() for o in outs]), np.array(grads), outs


def test_14_ten_layer_statistics_vanish_explode_or_stay():
    small_act, small_grad, _ = _ten_layers(initializers.get("normal", std=0.01), "tanh")
    assert small_act[-1] == pytest.approx(1.01e-10, rel=0.01) and small_grad.max() < 1e-9
    big_act, big_grad, big_outs = _ten_layers(initializers.get("normal", std=1.0), "tanh")
    assert np.mean(np.abs(big_outs[-1]) > 0.99) == pytest.approx(0.78, abs=0.005)
    assert big_grad[0] / big_grad[-1] > 1000                            # exploding downwards
    xav_act, xav_grad, _ = _ten_layers("glorot_normal", "tanh")
    assert (xav_act[0], xav_act[-1]) == pytest.approx((0.623, 0.225), abs=5e-4)
    assert xav_grad.max() / xav_grad.min() < 2
    relu_x, _, _ = _ten_layers("glorot_normal", "relu")
    relu_he, _, _ = _ten_layers("he_normal", "relu")
    assert relu_x[-1] < 0.05 and 0.8 < relu_he[-1] < 1.5


def test_14_batch_norm_by_hand_equals_the_library():
    Z = np.array([[1.0, 50.0], [2.0, 60.0], [3.0, 70.0], [6.0, 20.0]])
    gamma, beta, eps = np.array([2.0, 0.5]), np.array([1.0, -1.0]), 1e-5
    mu, var = Z.mean(axis=0), Z.var(axis=0)
    assert mu == pytest.approx([3.0, 50.0]) and var == pytest.approx([3.5, 350.0])
    Z_hat = (Z - mu) / np.sqrt(var + eps)
    assert Z_hat[:, 0] == pytest.approx([-1.0690, -0.5345, 0.0, 1.6036], abs=5e-5)
    A = gamma * Z_hat + beta
    assert A[0] == pytest.approx([-1.1381, -1.0], abs=5e-5)
    assert A[3] == pytest.approx([4.2071, -1.8018], abs=5e-5)
    bn = BatchNorm(momentum=0.9, eps=eps)
    bn.ensure_built((2,), "float64")
    bn.params["gamma"][...], bn.params["beta"][...] = gamma, beta
    assert bn.forward(Z, training=True) == pytest.approx(A, abs=1e-12)
    assert bn.state["running_mean"] == pytest.approx([0.3, 5.0])
    # clarifying note (handwritten notes' labels): beta sets the output's mean, gamma its spread
    assert A.mean(axis=0) == pytest.approx(beta, abs=1e-12)
    assert A.std(axis=0) == pytest.approx(gamma, abs=1e-5)
    assert not np.allclose(A.mean(axis=0), gamma)


def _bn_backward(dy, x_hat, gamma, var, eps):
    """dgamma, dbeta, dx of y = gamma x_hat + beta over a batch (the formula lecture 14 derives)."""
    n = len(dy)
    d_beta, d_gamma = dy.sum(axis=0), (dy * x_hat).sum(axis=0)
    return d_gamma, d_beta, gamma / (n * np.sqrt(var + eps)) * (n * dy - d_beta - x_hat * d_gamma)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_14_batch_norm_backward_formula_against_finite_differences_and_the_library(seed):
    r = np.random.default_rng(seed)
    if seed == 1:                                                   # the lecture's batch
        Z = np.array([[1.0, 50.0], [2.0, 60.0], [3.0, 70.0], [6.0, 20.0]])
        gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    else:
        Z, gamma, beta = r.normal(2, 3, (7, 3)), r.normal(1, 0.5, 3), r.normal(0, 1, 3)
    eps = 1e-5
    R = np.random.default_rng(1 if seed == 1 else seed + 100).normal(0, 1, Z.shape)   # dy
    var = Z.var(axis=0)
    Z_hat = (Z - Z.mean(axis=0)) / np.sqrt(var + eps)
    d_gamma, d_beta, dZ = _bn_backward(R, Z_hat, gamma, var, eps)

    def loss():
        return np.sum(R * (gamma * (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps) + beta))

    for ours, arr in [(d_gamma, gamma), (d_beta, beta), (dZ, Z)]:
        assert rel_error(ours, numerical_gradient(loss, arr)) < 1e-9
    bn = BatchNorm(eps=eps)
    bn.ensure_built(Z.shape[1:], "float64")
    bn.params["gamma"][...], bn.params["beta"][...] = gamma, beta
    bn.forward(Z, training=True)
    assert bn.backward(R) == pytest.approx(dZ, abs=1e-13)
    assert bn.grads["gamma"] == pytest.approx(d_gamma, abs=1e-13)
    assert bn.grads["beta"] == pytest.approx(d_beta, abs=1e-13)
    assert np.abs(dZ.sum(axis=0)).max() < 1e-12                     # no component along a shift
    # nor along a stretch, up to eps (exercise 5): sum dx x_hat = gamma eps / (var + eps)^1.5 sum dy x_hat
    assert (dZ * Z_hat).sum(axis=0) == pytest.approx(
        gamma * eps / (var + eps) ** 1.5 * d_gamma, rel=1e-4, abs=1e-14)
    naive = gamma / np.sqrt(var + eps) * R                          # forgetting the paths through mu, var
    assert rel_error(naive, dZ) > 0.1
    if seed == 1:
        assert d_gamma == pytest.approx([-1.4071, -1.1512], abs=5e-5)
        assert d_beta == pytest.approx([1.0444, 0.5460], abs=5e-5)
        assert dZ[:, 0] == pytest.approx([-0.3117, -0.1269, 0.6887, -0.2501], abs=5e-5)


def test_14_exercise_values_initializer_limit_bn_output_and_sigmoid_depth():
    assert np.abs(initializers.glorot_uniform((256, 128), rng=0)).max() == pytest.approx(0.125, rel=1e-3)
    bn = BatchNorm(eps=1e-5)
    bn.ensure_built((1,), "float64")
    bn.params["gamma"][...], bn.params["beta"][...] = 3.0, 1.0
    assert bn.forward(np.array([[2.0], [4.0], [6.0], [8.0]]))[0, 0] == pytest.approx(-3.0249, abs=5e-5)
    from nnlib.activations import sigmoid_derivative
    top = sigmoid_derivative(np.linspace(-5, 5, 1001)).max()
    assert top == 0.25 and top ** 9 > 1e-6 > top ** 10


def test_14_sigmoid_layers_shrink_the_signal_through_the_slopes_not_the_weights():
    X, y = data.load_digits()
    X_tr, _, y_tr, _ = data.train_val_split(X, y, val_fraction=0.25, seed=0, stratify=True)
    X_tr, y_tr = X_tr[:600], y_tr[:600]
    stack = []
    for k in range(6):
        stack += [Dense(32, seed=k), Activation("sigmoid")]
    net = models.Sequential(stack + [Dense(10, seed=9), Softmax()])
    net.build((64,))
    h = X_tr
    for layer in net.layers:
        h = layer.forward(h, training=True)
    g = net.layers[-2].backward((h - np.eye(10)[y_tr]) / len(X_tr))
    slope, wt, dW = [], [], []
    for k in range(5, -1, -1):
        g_act = net.layers[2 * k + 1].backward(g)
        g_in = net.layers[2 * k].backward(g_act)
        slope.append(np.linalg.norm(g_act) / np.linalg.norm(g))
        wt.append(np.linalg.norm(g_in) / np.linalg.norm(g_act))
        dW.append(np.linalg.norm(net.layers[2 * k].grads["W"]))
        g = g_in
    assert all(0.23 < s <= 0.25 for s in slope)                     # sigma' factors, bounded by 0.25
    assert min(wt) == pytest.approx(1.00, abs=0.005) and max(wt) == pytest.approx(1.28, abs=0.005)
    assert dW[0] / dW[-1] == pytest.approx(877, rel=0.01)           # layer 6 against layer 1
    assert (dW[0], dW[-1]) == pytest.approx((0.185, 2.11e-4), rel=0.005)


def test_14_batch_norm_rescues_a_deep_sigmoid_network():
    X, y = data.load_digits()
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.25, seed=0, stratify=True)
    results = {}
    for flag in (False, True):
        stack = []
        for k in range(6):
            stack += [Dense(32, seed=k)] + ([BatchNorm()] if flag else []) + [Activation("sigmoid")]
        net = models.Sequential(stack + [Dense(10, seed=9), Softmax()])
        net.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(lr=0.1), metrics=["accuracy"])
        hist = net.fit(X_tr[:600], y_tr[:600], epochs=12, batch_size=32, validation_data=(X_val, y_val), seed=0)
        results[flag] = hist.history
    assert results[False]["val_accuracy"][-1] < 0.15
    assert results[False]["loss"][-1] == pytest.approx(np.log(10), abs=0.02)
    assert results[True]["val_accuracy"][-1] > 0.9


def _deep_stack_model(residual, gain=0.5, depth=30, width=16):
    init = initializers.get("normal", std=gain / np.sqrt(width))
    inp = models.Input(2)
    h = Dense(width, seed=0)(inp)
    for k in range(depth):
        f = Activation("tanh")(Dense(width, init=init, seed=k + 1)(h))
        h = Add()([h, f]) if residual else f
    net = models.Model(inp, Softmax()(Dense(3, seed=99)(h)))
    return net.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(lr=0.01),
                       metrics=["accuracy"])


def _deep_stack_signal(residual, X, y, gain, depth=30, width=16):
    """||dL/dh_k||, k = 0 … depth, through the library's own layers' backward passes."""
    init = initializers.get("normal", std=gain / np.sqrt(width))
    first = Dense(width, input_dim=2, seed=0)
    blocks = [(Dense(width, input_dim=width, init=init, seed=k + 1), Activation("tanh"))
              for k in range(depth)]
    head, soft = Dense(3, input_dim=width, seed=99), Softmax()
    h = first.forward(X)
    for dense, act in blocks:
        f = act.forward(dense.forward(h))
        h = h + f if residual else f
    p = soft.forward(head.forward(h))
    g = head.backward((p - np.eye(3)[y]) / len(X))
    norms = [np.linalg.norm(g)]
    for dense, act in reversed(blocks):
        g_branch = dense.backward(act.backward(g))
        g = g + g_branch if residual else g_branch
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])


def test_14_residual_connections_let_30_tanh_blocks_learn_the_spirals():
    X, y = data.spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0)
    hist = {res: _deep_stack_model(res).fit(X, y, epochs=50, batch_size=None, seed=0).history
            for res in (False, True)}
    # the plain stack stays at ln 3 (a guess of 1/3 per class); the residual one learns
    assert hist[False]["loss"][-1] == pytest.approx(np.log(3), abs=5e-5)
    assert hist[False]["accuracy"][-1] == pytest.approx(1 / 3)
    assert hist[True]["loss"][0] == pytest.approx(2.9605, abs=5e-5)
    assert hist[True]["loss"][-1] == pytest.approx(0.0339, abs=5e-5)
    assert hist[True]["accuracy"][-1] == pytest.approx(0.99, abs=0.005)
    # weight gradients at the start, from the library's backward pass of the functional model
    dW = {}
    for res in (False, True):
        net = _deep_stack_model(res)
        net.train_step([X], [np.eye(3)[y]])
        blocks = [layer for layer in net.layers if isinstance(layer, Dense)][1:-1]
        dW[res] = np.array([np.linalg.norm(b.grads["W"]) for b in blocks])
    assert len(dW[False]) == 30
    assert dW[False].max() < 3e-10                                   # every plain block ~1e-10
    assert (dW[False][0], dW[False][14], dW[False][-1]) == pytest.approx((8.2e-11, 1.4e-10, 2e-10), rel=0.05)
    assert (dW[True][0], dW[True][14], dW[True][-1]) == pytest.approx((2.9, 3.6, 3.2), rel=0.05)
    assert dW[True][0] / dW[False][0] == pytest.approx(3.5e10, rel=0.05)
    assert dW[True][0] / dW[False][0] > 1e10
    # the backward signal: vanishing like g^30 in the plain stack, never in the residual one
    table = {0.25: (1.3e-19, 2.7), 0.5: (1.4e-10, 12.0), 1.0: (9.6e-2, 1.1e3)}
    for gain, (plain_ratio, res_ratio) in table.items():
        plain, res = _deep_stack_signal(False, X, y, gain), _deep_stack_signal(True, X, y, gain)
        assert plain[0] / plain[-1] == pytest.approx(plain_ratio, rel=0.05)
        assert res[0] / res[-1] == pytest.approx(res_ratio, rel=0.05)
        assert res[0] / res[-1] > 1 and plain[0] / plain[-1] < gain ** 30
    plain, res = _deep_stack_signal(False, X, y, 0.5), _deep_stack_signal(True, X, y, 0.5)
    assert (plain[0], plain[-1]) == pytest.approx((6.7e-12, 0.048), rel=0.05)
    assert (res[0], res[-1]) == pytest.approx((0.84, 0.068), rel=0.05)


# ----------------------------------------------------------------------------------------------
# Lecture 15: regularization
# ----------------------------------------------------------------------------------------------
def _moons_net(l2=0.0, dropout=0.0):
    stack = []
    for k in range(2):
        stack += [Dense(32, l2=l2, seed=k), Activation("relu")]
        if dropout:
            stack.append(Dropout(dropout, seed=10 + k))
    net = models.Sequential(stack + [Dense(1, l2=l2, seed=5), Activation("sigmoid")])
    net.compile(loss="binary_cross_entropy", optimizer=optimizers.Adam(lr=0.01), metrics=["accuracy"])
    return net


def _moons():
    return data.moons(n_per_class=20, noise=0.3, seed=1), data.moons(n_per_class=100, noise=0.3, seed=2)


def test_15_overfitting_then_l2_dropout_and_early_stopping_cure_it():
    (X, y), (Xv, yv) = _moons()
    runs = {}
    for name, kw in [("plain", {}), ("l2", {"l2": 0.003}), ("dropout", {"dropout": 0.3})]:
        runs[name] = _moons_net(**kw).fit(X, y, epochs=300, batch_size=None, validation_data=(Xv, yv)).history
    plain = runs["plain"]
    assert int(np.argmin(plain["val_loss"])) + 1 == 54
    assert min(plain["val_loss"]) == pytest.approx(0.287, abs=5e-4)
    assert plain["loss"][-1] < 0.01 and plain["val_loss"][-1] == pytest.approx(1.976, abs=5e-3)
    assert runs["l2"]["val_loss"][-1] == pytest.approx(0.370, abs=5e-3)
    assert runs["dropout"]["val_loss"][-1] < 0.7
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=20, restore_best=True)
    net = _moons_net()
    hist = net.fit(X, y, epochs=300, batch_size=None, validation_data=(Xv, yv), callbacks=[stopper])
    assert (stopper.best_epoch + 1, stopper.stopped_epoch + 1, len(hist.history["loss"])) == (54, 74, 74)
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(min(plain["val_loss"]), abs=1e-9)


def test_15_l2_step_by_hand_is_weight_decay():
    unit = Dense(1, input_dim=2, l2=0.1)
    unit.params["W"][...] = [[1.0], [-2.0]]
    net = models.Sequential([unit])
    net.compile(loss="mse", optimizer=optimizers.SGD(lr=0.1))
    hist = net.fit(np.array([[1.0, 1.0]]), np.zeros((1, 1)), epochs=1, batch_size=None)
    assert hist.history["loss"][0] == pytest.approx(1.5)                  # 1 + 0.1 · (1 + 4)
    assert unit.params["W"][:, 0] == pytest.approx([1.18, -1.76])         # (1 − 2αλ) w − α·[−2, −2]


def test_15_dropout_rate_03_coin_toss_scaling_and_test_time():
    drop = Dropout(0.3, seed=1)
    counts = np.array([np.sum(drop.forward(np.ones((1, 100)), training=True) == 0) for _ in range(1000)])
    assert counts.mean() == pytest.approx(30, abs=1)                      # the notes' 30 of 100
    assert counts[:10].tolist() == [30, 27, 39, 33, 30, 23, 31, 29, 34, 27]
    out = Dropout(0.3, seed=0).forward(np.ones((1, 10)), training=True)
    assert set(np.round(out[0], 4)) <= {0.0, 1.4286}
    h = np.array([[0.5, -1.2, 2.0, 0.0, 3.3]])
    d = Dropout(0.3, seed=0)
    samples = np.concatenate([d.forward(h, training=True) for _ in range(20000)])
    assert samples.mean(axis=0) == pytest.approx(h[0], abs=0.04)          # expected value preserved
    assert not np.allclose((samples * 0.7).mean(axis=0), h[0], atol=0.1)  # without the scaling it is 0.7 h
    assert np.array_equal(d.forward(h, training=False), h)                # off at test time


def _shift(images, dy, dx):
    out = np.zeros_like(images)
    H, W = images.shape[1:]
    out[:, max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        images[:, max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    return out


def test_15_shift_augmentation_makes_digits_robust_to_shifts():
    img = np.arange(1.0, 10.0).reshape(1, 3, 3)
    assert _shift(img, 0, 1)[0].tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]
    assert _shift(img, -1, 0)[0].tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]
    X, y = data.load_digits()
    D_tr, D_val, d_tr, d_val = data.train_val_split(X, y, val_fraction=0.25, seed=0, stratify=True)
    few = np.concatenate([np.flatnonzero(d_tr == k)[:15] for k in range(10)])
    imgs, labels = D_tr[few].reshape(-1, 8, 8), d_tr[few]
    moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
    aug = np.concatenate([_shift(imgs, dy, dx) for dy, dx in moves])
    V = D_val.reshape(-1, 8, 8)
    V_shift = np.concatenate([_shift(V, 0, 1), _shift(V, 1, 0)]).reshape(-1, 64)
    acc = {}
    for name, A, B in [("plain", imgs, labels), ("aug", aug, np.tile(labels, 5))]:
        net = models.Sequential([Dense(32, seed=0), Activation("relu"), Dense(10, seed=1), Softmax()])
        net.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(lr=0.01), metrics=["accuracy"])
        net.fit(A.reshape(len(A), -1), B, epochs=40, batch_size=32, seed=0)
        acc[name] = (net.evaluate(D_val, d_val)["accuracy"], net.evaluate(V_shift, np.tile(d_val, 2))["accuracy"])
    assert acc["plain"][1] < 0.5 < 0.8 < acc["aug"][1]
    assert abs(acc["plain"][0] - acc["aug"][0]) < 0.03


def _imbalanced(seed):
    X0, _ = data.blobs(n_per_class=700, centers=np.array([[0.0, 0.0]]), std=1.0, seed=seed)
    X1, _ = data.blobs(n_per_class=50, centers=np.array([[2.0, 1.5]]), std=1.0, seed=seed + 100)
    return np.vstack([X0, X1]), np.concatenate([np.zeros(700, dtype=int), np.ones(50, dtype=int)])


def test_15_class_weights_5_70_raise_minority_recall():
    X, y = _imbalanced(0)
    Xv, yv = _imbalanced(1)
    counts = np.bincount(y)
    assert counts[0] / counts[1] == 70 / 5
    assert {k: len(y) / (2 * counts[k]) for k in (0, 1)} == pytest.approx({0: 0.5357, 1: 7.5}, abs=5e-5)
    recall = {}
    for cw in (None, {0: 5, 1: 70}):
        net = models.Sequential([Dense(8, seed=0), Activation("relu"), Dense(1, seed=1), Activation("sigmoid")])
        net.compile(loss="binary_cross_entropy", optimizer=optimizers.Adam(lr=0.01), metrics=["accuracy"],
                    class_weight=cw)
        net.fit(X, y, epochs=100, batch_size=None)
        p = (net.predict(Xv)[:, 0] > 0.5).astype(int)
        recall[cw is not None] = (np.mean(p[yv == 1] == 1), np.mean(p == yv))
    assert recall[False] == pytest.approx((0.52, 0.961), abs=1e-3)
    assert recall[True] == pytest.approx((0.82, 0.892), abs=1e-3)


def test_15_dropout_count_over_1000_steps_and_the_keras_style_model():
    drop = Dropout(0.3, seed=1)
    counts = np.array([np.sum(drop.forward(np.ones((1, 100)), training=True) == 0) for _ in range(1000)])
    assert counts.mean() == pytest.approx(30.03, abs=5e-3) and (counts.min(), counts.max()) == (14, 46)
    assert Dropout(0.2, seed=0).forward(np.ones((1, 50)), training=True).max() == pytest.approx(1.25)
    model = models.Sequential()                          # model.add(Dense(32)); model.add(Dropout(0.3))
    for layer in [Dense(32, input_dim=2), Activation("relu"), Dropout(0.3), Dense(1), Activation("sigmoid")]:
        model.add(layer)
    model.build((2,))
    assert model.count_params() == 2 * 32 + 32 + 32 + 1 == 129
    x = np.random.default_rng(0).normal(0, 1, (5, 2))
    assert np.array_equal(model.predict(x), model.predict(x))             # dropout off in predict


def test_15_dropout_makes_the_training_curve_noisy_and_the_gap_small():
    (X, y), (Xv, yv) = _moons()
    h = _moons_net(dropout=0.3).fit(X, y, epochs=300, batch_size=None, validation_data=(Xv, yv)).history
    noise_train, noise_val = np.abs(np.diff(h["loss"])).mean(), np.abs(np.diff(h["val_loss"])).mean()
    assert noise_train > 5 * noise_val
    assert h["val_loss"][-1] == pytest.approx(0.580, abs=5e-4)
    assert h["val_loss"][-1] - h["loss"][-1] == pytest.approx(0.514, abs=5e-4)   # plain: 1.972


def _stopping_by_hand(val_losses, patience):
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= max(patience, 1):
                return [best_epoch, epoch]
    return [best_epoch, len(val_losses)]


def test_15_early_stopping_by_hand_equals_the_callback_and_exercise_values():
    class Run:
        stop_training = False

    (X, y), (Xv, yv) = _moons()
    plain = _moons_net().fit(X, y, epochs=300, batch_size=None, validation_data=(Xv, yv)).history["val_loss"]
    for losses, patience, expected in [([1.0, 0.9, 0.9, 0.95, 0.8, 0.85], 2, [2, 4]),
                                       (plain, 20, [54, 74]), (plain[:60], 20, [54, 60])]:
        run, stopper = Run(), callbacks.EarlyStopping(patience=patience, restore_best=False)
        stopper.set_model(run)
        stopper.on_train_begin({})
        for epoch, value in enumerate(losses):
            stopper.on_epoch_end(epoch, {"val_loss": value})
            if run.stop_training:
                break
        assert [stopper.best_epoch + 1, epoch + 1] == _stopping_by_hand(losses, patience) == expected
    unit = Dense(1, input_dim=2, l2=0.05)                                 # exercise 3
    unit.params["W"][...] = [[0.5], [-1.5]]
    net = models.Sequential([unit])
    net.compile(loss="mse", optimizer=optimizers.SGD(lr=0.2))
    net.fit(np.array([[1.0, -0.5]]), np.array([[1.05]]), epochs=1, batch_size=None)
    assert unit.params["W"][:, 0] == pytest.approx([0.41, -1.43], abs=1e-12)
    sizes = np.array([600, 300, 100])                                     # exercise 2
    assert sizes.sum() / (3 * sizes) == pytest.approx([0.5556, 1.1111, 3.3333], abs=5e-5)
    assert 4 * 0.3 / 0.7 == pytest.approx(1.714, abs=5e-4)                # exercise 6
