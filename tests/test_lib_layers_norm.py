"""LayerNorm (lecture 22): the formula, the functional pair and the layer, gradients.

Gradients are compared with centred finite differences in float64 (h = 1e-5); the bound on the
relative error is stated in each test. A correct gradient gives about 1e-10 here.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, check_parameters
from nnlib.layers import LayerNorm
from nnlib.layers.layernorm import layer_norm, layer_norm_backward

TOL = 1e-7


def test_each_vector_is_normalised_over_its_last_axis_then_scaled_and_shifted():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 5, 6))
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.standard_normal(6)
    out, _ = layer_norm(x, gamma, beta, eps=1e-5)
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)                      # biased, as in the formula
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)
    plain, _ = layer_norm(x, np.ones(6), np.zeros(6))
    np.testing.assert_allclose(plain.mean(axis=-1), 0.0, atol=1e-12)   # per example, not per batch
    np.testing.assert_allclose(plain.var(axis=-1), (var / (var + 1e-5))[..., 0], rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 6), (1, 1, 3)])
def test_functional_backward_matches_finite_differences_for_x_gamma_and_beta(shape):
    rng = np.random.default_rng(len(shape) + shape[-1])
    x = rng.normal(1.0, 2.0, size=shape)
    gamma = rng.uniform(0.5, 2.0, shape[-1])
    beta = rng.standard_normal(shape[-1])
    G = rng.standard_normal(shape)
    _, cache = layer_norm(x, gamma, beta)
    dx, dgamma, dbeta = layer_norm_backward(G, cache)

    def loss():
        return float(np.sum(layer_norm(x, gamma, beta)[0] * G))

    report = check_parameters(loss, {"x": x, "gamma": gamma, "beta": beta},
                              {"x": dx, "gamma": dgamma, "beta": dbeta}, tol=TOL)
    assert report.ok, str(report)                    # bound: relative error < 1e-7
    np.testing.assert_allclose(dx.sum(axis=-1), 0.0, atol=1e-10)     # the path through μ


@pytest.mark.parametrize("training", [True, False])
def test_layer_gradients_match_finite_differences(training):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 5))
    layer = LayerNorm()
    layer.forward(x)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, 5)
    layer.params["beta"][:] = rng.standard_normal(5)
    report = check_layer(layer, x, seed=2, tol=TOL, training=training)
    assert report.ok, str(report)                    # bound: relative error < 1e-7


def test_training_and_evaluation_agree_and_nothing_is_kept_between_batches():
    rng = np.random.default_rng(5)
    layer = LayerNorm()
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(10.0, 5.0, size=(7, 3, 4))
    layer.forward(b, training=True)
    np.testing.assert_allclose(layer.forward(a, training=True), layer.forward(a, training=False))
    assert layer.state == {} and set(layer.params) == {"gamma", "beta"}
    np.testing.assert_allclose(layer.forward(a[:1]), layer.forward(a)[:1])  # no batch mixing


def test_float32_is_kept_and_a_shift_of_the_input_changes_nothing():
    x = np.random.default_rng(6).normal(size=(4, 8)).astype(np.float32)
    layer = LayerNorm()
    out = layer.forward(x)
    assert out.dtype == np.float32 and layer.params["gamma"].dtype == np.float32
    np.testing.assert_allclose(layer.forward(x + 100.0), out, atol=1e-4)


def test_bad_settings_and_shapes_raise():
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(eps=0)
    layer = LayerNorm()
    layer.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="4"):
        layer.forward(np.ones((2, 5)))
