"""Worked examples of lectures 19, 20 and 21, computed through the library.

Lecture 19: convolution and pooling written with loops agree with ``nnlib.layers``; the Sobel
and pooling examples give the values the lecture prints. Lecture 20: the RNN and LSTM steps are
the formulas, gradient norms fade or grow with the recurrent factor, truncation and clipping do
what the lecture says, and the notes' errata (bag-of-words row, BPTT indices, LSTM cell state)
stay corrected. Lecture 21: a frozen layer is left unchanged by training while a fine-tuned one
moves, and the 1-D GAN toy's generator moves towards the data.
"""
import numpy as np
import pytest

from nnlib import data, optimizers
from nnlib.layers import (AvgPool2D, Conv2D, Dense, Activation, Flatten, LSTM, LSTMCell, MaxPool2D, RNN,
                          RNNCell, Softmax)
from nnlib.models import Sequential


# ----------------------------------------------------------------------------------------------
# Lecture 19: convolution and pooling
# ----------------------------------------------------------------------------------------------
def conv2d_loops(image, kernel, bias=0.0, stride=1, padding=0):
    """The lecture's loop convolution (cross-correlation), one channel."""
    if padding:
        image = np.pad(image, padding)
    k = kernel.shape[0]
    Ho = (image.shape[0] - k) // stride + 1
    Wo = (image.shape[1] - k) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(image[i * stride:i * stride + k, j * stride:j * stride + k] * kernel) + bias
    return out


def max_pool_loops(fmap, size=2):
    Ho, Wo = fmap.shape[0] // size, fmap.shape[1] // size
    return np.array([[fmap[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
                      for j in range(Wo)] for i in range(Ho)])


STEP = np.array([[0, 0, 1, 1, 1]] * 5, dtype=float)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)


def _library_conv(image, kernel, bias=0.0, stride=1, padding=0):
    conv = Conv2D(1, kernel.shape[0], stride=stride, padding=padding, seed=0)
    conv.forward(image[None, None])
    conv.params["W"][0, 0] = kernel
    conv.params["b"][0] = bias
    return conv.forward(image[None, None])[0, 0]


def test_19_sobel_on_the_step_image_by_loops_and_by_the_library():
    expected = {(0, 1): [[4, 4, 0]] * 3,
                (1, 1): [[0, 3, 3, 0, -3]] + [[0, 4, 4, 0, -4]] * 3 + [[0, 3, 3, 0, -3]],
                (1, 2): [[0, 3, -3], [0, 4, -4], [0, 3, -3]]}
    for (p, s), want in expected.items():
        loops = conv2d_loops(STEP, SOBEL_X, padding=p, stride=s)
        assert loops.shape == ((5 + 2 * p - 3) // s + 1,) * 2
        assert loops == pytest.approx(np.array(want, dtype=float))
        assert _library_conv(STEP, SOBEL_X, padding=p, stride=s) == pytest.approx(loops, abs=1e-12)
    with_bias = conv2d_loops(STEP, SOBEL_X, bias=0.5, padding=1)
    assert _library_conv(STEP, SOBEL_X, bias=0.5, padding=1) == pytest.approx(with_bias, abs=1e-12)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_19_loop_convolution_equals_conv2d_on_random_images(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    img, ker = rng.standard_normal((7, 9)), rng.standard_normal((3, 3))
    assert _library_conv(img, ker, 0.25, stride, padding) == pytest.approx(
        conv2d_loops(img, ker, 0.25, stride, padding), abs=1e-12)


def test_19_multi_channel_convolution_sums_over_channels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 6))
    conv = Conv2D(4, 3, padding=1, seed=1)
    out = conv.forward(x)
    W, b = conv.params["W"], conv.params["b"]
    for n in range(2):
        for f in range(4):
            want = sum(conv2d_loops(x[n, c], W[f, c], padding=1) for c in range(3)) + b[f]
            assert out[n, f] == pytest.approx(want, abs=1e-12)


