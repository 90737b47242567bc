"""Models (lectures 10, 13, 15, 18): Sequential and functional models, one training loop,
gradient accumulation, callbacks, entry checks, and the two accuracy targets.

Gradient checks compare the whole model's backpropagated gradient with centred finite
differences in float64 (check_model, h = 1e-5); the bound on the relative error is stated in
each test.
"""
import time

import numpy as np
import pytest

from nnlib import data, losses, optimizers
from nnlib.callbacks import EarlyStopping, History, LearningRateScheduler, ProgressBar
from nnlib.layers import Activation, BatchNorm, Conv2D, Dense, Dropout, Flatten, LSTM, MaxPool2D, Softmax
from nnlib.models import Input, Model, Sequential, check_model
from nnlib.models import objectives

TOL = 1e-7


def mlp(seed=0, hidden=8, k=3, extra=()):
    return Sequential([Dense(hidden, seed=seed), Activation("tanh"), *extra,
                       Dense(k, seed=seed + 1), Softmax()])


def two_input_two_output(seed=0):
    """The notes' functional model (notes 000): Input(11), Input(5); Dense 16 → 4 → softmax 4
    on the first branch, Dense 4 → 1 (linear) on the second."""
    inp1, inp2 = Input(11, name="a"), Input(5, name="b")
    h1 = Activation("relu")(Dense(16, seed=seed)(inp1))
    h2 = Activation("tanh")(Dense(4, seed=seed + 1)(h1))
    out1 = Softmax(name="class")(Dense(4, seed=seed + 2)(h2))
    h3 = Activation("tanh")(Dense(4, seed=seed + 3)(inp2))
    out2 = Dense(1, seed=seed + 4, name="value")(h3)
    return Model(inputs=[inp1, inp2], outputs=[out1, out2])


def two_input_data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X1, X2 = rng.standard_normal((n, 11)), rng.standard_normal((n, 5))
    y1 = (X1[:, :4].argmax(axis=1))
    y2 = X2.sum(axis=1, keepdims=True)
    return [X1, X2], [y1, y2]


