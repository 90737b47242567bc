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


def test_10_exercise_values_two_steps_and_the_valley_limit():
    w = 3.0
    for _ in range(2):
        w = w - 0.25 * 2 * (w - 1)
    assert w == 1.5                                              # distance 2 → 1 → 0.5
    # L = ½(w1² + 8 w2²): the curvatures are the Hessian's eigenvalues, checked by finite differences
    grad = lambda v: np.array([v[0], 8 * v[1]])
    v = np.array([0.3, -0.7])
    assert numerical_gradient(lambda: 0.5 * (v[0] ** 2 + 8 * v[1] ** 2), v) == pytest.approx(grad(v))
    limit = 2 / np.linalg.eigvalsh(np.diag([1.0, 8.0])).max()
    assert limit == 0.25

    def run(lr, steps=200):
        u = np.array([1.0, 1.0])
        for _ in range(steps):
            u = u - lr * grad(u)
        return np.abs(u).max()

    assert run(0.24) < 1e-3 and run(0.26) > 1e3


def test_10_one_logistic_step_equals_one_sgd_step_of_the_library():
    X, y = data.blobs(n_per_class=50, centers=np.array([[-1.0, -0.5], [1.0, 1.0]]), std=0.8, seed=0)
    w, b = np.array([0.4, -0.3]), 0.1
    r = act.sigmoid(X @ w + b) - y
    w_new, b_new = w - 0.5 * X.T @ r / len(y), b - 0.5 * np.mean(r)
    model = Sequential([Dense(1, input_dim=2), Activation("sigmoid")])
    model.layers[0].params["W"][:, 0], model.layers[0].params["b"][:] = w, b
    model.compile(loss="binary_cross_entropy", optimizer=optimizers.SGD(lr=0.5))
    model.fit(X, y, epochs=1)
    assert model.layers[0].params["W"][:, 0] == pytest.approx(w_new, abs=1e-12)
    assert model.layers[0].params["b"][0] == pytest.approx(b_new, abs=1e-12)


# ----------------------------------------------------------------------------------------------
# Lecture 11: backpropagation
# ----------------------------------------------------------------------------------------------
P002 = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b1=0.35, b2=0.60)


def _net_002():
    """The notes' 2-2-2 sigmoid network as library layers (one bias value per layer)."""
    hidden, output = Dense(2, input_dim=2), Dense(2, input_dim=2)
    hidden.params["W"][:] = [[P002["w1"], P002["w3"]], [P002["w2"], P002["w4"]]]
    hidden.params["b"][:] = P002["b1"]
    output.params["W"][:] = [[P002["w5"], P002["w7"]], [P002["w6"], P002["w8"]]]
    output.params["b"][:] = P002["b2"]
    return [hidden, Activation("sigmoid"), output, Activation("sigmoid")]


def _run(layers, X, T):
    acts = [X]
    for layer in layers:
        acts.append(layer.forward(acts[-1]))
    g = losses.sum_squared_error_grad(acts[-1], T)
    for layer in reversed(layers):
        g = layer.backward(g)
    return acts, losses.sum_squared_error(acts[-1], T)


X002, T002 = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])


