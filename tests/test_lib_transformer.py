"""Residual connections in the functional API (``Add``), sequence pooling, the transformer
block, and a tiny transformer trained with the library's optimizers (lecture 22).

Gradients are compared with centred finite differences in float64 (h = 1e-5); the bound on the
relative error is stated in each test. dL/db_k of attention is exactly 0 (a softmax ignores a
constant added to a whole row): it is held to an absolute bound instead.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer
from nnlib.layers import (Activation, Add, Dense, Embedding, LayerNorm, MultiHeadAttention,
                          PositionalEmbedding, PositionalEncoding, SequencePool, Softmax,
                          TransformerBlock)
from nnlib.layers.attention import causal_mask
from nnlib.models import Input, Model, Sequential, check_model
from nnlib.optimizers import Adam

TOL = 1e-7


def assert_gradients_ok(report, analytic_bk):
    """Every relative error below TOL except attention's b_k, whose gradient must be 0."""
    others = {k: e for k, e in report.errors.items() if not k.endswith("b_k")}
    assert max(others.values()) < TOL, str(report)           # bound: relative error < 1e-7
    for g in analytic_bk:
        assert np.abs(g).max() < 1e-12


# -- Add and the functional API --------------------------------------------------------------
def test_add_sums_its_inputs_and_hands_each_the_same_gradient():
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 2, 4))
    add = Add()
    np.testing.assert_allclose(add.forward([a, b, c]), a + b + c)
    G = rng.standard_normal((2, 4))
    grads = add.backward(G)
    assert len(grads) == 3 and all(g is G for g in grads)


