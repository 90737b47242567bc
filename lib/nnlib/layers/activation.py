"""Activation layers: an elementwise ψ applied to the previous layer's output (lectures 04, 13)."""
from __future__ import annotations

from functools import partial

import numpy as np

from nnlib import activations
from nnlib.layers.base import Layer

__all__ = ["Activation", "Softmax"]


def _times_one(x, out, grad_out):
    return grad_out                                    # linear: ψ' = 1


def _times_slope(df, x, out, grad_out):
    return grad_out * df(x)                            # ψ' from the input


def _softmax_vjp(x, out, grad_out):
    return activations.softmax_backward(out, grad_out, axis=-1)


class Activation(Layer):
    """Elementwise activation layer (lecture 04): out = ψ(x), dL/dx = dL/d(out) · ψ'(x).

    ``activation`` is one of relu, sigmoid, tanh, linear, leaky_relu (slope ``alpha``),
    threshold, piecewise_linear (``nnlib.activations``) or "softmax" (gives a ``Softmax``
    layer's behaviour); ``name`` names the layer, as for every layer. Shapes: any → same; the
    input's float dtype is kept. Every formula is the one in ``nnlib.activations``, chosen once
    here: the slopes of relu, sigmoid and tanh are taken from the saved output (ψ' = 1[y>0],
    y(1−y), 1−y²: ``activations.DERIVATIVES_FROM_OUTPUT``), the others from the input; the
    backward product g · ψ' is written into the new array of slopes when their dtypes agree.
    """

    def __init__(self, activation, alpha=0.01, name=None):
        if not isinstance(activation, str):
            raise TypeError(f"Activation: the activation is named by a string, got "
                            f"{type(activation).__name__}")
        known = activations.NAMES
        if activation not in known:
            raise ValueError(f"Activation: unknown activation {activation!r}; known: "
                             f"{', '.join(known)}")
        super().__init__(name)
        self.activation = activation
        self.alpha = alpha
        self._f = activations.ON_FLOAT_ARRAYS.get(activation)          # ψ on the float input
        self._df_from_output = activations.DERIVATIVES_FROM_OUTPUT.get(activation)
        self._vjp = None                         # dL/dx from (x, y, g) where y gives no ψ'
        if activation == "softmax":
            self._vjp = _softmax_vjp
        elif activation == "linear":
            self._df_from_output, self._vjp = None, _times_one
        elif self._df_from_output is None:                         # ψ' from the input x
            if activation == "leaky_relu":
                self._f = partial(activations.leaky_relu, alpha=alpha)
                df = partial(activations.leaky_relu_derivative, alpha=alpha)
            else:
                self._f, df = activations.get(activation)
            self._vjp = partial(_times_slope, df)

    def forward(self, x, training=True):
        """out = ψ(x), same shape and dtype as x (softmax over the last axis); an integer or
        boolean x is taken as float64, as by the functions of ``nnlib.activations``."""
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        out = self._f(x)
        self._cache = (x, out)
        return out

    def backward(self, grad_out):
        """dL/dx = dL/d(out) · ψ'(x), with ψ' from the kept output where it can be (relu,
        sigmoid, tanh); softmax: p · (g − Σ g p)."""
        x, out = self._cache
        if self._df_from_output is None:
            return self._vjp(x, out, grad_out)
        slope = self._df_from_output(out)                   # a new array of ψ'(x)
        if slope.dtype != grad_out.dtype:
            return grad_out * slope
        slope *= grad_out                                   # the product, written into it
        return slope

    def __repr__(self):
        return f"Activation({self.activation!r}, name={self.name!r})"
class Softmax(Activation):
    """Softmax over the last axis (lectures 08, 09): p_k = exp(x_k − m) / Σ_j exp(x_j − m).

    Shapes: (N, K) → (N, K), rows sum to 1. Backward: dL/dx = p · (g − Σ_k g_k p_k). A model
    whose output layer is a Softmax trained with categorical cross-entropy skips this backward
    and hands the layer below the simpler (p − y)/N (lecture 11).
    """

    def __init__(self, name=None):
        super().__init__("softmax", name=name)