def test_11_the_005_010_example_forward_and_backward_to_nine_decimals():
    layers = _net_002()
    acts, E = _run(layers, X002, T002)
    hidden, output = layers[0], layers[2]
    r9 = lambda v: round(float(v), 9)
    assert r9(acts[1][0, 0]) == 0.3775                                   # net_h1
    assert (r9(acts[2][0, 0]), r9(acts[2][0, 1])) == (0.593269992, 0.596884378)
    assert r9(acts[3][0, 0]) == 1.105905967                              # net_o1
    assert (r9(acts[4][0, 0]), r9(acts[4][0, 1])) == (0.751365070, 0.772928465)
    out = acts[4][0]
    assert (r9(0.5 * (0.01 - out[0]) ** 2), r9(0.5 * (0.99 - out[1]) ** 2)) == (0.274811083, 0.023560026)
    assert r9(E) == 0.298371109
    assert r9(out[0] - 0.01) == 0.741365070 and r9(out[0] * (1 - out[0])) == 0.186815602
    gW_o, gW_h = output.grads["W"], hidden.grads["W"]
    assert r9(gW_o[0, 0]) == 0.082167041                                 # ∂E/∂w5
    assert r9(gW_h[0, 0]) == 0.000438568                                 # ∂E/∂w1
    new_o = output.params["W"] - 0.5 * gW_o
    new_h = hidden.params["W"] - 0.5 * gW_h
    # w5+ .. w8+ and w1+ .. w4+ (W[input, neuron]: w5 = [0,0], w6 = [1,0], w7 = [0,1], w8 = [1,1])
    assert [r9(new_o[0, 0]), r9(new_o[1, 0]), r9(new_o[0, 1]), r9(new_o[1, 1])] == \
        [0.358916480, 0.408666186, 0.511301270, 0.561370121]
    assert [r9(new_h[0, 0]), r9(new_h[1, 0]), r9(new_h[0, 1]), r9(new_h[1, 1])] == \
        [0.149780716, 0.199561432, 0.249751144, 0.299502287]
    # the notes' eight-decimal values are these, rounded
    assert [round(float(v), 8) for v in (out[0], new_o[0, 0], new_h[1, 0], new_h[0, 1], new_h[1, 1])] == \
        [0.75136507, 0.35891648, 0.19956143, 0.24975114, 0.29950229]


def test_11_the_005_010_example_gradients_pass_a_finite_difference_check():
    layers = _net_002()
    _run(layers, X002, T002)
    params = {f"{i}.{k}": layers[i].params[k] for i in (0, 2) for k in ("W", "b")}
    analytic = {f"{i}.{k}": layers[i].grads[k].copy() for i in (0, 2) for k in ("W", "b")}

    def loss():
        a = X002
        for layer in layers:
            a = layer.forward(a)
        return losses.sum_squared_error(a, T002)

    assert check_parameters(loss, params, analytic).ok


def test_11_shared_biases_get_the_sum_of_their_neurons_gradients():
    layers = _net_002()
    _run(layers, X002, T002)
    gb_h, gb_o = layers[0].grads["b"], layers[2].grads["b"]
    assert round(float(gb_h.sum()), 9) == 0.018725609
    assert round(float(gb_o.sum()), 9) == 0.100400325
    b1 = np.array([P002["b1"]])

    def E_shared():
        layers[0].params["b"][:] = b1[0]
        a = X002
        for layer in layers:
            a = layer.forward(a)
        return losses.sum_squared_error(a, T002)

    assert numerical_gradient(E_shared, b1)[0] == pytest.approx(gb_h.sum(), abs=1e-10)


def test_11_local_gradients_are_minus_dE_dnet_and_the_notes_psi_slip_differs():
    s = act.sigmoid
    h = s(np.array([0.3775, 0.3925]))
    o = s(np.array([[0.40, 0.45], [0.50, 0.55]]) @ h + 0.60)
    delta_o = (np.array([0.01, 0.99]) - o) * o * (1 - o)
    W_kj = np.array([[0.40, 0.45], [0.50, 0.55]])
    delta_h = h * (1 - h) * (W_kj.T @ delta_o)
    assert np.round(delta_o, 9).tolist() == [-0.138498562, 0.038098237]
    assert np.round(delta_h, 9).tolist() == [-0.008771355, -0.009954255]
    slip = h * (W_kj.T @ delta_o)                       # notes' table: ψ instead of ψ'
    assert np.all(np.abs(slip / delta_h) > 2.4)


def _example_01(eta):
    s = act.sigmoid
    x = np.array([0.0, 1.0])
    W_h, b_h = np.array([[0.6, 0.3], [-0.3, 0.4]]), np.array([-0.1, 0.5])
    w_k, b_k = np.array([0.4, 0.1]), -0.2
    y_h = s(W_h @ x + b_h)
    y_k = s(w_k @ y_h + b_k)
    delta = (1.0 - y_k) * y_k * (1 - y_k)
    return dict(y_h=y_h, v_k=w_k @ y_h + b_k, y_k=y_k, delta=delta, dw=eta * delta * y_h,
                db=eta * delta, b_new=b_k + eta * delta)


