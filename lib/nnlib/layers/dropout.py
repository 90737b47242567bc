"""Dropout (lecture 15): each unit is switched off with probability ``rate`` while training."""
from __future__ import annotations

import numpy as np

from nnlib.layers.base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout (lecture 15, notes 000: a coin toss per unit and per iteration).

    ``rate`` is the probability of DROPPING a unit (as in the notes and Keras: rate 0.3 drops
    about 30 of 100 units). Training: draw a mask m with m_i = 0 with probability ``rate`` and
    m_i = 1/(1 − rate) otherwise, out = x · m; the scaling keeps E[out] = x, so nothing has to
    change at test time. Evaluation (``training=False``): out = x. Backward: dL/dx = G · m.

    ``seed`` seeds the mask generator (the sequence of masks is reproducible). With
    ``hold_mask = True`` the next forward passes reuse the last mask instead of drawing a new
    one: that is how a gradient check sees a fixed, deterministic function (lecture 11).
    Shapes: any → same, dtype kept.
    """

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate is the probability of dropping a unit and must be "
                             f"in [0, 1), got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.hold_mask = False
        self.mask = None

    def on_fit_start(self, seed, index):
        """Without a seed of its own, draw the masks of this fit from default_rng([seed, index]).

        So two runs of ``fit`` with the same ``seed`` drop the same units (lecture 15).
        """
        if self.seed is None:
            self.rng = np.random.default_rng([seed, index])

    def forward(self, x, training=True):
        """out = x · mask while training (fresh mask unless ``hold_mask``), x otherwise."""
        if not training or self.rate == 0:
            self._cache = None
            return x
        if not (self.hold_mask and self.mask is not None and self.mask.shape == x.shape):
            keep = self.rng.random(x.shape, dtype=x.dtype if x.dtype == np.float32
                                   else np.float64) >= self.rate
            self.mask = keep.astype(x.dtype) * np.asarray(1 / (1 - self.rate), dtype=x.dtype)
        self._cache = self.mask
        return x * self.mask

    def backward(self, grad_out):
        """dL/dx = G · mask (G itself after an evaluation-mode forward)."""
        if self._cache is None:
            return grad_out
        return grad_out * self._cache
