"""Scaled dot-product attention, masks and multi-head attention (lecture 22).

Values against the formulas written out, masks (causal, padding, fully masked rows give 0 and
never NaN), and every gradient (queries, keys, values, the eight parameters) against centred
finite differences in float64 (h = 1e-5); the bound on the relative error is stated in each
test. dL/db_k is exactly 0 (a softmax ignores a constant added to a whole row), so it is
checked with an absolute bound instead.
"""
import warnings

import numpy as np
import pytest

from nnlib.gradcheck import check_layer, check_parameters, numerical_gradient
from nnlib.layers import MultiHeadAttention
from nnlib.layers.attention import (causal_mask, masked_softmax, merge_heads, padding_mask,
                                    scaled_dot_product, scaled_dot_product_backward,
                                    split_heads)

TOL = 1e-7


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# -- masks and the masked softmax ------------------------------------------------------------
def test_causal_and_padding_masks():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(causal_mask(2, 3), [[1, 0, 0], [1, 1, 0]])
    pad = padding_mask([2, 3], 4)
    assert pad.shape == (2, 1, 4) and pad.dtype == bool
    np.testing.assert_array_equal(pad[:, 0], [[1, 1, 0, 0], [1, 1, 1, 0]])
    assert (causal_mask(4) & pad).shape == (2, 4, 4)


def test_masked_softmax_gives_masked_entries_exactly_zero_and_rows_sum_to_one():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((3, 4, 5)) * 1e3            # large scores do not overflow
    mask = rng.random((3, 4, 5)) < 0.7
    mask[..., 0] = True
    w = masked_softmax(scores, mask)
    assert np.all(w[~mask] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(masked_softmax(scores[0]), softmax(scores[0]), rtol=1e-12)


def test_a_fully_masked_row_gives_zero_weights_without_nan_or_warnings():
    scores = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # no "invalid value" warning
        w = masked_softmax(scores, mask)
        out, weights = scaled_dot_product(np.ones((2, 2)), np.ones((3, 2)), np.ones((3, 2)),
                                          mask)
    np.testing.assert_array_equal(w[1], 0.0)
    np.testing.assert_allclose(w[0], softmax(np.array([1.0, 3.0]))[[0, 0, 1]] * [1, 0, 1])
    assert np.isfinite(out).all() and np.all(out[1] == 0) and np.all(weights[1] == 0)


# -- scaled dot-product attention ------------------------------------------------------------
def test_attention_is_softmax_of_scaled_scores_times_values():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, n, d)) for n, d in ((3, 4), (5, 4), (5, 6)))
    out, w = scaled_dot_product(q, k, v)
    assert out.shape == (2, 3, 6) and w.shape == (2, 3, 5)
    for n in range(2):                                        # one example at a time, by hand
        W = softmax(q[n] @ k[n].T / np.sqrt(4))
        np.testing.assert_allclose(w[n], W, rtol=1e-12)
        np.testing.assert_allclose(out[n], W @ v[n], rtol=1e-12)
    np.testing.assert_allclose(scaled_dot_product(q, k, v, scale=1.0)[1],
                               softmax(q @ k.transpose(0, 2, 1)), rtol=1e-12)


def test_causal_attention_does_not_see_the_future():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 6, 3)) for _ in range(3))
    out, w = scaled_dot_product(q, k, v, causal=True)
    np.testing.assert_array_equal(w[0][~causal_mask(6)], 0.0)
    np.testing.assert_allclose(out, scaled_dot_product(q, k, v, mask=causal_mask(6))[0])
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:] += 5.0                                          # change positions 4 and 5
    v2[:, 4:] -= 5.0
    out2, _ = scaled_dot_product(q, k2, v2, causal=True)
    np.testing.assert_allclose(out2[:, :4], out[:, :4], rtol=1e-12)   # 0..3 unaffected


def test_dividing_by_sqrt_d_keeps_the_scores_spread_at_one():
    rng = np.random.default_rng(3)
    for d in (4, 64, 256):
        q, k = rng.standard_normal((2000, d)), rng.standard_normal((2000, d))
        s = np.sum(q * k, axis=1)
        assert abs(s.var() / d - 1) < 0.15 and abs((s / np.sqrt(d)).var() - 1) < 0.15