def test_11_the_01_example_reconstructed_with_learning_rate_025():
    r = _example_01(0.25)
    assert np.round(r["y_h"], 4).tolist() == [0.5498, 0.7109]
    assert round(r["v_k"], 5) == 0.09103 and round(0.5498 * 0.4 + 0.7109 * 0.1 - 0.2, 5) == 0.09101
    assert (round(r["y_k"], 4), round(r["delta"], 4)) == (0.5227, 0.1191)
    assert round(r["dw"][0], 4) == 0.0164 and round(r["b_new"], 3) == -0.170     # the two printed values
    assert (round(r["dw"][1], 4), round(r["db"], 4), round(r["b_new"], 4)) == (0.0212, 0.0298, -0.1702)
    # errata: the notes' other numbers do not follow
    assert round(r["dw"][1], 4) != 0.0312 and round(r["db"], 4) not in (0.1098, 0.0398)
    assert round(0.0398 + (-0.3), 3) != -0.170
    assert round((1 - 0.5997) * 0.5997 * (1 - 0.5997), 4) == 0.0961 != 0.1191
    # the stated η = 0.05 does not reproduce the printed update; only η ≈ 0.25 does
    assert round(_example_01(0.05)["dw"][0], 4) == 0.0033
    lo = (0.01635) / (r["delta"] * r["y_h"][0])
    hi = (0.01645) / (r["delta"] * r["y_h"][0])
    lo_b = (-0.1705 + 0.2) / r["delta"]
    hi_b = (-0.1695 + 0.2) / r["delta"]
    assert max(lo, lo_b) <= 0.25 <= min(hi, hi_b)
    assert not (lo <= 0.05 <= hi) and not (lo <= 0.95 <= hi)


def test_11_the_01_example_through_library_layers_and_sgd():
    hidden, output = Dense(2, input_dim=2), Dense(1, input_dim=2)
    hidden.params["W"][:] = [[0.6, -0.3], [0.3, 0.4]]          # W[input, neuron]
    hidden.params["b"][:] = [-0.1, 0.5]
    output.params["W"][:] = [[0.4], [0.1]]
    output.params["b"][:] = [-0.2]
    layers = [hidden, Activation("sigmoid"), output, Activation("sigmoid")]
    acts, E = _run(layers, np.array([[0.0, 1.0]]), np.array([[1.0]]))
    assert round(float(acts[4][0, 0]), 4) == 0.5227 and round(E, 5) == 0.11389
    assert round(float(-output.grads["b"][0]), 4) == 0.1191      # δ_k = −∂E/∂v_k (bias input 1)
    params = [output.params["W"], output.params["b"], hidden.params["W"], hidden.params["b"]]
    grads = [output.grads["W"], output.grads["b"], hidden.grads["W"], hidden.grads["b"]]
    optimizers.SGD(lr=0.25).step(params, grads)
    assert np.round(output.params["W"][:, 0], 4).tolist() == [0.4164, 0.1212]  # 0.4 + 0.0164, 0.1 + 0.0212
    assert round(float(output.params["b"][0]), 4) == -0.1702
    assert hidden.params["W"][0].tolist() == [0.6, -0.3]        # weights from x1 = 0 do not move
    assert np.round(hidden.params["b"], 5).tolist() == [-0.09705, 0.50061]


def test_11_the_01_example_new_hidden_parameters():
    s = act.sigmoid
    r = _example_01(0.25)
    x = np.array([0.0, 1.0])
    W_h, b_h, w_k = np.array([[0.6, 0.3], [-0.3, 0.4]]), np.array([-0.1, 0.5]), np.array([0.4, 0.1])
    delta_h = r["y_h"] * (1 - r["y_h"]) * r["delta"] * w_k       # hidden rule, old output weights
    W_new, b_new = W_h + 0.25 * np.outer(delta_h, x), b_h + 0.25 * delta_h
    assert np.round(delta_h, 5).tolist() == [0.01179, 0.00245]
    assert round(b_new[0], 5) == -0.09705 and round(W_new[1, 1], 6) == 0.400612
    assert round(W_new[0, 1], 5) == 0.30295 and round(b_new[1], 6) == 0.500612
    assert W_new[:, 0].tolist() == [0.6, -0.3]                       # x1 = 0: no update
    # the other reading of the figure (H1's bias 0.3, weight from x2 -0.1) gives the same numbers
    assert round(-0.1 + 0.25 * delta_h[0], 5) == -0.09705 and round(0.3 + 0.25 * delta_h[0], 5) == 0.30295
    y_after = s((w_k + r["dw"]) @ s(W_new @ x + b_new) + r["b_new"])
    assert (round(y_after, 4), round(0.5 * (1 - y_after) ** 2, 5)) == (0.5363, 0.10751)


