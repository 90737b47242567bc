"""Symbolic tensors of the functional API: ``Input`` and the record of layer calls (lecture 18).

A ``Tensor`` holds no numbers: it records its per-example shape and which layer call (a node)
produced it. Calling a layer on a tensor, ``h = Dense(16)(inp)``, builds the layer for that
shape and records a node; ``nnlib.models.Model`` later walks these records from the outputs back
to the inputs. This module knows layers only by what they do (``ensure_built``,
``compute_output_shape``, ``merges``), so layers can use it without importing the models.
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["Tensor", "Input", "call_layer"]

_INPUT_IDS = itertools.count(1)


class Tensor:
    """A symbolic tensor of the functional API (lecture 18): per-example ``shape``, its ``node``."""

    def __init__(self, shape, node=None, name=None):
        self.shape = tuple(shape)
        self.node = node
        self.name = name

    def __repr__(self):
        src = "Input" if self.node is None else self.node.layer.name
        return f"Tensor(shape=(N, {', '.join(map(str, self.shape))}), from={src!r})"


class _Node:
    """One call of a layer: input tensor → output tensor (+ the layer's cache of that call).

    A merge layer's node has a list of tensors as ``input``; ``inputs`` is always a list.
    """

    def __init__(self, layer, inp):
        self.layer, self.input = layer, inp
        self.inputs = list(inp) if isinstance(inp, list) else [inp]
        self.output = None
        self.cache = None


def Input(shape, name=None):
    """A model input of per-example shape ``shape`` (an int n means (n,)) (lecture 18).

    ``Input(11)`` stands for data of shape (N, 11).
    """
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if not shape or any(not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
        raise ValueError(f"Input: shape must be a positive int or a tuple of them, got {shape}")
    return Tensor(shape, None, name or f"input_{next(_INPUT_IDS)}")


def call_layer(layer, tensor):
    """``layer(tensor)`` (lecture 18): build the layer for the tensor's shape, record a node.

    A merge layer (``merges = True``, e.g. ``Add``, lecture 22) takes a list of tensors.
    """
    if getattr(layer, "merges", False):
        if (not isinstance(tensor, (list, tuple))
                or not all(isinstance(t, Tensor) for t in tensor)):
            raise TypeError(f"layer {layer.name!r} merges several tensors: call it on a list "
                            f"of them, e.g. {type(layer).__name__}()([a, b])")
        shapes = [t.shape for t in tensor]
        layer.ensure_built(shapes, np.float64)
        node = _Node(layer, list(tensor))
        node.output = Tensor(layer.compute_output_shape(shapes), node, layer.name)
        return node.output
    if not isinstance(tensor, Tensor):
        raise TypeError(f"layer {layer.name!r} was called on a {type(tensor).__name__}; in the "
                        f"functional API call layers on Input(...) tensors or on layer outputs "
                        f"(to compute numbers use layer.forward(x))")
    layer.ensure_built(tensor.shape, np.float64)
    node = _Node(layer, tensor)
    node.output = Tensor(layer.compute_output_shape(tensor.shape), node, layer.name)
    return node.output
