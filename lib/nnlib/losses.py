"""Loss functions and their gradients (lecture 09; the softmax gradient p − y in lecture 11).

Conventions shared by every loss here:

* ``y_pred`` comes first, the target second; both are arrays whose first axis runs over the
  N examples. Losses return a Python float; ``<loss>_grad`` returns dL/dy_pred with the shape of
  ``y_pred``, so it can be handed straight to the output layer's backward pass.
* Means are over examples, logarithms are natural (nats). Cross-entropies sum over the outputs
  of one example and average over the examples.
* ``class_weight`` is a dict {class: weight}, for example ``{0: 5, 1: 70}`` to make the rare
  class 1 count 14 times as much as class 0 (lecture 15). Example i is weighted by
  c_i = Σ_k y_ik · weight[k] (for a hard label, simply the weight of its class); classes missing
  from the dict weigh 1. The loss is (1/N) Σ_i c_i · loss_i, as in Keras.
* Bad input raises ``ValueError`` naming the shapes or values: mismatched shapes, NaN or
  infinite values, probabilities outside [0, 1], labels outside the known classes.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from nnlib.activations import sigmoid, softmax

__all__ = [
    "mse", "mse_grad", "sum_squared_error", "sum_squared_error_grad",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "categorical_cross_entropy", "categorical_cross_entropy_grad",
    "categorical_cross_entropy_from_logits", "categorical_cross_entropy_from_logits_grad",
    "softmax_cross_entropy", "get", "value_and_grad", "LossPair", "NAMES",
]


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def _array(a, what, fn):
    """Float array (float32 stays float32, everything else becomes float64), finite values only."""
    a = np.asarray(a)
    if a.dtype.kind not in "f":
        a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        bad = a[~np.isfinite(a)]
        raise ValueError(f"{fn}: {what} contains NaN or infinite values, e.g. {bad[:3]}")
    return a


def _pair(y_pred, y_true, fn, pred_name="y_pred"):
    y_pred = _array(y_pred, pred_name, fn)
    y_true = _array(y_true, "y_true", fn).astype(y_pred.dtype, copy=False)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"{fn}: {pred_name} has shape {y_pred.shape} but y_true has shape "
                         f"{y_true.shape}; they must match")
    return y_pred, y_true


def _n_examples(a):
    return a.shape[0] if a.ndim else 1


_FLOAT32 = np.dtype(np.float32)


def _eps(dtype, eps):
    """Default clipping margin: 1e-12 in float64, 1e-7 in float32 (where 1 − 1e-12 == 1)."""
    if eps is not None:
        return eps
    return 1e-7 if dtype == _FLOAT32 else 1e-12


def _in_unit_interval(a, what, fn):
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(f"{fn}: {what} must lie in [0, 1], got values from {a.min():g} to "
                         f"{a.max():g}")


def _example_weights(Y, class_weight, fn):
    """c_i = Σ_k Y_ik · weight[k] for targets Y of shape (N, K); None when there are no weights."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"{fn}: class_weight must be a dict {{class: weight}}, got "
                        f"{type(class_weight).__name__}")
    K = Y.shape[1]
    bad = [c for c in class_weight if not (isinstance(c, (int, np.integer)) and 0 <= c < K)]
    if bad:
        raise ValueError(f"{fn}: class_weight has keys {bad} outside the classes 0..{K - 1}")
    w = np.ones(K, dtype=Y.dtype)
    for c, value in class_weight.items():
        if not value >= 0:
            raise ValueError(f"{fn}: class weights must be >= 0, got {c}: {value}")
        w[c] = value
    return Y @ w                                            # (N,)


def _binary_targets(p, y, fn, pred_name):
    """Check a binary problem; y may be (N,) when p is (N, 1). Returns p, y with p's shape."""
    p = _array(p, pred_name, fn)
    y = _array(y, "y_true", fn).astype(p.dtype, copy=False)
    if p.ndim == 2 and p.shape[1] == 1 and y.shape == (p.shape[0],):
        y = y.reshape(p.shape)
    if p.shape != y.shape:
        raise ValueError(f"{fn}: {pred_name} has shape {p.shape} but y_true has shape {y.shape}; "
                         f"they must match (or y_true (N,) with {pred_name} (N, 1))")
    _in_unit_interval(y, "the targets y_true", fn)
    return p, y