def _dense_backward(X, W, G):
    """The batch form of lecture 11, section 7: dW = XᵀG, db = Σ_n G_n, dX = G Wᵀ."""
    return X.T @ G, G.sum(axis=0), G @ W.T


def test_11_dense_backward_in_matrices_matches_finite_differences_and_the_library():
    rng = np.random.default_rng(11)
    for N, D, M in [(4, 3, 2), (1, 2, 2), (7, 5, 3)]:
        X, W, b, R = (rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M),
                      rng.normal(size=(N, M)))
        dW, db, dX = _dense_backward(X, W, R)                         # L = Σ R ⊙ Y, so G = R
        assert (dW.shape, db.shape, dX.shape) == ((D, M), (M,), (N, D))
        report = check_parameters(lambda: float(np.sum(R * (X @ W + b))),
                                  {"W": W, "b": b, "X": X}, {"W": dW, "b": db, "X": dX})
        assert report.ok and report.max_rel_error < 1e-9
        layer = Dense(M, input_dim=D)
        layer.params["W"][:], layer.params["b"][:] = W, b
        layer.forward(X)
        assert np.allclose(layer.backward(R), dX, atol=1e-14)
        assert np.allclose(layer.grads["W"], dW, atol=1e-14) and np.allclose(layer.grads["b"], db, atol=1e-14)
        # through a non-linear loss too: L = Σ tanh(Y)², G = 2 tanh(Y)(1 − tanh²(Y))
        Y = X @ W + b
        G = 2 * np.tanh(Y) * (1 - np.tanh(Y) ** 2)
        dW, db, dX = _dense_backward(X, W, G)
        report = check_parameters(lambda: float(np.sum(np.tanh(X @ W + b) ** 2)),
                                  {"W": W, "b": b, "X": X}, {"W": dW, "b": db, "X": dX})
        assert report.ok


def test_11_matrix_form_with_one_example_gives_the_scalar_numbers():
    s = act.sigmoid
    W_h = np.array([[0.15, 0.25], [0.20, 0.30]])
    W_o = np.array([[0.40, 0.50], [0.45, 0.55]])
    H = s(X002 @ W_h + 0.35)
    O = s(H @ W_o + 0.60)
    G_o = (O - T002) * O * (1 - O)
    dW_o, db_o, dH = _dense_backward(H, W_o, G_o)
    r9 = lambda a: np.round(a, 9).tolist()
    assert r9(dW_o) == [[0.082167041, -0.02260254], [0.082667628, -0.022740242]]   # w5 w7 / w6 w8
    assert r9(db_o) == [0.138498562, -0.038098237]
    assert r9(dH[0]) == [0.036350306, 0.041370323]          # the two-path sums ∂E/∂out_h1, ∂E/∂out_h2
    G_h = dH * H * (1 - H)
    dW_h, db_h, _ = _dense_backward(X002, W_h, G_h)
    assert r9(dW_h) == [[0.000438568, 0.000497713], [0.000877135, 0.000995425]]   # w1 w3 / w2 w4
    assert round(float(db_h.sum()), 9) == 0.018725609 and round(float(db_o.sum()), 9) == 0.100400325
    layers = _net_002()
    _run(layers, X002, T002)
    assert np.allclose(layers[0].grads["W"], dW_h, atol=1e-15)
    assert np.allclose(layers[2].grads["W"], dW_o, atol=1e-15)


