"""Activation layers: an elementwise ψ applied to the previous layer's output (lectures 04, 13)."""
from __future__ import annotations

import numpy as np

from nnlib import activations
from nnlib.layers.base import Layer

__all__ = ["Activation", "Softmax"]


class Activation(Layer):
    """Elementwise activation layer (lecture 04): out = ψ(x), dL/dx = dL/d(out) · ψ'(x).

    ``name`` is one of relu, sigmoid, tanh, linear, leaky_relu (slope ``alpha``), threshold,
    piecewise_linear (``nnlib.activations``) or "softmax" (gives a ``Softmax`` layer's
    behaviour). Shapes: any → same; the input's float dtype is kept. relu, sigmoid and tanh
    are computed from the saved output (ψ' = 1[y>0], y(1−y), 1−y²), the others from the input.
    """

    def __init__(self, name, alpha=0.01, layer_name=None):
        if not isinstance(name, str):
            raise TypeError(f"Activation: the activation is named by a string, got "
                            f"{type(name).__name__}")
        known = activations.NAMES
        if name not in known:
            raise ValueError(f"Activation: unknown activation {name!r}; known: {', '.join(known)}")
        super().__init__(layer_name or None)
        self.activation = name
        self.alpha = alpha
        if name not in ("relu", "sigmoid", "tanh", "linear", "leaky_relu", "softmax"):
            self._f, self._df = activations.get(name)

    def forward(self, x, training=True):
        """out = ψ(x), same shape and dtype as x."""
        kind = self.activation
        if kind == "relu":
            out = np.maximum(x, 0)
        elif kind == "tanh":
            out = np.tanh(x)
        elif kind == "sigmoid":
            out = activations.sigmoid(x)           # the overflow-safe form, never exp(+large)
        elif kind == "linear":
            out = x
        elif kind == "leaky_relu":
            out = np.where(x > 0, x, self.alpha * x)
        elif kind == "softmax":
            z = x - x.max(axis=-1, keepdims=True)
            out = np.exp(z)
            out /= out.sum(axis=-1, keepdims=True)
        else:
            out = np.asarray(self._f(x)).astype(x.dtype, copy=False)
        self._cache = (x, out)
        return out

    def backward(self, grad_out):
        """dL/dx = dL/d(out) · ψ'(x) (softmax: p · (g − Σ g p))."""
        x, out = self._cache
        kind = self.activation
        if kind == "relu":
            return grad_out * (out > 0)
        if kind == "tanh":
            return grad_out * (1 - out * out)
        if kind == "sigmoid":
            return grad_out * out * (1 - out)
        if kind == "linear":
            return grad_out
        if kind == "leaky_relu":
            return grad_out * np.where(x > 0, 1, self.alpha).astype(x.dtype)
        if kind == "softmax":
            return out * (grad_out - (grad_out * out).sum(axis=-1, keepdims=True))
        return grad_out * np.asarray(self._df(x)).astype(x.dtype, copy=False)

    def __repr__(self):
        return f"Activation({self.activation!r}, name={self.name!r})"


class Softmax(Activation):
    """Softmax over the last axis (lectures 08, 09): p_k = exp(x_k − m) / Σ_j exp(x_j − m).

    Shapes: (N, K) → (N, K), rows sum to 1. Backward: dL/dx = p · (g − Σ_k g_k p_k). A model
    whose output layer is a Softmax trained with categorical cross-entropy skips this backward
    and hands the layer below the simpler (p − y)/N (lecture 11).
    """

    def __init__(self, name=None):
        super().__init__("softmax", layer_name=name)
