"""Worked examples of lectures 05 to 09, computed through the library.

Each test recomputes one example of the lectures (most of them from the course notes) and
asserts the correct values; where the notes print something else (an erratum in the lecture), the
test also asserts that the notes' value is indeed different, so that the erratum cannot silently
come back.
"""
import numpy as np
import pytest

from nnlib import activations as act
from nnlib import classic, data, losses
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import Dense


# ----------------------------------------------------------------------------------------------
# Lecture 05: classic learning rules
# ----------------------------------------------------------------------------------------------
def test_05_delta_rule_one_step_by_hand():
    result = classic.delta_rule_train(np.array([[1.0, 2.0]]), np.array([1.0]), w0=[0.2, -0.1],
                                      b0=0.0, eta=0.1, epochs=1)
    step = result.trace[0]
    assert (step.y, step.e, step.E) == pytest.approx((0.0, 1.0, 0.5))
    assert result.w == pytest.approx([0.3, 0.1]) and result.b == pytest.approx(0.1)
    y_new = result.w @ np.array([1.0, 2.0]) + result.b
    assert y_new == pytest.approx(0.6) and 0.5 * (1 - y_new) ** 2 == pytest.approx(0.08)


def test_05_delta_rule_gradient_has_the_sign_of_minus_e_x():
    w, x, d = np.array([0.2, -0.1]), np.array([1.0, 2.0]), 1.0
    numeric = numerical_gradient(lambda: 0.5 * (d - w @ x) ** 2, w)
    e = d - w @ x
    assert numeric == pytest.approx(-e * x, abs=1e-6)
    assert not np.allclose(numeric, e * x)          # the notes' first line, [t − y] x, has the wrong sign


def test_05_delta_rule_learns_the_line_and_diverges_for_a_large_rate():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=20)
    d = 1.5 * x - 0.5 + rng.normal(scale=0.2, size=20)
    good = classic.delta_rule_train(x[:, None], d, eta=0.05, epochs=30)
    assert (good.w[0], good.b) == pytest.approx((1.4559, -0.4818), abs=5e-5)
    assert good.cost_per_epoch()[-1] == pytest.approx(0.0100, abs=5e-5)
    bad = classic.delta_rule_train(x[:, None], d, eta=0.8, epochs=30)
    assert bad.cost_per_epoch()[-1] > 1e10


def test_05_nearest_neighbour_small_example():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [2.0, 2.0], [1.5, 1.0]])
    d = np.array([0, 0, 1, 1, 1])
    q = np.array([0.9, 0.9])
    assert np.sort(np.linalg.norm(X - q, axis=1)) == pytest.approx(
        [0.6083, 0.9055, 1.2728, 1.4213, 1.5556], abs=5e-5)
    assert classic.nearest_neighbour_predict(X, d, q, k=1).tolist() == [1]
    assert classic.nearest_neighbour_predict(X, d, q, k=3).tolist() == [0]


def test_05_competitive_learning_moves_only_the_winner_to_the_cluster_centres():
    one = classic.competitive_train(np.array([[1.0, 1.0]]), np.array([[0.0, 0.0], [3.0, 3.0]]),
                                    eta=0.1, epochs=1)
    assert one.W == pytest.approx(np.array([[0.1, 0.1], [3.0, 3.0]]))   # Δw = η (x − w), loser unchanged
    centres = np.array([[-2.0, 2.0], [2.0, 2.0], [0.0, -2.0]])
    X, _ = data.blobs(n_per_class=30, centers=centres, std=0.5, seed=2)
    X = X[np.random.default_rng(2).permutation(len(X))]
    W = classic.competitive_train(X, np.array([[-0.5, 0.5], [0.0, 0.0], [0.5, 0.5]]), eta=0.1, epochs=5).W
    assert W == pytest.approx(np.array([[-1.9192, 2.0555], [-0.1643, -1.9096], [2.0056, 1.8767]]), abs=5e-5)
    nearest = np.linalg.norm(centres[:, None, :] - W[None, :, :], axis=2).min(axis=1)
    assert np.all(nearest < 0.2)                   # one prototype next to every cluster centre


