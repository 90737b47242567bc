"""Preparing data for training: train/validation split, one-hot labels, standardization
(lectures 09, 13 and 17).

>>> import numpy as np
>>> from nnlib import data
>>> data.one_hot(np.array([0, 2, 1]), 3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]])
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import finite_array, integer_labels

__all__ = ["train_val_split", "one_hot", "standardize"]


def train_val_split(X, y, val_fraction=0.2, seed=0, stratify=False):
    """Shuffle and split a data set into a training part and a validation part (lecture 13).

    ``X`` (N, ...) and ``y`` (N,) or (N, K) with the same N. A random permutation (from
    ``np.random.default_rng(seed)``) puts round(val_fraction·N) examples in the validation set
    and the rest in the training set. With ``stratify=True`` the split is made class by class
    (classes read from integer labels, or from the argmax of one-hot rows): class c with n_c
    examples gives round(val_fraction·n_c) of them to validation, so both parts keep the class
    proportions. Both parts come back shuffled; dtypes are kept.

    Returns ``X_train, X_val, y_train, y_val`` (the order scikit-learn uses), e.g. for N = 100
    and val_fraction = 0.2: shapes (80, ...), (20, ...), (80,), (20,).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim < 1:
        raise ValueError(f"X and y need a first axis of examples, got shapes {X.shape} and {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of examples, got X {X.shape} and y {y.shape}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real) \
            or not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be a number strictly between 0 and 1, got {val_fraction!r}")
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    if stratify:
        if y.ndim == 2 and y.shape[1] > 1:
            labels = np.argmax(y, axis=1)
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            labels = integer_labels("y", y.reshape(-1))
        else:
            raise ValueError(f"stratify needs labels (N,) or one-hot rows (N, K), got y of shape {y.shape}")
        val_parts, train_parts = [], []
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            k = int(np.round(val_fraction * idx.size))
            val_parts.append(idx[:k])
            train_parts.append(idx[k:])
        val_idx = rng.permutation(np.concatenate(val_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    else:
        k = int(np.round(val_fraction * n))
        perm = rng.permutation(n)
        val_idx, train_idx = perm[:k], perm[k:]
    if val_idx.size == 0 or train_idx.size == 0:
        raise ValueError(f"val_fraction={val_fraction} of N={n} examples leaves "
                         f"{train_idx.size} for training and {val_idx.size} for validation; "
                         "both parts need at least one")
    return X[train_idx], X[val_idx], y[train_idx], y[val_idx]


def one_hot(y, K=None, dtype=np.float64):
    """One-hot encode integer class labels (lecture 09).

    ``y`` (N,) integers in 0 … K−1 → ``Y`` (N, K) with Y[i, y_i] = 1 and 0 elsewhere.
    ``K`` defaults to max(y) + 1. A label outside 0 … K−1 raises ValueError naming it.
    """
    y = integer_labels("y", y)
    if K is None:
        K = int(y.max()) + 1 if y.size else 0
    elif isinstance(K, bool) or not isinstance(K, numbers.Integral) or K < 1:
        raise ValueError(f"K (the number of classes) must be a whole number ≥ 1, got {K!r}")
    K = int(K)
    if y.size and y.max() >= K:
        bad = int(y.max())
        raise ValueError(f"label {bad} (at index {int(np.argmax(y))}) is out of range for K={K} "
                         f"classes (labels must lie in 0 … {K - 1})")
    Y = np.zeros((y.size, K), dtype=dtype)
    Y[np.arange(y.size), y] = 1
    return Y


def standardize(X, mean=None, std=None):
    """Standardize the columns of ``X`` to zero mean and unit standard deviation (lecture 13).

    ``X`` (N, D) → ``Z`` (N, D) with Z = (X − μ) / σ, where μ (D,) and σ (D,) are the column means
    and standard deviations of X, unless given: fit them on the training set and pass them again
    for the validation set, ``Z_val, _, _ = standardize(X_val, mean, std)``. A constant column
    (σ = 0) gets σ = 1, so it maps to zeros instead of NaN. Returns ``Z, mean, std``; a float32
    X gives float32 results.
    """
    X = finite_array("X", X, ndim=2)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std (fitted on the training set) or neither")
    if mean is None:
        if X.shape[0] < 1:
            raise ValueError(f"cannot fit mean and std on an empty X of shape {X.shape}")
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        std = np.where(std > 0, std, 1).astype(X.dtype)
    else:
        mean = finite_array("mean", mean)
        std = finite_array("std", std)
        if mean.shape != (X.shape[1],) or std.shape != (X.shape[1],):
            raise ValueError(f"mean and std must have shape ({X.shape[1]},) for X of shape {X.shape}, "
                             f"got {mean.shape} and {std.shape}")
        if np.any(std <= 0):
            raise ValueError(f"std must be positive, got {std[std <= 0][:3].tolist()}")
        mean, std = mean.astype(X.dtype), std.astype(X.dtype)
    return (X - mean) / std, mean, std
