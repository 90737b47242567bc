"""Values as plain JSON, both ways: what a check sends to a function and what the function returned.

Only data crosses between the grader and a student's kernel, never code or pickles: ``None``,
booleans, numbers (including nan and ±inf), strings, lists, tuples, dicts with string keys and
numpy arrays of booleans, integers, floats or complex numbers. Anything else is encoded as
``{"unsupported": type name, "repr": a short repr}`` and can never equal an expected value.

    encode(value) -> a JSON-able structure        decode(structure) -> the value
    dumps(value) / loads(text)                    the same, as text

``decode`` accepts only what ``encode`` makes and refuses deeper nesting or bigger arrays than
``MAX_ITEMS``, so a hostile structure cannot blow up the reader.
"""
from __future__ import annotations

import base64
import json
import math

import numpy as np

MAX_DEPTH = 20
MAX_ITEMS = 5_000_000          # entries of one array, or items of one list
_KINDS = "biufc"                # bool, int, unsigned, float, complex


def _number(x):
    x = float(x)
    if math.isnan(x):
        return {"float": "nan"}
    if math.isinf(x):
        return {"float": "inf" if x > 0 else "-inf"}
    return x


def encode(value, depth=0):
    """``value`` as a JSON-able structure (see the module docstring)."""
    if depth > MAX_DEPTH:
        return {"unsupported": "nesting", "repr": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return {"int": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return _number(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (complex, np.complexfloating)):
        return {"complex": [_number(value.real), _number(value.imag)]}
    if isinstance(value, np.ndarray) and value.dtype.kind in _KINDS:
        data = np.ascontiguousarray(value)
        return {"ndarray": base64.b64encode(data.tobytes()).decode("ascii"),
                "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple":
                [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        text = "?"
    return {"unsupported": type(value).__name__[:60], "repr": text[:200]}


class Unsupported:
    """A value that could not be sent as data (a function, an object, …): never equal to anything."""

    def __init__(self, type_name, text):
        # on one line: the text is the student's code's, and a line of its own in a check's
        # message could pass for one of the judge's ("✓ all checks passed")
        self.type_name = " ".join(str(type_name)[:60].split())
        self.text = " ".join(str(text)[:200].split())

    def __repr__(self):
        return f"<{self.type_name} {self.text}>"


def _float(x):
    if isinstance(x, dict):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[x["float"]]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise ValueError(f"not a number: {x!r}"[:80])


def decode(data, depth=0):
    """The value that ``encode`` turned into ``data``; ValueError for anything else."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, (int, float)):
        return float(data)
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise ValueError(f"not an encoded value: {type(data).__name__}")
    if "float" in data:
        return _float(data)
    if "int" in data:
        text = data["int"]
        if not isinstance(text, str) or len(text) > 400:
            raise ValueError("bad integer")
        return int(text)
    if "complex" in data:
        re_, im = data["complex"]
        return complex(_float(re_), _float(im))
    if "ndarray" in data:
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(n) for n in data["shape"])
        if dtype.kind not in _KINDS or dtype.hasobject or len(shape) > 32 or any(n < 0 for n in shape):
            raise ValueError("bad array")
        size = math.prod(shape)
        if size > MAX_ITEMS:
            raise ValueError("array too large")
        raw = base64.b64decode(data["ndarray"], validate=True)
        if len(raw) != size * dtype.itemsize:
            raise ValueError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    for kind in ("list", "tuple"):
        if kind in data:
            items = data[kind]
            if not isinstance(items, list) or len(items) > MAX_ITEMS:
                raise ValueError(f"bad {kind}")
            out = [decode(v, depth + 1) for v in items]
            return out if kind == "list" else tuple(out)
    if "dict" in data:
        items = data["dict"]
        if not isinstance(items, dict):
            raise ValueError("bad dict")
        return {str(k): decode(v, depth + 1) for k, v in items.items()}
    if "unsupported" in data:
        return Unsupported(data.get("unsupported"), data.get("repr", ""))
    raise ValueError("not an encoded value")


def dumps(value):
    """``value`` encoded, as JSON text."""
    return json.dumps(encode(value), allow_nan=False)


def loads(text):
    """The value that ``dumps`` wrote."""
    return decode(json.loads(text))
