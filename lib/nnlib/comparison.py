"""Comparing a received value with an expected one, and describing both, for check messages.

Used by ``nnlib.checking``. The comparison runs in plain Python on ``ndarray.tolist()`` values
(numpy's own comparison functions are not used, so replacing them changes nothing), with the
math functions it needs taken when this module is imported.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["describe", "shape_of", "compare"]

_asarray = np.asarray
_ndarray = np.ndarray
_isnan, _isinf = math.isnan, math.isinf


def describe(x, max_items=8):
    """A short, readable description of a value for a message: arrays show shape and entries."""
    if isinstance(x, _ndarray):
        if x.size <= max_items:
            body = np.array2string(x, precision=6, separator=", ", suppress_small=False)
            return f"array({body})" + (f" of shape {x.shape}" if x.ndim > 1 else "")
        flat = ", ".join(f"{v:.6g}" for v in x.ravel()[:4].tolist())
        return f"array of shape {x.shape}, dtype {x.dtype} (first entries {flat}, …)"
    if isinstance(x, float):
        return f"{x:.10g}"
    if isinstance(x, (list, tuple)) and len(x) > max_items:
        return f"{type(x).__name__} of length {len(x)}"
    return repr(x)


def shape_of(x):
    """Shape of an array-like, as a tuple."""
    return tuple(x.shape) if isinstance(x, _ndarray) else tuple(_asarray(x).shape)


def _flat_floats(x):
    """Flatten an array-like into a list of Python floats (no numpy functions involved)."""
    arr = x if isinstance(x, _ndarray) else _asarray(x)
    out = arr.ravel().tolist() if isinstance(arr, _ndarray) else [arr]
    return [float(v) for v in out]


def compare(received, expected, rtol, atol):
    """Compare two array-likes entry by entry: |received − expected| ≤ atol + rtol·|expected|. Returns (ok, problem) where problem explains the first failure."""
    try:
        r_shape = shape_of(received)
    except Exception:  # not convertible to an array at all
        return False, f"received {describe(received)} of type {type(received).__name__}, " \
                      f"expected an array of shape {shape_of(expected)}"
    e_shape = shape_of(expected)
    if r_shape != e_shape:
        return False, f"wrong shape: expected {e_shape}, received {r_shape}"
    try:
        r, e = _flat_floats(received), _flat_floats(expected)
    except (TypeError, ValueError):
        return False, f"received values that are not numbers: {describe(received)}"
    worst, worst_err = None, -1.0
    for i, (a, b) in enumerate(zip(r, e)):
        if math.isnan(a) and not math.isnan(b):
            err = math.inf
        elif math.isnan(b):
            err = 0.0 if math.isnan(a) else math.inf
        elif math.isinf(a) or math.isinf(b):
            err = 0.0 if a == b else math.inf
        else:
            err = abs(a - b) - (atol + rtol * abs(b))
        if err > worst_err:
            worst, worst_err = i, err
    if worst is None or worst_err <= 0:
        return True, ""
    index = tuple(int(k) for k in np.unravel_index(worst, e_shape)) if e_shape else ()
    a, b = r[worst], e[worst]
    return False, (f"worst entry at index {index}: expected {b:.10g}, received {a:.10g} "
                   f"(error {abs(a - b) if not (_isnan(a) or _isinf(a)) else a:.3g})")
