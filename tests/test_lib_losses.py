"""Tests of nnlib.losses: values computed by hand, gradients against centred differences."""
import warnings

import numpy as np
import pytest

from nnlib import activations as act
from nnlib import losses
from nnlib.gradcheck import numerical_gradient, rel_error

SEEDS = [0, 1, 2]
GRAD_BOUND = 1e-7          # rel_error bound for every loss gradient (float64, h = 1e-5)


# ---------------------------------------------------------------------------------------------
# Values by hand
# ---------------------------------------------------------------------------------------------
def test_mse_and_sum_squared_error_by_hand():
    y_pred, y_true = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])
    # errors 0, 1, 2 → squares 0, 1, 4 → sum 5
    assert losses.mse(y_pred, y_true) == pytest.approx(5 / 3)
    np.testing.assert_allclose(losses.mse_grad(y_pred, y_true), [0.0, 2 / 3, 4 / 3])
    assert losses.sum_squared_error(y_pred, y_true) == pytest.approx(2.5)
    np.testing.assert_allclose(losses.sum_squared_error_grad(y_pred, y_true), [0.0, 1.0, 2.0])
    # mean over ALL entries for a (2, 2) array: (1 + 0 + 0 + 9) / 4
    assert losses.mse([[1, 0], [0, 3]], np.zeros((2, 2))) == pytest.approx(2.5)


def test_binary_cross_entropy_by_hand_and_class_weights():
    p, y = np.array([0.9, 0.2]), np.array([1, 0])
    # −(ln 0.9 + ln 0.8) / 2 = (0.1053605 + 0.2231436) / 2 = 0.1642520
    assert losses.binary_cross_entropy(p, y) == pytest.approx(0.1642520, abs=1e-7)
    # notes 000: class_weight {0: 5, 1: 70} → (70·0.1053605 + 5·0.2231436) / 2 = 4.2454769
    assert losses.binary_cross_entropy(p, y, class_weight={0: 5, 1: 70}) == pytest.approx(
        4.2454769, abs=1e-6)
    # (N, 1) predictions with (N,) labels are accepted
    assert losses.binary_cross_entropy(p[:, None], y) == pytest.approx(0.1642520, abs=1e-7)
    # from logits: z = 0 gives p = ½ and ln 2 = 0.6931472 whatever the label
    assert losses.binary_cross_entropy_with_logits([0.0, 0.0], [1, 0]) == pytest.approx(0.6931472,
                                                                                       abs=1e-7)


def test_categorical_cross_entropy_minus_log_point_three():
    # notes 000: one example, p = [0.3, 0.1, 0.6], true class 0 → −ln 0.3 = 1.2039728
    p = np.array([0.3, 0.1, 0.6])
    for y in (0, np.array([1, 0, 0])):
        assert losses.categorical_cross_entropy(p, y) == pytest.approx(1.2039728, abs=1e-7)
    # the notes print 0.52, which is −log10 0.3 = 0.5228787: a logarithm in the wrong base
    assert losses.categorical_cross_entropy(p, 0) != pytest.approx(0.52, abs=0.01)
    assert -np.log10(0.3) == pytest.approx(0.52, abs=0.005)


def test_sparse_and_one_hot_labels_agree_and_class_weights():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    # −(ln 0.7 + ln 0.4) / 2 = (0.3566749 + 0.9162907) / 2 = 0.6364828
    assert losses.categorical_cross_entropy(p, [0, 2]) == pytest.approx(0.6364828, abs=1e-7)
    assert losses.categorical_cross_entropy(p, np.eye(3)[[0, 2]]) == pytest.approx(0.6364828,
                                                                                  abs=1e-7)
    # weights {2: 3}: (0.3566749 + 3·0.9162907) / 2 = 1.5527735
    assert losses.categorical_cross_entropy(p, [0, 2], class_weight={2: 3}) == pytest.approx(
        1.5527735, abs=1e-6)


