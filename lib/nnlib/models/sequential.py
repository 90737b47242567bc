"""The Sequential model: a stack of layers, each feeding the next (lectures 13 and 18)."""
from __future__ import annotations

import numpy as np

from nnlib.layers import Layer
from nnlib.layers.base import backward_without_input_grad
from nnlib.models.training import BaseModel

__all__ = ["Sequential"]


class Sequential(BaseModel):
    """A plain stack of layers: out = layer_L(... layer_2(layer_1(x))) (lecture 13).

    ``Sequential([Dense(128), Activation("relu"), Dense(10), Softmax()])``. Layers without an
    ``input_dim`` are built from the first data the model sees (in that data's float dtype:
    float32 data gives a float32 model). Forward runs the layers in order, backward in reverse;
    the first layer is told not to compute dL/dx, which nobody needs.
    ``compile``/``fit``/``evaluate``/``predict``/``summary`` come from ``BaseModel``.
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name)
        self.layers = []
        self._in_shape = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (lecture 18: ``model.add(Dense(2))``)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer, got {type(layer).__name__}")
        if any(layer is other for other in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in this model")
        self.layers.append(layer)
        self._trainable = None
        self._built = False

    input_names = ("input",)

    @property
    def output_names(self):
        return (self.layers[-1].name,) if self.layers else ("output",)

    def _output_layers(self):
        return [self.layers[-1]]

    def _input_shapes(self):
        if self._in_shape is None and self.layers and self.layers[0].built \
                and self.layers[0].input_shape is not None:
            return [self.layers[0].input_shape]
        return [self._in_shape]

    def _ensure_built(self, input_shapes, dtype):
        if self._built:
            return
        if not self.layers:
            raise ValueError("this Sequential model has no layers yet")
        shape = tuple(input_shapes[0])
        self._in_shape = shape
        for layer in self.layers:
            layer.ensure_built(shape, dtype)
            shape = layer.compute_output_shape(shape)
        self._out_shape = shape
        self._trainable = None
        self._built = True

    def build(self, input_shape, dtype="float64"):
        """Build every layer for examples of shape ``input_shape`` (without the batch axis)."""
        self._ensure_built([tuple(input_shape)], np.dtype(dtype))
        return self

    def _output_shapes(self):
        return [self._out_shape]

    def _forward(self, xs, training):
        x = xs[0]
        for layer in self.layers:
            x = layer.forward(x, training)
        return [x]

    def _backward(self, grads):
        g = grads[0]
        layers = self.layers
        top = len(layers) - 2 if self.objectives[0].fused else len(layers) - 1
        for layer in layers[top:0:-1]:                      # fused: (p − y)/N skips the softmax
            g = layer.backward(g)
        if top >= 0:
            backward_without_input_grad(layers[0], g)     # its input is the data

    def _summary_rows(self):
        shape = self._input_shapes()[0]
        rows = []
        for layer in self.layers:
            if shape is not None:
                try:
                    shape = layer.compute_output_shape(shape)
                except (ValueError, TypeError):
                    shape = None
            rows.append((layer.name, type(layer).__name__, shape, layer.count_params()))
        return rows