def _binary_weights(y, class_weight, fn):
    """Per-entry weight y·w1 + (1 − y)·w0 (shape of y), or None."""
    if class_weight is None:
        return None
    flat = y.reshape(-1)
    return _example_weights(np.stack([1 - flat, flat], axis=1), class_weight, fn).reshape(y.shape)


def _categorical_targets(p, y, fn, pred_name):
    """Scores/probabilities (N, K) (or one example (K,)) and one-hot or integer targets.

    Returns (p2, Y, squeeze): p as (N, K), one-hot/soft targets Y as (N, K) in p's dtype, and
    whether p was 1-D (so gradients are returned as (K,)).
    """
    p = _array(p, pred_name, fn)
    if p.ndim not in (1, 2):
        raise ValueError(f"{fn}: {pred_name} must be (N, K) or (K,), got shape {p.shape}")
    squeeze = p.ndim == 1
    p2 = p.reshape(1, -1) if squeeze else p
    N, K = p2.shape
    y = np.asarray(y)
    if y.shape == p.shape:                                   # one-hot or soft targets
        Y = _array(y, "y_true", fn).astype(p.dtype, copy=False).reshape(N, K)
        _in_unit_interval(Y, "one-hot targets y_true", fn)
        return p2, Y, squeeze
    if y.shape == p.shape[:-1]:                              # integer class labels
        labels = _array(y, "y_true", fn).reshape(N)
        if np.any(labels != np.round(labels)) or labels.size and (labels.min() < 0
                                                                   or labels.max() >= K):
            raise ValueError(f"{fn}: integer labels must be whole numbers in 0..{K - 1} for "
                             f"{K} classes, got values {np.unique(y)[:10]}")
        Y = np.zeros((N, K), dtype=p.dtype)
        Y[np.arange(N), labels.astype(int)] = 1
        return p2, Y, squeeze
    raise ValueError(f"{fn}: {pred_name} has shape {p.shape}; y_true must be one-hot with the "
                     f"same shape or integer labels of shape {p.shape[:-1]}, got {y.shape}")


# ----------------------------------------------------------------------------------------------
# The formulas, each written once (on arrays already checked)
#
# Every kernel returns (loss, dL/d y_pred) in one pass. The public functions below check their
# inputs and call these; a model checks its data once when they enter it and then calls the
# kernels directly through ``value_and_grad``. Categorical targets ``y`` are integer labels (N,)
# or one-hot/soft rows (N, K); ``c`` holds the class weights per example (N,) for categorical
# losses and per entry (the shape of y) for binary ones, or None.
# ----------------------------------------------------------------------------------------------
def _mse(y_pred, y, c=None):
    """L = (1/M) Σ (ŷ − y)² over all M entries; dL/dŷ = 2 (ŷ − y) / M."""
    d = y_pred - y
    return float(np.mean(d * d)), 2.0 * d / max(d.size, 1)


def _sse(y_pred, y, c=None):
    """E = ½ Σ (ŷ − y)²; dE/dŷ = ŷ − y."""
    d = y_pred - y
    return float(0.5 * np.sum(d * d)), d


def _bce_per_entry(p, y, eps=None):
    """−[y log q + (1 − y) log(1 − q)] per entry, q = p clipped to [eps, 1 − eps]."""
    e = _eps(p.dtype, eps)
    q = np.clip(p, e, 1 - e)
    return -(y * np.log(q) + (1 - y) * np.log(1 - q)), q


def _bce(p, y, c=None, eps=None):
    """L = −(1/N) Σ c [y log q + (1 − y) log(1 − q)], q = p clipped to [eps, 1 − eps];
    dL/dp = (c/N) (q − y) / (q (1 − q))."""
    loss, q = _bce_per_entry(p, y, eps)
    grad = (q - y) / (q * (1 - q)) / _n_examples(p)
    if c is not None:
        loss, grad = c * loss, c * grad
    return float(np.sum(loss) / _n_examples(p)), grad


def _bce_logits(z, y, c=None):
    """L = (1/N) Σ c [max(z, 0) − z y + log(1 + exp(−|z|))] (= the BCE of σ(z), without overflow);
    dL/dz = (c/N) (σ(z) − y)."""
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    grad = (sigmoid(z) - y) / _n_examples(z)
    if c is not None:
        loss, grad = c * loss, c * grad
    return float(np.sum(loss) / _n_examples(z)), grad