# ----------------------------------------------------------------------------------------------
# Lecture 06: the perceptron (the notes' epoch tables are tested in test_lib_classic.py)
# ----------------------------------------------------------------------------------------------
def test_06_first_field_of_the_notes_example_and_its_slip():
    w0, b0, x1 = np.array([0.5, -1.0, -0.5]), 0.5, np.array([1.0, -1.0, -1.0])
    assert w0 @ x1 + b0 == pytest.approx(2.5)
    slip = w0[0] * x1[0] - w0[1] * x1[1] + w0[2] * x1[2] + b0     # (−1)(−1) taken as −1
    assert slip == pytest.approx(0.5)                               # the notes' printed v


def test_06_gates_from_zero_weights_and_the_xor_cycle():
    runs = {g: classic.perceptron_train(*data.logic_gate(g), w0=[0.0, 0.0], b0=0.0, eta=1.0,
                                        max_epochs=30) for g in ("and", "or", "xor")}
    assert runs["and"].errors_per_epoch() == [2, 3, 3, 2, 1, 0]
    assert runs["or"].errors_per_epoch() == [2, 2, 1, 0]
    assert not runs["xor"].converged and min(runs["xor"].errors_per_epoch()) >= 3
    ends = [(*s.w_after, s.b_after) for s in runs["xor"].trace if s.iteration == 4]
    assert ends[2] == ends[1] == (-1.0, 0.0, 0.0)                    # epoch 3 ends where epoch 2 did


@pytest.mark.parametrize("eta", [0.5, 3.0])
def test_06_from_zero_weights_the_rate_only_scales_the_weights(eta):
    X, d = data.logic_gate("and")
    one = classic.perceptron_train(X, d, w0=[0.0, 0.0], b0=0.0, eta=1.0)
    run = classic.perceptron_train(X, d, w0=[0.0, 0.0], b0=0.0, eta=eta)
    assert [s.y for s in run.trace] == [s.y for s in one.trace]
    assert np.allclose([s.w_after for s in run.trace], eta * np.array([s.w_after for s in one.trace]))
    assert run.b == pytest.approx(eta * one.b)


def test_06_a_rate_of_point_one_breaks_a_tie_at_zero_by_rounding():
    X, d = data.logic_gate("and")
    one = classic.perceptron_train(X, d, w0=[0.0, 0.0], b0=0.0, eta=1.0)
    tenth = classic.perceptron_train(X, d, w0=[0.0, 0.0], b0=0.0, eta=0.1)
    k = next(i for i, (a, b) in enumerate(zip(one.trace, tenth.trace)) if a.y != b.y)
    a, b = one.trace[k], tenth.trace[k]
    assert (a.epoch, a.iteration, a.v, a.y, b.y) == (4, 3, 0.0, 1.0, 0.0)
    assert -1e-16 < b.v < 0                                          # −2.8e−17 instead of 0
    assert tenth.errors_per_epoch() == [2, 3, 3, 0]
    assert tenth.w @ np.array([1.0, 0.0]) + tenth.b == pytest.approx(0.0, abs=1e-15)


# ----------------------------------------------------------------------------------------------
# Lecture 07: why non-linearity
# ----------------------------------------------------------------------------------------------
W07 = dict(w1=0.5, w2=-1.2, w01=0.3, w3=2.0, w4=0.7, w02=-0.4, w5=1.5, w6=-0.8, wB=0.25)


def _net_221(x1, x2, g, w1, w2, w01, w3, w4, w02, w5, w6, wB):
    n1 = g(w1 * x1 + w2 * x2 + w01)
    n2 = g(w3 * x1 + w4 * x2 + w02)
    return w5 * n1 + w6 * n2 + wB


