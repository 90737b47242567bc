"""Argument checks shared by the data modules: each raises ValueError/TypeError naming the value."""
from __future__ import annotations

import numbers

import numpy as np


def positive_int(name, value):
    """Return ``value`` as an int, or raise if it is not a whole number ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def non_negative(name, value):
    """Return ``value`` as a float, or raise if it is negative, NaN or not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value}")
    return value


def finite_array(name, value, ndim=None):
    """Return ``value`` as an array; raise if it holds NaN/inf or has the wrong number of axes."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"{name} must have {ndim} axes, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} of shape {arr.shape} contains NaN or inf "
                         f"(first at index {tuple(int(i) for i in bad)})")
    return arr


def integer_labels(name, y):
    """Return ``y`` as a 1-D int64 array of class labels ≥ 0, or raise naming the bad entries."""
    arr = finite_array(name, y, ndim=1)
    if arr.dtype.kind == "f":
        if not np.all(arr == np.round(arr)):
            bad = arr[arr != np.round(arr)][:3]
            raise ValueError(f"{name} must hold whole-number class labels, got values such as {bad.tolist()}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold class labels ≥ 0, got {int(arr.min())}")
    return arr
