"""Small synthetic data sets for the lectures and exercises (lectures 02, 06, 07, 10, 13, 16).

Every generator takes ``seed=`` and is deterministic: the same arguments give the same arrays,
bit for bit. Classification sets return ``X`` (N, 2) float64 and ``y`` (N,) int64 with labels
0 … K−1, ordered by class (class 0 first); shuffle or split them with
:func:`nnlib.data.train_val_split`. No generator draws from numpy's global random state.

>>> from nnlib import data
>>> X, y = data.spirals(100, n_classes=3, seed=0)
>>> X.shape, y.shape
((300, 2), (300,))
"""
from __future__ import annotations

import numpy as np

from ._checks import non_negative, positive_int

__all__ = ["GATES", "logic_gate", "xor", "blobs", "moons", "circles", "spirals", "regression_line"]

#: Truth tables of the two-input logic gates, as the output for inputs (0,0), (0,1), (1,0), (1,1).
GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
}

_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _rng(seed):
    """A fresh numpy Generator for ``seed`` (an int, None, or an existing Generator)."""
    if isinstance(seed, (bool, float)) or not (seed is None or isinstance(seed, (int, np.integer, np.random.Generator))):
        raise TypeError(f"seed must be a whole number, None or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)


def logic_gate(name, bipolar=False):
    """The four-row truth table of a two-input logic gate (lectures 02 and 06).

    ``name`` is one of "and", "or", "nand", "nor", "xor", "xnor" (any case).
    Returns ``X`` (4, 2) float64 with rows (0,0), (0,1), (1,0), (1,1) and the desired outputs
    ``d`` (4,) int64, e.g. AND: d = x₁ ∧ x₂ = (0, 0, 0, 1).
    With ``bipolar=True`` inputs and outputs use −1 for false and +1 for true (x ↦ 2x − 1).
    """
    if not isinstance(name, str):
        raise TypeError(f"a gate is named by a string, got {name!r}")
    key = name.lower()
    if key not in GATES:
        raise ValueError(f"unknown logic gate {name!r}; known gates: {', '.join(GATES)}")
    X = _CORNERS.copy()
    d = np.array(GATES[key], dtype=np.int64)
    if bipolar:
        return 2.0 * X - 1.0, 2 * d - 1
    return X, d


def xor(n_per_corner=25, noise=0.15, seed=0):
    """A noisy XOR problem: Gaussian clouds around the four corners of the unit square (lecture 07).

    Each corner (a, b) ∈ {0, 1}² gets ``n_per_corner`` points x = (a, b) + noise·ε, ε ~ N(0, I),
    labelled y = a XOR b. Returns ``X`` (4·n_per_corner, 2) float64 and ``y`` (4·n_per_corner,)
    int64, ordered by corner (0,0), (0,1), (1,0), (1,1). No straight line separates the classes.
    """
    n = positive_int("n_per_corner", n_per_corner)
    noise = non_negative("noise", noise)
    rng = _rng(seed)
    X = np.repeat(_CORNERS, n, axis=0) + noise * rng.standard_normal((4 * n, 2))
    y = np.repeat(np.array(GATES["xor"], dtype=np.int64), n)
    return X, y


def blobs(n_per_class=50, centers=3, std=0.6, seed=0):
    """Gaussian blobs: ``n_per_class`` points around each centre (lectures 05, 06 and 13).

    ``centers`` is either a number of classes K, the centres then evenly spaced on a circle of
    radius 2.5 (centre k at angle π/2 + 2πk/K), or an array (K, D) of centres.
    Point i of class k is x = c_k + std·ε, ε ~ N(0, I). Returns ``X`` (K·n, D) float64 and
    ``y`` (K·n,) int64 (D = 2 when K is given as a number).
    """
    n = positive_int("n_per_class", n_per_class)
    std = non_negative("std", std)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = positive_int("centers", centers)
        angles = np.pi / 2 + 2 * np.pi * np.arange(k) / k
        C = 2.5 * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[0] < 1 or C.shape[1] < 1:
            raise ValueError(f"centers must be a number of classes or an array (K, D), got shape {C.shape}")
        if not np.all(np.isfinite(C)):
            raise ValueError(f"centers of shape {C.shape} contain NaN or inf")
    rng = _rng(seed)
    K, D = C.shape
    X = np.repeat(C, n, axis=0) + std * rng.standard_normal((K * n, D))
    y = np.repeat(np.arange(K, dtype=np.int64), n)
    return X, y


def moons(n_per_class=100, noise=0.1, seed=0):
    """Two interleaving half-moons (lecture 13).

    With t evenly spaced on [0, π], class 0 is (cos t, sin t) and class 1 is
    (1 − cos t, ½ − sin t); each point then moves by noise·ε, ε ~ N(0, I).
    Returns ``X`` (2·n_per_class, 2) float64 and ``y`` (2·n_per_class,) int64.
    """
    n = positive_int("n_per_class", n_per_class)
    noise = non_negative("noise", noise)
    rng = _rng(seed)
    t = np.linspace(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((2 * n, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), n)
    return X, y


def circles(n_per_class=100, noise=0.05, factor=0.5, seed=0):
    """Two concentric circles (lecture 07): class 0 on radius 1, class 1 on radius ``factor``.

    With angles t evenly spaced on [0, 2π), class 0 is (cos t, sin t) and class 1 is
    factor·(cos t, sin t); each point then moves by noise·ε, ε ~ N(0, I). ``factor`` in (0, 1).
    Returns ``X`` (2·n_per_class, 2) float64 and ``y`` (2·n_per_class,) int64.
    """
    n = positive_int("n_per_class", n_per_class)
    noise = non_negative("noise", noise)
    factor = non_negative("factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor (inner radius / outer radius) must lie in (0, 1), got {factor}")
    rng = _rng(seed)
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack([np.cos(t), np.sin(t)])
    X = np.vstack([ring, factor * ring]) + noise * rng.standard_normal((2 * n, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), n)
    return X, y


def spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (lectures 13 and 17).

    For class k and i = 0 … n−1: radius r_i = i/(n−1) and angle
    t_i = 4·r_i + 2πk/K + noise·ε_i, ε_i ~ N(0, 1); the point is x = r_i·(sin t_i, cos t_i).
    ``noise`` jitters the angle (radians), so the arms blur more far from the centre.
    Returns ``X`` (K·n, 2) float64 and ``y`` (K·n,) int64, K = ``n_classes``.
    """
    n = positive_int("n_per_class", n_per_class)
    K = positive_int("n_classes", n_classes)
    noise = non_negative("noise", noise)
    rng = _rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n), K)
    k = np.repeat(np.arange(K, dtype=np.int64), n)
    t = 4.0 * r + 2 * np.pi * k / K + noise * rng.standard_normal(K * n)
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X, k


def regression_line(n=50, slope=2.0, intercept=1.0, noise=0.3, seed=0, x_range=(-1.0, 1.0)):
    """Noisy points around a straight line, for linear regression (lecture 10).

    x is drawn uniformly from ``x_range`` and sorted; y = slope·x + intercept + noise·ε,
    ε ~ N(0, 1). Returns ``x`` (n, 1) and ``y`` (n, 1), both float64: column vectors, so that
    they go straight into a Dense(1) layer and an MSE loss.
    """
    n = positive_int("n", n)
    noise = non_negative("noise", noise)
    for name, value in (("slope", slope), ("intercept", intercept)):
        if not np.isfinite(np.asarray(value, dtype=float)).all() or np.ndim(value) != 0:
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    lo, hi = (float(v) for v in x_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    rng = _rng(seed)
    x = np.sort(rng.uniform(lo, hi, n))[:, None]
    y = slope * x + intercept + noise * rng.standard_normal((n, 1))
    return x, y