def test_07_identity_network_collapses_to_a_plane():
    w = W07
    A = w["w5"] * w["w1"] + w["w6"] * w["w3"]
    B = w["w5"] * w["w2"] + w["w6"] * w["w4"]
    C = w["w5"] * w["w01"] + w["w6"] * w["w02"] + w["wB"]
    assert (A, B, C) == pytest.approx((-0.85, -2.36, 1.02))
    rng = np.random.default_rng(0)
    x1, x2 = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50)
    assert np.max(np.abs(_net_221(x1, x2, act.linear, **w) - (A * x1 + B * x2 + C))) < 1e-12
    # the notes' coefficients (w6·w2 for w6·w3; wB + wB·w00 for the constant) do not reproduce it
    A_notes = w["w5"] * w["w1"] + w["w6"] * w["w2"]
    C_notes = w["wB"] + w["wB"] * w["w01"]
    assert np.max(np.abs(_net_221(x1, x2, act.linear, **w) - (A_notes * x1 + B * x2 + C_notes))) > 1
    # with tanh (the notes' activation) no plane fits
    g1, g2 = np.meshgrid(np.linspace(-3, 3, 31), np.linspace(-3, 3, 31))
    design = np.column_stack([g1.ravel(), g2.ravel(), np.ones(g1.size)])
    y = _net_221(g1, g2, act.tanh, **w).ravel()
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert np.max(np.abs(design @ coef - y)) > 0.5


def _sigmoid_221(x1, x2, w11, w12, w13, w14, w21, w22, b1=0.0, b2=0.0):
    h1 = act.sigmoid(w11 * x1 + w12 * x2 + b1)
    h2 = act.sigmoid(w13 * x1 + w14 * x2 + b1)      # the notes share b1 between the hidden neurons
    return h1, h2, act.sigmoid(w21 * h1 + w22 * h2 + b2)


S1 = dict(w11=-2.0, w12=1.0, w13=-1.5, w14=1.5, w21=1.0, w22=-1.0)
S2 = dict(w11=2.0, w12=-1.0, w13=2.0, w14=-2.0, w21=1.0, w22=-1.0)


@pytest.mark.parametrize("setting, point, expected", [
    (S1, (1.0, 1.0), (0.2689, 0.5000, 0.4425)),
    (S1, (-1.0, -1.5), (0.6225, 0.3208, 0.5748)),
    (S2, (1.0, 1.0), (0.7311, 0.5000, 0.5575)),
    (S2, (1.0, 1.5), (0.6225, 0.2689, 0.5875)),
])
def test_07_sigmoid_221_settings_of_the_notes(setting, point, expected):
    assert np.array(_sigmoid_221(*point, **setting)) == pytest.approx(expected, abs=5e-5)


def test_07_sigmoid_221_output_range_is_between_sigmoid_of_minus_one_and_one():
    g1, g2 = np.meshgrid(np.linspace(-4, 4, 161), np.linspace(-4, 4, 161))
    for setting, lo, hi in [(S1, 0.3322, 0.6678), (S2, 0.3183, 0.6817)]:
        _, _, y = _sigmoid_221(g1, g2, **setting)
        assert (y.min(), y.max()) == pytest.approx((lo, hi), abs=5e-5)
        assert act.sigmoid(-1.0) < y.min() and y.max() < act.sigmoid(1.0)



def test_07_tanh_network_misses_its_best_plane_by_more_than_a_quarter_of_its_range():
    g1, g2 = np.meshgrid(np.linspace(-3, 3, 61), np.linspace(-3, 3, 61))
    design = np.column_stack([g1.ravel(), g2.ravel(), np.ones(g1.size)])
    misses = {}
    for name, g in [("identity", act.linear), ("tanh", act.tanh)]:
        y = _net_221(g1, g2, g, **W07).ravel()
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        misses[name] = np.max(np.abs(design @ coef - y))
        span = y.max() - y.min()
    assert misses["identity"] < 1e-12
    assert misses["tanh"] == pytest.approx(1.30, abs=5e-3) and span == pytest.approx(4.59, abs=5e-3)
    assert misses["tanh"] > span / 4


def test_07_five_linear_layers_fold_into_one_neuron():
    rng = np.random.default_rng(3)
    sizes = [2, 8, 8, 8, 8, 1]
    Ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=o) for o in sizes[1:]]
    assert sum(W.size + b.size for W, b in zip(Ws, bs)) == 249
    W_total, b_total = np.eye(2), np.zeros(2)
    for W, b in zip(Ws, bs):
        W_total, b_total = W @ W_total, W @ b_total + b
    assert W_total.shape == (1, 2) and b_total.shape == (1,)
    X = rng.normal(size=(2, 7))
    H = X
    for W, b in zip(Ws, bs):
        H = W @ H + b[:, None]
    assert H == pytest.approx(W_total @ X + b_total[:, None], rel=1e-10)