# --------------------------------------------------------------------------------------------
# Whole-model gradient checks
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_check_model_on_an_mlp_with_l2_batchnorm_and_dropout(seed):
    rng = np.random.default_rng(seed)
    # (batch norm after the activation: right after a Dense layer it would cancel the bias,
    # whose gradient is then exactly 0 and can only be compared up to rounding noise)
    model = Sequential([Dense(6, l2=0.01, seed=seed), Activation("tanh"), BatchNorm(),
                        Dropout(0.3, seed=seed), Dense(3, l2=0.02, seed=seed + 1), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer="sgd")
    X, y = rng.standard_normal((7, 4)), rng.integers(0, 3, 7)
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7
    assert len(report.errors) == 6                     # W, b, γ, β, W, b


@pytest.mark.parametrize("loss,k,targets", [
    ("mse", 2, "real"), ("binary_cross_entropy_with_logits", 1, "binary"),
    ("softmax_cross_entropy", 3, "labels"), ("sum_squared_error", 2, "real")])
def test_check_model_for_each_kind_of_loss(loss, k, targets):
    rng = np.random.default_rng(3)
    model = Sequential([Dense(5, seed=0), Activation("sigmoid"), Dense(k, seed=1)])
    model.compile(loss=loss, optimizer="sgd")
    X = rng.standard_normal((6, 3))
    y = {"real": rng.standard_normal((6, k)), "binary": rng.integers(0, 2, (6, 1)),
         "labels": rng.integers(0, k, 6)}[targets]
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


@pytest.mark.parametrize("head,loss,k", [
    (Activation("sigmoid"), "binary_cross_entropy", 1),       # fused: (p − y)/N at the logits
    (Softmax(), "mse", 3),                                     # not fused: softmax's backward
    (Activation("tanh"), "mse", 2)])
def test_check_model_with_and_without_a_fused_output_activation(head, loss, k):
    rng = np.random.default_rng(7)
    model = Sequential([Dense(4, seed=0), Activation("relu"), Dense(k, seed=1), head])
    model.compile(loss=loss, optimizer="sgd")
    assert model.objectives[0].fused == (loss == "binary_cross_entropy")
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 2, (6, 1)) if k == 1 else rng.uniform(0, 1, (6, k))
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_check_model_on_a_small_cnn_and_an_lstm():
    rng = np.random.default_rng(4)
    cnn = Sequential([Conv2D(2, 3, padding=1, seed=0), Activation("relu"), MaxPool2D(2),
                      Flatten(), Dense(3, seed=1), Softmax()])
    cnn.compile(loss="categorical_cross_entropy", optimizer="sgd")
    report = check_model(cnn, rng.standard_normal((3, 1, 4, 4)), rng.integers(0, 3, 3), tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7
    rnn = Sequential([LSTM(3, seed=0), Dense(1, seed=1)])
    rnn.compile(loss="mse", optimizer="sgd")
    report = check_model(rnn, rng.standard_normal((2, 4, 2)), rng.standard_normal(2), tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_check_model_on_the_two_input_two_output_model_with_loss_weights():
    model = two_input_two_output()
    model.compile(loss=["categorical_cross_entropy", "mse"], optimizer="sgd",
                  loss_weights=[1.0, 0.5])
    X, y = two_input_data(6)
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


# --------------------------------------------------------------------------------------------
# The functional model of the notes
# --------------------------------------------------------------------------------------------
def test_two_output_loss_is_j1_plus_j2_and_the_model_trains():
    model = two_input_two_output()
    model.compile(loss=["categorical_cross_entropy", "mse"], optimizer=optimizers.Adam(0.01),
                  metrics=["accuracy"])
    X, y = two_input_data(64)
    p, v = model.predict(X)
    assert p.shape == (64, 4) and v.shape == (64, 1)
    J1 = losses.categorical_cross_entropy(p, y[0])
    J2 = losses.mse(v, y[1])
    ev = model.evaluate(X, y)
    assert ev["loss"] == pytest.approx(J1 + J2, rel=1e-12)
    assert ev["class_loss"] == pytest.approx(J1, rel=1e-12)
    assert ev["value_loss"] == pytest.approx(J2, rel=1e-12)
    hist = model.fit(X, y, epochs=60, batch_size=16)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert "class_accuracy" in hist.history and "value_accuracy" not in hist.history
    model.compile(loss=["categorical_cross_entropy", "mse"], optimizer="sgd",
                  loss_weights=[2.0, 0.5])
    p, v = model.predict(X)
    expected = 2 * losses.categorical_cross_entropy(p, y[0]) + 0.5 * losses.mse(v, y[1])
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)


def _grads(model, X, y, weights):
    model.compile(loss=["categorical_cross_entropy", "mse"], optimizer="sgd",
                  loss_weights=weights)
    xs, ys, _ = model._prepare(X, y)
    model._find_trainable()
    model._loss_and_backward(xs, ys)
    return [g.copy() for g in model._gradients()]


def test_a_trunk_shared_by_two_heads_gets_the_sum_of_their_gradients():
    inp = Input(3)
    trunk = Dense(5, seed=0)
    h = Activation("tanh")(trunk(inp))
    out1 = Softmax()(Dense(2, seed=1)(h))
    out2 = Dense(1, seed=2)(h)
    model = Model(inp, [out1, out2])
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), [rng.integers(0, 2, 8), rng.standard_normal(8)]
    both, only1, only2 = (_grads(model, X, y, w) for w in ([1, 1], [1, 0], [0, 1]))
    # dL/dW_trunk = dJ1/dW_trunk + dJ2/dW_trunk (slots 0 and 1 are the trunk's W and b)
    for i in (0, 1):
        np.testing.assert_allclose(both[i], only1[i] + only2[i], rtol=1e-12, atol=1e-15)
        assert np.abs(only1[i]).max() > 0 and np.abs(only2[i]).max() > 0


