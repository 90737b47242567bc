"""Classic learning rules that predate backpropagation (lectures 05 and 06).

The perceptron convergence algorithm (Rosenblatt) trains one threshold unit
y = 1 if wᵀx + b ≥ 0 else 0 by error correction: after each example,
    e = d − y,   w ← w + η e x,   b ← b + η e.
``perceptron_train`` records every step, so a lecture can print the epoch table of a worked example.

Also here, the other learning processes of lecture 05: error-correction learning on a linear unit
(``delta_rule_train``, Widrow–Hoff), memory-based learning (``nearest_neighbour_predict``) and
competitive learning (``competitive_train``, winner takes all).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PerceptronStep", "PerceptronResult", "perceptron_predict", "perceptron_train",
           "DeltaStep", "DeltaRuleResult", "delta_rule_train", "nearest_neighbour_predict",
           "CompetitiveStep", "CompetitiveResult", "competitive_train"]


def _check_x_targets(X, d, name):
    """X (n, m) finite floats and real-valued targets d (n,)."""
    X = np.asarray(X, dtype=float)
    d = np.asarray(d, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (n_examples, n_features), got shape {X.shape}")
    if d.shape != (X.shape[0],):
        raise ValueError(f"{name}: d must have shape ({X.shape[0]},) to match X {X.shape}, "
                         f"got shape {d.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(d))):
        raise ValueError(f"{name}: X or d contains NaN or infinite values")
    return X, d


def _check_xy(X, d, name):
    """X (n, m) finite floats and desired outputs d (n,) that are 0 or 1."""
    X, d = _check_x_targets(X, d, name)
    if not np.all(np.isin(d, (0.0, 1.0))):
        raise ValueError(f"{name}: the desired outputs d must be 0 or 1, got {np.unique(d)}")
    return X, d


def _start(X, w0, b0, eta, name):
    """Starting weights (zeros if ``w0`` is None) and bias of a single unit, checked against X."""
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    if w.shape != (X.shape[1],):
        raise ValueError(f"{name}: w0 must have shape ({X.shape[1]},) to match X {X.shape}, "
                         f"got {w.shape}")
    if not eta > 0:
        raise ValueError(f"{name}: the learning rate eta must be > 0, got {eta}")
    return w, float(b0)


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
    w, b = _start(X, w0, b0, eta, "perceptron_train")
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


# ----------------------------------------------------------------------------------------------
# Error-correction learning: the delta rule (Widrow–Hoff, LMS), lecture 05
# ----------------------------------------------------------------------------------------------


@dataclass
class DeltaStep:
    """One presentation in ``delta_rule_train``: the linear unit's output, error and update.

    Lecture 05.
    """
    epoch: int          # 1-based
    iteration: int      # 1-based, within the epoch
    x: np.ndarray       # (m,) the example
    d: float            # desired output
    y: float            # output wᵀx + b before the update
    e: float            # error d − y
    E: float            # instantaneous cost ½ e²
    w_before: np.ndarray
    b_before: float
    w_after: np.ndarray
    b_after: float


@dataclass
class DeltaRuleResult:
    """What ``delta_rule_train`` returns: final weights and the per-step trace.

    Lecture 05.
    """
    w: np.ndarray
    b: float
    epochs: int
    trace: list = field(default_factory=list)   # list of DeltaStep

    def cost_per_epoch(self):
        """Mean of the instantaneous costs E = ½e² over each epoch's steps, as a list."""
        sums = [0.0] * self.epochs
        counts = [0] * self.epochs
        for s in self.trace:
            sums[s.epoch - 1] += s.E
            counts[s.epoch - 1] += 1
        return [total / max(c, 1) for total, c in zip(sums, counts)]


def delta_rule_train(X, d, w0=None, b0=0.0, eta=0.1, epochs=10):
    """Widrow–Hoff delta rule (least mean squares) on one linear unit, example by example.

    For each example (x, d) in order: y = wᵀx + b, e = d − y, E = ½ e²; gradient descent on E
    (∂E/∂w = −e x) gives  Δw = η e x,  Δb = η e.  Unlike the perceptron the unit is linear, so
    the error is graded: big mistakes make big corrections, and the weights settle near the
    least-squares solution when η is small enough.

    Shapes: ``X`` (n, m), ``d`` (n,) real targets, ``w0`` (m,) (zeros if None), ``b0``, ``eta``
    scalars. Returns a ``DeltaRuleResult`` whose ``trace`` lists every step (w, b, e, E).

    Lecture 05.
    """
    X, d = _check_x_targets(X, d, "delta_rule_train")
    w, b = _start(X, w0, b0, eta, "delta_rule_train")
    trace = []
    for epoch in range(1, epochs + 1):
        for i, (x, target) in enumerate(zip(X, d), start=1):
            y = float(x @ w + b)
            e = float(target - y)
            w_new, b_new = w + eta * e * x, b + eta * e
            trace.append(DeltaStep(epoch, i, x.copy(), float(target), y, e, 0.5 * e * e,
                                   w.copy(), b, w_new.copy(), b_new))
            w, b = w_new, b_new
    return DeltaRuleResult(w, b, epochs, trace)