def _bce_through_sigmoid(p, y, c=None):
    """For p = σ(z), the output of a sigmoid: the loss of ``_bce`` and dL/dz = (p − y)/N.

    The sigmoid's slope p (1 − p) cancels the denominator of dL/dp (lecture 10), so the model
    skips the sigmoid's backward pass. The gradient uses p itself, never the clipped q."""
    loss, _ = _bce_per_entry(p, y)
    grad = (p - y) / _n_examples(p)
    if c is not None:
        loss, grad = c * loss, c * grad
    return float(np.sum(loss) / _n_examples(p)), grad


def _true_class(a, y):
    """Σ_k y_ik a_ik per example: a[i, y_i] for labels y (N,), the weighted row sum for rows (N, K)."""
    if y.ndim == 1:
        return a[np.arange(len(y)), y]
    return np.sum(y * a, axis=1)


def _minus_targets(p, y):
    """p − y as a new array, for labels (N,) (subtract 1 at each label) or rows (N, K)."""
    if y.ndim == 1:
        g = p.copy()
        g[np.arange(len(y)), y] -= 1
        return g
    return p - y


def _surprise(p_true, eps=None):
    """−log q per example, q = the probability given to the true class, clipped below at eps."""
    return -np.log(np.maximum(p_true, _eps(p_true.dtype, eps)))


def _cce_per_example(p, y, eps=None):
    """−Σ_k y_ik log q_ik per example, q = p clipped below at eps; for labels only the N
    probabilities of the true classes are clipped and logged."""
    if y.ndim == 1:
        return _surprise(_true_class(p, y), eps)
    return -np.sum(y * np.log(np.maximum(p, _eps(p.dtype, eps))), axis=1)


def _mean(per_example):
    """The mean over examples as a Python float (np.mean's result, with less overhead)."""
    return float(per_example.sum() / per_example.shape[0])


def _cce(p, y, c=None, eps=None):
    """L = −(1/N) Σ_i c_i Σ_k y_ik log q_ik, q = p clipped below at eps;
    dL/dp_ik = −(c_i/N) y_ik / q_ik."""
    per_example = _cce_per_example(p, y, eps)
    q = np.maximum(p, _eps(p.dtype, eps))
    if y.ndim == 1:
        grad = np.zeros_like(p)
        rows = np.arange(len(y))
        grad[rows, y] = -1 / q[rows, y]
    else:
        grad = -y / q
    grad /= p.shape[0]
    if c is not None:
        per_example, grad = c * per_example, c[:, None] * grad
    return _mean(per_example), grad


def _cce_through_softmax(p, y, c=None):
    """For p = softmax(z), the output of a softmax: the loss of ``_cce`` and dL/dz = (p − y)/N.

    The softmax's Jacobian turns −y/p into p − y (lecture 11), so the model skips the softmax's
    backward pass. The gradient uses p itself, never the clipped q."""
    n = p.shape[0]
    if y.ndim == 1:                                    # labels: read p_true once, use it twice
        rows = np.arange(len(y))
        p_true = p[rows, y]
        per_example = _surprise(p_true)
        grad = p / n                                   # a new array: p stays the model's output
        grad[rows, y] = (p_true - 1) / n
    else:
        per_example, grad = _cce_per_example(p, y), p - y
        grad /= n
    if c is not None:
        per_example, grad = c * per_example, c[:, None] * grad
    return _mean(per_example), grad


def _log_softmax(z):
    """log softmax along axis 1 of (N, K) scores: z_k − m − log(1 + s), m = max_j z_j.

    s = Σ_{j ≠ argmax} exp(z_j − m) is summed without the leading 1 and passed to log1p, so a
    confident correct answer (s tiny) keeps its full relative precision.
    """
    top = np.argmax(z, axis=1)
    shifted = z - z[np.arange(z.shape[0]), top][:, None]
    e = np.exp(shifted)
    e[np.arange(z.shape[0]), top] = 0
    return shifted - np.log1p(e.sum(axis=1, keepdims=True))