def test_11_batch_gradients_sum_over_the_examples():
    s = act.sigmoid
    W_h = np.array([[0.15, 0.25], [0.20, 0.30]])
    W_o = np.array([[0.40, 0.50], [0.45, 0.55]])

    def grads(X, T):
        H = s(X @ W_h + 0.35)
        O = s(H @ W_o + 0.60)
        return _dense_backward(H, W_o, (O - T) * O * (1 - O))

    one = grads(X002, T002)
    two = grads(np.vstack([X002, X002]), np.vstack([T002, T002]))
    assert np.allclose(two[0], 2 * one[0]) and np.allclose(two[1], 2 * one[1])   # dW, db double
    assert np.allclose(two[2][0], one[2][0])                                      # dX per example
    # exercise 5 of the lecture: the batch of the example and its mirror image
    X, T = np.array([[0.05, 0.10], [0.10, 0.05]]), np.array([[0.01, 0.99], [0.99, 0.01]])
    batch = grads(X, T)[0][0, 0]
    assert batch == pytest.approx(grads(X[:1], T[:1])[0][0, 0] + grads(X[1:], T[1:])[0][0, 0])
    assert round(batch, 4) == 0.0557
    W = W_o.copy()

    def E():
        H = s(X @ W_h + 0.35)
        return 0.5 * float(np.sum((T - s(H @ W + 0.60)) ** 2))

    assert numerical_gradient(E, W)[0, 0] == pytest.approx(batch, abs=1e-9)


def test_11_softmax_cross_entropy_gradient_is_p_minus_y():
    p, y = np.array([0.2, 0.3, 0.5]), np.array([0.0, 1.0, 0.0])
    z = np.log(p)
    loss, grad = losses.softmax_cross_entropy(z[None, :], np.array([1]))
    assert grad[0] == pytest.approx([0.2, -0.7, 0.5])
    assert loss == pytest.approx(-np.log(0.3))
    numeric = numerical_gradient(lambda: -np.sum(y * np.log(act.softmax(z))), z)
    assert numeric == pytest.approx([0.2, -0.7, 0.5], abs=1e-8)
    assert act.softmax_backward(p, -y / p) == pytest.approx([0.2, -0.7, 0.5])
    assert not np.allclose(grad[0], [-0.8, 0.3, 0.5])                  # the notes' value
    assert p - np.array([1.0, 0.0, 0.0]) == pytest.approx([-0.8, 0.3, 0.5])  # = the slip's cause


