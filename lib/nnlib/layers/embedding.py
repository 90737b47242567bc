"""Embeddings (lecture 22): integer ids (words, characters, tokens) → learnt vectors.

An embedding is a table E of V rows, one vector of D numbers per id; looking up id i returns
row i. It is exactly a Dense layer without bias applied to the one-hot vector of i
(one_hot(i) E = E[i]), computed without ever building the one-hot vectors.
"""
from __future__ import annotations

import numpy as np

from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["as_ids", "embedding", "embedding_backward", "Embedding"]


def as_ids(x, vocab_size, who="embedding"):
    """Integer ids from ``x`` (lecture 22): ints, or floats holding whole numbers (a model feeds
    its inputs as floats), all in 0..vocab_size−1. Returns an intp array of x's shape.

    Raises ``ValueError`` for non-whole numbers and ids out of range (numpy indexing would
    silently read row V−1 for id −1).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who}: ids must be integers, got dtype {x.dtype}")
    ids = x.astype(np.intp)
    if x.dtype.kind == "f" and not np.array_equal(ids, x):
        raise ValueError(f"{who}: ids must be whole numbers, got e.g. "
                         f"{x[ids != x][:3].tolist()}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = np.unique(ids[(ids < 0) | (ids >= vocab_size)])[:5]
        raise ValueError(f"{who}: ids must lie in 0..{vocab_size - 1} for a table of "
                         f"{vocab_size} rows, got {bad.tolist()}")
    return ids


def embedding(ids, table):
    """Look up rows of the table (lecture 22): out[n, t] = E[ids[n, t]]. Returns ``(out, cache)``.

    Shapes: ids (N, T) (any shape) of integers in 0..V−1, table E (V, D) → out (N, T, D)
    (ids.shape + (D,)). The same as one_hot(ids) @ E.
    """
    return table[ids], (ids, table.shape)


def embedding_backward(dout, cache):
    """Gradient of the table (lecture 22): dE[i] = Σ over positions (n, t) with ids[n, t] = i of
    dout[n, t]. Returns ``dtable`` of shape (V, D).

    A row that appears several times collects the SUM of its gradients (``np.add.at``, which,
    unlike ``dE[ids] += dout``, accumulates repeated indices); rows that do not appear get 0.
    There is no gradient for the ids: they are integers, not parameters.
    """
    ids, shape = cache
    dtable = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dtable, ids.reshape(-1), dout.reshape(-1, shape[1]))
    return dtable


class Embedding(Layer):
    """Embedding layer (lecture 22): ids (N, T) → vectors (N, T, D), a learnt table E (V, D).

    ``vocab_size`` V is the number of ids (0..V−1), ``dim`` D the size of each vector. The table
    starts as N(0, 0.05²) draws (``init`` names another initializer; ``seed`` seeds it).
    Forward: out = E[ids]; backward: dE accumulates dout at the rows looked up (see
    ``embedding_backward``) and returns None, since ids have no gradient; use the layer first
    in a model. Ids may arrive as floats holding whole numbers (models convert their inputs).
    """

    def __init__(self, vocab_size, dim, init="normal", seed=None, name=None, dtype=None):
        super().__init__(name)
        for what, v in (("vocab_size", vocab_size), ("dim", dim)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Embedding: {what} must be a positive integer, got {v!r}")
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        self.init, self.seed = init, seed
        self.dtype = np.dtype(dtype or np.float64)

    def build(self, input_shape, dtype=None):
        """Create the table E (V, D) in the layer's dtype (float64 unless given)."""
        rng = np.random.default_rng(self.seed)
        self.params = {"E": initialize(self.init, (self.vocab_size, self.dim), rng, self.dtype)}
        self.grads = {"E": np.zeros_like(self.params["E"])}
        super().build(input_shape, dtype)

    def _accepts(self, input_shape):
        return True                                   # any number and layout of ids

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.dim,)

    def forward(self, x, training=True):
        """out = E[ids]. Shapes: (N, T) → (N, T, D)."""
        if not self.built:
            self.ensure_built(np.shape(x)[1:])
        ids = as_ids(x, self.vocab_size, f"Embedding {self.name!r}")
        out, self._cache = embedding(ids, self.params["E"])
        return out

    def backward(self, grad_out):
        """Fills dE (repeated ids accumulate); returns None (ids have no gradient)."""
        self.grads["E"] = embedding_backward(grad_out, self._cache)
        return None
