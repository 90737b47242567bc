"""Numerical conventions of the library that a student may trip over, each pinned by a test.

* A softmax (or sigmoid) output trained with cross-entropy: ``fit`` logs the loss of the
  probabilities clipped below at eps (1e-12 in float64, 1e-7 in float32), while the gradient
  handed to the layers is the exact (p − y)/N of the logits, never clipped.
* BatchNorm in training mode with one value per feature (a batch of 1 on (N, D) inputs): the
  batch variance is 0, so x̂ = 0, the output is β and dL/dx = 0; no error is raised (PyTorch
  raises one), because the graded exercise on batch norm checks exactly this case.
* Changing an optimizer's learning rate between steps takes effect at the next step; the
  momentum velocity keeps what it accumulated (v holds −η g terms with the old η, it is not
  rescaled).
"""
import numpy as np
import pytest

from nnlib import optimizers
from nnlib.layers import BatchNorm, Dense, Softmax
from nnlib.models import Sequential, objectives


@pytest.mark.parametrize("dtype, eps", [(np.float64, 1e-12), (np.float32, 1e-7)])
def test_fused_cross_entropy_logs_the_clipped_loss_but_passes_the_exact_gradient(dtype, eps):
    p = np.array([[0.0, 1.0], [0.25, 0.75]], dtype=dtype)    # example 0: certain and wrong
    y = np.array([0, 1])
    obj = objectives.resolve("categorical_cross_entropy", output_activation="softmax")
    loss, grad = obj(p, y)
    assert obj.fused
    assert loss == pytest.approx((-np.log(eps) - np.log(0.75)) / 2, rel=1e-6)
    expected = (p - np.eye(2, dtype=dtype)[y]) / 2                # (p − y)/N, not clipped
    np.testing.assert_array_equal(grad, expected)
    assert grad.dtype == dtype


def test_fused_binary_cross_entropy_logs_the_clipped_loss_but_passes_the_exact_gradient():
    p = np.array([[0.0], [0.5]])
    y = np.array([[1.0], [0.0]])
    obj = objectives.resolve("binary_cross_entropy", output_activation="sigmoid")
    loss, grad = obj(p, y)
    assert obj.fused
    assert loss == pytest.approx((-np.log(1e-12) - np.log(0.5)) / 2)
    np.testing.assert_array_equal(grad, (p - y) / 2)


def test_a_model_whose_softmax_saturates_keeps_a_finite_logged_loss_and_a_full_gradient():
    model = Sequential([Dense(2, input_dim=1, seed=0), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.1))
    model.layers[0].params["W"][...] = [[400.0, -400.0]]         # softmax → [1, 0] exactly
    x, y = np.array([[1.0]]), np.array([1])
    loss = model.evaluate(x, y)["loss"]
    assert loss == pytest.approx(-np.log(1e-12))
    model.train_step(*model._prepare(x, y)[:2])
    # the gradient of the logits was (p − y) = [1, −1]: W moved by 0.1 · x · [1, −1]
    np.testing.assert_allclose(model.layers[0].params["W"], [[399.9, -399.9]])


def test_batchnorm_with_one_value_per_feature_outputs_beta_and_passes_no_gradient():
    bn = BatchNorm(momentum=0.5)
    bn.build((3,))
    bn.params["gamma"][...] = [1.0, 2.0, 3.0]
    bn.params["beta"][...] = [0.5, -1.0, 2.0]
    x = np.array([[4.0, -2.0, 7.0]])
    out = bn.forward(x, training=True)
    np.testing.assert_array_equal(out, [[0.5, -1.0, 2.0]])
    dx = bn.backward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(dx, np.zeros((1, 3)))
    np.testing.assert_array_equal(bn.grads["gamma"], np.zeros(3))
    np.testing.assert_array_equal(bn.grads["beta"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(bn.state["running_var"], [0.5, 0.5, 0.5])  # 0.5·1 + 0.5·0
    np.testing.assert_array_equal(bn.state["running_mean"], 0.5 * x[0])


def test_batchnorm_on_one_image_normalises_over_its_pixels():
    bn = BatchNorm()
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    out = bn.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)   # unit variance, not 0


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(0.1), lambda: optimizers.Momentum(0.1),
                                  lambda: optimizers.Adam(0.1)])
def test_a_new_learning_rate_applies_from_the_next_step(make):
    a, b = make(), make()
    wa, wb = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    g = np.array([0.5, 0.25])
    a.step([wa], [g])
    b.step([wb], [g])
    b.lr = 0.05
    before = wb.copy()
    a.step([wa], [g])
    b.step([wb], [g])
    assert not np.allclose(wa, wb)          # the change took effect at once
    assert np.all(wb != before)


def test_sgd_steps_with_the_learning_rate_of_the_moment():
    opt = optimizers.SGD(0.1)
    w, g = np.array([1.0]), np.array([2.0])
    opt.step([w], [g])
    opt.lr = 0.01
    opt.step([w], [g])
    np.testing.assert_allclose(w, [1.0 - 0.2 - 0.02])


def test_momentum_keeps_its_velocity_when_the_learning_rate_changes():
    opt = optimizers.Momentum(lr=0.1, beta=0.9)
    w, g = np.array([0.0]), np.array([1.0])
    opt.step([w], [g])                     # v = −0.1, w = −0.1
    opt.lr = 0.01
    opt.step([w], [g])                     # v = 0.9·(−0.1) − 0.01 = −0.1, not rescaled
    np.testing.assert_allclose(opt.state[0]["v"], [-0.1])
    np.testing.assert_allclose(w, [-0.2])