def _cce_logits(z, y, c=None):
    """L = −(1/N) Σ_i c_i Σ_k y_ik log softmax(z_i)_k (log-sum-exp, never log 0);
    dL/dz_i = (c_i/N) (p_i Σ_k y_ik − y_i), p = softmax(z): (p − y)/N for one-hot targets."""
    per_example = -_true_class(_log_softmax(z), y)
    p = softmax(z, axis=1)
    grad = _minus_targets(p, y) if y.ndim == 1 else p * y.sum(axis=1, keepdims=True) - y
    grad /= z.shape[0]
    if c is not None:
        per_example, grad = c * per_example, c[:, None] * grad
    return _mean(per_example), grad


# ----------------------------------------------------------------------------------------------
# Regression losses
# ----------------------------------------------------------------------------------------------
def mse(y_pred, y_true):
    """Mean squared error (lecture 09): L = (1/M) Σ (ŷ − y)², the mean over all M entries.

    Shapes: ``y_pred`` and ``y_true`` the same shape → float.
    """
    return _mse(*_pair(y_pred, y_true, "mse"))[0]


def mse_grad(y_pred, y_true):
    """Gradient of ``mse``: dL/dŷ = 2 (ŷ − y) / M. Shapes: as ``y_pred``.

    Lecture 09.
    """
    return _mse(*_pair(y_pred, y_true, "mse_grad"))[1]


def sum_squared_error(y_pred, y_true):
    """Sum-of-squares error of the delta rule and of backprop (lectures 05, 11): E = ½ Σ (ŷ − y)².

    Summed, not averaged, over every entry; the ½ makes the gradient plain ŷ − y.
    Shapes: same shape → float.
    """
    return _sse(*_pair(y_pred, y_true, "sum_squared_error"))[0]


def sum_squared_error_grad(y_pred, y_true):
    """Gradient of ``sum_squared_error``: dE/dŷ = ŷ − y (= −e with e = d − y). Shapes: as y_pred.

    Lecture 05 and 11.
    """
    return _sse(*_pair(y_pred, y_true, "sum_squared_error_grad"))[1]


# ----------------------------------------------------------------------------------------------
# Binary cross-entropy
# ----------------------------------------------------------------------------------------------
def _checked_binary(p, y, class_weight, fn, pred_name, probabilities):
    p, y = _binary_targets(p, y, fn, pred_name)
    if probabilities:
        _in_unit_interval(p, "the probabilities p", fn)
    return p, y, _binary_weights(y, class_weight, fn)


def binary_cross_entropy(p, y, class_weight=None, eps=None):
    """Binary cross-entropy of predicted probabilities (lecture 09):

        L = −(1/N) Σ_i Σ_j c_ij [y_ij log p_ij + (1 − y_ij) log(1 − p_ij)]

    the negative log-likelihood of Bernoulli targets. Shapes: ``p`` (N,), (N, 1) or (N, K) for K
    independent yes/no outputs (multi-label), ``y`` the same shape (or (N,) with p (N, 1)), values
    in [0, 1] → float. p is first clipped to [eps, 1 − eps] (eps = 1e-12 in float64, 1e-7 in
    float32) so that a confident wrong answer costs a large finite loss instead of log 0 = −∞.
    """
    p, y, c = _checked_binary(p, y, class_weight, "binary_cross_entropy", "p", True)
    return _bce(p, y, c, eps)[0]


def binary_cross_entropy_grad(p, y, class_weight=None, eps=None):
    """Gradient of ``binary_cross_entropy`` w.r.t. p: (c/N) · (p − y) / (p (1 − p)).

    Evaluated at the clipped p. Shapes: as ``p``.

    Lecture 09.
    """
    p, y, c = _checked_binary(p, y, class_weight, "binary_cross_entropy_grad", "p", True)
    return _bce(p, y, c, eps)[1]


def binary_cross_entropy_with_logits(z, y, class_weight=None):
    """Binary cross-entropy computed from logits z (p = σ(z)), stably (lectures 09, 10).

    Per entry: −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + exp(−|z|)),
    a form in which exp never overflows and log never sees 0. Then weighted and averaged as in
    ``binary_cross_entropy``. Shapes: ``z`` (N,), (N, 1) or (N, K); ``y`` the same → float.
    """
    z, y, c = _checked_binary(z, y, class_weight, "binary_cross_entropy_with_logits", "z", False)
    return _bce_logits(z, y, c)[0]