def test_19_pooling_example_and_the_shift():
    fmap = np.array([[6, 1, 2, 0], [4, 3, 8, 1], [0, 2, 5, 1], [7, 1, 9, 3]], dtype=float)
    assert max_pool_loops(fmap) == pytest.approx(np.array([[6, 8], [7, 9]], dtype=float))
    assert MaxPool2D(2).forward(fmap[None, None])[0, 0] == pytest.approx(max_pool_loops(fmap))
    assert AvgPool2D(2).forward(fmap[None, None])[0, 0] == pytest.approx(
        np.array([[3.5, 2.75], [2.5, 4.5]]))
    shifted = np.roll(fmap, 1, axis=1)
    shifted[:, 0] = 0
    assert int(np.sum(shifted != fmap)) == 15
    assert max_pool_loops(shifted) == pytest.approx(max_pool_loops(fmap))      # unchanged
    left = np.roll(fmap, -1, axis=1)
    left[:, -1] = 0
    assert max_pool_loops(left) == pytest.approx(np.array([[8, 1], [9, 3]], dtype=float))


def _conv_backward(image, kernel, grad):
    """Lecture 19's backward formulas: db = ΣG, dK = image ⋆ G, dx = pad(G, k−1) ⋆ flip(K)."""
    k = kernel.shape[0]
    return (conv2d_loops(np.pad(grad, k - 1), kernel[::-1, ::-1]), conv2d_loops(image, grad),
            grad.sum())


def test_19_convolution_backward_formulas_match_finite_differences_and_the_library():
    from nnlib.gradcheck import numerical_gradient, rel_error
    rng = np.random.default_rng(19)
    x, K, G, b = (rng.standard_normal((6, 6)), rng.standard_normal((3, 3)),
                  rng.standard_normal((4, 4)), np.zeros(1))

    def loss():
        return float(np.sum(G * conv2d_loops(x, K, bias=b[0])))

    dx, dK, db = _conv_backward(x, K, G)
    assert rel_error(dx, numerical_gradient(loss, x)) < 1e-8
    assert rel_error(dK, numerical_gradient(loss, K)) < 1e-8
    assert db == pytest.approx(numerical_gradient(loss, b)[0], rel=1e-8)
    layer = Conv2D(1, 3, seed=0)
    layer.forward(x[None, None])
    layer.params["W"][0, 0] = K
    layer.forward(x[None, None])
    assert np.allclose(layer.backward(G[None, None])[0, 0], dx, atol=1e-12)
    assert np.allclose(layer.grads["W"][0, 0], dK, atol=1e-12)
    assert layer.grads["b"][0] == pytest.approx(db)
    # without the flip the input gradient is wrong by an error of order one
    assert rel_error(conv2d_loops(np.pad(G, 2), K), dx) > 0.1


def test_19_windows_covering_each_pixel_and_the_bias_gradient_of_ones():
    dx, _, db = _conv_backward(np.zeros((6, 6)), np.ones((3, 3)), np.ones((4, 4)))
    assert db == 16
    assert dx[0].tolist() == [1, 2, 3, 3, 2, 1] and dx[2, 2] == 9 and dx.sum() == 16 * 9


def test_19_max_pooling_backward_sends_the_gradient_to_each_blocks_maximum():
    fmap = np.array([[6, 1, 2, 0], [4, 3, 8, 1], [0, 2, 5, 1], [7, 1, 9, 3]], dtype=float)
    pool = MaxPool2D(2)
    pool.forward(fmap[None, None])
    grad = pool.backward(np.ones((1, 1, 2, 2)))[0, 0]
    assert grad.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0]]


def test_19_output_size_and_parameters_of_the_exercises():
    assert Conv2D(1, 5, stride=2, padding=2, seed=0).forward(np.zeros((1, 1, 28, 28))).shape[2] == 14
    conv = Conv2D(16, 3, seed=0)
    conv.forward(np.zeros((1, 8, 6, 6)))
    assert sum(v.size for v in conv.params.values()) == 16 * (8 * 9 + 1) == 1168


