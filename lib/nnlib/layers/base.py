"""The layer contract shared by every layer of the library (lectures 13 and 18).

A layer is a small object with

* ``params``: dict name → ndarray, the trainable arrays (optimizers update them in place);
* ``grads``: dict with the same keys, filled by ``backward`` with dL/d(param);
* ``forward(x, training=True) -> out``: computes the output and remembers what the backward
  pass needs (its *cache*);
* ``backward(grad_out) -> grad_x``: given dL/d(out) returns dL/dx and fills ``grads``.
  A layer whose dL/dx costs real work (Dense: the product G Wᵀ) may also take a keyword
  ``input_grad=True``: a caller that has no use for dL/dx passes ``input_grad=False`` and the
  layer returns None after filling ``grads``. A model does so for the layers that read its
  input, the data, as PyTorch skips gradients for inputs that do not require them.

Non-trainable arrays that are part of the model (batch norm's running mean/variance) live in
``state``. A layer may be *called* on a symbolic tensor of the functional API,
``h = Dense(16)(inp)``; that records a node of the graph and computes nothing (lecture 18).
"""
from __future__ import annotations

import functools
import inspect
import itertools

import numpy as np

from nnlib.graph import call_layer

__all__ = ["Layer", "backward_without_input_grad"]

_COUNTERS: dict = {}


def _auto_name(kind):
    counter = _COUNTERS.setdefault(kind, itertools.count(1))
    return f"{kind}_{next(counter)}"


class Layer:
    """Base class of all layers (lecture 13).

    Subclasses implement ``build(input_shape, dtype)`` when they own parameters,
    ``compute_output_shape(input_shape)`` and ``forward``/``backward``. Shapes passed to
    ``build`` and ``compute_output_shape`` leave out the batch axis: a Dense layer on inputs of
    shape (N, 11) receives ``(11,)``.

    ``l2`` is the coefficient λ of an L2 penalty λ·Σ W² on the arrays named in ``regularized``
    (weights, not biases); the model adds the penalty to the loss and 2λW to the gradient
    (lecture 15). ``trainable = False`` freezes the layer: a model compiled afterwards leaves
    its parameters alone (feature extraction with a trained layer, lecture 21).
    """

    regularized: tuple = ()

    def __init__(self, name=None):
        self.name = name or _auto_name(type(self).__name__.lower())
        self.params: dict = {}
        self.grads: dict = {}
        self.state: dict = {}
        self.l2 = 0.0
        self.trainable = True
        self.built = False
        self.input_shape = None
        self._cache = None

    # -- construction --------------------------------------------------------------------------
    def build(self, input_shape, dtype=np.float64):
        """Create the parameters for inputs of shape (N, *input_shape). Default: none."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def ensure_built(self, input_shape, dtype=np.float64):
        """Build on first use; afterwards check that ``input_shape`` matches the built one."""
        input_shape = tuple(int(s) for s in input_shape)
        if not self.built:
            self.build(input_shape, dtype)
        elif self.input_shape is not None and not self._accepts(input_shape):
            raise ValueError(f"layer {self.name!r} was built for inputs of shape "
                             f"(N, {', '.join(map(str, self.input_shape))}) but received "
                             f"(N, {', '.join(map(str, input_shape))})")

    def _accepts(self, input_shape):
        """Layers without parameters take any shape; others the shape they were built for."""
        return not self.params or tuple(input_shape) == tuple(self.input_shape)

    def compute_output_shape(self, input_shape):
        """Shape of one example's output for one example's input shape. Default: unchanged."""
        return tuple(input_shape)

    # -- the contract --------------------------------------------------------------------------
    def on_fit_start(self, seed, index):
        """Called by ``fit`` before training, with fit's ``seed`` and the layer's position.

        Default: nothing. A layer that draws random numbers while training may take its
        generator from them here (``Dropout`` does when it has no seed of its own).
        """

    def forward(self, x, training=True):
        """out = layer(x); remembers what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, grad_out):
        """dL/dx from dL/d(out); fills ``self.grads`` (see the module's note on ``input_grad``)."""
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------
    def count_params(self):
        """Number of trainable scalars: Σ over ``params`` of the array sizes."""
        return int(sum(p.size for p in self.params.values()))

    def l2_penalty(self):
        """λ · Σ_{W in regularized} Σ W² (0.0 when ``l2`` is 0)."""
        if not self.l2:
            return 0.0
        return float(self.l2 * sum(np.sum(self.params[k] ** 2) for k in self.regularized))

    def get_weights(self):
        """Copies of ``params`` and ``state``: {"params": {...}, "state": {...}}."""
        return {"params": {k: v.copy() for k, v in self.params.items()},
                "state": {k: v.copy() for k, v in self.state.items()}}

    def set_weights(self, weights):
        """Copy arrays from ``get_weights()`` back *in place* (optimizer state stays attached)."""
        for group in ("params", "state"):
            mine = getattr(self, group)
            for k, v in weights.get(group, {}).items():
                if mine[k].shape != np.shape(v):
                    raise ValueError(f"set_weights: {self.name}.{k} has shape {mine[k].shape}, "
                                     f"got {np.shape(v)}")
                mine[k][...] = v

    def __call__(self, tensor):
        """Functional API (lecture 18): ``Dense(4)(inp)`` records a node and returns a tensor."""
        return call_layer(self, tensor)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


@functools.lru_cache(maxsize=None)
def _takes_input_grad(layer_type):
    return "input_grad" in inspect.signature(layer_type.backward).parameters


def backward_without_input_grad(layer, grad_out):
    """``layer.backward(grad_out)`` for a caller with no use for dL/dx (the layer reads the data).

    Passes ``input_grad=False`` to layers whose ``backward`` takes it, so they skip that work;
    any other layer (one written for lecture 13's plain contract) is called as usual. Returns
    None; the parameter gradients are in ``layer.grads`` either way.
    """
    if _takes_input_grad(type(layer)):
        layer.backward(grad_out, input_grad=False)
    else:
        layer.backward(grad_out)
