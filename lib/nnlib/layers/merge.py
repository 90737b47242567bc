"""Merging branches (lecture 22): ``Add`` sums tensors, which makes residual connections.

A residual (skip) connection computes y = x + f(x): the block f only has to learn a
correction to its input, and the gradient reaches x along two paths, dL/dx = G + f'(x)ᵀ G,
one of which passes G through unchanged however deep the stack. In the functional API::

    x = Input((T, D))
    y = Add()([x, Dense(D)(x)])          # y = x + f(x)
"""
from __future__ import annotations

import numpy as np

from nnlib.layers.base import Layer

__all__ = ["Add"]


class Add(Layer):
    """Elementwise sum of several tensors of one shape (lecture 22): out = x₁ + x₂ + … + x_k.

    Called on a list of tensors in the functional API, ``Add()([a, b])``; on arrays,
    ``forward([a, b])``. Backward: every input receives the same gradient,
    dL/dx_i = dL/d(out), so ``backward(G)`` returns the list [G, G, …] (the same array k
    times; do not change it in place). Shapes: k arrays (N, ...) of one shape → (N, ...).
    No parameters.
    """

    #: the functional API passes this layer a LIST of tensors (see ``models.functional``)
    merges = True

    def ensure_built(self, input_shapes, dtype=np.float64):
        """Check that there are at least two inputs and that their shapes agree."""
        self._shapes(input_shapes)
        self.built = True

    def _shapes(self, input_shapes):
        shapes = [tuple(int(s) for s in shape) for shape in input_shapes]
        if len(shapes) < 2:
            raise ValueError(f"Add {self.name!r} sums two or more tensors, got {len(shapes)}")
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"Add {self.name!r}: all inputs must have the same shape, got "
                             f"{', '.join('(N, ' + ', '.join(map(str, s)) + ')' for s in shapes)}")
        return shapes

    def compute_output_shape(self, input_shapes):
        return self._shapes(input_shapes)[0]

    def forward(self, xs, training=True):
        """x₁ + … + x_k. ``xs``: a list of arrays of one shape."""
        if not isinstance(xs, (list, tuple)):
            raise TypeError(f"Add {self.name!r} takes a list of arrays, got "
                            f"{type(xs).__name__}")
        self._shapes([np.shape(x) for x in xs])
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out = out + x
        self._cache = len(xs)
        return out

    def backward(self, grad_out):
        """[G, G, …]: one gradient per input, all equal to dL/d(out)."""
        return [grad_out] * self._cache