def test_a_layer_called_twice_gets_the_sum_of_the_gradients_of_both_calls():
    a, b = Input(4, name="left"), Input(4, name="right")
    shared = Dense(3, seed=0, name="shared")
    out1 = Dense(1, seed=1)(Activation("tanh")(shared(a)))
    out2 = Dense(1, seed=2)(Activation("tanh")(shared(b)))
    model = Model([a, b], [out1, out2])
    assert [layer.name for layer in model.layers].count("shared") == 1
    rng = np.random.default_rng(1)
    X = [rng.standard_normal((5, 4)), rng.standard_normal((5, 4))]
    y = [rng.standard_normal(5), rng.standard_normal(5)]
    model.compile(loss="mse", optimizer="sgd")
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7
    model.compile(loss="mse", optimizer="sgd", loss_weights=[1, 0])
    xs, ys, _ = model._prepare(X, y)
    model._find_trainable()
    model._loss_and_backward(xs, ys)
    g_left = shared.grads["W"].copy()
    model.compile(loss="mse", optimizer="sgd", loss_weights=[0, 1])
    model._loss_and_backward(xs, ys)
    g_right = shared.grads["W"].copy()
    model.compile(loss="mse", optimizer="sgd")
    model._loss_and_backward(xs, ys)
    np.testing.assert_allclose(shared.grads["W"], g_left + g_right, rtol=1e-12)


def test_functional_model_rejects_a_graph_with_a_missing_input():
    a, b = Input(2), Input(3)
    out = Dense(1)(b)
    with pytest.raises(ValueError, match="not in inputs"):
        Model(a, out)
    with pytest.raises(TypeError, match="functional API"):
        Dense(2)(np.ones((3, 2)))


# --------------------------------------------------------------------------------------------
# Training modes and gradient accumulation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,updates", [(None, 1), (1, 30), (8, 4)])
def test_batch_online_and_minibatch_modes_make_the_right_number_of_updates(batch_size, updates):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 3, 30)
    model = mlp().compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.1))
    model.fit(X, y, epochs=2, batch_size=batch_size)
    assert model.optimizer.t == 2 * updates


@pytest.mark.parametrize("n,batch,k", [(32, 8, 4), (30, 8, 4), (24, 5, 5)])
def test_accumulating_k_batches_equals_one_k_times_larger_batch(n, batch, k):
    rng = np.random.default_rng(n)
    X, y = rng.standard_normal((n, 3)), rng.integers(0, 3, n)
    small = mlp(seed=5).compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    big = mlp(seed=5).compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    # one update from k accumulated micro-batches vs one update from the whole batch of k·batch
    xs, ys, _ = small._prepare(X, y)
    micro = [([xs[0][s:s + batch]], [ys[0][s:s + batch]]) for s in range(0, min(n, batch * k),
                                                                            batch)]
    m = min(n, batch * k)
    small._find_trainable()
    small._loss_and_backward([xs[0][:m]], [ys[0][:m]])
    big_grads = [g.copy() for g in small._gradients()]
    acc_loss, _ = small.accumulate_step(micro)
    acc_grads = small._gradients()
    for a, b in zip(acc_grads, big_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # and through fit: accumulate=k with batch_size=batch walks like batch_size=batch·k
    small = mlp(seed=5).compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    small.fit(X, y, epochs=3, batch_size=batch, accumulate=k, shuffle=False)
    big.fit(X, y, epochs=3, batch_size=batch * k, shuffle=False)
    assert small.optimizer.t == big.optimizer.t
    for ls, lb in zip(small.layers, big.layers):
        for name in ls.params:
            np.testing.assert_allclose(ls.params[name], lb.params[name], rtol=1e-12, atol=1e-14)


def test_l2_adds_its_penalty_to_the_loss_and_2_lambda_w_to_the_gradient():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))
    plain = Sequential([Dense(1, input_dim=3, seed=0)]).compile(loss="mse")
    reg = Sequential([Dense(1, input_dim=3, seed=0, l2=0.1)]).compile(loss="mse")
    W = reg.layers[0].params["W"]
    assert reg.evaluate(X, y)["loss"] == pytest.approx(plain.evaluate(X, y)["loss"]
                                                       + 0.1 * np.sum(W ** 2), rel=1e-12)
    g = []
    for model in (plain, reg):
        xs, ys, _ = model._prepare(X, y)
        model._find_trainable()
        model._loss_and_backward(xs, ys)
        g.append(model._gradients()[0])
    np.testing.assert_allclose(g[1] - g[0], 2 * 0.1 * W, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------
def test_early_stopping_stops_and_restores_the_best_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    X_val, y_val = X[:20], 1 - y[:20]                  # flipped labels: val loss only rises
    model = mlp(seed=0, k=2).compile(loss="categorical_cross_entropy",
                                     optimizer=optimizers.SGD(0.5))
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best=True)
    hist = model.fit(X, y, epochs=50, batch_size=10, validation_data=(X_val, y_val),
                     callbacks=[stop])
    epochs_run = len(hist.history["loss"])
    assert epochs_run < 50 and stop.stopped_epoch == epochs_run - 1
    assert stop.stopped_epoch == stop.best_epoch + 2  # patience 2: two epochs without progress
    best = min(hist.history["val_loss"])
    assert hist.history["val_loss"][stop.best_epoch] == best
    assert model.evaluate(X_val, y_val)["loss"] == pytest.approx(best, rel=1e-12)


