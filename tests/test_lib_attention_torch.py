"""The lecture-22 layers against PyTorch, an independent reference, in float64: forward values
and every gradient of layer_norm, embeddings, scaled_dot_product_attention (attn_mask,
is_causal), nn.MultiheadAttention (batch_first=True, the same weights) and
nn.TransformerEncoderLayer (norm_first=True, no dropout).

PyTorch is NOT a course dependency: these tests are skipped when it is not installed
(pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, leaf, torch_or_skip

torch = torch_or_skip("the attention layers")
F = torch.nn.functional

from nnlib.layers import Embedding, LayerNorm, MultiHeadAttention, TransformerBlock  # noqa: E402
from nnlib.layers.attention import (causal_mask, padding_mask, scaled_dot_product,  # noqa: E402
                                    scaled_dot_product_backward)
from nnlib.layers.layernorm import layer_norm, layer_norm_backward  # noqa: E402


def test_layer_norm_matches_torch():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(2, 3, (3, 4, 5)), rng.uniform(0.5, 2, 5), rng.standard_normal(5)
    G = rng.standard_normal((3, 4, 5))
    out, cache = layer_norm(x, gamma, beta)
    dx, dgamma, dbeta = layer_norm_backward(G, cache)
    tx, tg, tb = leaf(x), leaf(gamma), leaf(beta)
    tout = F.layer_norm(tx, (5,), tg, tb, eps=1e-5)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)
    close(dgamma, tg.grad)
    close(dbeta, tb.grad)
    layer = LayerNorm()
    close(layer.forward(x), F.layer_norm(torch.from_numpy(x), (5,)))


def test_embedding_matches_torch_with_repeated_ids():
    rng = np.random.default_rng(1)
    layer = Embedding(7, 3, seed=0)
    ids = np.array([[1, 4, 1, 1], [6, 4, 0, 1]])
    G = rng.standard_normal((2, 4, 3))
    out = layer.forward(ids)
    layer.backward(G)
    temb = torch.nn.Embedding.from_pretrained(torch.tensor(layer.params["E"]), freeze=False)
    tout = temb(torch.from_numpy(ids))
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(layer.grads["E"], temb.weight.grad)


SDPA_CASES = ["none", "causal", "padding", "padding_with_an_empty_sequence", "causal_and_padding",
              "heads_and_padding", "cross_lengths_causal"]


def _sdpa_case(kind, rng):
    N, Tq, Tk, d, dv = 3, 4, 4, 3, 2
    lead = (N,)
    if kind == "heads_and_padding":
        lead = (N, 2)
    if kind == "cross_lengths_causal":
        Tq, Tk = 3, 5
    q = rng.standard_normal(lead + (Tq, d))
    k = rng.standard_normal(lead + (Tk, d))
    v = rng.standard_normal(lead + (Tk, dv))
    mask, causal = None, kind in ("causal", "cross_lengths_causal")
    if "padding" in kind:
        lengths = [0, 2, 4] if kind == "padding_with_an_empty_sequence" else [1, 3, 4]
        mask = padding_mask(lengths, Tk)
        if kind == "heads_and_padding":
            mask = mask[:, None]
    if kind == "causal_and_padding":
        mask = causal_mask(Tq, Tk) & padding_mask([2, 3, 4], Tk)
    return q, k, v, mask, causal


@pytest.mark.parametrize("kind", SDPA_CASES)
def test_scaled_dot_product_attention_matches_torch(kind):
    rng = np.random.default_rng(len(kind))
    q, k, v, mask, causal = _sdpa_case(kind, rng)
    out, w = scaled_dot_product(q, k, v, mask, causal=causal)
    G = rng.standard_normal(out.shape)
    dq, dk, dv = scaled_dot_product_backward(G, (q, k, v, w))
    tq, tk, tv = leaf(q), leaf(k), leaf(v)
    tmask = None if mask is None else torch.from_numpy(np.ascontiguousarray(mask))
    tout = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, is_causal=causal)
    tout.backward(torch.from_numpy(G))
    close(out, tout)            # torch also gives 0 (not NaN) for a fully masked row here
    for ours, theirs in ((dq, tq), (dk, tk), (dv, tv)):
        close(ours, theirs.grad)
    eye = torch.eye(k.shape[-2], dtype=torch.float64).expand(k.shape[:-1] + (k.shape[-2],))
    weights = F.scaled_dot_product_attention(torch.from_numpy(q), torch.from_numpy(k), eye,
                                             attn_mask=tmask, is_causal=causal)   # W·I = W
    close(w, weights)


def _torch_mha(layer):
    """nn.MultiheadAttention holding our layer's weights (torch computes x Wᵀ + b)."""
    p = layer.params
    D, h = layer.d_model, layer.num_heads
    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([p["W_q"].T, p["W_k"].T,
                                                                  p["W_v"].T])))
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([p["b_q"], p["b_k"], p["b_v"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(p["W_o"].T))
        mha.out_proj.bias.copy_(torch.from_numpy(p["b_o"]))
    return mha


def _compare_parameter_grads(layer, mha):
    g = layer.grads
    close(np.concatenate([g["W_q"].T, g["W_k"].T, g["W_v"].T]), mha.in_proj_weight.grad)
    close(np.concatenate([g["b_q"], g["b_k"], g["b_v"]]), mha.in_proj_bias.grad)
    close(g["W_o"].T, mha.out_proj.weight.grad)
    close(g["b_o"], mha.out_proj.bias.grad)


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "causal_and_padding"])
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_multi_head_self_attention_matches_torch(mask_kind, heads):
    rng = np.random.default_rng(heads)
    N, T, D = 3, 5, 8
    layer = MultiHeadAttention(heads, d_model=D, seed=heads)
    for k in layer.params:
        layer.params[k][...] = rng.standard_normal(layer.params[k].shape) * 0.5
    x = rng.standard_normal((N, T, D))
    mask = None
    if "causal" in mask_kind:
        mask = causal_mask(T)
    if "padding" in mask_kind:                       # every row keeps at least one key
        pad = padding_mask([5, 3, 1], T)
        mask = pad if mask is None else mask & pad
    out = layer.forward(x, mask=mask)
    G = rng.standard_normal(out.shape)
    dx = layer.backward(G)
    mha = _torch_mha(layer)
    tx = leaf(x)
    attn_mask = None
    if mask is not None:                             # torch: True = NOT allowed, (N·h, T, T)
        full = np.broadcast_to(mask, (N, T, T))
        attn_mask = torch.from_numpy(np.repeat(~full, heads, axis=0))
    tout, tw = mha(tx, tx, tx, attn_mask=attn_mask, need_weights=True,
                   average_attn_weights=False)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(layer.attention_weights, tw)
    close(dx, tx.grad)
    _compare_parameter_grads(layer, mha)