# ----------------------------------------------------------------------------------------------
# Memory-based learning: nearest neighbours, lecture 05
# ----------------------------------------------------------------------------------------------
def nearest_neighbour_predict(X_train, d_train, X_query, k=1, return_neighbours=False):
    """Memory-based classification: the majority label among the k nearest stored examples.

    Nothing is trained: all examples are kept, and a query x is compared with every one by
    Euclidean distance ‖x − x_i‖. The label that occurs most often among the k nearest wins;
    a tie between labels goes to the one whose closest member is nearer to x (so k = 2 never
    needs a coin). Equal distances are ordered by position in ``X_train``.

    Shapes: ``X_train`` (n, m), ``d_train`` (n,) labels of any kind (ints, strings), ``X_query``
    (q, m) or one point (m,) → labels (q,). With ``return_neighbours=True`` also returns the
    indices (q, k) of the neighbours, nearest first.

    Lecture 05.
    """
    X_train = np.asarray(X_train, dtype=float)
    d_train = np.asarray(d_train)
    X_query = np.atleast_2d(np.asarray(X_query, dtype=float))
    name = "nearest_neighbour_predict"
    if X_train.ndim != 2 or d_train.shape != (X_train.shape[0],):
        raise ValueError(f"{name}: X_train must be (n, m) and d_train (n,), got {X_train.shape} "
                         f"and {d_train.shape}")
    if X_query.ndim != 2 or X_query.shape[1] != X_train.shape[1]:
        raise ValueError(f"{name}: X_query must have {X_train.shape[1]} features like X_train "
                         f"{X_train.shape}, got shape {X_query.shape}")
    if not (np.all(np.isfinite(X_train)) and np.all(np.isfinite(X_query))):
        raise ValueError(f"{name}: X_train or X_query contains NaN or infinite values")
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= X_train.shape[0]):
        raise ValueError(f"{name}: k must be an integer in 1..{X_train.shape[0]}, got {k}")
    dist = np.linalg.norm(X_query[:, None, :] - X_train[None, :, :], axis=2)      # (q, n)
    idx = np.argsort(dist, axis=1, kind="stable")[:, :k]                           # (q, k)
    classes, codes = np.unique(d_train, return_inverse=True)
    votes = codes[idx][:, :, None] == np.arange(len(classes))                      # (q, k, C)
    counts = votes.sum(axis=1)                                                     # (q, C)
    first = np.where(votes, np.arange(k)[None, :, None], k).min(axis=1)            # (q, C)
    winner = np.argmax(counts * (k + 1) - first, axis=1)   # most votes, then nearest member
    labels = classes[winner]
    return (labels, idx) if return_neighbours else labels


# ----------------------------------------------------------------------------------------------
# Competitive learning: winner takes all, lecture 05
# ----------------------------------------------------------------------------------------------
@dataclass
class CompetitiveStep:
    """One presentation in ``competitive_train``: who won and how its weights moved.

    Lecture 05.
    """
    epoch: int
    iteration: int
    x: np.ndarray            # (m,) the example
    distances: np.ndarray    # (K,) ‖x − w_j‖ for every unit before the update
    winner: int              # index of the nearest unit
    w_before: np.ndarray     # (m,) the winner's weights before ...
    w_after: np.ndarray      # ... and after the update


@dataclass
class CompetitiveResult:
    """What ``competitive_train`` returns: final weights (K, m) and the per-step trace.

    Lecture 05.
    """
    W: np.ndarray
    epochs: int
    trace: list = field(default_factory=list)   # list of CompetitiveStep

    @property
    def winners(self):
        """The winning unit of every step, in order, as an int array."""
        return np.array([s.winner for s in self.trace], dtype=int)


def competitive_train(X, W0, eta=0.1, epochs=10):
    """Competitive (winner-takes-all) learning, example by example.

    K units compete for each input x: the winner is the unit whose weight vector is nearest,
    j* = argmin_j ‖x − w_j‖ (ties → the lower index). Only the winner learns, moving a fraction
    η of the way towards x:  Δw_j* = η (x − w_j*);  the losers are unchanged. Each unit's weights
    drift to the centre of the cluster of inputs it wins. (With weight vectors of equal length,
    the nearest unit is also the one with the largest v_j = w_jᵀx, as the notes write it.)

    Shapes: ``X`` (n, m), ``W0`` (K, m) one row per unit, ``eta`` in (0, 1].
    Returns a ``CompetitiveResult`` with the final ``W`` and the trace of winners.

    Lecture 05.
    """
    X = np.asarray(X, dtype=float)
    W = np.array(W0, dtype=float)
    if X.ndim != 2 or W.ndim != 2 or W.shape[1] != X.shape[1]:
        raise ValueError(f"competitive_train: X must be (n, m) and W0 (K, m) with the same m, "
                         f"got {X.shape} and {W.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(W))):
        raise ValueError("competitive_train: X or W0 contains NaN or infinite values")
    if not 0 < eta <= 1:
        raise ValueError(f"competitive_train: eta must be in (0, 1], got {eta}")
    trace = []
    for epoch in range(1, epochs + 1):
        for i, x in enumerate(X, start=1):
            distances = np.linalg.norm(W - x, axis=1)
            j = int(np.argmin(distances))
            before = W[j].copy()
            W[j] += eta * (x - W[j])
            trace.append(CompetitiveStep(epoch, i, x.copy(), distances, j, before, W[j].copy()))
    return CompetitiveResult(W, epochs, trace)
