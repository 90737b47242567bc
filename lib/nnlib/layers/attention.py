"""Attention (lecture 22): scaled dot-product attention with masks, and multi-head attention.

Attention is a soft look-up. Each query q is compared with every key k (a dot product), the
scores are turned into weights by a softmax, and the answer is the weighted average of the
values v: the more a key matches the query, the more its value counts.

Masks are boolean arrays where True means "may attend" and False "may not" (the convention of
``torch.nn.functional.scaled_dot_product_attention``; ``torch.nn.MultiheadAttention`` uses
the opposite one). A masked score is set to −inf BEFORE the softmax, so its weight is exactly 0.
A query whose every key is masked (a fully masked row) gets weights 0 and output 0, not NaN:
it attends to nothing, and no gradient flows through it. (With a large negative number such as
−1e9 instead of −inf, such a row would silently become a uniform average over the padding.)
"""
from __future__ import annotations

import numpy as np

from nnlib import activations
from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["causal_mask", "padding_mask", "masked_softmax", "scaled_dot_product",
           "scaled_dot_product_backward", "split_heads", "merge_heads", "MultiHeadAttention"]


def causal_mask(T, S=None):
    """Mask of a decoder (lecture 22): position t may attend to positions 0..t only.

    Shapes: → (T, S) boolean, S = T by default; entry [t, s] is True where s ≤ t (lower
    triangle, the same as ``is_causal=True`` in PyTorch). It broadcasts over the batch.
    """
    return np.tri(int(T), int(T if S is None else S), dtype=bool)


def padding_mask(lengths, T):
    """Mask of padded sequences (lecture 22): keys at positions ≥ length may not be attended to.

    Shapes: lengths (N,) integers → (N, 1, T) boolean, entry [n, 0, s] True where
    s < lengths[n]; it broadcasts against scores (N, T_q, T). Combine with a causal mask by
    ``causal_mask(T) & padding_mask(lengths, T)``.
    """
    lengths = np.asarray(lengths)
    return (np.arange(int(T)) < lengths[:, None])[:, None, :]


def masked_softmax(scores, mask=None):
    """Softmax over the last axis where masked entries get weight exactly 0 (lecture 22).

    ``activations.softmax`` of the scores with the masked ones (``mask`` False) set to −inf:
    exp(−inf − m) = 0. A row with every entry masked has no maximum; it gets weights 0
    everywhere (its scores are set to 0 for the softmax and its weights to 0 after), so it never
    produces NaN. Shapes: scores (..., S), mask broadcastable to it → weights of scores' shape.
    """
    if mask is None:
        return activations.softmax(scores)
    scores = np.asarray(scores)
    real = scores.dtype.type if np.issubdtype(scores.dtype, np.floating) else np.float64
    mask = np.broadcast_to(mask, scores.shape)
    some = mask.any(axis=-1, keepdims=True)                 # rows with an entry to attend to
    weights = activations.softmax(np.where(mask, scores, np.where(some, real(-np.inf), real(0))))
    weights *= some
    return weights


def _check_mask(mask, shape):
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"attention masks are boolean (True = may attend), got dtype "
                        f"{mask.dtype}; build them with causal_mask / padding_mask or a "
                        f"comparison")
    try:
        ok = np.broadcast_shapes(mask.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"attention mask of shape {mask.shape} does not broadcast to the "
                         f"scores' shape {tuple(shape)} (..., T_q, T_k)")
    return mask


