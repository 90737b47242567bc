"""RNNCell, LSTMCell, RNN and LSTM (lecture 20): steps against the formulas, backpropagation
through time against centred finite differences in float64 (bound per test), truncated BPTT
against a run that starts from the state it cuts at, and the recorded gradient norms.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.layers import LSTM, RNN, LSTMCell, RNNCell

TOL = 1e-7


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_rnn_cell_step_is_the_formula():
    rng = np.random.default_rng(0)
    cell = RNNCell(3, input_dim=2, seed=0)
    x, h = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    p = cell.params
    np.testing.assert_allclose(cell.step(x, h), np.tanh(x @ p["Wx"] + h @ p["Wh"] + p["b"]))


def test_lstm_cell_step_is_the_formula_with_gates_f_i_g_o():
    rng = np.random.default_rng(1)
    H = 3
    cell = LSTMCell(H, input_dim=2, seed=0)
    x, h, c = rng.standard_normal((4, 2)), rng.standard_normal((4, H)), rng.standard_normal((4, H))
    z = x @ cell.params["Wx"] + h @ cell.params["Wh"] + cell.params["b"]
    f, i = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
    g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    c_new = f * c + i * g                          # the notes leave out the + i ⊙ g term
    h_new, c_out = cell.step(x, h, c)
    np.testing.assert_allclose(c_out, c_new, rtol=1e-12)
    np.testing.assert_allclose(h_new, o * np.tanh(c_new), rtol=1e-12)
    np.testing.assert_array_equal(cell.params["b"][:H], 1.0)      # forget bias starts at 1


@pytest.mark.parametrize("cell_class", [RNNCell, LSTMCell])
@pytest.mark.parametrize("seed", [0, 1])
def test_cell_gradients_including_the_previous_state(cell_class, seed):
    rng = np.random.default_rng(seed)
    cell = cell_class(4, input_dim=3, seed=seed)
    h0 = rng.standard_normal((2, 4))
    cell.initial_state = h0 if cell_class is RNNCell else (h0, rng.standard_normal((2, 4)))
    x = rng.standard_normal((2, 3))
    report = check_layer(cell, x, seed=seed, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7
    G = rng.standard_normal((2, 4))
    cell.forward(x)
    cell.backward(G)
    numeric = numerical_gradient(lambda: float(np.sum(cell.forward(x) * G)), h0)
    assert rel_error(cell.grad_h_prev, numeric) < TOL   # bound: relative error < 1e-7


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_gradients_match_finite_differences(layer_class, return_sequences, seed):
    rng = np.random.default_rng(seed)
    N, T, D, H = int(rng.integers(1, 4)), int(rng.integers(2, 6)), 3, int(rng.integers(2, 5))
    layer = layer_class(H, return_sequences=return_sequences, seed=seed)
    x = rng.standard_normal((N, T, D))
    out = layer.forward(x)
    assert out.shape == ((N, T, H) if return_sequences else (N, H))
    report = check_layer(layer, x, seed=seed, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7


def test_relu_rnn_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    layer = RNN(3, return_sequences=True, activation="relu", seed=2)
    report = check_layer(layer, rng.standard_normal((2, 4, 2)), seed=1, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
def test_sequence_layer_equals_the_cell_applied_step_by_step(layer_class):
    rng = np.random.default_rng(2)
    layer = layer_class(3, return_sequences=True, seed=0)
    x = rng.standard_normal((2, 5, 4))
    out = layer.forward(x)
    h = np.zeros((2, 3))
    c = np.zeros((2, 3))
    for t in range(5):
        if layer_class is RNN:
            h = layer.cell.step(x[:, t], h)
        else:
            h, c = layer.cell.step(x[:, t], h, c)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12)


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncated_bptt_equals_bptt_from_the_state_it_cuts_at(layer_class, k):
    # Many-to-one: truncating to k steps is exactly backprop through the last k steps, started
    # from the (constant) state reached after the first T − k steps.
    rng = np.random.default_rng(k)
    T = 6
    x = rng.standard_normal((3, T, 2))
    G = rng.standard_normal((3, 4))
    full = layer_class(4, truncate=k, seed=1)
    full.forward(x)
    dx = full.backward(G)
    grads = {name: g.copy() for name, g in full.grads.items()}
    head = layer_class(4, return_sequences=True, seed=1)
    states = head.forward(x[:, :T - k])
    tail = layer_class(4, seed=1)
    if layer_class is RNN:
        tail.initial_state = states[:, -1]
    else:
        head_c = head._cache[2][-1]            # cached cell states, time-major: c_T
        tail.initial_state = (states[:, -1], head_c)
    tail.forward(x[:, T - k:])
    dx_tail = tail.backward(G)
    for name in grads:
        np.testing.assert_allclose(grads[name], tail.grads[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx[:, T - k:], dx_tail, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(dx[:, :T - k], 0.0)
    assert np.all(full.grad_norms[:T - k] == 0) and np.all(full.grad_norms[T - k:] > 0)


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
def test_truncation_longer_than_the_sequence_changes_nothing(layer_class):
    rng = np.random.default_rng(4)
    x, G = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    results = []
    for truncate in (None, 5, 9):
        layer = layer_class(2, return_sequences=True, truncate=truncate, seed=3)
        layer.forward(x)
        results.append((layer.backward(G), {k: v.copy() for k, v in layer.grads.items()}))
    for dx, grads in results[1:]:
        np.testing.assert_allclose(dx, results[0][0], rtol=1e-12)
        for name in grads:
            np.testing.assert_allclose(grads[name], results[0][1][name], rtol=1e-12)


def test_truncated_many_to_many_carries_each_step_back_k_steps():
    # With per-step gradients and truncate=k, dL/dx_t collects the contributions of outputs
    # t..t+k−1 only: compare with k = T (no truncation) on a linear RNN, where they add up.
    rng = np.random.default_rng(6)
    T, k = 5, 2
    x = rng.standard_normal((1, T, 1))
    layer = RNN(1, return_sequences=True, truncate=k, activation="linear", input_dim=1, seed=0)
    layer.params["Wx"][:] = 1.0
    layer.params["Wh"][:] = 0.5
    layer.forward(x)
    G = np.ones((1, T, 1))
    dx = layer.backward(G)[0, :, 0]
    # output s depends on x_t with weight 0.5^(s − t); kept while s − t < k
    expected = [sum(0.5 ** (s - t) for s in range(t, min(T, t + k))) for t in range(T)]
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_gradient_norms_vanish_or_explode_with_the_recurrent_factor():
    # Linear RNN, one unit: dL/dh_t = a^(T−1−t) dL/dh_T, with a the recurrent weight.
    x = np.ones((1, 8, 1))
    norms = {}
    for a in (0.5, 1.5):
        layer = RNN(1, activation="linear", input_dim=1, seed=0)
        layer.params["Wh"][:] = a
        layer.forward(x)
        layer.backward(np.ones((1, 1)))
        norms[a] = layer.grad_norms
        np.testing.assert_allclose(layer.grad_norms, a ** np.arange(7, -1, -1), rtol=1e-12)
    assert norms[0.5][0] < 0.01 and norms[1.5][0] > 10


def test_recurrent_layers_reject_bad_input():
    with pytest.raises(ValueError, match=r"\(N, T, D\)"):
        RNN(3).forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="truncate"):
        LSTM(3, truncate=0)
    layer = RNN(2, input_dim=3)
    with pytest.raises(ValueError, match="D = 3"):
        layer.forward(np.ones((1, 4, 2)))
    with pytest.raises(ValueError, match="activation"):
        RNNCell(2, activation="softplus")


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
@pytest.mark.parametrize("return_sequences, truncate", [(False, None), (True, None), (True, 2),
                                                        (False, 3)])
def test_without_input_grad_backward_returns_none_and_the_same_weight_gradients(
        layer_class, return_sequences, truncate):
    rng = np.random.default_rng(7)
    layer = layer_class(3, return_sequences=return_sequences, truncate=truncate, seed=0)
    x = rng.standard_normal((2, 5, 4))
    G = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(G)
    grads, norms = {k: v.copy() for k, v in layer.grads.items()}, layer.grad_norms.copy()
    assert dx.shape == x.shape
    assert layer.backward(G, input_grad=False) is None
    for name in grads:
        np.testing.assert_array_equal(layer.grads[name], grads[name])
    np.testing.assert_array_equal(layer.grad_norms, norms)


@pytest.mark.parametrize("cell_class", [RNNCell, LSTMCell])
def test_cells_without_input_grad_return_none_and_fill_grads(cell_class):
    rng = np.random.default_rng(8)
    cell = cell_class(3, input_dim=2, seed=0)
    x, G = rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    cell.forward(x)
    dx = cell.backward(G)
    grads = {k: v.copy() for k, v in cell.grads.items()}
    assert dx.shape == x.shape and cell.backward(G, input_grad=False) is None
    for name in grads:
        np.testing.assert_array_equal(cell.grads[name], grads[name])


@pytest.mark.parametrize("layer_class", [RNN, LSTM])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_float32_stays_float32(layer_class, return_sequences):
    rng = np.random.default_rng(9)
    layer = layer_class(4, return_sequences=return_sequences, seed=0)
    x = rng.standard_normal((3, 6, 2)).astype(np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert all(a.dtype == np.float32 for a in (*layer.params.values(), *layer.grads.values()))
    # and float32 gives the float64 result to float32 rounding
    ref = layer_class(4, return_sequences=return_sequences, seed=0)
    ref_out = ref.forward(x.astype(np.float64))
    ref_dx = ref.backward(np.ones_like(ref_out))
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-4, atol=1e-5)


def test_lstm_gates_saturate_without_overflow():
    # σ(z) = 1 / (1 + e^(−z)): e^(−z) overflows to inf for huge negative z, which gives σ = 0;
    # the cell (one step) and the LSTM (once per sequence) silence that overflow, nothing else.
    H = 2
    cell = LSTMCell(H, input_dim=1, seed=0)
    x = np.array([[-1e4], [1e4], [0.3]])
    h_prev, c_prev = np.full((3, H), 0.5), np.full((3, H), -0.25)
    z = x @ cell.params["Wx"] + h_prev @ cell.params["Wh"] + cell.params["b"]
    with np.errstate(over="ignore"):
        f, i = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    with np.errstate(all="raise"):
        h, c = cell.step(x, h_prev, c_prev)
    np.testing.assert_allclose(c, f * c_prev + i * g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, o * np.tanh(c), rtol=1e-12, atol=1e-15)


def test_lstm_sequence_saturates_without_warnings_and_leaves_numpys_error_settings():
    layer = LSTM(3, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 6, 4)) * 1e4       # gates at 0 and 1
    with np.errstate(all="raise", under="ignore"):                   # numpy's default: under
        out = layer.forward(x)
        assert np.geterr()["over"] == "raise"                         # restored after the loop
        layer.backward(np.ones_like(out))
    assert np.all(np.isfinite(out)) and np.all(np.abs(out) <= 1)
    assert all(np.all(np.isfinite(g)) for g in layer.grads.values())
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        np.exp(np.array([1e4]))                                       # raise is still in force


def test_lstm_step_weights_give_minus_z_for_the_sigmoid_gates_exactly():
    """The forward product uses the sigmoid blocks' weights with their sign flipped: the same
    numbers as the product with the weights, negated, to the last bit."""
    cell = LSTMCell(5, input_dim=3, seed=2)
    xh = cell._one_step_inputs(np.random.default_rng(1).standard_normal((4, 3)),
                               np.random.default_rng(2).standard_normal((4, 5)))
    z, z_neg = xh @ cell._stacked_weights(), xh @ cell._step_weights()
    np.testing.assert_array_equal(z_neg[0], z[0])
    np.testing.assert_array_equal(z_neg[1:], -z[1:])
