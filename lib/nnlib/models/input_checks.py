"""Checks on the data entering a model (lecture 13): done once, at the entrance.

Inside the training loop nothing is checked again, so these functions must catch what would
otherwise fail deep inside (or, worse, silently broadcast): wrong shapes, NaN or infinite
values, class labels out of range. Every error is a ``ValueError``/``TypeError`` whose message
names the shapes or values involved.
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_list", "check_inputs", "check_targets"]


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


def as_list(data, n, names, what):
    """Accept one array, a list/tuple of n arrays, or a dict {name: array}; return a list.

    (lecture 18) For a single input or output, a one-element list holding an array is unwrapped.
    """
    if isinstance(data, dict):
        missing = [k for k in names if k not in data]
        if missing:
            raise ValueError(f"{what}: no array given for {missing}; the model's names are "
                             f"{list(names)}, got keys {list(data)}")
        return [data[k] for k in names]
    if (isinstance(data, (list, tuple)) and n == 1 and len(data) == 1
            and isinstance(data[0], np.ndarray)):
        return list(data)
    if isinstance(data, (list, tuple)) and n > 1:
        if len(data) != n:
            raise ValueError(f"{what}: the model has {n} of them ({list(names)}) but "
                             f"{len(data)} arrays were given")
        return list(data)
    if n != 1:
        raise ValueError(f"{what}: the model has {n} of them ({list(names)}); pass a list of "
                         f"{n} arrays or a dict")
    return [data]


def _finite(a, what):
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))
        first = tuple(int(i) for i in bad[0])
        raise ValueError(f"{what} contains {len(bad)} NaN or infinite value(s), the first at "
                         f"index {first} (value {a[first]}); clean or impute the data first")


def check_inputs(arrays, shapes, names, dtype):
    """(lecture 13) Validate and convert input arrays: numeric, finite, shape (N, *shape), same N.

    ``shapes`` lists each input's per-example shape (None entries are not checked yet).
    Returns the arrays as ``dtype`` (no copy when they already are) and N.
    """
    out, n = [], None
    for a, shape, name in zip(arrays, shapes, names):
        what = f"input {name!r}" if len(names) > 1 else "X"
        a = np.asarray(a)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be numeric, got dtype {a.dtype}")
        if a.ndim == 0 or len(a) == 0:
            raise ValueError(f"{what} must have a first axis over at least one example, got "
                             f"shape {_fmt(a.shape)}")
        if shape is not None and tuple(a.shape[1:]) != tuple(shape):
            hint = ""
            if a.ndim == 1 and tuple(shape) == (1,):
                hint = "; reshape a single feature with X.reshape(-1, 1)"
            elif a.ndim == 1 and a.shape[0] == int(np.prod(shape)):
                hint = "; for a single example use X[None, :]"
            raise ValueError(f"{what} has shape {_fmt(a.shape)} but the model expects "
                             f"(N, {', '.join(map(str, shape))}){hint}")
        a = a.astype(dtype, copy=False)
        _finite(a, what)
        if n is not None and len(a) != n:
            raise ValueError(f"all inputs need the same number of examples; got {n} and "
                             f"{len(a)} (input {name!r} has shape {_fmt(a.shape)})")
        n = len(a)
        out.append(a)
    return out, n


def check_targets(y, objective, out_shape, n, name, dtype):
    """(lecture 13) Validate one output's targets against its objective and the output's shape.

    Categorical: integer labels (N,) with values in 0..K−1 (returned as intp), or one-hot
    (N, K). Binary: values in [0, 1], (N,) accepted for an (N, 1) output. Regression: the
    output's shape, (N,) accepted for an (N, 1) output. Returns the converted targets.
    """
    what = f"targets for output {name!r}"
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got dtype {y.dtype}")
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{what}: got shape {_fmt(np.shape(y))} for {n} examples; the first "
                         f"axis must have length {n}")
    _finite(y, what)
    out_shape = tuple(out_shape)
    if objective.kind == "categorical":
        K = out_shape[-1]
        if y.ndim == 1:
            if y.dtype.kind == "f" and np.any(y != np.round(y)):
                raise ValueError(f"{what}: class labels must be whole numbers, got e.g. "
                                 f"{y[y != np.round(y)][:3]}")
            if y.size and (y.min() < 0 or y.max() >= K):
                bad = np.unique(y[(y < 0) | (y >= K)])[:5]
                raise ValueError(f"{what}: labels must lie in 0..{K - 1} for an output with "
                                 f"{K} classes, got {bad.tolist()} (labels range over "
                                 f"{y.min()}..{y.max()})")
            return y.astype(np.intp)
        if y.shape[1:] != out_shape:
            raise ValueError(f"{what}: one-hot targets must have shape (N, {K}), got "
                             f"{_fmt(y.shape)}; or pass integer labels of shape (N,)")
        return y.astype(dtype, copy=False)
    if y.ndim == 1 and out_shape == (1,):
        y = y.reshape(-1, 1)
    if y.shape[1:] != out_shape:
        raise ValueError(f"{what}: shape {_fmt(y.shape)} does not match the model's output "
                         f"shape (N, {', '.join(map(str, out_shape))})")
    if objective.kind == "binary" and y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"{what}: {objective.name} needs targets in [0, 1], got values from "
                         f"{y.min()} to {y.max()}")
    return y.astype(dtype, copy=False)
