"""From a sequence of vectors to one vector (lecture 22): what a sequence classifier reads.

A transformer returns one vector per position, (N, T, D); a classifier needs one per
sequence, (N, D). Either average over the positions, or read one position: the last one in a
causal model (the only one that has seen the whole sequence, like h_T of lecture 20's RNN), or
the first one in a model trained with a special first token (BERT's [CLS]).
"""
from __future__ import annotations

import numpy as np

from nnlib.layers.base import Layer

__all__ = ["SequencePool"]


class SequencePool(Layer):
    """Pool a sequence over its time axis (lecture 22): (N, T, D) → (N, D).

    ``how="mean"``: out = (1/T) Σ_t x[:, t], backward dL/dx[:, t] = G / T for every t.
    ``how="last"`` / ``"first"``: out = x[:, T−1] / x[:, 0], backward G at that position and 0
    elsewhere. No parameters.
    """

    def __init__(self, how="mean", name=None):
        super().__init__(name)
        if how not in ("mean", "last", "first"):
            raise ValueError(f"SequencePool: how must be 'mean', 'last' or 'first', got {how!r}")
        self.how = how

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"SequencePool expects sequences (N, T, D); got examples of shape "
                             f"{tuple(input_shape)}")
        return (input_shape[1],)

    def forward(self, x, training=True):
        """Mean over t, or x[:, -1], or x[:, 0]. Shapes: (N, T, D) → (N, D)."""
        if x.ndim != 3:
            raise ValueError(f"SequencePool expects sequences (N, T, D), got {x.shape}")
        self._cache = x.shape
        if self.how == "mean":
            return x.mean(axis=1)
        return x[:, -1 if self.how == "last" else 0].copy()

    def backward(self, grad_out):
        """Spread G evenly over the T positions (mean), or put it at the one position read."""
        N, T, D = self._cache
        if self.how == "mean":
            return np.broadcast_to((grad_out / T)[:, None, :], (N, T, D)).copy()
        dx = np.zeros((N, T, D), dtype=grad_out.dtype)
        dx[:, -1 if self.how == "last" else 0] = grad_out
        return dx
