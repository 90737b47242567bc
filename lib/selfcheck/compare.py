"""Comparing a received value with an expected one, and describing both, for the checks' messages.

    describe(x)                      a short readable description: arrays show shape and entries
    shape_of(x)                      the shape of an array-like, as a tuple
    compare(received, expected, rtol, atol) -> (ok, detail)
        entry by entry, |received − expected| ≤ atol + rtol·|expected|; nan equals nan, ±inf
        equals itself; detail names the worst entry when they differ
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["describe", "shape_of", "compare"]


def describe(x, max_items=8):
    """A short, readable description of a value for a message: arrays show shape and entries."""
    if isinstance(x, np.ndarray):
        if x.size <= max_items:
            body = np.array2string(x, precision=6, separator=", ", suppress_small=False)
            return f"array({body})" + (f" of shape {x.shape}" if x.ndim > 1 else "")
        flat = ", ".join(f"{v:.6g}" for v in x.ravel()[:4].tolist())
        return f"array of shape {x.shape}, dtype {x.dtype} (first entries {flat}, …)"
    if isinstance(x, float):
        return f"{x:.10g}"
    if isinstance(x, str):
        return repr(x[:60] + "…") if len(x) > 60 else repr(x)
    if isinstance(x, (list, tuple)) and len(x) > max_items:
        return f"{type(x).__name__} of length {len(x)}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(describe(v) for v in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    text = repr(x)
    return text[:120] + " …" if len(text) > 120 else text


def shape_of(x):
    """Shape of an array-like, as a tuple (ValueError if it is not one)."""
    if isinstance(x, np.ndarray):
        return tuple(x.shape)
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise ValueError("not an array of numbers")
    return tuple(arr.shape)


def _flat_floats(x):
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    return [complex(v) if isinstance(v, complex) else float(v) for v in arr.ravel().tolist()]


def compare(received, expected, rtol, atol):
    """(ok, detail): ``received`` equals ``expected`` entry by entry within atol + rtol·|expected|."""
    try:
        e_shape = shape_of(expected)
    except (ValueError, TypeError):
        e_shape = None
    if e_shape is None:  # an expected value that is not numeric data: compare exactly
        ok = received == expected if type(received) is type(expected) else False
        return (True, "") if ok is True else (False, f"expected {describe(expected)}")
    try:
        r_shape = shape_of(received)
    except Exception:
        return False, (f"received {describe(received)} of type {type(received).__name__}, "
                       f"expected an array of shape {e_shape}")
    if r_shape != e_shape:
        return False, f"wrong shape: expected {e_shape}, received {r_shape}"
    try:
        r, e = _flat_floats(received), _flat_floats(expected)
    except (TypeError, ValueError):
        return False, f"received values that are not numbers: {describe(received)}"
    worst, worst_err = None, -1.0
    for i, (a, b) in enumerate(zip(r, e)):
        if isinstance(a, complex) or isinstance(b, complex):
            err = abs(a - b) - (atol + rtol * abs(b))
        elif math.isnan(a) and not math.isnan(b):
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
    if isinstance(a, complex) or isinstance(b, complex):
        return False, f"worst entry at index {index}: expected {b}, received {a}"
    error = abs(a - b) if not (math.isnan(a) or math.isinf(a)) else a
    return False, (f"worst entry at index {index}: expected {b:.10g}, received {a:.10g} "
                   f"(error {error:.3g})")
