"""Fully connected (dense) layer: out = x W + b (lectures 08 and 13)."""
from __future__ import annotations

import numpy as np

from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["Dense"]


class Dense(Layer):
    """Dense layer (lecture 08): out = x W + b, every output unit sees every input.

    Shapes: x (N, D) → out (N, units); W (D, units) (fan_in, fan_out), b (units,). Inputs with
    more axes, (N, ..., D), are transformed along the last axis.
    Backward (lecture 11): dL/dW = xᵀ G, dL/db = Σ_n G_n, dL/dx = G Wᵀ, with G = dL/d(out).

    ``input_dim=None`` builds the weights lazily from the first input (in that input's float
    dtype); ``init`` names the weight initializer (biases start at 0); ``l2`` the L2 penalty
    coefficient λ on W (loss + λ Σ W²); ``seed`` seeds the initializer.
    """

    regularized = ("W",)

    def __init__(self, units, input_dim=None, init="glorot_uniform", l2=0.0, seed=None,
                 name=None, dtype=None):
        super().__init__(name)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        if l2 < 0:
            raise ValueError(f"Dense: l2 must be >= 0, got {l2}")
        self.units = int(units)
        self.init = init
        self.l2 = float(l2)
        self.seed = seed
        if input_dim is not None:
            self.build((int(input_dim),), dtype or np.float64)

    def build(self, input_shape, dtype=np.float64):
        """Create W (D, units) with the initializer and b (units,) = 0, D = input_shape[-1]."""
        fan_in = int(input_shape[-1])
        rng = np.random.default_rng(self.seed)
        self.params = {"W": initialize(self.init, (fan_in, self.units), rng, dtype),
                       "b": np.zeros(self.units, dtype=dtype)}
        self.grads = {"W": np.zeros_like(self.params["W"]), "b": np.zeros_like(self.params["b"])}
        super().build(input_shape, dtype)

    def _accepts(self, input_shape):
        return input_shape[-1] == self.params["W"].shape[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=True):
        """out = x W + b. Shapes: (N, ..., D) → (N, ..., units)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        self._cache = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, grad_out, input_grad=True):
        """dL/dW = xᵀG, dL/db = ΣG, returns dL/dx = G Wᵀ.

        Shapes: G = ``grad_out`` (N, ..., units) → dL/dx (N, ..., D). With
        ``input_grad=False`` (a caller that does not need dL/dx: the model, for a layer reading
        its input) the product G Wᵀ is skipped and None returned.
        """
        x = self._cache
        if x.ndim == 2:
            self.grads["W"] = x.T @ grad_out
            self.grads["b"] = grad_out.sum(axis=0)
        else:
            x2 = x.reshape(-1, x.shape[-1])
            g2 = grad_out.reshape(-1, self.units)
            self.grads["W"] = x2.T @ g2
            self.grads["b"] = g2.sum(axis=0)
        if not input_grad:
            return None
        return grad_out @ self.params["W"].T