def test_19_cnn_and_mlp_parameter_counts():
    cnn = Sequential([Conv2D(8, 3, padding=1, seed=0), Activation("relu"), MaxPool2D(2),
                      Flatten(), Dense(10, seed=1), Softmax()])
    cnn.build((1, 8, 8))
    assert [layer.count_params() for layer in cnn.layers] == [80, 0, 0, 0, 1290, 0]
    mlp = Sequential([Flatten(), Dense(32, seed=0), Activation("relu"),
                      Dense(10, seed=1), Softmax()])
    mlp.build((1, 8, 8))
    assert mlp.count_params() == 64 * 32 + 32 + 32 * 10 + 10 == 2410


# ----------------------------------------------------------------------------------------------
# Lecture 20: recurrent networks and LSTM
# ----------------------------------------------------------------------------------------------
def _bag(texts, lower=True):
    import re
    toks = [re.findall(r"[A-Za-z]+", t.lower() if lower else t) for t in texts]
    vocab = {w: i for i, w in enumerate(sorted({w for ts in toks for w in ts}))}
    X = np.zeros((len(texts), len(vocab)), dtype=int)
    for r, ts in enumerate(toks):
        for w in ts:
            X[r, vocab[w]] += 1
    return vocab, X


SENTENCES = ["The sun is shining", "The weather is sweet",
             "The sun is shining, the weather is sweet, and one and one is two"]


def test_20_bag_of_words_and_the_notes_row_erratum():
    vocab, X = _bag(SENTENCES)
    assert list(vocab) == ["and", "is", "one", "shining", "sun", "sweet", "the", "two", "weather"]
    assert X.tolist() == [[0, 1, 0, 1, 1, 0, 1, 0, 0], [0, 1, 0, 0, 0, 1, 1, 0, 1],
                          [2, 3, 2, 1, 1, 1, 2, 1, 1]]
    cased, Xc = _bag(SENTENCES, lower=False)
    assert [cased[w] for w in ("The", "and", "is")] == [0, 1, 2]          # the notes' vocabulary
    assert Xc[0, :4].tolist() == [1, 0, 1, 0]
    assert Xc[0, :4].tolist() != [0, 1, 0, 0]                             # the notes' printed row
    _, pair = _bag(["the dog bit the man", "the man bit the dog"])
    assert np.array_equal(pair[0], pair[1])


WX = np.array([[0.5, -0.3, 0.8], [0.1, 0.4, -0.6]])
WH = np.array([[0.2, -0.1, 0.0], [0.3, 0.5, -0.2], [-0.4, 0.1, 0.6]])
B = np.array([0.0, 0.1, -0.1])


def test_20_rnn_step_by_hand_and_by_the_cell():
    x1, x2 = np.array([[1.0, 2.0]]), np.array([[-1.0, 0.5]])
    h1 = np.tanh(x1 @ WX + B)
    h2 = np.tanh(x2 @ WX + h1 @ WH + B)
    assert h1[0] == pytest.approx([0.6044, 0.5370, -0.4621], abs=5e-5)
    assert h2[0] == pytest.approx([0.0168, 0.6422, -0.9193], abs=5e-5)
    cell = RNNCell(3, input_dim=2)
    cell.params["Wx"][...], cell.params["Wh"][...], cell.params["b"][...] = WX, WH, B
    assert cell.step(x1, np.zeros((1, 3))) == pytest.approx(h1, abs=1e-14)
    assert cell.step(x2, h1) == pytest.approx(h2, abs=1e-14)
    layer = RNN(3, return_sequences=True, input_dim=2)
    layer.params["Wx"][...], layer.params["Wh"][...], layer.params["b"][...] = WX, WH, B
    assert layer.forward(np.stack([x1, x2], axis=1))[0] == pytest.approx(np.vstack([h1, h2]), abs=1e-14)


def test_20_bptt_worked_check_and_the_swapped_indices_erratum():
    w, u, x = 0.8, 1.0, np.array([1.0, 0.5, -1.0, 2.0])
    h = [0.0]
    for xt in x:
        h.append(w * h[-1] + u * xt)
    t, T = 3, 4
    correct = h[t] * sum(w ** (t - k) * h[k - 1] for k in range(1, t + 1))
    swapped = h[t] * sum(w ** (k - t) * h[k - 1] for k in range(t, T + 1))
    assert correct == pytest.approx(0.0840, abs=5e-5)
    assert swapped == pytest.approx(0.0533, abs=5e-5)
    rnn = RNN(1, return_sequences=True, activation="linear", input_dim=1)
    rnn.params["Wx"][...], rnn.params["Wh"][...] = u, w
    out = rnn.forward(x.reshape(1, T, 1))
    G = np.zeros_like(out)
    G[0, t - 1, 0] = out[0, t - 1, 0]
    rnn.backward(G)
    assert rnn.grads["Wh"][0, 0] == pytest.approx(correct, abs=1e-12)
    assert abs(rnn.grads["Wh"][0, 0] - swapped) > 0.03


