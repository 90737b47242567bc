"""BatchNorm (lecture 14): the notes' two steps, running statistics, gradients.

Gradients are compared with centred finite differences in float64; the bound on the relative
error is stated in each test.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer
from nnlib.layers import BatchNorm

TOL = 1e-7


def test_training_normalises_each_feature_then_scales_and_shifts():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(64, 4))
    bn = BatchNorm()
    out = bn.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)      # step 1: mean 0
    np.testing.assert_allclose(out.var(axis=0), x.var(0) / (x.var(0) + bn.eps), rtol=1e-12)
    bn.params["gamma"][:] = [1.0, 2.0, 0.5, 3.0]                         # step 2: γ ẑ + β
    bn.params["beta"][:] = [0.0, -1.0, 1.0, 4.0]
    out = bn.forward(x, training=True)
    z_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + bn.eps)
    np.testing.assert_allclose(out, z_hat * bn.params["gamma"] + bn.params["beta"], rtol=1e-12)


def test_running_statistics_update_and_are_used_at_evaluation():
    rng = np.random.default_rng(1)
    bn = BatchNorm(momentum=0.9)
    batches = [rng.normal(2.0, 0.5, size=(32, 3)) for _ in range(3)]
    mean, var = np.zeros(3), np.ones(3)
    for b in batches:
        bn.forward(b, training=True)
        mean = 0.9 * mean + 0.1 * b.mean(0)
        var = 0.9 * var + 0.1 * b.var(0)
    np.testing.assert_allclose(bn.state["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(bn.state["running_var"], var, rtol=1e-12)
    x = rng.normal(size=(5, 3))
    before = bn.state["running_mean"].copy()
    out = bn.forward(x, training=False)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + bn.eps), rtol=1e-12)
    np.testing.assert_array_equal(bn.state["running_mean"], before)      # evaluation: no update
    assert set(bn.params) == {"gamma", "beta"}                            # γ, β trainable


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients_match_finite_differences(shape, training):
    rng = np.random.default_rng(len(shape))
    bn = BatchNorm()
    x = rng.normal(1.0, 2.0, size=shape)
    bn.forward(x)                                  # builds; running stats move off 0/1
    bn.params["gamma"][:] = rng.uniform(0.5, 2.0, bn.params["gamma"].shape)
    bn.params["beta"][:] = rng.standard_normal(bn.params["beta"].shape)
    report = check_layer(bn, x, seed=11, tol=TOL, training=training)   # G independent of x
    assert report.ok, str(report)                  # bound: relative error < 1e-7


def test_convolutional_batchnorm_works_per_channel_and_keeps_float32():
    x = np.random.default_rng(3).normal(size=(4, 3, 5, 5)).astype(np.float32)
    bn = BatchNorm()
    out = bn.forward(x)
    assert bn.params["gamma"].shape == (3,) and out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)


def test_batchnorm_rejects_bad_settings():
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(eps=0)
    with pytest.raises(ValueError, match="axes"):
        BatchNorm().forward(np.ones((2, 2, 2, 2, 2)))