def test_early_stopping_needs_the_monitored_value():
    model = mlp().compile(loss="categorical_cross_entropy")
    with pytest.raises(ValueError, match="val_loss.*validation_data"):
        model.fit(np.zeros((4, 2)), np.zeros(4, int), epochs=2, callbacks=[EarlyStopping()])


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    model = mlp().compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(1.0))
    X, y = np.zeros((4, 2)), np.zeros(4, int)
    hist = model.fit(X, y, epochs=3, callbacks=[LearningRateScheduler(lambda e: 0.1 / (e + 1))])
    np.testing.assert_allclose(hist.history["lr"], [0.1, 0.05, 0.1 / 3])
    keras_style = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    hist = model.fit(X, y, epochs=2, callbacks=[keras_style])
    np.testing.assert_allclose(hist.history["lr"], [0.1 / 6, 0.1 / 12])


def test_progress_bar_is_silent_under_pytest_and_when_quiet(capsys, monkeypatch):
    model = mlp().compile(loss="categorical_cross_entropy")
    model.fit(np.zeros((4, 2)), np.zeros(4, int), epochs=2, verbose=1)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("NNLIB_QUIET", "1")
    assert ProgressBar().enabled is False
    bar = ProgressBar()
    bar.enabled, bar.params = True, {"epochs": 2}      # forced on: what a terminal would see
    bar.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.25})
    assert capsys.readouterr().out == "epoch 1/2  loss 0.5000  val_loss 0.2500\n"


HANG_SECONDS = 120