def binary_cross_entropy_with_logits_grad(z, y, class_weight=None):
    """Gradient of ``binary_cross_entropy_with_logits`` w.r.t. z: (c/N) · (σ(z) − y).

    The sigmoid's derivative cancels the cross-entropy's denominator, leaving prediction minus
    target (lecture 10, logistic regression). Shapes: as ``z``.
    """
    z, y, c = _checked_binary(z, y, class_weight, "binary_cross_entropy_with_logits_grad", "z",
                              False)
    return _bce_logits(z, y, c)[1]


# ----------------------------------------------------------------------------------------------
# Categorical cross-entropy
# ----------------------------------------------------------------------------------------------
def _checked_categorical(p, y, class_weight, fn, pred_name, probabilities):
    p2, Y, squeeze = _categorical_targets(p, y, fn, pred_name)
    if probabilities:
        _in_unit_interval(p2, "the probabilities p", fn)
    return p2, Y, _example_weights(Y, class_weight, fn), squeeze


def categorical_cross_entropy(p, y, class_weight=None, eps=None):
    """Categorical cross-entropy of predicted class probabilities (lecture 09):

        L = −(1/N) Σ_i c_i Σ_k y_ik log p_ik

    Shapes: ``p`` (N, K) with rows summing to 1 (or one example (K,)); ``y`` one-hot (N, K)
    (soft targets allowed) or integer labels (N,) in 0..K−1 (the "sparse" form) → float.
    p is clipped below at eps first (eps as in ``binary_cross_entropy``). With one-hot y only
    the true class counts: one example with p = [0.3, 0.1, 0.6] and y = 0 costs −log 0.3 ≈ 1.204.
    """
    p2, Y, c, _ = _checked_categorical(p, y, class_weight, "categorical_cross_entropy", "p", True)
    return _cce(p2, Y, c, eps)[0]


def categorical_cross_entropy_grad(p, y, class_weight=None, eps=None):
    """Gradient of ``categorical_cross_entropy`` w.r.t. p: −(c_i/N) · y_ik / p_ik (clipped p).

    Shapes: as ``p``. Chained through ``activations.softmax_backward`` it gives (p − y)/N, the
    same as ``softmax_cross_entropy`` computes directly.

    Lecture 09.
    """
    p2, Y, c, squeeze = _checked_categorical(p, y, class_weight,
                                             "categorical_cross_entropy_grad", "p", True)
    grad = _cce(p2, Y, c, eps)[1]
    return grad.reshape(-1) if squeeze else grad


def categorical_cross_entropy_from_logits(z, y, class_weight=None):
    """Categorical cross-entropy of softmax(z), computed stably by log-sum-exp (lectures 09, 11).

    log softmax(z)_k = z_k − m − log Σ_j exp(z_j − m) with m = max_j z_j (log-sum-exp), so no
    exponent is positive and no probability is rounded to 0 before its log is taken. Then
    L = −(1/N) Σ_i c_i Σ_k y_ik log softmax(z_i)_k.
    Shapes: ``z`` (N, K) or (K,); ``y`` one-hot (N, K) or integer labels (N,) → float.
    """
    z2, Y, c, _ = _checked_categorical(z, y, class_weight,
                                       "categorical_cross_entropy_from_logits", "z", False)
    return _cce_logits(z2, Y, c)[0]


def categorical_cross_entropy_from_logits_grad(z, y, class_weight=None):
    """Gradient of ``categorical_cross_entropy_from_logits`` w.r.t. z: (c_i/N)(p_i Σ_k y_ik − y_i).

    For one-hot targets (Σ_k y_ik = 1) this is the famous (p − y)/N with p = softmax(z)
    (lecture 11, notes 000: [0.2, 0.3, 0.5] − [0, 1, 0] = [0.2, −0.7, 0.5]). Shapes: as ``z``.
    """
    z2, Y, c, squeeze = _checked_categorical(z, y, class_weight,
                                             "categorical_cross_entropy_from_logits_grad", "z",
                                             False)
    grad = _cce_logits(z2, Y, c)[1]
    return grad.reshape(-1) if squeeze else grad