def test_07_s1_at_zero_two_and_the_and_of_two_hidden_neurons():
    h1, h2, y = _sigmoid_221(0.0, 2.0, **S1)
    assert (h1, h2, y) == pytest.approx((0.8808, 0.9526, 0.4821), abs=5e-5)
    out = lambda a, b: act.sigmoid(10 * a + 10 * b - 15)          # w21 = w22 = 10, b2 = −15
    assert out(0.95, 0.95) == pytest.approx(0.982, abs=5e-4) and out(0.05, 1.0) < 0.012


def _bump_sum(x, n):
    edges = np.linspace(0, 2 * np.pi, n + 1)
    centres, steep = (edges[:-1] + edges[1:]) / 2, 4 * n
    return sum(np.sin(c) * (act.sigmoid(steep * (x - l)) - act.sigmoid(steep * (x - r)))
               for l, r, c in zip(edges[:-1], edges[1:], centres))


def test_07_sums_of_bumps_follow_sin_with_an_error_like_one_over_n():
    xs = np.linspace(0, 2 * np.pi, 500)
    inner = (xs > 0.5) & (xs < 2 * np.pi - 0.5)
    err = [np.max(np.abs(_bump_sum(xs, n) - np.sin(xs))[inner]) for n in (4, 12, 48)]
    assert err == pytest.approx([0.454, 0.172, 0.043], abs=5e-4)
    assert err[1] / err[2] == pytest.approx(4, rel=0.05)


# ----------------------------------------------------------------------------------------------
# Lecture 08: feedforward networks
# ----------------------------------------------------------------------------------------------
def test_08_dense_layer_with_100_inputs_and_10_neurons_has_1010_parameters():
    layer = Dense(10, input_dim=100, seed=0)
    assert layer.params["W"].shape == (100, 10) and layer.params["b"].shape == (10,)
    assert sum(p.size for p in layer.params.values()) == 1010
    assert layer.forward(np.ones((3, 100))).shape == (3, 10)


def test_08_z11_forward_example_of_notes_004_with_chosen_inputs():
    layer = Dense(2, input_dim=3)
    layer.params["W"][...] = np.array([[3.0, 7.0, 2.0], [3.0, 2.0, 4.0]]).T
    layer.params["b"][...] = [-40000.0, -20000.0]
    Z = layer.forward(np.array([[5000.0, 3000.0, 2000.0]]))[0]
    assert Z == pytest.approx([0.0, 9000.0])
    H = act.sigmoid(Z)
    assert H == pytest.approx([0.5, 1.0])
    assert act.sigmoid_derivative(Z) == pytest.approx([0.25, 0.0])   # the second neuron is saturated


def test_08_two_three_matrix_example_of_notes_002():
    a, b = Dense(2, input_dim=2), Dense(1, input_dim=2)
    a.params["W"][...] = [[0.11, 0.12], [0.21, 0.08]]
    b.params["W"][...] = [[0.14], [0.15]]
    h = a.forward(np.array([[2.0, 3.0]]))
    assert h[0] == pytest.approx([0.85, 0.48])
    assert b.forward(h)[0, 0] == pytest.approx(0.191)


def test_08_divide_by_sum_versus_softmax():
    good, bad = np.array([3.0, 4.0, 10.0, 3.0]), np.array([7.0, -2.0, 4.0, 1.0])
    assert good / good.sum() == pytest.approx([0.15, 0.20, 0.50, 0.15])
    assert bad / bad.sum() == pytest.approx([0.70, -0.20, 0.40, 0.10])     # a negative "probability"
    assert act.softmax(good) == pytest.approx([0.0009, 0.0025, 0.9957, 0.0009], abs=5e-5)
    p = act.softmax(bad)
    assert p == pytest.approx([0.9502, 0.0001, 0.0473, 0.0024], abs=5e-5)
    assert np.all(p > 0) and p.sum() == pytest.approx(1.0)