# --------------------------------------------------------------------------------------------
# Reaching the accuracy targets (fixed seeds)
# --------------------------------------------------------------------------------------------
def test_mlp_reaches_97_percent_on_spirals():
    X, y = data.spirals(200, n_classes=3, seed=0)
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    model = Sequential([Dense(64, seed=0), Activation("relu"), Dense(64, seed=1),
                        Activation("relu"), Dense(3, seed=2), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(0.01),
                  metrics=["accuracy"])
    start = time.perf_counter()
    hist = model.fit(X_tr, y_tr, epochs=150, batch_size=32, validation_data=(X_val, y_val))
    # a hang catcher only (about 1 s on a quiet machine; `make bench` measures speed)
    assert time.perf_counter() - start < HANG_SECONDS
    assert hist.history["val_accuracy"][-1] >= 0.97
    assert model.evaluate(X_val, y_val)["accuracy"] >= 0.97


def test_mlp_reaches_95_percent_on_the_digits():
    X, y = data.load_digits()
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    model = Sequential([Dense(128, seed=0), Activation("relu"), Dense(10, seed=1), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(0.005),
                  metrics=["accuracy"])
    start = time.perf_counter()
    hist = model.fit(X_tr, y_tr, epochs=20, batch_size=64, validation_data=(X_val, y_val))
    # a hang catcher only (about 1 s on a quiet machine; `make bench` measures speed)
    assert time.perf_counter() - start < HANG_SECONDS
    assert hist.history["val_accuracy"][-1] >= 0.95
    assert (model.predict(X_val).argmax(axis=1) == y_val).mean() >= 0.95


def test_float32_data_trains_a_float32_model():
    X, y = data.spirals(50, seed=1)
    model = mlp(hidden=16).compile(loss="categorical_cross_entropy",
                                   optimizer=optimizers.Adam(0.01))
    model.fit(X.astype(np.float32), y, epochs=3, batch_size=16)
    assert model.dtype == np.float32
    assert all(p.dtype == np.float32 for layer in model.layers for p in layer.params.values())
    assert model.predict(X.astype(np.float32)).dtype == np.float32


# --------------------------------------------------------------------------------------------
# Entry checks, summary, lean loss kernels
# --------------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors():
    model = Sequential([Dense(4, input_dim=3, seed=0), Dense(2, seed=1), Softmax()])
    model.compile(loss="categorical_cross_entropy", metrics=["accuracy"])
    X, y = np.zeros((5, 3)), np.zeros(5, int)
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(N, 3\)"):
        model.fit(np.zeros((5, 4)), y)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*\(2, 1\)"):
        model.fit(bad, y)
    with pytest.raises(ValueError, match=r"0\.\.1.*\[2, 7\]"):
        model.fit(X, np.array([0, 1, 2, 7, 1]))
    with pytest.raises(ValueError, match=r"whole numbers"):
        model.fit(X, np.array([0, 0.5, 1, 1, 0]))
    with pytest.raises(ValueError, match=r"length 5"):
        model.fit(X, np.zeros(4, int))
    with pytest.raises(ValueError, match=r"one-hot.*\(N, 2\)"):
        model.fit(X, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match=r"at least one example.*\(0, 3\)"):
        model.fit(np.zeros((0, 3)), np.zeros(0, int))
    with pytest.raises(ValueError, match="X.reshape"):
        Sequential([Dense(1, input_dim=1)]).compile(loss="mse").fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="unknown loss"):
        Sequential([Dense(1)]).compile(loss="hinge")
    with pytest.raises(RuntimeError, match="compile"):
        Sequential([Dense(1)]).fit(X, y)
    with pytest.raises(ValueError, match="accuracy needs a classification"):
        Sequential([Dense(1)]).compile(loss="mse", metrics=["accuracy"])
    two = two_input_two_output().compile(loss=["categorical_cross_entropy", "mse"])
    Xs, ys = two_input_data(5)
    with pytest.raises(ValueError, match="2 of them"):
        two.fit(Xs[0], ys)
    with pytest.raises(ValueError, match=r"same number of examples"):
        two.fit([Xs[0], Xs[1][:3]], ys)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Sequential([Dense(1)]).compile(loss="binary_cross_entropy_with_logits").fit(
            X, np.array([0, 1, 2, 0, 1]))


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = two_input_two_output()
    text = model.summary()
    assert "Total trainable parameters: 309" in text   # 192 + 68 + 20 + 24 + 5
    assert "(N, 16)" in text and "class" in text and "Input" in text
    seq = Sequential([Dense(128, input_dim=64), Activation("relu"), Dense(10), Softmax()])
    assert "9,610" in seq.summary() and seq.count_params() == 64 * 128 + 128 + 128 * 10 + 10


def test_a_models_objectives_give_the_numbers_of_the_checked_losses():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 4))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 6)
    onehot = np.eye(4)[labels]
    for y in (labels, onehot):
        obj = objectives.resolve("categorical_cross_entropy")
        loss, g = obj(p, y)
        assert loss == pytest.approx(losses.categorical_cross_entropy(p, y), rel=1e-12)
        np.testing.assert_allclose(g, losses.categorical_cross_entropy_grad(p, y), rtol=1e-12)
        fused = objectives.resolve("categorical_cross_entropy", output_activation="softmax")
        loss, g = fused(p, y)
        assert loss == pytest.approx(losses.categorical_cross_entropy(p, y), rel=1e-12)
        np.testing.assert_allclose(g, (p - onehot) / 6, rtol=1e-12)
        loss, g = objectives.resolve("softmax_cross_entropy")(z, y)
        ref_loss, ref_g = losses.softmax_cross_entropy(z, y)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(g, ref_g, rtol=1e-12)
    t = rng.standard_normal((6, 4))
    for name in ("mse", "sum_squared_error"):
        loss, g = objectives.resolve(name)(z, t)
        pair = losses.get(name)
        assert loss == pytest.approx(pair.loss(z, t), rel=1e-12)
        np.testing.assert_allclose(g, pair.grad(z, t), rtol=1e-12)
    b = rng.integers(0, 2, (6, 4)).astype(float)
    for name, pred in (("binary_cross_entropy_with_logits", z),
                       ("binary_cross_entropy", 1 / (1 + np.exp(-z)))):
        loss, g = objectives.resolve(name)(pred, b)
        pair = losses.get(name)
        assert loss == pytest.approx(pair.loss(pred, b), rel=1e-12)
        np.testing.assert_allclose(g, pair.grad(pred, b), rtol=1e-10)
    p = 1 / (1 + np.exp(-z))
    loss, g = objectives.resolve("binary_cross_entropy", output_activation="sigmoid")(p, b)
    assert loss == pytest.approx(losses.binary_cross_entropy(p, b), rel=1e-12)
    np.testing.assert_allclose(g, losses.binary_cross_entropy_with_logits_grad(z, b), rtol=1e-10)