def softmax_cross_entropy(logits, y, class_weight=None):
    """Softmax followed by cross-entropy, as one step (lecture 11): returns ``(loss, grad)``.

    loss = categorical_cross_entropy_from_logits(logits, y); grad = dloss/dlogits = (p − y)/N,
    p = softmax(logits). Shapes: ``logits`` (N, K); ``y`` one-hot (N, K) or labels (N,) →
    (float, array (N, K)).
    """
    z2, Y, c, squeeze = _checked_categorical(logits, y, class_weight, "softmax_cross_entropy",
                                             "logits", False)
    loss, grad = _cce_logits(z2, Y, c)
    return loss, grad.reshape(-1) if squeeze else grad


# ----------------------------------------------------------------------------------------------
# Look-up by name
# ----------------------------------------------------------------------------------------------
#: What ``get`` returns: a (loss, grad) pair that also reads as ``.loss`` / ``.grad``.
LossPair = namedtuple("LossPair", "loss grad")

_TABLE = {
    "mse": LossPair(mse, mse_grad),
    "sum_squared_error": LossPair(sum_squared_error, sum_squared_error_grad),
    "binary_cross_entropy": LossPair(binary_cross_entropy, binary_cross_entropy_grad),
    "binary_cross_entropy_with_logits": LossPair(binary_cross_entropy_with_logits,
                                                 binary_cross_entropy_with_logits_grad),
    "categorical_cross_entropy": LossPair(categorical_cross_entropy,
                                          categorical_cross_entropy_grad),
    "categorical_cross_entropy_from_logits": LossPair(categorical_cross_entropy_from_logits,
                                                      categorical_cross_entropy_from_logits_grad),
}
_ALIASES = {
    "mean_squared_error": "mse",
    "sse": "sum_squared_error",
    "binary_crossentropy": "binary_cross_entropy",
    "categorical_crossentropy": "categorical_cross_entropy",
    "sparse_categorical_crossentropy": "categorical_cross_entropy",
    "softmax_cross_entropy": "categorical_cross_entropy_from_logits",
}
NAMES = tuple(_TABLE) + tuple(_ALIASES)


def get(name):
    """Return the pair ``(loss, grad)`` for a loss named ``name`` (lecture 18's compile(loss=...)).

    Names: the function names of this module, plus the Keras spellings "mean_squared_error",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy" and
    "softmax_cross_entropy" (→ the from-logits pair). Both functions take ``(y_pred, y_true)``.
    An unknown name raises ``ValueError`` listing the known ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"a loss is named by a string, got {type(name).__name__}")
    key = _ALIASES.get(name, name)
    if key not in _TABLE:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(NAMES)}")
    return _TABLE[key]


_KERNELS = {
    "mse": _mse, "sum_squared_error": _sse,
    "binary_cross_entropy": _bce, "binary_cross_entropy_with_logits": _bce_logits,
    "categorical_cross_entropy": _cce, "categorical_cross_entropy_from_logits": _cce_logits,
}
_THROUGH_OUTPUT = {("categorical_cross_entropy", "softmax"): _cce_through_softmax,
                   ("binary_cross_entropy", "sigmoid"): _bce_through_sigmoid}


def value_and_grad(name, output_activation=None):
    """The function ``(y_pred, y_true) -> (loss, dL/dy_pred)`` of the loss ``name``, unchecked.

    The same formulas as the checked functions above, computed together in one pass, for a
    training loop whose arrays were checked once when they entered it (``nnlib.models``).
    Categorical targets are integer labels (N,) or one-hot rows (N, K) in y_pred's dtype.

    With ``output_activation`` "softmax" (for categorical cross-entropy) or "sigmoid" (for binary
    cross-entropy), y_pred is that output layer's p and the gradient returned is the one w.r.t.
    the logits entering it, (p − y)/N (lectures 10 and 11), so the model can skip the output
    layer's backward pass; the loss is still that of p clipped at eps. Returns ``(fn, fused)``,
    ``fused`` True in that case. Unknown names raise ``ValueError`` as in ``get``.
    """
    get(name)                                          # the error message for unknown names
    key = _ALIASES.get(name, name)
    fused = _THROUGH_OUTPUT.get((key, output_activation))
    if fused is not None:
        return fused, True
    return _KERNELS[key], False