def _norms(factor, activation="linear", T=40, H=16, truncate=None):
    x = np.random.default_rng(1).normal(0, 0.1, size=(8, T, 4))
    Q = np.linalg.qr(np.random.default_rng(2).standard_normal((H, H)))[0]
    rnn = RNN(H, activation=activation, input_dim=4, seed=0, truncate=truncate)
    rnn.params["Wh"][...] = factor * Q
    out = rnn.forward(x)
    rnn.backward(np.random.default_rng(3).normal(size=out.shape))
    return rnn


@pytest.mark.parametrize("factor", [0.5, 0.8, 0.95, 1.05, 1.2, 1.5])
def test_20_gradient_norm_vanishes_below_one_and_explodes_above(factor):
    g = _norms(factor).grad_norms
    assert g[0] / g[-1] == pytest.approx(factor ** 39, rel=1e-9)       # orthogonal Q: exactly α^(T−1)
    steps = np.diff(g)
    assert np.all(steps > 0) if factor < 1 else np.all(steps < 0)      # read left to right
    assert g[1:] / g[:-1] == pytest.approx(np.full(39, 1 / factor), rel=1e-9)


def test_20_tanh_rnn_vanishes_and_damps_the_explosion():
    assert _norms(0.8, "tanh").grad_norms[0] < 1e-3 * _norms(0.8, "tanh").grad_norms[-1]
    linear, tanh = _norms(1.2).grad_norms, _norms(1.2, "tanh").grad_norms
    assert linear[0] / linear[-1] == pytest.approx(1.2 ** 39, rel=1e-9)
    assert 1 < tanh[0] / tanh[-1] < 10


def test_20_clipping_keeps_the_direction_and_truncation_stops_the_gradient():
    rnn = _norms(1.2)
    grads = [rnn.grads[k] for k in ("Wx", "Wh", "b")]
    clipped = optimizers.clip_by_norm(grads, max_norm=5.0)
    flat = np.concatenate([g.ravel() for g in grads])
    flat_c = np.concatenate([g.ravel() for g in clipped])
    assert np.linalg.norm(flat) > 1e4
    assert np.linalg.norm(flat_c) == pytest.approx(5.0)
    assert flat @ flat_c / (np.linalg.norm(flat) * np.linalg.norm(flat_c)) == pytest.approx(1.0)
    for k in (5, 20):
        g = _norms(1.2, truncate=k).grad_norms
        assert int(np.sum(g > 0)) == k and np.all(g[:-k] == 0)


WX_LSTM = np.array([[0.0, 0.0, 2.0, 0.0], [-6.0, 12.0, 0.0, 0.0]])
B_LSTM = np.array([4.0, -6.0, 0.0, 4.0])


