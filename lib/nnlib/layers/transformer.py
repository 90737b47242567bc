"""A transformer block (lecture 22): attention and a position-wise MLP, each with a residual.

Pre-norm layout (as in GPT-2 and most recent models): normalise, transform, add back::

    h   = x + MultiHeadAttention(LayerNorm₁(x))           tokens exchange information
    out = h + Dense₂(ψ(Dense₁(LayerNorm₂(h))))            each token is processed on its own

The feed-forward part is two Dense layers applied to every position separately (Dense works
on the last axis of (N, T, D)). The block is built from the library's own layers; its
forward and backward passes below are the two formulas read forwards and backwards.
"""
from __future__ import annotations

import numpy as np

from nnlib.layers.activation import Activation
from nnlib.layers.attention import MultiHeadAttention
from nnlib.layers.base import Layer
from nnlib.layers.dense import Dense
from nnlib.layers.layernorm import LayerNorm

__all__ = ["TransformerBlock"]


class TransformerBlock(Layer):
    """Pre-norm transformer block (lecture 22): (N, T, D) → (N, T, D).

        h = x + MHA(LN₁(x)),   out = h + FF(LN₂(h)),   FF(z) = ψ(z W₁ + b₁) W₂ + b₂.
    ``num_heads`` heads (must divide D), a hidden layer of ``d_ff`` units (default 4·D) with
    activation ψ (``activation``, "relu" by default), ``causal`` for a decoder. Backward: each
    residual passes its gradient straight through and adds the branch's,
        dh = G + FFᵀ(G),   dx = dh + MHAᵀ(dh)   (ᵀ: the branch's backward pass).

    The parts are ordinary layers, ``ln1``, ``attn``, ``ln2``, ``ff1``, ``act``, ``ff2``; the
    block's ``params`` and ``grads`` hold theirs under names like "attn.W_q" and "ff1.W", so
    optimizers and gradient checks see one layer. ``mask`` and ``attention_weights`` are the
    attention part's (see ``MultiHeadAttention``). ``d_model=None`` builds from the first input.
    """

    def __init__(self, num_heads, d_ff=None, d_model=None, activation="relu", causal=False,
                 seed=None, name=None):
        super().__init__(name)
        if d_ff is not None and (not isinstance(d_ff, (int, np.integer)) or d_ff < 1):
            raise ValueError(f"TransformerBlock: d_ff must be a positive integer, got {d_ff!r}")
        rng = np.random.default_rng(seed)
        seeds = rng.integers(2**31, size=3) if seed is not None else [None] * 3
        self.d_ff = d_ff
        self.ln1, self.ln2 = LayerNorm(), LayerNorm()
        self.attn = MultiHeadAttention(num_heads, causal=causal, seed=seeds[0])
        self.act = Activation(activation)
        self._ff_seeds = seeds[1:]
        self.ff1 = self.ff2 = None
        if d_model is not None:
            self.build((int(d_model),))

    def _parts(self):
        """The parts that own parameters, by the prefix of their names in ``params``."""
        return {"ln1": self.ln1, "attn": self.attn, "ln2": self.ln2, "ff1": self.ff1,
                "ff2": self.ff2}

    def _layers(self):
        return (self.ln1, self.attn, self.ln2, self.ff1, self.act, self.ff2)

    def build(self, input_shape, dtype=np.float64):
        """Build the parts for D = input_shape[-1] and collect their parameters."""
        D = int(input_shape[-1])
        self.ff1 = Dense(self.d_ff or 4 * D, seed=self._ff_seeds[0])
        self.ff2 = Dense(D, seed=self._ff_seeds[1])
        self.ln1.build((D,), dtype)
        self.attn.build((D,), dtype)
        self.ln2.build((D,), dtype)
        self.ff1.build((D,), dtype)
        self.ff2.build((self.ff1.units,), dtype)
        self.params = {f"{part}.{k}": v for part, layer in self._parts().items()
                       for k, v in layer.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape, dtype)

    def _sync(self):
        """Point the parts at the block's arrays (``model.astype`` may have replaced them)."""
        for part, layer in self._parts().items():
            for k in layer.params:
                layer.params[k] = self.params[f"{part}.{k}"]

    def _accepts(self, input_shape):
        return len(input_shape) == 2 and input_shape[-1] == self.params["ln1.gamma"].shape[0]

    @property
    def mask(self):
        return self.attn.mask

    @mask.setter
    def mask(self, value):
        self.attn.mask = value

    @property
    def attention_weights(self):
        return self.attn.attention_weights

    def forward(self, x, training=True, mask=None):
        """h = x + MHA(LN₁(x)); out = h + FF(LN₂(h)). Shapes: (N, T, D) → (N, T, D)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        self._sync()
        h = x + self.attn.forward(self.ln1.forward(x, training), training, mask)
        f = self.ln2.forward(h, training)
        f = self.ff2.forward(self.act.forward(self.ff1.forward(f, training), training), training)
        self._cache = tuple(layer._cache for layer in self._layers())   # one call's caches
        return h + f

    def backward(self, grad_out):
        """dh = G + FF's backward(G); dx = dh + MHA's backward(dh). Fills ``grads``."""
        for layer, cache in zip(self._layers(), self._cache):
            layer._cache = cache
        g = self.ff2.backward(grad_out)
        dh = grad_out + self.ln2.backward(self.ff1.backward(self.act.backward(g)))
        dx = dh + self.ln1.backward(self.attn.backward(dh))
        self.grads = {f"{part}.{k}": g for part, layer in self._parts().items()
                      for k, g in layer.grads.items()}
        return dx
