"""Standardizing over some axes: the computation batch and layer normalization share (lectures 14, 22).

    x̂ = (x − μ) / √(σ² + ε),

with μ and the biased σ² the mean and variance of x over ``axes``: over the batch for each
feature (``BatchNorm``), or over the features of each example (``LayerNorm``). The two layers
differ only in those axes and in what they do around it (running statistics, γ and β).
"""
from __future__ import annotations

import numpy as np

__all__ = ["standardize", "standardize_backward"]


def standardize(x, axes, eps, mean=None, var=None):
    """x̂ = (x − μ) / √(σ² + ε) over ``axes``. Returns (x̂, 1/√(σ² + ε), μ, σ²).

    μ = mean of x over ``axes`` and σ² = mean of (x − μ)² over them (biased), both kept with
    size-1 ``axes`` so that they broadcast against x; or the given ``mean`` and ``var``
    (broadcastable to x, e.g. batch norm's running statistics at evaluation).
    Shapes: x any; x̂ like x; the other three like x with ``axes`` of size 1. The inverse
    standard deviation has x's dtype (float32 stays float32).
    """
    if mean is None:
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = np.mean(centred * centred, axis=axes, keepdims=True)
    else:
        centred = x - mean
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    return centred * inv_std, inv_std, mean, var


def standardize_backward(g_hat, x_hat, inv_std, axes):
    """dL/dx from ĝ = dL/dx̂ when μ and σ² were x's own statistics over ``axes``:

        dL/dx = (1 / (m √(σ² + ε))) · (m ĝ − Σ ĝ − x̂ Σ ĝ x̂),

    with the sums over ``axes`` and m the number of values each statistic averages. The two
    subtracted terms are the paths through μ and σ²: they make dL/dx sum to zero over ``axes``
    and be orthogonal to x̂ there. (With fixed statistics dL/dx would be ĝ / √(σ² + ε).)
    Shapes: g_hat and x_hat alike; inv_std as returned by ``standardize`` → like g_hat.
    """
    m = g_hat.size // inv_std.size
    return inv_std / m * (m * g_hat - g_hat.sum(axis=axes, keepdims=True)
                          - x_hat * (g_hat * x_hat).sum(axis=axes, keepdims=True))