def test_a_residual_block_y_is_x_plus_f_of_x_in_the_functional_api():
    rng = np.random.default_rng(1)
    x = Input((3, 4))
    f = Dense(4, seed=0)
    y = Add()([x, f(x)])
    model = Model(x, y).compile(loss="mse", optimizer="sgd")
    X = rng.standard_normal((5, 3, 4))
    np.testing.assert_allclose(model.predict(X), X + X @ f.params["W"] + f.params["b"])
    report = check_model(model, X, rng.standard_normal((5, 3, 4)), tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7


def test_gradients_of_both_paths_add_up_through_a_stack_of_residual_blocks():
    rng = np.random.default_rng(2)
    inp = Input(3)
    h = Dense(4, seed=0)(inp)
    for i in range(3):                                        # h ← h + tanh(h W + b)
        h = Add()([h, Activation("tanh")(Dense(4, seed=i + 1)(h))])
    h2 = Add()([h, h])                                        # one tensor twice: 2h
    out = Softmax()(Dense(2, seed=9)(h2))
    model = Model(inp, out).compile(loss="categorical_cross_entropy", optimizer="sgd")
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    report = check_model(model, X, y, tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7
    assert "Add" in model.summary()


def test_merging_checks_what_it_is_called_on():
    a, b = Input((2, 4)), Input((2, 5))
    with pytest.raises(ValueError, match="same shape"):
        Add()([a, b])
    with pytest.raises(ValueError, match="two or more"):
        Add()([a])
    with pytest.raises(TypeError, match="list"):
        Add()(a)
    with pytest.raises(TypeError, match="list"):
        Add().forward(np.ones(3))
    with pytest.raises(TypeError):
        Dense(3)([a, a])                                      # an ordinary layer takes one


# -- sequence pooling ------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["mean", "last", "first"])
def test_sequence_pool_values_and_gradients(how):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4))
    layer = SequencePool(how)
    expected = {"mean": x.mean(1), "last": x[:, -1], "first": x[:, 0]}[how]
    np.testing.assert_allclose(layer.forward(x), expected)
    assert layer.compute_output_shape((5, 4)) == (4,)
    report = check_layer(layer, x, seed=1, tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7


# -- the transformer block -------------------------------------------------------------------
def _randomise(layer, rng, scale=0.5):
    for k in layer.params:
        layer.params[k][...] = rng.standard_normal(layer.params[k].shape) * scale
        if k.endswith("gamma"):
            layer.params[k] += 1.0


def test_block_is_pre_norm_attention_then_mlp_each_with_a_residual():
    rng = np.random.default_rng(4)
    block = TransformerBlock(2, d_ff=6, d_model=4, seed=0)
    _randomise(block, rng)
    x = rng.standard_normal((2, 5, 4))
    out = block.forward(x)
    ln1, ln2 = LayerNorm(), LayerNorm()
    attn = MultiHeadAttention(2, d_model=4)
    ff1, ff2 = Dense(6, input_dim=4), Dense(4, input_dim=6)
    for part, layer in (("ln1", ln1), ("ln2", ln2), ("attn", attn), ("ff1", ff1), ("ff2", ff2)):
        layer.forward(x if part != "ff2" else np.ones((1, 6)))          # build
        for k in layer.params:
            layer.params[k][...] = block.params[f"{part}.{k}"]
    h = x + attn.forward(ln1.forward(x))
    expected = h + ff2.forward(np.maximum(ff1.forward(ln2.forward(h)), 0))
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert block.attention_weights.shape == (2, 2, 5, 5)
    assert block.count_params() == 2 * 8 + 4 * 20 + (4 * 6 + 6) + (6 * 4 + 4)


@pytest.mark.parametrize("causal", [False, True])
def test_block_gradients_match_finite_differences(causal):
    rng = np.random.default_rng(5)
    block = TransformerBlock(2, d_ff=5, causal=causal, seed=1)
    x = rng.standard_normal((2, 4, 4))
    block.forward(x)
    _randomise(block, rng)
    report = check_layer(block, x, seed=2, tol=TOL)
    assert_gradients_ok(report, [block.grads["attn.b_k"]])


def test_the_block_equals_the_same_graph_built_with_add_in_the_functional_api():
    rng = np.random.default_rng(6)
    block = TransformerBlock(2, d_ff=8, d_model=4, causal=True, seed=0)
    _randomise(block, rng)
    x = Input((5, 4))
    h = Add()([x, block.attn(block.ln1(x))])
    f = block.ff2(block.act(block.ff1(block.ln2(h))))
    model = Model(x, Add()([h, f]))
    X = rng.standard_normal((3, 5, 4))
    np.testing.assert_allclose(model.predict(X), block.forward(X, training=False), rtol=1e-12)


def test_block_follows_astype_and_set_weights():
    rng = np.random.default_rng(7)
    model = Sequential([TransformerBlock(2, d_ff=8, seed=0), SequencePool(), Dense(1, seed=0)])
    X = rng.standard_normal((4, 3, 4))
    model.compile(loss="mse", optimizer="sgd").build((3, 4))
    saved = model.get_weights()
    before = model.predict(X)
    model.astype("float32")
    out32 = model.predict(X.astype(np.float32))
    assert out32.dtype == np.float32 and model.layers[0].attn.params["W_q"].dtype == np.float32
    np.testing.assert_allclose(out32, before, rtol=1e-4, atol=1e-5)
    model.astype("float64")
    model.fit(X, rng.standard_normal(4), epochs=2)
    assert not np.allclose(model.predict(X), before)
    model.set_weights(saved)
    np.testing.assert_allclose(model.predict(X), before, rtol=1e-12)


# -- a tiny transformer, end to end ----------------------------------------------------------
def tiny_transformer(vocab, T, D=8, classes=2, causal=False, positions="learned"):
    ids = Input(T)
    h = Embedding(vocab, D, seed=0)(ids)
    if positions == "learned":
        h = PositionalEmbedding(T, seed=1)(h)
    elif positions == "sinusoidal":
        h = PositionalEncoding()(h)
    h = TransformerBlock(2, d_ff=16, causal=causal, seed=2)(h)
    h = LayerNorm()(h)
    out = Softmax()(Dense(classes, seed=3)(SequencePool("last" if causal else "mean")(h)))
    return Model(ids, out)


@pytest.mark.parametrize("causal,positions", [(False, "learned"), (True, "sinusoidal")])
def test_whole_model_gradients_match_finite_differences(causal, positions):
    rng = np.random.default_rng(8)
    model = tiny_transformer(5, 4, D=4, causal=causal, positions=positions)
    model.compile(loss="categorical_cross_entropy", optimizer="sgd")
    X, y = rng.integers(0, 5, (3, 4)), rng.integers(0, 2, 3)
    for layer in model.layers:                                # a generic point, not the start
        _randomise(layer, rng)
    block = next(l for l in model.layers if isinstance(l, TransformerBlock))
    report = check_model(model, X, y, tol=TOL)
    model._loss_and_backward(*model._prepare(X, y)[:2])
    assert_gradients_ok(report, [block.grads["attn.b_k"]])


def order_task(rng, n, T=6):
    """Sequences of ids 3..5 holding one 1 and one 2; label: does the 1 come before the 2?"""
    X = rng.integers(3, 6, (n, T))
    for row in X:
        i, j = rng.choice(T, 2, replace=False)
        row[i], row[j] = 1, 2
    return X, (np.argmax(X == 1, axis=1) < np.argmax(X == 2, axis=1)).astype(int)


@pytest.mark.parametrize("positions", ["learned", None])
def test_a_tiny_transformer_learns_the_order_of_tokens_only_with_positions(positions):
    """Every sequence holds the same bag of words up to the order, so without positional
    information (attention and mean pooling ignore the order) the model stays at chance;
    with learnt positions it solves the task. Trained with the library's Adam via fit."""
    X, y = order_task(np.random.default_rng(9), 600)
    model = tiny_transformer(6, 6, D=16, positions=positions)
    model.compile(loss="categorical_cross_entropy", optimizer=Adam(lr=0.01), metrics=["accuracy"])
    history = model.fit(X[:500], y[:500], epochs=12, batch_size=50, seed=0)
    accuracy = model.evaluate(X[500:], y[500:])["accuracy"]
    if positions:
        assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
        assert accuracy > 0.95
    else:
        assert accuracy < 0.7