def test_08_a_4_5_3_2_network_has_51_parameters_and_a_softmax_output():
    rng = np.random.default_rng(0)
    sizes = [4, 5, 3, 2]
    layers = [Dense(o, input_dim=i, seed=k) for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]))]
    assert sum(p.size for layer in layers for p in layer.params.values()) == 51
    h = rng.normal(size=(1, 4))
    for k, layer in enumerate(layers):
        a = layer.forward(h)
        assert a.shape == (1, sizes[k + 1])
        h = act.softmax(a, axis=1) if k == len(layers) - 1 else act.sigmoid(a)
    assert h.sum() == pytest.approx(1.0)


def test_08_softmax_of_scores_that_sum_to_zero_and_its_shift_and_scale():
    a = np.array([1.0, 0.0, -1.0])
    assert act.softmax(a) == pytest.approx([0.6652, 0.2447, 0.0900], abs=5e-5)
    assert a.sum() == 0                                               # a / Σa divides by zero
    good = np.array([3.0, 4.0, 10.0, 3.0])
    assert act.softmax(good + 1000.0) == pytest.approx(act.softmax(good))
    assert act.softmax(2 * good)[2] == pytest.approx(0.99999, abs=5e-6)
    assert np.log(np.exp(7) + np.exp(4) + np.exp(1)) == pytest.approx(7.05, abs=5e-3)


# ----------------------------------------------------------------------------------------------
# Lecture 09: loss functions
# ----------------------------------------------------------------------------------------------
def test_09_minus_log_of_point_three_in_three_bases():
    loss = losses.categorical_cross_entropy(np.array([0.3, 0.1, 0.6]), np.array([1, 0, 0]))
    assert loss == pytest.approx(1.2040, abs=5e-5)                         # natural log
    assert -np.log10(0.3) == pytest.approx(0.5229, abs=5e-5)              # the notes' 0.52
    assert -np.log2(0.3) == pytest.approx(1.7370, abs=5e-5)
    assert round(loss, 2) != 0.52


