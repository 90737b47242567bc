"""Dense, Activation, Softmax and Dropout layers: forward values and gradients (lectures 08–15).

Every gradient test compares the analytic backward pass with centred finite differences in
float64 (nnlib.gradcheck.check_layer, h = 1e-5); the bound on the relative error is stated in
each test. A correct gradient gives about 1e-10 here, a wrong one about 1e-1.
"""
import numpy as np
import pytest

from nnlib import activations as act
from nnlib.gradcheck import check_layer
from nnlib.layers import Activation, Dense, Dropout, Softmax

TOL = 1e-7          # relative error bound for every gradient check in this file


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n, d, u = rng.integers(1, 6), rng.integers(1, 7), rng.integers(1, 5)
    layer = Dense(int(u), input_dim=int(d), seed=seed)
    layer.params["b"][:] = rng.standard_normal(u)
    report = check_layer(layer, rng.standard_normal((n, d)), seed=seed, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_dense_on_sequences_transforms_the_last_axis():
    rng = np.random.default_rng(3)
    layer = Dense(4, seed=0)
    x = rng.standard_normal((2, 3, 5))
    out = layer.forward(x)
    np.testing.assert_allclose(out, x @ layer.params["W"] + layer.params["b"])
    report = check_layer(layer, x, seed=1, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_dense_forward_is_xw_plus_b_and_keeps_float32():
    layer = Dense(2, input_dim=3, seed=0)
    layer.params["W"][:] = np.arange(6.0).reshape(3, 2)
    layer.params["b"][:] = [1.0, -1.0]
    out = layer.forward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out, [[0 + 4 + 12 + 1, 1 + 6 + 15 - 1]])   # W = [[0,1],[2,3],[4,5]]
    lazy = Dense(4, seed=0)
    out32 = lazy.forward(np.ones((2, 3), dtype=np.float32))
    assert lazy.params["W"].dtype == np.float32 and out32.dtype == np.float32
    assert lazy.backward(np.ones((2, 4), dtype=np.float32)).dtype == np.float32


def test_dense_rejects_bad_arguments_with_clear_messages():
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="l2"):
        Dense(3, l2=-1)
    layer = Dense(2, input_dim=3)
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(N, 4\)"):
        layer.ensure_built((4,))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "linear", "leaky_relu", "softmax",
                                  "piecewise_linear"])
@pytest.mark.parametrize("seed", [0, 1])
def test_activation_gradients_match_finite_differences(name, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5)) * 2
    if name == "piecewise_linear":                     # keep away from its two kinks at ±0.5
        x = x[np.all(np.abs(np.abs(x) - 0.5) > 1e-3, axis=1)]
    report = check_layer(Activation(name), x, seed=seed, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "leaky_relu", "linear"])
def test_activation_layer_agrees_with_the_activations_module(name):
    x = np.linspace(-40, 40, 81).reshape(9, 9)
    f, _ = act.get(name)
    np.testing.assert_allclose(Activation(name).forward(x), f(x), rtol=1e-12, atol=0)
    out32 = Activation(name).forward(x.astype(np.float32))
    assert out32.dtype == np.float32


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_backward_is_g_times_the_slope_and_leaves_g_alone(name, dtype):
    """The slope from the kept output is a new array the product is written into: the result
    is exactly g · ψ'(x) from the activations module, in the input's dtype, and the incoming
    gradient is not modified. A gradient of another dtype is multiplied out of place."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((6, 7)) * 3).astype(dtype)
    x[0, :3] = 0.0
    g = rng.standard_normal((6, 7)).astype(dtype)
    g_before = g.copy()
    layer = Activation(name)
    layer.forward(x)
    got = layer.backward(g)
    _, df = act.get(name)
    np.testing.assert_array_equal(got, g * df(x).astype(dtype))
    assert got.dtype == dtype and got is not g
    np.testing.assert_array_equal(g, g_before)
    g64 = g.astype(np.float64)
    mixed = layer.backward(g64)
    assert mixed.dtype == np.float64
    np.testing.assert_array_equal(mixed, g64 * df(x).astype(dtype))


def test_relu_slope_from_its_output_is_a_mask_in_the_outputs_dtype():
    for dtype in (np.float32, np.float64):
        y = np.array([[0.0, 2.5], [1e-30, 0.0]], dtype=dtype)
        slope = act.relu_derivative_from_output(y)
        assert slope.dtype == dtype
        np.testing.assert_array_equal(slope, [[0.0, 1.0], [1.0, 0.0]])


def test_activation_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="relu"):
        Activation("swish")
    with pytest.raises(TypeError):
        Activation(3)


def test_softmax_layer_rows_sum_to_one_and_gradient_checks():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)) + np.array([[1000.0], [0.0], [-1000.0]])
    p = Softmax().forward(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, act.softmax(x))
    report = check_layer(Softmax(), rng.standard_normal((3, 4)), seed=1, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_with_a_fixed_mask_gradient_checks(seed):
    rng = np.random.default_rng(seed)
    layer = Dropout(0.3, seed=seed)
    x = rng.standard_normal((5, 6))
    layer.forward(x)
    layer.hold_mask = True                             # the same coin tosses for every call
    report = check_layer(layer, x, seed=seed, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_dropout_drops_at_the_rate_scales_and_is_off_at_evaluation():
    x = np.ones((200, 500))
    layer = Dropout(0.3, seed=0)
    out = layer.forward(x, training=True)
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.01                   # rate = probability of DROPPING
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7])   # inverted scaling 1/(1 − rate)
    assert abs(out.mean() - 1.0) < 0.01                # expectation kept
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    g = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(g), g)


def test_dropout_masks_are_reproducible_from_the_seed_and_change_each_call():
    x = np.ones((4, 10))
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first_a, first_b = a.forward(x), b.forward(x)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, a.forward(x))  # a new coin toss per iteration
    np.testing.assert_array_equal(a.backward(np.ones_like(x)), a.mask)


def test_dropout_rejects_rates_outside_0_1():
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="probability of dropping"):
            Dropout(bad)


def test_activation_takes_the_function_first_and_the_layer_name_as_every_layer_does():
    layer = Activation("tanh", name="h1_tanh")
    assert (layer.activation, layer.name) == ("tanh", "h1_tanh")
    assert Softmax(name="probs").name == "probs" and Softmax().activation == "softmax"


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear", "leaky_relu"])
def test_activation_layer_takes_integer_input_as_float64(name):
    x = np.array([[-2, 0, 3], [1, -1, 4]])
    layer = Activation(name)
    out = layer.forward(x)
    f = act.softmax if name == "softmax" else act.get(name)[0]
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, f(x.astype(float)), rtol=1e-15)
    dx = layer.backward(np.ones((2, 3)))
    assert dx.dtype == np.float64 and dx.shape == (2, 3)