def test_multi_head_cross_attention_with_key_padding_matches_torch():
    rng = np.random.default_rng(7)
    N, Tq, Tk, D, h = 2, 3, 6, 6, 3
    layer = MultiHeadAttention(h, d_model=D, seed=0)
    query, key, value = (rng.standard_normal((N, T, D)) for T in (Tq, Tk, Tk))
    pad = padding_mask([6, 2], Tk)
    out = layer.attend(query, key, value, pad)
    G = rng.standard_normal(out.shape)
    dquery = layer.backward(G)
    mha = _torch_mha(layer)
    tq, tk, tv = leaf(query), leaf(key), leaf(value)
    tout, tw = mha(tq, tk, tv, key_padding_mask=torch.from_numpy(~pad[:, 0]),
                   average_attn_weights=False)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(layer.attention_weights, tw)
    close(dquery, tq.grad)
    close(layer.grad_key, tk.grad)
    close(layer.grad_value, tv.grad)
    _compare_parameter_grads(layer, mha)


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_block_matches_torch_pre_norm_encoder_layer(causal):
    rng = np.random.default_rng(11)
    N, T, D, h, d_ff = 2, 5, 8, 2, 12
    block = TransformerBlock(h, d_ff=d_ff, d_model=D, causal=causal, seed=0)
    for k in block.params:
        block.params[k][...] = rng.standard_normal(block.params[k].shape) * 0.4
    x = rng.standard_normal((N, T, D))
    out = block.forward(x)
    G = rng.standard_normal(out.shape)
    dx = block.backward(G)
    enc = torch.nn.TransformerEncoderLayer(D, h, dim_feedforward=d_ff, dropout=0.0,
                                           activation="relu", batch_first=True, norm_first=True,
                                           dtype=torch.float64)
    enc.load_state_dict({k: torch.from_numpy(v) for k, v in _torch_names(block.params).items()})
    tx = leaf(x)
    mask = torch.from_numpy(~causal_mask(T)) if causal else None
    tout = enc(tx, src_mask=mask, is_causal=causal)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)
    theirs = dict(enc.named_parameters())
    for name, ours in _torch_names(block.grads).items():
        close(ours, theirs[name].grad)


def _torch_names(p):
    """The block's arrays (params or grads) under nn.TransformerEncoderLayer's names."""
    qkv = [p[f"attn.W_{c}"].T for c in "qkv"]
    named = {"norm1.weight": p["ln1.gamma"], "norm1.bias": p["ln1.beta"],
             "norm2.weight": p["ln2.gamma"], "norm2.bias": p["ln2.beta"],
             "linear1.weight": p["ff1.W"].T, "linear1.bias": p["ff1.b"],
             "linear2.weight": p["ff2.W"].T, "linear2.bias": p["ff2.b"],
             "self_attn.in_proj_weight": np.concatenate(qkv),
             "self_attn.in_proj_bias": np.concatenate([p[f"attn.b_{c}"] for c in "qkv"]),
             "self_attn.out_proj.weight": p["attn.W_o"].T,
             "self_attn.out_proj.bias": p["attn.b_o"]}
    return {k: np.ascontiguousarray(v) for k, v in named.items()}