def test_09_sparse_and_one_hot_labels_give_the_same_loss():
    P = np.array([[0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    y = np.array([1, 2, 0])
    assert losses.categorical_cross_entropy(P, y) == pytest.approx(0.5202, abs=5e-5)
    assert losses.categorical_cross_entropy(P, np.eye(3)[y]) == pytest.approx(
        losses.categorical_cross_entropy(P, y))


def test_09_bce_is_the_mean_negative_log_likelihood():
    y = np.array([1, 0, 1, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.4, 0.1])
    likelihood = np.prod(p ** y * (1 - p) ** (1 - y))
    assert losses.binary_cross_entropy(p, y) == pytest.approx(-np.log(likelihood) / 5)
    assert losses.binary_cross_entropy(p, y) == pytest.approx(0.372196, abs=5e-7)


def test_09_binary_worked_example_of_notes_002():
    W1 = np.array([[0.9, 0.2, 0.4, 0.3], [-0.5, 0.4, 0.3, 0.3],
                   [0.1, 0.1, -0.1, 0.2], [-0.2, 0.5, 0.5, 0.7]])
    W2 = np.array([0.5, 0.8, -0.6, 0.3])
    x = np.array([-0.6, -0.6, 0.2, 0.3])
    a1 = W1 @ x + 0.5
    h1 = act.sigmoid(a1)
    a2 = W2 @ h1 + 0.3
    y_hat = act.sigmoid(a2)
    assert a1 == pytest.approx([0.01, 0.71, 0.42, 0.63])
    assert h1 == pytest.approx([0.50, 0.67, 0.60, 0.65], abs=5e-3)
    assert a2 == pytest.approx(0.921, abs=5e-4)
    assert y_hat == pytest.approx(0.7153, abs=5e-5)
    loss = losses.binary_cross_entropy(np.array([y_hat]), np.array([0]))
    assert loss == pytest.approx(1.2563, abs=5e-5)
    # the notes' 0.7152 / 1.2560 come from carrying the rounded a2 = 0.921 forward
    assert act.sigmoid(0.921) == pytest.approx(0.7152, abs=5e-5)
    assert -np.log(1 - 0.7152) == pytest.approx(1.2560, abs=5e-5)


W1_MC = np.array([[0.1, 0.3, 0.8, -0.4], [-0.3, -0.2, 0.5, 0.5],
                  [-0.3, 0.1, 0.5, 0.4], [0.2, 0.5, -0.9, 0.7]])
W2_MC = np.array([[0.3, 0.8, -0.2, -0.4], [0.5, -0.2, -0.3, 0.5], [0.2, 0.1, 0.6, 0.6]])
X_MC = np.array([0.6, 0.4, 0.6, 0.1])


def test_09_multiclass_worked_example_of_notes_002_and_its_erratum():
    a1 = W1_MC @ X_MC
    h1 = act.sigmoid(a1)
    a2 = W2_MC @ h1
    p = act.softmax(a2)
    loss = losses.categorical_cross_entropy(p, np.array([0, 0, 1]))
    assert a1 == pytest.approx([0.62, 0.09, 0.20, -0.15])
    assert h1 == pytest.approx([0.65, 0.52, 0.55, 0.46], abs=5e-3)
    assert a2 == pytest.approx([0.32, 0.29, 0.79], abs=5e-3)
    assert p == pytest.approx([0.2800, 0.2714, 0.4487], abs=5e-5)
    assert loss == pytest.approx(0.8015, abs=5e-5)
    # the notes print a2[3] = 0.85, ŷ = [0.2718 0.2634 0.4648], loss 0.7661: really different ...
    assert abs(a2[2] - 0.85) > 0.05 and abs(loss - 0.7661) > 0.03
    # ... and reproduced by the slip W2[3, 1] = 0.3 instead of 0.2
    W2_slip = W2_MC.copy()
    W2_slip[2, 0] = 0.3
    p_slip = act.softmax(W2_slip @ h1)
    assert p_slip == pytest.approx([0.2718, 0.2634, 0.4648], abs=5e-5)
    assert losses.categorical_cross_entropy(p_slip, np.array([0, 0, 1])) == pytest.approx(0.7661, abs=5e-5)


def test_09_multi_label_needs_per_label_sigmoids():
    Y = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
    Z = np.array([[3.0, 2.5, 2.0], [-2.0, 2.0, -1.5], [-1.0, -2.0, 3.0], [2.0, 3.0, 2.5]])
    P = act.sigmoid(Z)
    scratch = -np.mean(np.sum(Y * np.log(P) + (1 - Y) * np.log(1 - P), axis=1))
    assert losses.binary_cross_entropy(P, Y) == pytest.approx(scratch)
    assert scratch == pytest.approx(0.3632, abs=5e-5)
    assert -3 * np.log(1 / 3) == pytest.approx(3.2958, abs=5e-5)   # best softmax on a (1, 1, 1) row


def test_09_class_weights_5_and_70():
    p = np.array([0.2, 0.05, 0.7, 0.3, 0.9])
    y = np.array([0, 0, 1, 1, 1])
    assert losses.binary_cross_entropy(p, y) == pytest.approx(0.3881, abs=5e-5)
    weighted = losses.binary_cross_entropy(p, y, class_weight={0: 5, 1: 70})
    assert weighted == pytest.approx(23.5986, abs=5e-5)
    # the notes' expression (no minus sign, only the weight 5) is negative, not this loss
    notes = 5 * np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert notes == pytest.approx(-9.7022, abs=5e-5) and notes < 0 < weighted


def test_05_one_step_scales_the_error_by_one_minus_eta_times_norm_plus_one():
    x, d, w0, b0 = np.array([1.0, 2.0]), 1.0, np.array([0.2, -0.1]), 0.0
    for eta in [0.1, 1 / 6, 0.25, 0.4]:
        r = classic.delta_rule_train(x[None, :], np.array([d]), w0=w0, b0=b0, eta=eta, epochs=1)
        e_before = d - (w0 @ x + b0)
        e_after = d - (r.w @ x + r.b)
        assert e_after == pytest.approx(e_before * (1 - eta * (x @ x + 1)), abs=1e-12)
    # the lecture's step (η = 0.1) moves y 60 % of the way; η = 1/6 lands on the target
    assert 0.1 * (x @ x + 1) == pytest.approx(0.6)


def test_05_the_smallest_rate_ends_lowest_and_only_the_largest_diverges():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=20)
    d = 1.5 * x - 0.5 + rng.normal(scale=0.2, size=20)
    first, last = {}, {}
    for eta in [0.01, 0.05, 0.2, 0.5, 0.8]:
        costs = classic.delta_rule_train(x[:, None], d, eta=eta, epochs=30).cost_per_epoch()
        first[eta], last[eta] = costs[0], costs[-1]
    assert min(last, key=last.get) == 0.01 and max(first, key=first.get) == 0.01
    assert last[0.01] == pytest.approx(0.009196, abs=5e-7)
    assert [eta for eta in last if last[eta] > 1] == [0.8]



def test_09_target_zero_predicted_half_of_the_propagation_slides():
    assert losses.mse(np.array([0.5]), np.array([0.0])) == pytest.approx(0.25)
    assert losses.sum_squared_error(np.array([0.5]), np.array([0.0])) == pytest.approx(0.125)


def test_09_the_irreducible_error_is_the_floor_of_the_mse():
    rng = np.random.default_rng(9)
    f = lambda x: np.sin(2 * x)
    sigma = 0.5
    x = rng.uniform(-2, 2, size=100_000)
    y = f(x) + rng.normal(scale=sigma, size=x.size)
    line = np.polyval(np.polyfit(x, y, 1), x)
    mse = {name: losses.mse(g, y) for name, g in
           [("f", f(x)), ("0.8f", 0.8 * f(x)), ("line", line), ("zero", np.zeros_like(x))]}
    assert [mse[k] for k in ("f", "0.8f", "line", "zero")] == pytest.approx(
        [0.2492, 0.2666, 0.6466, 0.6860], abs=5e-5)
    assert abs(mse["f"] - sigma ** 2) < 0.002                       # the perfect model sits on σ²
    for name, g in [("0.8f", 0.8 * f(x)), ("line", line), ("zero", np.zeros_like(x))]:
        assert mse[name] > mse["f"]                                 # nobody goes below the floor
        assert mse[name] == pytest.approx(np.mean((g - f(x)) ** 2) + sigma ** 2, abs=0.002)
    # the decomposition is exact in expectation: with the noise averaged out (many draws at fixed x)
    eps = rng.normal(scale=sigma, size=(400, 1000))
    x0 = np.linspace(-2, 2, 1000)
    g0 = 0.8 * f(x0)
    expected = np.mean((g0 - (f(x0) + eps)) ** 2)
    assert expected == pytest.approx(np.mean((g0 - f(x0)) ** 2) + sigma ** 2, abs=3e-3)


def test_09_bce_gradient_through_the_sigmoid_is_p_minus_y():
    for y in (0.0, 1.0):
        for z0 in (-6.0, -0.3, 2.0):
            z = np.array([z0])
            loss = lambda: losses.binary_cross_entropy(act.sigmoid(z), np.array([y]))
            numeric = numerical_gradient(loss, z)
            assert numeric == pytest.approx(act.sigmoid(z) - y, abs=1e-6)
    p = act.sigmoid(-6.0)
    assert (p - 1, 2 * (p - 1) * p * (1 - p)) == pytest.approx((-0.9975, -0.0049), abs=5e-5)


def test_09_exercise_values_mse_bce_and_the_weighted_loss():
    assert losses.mse(np.array([1.5, -1.0, 2.0]), np.array([1.0, 0.0, 2.0])) == pytest.approx(0.4167, abs=5e-5)
    assert losses.binary_cross_entropy(np.array([0.8, 0.3]), np.array([1, 0])) == pytest.approx(0.2899, abs=5e-5)
    p, y = np.array([0.2, 0.05, 0.7, 0.3, 0.9]), np.array([0, 0, 1, 1, 1])
    assert losses.binary_cross_entropy(p, y, class_weight={0: 1, 1: 1}) == pytest.approx(
        losses.binary_cross_entropy(p, y))