def scaled_dot_product(q, k, v, mask=None, causal=False, scale=None):
    """Scaled dot-product attention (lecture 22). Returns ``(out, weights)``.

        S = Q Kᵀ / √d,   W = softmax(S) over the keys (masked entries → −inf first),
        out = W V.
    Shapes: q (..., T_q, d), k (..., T_k, d), v (..., T_k, d_v) with the same leading axes
    (e.g. (N, T, d), or (N, h, T, d) for h heads) → out (..., T_q, d_v), weights
    (..., T_q, T_k) (each row sums to 1, or is all 0 when fully masked).
    ``mask`` boolean, True = may attend, broadcastable to (..., T_q, T_k); ``causal=True``
    adds ``causal_mask(T_q, T_k)``; ``scale`` replaces 1/√d. Dividing by √d keeps the scores'
    spread independent of d (for random q, k with unit variance Var(q·k) = d), so the softmax
    does not saturate and its gradient does not vanish.
    The backward pass needs only these: ``scaled_dot_product_backward(dout, (q, k, v,
    weights))`` (append ``scale`` to the tuple when one was given).
    """
    d = q.shape[-1]
    s = float(1.0 / np.sqrt(d) if scale is None else scale)     # a Python float keeps float32
    scores = (q @ np.swapaxes(k, -1, -2)) * s
    mask = _check_mask(mask, scores.shape)
    if causal:
        cm = causal_mask(q.shape[-2], k.shape[-2])
        mask = cm if mask is None else mask & cm
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def scaled_dot_product_backward(dout, cache):
    """Gradients of scaled dot-product attention (lecture 22). Returns ``(dq, dk, dv)``.

    ``cache`` = (q, k, v, weights) of the forward pass, or (q, k, v, weights, scale) when it
    was given a ``scale`` (the default is 1/√d).
    With G = dL/d(out), W the weights and s the scale:
        dV = Wᵀ G,   dW = G Vᵀ,
        dS = W ⊙ (dW − Σ_j dW_j W_j)     (the softmax's backward, row by row),
        dQ = s · dS K,   dK = s · dSᵀ Q.
    Masked entries have W = 0, hence dS = 0: the mask needs no special care here, and a fully
    masked row passes no gradient at all. Shapes: as the forward's q, k, v.
    """
    q, k, v, w = cache[:4]
    s = float(cache[4] if len(cache) > 4 else 1.0 / np.sqrt(q.shape[-1]))
    dv = np.swapaxes(w, -1, -2) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
    ds = activations.softmax_backward(w, dw, axis=-1)
    ds *= s
    dq = ds @ k
    dk = np.swapaxes(ds, -1, -2) @ q
    return dq, dk, dv


def split_heads(x, h):
    """(N, T, D) → (N, h, T, D/h): the columns of x cut into h blocks, one per head."""
    N, T, D = x.shape
    return x.reshape(N, T, h, D // h).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(N, h, T, d) → (N, T, h·d): the heads' outputs concatenated (inverse of split_heads)."""
    N, h, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, h * d)


