"""Classic learning rules that predate backpropagation (lectures 05 and 06).

The perceptron convergence algorithm (Rosenblatt) trains one threshold unit
y = 1 if wᵀx + b ≥ 0 else 0 by error correction: after each example,
    e = d − y,   w ← w + η e x,   b ← b + η e.
``perceptron_train`` records every step, so a lecture can print the epoch table of a worked example.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PerceptronStep", "PerceptronResult", "perceptron_predict", "perceptron_train"]


def _check_xy(X, d, name):
    X = np.asarray(X, dtype=float)
    d = np.asarray(d, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (n_examples, n_features), got shape {X.shape}")
    if d.shape != (X.shape[0],):
        raise ValueError(f"{name}: d must have shape ({X.shape[0]},) to match X {X.shape}, "
                         f"got shape {d.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: X contains NaN or infinite values")
    if not np.all(np.isin(d, (0.0, 1.0))):
        raise ValueError(f"{name}: the desired outputs d must be 0 or 1, got {np.unique(d)}")
    return X, d


def perceptron_predict(X, w, b):
    """Output of a perceptron: y = 1 if wᵀx + b ≥ 0 else 0, for every row x of ``X``.

    Shapes: ``X`` (n, m), ``w`` (m,), ``b`` scalar → ``y`` (n,) of 0.0/1.0.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    w = np.asarray(w, dtype=float)
    if w.shape != (X.shape[1],):
        raise ValueError(f"perceptron_predict: w must have shape ({X.shape[1]},) to match X "
                         f"{X.shape}, got {w.shape}")
    return (X @ w + b >= 0).astype(float)


@dataclass
class PerceptronStep:
    """One presentation of one example: what the unit saw, did, and how its weights changed."""
    epoch: int          # 1-based
    iteration: int      # 1-based, within the epoch
    x: np.ndarray       # (m,) the example
    d: float            # desired output
    v: float            # induced local field wᵀx + b before the update
    y: float            # output before the update
    e: float            # error d − y
    w_before: np.ndarray
    b_before: float
    w_after: np.ndarray
    b_after: float

    @property
    def updated(self):
        """True when this step changed the weights (the example was misclassified)."""
        return self.e != 0


@dataclass
class PerceptronResult:
    """What ``perceptron_train`` returns: final weights, whether it converged, and the trace."""
    w: np.ndarray
    b: float
    converged: bool
    epochs: int                       # epochs run (the last one error-free if converged)
    trace: list = field(default_factory=list)   # list of PerceptronStep

    def errors_per_epoch(self):
        """Number of misclassified examples (weight updates) in each epoch, as a list."""
        counts = [0] * self.epochs
        for s in self.trace:
            counts[s.epoch - 1] += int(s.updated)
        return counts


def perceptron_train(X, d, w0=None, b0=0.0, eta=1.0, max_epochs=100):
    """Perceptron convergence algorithm, one example at a time, in the order given.

    For each example (x, d): v = wᵀx + b, y = [v ≥ 0], e = d − y, w ← w + η e x, b ← b + η e.
    Training stops after the first epoch with no error (``converged=True``) or after
    ``max_epochs`` (``converged=False``: for data that are not linearly separable, such as XOR,
    it never converges).

    Shapes: ``X`` (n, m), ``d`` (n,) of 0/1, ``w0`` (m,) (zeros if None), ``b0`` and ``eta`` scalars.
    Returns a ``PerceptronResult`` whose ``trace`` lists every step.
    """
    X, d = _check_xy(X, d, "perceptron_train")
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    if w.shape != (X.shape[1],):
        raise ValueError(f"perceptron_train: w0 must have shape ({X.shape[1]},) to match X "
                         f"{X.shape}, got {w.shape}")
    if not eta > 0:
        raise ValueError(f"perceptron_train: the learning rate eta must be > 0, got {eta}")
    b = float(b0)
    trace = []
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for i, (x, target) in enumerate(zip(X, d), start=1):
            v = float(x @ w + b)
            y = 1.0 if v >= 0 else 0.0
            e = float(target - y)
            w_new, b_new = w + eta * e * x, b + eta * e
            trace.append(PerceptronStep(epoch, i, x.copy(), float(target), v, y, e,
                                        w.copy(), b, w_new.copy(), b_new))
            w, b = w_new, b_new
            errors += e != 0
        if errors == 0:
            return PerceptronResult(w, b, True, epoch, trace)
    return PerceptronResult(w, b, False, max_epochs, trace)