def test_class_weight_uses_the_weighted_loss():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 2)), np.array([0, 1, 0, 0, 0, 0, 1, 0])
    model = Sequential([Dense(1, seed=0)]).compile(loss="binary_cross_entropy_with_logits",
                                                  class_weight={0: 5, 1: 70})
    z = model.predict(X)
    expected = losses.binary_cross_entropy_with_logits(z, y.reshape(-1, 1),
                                                       class_weight={0: 5, 1: 70})
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)


def test_predict_is_deterministic_with_dropout_and_returns_history():
    X, y = data.spirals(30, seed=2)
    model = mlp(extra=(Dropout(0.5),)).compile(loss="categorical_cross_entropy",
                                               metrics=["accuracy"])
    hist = model.fit(X, y, epochs=2, batch_size=10, validation_data=(X, y))
    assert isinstance(hist, History) and model.history is hist
    assert sorted(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    np.testing.assert_allclose(model.predict(X, batch_size=7), model.predict(X), rtol=1e-12)


def test_single_output_accepts_one_element_lists_and_layers_stay_reusable():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    first = Dense(3, seed=0)
    model = Sequential([first, Activation("tanh"), Dense(1, seed=1)])
    model.compile(loss=["mse"], optimizer="sgd", loss_weights=[1.0])
    model.fit([X], [y], epochs=1)
    first.forward(X)                                    # dL/dx is skipped only when asked
    assert first.backward(np.ones((6, 3))).shape == (6, 2)
    assert first.backward(np.ones((6, 3)), input_grad=False) is None
    with pytest.raises(ValueError, match="2 entries but the model has 1"):
        model.compile(loss=["mse", "mse"])


def test_one_output_of_weight_one_is_the_weighted_sum_with_w_1():
    # a model with one output of weight 1 takes its loss and gradient straight from the
    # objective; any other weight goes through the weighted sum L = w J. With w = 0.5 (a power
    # of 2, so every product is exact) the loss and every gradient must be exactly half
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    results = {}
    for w in (1.0, 0.5):
        model = Sequential([Dense(5, seed=0), Activation("tanh"), Dense(3, seed=1), Softmax()])
        model.compile(loss="categorical_cross_entropy", optimizer="sgd", loss_weights=[w])
        xs, ys, _ = model._prepare(X, y)
        model._find_trainable()
        loss, _ = model._loss_and_backward(xs, ys)
        results[w] = loss, model.last_losses, [g.copy() for g in model._gradients()]
    (l1, per1, g1), (lh, perh, gh) = results[1.0], results[0.5]
    assert lh == 0.5 * l1 and per1 == perh == [l1]
    for a, b in zip(g1, gh):
        np.testing.assert_array_equal(b, 0.5 * a)


def test_scheduler_with_a_schedule_from_nnlib_schedules():
    from nnlib.schedules import cosine_decay
    model = mlp().compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(1.0))
    schedule = cosine_decay(0.1, total_epochs=3)
    hist = model.fit(np.zeros((4, 2)), np.zeros(4, int), epochs=4,
                     callbacks=[LearningRateScheduler(schedule)])
    np.testing.assert_allclose(hist.history["lr"], [schedule(e) for e in range(4)])