def _memory_inputs():
    xs = np.zeros((14, 2))
    xs[2], xs[8] = [0.8, 1.0], [-0.5, 1.0]
    xs[:, 0] += np.where(xs[:, 1] == 0, np.random.default_rng(4).normal(0, 0.5, 14), 0)
    return xs


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_20_lstm_step_by_hand_equals_the_cell_and_the_notes_update_never_writes():
    xs = _memory_inputs()
    cell = LSTMCell(1, input_dim=2)
    cell.params["Wx"][...], cell.params["Wh"][...], cell.params["b"][...] = WX_LSTM, 0.0, B_LSTM
    h, c, hl, cl, trace = np.zeros(1), np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), []
    for x in xs:
        z = x @ WX_LSTM + B_LSTM
        f, i, g, o = _sigmoid(z[0]), _sigmoid(z[1]), np.tanh(z[2]), _sigmoid(z[3])
        c = f * c + i * g
        h = o * np.tanh(c)
        hl, cl = cell.step(x[None], hl, cl)
        assert (hl[0, 0], cl[0, 0]) == pytest.approx((h[0], c[0]), abs=1e-12)
        trace.append((f, i, g, c[0], h[0]))
    f3, i3, g3, c3, h3 = trace[2]
    assert (f3, i3, g3, c3, h3) == pytest.approx((0.119, 0.998, 0.922, 0.919, 0.712), abs=5e-4)
    assert trace[7][3] == pytest.approx(0.838, abs=5e-4)         # kept, fading by σ(4) per step
    assert trace[8][3] == pytest.approx(-0.660, abs=5e-4)        # overwritten at step 9
    c_notes = 0.0
    for x in xs:                                                 # the notes' c_t = c_(t−1) f_t
        c_notes *= _sigmoid(x @ WX_LSTM[:, 0] + B_LSTM[0])
    assert c_notes == 0.0


# ----------------------------------------------------------------------------------------------
# Lecture 21: transfer learning (frozen vs fine-tuned) and the 1-D GAN toy
# ----------------------------------------------------------------------------------------------
def _copy_hidden(source_hidden, X, trainable):
    layer = Dense(32, seed=0)
    layer.forward(X[:1])
    layer.set_weights(source_hidden.get_weights())
    layer.trainable = trainable
    return layer


def test_21_transfer_frozen_weights_stay_and_fine_tuned_weights_move():
    X, y = data.load_digits()
    src = y < 5
    X_src, y_src = X[src][:300], y[src][:300]
    X_tgt, y_tgt = X[~src][:50], y[~src][:50] - 5
    hidden = Dense(32, seed=0)
    source = Sequential([hidden, Activation("relu"), Dense(5, seed=1), Softmax()])
    source.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(0.01))
    source.fit(X_src, y_src, epochs=3, batch_size=32, seed=0)
    results = {}
    for trainable in (False, True):
        layer = _copy_hidden(hidden, X, trainable)
        W0, b0 = layer.params["W"].copy(), layer.params["b"].copy()
        head = Dense(5, seed=2)
        model = Sequential([layer, Activation("relu"), head, Softmax()])
        model.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(0.01))
        model.fit(X_tgt, y_tgt, epochs=5, batch_size=16, seed=0)
        results[trainable] = (np.abs(layer.params["W"] - W0).max(), np.abs(layer.params["b"] - b0).max())
        trainable_count = sum(lay.count_params() for lay in model.layers if lay.trainable)
        assert trainable_count == (2245 if trainable else 165)
    assert results[False] == (0.0, 0.0)                        # frozen: bit-for-bit unchanged
    assert results[True][0] > 1e-3                             # fine-tuned: the hidden layer learns
    assert np.array_equal(hidden.params["W"], _copy_hidden(hidden, X, False).params["W"])


