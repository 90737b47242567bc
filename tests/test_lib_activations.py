"""Gradient tests of nnlib.activations: every derivative against centred finite differences.

Error measure throughout: rel = max|analytic − numeric| / max(|analytic| + |numeric|), the
relative error on the scale of the derivative as a whole (entries where the derivative is nearly
zero, e.g. a saturated sigmoid, only have absolute accuracy under finite differences).
Bound for every smooth case: rel < 1e-7 in float64 with h = 1e-5, inputs kept ≥ 1e-3 from kinks.
"""
import warnings

import numpy as np
import pytest

from nnlib import activations as act

H = 1e-5
BOUND = 1e-7
SEEDS = [0, 1, 2, 3]
SHAPES = [(7,), (4, 5), (2, 3, 4)]
KINKS = {"threshold": [0.0], "relu": [0.0], "leaky_relu": [0.0], "piecewise_linear": [-0.5, 0.5]}


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), 1e-12))


def _away_from_kinks(v, kinks, margin=1e-3):
    for k in kinks:
        close = np.abs(v - k) < margin
        v = np.where(close, k + 10 * margin, v)
    return v


def _fd_elementwise(f, v):
    """Centred differences of an elementwise function: every entry nudged at once."""
    return (f(v + H) - f(v - H)) / (2 * H)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["threshold", "linear", "piecewise_linear", "sigmoid", "tanh",
                                  "relu", "leaky_relu"])
def test_derivative_matches_finite_differences(name, shape, seed):
    f, df = act.get(name)
    rng = np.random.default_rng(seed)
    v = _away_from_kinks(rng.normal(0.0, 2.0, shape), KINKS.get(name, []))
    analytic = df(v)
    assert analytic.shape == v.shape
    assert _rel(analytic, _fd_elementwise(f, v)) < BOUND          # bound 1e-7


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("a", [0.5, 1.0, 2.5])
def test_sigmoid_slope_derivative(a, seed):
    v = np.random.default_rng(seed).normal(0.0, 3.0, (3, 6))
    numeric = _fd_elementwise(lambda x: act.sigmoid(x, a), v)
    assert _rel(act.sigmoid_derivative(v, a), numeric) < BOUND      # bound 1e-7
    assert act.sigmoid_derivative(0.0, a) == pytest.approx(a / 4)   # a·½·½


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.01, 0.2])
def test_leaky_relu_alpha_derivative(alpha, seed):
    v = _away_from_kinks(np.random.default_rng(seed).normal(0.0, 2.0, (5, 4)), [0.0])
    numeric = _fd_elementwise(lambda x: act.leaky_relu(x, alpha), v)
    assert _rel(act.leaky_relu_derivative(v, alpha), numeric) < BOUND   # bound 1e-7
    np.testing.assert_array_equal(act.leaky_relu_derivative(np.array([-2.0, 3.0]), alpha),
                                  [alpha, 1.0])


def test_derivative_values_at_and_beside_kinks():
    # the conventions the docstrings state: the value AT a kink
    assert act.relu_derivative(0.0) == 0.0
    assert act.leaky_relu_derivative(0.0) == 0.01
    np.testing.assert_array_equal(act.piecewise_linear_derivative(np.array([-0.5, 0.0, 0.5])),
                                  [0.0, 1.0, 0.0])
    assert act.threshold_derivative(0.0) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape, axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)])
def test_softmax_backward_matches_finite_differences(shape, axis, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, 2.0, shape)
    G = rng.standard_normal(shape)                 # upstream gradient: L = Σ softmax(v) · G
    numeric = np.zeros(shape)
    for ix in np.ndindex(shape):
        vp, vm = v.copy(), v.copy()
        vp[ix] += H
        vm[ix] -= H
        loss_p, loss_m = np.sum(act.softmax(vp, axis) * G), np.sum(act.softmax(vm, axis) * G)
        numeric[ix] = (loss_p - loss_m) / (2 * H)
    analytic = act.softmax_backward(act.softmax(v, axis), G, axis)
    assert _rel(analytic, numeric) < BOUND                          # bound 1e-7


def test_softmax_is_stable_at_1000_1001():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = act.softmax(np.array([1000.0, 1001.0]))
    # = softmax([0, 1]) = [1, e] / (1 + e) = [0.2689414, 0.7310586]
    np.testing.assert_allclose(p, [0.2689414213699951, 0.7310585786300049], rtol=1e-15)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)


