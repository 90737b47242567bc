"""Worked examples of lectures 01–04, computed through the library (or plain numpy).

Each test recomputes one example of the lectures (most from the course notes in the seeds) and
asserts the correct values; where the notes print something else (an erratum in the lecture), the
test also asserts that the notes' value is indeed different, so that the erratum cannot silently
come back.
"""
import numpy as np
import pytest

from nnlib import activations as act
from nnlib import data
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import Dense


def centred(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def count_parameters(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


# ----------------------------------------------------------------------------------------------
# Lecture 01: what deep learning is
# ----------------------------------------------------------------------------------------------
def test_01_the_notes_221_tanh_network_has_nine_parameters():
    # notes 000: weights w1..w6, biases w01, w02, wB
    assert count_parameters([2, 2, 1]) == 9
    hidden, output = Dense(2, input_dim=2, seed=0), Dense(1, input_dim=2, seed=0)
    library_count = sum(p.size for layer in (hidden, output) for p in layer.params.values())
    assert library_count == 9


def test_01_parameter_counts_of_the_lecture():
    assert count_parameters([2, 8, 1]) == 33
    assert count_parameters([2, 16, 16, 16, 1]) == 609
    assert count_parameters([784, 256, 10]) == 203_530
    assert sum(a * b for a, b in zip([784, 256, 256], [256, 256, 10])) == 268_800


def test_01_straight_line_cannot_separate_the_rings_but_r2_can():
    X, y = data.circles(100, noise=0.08, factor=0.5, seed=0)
    r2 = np.sum(X ** 2, axis=1)
    assert r2[y == 1].max() < r2[y == 0].min()          # one threshold on r² separates them



def test_01_width_against_depth_for_784_inputs():
    # the prediction prompt: four times wider quadruples, three more layers add a little
    assert count_parameters([784, 64, 10]) == 50_890
    assert count_parameters([784, 256, 10]) == 203_530
    assert count_parameters([784, 64, 64, 64, 64, 10]) == 63_370
    assert 63_370 - 50_890 == 3 * (64 * 64 + 64)


def test_01_exercises_parameters_and_multiply_adds():
    assert count_parameters([3, 4, 2]) == 26
    assert 3 * (2 * 8 + 8 * 1) * 200 * 3000 == pytest.approx(4.32e7)
    layers = [n_in * n_out + n_out for n_in, n_out in zip([2, 8], [8, 1])]
    assert layers == [24, 9] and sum(layers) == count_parameters([2, 8, 1])


@pytest.mark.parametrize("n, L, w, m", [(2, 1, 8, 1), (784, 3, 64, 10), (5, 4, 7, 3), (1, 2, 1, 1)])
def test_01_exercise_closed_form_of_the_parameter_count(n, L, w, m):
    closed = (n + 1) * w + (L - 1) * (w + 1) * w + (w + 1) * m
    assert closed == count_parameters([n] + [w] * L + [m])

# ----------------------------------------------------------------------------------------------
# Lecture 02: the neuron
# ----------------------------------------------------------------------------------------------
def test_02_and_gate_of_the_notes_every_row_and_column():
    X, d = data.logic_gate("and")
    v = X @ np.array([1.0, 1.0])                         # w1 = w2 = 1, no bias
    y = act.threshold(v, theta=2.0)                      # fire when v >= 2
    notes_T = np.array([0, 0, 0, 1])                     # the notes' column "T" is the output
    notes_V = np.array([0, 1, 1, 2])
    assert np.array_equal(v, notes_V)
    assert np.array_equal(y, notes_T)
    assert np.array_equal(y, d)
    assert np.array_equal(act.threshold(v - 2.0), y)     # threshold 2 == bias -2


def test_02_neuron_model_needs_the_bias_inside_psi():
    u = np.array([1.0, 1.0]) @ np.array([1.0, 1.0])
    assert act.threshold(u - 2.5) == 0.0                 # y = psi(v), v = u + b
    assert act.threshold(u) == 1.0                       # the slip psi(u) drops the bias


def test_02_step_by_step_neuron():
    x, w, b = np.array([1.0, 0.5, -1.0]), np.array([0.8, -0.4, 0.3]), 0.1
    assert w @ x == pytest.approx(0.3)
    assert w @ x + b == pytest.approx(0.4)
    assert act.threshold(w @ x + b) == 1.0


def test_02_or_and_not():
    X, d_or = data.logic_gate("or")
    assert np.array_equal(act.threshold(X @ np.array([1.0, 1.0]) - 1.0), d_or)
    x = np.array([0.0, 1.0])
    assert np.array_equal(act.threshold(-1.0 * x + 0.5), [1.0, 0.0])


def test_02_no_single_neuron_computes_xor():
    grid = np.linspace(-2, 2, 41)
    W1, W2, B = (a.ravel() for a in np.meshgrid(grid, grid, grid, indexing="ij"))
    X, d_xor = data.logic_gate("xor")
    Y = (np.outer(W1, X[:, 0]) + np.outer(W2, X[:, 1]) + B[:, None] >= 0).astype(int)
    assert (Y == d_xor).sum(axis=1).max() == 3
    assert (Y == data.logic_gate("and")[1]).sum(axis=1).max() == 4
    assert (Y == data.logic_gate("or")[1]).sum(axis=1).max() == 4



def test_02_thresholds_pick_the_gate_by_interval():
    X, _ = data.logic_gate("and")
    v = X @ np.array([1.0, 1.0])
    outputs = {theta: tuple(act.threshold(v, theta=theta).astype(int)) for theta in [0.5, 1, 1.5, 2, 2.5]}
    assert outputs[0.5] == outputs[1] == tuple(data.logic_gate("or")[1])
    assert outputs[1.5] == outputs[2] == tuple(data.logic_gate("and")[1])
    assert outputs[2.5] == (0, 0, 0, 0)


def test_02_scaling_weights_and_bias():
    X, d_and = data.logic_gate("and")
    for scale in [1.0, 3.0, 0.2]:
        assert np.array_equal((X @ (scale * np.ones(2)) - 2 * scale >= 0).astype(int), d_and)
    assert np.array_equal((X @ -np.ones(2) + 2 >= 0).astype(int), [1, 1, 1, 1])   # (1,1) lies on the line


def test_02_exercises():
    x, w, b = np.array([2.0, -1.0, 0.5]), np.array([0.5, 1.5, -2.0]), 0.25
    assert w @ x + b == pytest.approx(-1.25)
    w2, b2 = np.array([2.0, -1.0]), 0.5
    assert [-w2[0] / w2[1], -b2 / w2[1]] == pytest.approx([2.0, 0.5])
    X, d_nand = data.logic_gate("nand")
    assert np.array_equal((X @ np.array([-1.0, -1.0]) + 1.5 >= 0).astype(int), d_nand)
    cube = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    assert np.array_equal((cube @ np.ones(3) - 2 >= 0).astype(int), (cube.sum(axis=1) >= 2).astype(int))


def test_02_xor_panels_and_xnor_is_not_separable_either():
    X, d_xor = data.logic_gate("xor")
    right = [int(((X @ np.array([a, c]) + bb >= 0).astype(int) == d_xor).sum())
             for a, c, bb in [(1, 1, -0.5), (1, 1, -1.5), (1, -1, -0.5)]]
    assert right == [3, 1, 3]
    grid = np.linspace(-2, 2, 41)
    W1, W2, B = (a.ravel() for a in np.meshgrid(grid, grid, grid, indexing="ij"))
    Y = (np.outer(W1, X[:, 0]) + np.outer(W2, X[:, 1]) + B[:, None] >= 0).astype(int)
    assert (Y == 1 - d_xor).sum(axis=1).max() == 3

# ----------------------------------------------------------------------------------------------
# Lecture 03: math toolkit
# ----------------------------------------------------------------------------------------------
def cube(x):
    return x * x * x


def test_03_difference_quotient_of_x_cubed_at_2():
    for h in [1.0, 0.1, 0.01]:
        forward = (cube(2 + h) - cube(2)) / h
        assert forward == pytest.approx(12 + 6 * h + h * h, rel=1e-9)
        assert (cube(2 + h) - cube(2 - h)) / (2 * h) == pytest.approx(12 + h * h, rel=1e-9)
    assert (cube(2.1) - cube(2.0)) / 0.1 == pytest.approx(12.61)


def test_03_partials_of_the_notes_function_at_1_2():
    def z(p):
        return p[0] ** 2 + p[0] * p[1] + p[1] ** 2

    point = np.array([1.0, 2.0])
    numeric = numerical_gradient(lambda: z(point), point)
    assert numeric == pytest.approx([2 * 1 + 2, 1 + 2 * 2], abs=1e-6)   # (4, 5)
    assert numeric == pytest.approx([4.0, 5.0], abs=1e-6)


def test_03_chain_5_5_5():
    y_of_x = lambda x: 5 * (5 * x)
    y_of_m = lambda m: 5 * (5 * (5 * m))
    x_of_m = lambda m: 5 * m
    assert centred(y_of_x, 0.7) == pytest.approx(25.0)
    assert centred(y_of_m, 0.7) == pytest.approx(125.0)
    assert centred(x_of_m, 0.7) == pytest.approx(5.0)
    assert centred(y_of_m, 0.7) == pytest.approx(5.0 * 5.0 * 5.0)   # the product of the three links


def test_03_the_notes_df_dm_label_is_consistent_with_x_equals_f_of_m():
    # bootcamp notes: every function is called f; "df/dm = 5" stands beside "x = f(m)", x = 5m
    notes_df_dm = 5.0
    f = lambda m: 5 * m                                   # the notes' f in x = f(m)
    for m in [-1.0, 0.7, 3.0]:
        assert centred(f, m) == pytest.approx(notes_df_dm)


@pytest.mark.parametrize("x", [0.5, 1.0])
def test_03_chain_rule_on_nested_exponentials(x):
    g1 = lambda t: np.exp(t ** 2)
    g2 = lambda t: np.exp(np.exp(t ** 2))
    assert centred(g1, x) == pytest.approx(2 * x * np.exp(x ** 2), rel=1e-6)
    assert centred(g2, x) == pytest.approx(2 * x * np.exp(x ** 2) * np.exp(np.exp(x ** 2)), rel=1e-6)


def test_03_nested_exponential_values_at_1():
    assert 2 * np.exp(1.0) == pytest.approx(5.4366, abs=1e-4)
    assert 2 * np.exp(1.0) * np.exp(np.exp(1.0)) == pytest.approx(82.3871, abs=1e-4)


def test_03_transposes_of_the_notes():
    assert np.array_equal(np.array([[1, 2], [3, 4]]).T, [[1, 3], [2, 4]])
    assert np.array_equal(np.array([[1, 2], [3, 4], [5, 6]]).T, [[1, 3, 5], [2, 4, 6]])


def test_03_matrix_product_of_the_notes():
    P = np.array([[4, -1], [0, 5]])
    Q = np.array([[1, 8, 0], [6, -2, 3]])
    assert np.array_equal(P @ Q, [[-2, 34, -3], [30, -10, 15]])
    with pytest.raises(ValueError):
        Q @ P


def test_03_dot_product_and_vectorised_layer():
    assert np.dot([1.0, 2.0, 3.0], [4.0, -5.0, 6.0]) == 12.0
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    loops = np.array([[b[k] + sum(X[n, j] * W[j, k] for j in range(3)) for k in range(2)] for n in range(4)])
    assert np.allclose(loops, X @ W + b)



def test_03_exercises():
    assert (cube(2.1) - cube(1.9)) / 0.2 == pytest.approx(12.01)
    point = np.array([-1.0, 3.0])
    z = lambda: point[0] ** 2 + point[0] * point[1] + point[1] ** 2
    assert numerical_gradient(z, point) == pytest.approx([1.0, 5.0], abs=1e-6)
    assert centred(lambda x: (3 * x + 1) ** 2, 1.0) == pytest.approx(24.0)
    P = np.array([[4, -1], [0, 5]])
    Q = np.array([[1, 8, 0], [6, -2, 3]])
    assert np.array_equal(Q.T @ P, [[4, 29], [32, -18], [0, 15]])
    assert not np.array_equal(Q.T @ P, (P @ Q).T)
    assert 20 * 30 * 50 == 30_000                       # multiply-adds of the vectorisation layer


@pytest.mark.parametrize("v", [-3.0, -0.4, 0.0, 1.7])
def test_03_exercise_sigmoid_slope_from_the_chain_rule(v):
    s = act.sigmoid(np.array([v]))
    arg = np.array([v])
    numeric = numerical_gradient(lambda: float(act.sigmoid(arg)[0]), arg)
    assert numeric == pytest.approx(s * (1 - s), rel=1e-6, abs=1e-10)
    assert float(act.sigmoid(0.0) * (1 - act.sigmoid(0.0))) == 0.25

# ----------------------------------------------------------------------------------------------
# Lecture 04: activation functions
# ----------------------------------------------------------------------------------------------
def test_04_sigmoid_table_of_the_notes():
    v = np.array([0.0, 1.0, 0.0, -1.0])
    notes = np.array([0.0, 0.5, 0.5, 0.0])
    computed = act.sigmoid(v, a=1.0)
    assert computed == pytest.approx([0.5, 0.7311, 0.5, 0.2689], abs=5e-5)
    wrong = np.abs(np.round(computed, 1) - notes) > 0.05
    assert list(wrong) == [True, True, False, True]            # three of four rows are errata
    for a in [0.1, 1.0, 10.0, 100.0]:
        assert float(act.sigmoid(0.0, a=a)) == 0.5             # no slope gives psi(0) = 0
    assert float(act.sigmoid(-1.0, a=100.0)) < 1e-40           # only a very steep unit gives psi(-1) ~ 0


def test_04_from_scratch_one_liners_match_the_library():
    v = np.linspace(-5, 5, 101)
    assert np.allclose(1 / (1 + np.exp(-2.0 * v)), act.sigmoid(v, a=2.0))
    assert np.allclose(np.clip(v + 0.5, 0, 1), act.piecewise_linear(v))
    assert np.allclose(np.where(v > 0, v, 0.01 * v), act.leaky_relu(v))
    assert np.allclose(act.tanh(v), 2 * act.sigmoid(2 * v) - 1)


def test_04_derivative_values_of_the_saturation_table():
    assert act.sigmoid_derivative(0.0) == pytest.approx(0.25)
    assert act.sigmoid_derivative(5.0) == pytest.approx(0.006648, abs=5e-7)
    assert act.tanh_derivative(2.0) == pytest.approx(0.070651, abs=5e-7)
    assert 0.25 ** 10 == pytest.approx(9.54e-7, rel=1e-3)


def test_04_softmax_of_1000_1001():
    v = np.array([1000.0, 1001.0])
    p = act.softmax(v)
    assert p == pytest.approx([0.2689, 0.7311], abs=5e-5)
    assert np.allclose(p, act.softmax(np.array([0.0, 1.0])))
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(v) / np.exp(v).sum()
    assert np.all(np.isnan(naive))


def test_04_stochastic_unit_frequencies_follow_P():
    v_grid = np.linspace(-4, 4, 9)
    rng = np.random.default_rng(0)
    for T in [0.5, 1.0, 4.0]:
        draws = act.stochastic(np.repeat(v_grid[:, None], 2000, axis=1), T=T, rng=rng)
        freq = (draws == 1).mean(axis=1)
        assert np.abs(freq - act.stochastic_probability(v_grid, T)).max() < 0.05


def test_04_stochastic_unit_at_zero_temperature_is_a_threshold_not_always_one():
    # notes 001: "if T = 0, P(v) = 1" holds only for v > 0
    assert act.stochastic_probability(1.0, 1e-3) == pytest.approx(1.0)
    assert act.stochastic_probability(-1.0, 1e-3) == pytest.approx(0.0, abs=1e-12)
    assert act.stochastic_probability(0.0, 1e-3) == pytest.approx(0.5)
    assert act.stochastic_probability(-1.0, 1e-3) != pytest.approx(1.0)


def test_04_sigmoid_values_are_symmetric_and_half_at_zero():
    for a in [0.5, 1.0, 2.0, 10.0]:
        assert float(act.sigmoid(1.0, a=a) + act.sigmoid(-1.0, a=a)) == pytest.approx(1.0)
        assert float(act.sigmoid(0.0, a=a)) == 0.5
    assert float(act.sigmoid(1.0)) == pytest.approx(0.7311, abs=5e-5)
    assert act.sigmoid_derivative(5.0) == pytest.approx(0.0066, abs=5e-5)


def _sigmoid_chain(h0, w, L):
    h = h0
    for _ in range(L):
        h = act.sigmoid(w * h - w / 2)
    return h


def _sigmoid_chain_slope(h0, w, L):
    h, slope = h0, 1.0
    for _ in range(L):
        v = w * h - w / 2
        slope *= w * act.sigmoid_derivative(v)
        h = act.sigmoid(v)
    return slope


@pytest.mark.parametrize("w, L", [(1.0, 10), (4.0, 20), (6.0, 10), (2.0, 10), (6.0, 5)])
def test_04_weights_can_amplify_the_backward_signal_of_a_sigmoid_chain(w, L):
    # the slopes' product is at most 0.25^L; the weights multiply the signal too
    h0 = np.array([0.5])
    numeric = numerical_gradient(lambda: float(_sigmoid_chain(h0, w, L)[0]), h0)[0]
    assert numeric == pytest.approx(_sigmoid_chain_slope(0.5, w, L), rel=1e-5)
    assert _sigmoid_chain_slope(0.5, w, L) == pytest.approx((w / 4) ** L)   # every v_l = 0


def test_04_the_signal_grows_although_the_slopes_shrink():
    assert _sigmoid_chain_slope(0.5, 6.0, 10) == pytest.approx(57.665, abs=1e-3)
    assert _sigmoid_chain_slope(0.5, 6.0, 20) > 3000
    assert _sigmoid_chain_slope(0.5, 4.0, 20) == pytest.approx(1.0)
    assert _sigmoid_chain_slope(0.5, 6.0, 10) > 0.25 ** 10 * 1e7


def test_04_dead_relu_units_of_the_lecture_and_exercises():
    rng = np.random.default_rng(0)                   # the lecture's generator, in its order of use
    rng.normal(0.0, 2.0, size=10_000)
    X_in, W = rng.normal(size=(500, 2)), rng.normal(size=(2, 100))
    assert np.all(act.relu_derivative(X_in @ W) == 0, axis=0).sum() == 0
    assert np.all(act.relu_derivative(X_in @ W - 3.0) == 0, axis=0).sum() == 40
    assert float(act.sigmoid(2.0, a=0.5)) == pytest.approx(0.7311, abs=5e-5)
    assert act.softmax(np.array([2.0, 1.0, 0.1])) == pytest.approx([0.659, 0.242, 0.099], abs=5e-4)
    assert _sigmoid_chain_slope(0.5, 2.0, 10) == pytest.approx(1 / 1024)


@pytest.mark.parametrize("v", [-2.0, -0.3, 0.0, 1.1])
def test_04_exercise_tanh_slope_is_four_sigmoid_slopes(v):
    arg = np.array([v])
    numeric = numerical_gradient(lambda: float(np.tanh(arg)[0]), arg)[0]
    assert numeric == pytest.approx(4 * act.sigmoid_derivative(2 * v), rel=1e-6, abs=1e-10)
    assert numeric == pytest.approx(1 - np.tanh(v) ** 2, rel=1e-6, abs=1e-10)