def test_21_frozen_layer_is_skipped_by_the_optimizer_even_with_gradients():
    X, y = data.load_digits()
    layer = Dense(8, seed=0)
    model = Sequential([layer, Activation("relu"), Dense(10, seed=1), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    model.fit(X[:64], y[:64], epochs=1, seed=0)                  # build and move once
    layer.trainable = False
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    W0 = layer.params["W"].copy()
    model.fit(X[:64], y[:64], epochs=3, seed=0)
    assert np.abs(layer.grads["W"]).max() > 0                  # gradients were computed ...
    assert np.array_equal(layer.params["W"], W0)               # ... but never applied


def test_21_gan_toy_generator_finds_the_mean_and_spread_after_collapsing():
    from nnlib import losses
    rng = np.random.default_rng(0)
    G = Dense(1, input_dim=1, seed=0)
    G.params["W"][...], G.params["b"][...] = 1.0, 0.0
    D = [Dense(16, input_dim=1, seed=1), Activation("tanh"), Dense(1, seed=2)]

    def fwd(x):
        for layer in D:
            x = layer.forward(x)
        return x

    def bwd(g):
        for layer in reversed(D):
            g = layer.backward(g)
        return g

    fwd(np.zeros((1, 1)))
    d_params = [layer.params[k] for layer in D for k in layer.params]
    opt_D, opt_G = optimizers.Adam(0.01, beta1=0.5), optimizers.Adam(0.01, beta1=0.5)
    ones, zeros = np.ones((64, 1)), np.zeros((64, 1))
    a_trace, b_trace = [], []
    for _ in range(1500):
        real, fake = rng.normal(3.0, 0.5, (64, 1)), G.forward(rng.normal(size=(64, 1)))
        logits = fwd(np.vstack([real, fake]))
        bwd(losses.binary_cross_entropy_with_logits_grad(logits, np.vstack([ones, zeros])))
        opt_D.step(d_params, [layer.grads[k] for layer in D for k in layer.grads])
        logits = fwd(G.forward(rng.normal(size=(64, 1))))
        G.backward(bwd(losses.binary_cross_entropy_with_logits_grad(logits, ones)))
        opt_G.step([G.params["W"], G.params["b"]], [G.grads["W"], G.grads["b"]])
        a_trace.append(abs(G.params["W"][0, 0]))
        b_trace.append(G.params["b"][0])
    assert abs(b_trace[-1] - 3.0) < 0.2 and abs(a_trace[-1] - 0.5) < 0.15
    assert min(a_trace[200:300]) < 0.05                         # the collapse around step 250


def test_20_forget_gate_starts_at_sigmoid_of_one_not_near_one():
    from nnlib import activations as act
    lstm = LSTM(4, input_dim=2)
    b_forget = lstm.params["b"][:4]
    assert np.all(b_forget == 1.0)
    assert act.sigmoid(1.0) == pytest.approx(0.7310585786)
    assert act.sigmoid(1.0) ** 10 == pytest.approx(0.0436, abs=5e-4)


def test_20_parameter_counts_of_rnn_and_lstm():
    assert sum(v.size for v in RNN(8, input_dim=2).params.values()) == 88
    assert sum(v.size for v in LSTM(8, input_dim=2).params.values()) == 352


def test_20_linear_rnn_with_orthogonal_weights_shrinks_the_gradient_by_alpha_per_step():
    Q = np.linalg.qr(np.random.default_rng(2).standard_normal((16, 16)))[0]
    x = np.random.default_rng(1).normal(0, 0.1, size=(8, 40, 4))
    rnn = RNN(16, activation="linear", input_dim=4, seed=0)
    rnn.params["Wh"][...] = 0.9 * Q
    out = rnn.forward(x)
    rnn.backward(np.random.default_rng(3).normal(size=out.shape))
    assert rnn.grad_norms[0] / rnn.grad_norms[-1] == pytest.approx(0.9 ** 39, rel=1e-9)


def test_21_exercise_counts_autoencoder_and_frozen_model():
    ae = Sequential([Dense(32, seed=0), Activation("tanh"), Dense(2, seed=1),
                     Dense(32, seed=2), Activation("tanh"), Dense(64, seed=3), Activation("sigmoid")])
    ae.build((64,))
    assert ae.count_params() == 4354
    hidden = Dense(32, seed=0)
    hidden.trainable = False
    frozen = Sequential([hidden, Activation("relu"), Dense(5, seed=2), Softmax()])
    frozen.build((64,))
    assert sum(layer.count_params() for layer in frozen.layers if layer.trainable) == 165
    assert frozen.count_params() == 2245


def test_21_a_discriminator_at_one_half_costs_ln_2_per_sample():
    from nnlib import losses
    assert losses.binary_cross_entropy(np.array([0.5]), np.array([1.0])) == pytest.approx(np.log(2))


def test_21_gradient_times_input_of_a_linear_score_sums_to_the_score_minus_the_bias():
    rng = np.random.default_rng(21)
    w, b, x = rng.standard_normal(64), 0.7, rng.random(64)
    layer = Dense(1, seed=0)
    layer.forward(x[None])
    layer.params["W"][:, 0], layer.params["b"][0] = w, b
    s = layer.forward(x[None])[0, 0]
    saliency = layer.backward(np.ones((1, 1)))[0]
    assert np.allclose(saliency, w)
    assert np.sum(saliency * x) == pytest.approx(s - b)
