"""Helpers shared by the plotting modules: axes creation, class colours and markers, checks."""
from __future__ import annotations

import numpy as np

from .. import style

#: Markers paired with the palette colours, so classes differ in shape as well as colour.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def new_axes(ax, figsize):
    """Return ``ax`` if given, else the Axes of a new figure of ``figsize`` (inches)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize)
    return ax


def class_color(i):
    """The palette colour of class index ``i`` (Okabe–Ito, cycling after eight classes)."""
    return style.COLORS[i % len(style.COLORS)]


def class_marker(i):
    """The marker of class index ``i``."""
    return MARKERS[i % len(MARKERS)]


def class_name(c, class_names):
    """How class ``c`` is called in a legend: ``class_names[c]`` if given, else "class c"."""
    if class_names is None:
        return f"class {c}"
    if isinstance(class_names, (list, tuple)) and not 0 <= c < len(class_names):
        raise ValueError(f"class_names has {len(class_names)} names, none for class {c} "
                         "(use a dict such as {-1: 'no', 1: 'yes'} for labels that are not 0 … K−1)")
    try:
        return str(class_names[c])
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"class_names has no entry for class {c}: got {class_names!r}") from None


def points_2d(name, X):
    """``X`` as a float array (N, 2), or a ValueError naming its shape / the bad entries."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2) (two input features to plot), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} of shape {X.shape} contains NaN or inf")
    return X


def labels_1d(name, y, n=None):
    """``y`` as an int array (N,) of labels, checking its length against ``n``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:          # one-hot rows → labels
        y = np.argmax(y, axis=1)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(f"{name} must be labels of shape (N,), got {y.shape}")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} labels but there are {n} examples")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold whole-number class labels, got e.g. "
                             f"{y[~(y == np.round(y))][:3].tolist()}")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64)
