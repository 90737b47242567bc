"""Layer normalization (lecture 22): normalise each example over its features, not over the batch.

Batch normalization (lecture 14) averages every feature over the batch; with sequences of
different lengths, small batches, or one token at a time at inference this is awkward. Layer
normalization instead averages over the LAST axis of every single vector, so it behaves the
same while training and at evaluation and needs no running statistics. Transformers use it.
"""
from __future__ import annotations

import numpy as np

from nnlib.layers.base import Layer
from nnlib.layers.standardize import standardize, standardize_backward

__all__ = ["layer_norm", "layer_norm_backward", "LayerNorm"]


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last axis (lecture 22). Returns ``(out, cache)``.

    For every vector x = x[n, t, :] of D features:
        μ = (1/D) Σ_j x_j,  σ² = (1/D) Σ_j (x_j − μ)²,  x̂_j = (x_j − μ) / √(σ² + ε),
        out_j = γ_j x̂_j + β_j.
    Shapes: x (..., D), e.g. (N, D) or (N, T, D); γ, β (D,) → out of x's shape. ``cache`` holds
    what ``layer_norm_backward`` needs. Same as ``torch.nn.functional.layer_norm(x, (D,), γ, β,
    eps)`` (biased σ², ε inside the square root).
    """
    x_hat, inv_std, _, _ = standardize(x, -1, eps)
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def layer_norm_backward(dout, cache):
    """Gradients of layer normalization (lecture 22). Returns ``(dx, dgamma, dbeta)``.

    With G = dL/d(out) and ĝ = G γ (the gradient reaching x̂), per vector of D features:
        dβ = Σ_rows G,  dγ = Σ_rows G x̂,
        dx = (1 / (D √(σ² + ε))) · (D ĝ − Σ_j ĝ_j − x̂ Σ_j ĝ_j x̂_j),
    where Σ_rows sums over every axis but the last and Σ_j over the last. The two subtracted
    terms are the paths through μ and σ²: they make dx sum to zero and be orthogonal to x̂.
    Shapes: dout like x (..., D) → dx (..., D), dgamma (D,), dbeta (D,).
    """
    x_hat, inv_std, gamma = cache
    rows = tuple(range(dout.ndim - 1))
    dbeta = dout.sum(axis=rows)
    dgamma = (dout * x_hat).sum(axis=rows)
    return standardize_backward(dout * gamma, x_hat, inv_std, -1), dgamma, dbeta


class LayerNorm(Layer):
    """Layer normalization with a learnt scale γ and shift β per feature (lecture 22).

    out = γ · (x − μ) / √(σ² + ε) + β with μ, σ² the mean and (biased) variance of each
    example's last axis; formulas and backward in ``layer_norm``/``layer_norm_backward``.
    Shapes: (N, D) or (N, T, D) → same; γ (starts at 1) and β (starts at 0) have shape (D,).
    Training and evaluation compute the same thing (no running statistics, unlike BatchNorm).
    """

    def __init__(self, eps=1e-5, name=None):
        super().__init__(name)
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be > 0, got {eps}")
        self.eps = float(eps)

    def build(self, input_shape, dtype=np.float64):
        """γ = 1, β = 0, of shape (D,) with D = input_shape[-1]."""
        d = int(input_shape[-1])
        self.params = {"gamma": np.ones(d, dtype=dtype), "beta": np.zeros(d, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape, dtype)

    def _accepts(self, input_shape):
        return input_shape[-1] == self.params["gamma"].shape[0]

    def forward(self, x, training=True):
        """out = γ x̂ + β over the last axis. Shapes: (N, ..., D) → (N, ..., D)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        if x.shape[-1] != self.params["gamma"].shape[0]:
            raise ValueError(f"LayerNorm {self.name!r} was built for D = "
                             f"{self.params['gamma'].shape[0]} features, got {x.shape}")
        out, self._cache = layer_norm(x, self.params["gamma"], self.params["beta"], self.eps)
        return out

    def backward(self, grad_out):
        """Fills dγ, dβ; returns dL/dx (see ``layer_norm_backward``)."""
        dx, self.grads["gamma"], self.grads["beta"] = layer_norm_backward(grad_out, self._cache)
        return dx