def test_softmax_cross_entropy_gives_p_minus_y():
    # notes 000: p = [0.2, 0.3, 0.5], true class 1 → dL/dz = [0.2, −0.7, 0.5]
    z = np.log([[0.2, 0.3, 0.5]])
    loss, grad = losses.softmax_cross_entropy(z, [1])
    assert loss == pytest.approx(-np.log(0.3))
    np.testing.assert_allclose(grad, [[0.2, -0.7, 0.5]], atol=1e-12)
    # with two examples the gradient is divided by N = 2
    _, grad2 = losses.softmax_cross_entropy(np.vstack([z, z]), [1, 0])
    np.testing.assert_allclose(grad2, [[0.1, -0.35, 0.25], [-0.4, 0.15, 0.25]], atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_logit_forms_agree_with_probability_forms(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (6, 4))
    y = rng.integers(0, 4, 6)
    Y = np.eye(4)[y]
    assert losses.categorical_cross_entropy_from_logits(z, y) == pytest.approx(
        losses.categorical_cross_entropy(act.softmax(z), y), rel=1e-10)
    yb = rng.integers(0, 2, (6, 4)).astype(float)
    assert losses.binary_cross_entropy_with_logits(z, yb) == pytest.approx(
        losses.binary_cross_entropy(act.sigmoid(z), yb), rel=1e-10)
    # chaining dL/dp through the softmax Jacobian gives (p − y)/N
    p = act.softmax(z)
    chained = act.softmax_backward(p, losses.categorical_cross_entropy_grad(p, Y))
    np.testing.assert_allclose(chained, (p - Y) / 6, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Gradients against centred differences
# ---------------------------------------------------------------------------------------------
def _fd_check(loss, grad, x, *args, **kw):
    numeric = numerical_gradient(lambda: loss(x, *args, **kw), x)
    analytic = grad(x, *args, **kw)
    assert analytic.shape == x.shape
    err = rel_error(analytic, numeric)
    assert err < GRAD_BOUND, f"{loss.__name__}: rel error {err:.2e}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)])
def test_regression_loss_gradients(seed, shape):
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    _fd_check(losses.mse, losses.mse_grad, x, t)
    _fd_check(losses.sum_squared_error, losses.sum_squared_error_grad, x, t)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(6,), (5, 1), (4, 3)])
@pytest.mark.parametrize("class_weight", [None, {0: 5, 1: 70}])
def test_binary_loss_gradients(seed, shape, class_weight):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, shape)
    y = rng.integers(0, 2, shape).astype(float)
    _fd_check(losses.binary_cross_entropy, losses.binary_cross_entropy_grad, p, y, class_weight)
    z = rng.normal(0, 3, shape)
    _fd_check(losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_grad,
              z, y, class_weight)
    y_soft = rng.uniform(0, 1, shape)                       # soft targets work too
    _fd_check(losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_grad,
              z, y_soft, class_weight)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, k", [(1, 2), (5, 3), (4, 7)])
@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("class_weight", [None, {0: 2.0, 1: 0.5}])
def test_categorical_loss_gradients(seed, n, k, sparse, class_weight):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    y = labels if sparse else np.eye(k)[labels]
    p = rng.uniform(0.05, 0.95, (n, k))
    _fd_check(losses.categorical_cross_entropy, losses.categorical_cross_entropy_grad, p, y,
              class_weight)
    z = rng.normal(0, 3, (n, k))
    _fd_check(losses.categorical_cross_entropy_from_logits,
              losses.categorical_cross_entropy_from_logits_grad, z, y, class_weight)
    loss, grad = losses.softmax_cross_entropy(z, y, class_weight)
    assert loss == losses.categorical_cross_entropy_from_logits(z, y, class_weight)
    np.testing.assert_array_equal(grad, losses.categorical_cross_entropy_from_logits_grad(
        z, y, class_weight))


# ---------------------------------------------------------------------------------------------
# Stability, dtypes, errors, look-up
# ---------------------------------------------------------------------------------------------
def test_extreme_inputs_are_finite_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # z = 1000 with y = 0 costs max(z,0) − 0 + log(1 + e^−1000) = 1000
        assert losses.binary_cross_entropy_with_logits([1000.0, -1000.0], [0, 1]) == 1000.0
        g = losses.binary_cross_entropy_with_logits_grad([1000.0, -1000.0], [0, 1])
        np.testing.assert_allclose(g, [0.5, -0.5])
        # p = 0 for a positive example is clipped to 1e-12: −ln 1e-12 = 27.6310211
        assert losses.binary_cross_entropy([0.0], [1]) == pytest.approx(27.6310211)
        assert np.all(np.isfinite(losses.binary_cross_entropy_grad([0.0, 1.0], [1, 0])))
        assert losses.categorical_cross_entropy([[0.0, 1.0]], [0]) == pytest.approx(27.6310211)
        # logits [1000, 1001], class 0: log-sum-exp gives 1 + ln(1 + e^−1) = 1.3132617
        assert losses.categorical_cross_entropy_from_logits([[1000.0, 1001.0]], [0]) == \
            pytest.approx(1.3132617, abs=1e-7)