class MultiHeadAttention(Layer):
    """Multi-head attention (lecture 22), batch-first, with output projection.

        Q = x_q W_q + b_q,  K = x_k W_k + b_k,  V = x_v W_v + b_v        (each (N, T, D))
        head_i = attention(Q_i, K_i, V_i, mask)  on the i-th block of D/h columns
        out = concat(head_1, …, head_h) W_o + b_o
    Each head attends with its own d = D/h-dimensional queries and keys; together they cost
    about what one full-width head costs. W_q, W_k, W_v, W_o are (D, D) in the (fan_in,
    fan_out) layout of Dense (out = x W + b), biases (D,). ``num_heads`` must divide D.

    Self-attention, the layer protocol: ``forward(x)`` uses x as query, key and value;
    ``backward(G)`` returns dL/dx, the sum of the three paths. Cross-attention:
    ``attend(query, key, value, mask)``; after it ``backward(G)`` returns dL/d(query) and sets
    ``grad_key`` and ``grad_value``. ``mask`` (True = may attend, broadcastable to
    (N, T_q, T_k); ``causal_mask``, ``padding_mask``) is given to ``forward``/``attend`` or,
    inside a model, set once as ``layer.mask``; ``causal=True`` always adds the causal mask.
    After each forward ``attention_weights`` holds the weights (N, h, T_q, T_k).
    A fully masked query row gives concat = 0, hence out = b_o there (PyTorch gives NaN).
    dL/db_k is always 0: b_k adds q·b_k to every score of a row, and a softmax does not change
    when one number is added to all its inputs (PyTorch keeps the parameter anyway).

    Shapes: (N, T, D) → (N, T, D). ``d_model=None`` builds from the first input.
    Same as ``torch.nn.MultiheadAttention(D, h, batch_first=True)`` with in_proj_weight =
    [W_qᵀ; W_kᵀ; W_vᵀ], out_proj.weight = W_oᵀ and attn_mask = ~mask.
    """

    regularized = ("W_q", "W_k", "W_v", "W_o")

    def __init__(self, num_heads, d_model=None, causal=False, init="glorot_uniform", l2=0.0,
                 seed=None, name=None, dtype=None):
        super().__init__(name)
        if not isinstance(num_heads, (int, np.integer)) or num_heads < 1:
            raise ValueError(f"MultiHeadAttention: num_heads must be a positive integer, "
                             f"got {num_heads!r}")
        if l2 < 0:
            raise ValueError(f"MultiHeadAttention: l2 must be >= 0, got {l2}")
        self.num_heads, self.causal, self.init, self.seed = int(num_heads), bool(causal), init, seed
        self.l2 = float(l2)
        self.mask = None
        self.attention_weights = None
        self.grad_key = self.grad_value = None
        if d_model is not None:
            self.build((int(d_model),), dtype or np.float64)

    def build(self, input_shape, dtype=np.float64):
        """W_q, W_k, W_v, W_o (D, D) with the initializer, biases 0; D = input_shape[-1]."""
        D = int(input_shape[-1])
        if D % self.num_heads:
            raise ValueError(f"MultiHeadAttention: {self.num_heads} heads do not divide "
                             f"D = {D} features")
        rng = np.random.default_rng(self.seed)
        self.params = {}
        for p in "qkvo":
            self.params[f"W_{p}"] = initialize(self.init, (D, D), rng, dtype)
            self.params[f"b_{p}"] = np.zeros(D, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape, dtype)

    @property
    def d_model(self):
        return self.params["W_q"].shape[0] if self.built else None

    def _accepts(self, input_shape):
        return len(input_shape) == 2 and input_shape[-1] == self.d_model

    def forward(self, x, training=True, mask=None):
        """Self-attention: attend(x, x, x). Shapes: (N, T, D) → (N, T, D)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        return self._attend(x, x, x, mask, True)

    def attend(self, query, key, value, mask=None):
        """Cross-attention of ``query`` (N, T_q, D) over ``key``, ``value`` (N, T_k, D).

        Returns (N, T_q, D); ``backward`` then gives dL/d(query), ``grad_key``, ``grad_value``.
        """
        return self._attend(query, key, value, mask, False)

    def _attend(self, query, key, value, mask, is_self):
        p, h = self.params, self.num_heads
        for what, a in (("query", query), ("key", key), ("value", value)):
            if a.ndim != 3 or a.shape[-1] != self.d_model:
                raise ValueError(f"MultiHeadAttention {self.name!r} takes {what} of shape "
                                 f"(N, T, {self.d_model}), got {a.shape}")
        mask = self.mask if mask is None else mask
        if mask is not None and np.ndim(mask) == 3:
            mask = np.asarray(mask)[:, None]          # (N, T_q, T_k) → (N, 1, T_q, T_k)
        Q = split_heads(query @ p["W_q"] + p["b_q"], h)
        K = split_heads(key @ p["W_k"] + p["b_k"], h)
        V = split_heads(value @ p["W_v"] + p["b_v"], h)
        heads, w = scaled_dot_product(Q, K, V, mask, self.causal)
        concat = merge_heads(heads)
        self.attention_weights = w
        self._cache = (query, key, value, (Q, K, V, w), concat, is_self)
        return concat @ p["W_o"] + p["b_o"]

    def backward(self, grad_out):
        """Fills the gradients of the 8 parameters; returns dL/dx (self-attention) or
        dL/d(query), with ``grad_key``/``grad_value`` set (after ``attend``)."""
        query, key, value, att, concat, is_self = self._cache
        p, h = self.params, self.num_heads
        D = self.d_model
        g2 = grad_out.reshape(-1, D)
        self.grads["W_o"] = concat.reshape(-1, D).T @ g2
        self.grads["b_o"] = g2.sum(axis=0)
        dheads = split_heads(grad_out @ p["W_o"].T, h)
        dQ, dK, dV = (merge_heads(g) for g in scaled_dot_product_backward(dheads, att))
        grads_in = []
        for name, a, g in (("q", query, dQ), ("k", key, dK), ("v", value, dV)):
            g2 = g.reshape(-1, D)
            self.grads[f"W_{name}"] = a.reshape(-1, D).T @ g2
            self.grads[f"b_{name}"] = g2.sum(axis=0)
            grads_in.append(g @ p[f"W_{name}"].T)
        dq, self.grad_key, self.grad_value = grads_in
        if is_self:
            return dq + self.grad_key + self.grad_value
        return dq