MASKS = {
    "none": lambda N, Tq, Tk: None,
    "causal": lambda N, Tq, Tk: causal_mask(Tq, Tk),
    "padding": lambda N, Tq, Tk: padding_mask(np.arange(N) % Tk + 1, Tk),
    "padding_with_an_empty_sequence": lambda N, Tq, Tk: padding_mask(np.arange(N) % Tk, Tk),
    "causal_and_padding": lambda N, Tq, Tk: causal_mask(Tq, Tk) & padding_mask(
        np.full(N, Tk - 1), Tk),
}


@pytest.mark.parametrize("kind", list(MASKS))
@pytest.mark.parametrize("heads", [None, 2])
def test_attention_gradients_match_finite_differences(kind, heads):
    rng = np.random.default_rng(len(kind) + (heads or 0))
    N, Tq, Tk, d, dv = 3, 4, 4, 3, 2
    lead = (N,) if heads is None else (N, heads)
    q = rng.standard_normal(lead + (Tq, d))
    k = rng.standard_normal(lead + (Tk, d))
    v = rng.standard_normal(lead + (Tk, dv))
    mask = MASKS[kind](N, Tq, Tk)
    if mask is not None and heads is not None and mask.ndim == 3:
        mask = mask[:, None]                                  # (N, 1, Tq, Tk) for the heads
    G = rng.standard_normal(lead + (Tq, dv))
    out, w = scaled_dot_product(q, k, v, mask)
    dq, dk, dv_ = scaled_dot_product_backward(G, (q, k, v, w))

    def loss():
        return float(np.sum(scaled_dot_product(q, k, v, mask)[0] * G))

    report = check_parameters(loss, {"q": q, "k": k, "v": v}, {"q": dq, "k": dk, "v": dv_},
                              tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7
    assert np.isfinite(out).all()
    if kind == "padding_with_an_empty_sequence":              # example 0 attends to nothing
        assert np.all(out[0] == 0) and np.all(dq[0] == 0) and np.all(dk[0] == 0)


def test_attention_gradients_with_a_scale_and_different_lengths():
    rng = np.random.default_rng(4)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), \
        rng.standard_normal((2, 5, 3))
    G = rng.standard_normal((2, 3, 3))
    out, w = scaled_dot_product(q, k, v, causal=True, scale=0.7)
    grads = scaled_dot_product_backward(G, (q, k, v, w, 0.7))
    report = check_parameters(
        lambda: float(np.sum(scaled_dot_product(q, k, v, causal=True, scale=0.7)[0] * G)),
        {"q": q, "k": k, "v": v}, dict(zip("qkv", grads)), tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7


def test_masks_must_be_boolean_and_fit_the_scores():
    q = np.ones((2, 3, 4))
    with pytest.raises(TypeError, match="boolean"):
        scaled_dot_product(q, q, q, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product(q, q, q, mask=np.ones((4, 4), dtype=bool))
    with pytest.raises(ValueError, match="does not broadcast"):      # would grow the batch
        scaled_dot_product(q, q, q, mask=np.ones((5, 2, 3, 3), dtype=bool))


# -- multi-head attention --------------------------------------------------------------------
def test_split_and_merge_heads_cut_the_columns_into_blocks():
    x = np.arange(2 * 3 * 6.0).reshape(2, 3, 6)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(h[:, 1], x[:, :, 2:4])      # head 1 = columns 2, 3
    np.testing.assert_array_equal(merge_heads(h), x)


def test_multi_head_attention_is_the_formula_head_by_head():
    rng = np.random.default_rng(5)
    layer = MultiHeadAttention(2, d_model=4, seed=0)
    for k in layer.params:
        layer.params[k][...] = rng.standard_normal(layer.params[k].shape)
    x = rng.standard_normal((3, 5, 4))
    out = layer.forward(x)
    p = layer.params
    Q, K, V = (x @ p[f"W_{c}"] + p[f"b_{c}"] for c in "qkv")
    heads = []
    for i in range(2):
        cols = slice(2 * i, 2 * i + 2)
        W = softmax(Q[..., cols] @ K[..., cols].transpose(0, 2, 1) / np.sqrt(2))
        np.testing.assert_allclose(layer.attention_weights[:, i], W, rtol=1e-12)
        heads.append(W @ V[..., cols])
    np.testing.assert_allclose(out, np.concatenate(heads, -1) @ p["W_o"] + p["b_o"], rtol=1e-12)


def _check_attention(layer, x, seed):
    """check_layer, with dL/db_k (exactly 0) held to an absolute bound."""
    report = check_layer(layer, x, seed=seed, tol=TOL)
    others = {k: e for k, e in report.errors.items() if k != "b_k"}
    assert max(others.values()) < TOL, str(report)           # bound: relative error < 1e-7
    assert np.abs(layer.grads["b_k"]).max() < 1e-12
    rng = np.random.default_rng(seed)
    G = rng.standard_normal(layer.forward(x).shape)
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x) * G)),
                                 layer.params["b_k"])
    assert np.abs(numeric).max() < 1e-8


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "empty_row"])
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_multi_head_gradients_match_finite_differences(mask_kind, heads):
    rng = np.random.default_rng(heads)
    N, T, D = 2, 4, 4
    layer = MultiHeadAttention(heads, causal=mask_kind == "causal", seed=heads)
    x = rng.standard_normal((N, T, D))
    layer.forward(x)
    for k in layer.params:
        layer.params[k][...] = rng.standard_normal(layer.params[k].shape) * 0.7
    if mask_kind == "padding":
        layer.mask = padding_mask([2, 4], T)
    elif mask_kind == "empty_row":
        layer.mask = padding_mask([0, 3], T)                   # example 0 attends to nothing
    _check_attention(layer, x, seed=heads)
    if mask_kind == "empty_row":
        np.testing.assert_allclose(layer.forward(x)[0], np.broadcast_to(layer.params["b_o"],
                                                                        (T, D)))


