"""Positional information (lecture 22): attention by itself ignores the order of the tokens.

Permuting the tokens of a sequence permutes the outputs of self-attention in the same way and
changes nothing else, so "dog bites man" and "man bites dog" look alike. The cure is to add
to each token's vector a vector that depends on its position t: either a fixed pattern of
sines and cosines (``sinusoidal_encoding``, ``PositionalEncoding``) or a learnt table, one
vector per position (``PositionalEmbedding``).
"""
from __future__ import annotations

import numpy as np

from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["sinusoidal_encoding", "PositionalEncoding", "PositionalEmbedding"]


def sinusoidal_encoding(T, D, base=10000.0, dtype=np.float64):
    """The fixed sinusoidal position encodings of "Attention Is All You Need" (lecture 22).

        P[t, 2i]   = sin(t / base^(2i/D)),
        P[t, 2i+1] = cos(t / base^(2i/D)),   t = 0..T−1, i = 0..⌈D/2⌉−1.
    Each pair of columns is a clock turning at its own speed, from one radian per step
    (i = 0) down to about one turn per 2π·base steps, so every position gets a distinct
    pattern and P[t + k] is a fixed rotation of P[t] (relative positions are linear maps).
    Shapes: → P (T, D) (an odd D drops the last cosine column). No parameters.
    """
    if int(T) < 0 or int(D) < 1:
        raise ValueError(f"sinusoidal_encoding: need T >= 0 and D >= 1, got T={T}, D={D}")
    t = np.arange(int(T), dtype=np.float64)[:, None]
    freq = base ** (-np.arange(0, int(D), 2, dtype=np.float64) / int(D))   # (⌈D/2⌉,)
    P = np.empty((int(T), 2 * len(freq)), dtype=np.float64)
    P[:, 0::2] = np.sin(t * freq)
    P[:, 1::2] = np.cos(t * freq)
    return P[:, :int(D)].astype(dtype)


class PositionalEncoding(Layer):
    """Add the sinusoidal encodings to a sequence (lecture 22): out[n, t] = x[n, t] + P[t].

    P from ``sinusoidal_encoding(T, D, base)``; no parameters. Shapes: (N, T, D) → (N, T, D).
    Backward: dL/dx = dL/d(out) (adding a constant).
    """

    def __init__(self, base=10000.0, name=None):
        super().__init__(name)
        self.base = float(base)
        self._table = None

    def _encodings(self, T, D, dtype):
        if self._table is None or self._table.shape[0] < T or self._table.shape[1] != D \
                or self._table.dtype != dtype:
            self._table = sinusoidal_encoding(T, D, self.base, dtype)
        return self._table[:T]

    def forward(self, x, training=True):
        """x + P[:T]. Shapes: (N, T, D) → (N, T, D)."""
        if x.ndim != 3:
            raise ValueError(f"PositionalEncoding expects sequences (N, T, D), got {x.shape}")
        return x + self._encodings(x.shape[1], x.shape[2], x.dtype)

    def backward(self, grad_out):
        """dL/dx = dL/d(out)."""
        return grad_out


class PositionalEmbedding(Layer):
    """Add a learnt vector per position (lecture 22): out[n, t] = x[n, t] + P[t].

    P (max_len, D) is a parameter (starts as N(0, 0.05²) draws, ``init`` and ``seed`` as for
    Dense); sequences may be shorter than ``max_len`` and use its first T rows. Positions
    beyond ``max_len`` were never trained and are refused. Shapes: (N, T, D) → (N, T, D).
    Backward: dL/dx = G; dP[t] = Σ_n G[n, t] for t < T, 0 for the rows not used.
    """

    def __init__(self, max_len, init="normal", seed=None, name=None):
        super().__init__(name)
        if not isinstance(max_len, (int, np.integer)) or max_len < 1:
            raise ValueError(f"PositionalEmbedding: max_len must be a positive integer, "
                             f"got {max_len!r}")
        self.max_len, self.init, self.seed = int(max_len), init, seed

    def build(self, input_shape, dtype=np.float64):
        """P (max_len, D), D = input_shape[-1]."""
        if len(input_shape) != 2:
            raise ValueError(f"PositionalEmbedding expects sequences (N, T, D); got examples of "
                             f"shape {tuple(input_shape)}")
        rng = np.random.default_rng(self.seed)
        D = int(input_shape[-1])
        self.params = {"P": initialize(self.init, (self.max_len, D), rng, dtype)}
        self.grads = {"P": np.zeros_like(self.params["P"])}
        super().build(input_shape, dtype)

    def _accepts(self, input_shape):
        return len(input_shape) == 2 and input_shape[0] <= self.max_len \
            and input_shape[1] == self.params["P"].shape[1]

    def forward(self, x, training=True):
        """x + P[:T]. Shapes: (N, T, D) → (N, T, D), T ≤ max_len."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        if x.ndim != 3 or x.shape[1] > self.max_len or x.shape[2] != self.params["P"].shape[1]:
            raise ValueError(f"PositionalEmbedding {self.name!r} takes (N, T, "
                             f"{self.params['P'].shape[1]}) with T <= {self.max_len}, "
                             f"got {x.shape}")
        self._cache = x.shape[1]
        return x + self.params["P"][:x.shape[1]]

    def backward(self, grad_out):
        """dP[:T] = Σ_n G, dP[T:] = 0; returns G."""
        T = self._cache
        dP = np.zeros_like(self.params["P"])
        dP[:T] = grad_out.sum(axis=0)
        self.grads["P"] = dP
        return grad_out