def test_sigmoid_and_tanh_do_not_overflow():
    v = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # any RuntimeWarning fails the test
        s = act.sigmoid(v)
        ds = act.sigmoid_derivative(v)
        t = act.tanh_derivative(v)
        p = act.stochastic_probability(v, T=0.5)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(ds)) and ds[0] == 0.0 and ds[-1] == 0.0
    assert np.all(np.isfinite(t)) and np.all(np.isfinite(p))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_sigmoid_in_place_is_the_sigmoid_written_over_its_input(dtype, rtol):
    v = np.linspace(-30, 30, 121).astype(dtype)
    expected = act.sigmoid(v.astype(np.float64))
    w = v.copy()
    with np.errstate(all="raise"):
        out = act.sigmoid_in_place(w)
    with np.errstate(all="raise", over="ignore", under="ignore"):   # what its callers silence
        big = act.sigmoid_in_place(np.array([-1e4, 1e4], dtype=dtype))
    assert out is w and out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=np.finfo(dtype).eps / 2)
    np.testing.assert_array_equal(big, [0.0, 1.0])


def test_derivatives_from_the_output_equal_the_derivatives_from_the_input():
    v = np.linspace(-4, 4, 33)
    for name, from_output in act.DERIVATIVES_FROM_OUTPUT.items():
        f, df = act.get(name)
        np.testing.assert_allclose(from_output(f(v)) * np.ones_like(v), df(v), rtol=1e-12,
                                   atol=1e-15, err_msg=name)


@pytest.mark.parametrize("shape", [(64, 10), (127, 16), (128, 16), (128, 10), (140, 17),
                                   (5, 64, 3), (300, 1), (1, 10), (7,), (3, 200, 10)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_along_axis_is_numpys_maximum_exactly(shape, dtype):
    """Many short rows (at least 128) are reduced down the transposed copy, fewer by numpy:
    the same numbers either way, nan and ±inf too, on every axis and on strided inputs."""
    rng = np.random.default_rng(sum(shape))
    v = rng.standard_normal(shape).astype(dtype)
    v.flat[::11] = np.nan
    v.flat[1::13] = -np.inf
    v.flat[2::17] = np.inf
    for x in (v, v.T, v[..., ::2]):
        for axis in range(-x.ndim, x.ndim):
            got, expected = act.max_along_axis(x, axis), x.max(axis=axis, keepdims=True)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected, err_msg=f"{x.shape} axis {axis}")


def test_softmax_of_many_short_rows_matches_the_row_by_row_formula():
    v = np.random.default_rng(3).standard_normal((1000, 10)) * 30
    expected = np.exp(v - v.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(act.softmax(v), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_float_array_versions_are_the_functions_themselves(dtype):
    """What a layer calls gives the same numbers, dtype and shape as the public function."""
    v = (np.random.default_rng(5).standard_normal((6, 7)) * 4).astype(dtype)
    for name, f in act.ON_FLOAT_ARRAYS.items():
        public = act.softmax if name == "softmax" else act.get(name)[0]
        got, expected = f(v), public(v)
        assert got.dtype == expected.dtype == dtype and got.shape == v.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert act.ON_FLOAT_ARRAYS["linear"](v) is v                 # the identity, not a copy
    np.testing.assert_array_equal(v, (np.random.default_rng(5).standard_normal((6, 7)) * 4)
                                  .astype(dtype))                # the input is left as it was


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_on_arrays_gives_the_bits_of_the_maximum_with_zero(dtype):
    """The layers' ReLU compares with a kept array of zeros: the same bits as max(v, 0), signed
    zeros, nan and infinities included, for every shape, and the kept zeros cannot change."""
    rng = np.random.default_rng(9)
    for shape in [(5,), (3, 4), (2, 3, 4), (64, 128), ()]:
        v = rng.standard_normal(shape).astype(dtype)
        flat = v.reshape(-1)
        flat[::5], flat[1::7], flat[2::11], flat[3::13] = -0.0, np.nan, np.inf, -np.inf
        for f in (act.ON_FLOAT_ARRAYS["relu"], act.relu):
            got = np.asarray(f(v), dtype=dtype)        # (relu gives a Python float for 0-d)
            expected = np.maximum(v, 0.0)
            assert got.dtype == dtype and got.shape == v.shape
            assert got.tobytes() == expected.tobytes(), (f, shape)
    zeros = act._zeros((3, 4), np.dtype(dtype))
    with pytest.raises(ValueError, match="read-only"):
        zeros[0, 0] = 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_negated_is_the_sigmoid_of_minus_its_input_in_place(dtype):
    u = np.linspace(-40, 40, 161).astype(dtype)
    w = u.copy()
    with np.errstate(all="raise", over="ignore", under="ignore"):
        out = act.sigmoid_of_negated_in_place(w)
        expected = act.sigmoid_in_place(-u)
    assert out is w and out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    rtol = 2e-7 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out, act.sigmoid(-u.astype(np.float64)), rtol=rtol,
                               atol=np.finfo(dtype).tiny)