def test_float32_inputs_work():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32)
    z = rng.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1])
    assert losses.categorical_cross_entropy_grad(p, y).dtype == np.float32
    assert losses.categorical_cross_entropy_from_logits_grad(z, y).dtype == np.float32
    assert losses.binary_cross_entropy_grad(p, (p > 0.5)).dtype == np.float32
    assert losses.mse_grad(z, z * 0).dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(losses.binary_cross_entropy(np.float32([0.0, 1.0]), [1, 0]))


def test_bad_input_raises_with_shapes_and_values():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        losses.mse(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        losses.mse([np.nan, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        losses.categorical_cross_entropy_from_logits([[np.nan, 0.0]], [0])
    with pytest.raises(ValueError, match=r"0\.\.2.*\[0 3\]"):
        losses.categorical_cross_entropy(np.full((2, 3), 1 / 3), [0, 3])
    with pytest.raises(ValueError, match="whole numbers"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), [0.5, 1])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        losses.categorical_cross_entropy(np.full((2, 3), 1 / 3), np.eye(2))
    with pytest.raises(ValueError, match=r"\[0, 1\].*1\.5"):
        losses.binary_cross_entropy([1.5], [1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.binary_cross_entropy_with_logits([0.3], [2])
    with pytest.raises(ValueError, match=r"keys \[2\]"):
        losses.binary_cross_entropy([0.5], [1], class_weight={2: 1.0})
    with pytest.raises(TypeError, match="dict"):
        losses.binary_cross_entropy([0.5], [1], class_weight=[5, 70])


def test_get():
    pair = losses.get("mse")
    assert pair.loss is losses.mse and pair.grad is losses.mse_grad
    f, df = losses.get("sparse_categorical_crossentropy")
    assert f is losses.categorical_cross_entropy and df is losses.categorical_cross_entropy_grad
    assert losses.get("softmax_cross_entropy").grad is \
        losses.categorical_cross_entropy_from_logits_grad
    for name in losses.NAMES:
        assert callable(losses.get(name).loss)
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*mse"):
        losses.get("hinge")
    with pytest.raises(TypeError):
        losses.get(3)


@pytest.mark.parametrize("name", sorted(losses.NAMES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_value_and_grad_is_the_checked_pair_in_one_pass_and_keeps_the_dtype(name, dtype):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 3)).astype(dtype)
    if "categorical" in name or name == "softmax_cross_entropy":
        y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 5)]
        pred = z if "logits" in losses.get(name).loss.__name__ else \
            (np.exp(z) / np.exp(z).sum(1, keepdims=True)).astype(dtype)
    elif "binary" in name:
        y = rng.integers(0, 2, (5, 3)).astype(dtype)
        pred = z if "logits" in losses.get(name).loss.__name__ else (1 / (1 + np.exp(-z)))
    else:
        y, pred = rng.standard_normal((5, 3)).astype(dtype), z
    fn, fused = losses.value_and_grad(name)
    loss, grad = fn(pred, y)
    pair = losses.get(name)
    assert not fused
    assert loss == pair.loss(pred, y)
    np.testing.assert_array_equal(grad, pair.grad(pred, y))
    assert grad.dtype == dtype


def test_value_and_grad_through_an_output_layer_gives_p_minus_y_for_labels_and_one_hot():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((4, 3))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = np.array([0, 2, 1, 2])
    fn, fused = losses.value_and_grad("sparse_categorical_crossentropy", "softmax")
    assert fused
    for y in (labels, np.eye(3)[labels]):
        loss, grad = fn(p, y)
        assert loss == pytest.approx(losses.categorical_cross_entropy(p, labels), rel=1e-15)
        np.testing.assert_allclose(grad, (p - np.eye(3)[labels]) / 4, rtol=1e-15, atol=1e-17)
    s = 1 / (1 + np.exp(-z))
    b = (z > 0).astype(float)
    fn, fused = losses.value_and_grad("binary_crossentropy", "sigmoid")
    loss, grad = fn(s, b)
    assert fused and loss == pytest.approx(losses.binary_cross_entropy(s, b), rel=1e-15)
    np.testing.assert_allclose(grad, losses.binary_cross_entropy_with_logits_grad(z, b),
                               rtol=1e-12)
    assert losses.value_and_grad("mse", "softmax") == (losses.value_and_grad("mse")[0], False)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        losses.value_and_grad("hinge")