def test_11_whole_model_gradient_check_passes():
    from nnlib.layers import Softmax
    X, y = data.spirals(n_per_class=4, n_classes=3, seed=0)
    model = Sequential([Dense(6, seed=0), Activation("tanh"), Dense(3, seed=1), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(lr=0.1))
    report = check_model(model, X, y)
    assert report.ok and model.count_params() == 39


# ----------------------------------------------------------------------------------------------
# Lecture 12: computation graphs and autograd
# ----------------------------------------------------------------------------------------------
def _engine_and_numeric(build, values, h=1e-6):
    leaves = [Value(v) for v in values]
    out = build(*leaves)
    out.backward()
    numeric = []
    for i in range(len(values)):
        up, down = list(values), list(values)
        up[i] += h
        down[i] -= h
        numeric.append((build(*map(Value, up)).data - build(*map(Value, down)).data) / (2 * h))
    return out.data, np.array([leaf.grad for leaf in leaves]), np.array(numeric)


def test_12_relu_neuron_of_the_notes():
    relu_neuron = lambda x, w, b: (x * w + b).relu()
    a, grads, numeric = _engine_and_numeric(relu_neuron, [3.0, 2.0, 1.0])
    assert a == 7.0 and grads.tolist() == [2.0, 3.0, 1.0]             # ∂a/∂x = w, ∂a/∂w = x, ∂a/∂b = 1
    assert rel_error(grads, numeric) < 1e-7
    a, grads, _ = _engine_and_numeric(relu_neuron, [3.0, -2.0, 1.0])
    assert a == 0.0 and grads.tolist() == [0.0, 0.0, 0.0]              # dead ReLU


def test_12_single_path_and_weight_sharing():
    single = lambda x1, w1, y: 0.5 * (y - (w1 * x1).sigmoid()) ** 2
    _, g, n = _engine_and_numeric(single, [1.5, 0.8, 1.0])
    assert round(g[1], 6) == -0.061767 and rel_error(g, n) < 1e-7

    shared = lambda x1, x2, w, y: 0.5 * (y - ((w * x1).sigmoid() + (w * x2).sigmoid())) ** 2
    _, g, n = _engine_and_numeric(shared, [1.5, -0.5, 0.8, 1.0])
    s = act.sigmoid
    h1, h2 = s(0.8 * 1.5), s(0.8 * -0.5)
    path1, path2 = (h1 + h2 - 1) * h1 * (1 - h1) * 1.5, (h1 + h2 - 1) * h2 * (1 - h2) * -0.5
    assert (round(path1, 6), round(path2, 6)) == (0.045320, -0.020403)
    assert g[2] == pytest.approx(path1 + path2) and rel_error(g, n) < 1e-7


def test_12_fully_connected_graph_and_the_notes_second_path():
    def fc(x1, x2, w11, w12, w21, w22, v11, v12, v21, v22, u1, u2, y):
        a11, a12 = (w11 * x1 + w12 * x2).sigmoid(), (w21 * x1 + w22 * x2).sigmoid()
        a21, a22 = (v11 * a11 + v12 * a12).sigmoid(), (v21 * a11 + v22 * a12).sigmoid()
        a = (u1 * a21 + u2 * a22).sigmoid()
        return -(y * a.log() + (1 - y) * (1 - a).log())

    values = [0.5, -1.0, 0.3, -0.6, 0.8, 0.2, 0.5, -0.4, -0.7, 0.9, 1.2, -0.8, 1.0]
    J, g, n = _engine_and_numeric(fc, values)
    assert round(J, 6) == 0.583874 and rel_error(g, n) < 1e-7
    assert round(g[2], 6) == -0.013947                                 # ∂J/∂w11, both paths
    s = act.sigmoid
    a11, a12 = s(0.3 * 0.5 + 0.6), s(0.8 * 0.5 - 0.2)
    a21, a22 = s(0.5 * a11 - 0.4 * a12), s(-0.7 * a11 + 0.9 * a12)
    a = s(1.2 * a21 - 0.8 * a22)
    first_path = (-1 / a) * a * (1 - a) * 1.2 * a21 * (1 - a21) * 0.5 * a11 * (1 - a11) * 0.5
    assert round(first_path, 6) == -0.007202                           # the notes' formula keeps only this
    assert abs(first_path - g[2]) > 1e-3


def test_12_exercise_values_of_the_lecture():
    # exercise 1: relu(w·x + b) at x = −2, w = 1.5, b = 4 is active (v = 1): ∂a/∂x = w
    relu_neuron = lambda x, w, b: (x * w + b).relu()
    a, grads, numeric = _engine_and_numeric(relu_neuron, [-2.0, 1.5, 4.0])
    assert a == 1.0 and grads.tolist() == [1.5, -2.0, 1.0] and rel_error(grads, numeric) < 1e-7
    # exercise 2: the single-path graph with the target 0
    single = lambda x1, w1, y: 0.5 * (y - (w1 * x1).sigmoid()) ** 2
    _, g, n = _engine_and_numeric(single, [1.5, 0.8, 0.0])
    assert round(g[1], 6) == 0.205074 and rel_error(g, n) < 1e-7
    # exercise 4: ∂L/∂x1 of the weight-sharing graph has one path
    shared = lambda x1, x2, w, y: 0.5 * (y - ((w * x1).sigmoid() + (w * x2).sigmoid())) ** 2
    _, g, n = _engine_and_numeric(shared, [1.5, -0.5, 0.8, 1.0])
    s = act.sigmoid
    h1, h2 = s(1.2), s(-0.4)
    assert g[0] == pytest.approx((h1 + h2 - 1) * h1 * (1 - h1) * 0.8) and round(g[0], 6) == 0.024170
    assert round(g[3], 6) == -0.169837


def test_12_tanh_local_rule_matches_finite_differences():
    for x in (-1.5, 0.0, 0.4, 2.0):
        value, grads, numeric = _engine_and_numeric(lambda v: v.tanh() * 3.0, [x])
        assert value == pytest.approx(3 * np.tanh(x))
        assert grads[0] == pytest.approx(3 * (1 - np.tanh(x) ** 2)) and rel_error(grads, numeric) < 1e-7
