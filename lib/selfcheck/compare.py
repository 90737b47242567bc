"""Comparing a received value with an expected one, and describing both, for the checks' messages.

    describe(x)                      a short readable description: arrays show shape and entries
    shape_of(x)                      the shape of an array-like, as a tuple
    structure_of(x)                  the form of a value (dict keys, array shapes and kinds)
    compare(received, expected, rtol, atol) -> (ok, detail)
        entry by entry, |received − expected| ≤ atol + rtol·|expected|; nan equals nan, ±inf
        equals itself; complex numbers answer a real question only with zero imaginary parts;
        detail names the worst entry when they differ
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["describe", "shape_of", "structure_of", "compare", "cut", "MAX_DESCRIPTION"]


#: The longest description a message shows (a nested value is cut here), and how deep a
#: description goes into lists and tuples: a message about a hidden check shows at most a few
#: numbers of what came back, however the value is packed.
MAX_DESCRIPTION = 200
MAX_DEPTH = 2


def cut(text, limit):
    """``text`` if it has at most ``limit`` characters, else its start and " …" (``limit`` in all)."""
    return text if len(text) <= limit else text[:limit - 2] + " …"


def describe(x, max_items=8, _depth=0, digits=None):
    """A short, readable description of a value for a message: arrays show shape and entries.

    At most ``max_items`` entries of an array are shown (only the first 4 of a larger one), lists
    and tuples are described ``MAX_DEPTH`` levels deep, and the whole text is cut at
    ``MAX_DESCRIPTION`` characters. ``digits``: numbers shown to that many significant digits
    (a hidden check's message: enough to see how far off an answer is, too few to copy)."""
    return cut(_describe(x, max_items, _depth, digits), MAX_DESCRIPTION)


#: a shape a hidden check's message shows in full: at most this many axes of at most 9999
#: entries each (a returned array's shape is the code's to choose, like its numbers)
SHOWN_AXES = 4


def shape_text(shape, digits=None):
    """``shape`` as a message shows it; with ``digits`` (a hidden check), a shape of more axes
    or longer ones than any answer has is shown by its number of axes only."""
    shape = tuple(shape)
    if digits is None or (len(shape) <= SHOWN_AXES and all(0 <= n <= 9999 for n in shape)):
        return str(shape)
    return f"({len(shape)} axes, not shown)"


def _number_text(v, digits):
    """A number to ``digits`` significant digits, integers too (any size)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    try:
        return f"{float(v):.{digits}g}" if not isinstance(v, complex) else f"{v:.{digits}g}"
    except OverflowError:
        return f"an integer of about {int(abs(int(v)).bit_length() * 0.30103) + 1} digits"


def _describe(x, max_items, depth, digits=None):
    if isinstance(x, np.ndarray):
        if x.size <= max_items:
            if digits is not None and x.dtype.kind in "fciu":
                body = np.array2string(x, separator=", ", formatter={
                    "float_kind": lambda v: f"{v:.{digits}g}",
                    "complex_kind": lambda v: f"{v:.{digits}g}",
                    "int_kind": lambda v: _number_text(v, digits)})
            else:
                body = np.array2string(x, precision=6, separator=", ", suppress_small=False)
            return (f"array({body})"
                    + (f" of shape {shape_text(x.shape, digits)}" if x.ndim > 1 else ""))
        flat = ", ".join(f"{v:.{digits or 6}g}" if digits is None else _number_text(v, digits)
                         for v in x.ravel()[:4].tolist())
        return (f"array of shape {shape_text(x.shape, digits)}, dtype {x.dtype} (first entries "
                f"{flat}, …)")
    if isinstance(x, float):
        return f"{x:.{digits or 10}g}"
    if isinstance(x, str):
        if digits is not None:       # a hidden check's message: text the code chose is not shown
            return f"a string of {len(x)} characters"
        return repr(x[:60] + "…") if len(x) > 60 else repr(x)
    if isinstance(x, (list, tuple)) and (len(x) > max_items or depth >= MAX_DEPTH):
        return f"{type(x).__name__} of length {len(x)}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_describe(v, max_items, depth + 1, digits) for v in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    if digits is not None:           # a hidden check's message: no repr the code could choose
        if isinstance(x, dict):
            inner = ", ".join(f"{_describe(k, max_items, depth + 1, digits)}: "
                              f"{_describe(v, max_items, depth + 1, digits)}"
                              for k, v in list(x.items())[:max_items])
            return "{" + inner + (", …" if len(x) > max_items else "") + "}"
        if not isinstance(x, (int, bool, np.number, np.bool_, type(None))):
            return f"a {type(x).__name__[:40]}"
        if x is not None:                # integers too: their digits are the code's to choose
            return _number_text(x, digits)
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


def structure_of(x, _depth=0):
    """The form of a value, as JSON-ready data: a number or an array of numbers gives
    ``["array", shape, kind]`` (kind "f" for floats, "i" for integers and booleans, "c" for
    complex), a dict ``{"dict": {key: form}}``, a list or tuple ``["list", [forms]]``, anything
    else ``["other", type name]``. Two values of the same form have the same keys, the same shapes
    and kinds of numbers: a check can ask for the form before it computes anything on a value."""
    if isinstance(x, dict) and _depth < MAX_DEPTH + 2:
        return {"dict": {str(k): structure_of(v, _depth + 1) for k, v in sorted(x.items(), key=str)}}
    try:
        arr = x if isinstance(x, np.ndarray) else np.asarray(x)
        kind = arr.dtype.kind
    except Exception:
        kind = None
    if kind is not None and kind in "biufc":
        return ["array", list(arr.shape), "i" if kind in "bu" else kind]
    if isinstance(x, (list, tuple)) and _depth < MAX_DEPTH + 2 and len(x) <= 64:
        return ["list", [structure_of(v, _depth + 1) for v in x]]
    return ["other", type(x).__name__[:60]]


def _flat_floats(x):
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    return [complex(v) if isinstance(v, complex) else float(v) for v in arr.ravel().tolist()]


def compare(received, expected, rtol, atol, digits=None):
    """(ok, detail): ``received`` equals ``expected`` entry by entry within atol + rtol·|expected|.

    ``digits``: the detail shows numbers to that many significant digits (see ``describe``)."""
    try:
        e_shape = shape_of(expected)
    except (ValueError, TypeError):
        e_shape = None
    if e_shape is None:  # an expected value that is not numeric data: compare exactly
        ok = received == expected if type(received) is type(expected) else False
        return (True, "") if ok is True else (False, f"expected {describe(expected, digits=digits)}")
    try:
        r_shape = shape_of(received)
    except Exception:
        return False, (f"received a value of type {type(received).__name__[:60]}, expected an "
                       f"array of shape {e_shape}")
    if r_shape != e_shape:
        return False, (f"wrong shape: expected {shape_text(e_shape)}, received "
                       f"{shape_text(r_shape, digits)}")
    try:
        r, e = _flat_floats(received), _flat_floats(expected)
    except (TypeError, ValueError):
        return False, "received values that are not numbers"
    worst, worst_err = None, -1.0
    for i, (a, b) in enumerate(zip(r, e)):
        if isinstance(a, complex) and not isinstance(b, complex):
            if a.imag != 0:                  # nan included: a complex answer to a real question
                shown = f" (entry {i} is {a})" if digits is None else f" (entry {i})"
                return False, f"received complex numbers{shown} where real numbers are expected"
            a = r[i] = a.real
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
        if err != err:                       # nan (from a complex nan): never within tolerance
            err = math.inf
        if err > worst_err:
            worst, worst_err = i, err
    if worst is None or worst_err <= 0:
        return True, ""
    index = tuple(int(k) for k in np.unravel_index(worst, e_shape)) if e_shape else ()
    a, b = r[worst], e[worst]
    if isinstance(a, complex) or isinstance(b, complex):
        if digits is not None:
            return False, f"worst entry at index {index}: expected about {b:.{digits}g}"
        return False, f"worst entry at index {index}: expected {b}, received {a}"
    error = abs(a - b) if not (math.isnan(a) or math.isinf(a)) else a
    if digits is not None:
        return False, (f"worst entry at index {index}: expected about {b:.{digits}g}, received "
                       f"about {a:.{digits}g} (off by about {error:.1g})")
    return False, (f"worst entry at index {index}: expected {b:.10g}, received {a:.10g} "
                   f"(error {error:.3g})")
