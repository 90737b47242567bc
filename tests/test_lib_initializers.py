"""Tests of nnlib.initializers: shapes, seeds, the stated scales, look-up by name."""
import math

import numpy as np
import pytest

from nnlib import initializers as init

RANDOM = ["normal", "uniform", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
          "lecun_normal"]


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 3, 3, 3)])
def test_shape_dtype_and_seeding(name, shape):
    f = init.get(name)
    a = f(shape, rng=0)
    assert a.shape == shape and a.dtype == np.float64
    np.testing.assert_array_equal(a, f(shape, rng=0))                  # int seed: reproducible
    np.testing.assert_array_equal(a, f(shape, np.random.default_rng(0)))  # = that Generator
    assert not np.array_equal(a, f(shape, rng=1))
    assert f(shape, rng=0, dtype=np.float32).dtype == np.float32


def test_zeros_and_constant():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.get("constant", value=0.1)((2,)), [0.1, 0.1])
    np.testing.assert_array_equal(init.constant(3, value=-1.0), [-1.0, -1.0, -1.0])


def test_compute_fans():
    assert init.compute_fans((3, 4)) == (3, 4)                 # W in y = x W: (fan_in, fan_out)
    assert init.compute_fans((7,)) == (7, 7)
    assert init.compute_fans((8, 3, 5, 5)) == (3 * 25, 8 * 25)  # (F, C, kh, kw)


def test_glorot_uniform_limit_and_variance():
    fan_in, fan_out = 300, 200
    w = init.glorot_uniform((fan_in, fan_out), rng=0)
    limit = math.sqrt(6 / (fan_in + fan_out))                  # √(6/500) = 0.1095445
    assert limit == pytest.approx(0.1095445, abs=1e-7)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit                      # it really uses the whole range
    assert w.var() == pytest.approx(2 / 500, rel=0.05)         # L²/3 = 6/500/3 = 0.004
    assert abs(w.mean()) < 0.002


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", math.sqrt(2 / (400 + 100))),             # 0.0632456
    ("he_normal", math.sqrt(2 / 400)),                         # 0.0707107
    ("he_uniform", math.sqrt(2 / 400)),                        # uniform with L = √(6/400)
    ("lecun_normal", math.sqrt(1 / 400)),                      # 0.05
])
def test_scales(name, std):
    w = init.get(name)((400, 100), rng=1)
    assert w.std() == pytest.approx(std, rel=0.03)
    if name == "he_uniform":
        assert np.abs(w).max() <= math.sqrt(6 / 400)


def test_explicit_fans_override_the_shape():
    w = init.he_normal((1000,), rng=0, fan_in=8)
    assert w.std() == pytest.approx(0.5, rel=0.05)             # √(2/8) = 0.5


def test_normal_and_uniform_parameters():
    w = init.get("normal", std=2.0, mean=1.0)((20000,), rng=0)
    assert w.mean() == pytest.approx(1.0, abs=0.05) and w.std() == pytest.approx(2.0, rel=0.03)
    u = init.get("uniform", limit=0.3)((20000,), rng=0)
    assert u.min() >= -0.3 and u.max() <= 0.3


def test_get_aliases_callables_and_errors():
    assert init.get("xavier_uniform") is init.glorot_uniform
    assert init.get("kaiming_normal") is init.he_normal
    assert init.get(init.zeros) is init.zeros
    with pytest.raises(ValueError, match="unknown initializer 'ones'.*glorot_uniform"):
        init.get("ones")
    with pytest.raises(TypeError, match=r"\['sigma'\]"):
        init.get("normal", sigma=1.0)
    with pytest.raises(TypeError, match="Generator"):
        init.normal((2,), rng="seed")
    with pytest.raises(ValueError, match=r"\(2, -1\)"):
        init.zeros((2, -1))
    with pytest.raises(ValueError, match="std"):
        init.normal((2,), std=-1.0)