def test_cross_attention_gradients_for_query_key_and_value():
    rng = np.random.default_rng(6)
    layer = MultiHeadAttention(2, d_model=4, seed=1)
    for k in layer.params:
        layer.params[k][...] = rng.standard_normal(layer.params[k].shape) * 0.7
    query, key, value = (rng.standard_normal((2, T, 4)) for T in (3, 5, 5))
    mask = padding_mask([5, 2], 5)
    G = rng.standard_normal((2, 3, 4))
    layer.attend(query, key, value, mask)
    dquery = layer.backward(G)
    analytic = {"query": dquery, "key": layer.grad_key, "value": layer.grad_value}
    analytic.update({k: layer.grads[k] for k in layer.params if k != "b_k"})
    params = {"query": query, "key": key, "value": value}
    params.update({k: v for k, v in layer.params.items() if k != "b_k"})
    report = check_parameters(lambda: float(np.sum(layer.attend(query, key, value, mask) * G)),
                              params, analytic, tol=TOL)
    assert report.ok, str(report)                             # bound: relative error < 1e-7
    assert layer.attention_weights.shape == (2, 2, 3, 5)


def test_without_positions_self_attention_ignores_the_order_of_the_tokens():
    rng = np.random.default_rng(7)
    layer = MultiHeadAttention(2, d_model=4, seed=0)
    x = rng.standard_normal((2, 6, 4))
    perm = rng.permutation(6)
    np.testing.assert_allclose(layer.forward(x[:, perm]), layer.forward(x)[:, perm], rtol=1e-10)


def test_multi_head_attention_checks_its_settings_and_shapes():
    with pytest.raises(ValueError, match="do not divide"):
        MultiHeadAttention(3, d_model=4)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0)
    layer = MultiHeadAttention(2, d_model=4)
    with pytest.raises(ValueError, match=r"\(N, T, 4\)"):
        layer.forward(np.ones((2, 3, 6)))
    assert layer.count_params() == 4 * (4 * 4 + 4)
    assert layer.compute_output_shape((7, 4)) == (7, 4)


def test_float32_stays_float32():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out, w = scaled_dot_product(x, x, x, causal=True)
    assert out.dtype == w.dtype == np.float32
    layer = MultiHeadAttention(2, seed=0)
    out = layer.forward(x, mask=padding_mask([3, 1], 3))
    assert out.dtype == layer.params["W_q"].dtype == layer.attention_weights.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