def test_accumulation_in_a_two_output_model_logs_each_output_and_matches_the_big_batch():
    X, y = two_input_data(16)
    a, b = two_input_two_output(seed=3), two_input_two_output(seed=3)
    for model in (a, b):
        model.compile(loss=["categorical_cross_entropy", "mse"], optimizer=optimizers.SGD(0.1))
    ha = a.fit(X, y, epochs=2, batch_size=4, accumulate=4, shuffle=False)
    hb = b.fit(X, y, epochs=2, batch_size=None)
    for key in ("loss", "class_loss", "value_loss"):
        np.testing.assert_allclose(ha.history[key], hb.history[key], rtol=1e-12)
    for la, lb in zip(a.layers, b.layers):
        for name in la.params:
            np.testing.assert_allclose(la.params[name], lb.params[name], rtol=1e-12, atol=1e-14)


def test_a_diverging_run_stops_with_a_clear_error():
    X = np.random.default_rng(0).standard_normal((20, 2)) * 100
    model = Sequential([Dense(1, seed=0)]).compile(loss="mse", optimizer=optimizers.SGD(10.0))
    with pytest.raises(FloatingPointError, match="learning rate"):
        with np.errstate(all="ignore"):
            model.fit(X, X[:, 0] * 50, epochs=50)


def test_a_frozen_layer_is_left_alone_by_training():
    X, y = data.spirals(20, seed=3)
    model = mlp(seed=2)
    model.layers[0].build((2,))
    frozen = model.layers[0].params["W"].copy()
    model.layers[0].trainable = False
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(0.5))
    head_before = model.layers[2].params["W"].copy() if model.layers[2].built else None
    model.fit(X, y, epochs=3)
    np.testing.assert_array_equal(model.layers[0].params["W"], frozen)
    assert head_before is None or not np.array_equal(model.layers[2].params["W"], head_before)
    report = check_model(model, X[:5], y[:5], tol=TOL)
    assert report.ok and all(not k.startswith(model.layers[0].name + ".") for k in report.errors)


def test_a_parameter_free_layer_can_be_shared_between_tensors_of_different_shapes():
    a, b = Input(3), Input(5)
    act = Activation("tanh")
    out = Dense(1, seed=0)(act(Dense(2, seed=1)(act(a))))
    out2 = Dense(1, seed=2)(act(b))
    model = Model([a, b], [out, out2]).compile(loss="mse")
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((4, 3)), rng.standard_normal((4, 5))]
    y = [rng.standard_normal(4), rng.standard_normal(4)]
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                      # bound: relative error < 1e-7


def test_a_layer_with_the_plain_backward_contract_can_read_the_data():
    """A layer written to lecture 13's contract, backward(grad_out), works as a model's first layer."""
    from nnlib.layers import Layer

    class Scale(Layer):
        def build(self, input_shape, dtype=np.float64):
            self.params = {"s": np.ones(input_shape, dtype=dtype)}
            self.grads = {"s": np.zeros(input_shape, dtype=dtype)}
            super().build(input_shape, dtype)

        def forward(self, x, training=True):
            self._cache = x
            return x * self.params["s"]

        def backward(self, grad_out):
            self.grads["s"] = (grad_out * self._cache).sum(axis=0)
            return grad_out * self.params["s"]

    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    model = Sequential([Scale(), Dense(1, seed=0)])
    model.compile(loss="mse", optimizer=optimizers.SGD(0.1))
    report = check_model(model, X, y)
    assert report.ok, report
    before = model.layers[0].params["s"].copy()
    model.fit(X, y, epochs=2)
    assert not np.array_equal(model.layers[0].params["s"], before)
