"""Activation functions ψ(v) and their derivatives ψ'(v) (lectures 02 and 04).

Every function takes the induced local field ``v`` (any shape, float) and returns an array of the
same shape, elementwise, except ``softmax`` which normalises along an axis. Each activation
``name`` has a partner ``name_derivative(v)`` giving dψ/dv elementwise, so that a layer's backward
pass is ``dL/dv = dL/dy * name_derivative(v)``.

>>> from nnlib import activations as act
>>> act.sigmoid(0.0)
0.5
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "threshold", "threshold_derivative",
    "linear", "linear_derivative",
    "piecewise_linear", "piecewise_linear_derivative",
    "sigmoid", "sigmoid_derivative", "sigmoid_in_place", "sigmoid_of_negated_in_place",
    "tanh", "tanh_derivative",
    "relu", "relu_derivative",
    "sigmoid_derivative_from_output", "tanh_derivative_from_output", "relu_derivative_from_output",
    "leaky_relu", "leaky_relu_derivative",
    "softmax", "softmax_backward", "max_along_axis",
    "stochastic_probability", "stochastic",
    "get", "NAMES", "DERIVATIVES_FROM_OUTPUT", "ON_FLOAT_ARRAYS",
]


def _float(v):
    """Return ``v`` as a float array (a Python scalar stays a 0-d array, returned as a float)."""
    return np.asarray(v, dtype=float) if not isinstance(v, np.ndarray) or v.dtype.kind not in "f" else v


def _out(result, v):
    """Give back a Python float for a scalar (0-d) result, the array otherwise."""
    if isinstance(result, np.ndarray) and result.ndim:
        return result
    return float(result) if np.ndim(result) == 0 else result


# ----------------------------------------------------------------------------------------------
# Threshold (McCulloch-Pitts): y = 1 if v >= θ else 0
# ----------------------------------------------------------------------------------------------
def threshold(v, theta=0.0):
    """McCulloch–Pitts unit: ψ(v) = 1 if v ≥ θ, else 0.

    Shapes: ``v`` any shape → same shape, values in {0.0, 1.0}.
    The AND gate of lecture 02 is ``threshold(x1 + x2, theta=2)``.
    """
    v = _float(v)
    return _out((v >= theta).astype(v.dtype if v.ndim else float), v)


def threshold_derivative(v, theta=0.0):
    """dψ/dv of the threshold unit: 0 everywhere (undefined at v = θ, taken as 0).

    This zero derivative is why a threshold unit cannot be trained by gradient descent.
    """
    v = _float(v)
    return _out(np.zeros_like(v), v)


# ----------------------------------------------------------------------------------------------
# Linear: y = v
# ----------------------------------------------------------------------------------------------
def linear(v):
    """Identity activation: ψ(v) = v. Shapes: any → same."""
    return _out(_float(v).copy(), v)


def linear_derivative(v):
    """dψ/dv of the identity: 1 everywhere. Shapes: any → same."""
    return _out(np.ones_like(_float(v)), v)


# ----------------------------------------------------------------------------------------------
# Piecewise linear: y = clip(v + 1/2, 0, 1)
# ----------------------------------------------------------------------------------------------
def piecewise_linear(v):
    """Piecewise-linear unit (Haykin): ψ(v) = 1 for v ≥ +½, v + ½ for −½ < v < +½, 0 for v ≤ −½.

    Shapes: any → same; values in [0, 1]. It is linear in its middle and saturates like a
    threshold unit outside it.
    """
    v = _float(v)
    return _out(np.clip(v + 0.5, 0.0, 1.0), v)


def piecewise_linear_derivative(v):
    """dψ/dv of the piecewise-linear unit: 1 on (−½, ½), 0 outside. Shapes: any → same."""
    v = _float(v)
    return _out(((v > -0.5) & (v < 0.5)).astype(v.dtype), v)


# ----------------------------------------------------------------------------------------------
# Sigmoid with slope a: y = 1 / (1 + exp(-a v))
# ----------------------------------------------------------------------------------------------
def sigmoid(v, a=1.0):
    """Logistic sigmoid with slope parameter ``a``: ψ(v) = 1 / (1 + exp(−a·v)).

    Shapes: any → same; values in [0, 1]. Larger ``a`` makes the S steeper; as a → ∞ it
    becomes the threshold unit. Computed by ``sigmoid_in_place`` on a new array: for a·v below
    about −709 (−88 in float32) exp(−a·v) overflows to inf and the result is 0 (the true value
    is below 1e-308, 1e-38 in float32), with no warning; it is never nan.
    """
    v = _float(v)
    with np.errstate(over="ignore", under="ignore"):
        return _out(sigmoid_in_place(np.asarray(a * v)), v)       # a·v: a new array


def _sigmoid(v):
    with np.errstate(over="ignore", under="ignore"):
        return sigmoid_in_place(v.copy())


def sigmoid_in_place(v):
    """σ(v) = 1 / (1 + e^(−v)) written over the float array ``v`` (and returned).

    Four ufunc calls and no new array, for a caller that owns ``v`` (the LSTM's gates, lecture
    20; ``sigmoid`` calls it on the new array a·v). Shapes: any → same. For v below about −709
    (−88 in float32) e^(−v) overflows to inf and σ comes out as 0, where the true value is below
    1e-308 (1e-38 in float32). That overflow (and the underflow of e^(−v) for large v) is
    expected; the caller silences numpy's warnings about it with ``np.errstate(over="ignore",
    under="ignore")``, around one call (``sigmoid``) or around a loop of them (the LSTM, once
    per sequence: entering the context costs about 1.5 µs, as much as the four ufuncs on a
    32 × 64 block of gates).
    """
    np.negative(v, out=v)
    return sigmoid_of_negated_in_place(v)


def sigmoid_of_negated_in_place(u):
    """σ(−u) = 1 / (1 + e^u) written over the float array ``u`` (and returned).

    ``sigmoid_in_place`` without its first step, for a caller that holds −v already: the LSTM
    multiplies by gate weights whose sign it flipped once, which gives −z exactly (negation is
    exact in floating point) and saves a pass over its gates at every step. Three ufunc calls;
    e^u overflows to inf for u above about 709 (88 in float32), giving 0, as there.
    """
    np.exp(u, out=u)
    u += 1
    return np.reciprocal(u, out=u)


def sigmoid_derivative(v, a=1.0):
    """dψ/dv of the sigmoid with slope a: a · ψ(v) · (1 − ψ(v)). Shapes: any → same.

    The largest value is a/4, at v = 0.
    """
    s = np.asarray(sigmoid(v, a))
    return _out(a * sigmoid_derivative_from_output(s), v)


def sigmoid_derivative_from_output(y):
    """The sigmoid's slope written through its output y = σ(v): σ'(v) = y (1 − y). Shapes: any.

    A layer that kept its output computes its backward pass from it without another exp.
    """
    return y * (1 - y)


# ----------------------------------------------------------------------------------------------
# Hyperbolic tangent
# ----------------------------------------------------------------------------------------------
def tanh(v):
    """Hyperbolic tangent: ψ(v) = (e^v − e^−v) / (e^v + e^−v). Shapes: any → same; values in (−1, 1).

    It equals 2·sigmoid(2v) − 1: a sigmoid stretched to be zero-centred.
    """
    return _out(np.tanh(_float(v)), v)


def tanh_derivative(v):
    """dψ/dv of tanh: 1 − tanh²(v). Shapes: any → same; largest value 1 at v = 0."""
    return _out(tanh_derivative_from_output(np.tanh(_float(v))), v)


def tanh_derivative_from_output(y):
    """tanh's slope written through its output y = tanh(v): 1 − y². Shapes: any → same."""
    return 1 - y * y


# ----------------------------------------------------------------------------------------------
# ReLU and leaky ReLU
# ----------------------------------------------------------------------------------------------
def relu(v):
    """Rectified linear unit: ψ(v) = max(0, v). Shapes: any → same."""
    v = _float(v)
    return _out(_relu(v), v)


def _relu(v):
    return np.maximum(v, _zeros(v.shape, v.dtype))


@functools.lru_cache(maxsize=8)
def _zeros(shape, dtype):
    """A read-only array of zeros, kept for the next call with the same shape and dtype.

    ``np.maximum(v, z)`` against an array z of zeros is numpy's vectorised loop, about 3×
    faster in float32 than against the number 0 (measured: 64 × 128, 1.7 µs against 5.1 µs;
    64 × 8 × 28 × 28, 67 µs against 208 µs) and gives the same bits, nan and −0 included.
    Keeping a few is cheap: a large array of zeros that is only read takes no memory of its own
    (the system maps it to its one shared page of zeros).
    """
    z = np.zeros(shape, dtype)
    z.flags.writeable = False
    return z


def relu_derivative(v):
    """dψ/dv of ReLU: 1 for v > 0, 0 for v ≤ 0 (the value at 0 is taken as 0). Shapes: any → same."""
    v = _float(v)
    return _out((v > 0).astype(v.dtype), v)


def relu_derivative_from_output(y):
    """ReLU's slope read off its output y = max(0, v): 1 where y > 0, else 0, in y's dtype.

    Shapes: any float array → same. y > 0 exactly where v > 0, so this is ``relu_derivative``
    without keeping v. The mask is made in y's dtype (not left as booleans) because a product of
    two arrays of one float dtype is numpy's fast vectorised loop, while float × bool converts
    the booleans piece by piece (about 3× slower for a 64 × 128 batch); a layer can also write
    the product g · ψ' into this new array instead of allocating another.
    """
    return (y > 0).astype(y.dtype)


def leaky_relu(v, alpha=0.01):
    """Leaky ReLU: ψ(v) = v for v > 0, α·v otherwise (α = 0.01 by default). Shapes: any → same."""
    v = _float(v)
    return _out(np.where(v > 0, v, alpha * v), v)


def leaky_relu_derivative(v, alpha=0.01):
    """dψ/dv of leaky ReLU: 1 for v > 0, α otherwise. Shapes: any → same."""
    v = _float(v)
    return _out(np.where(v > 0, 1.0, alpha).astype(v.dtype), v)


# ----------------------------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------------------------
def max_along_axis(v, axis=-1):
    """max_k v[..., k, ...] along ``axis``, kept as an axis of length 1 (``keepdims``).

    Shapes: (..., K) → (..., 1) for the last axis. The same numbers as ``v.max(axis,
    keepdims=True)`` (a maximum is exact, and nan wins as there), found faster for many short
    rows: numpy reduces a last axis row by row, one short loop each (about 65 ns a row), so for
    at least 128 rows of at most 16 entries the maxima are taken down the columns of the
    transposed copy instead, one vectorised pass per entry of a row (measured on one core:
    1.2× faster for 128 rows of 10 scores, 1.8× for 256, 3.5× for 1,000; for a training batch
    of 64 rows the copy costs what it saves, so numpy's own maximum is used).
    """
    K = v.shape[-1] if v.ndim else 0
    if 0 < K <= 16 and v.size >= 128 * K and axis in (-1, v.ndim - 1):
        columns = np.ascontiguousarray(v.reshape(-1, K).T)          # (K, rows)
        return columns.max(axis=0).reshape(v.shape[:-1] + (1,))
    return v.max(axis=axis, keepdims=True)


def softmax(v, axis=-1):
    """Softmax along ``axis``: p_i = exp(v_i − max v) / Σ_j exp(v_j − max v).

    Shapes: ``v`` of shape (..., K) → probabilities of the same shape, each slice along ``axis``
    summing to 1. Subtracting the maximum first changes nothing mathematically (it cancels) but
    keeps every exponent ≤ 0, so exp never overflows, even for v = [1000, 1001].
    """
    v = _float(v)                                # float32 stays float32
    if v.ndim == 0:
        raise ValueError("softmax needs at least one axis of scores, got a scalar")
    return _softmax(v, axis)


def _softmax(v, axis=-1):
    e = v - max_along_axis(v, axis)              # a new array: exp and the division reuse it
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax_backward(p, grad_p, axis=-1):
    """Backward pass of softmax: given p = softmax(v) and g = dL/dp, return dL/dv.

    Formula: dL/dv_i = p_i · (g_i − Σ_j g_j p_j)  (the Jacobian diag(p) − p pᵀ applied to g).
    Shapes: ``p`` and ``grad_p`` both (..., K) → (..., K).
    """
    p, grad_p = _float(p), _float(grad_p)
    if p.shape != grad_p.shape:
        raise ValueError(f"softmax_backward: p has shape {p.shape} but grad_p has shape {grad_p.shape}")
    return p * (grad_p - (grad_p * p).sum(axis=axis, keepdims=True))


# ----------------------------------------------------------------------------------------------
# Stochastic unit with pseudo-temperature T
# ----------------------------------------------------------------------------------------------
def stochastic_probability(v, T=1.0):
    """Probability that the stochastic unit fires +1: P(v) = 1 / (1 + exp(−v / T)).

    Shapes: any → same. T is the pseudo-temperature: as T → 0 the unit becomes deterministic
    (P → 1 for v > 0, 0 for v < 0, ½ at v = 0); as T grows, P → ½ for every v (pure noise).
    ``T = 0`` is accepted and gives that deterministic limit.
    """
    if T < 0:
        raise ValueError(f"the temperature T must be >= 0, got T={T}")
    v = _float(v)
    if T == 0:
        return _out(np.where(v > 0, 1.0, np.where(v < 0, 0.0, 0.5)), v)
    return sigmoid(v, a=1.0 / T)


def stochastic(v, T=1.0, rng=None):
    """Stochastic unit: y = +1 with probability P(v), −1 with probability 1 − P(v).

    Shapes: any → same, values in {−1.0, +1.0}. ``rng`` is a ``numpy.random.Generator``
    (pass a seeded one for reproducible draws; a fresh default one is used otherwise).
    """
    rng = np.random.default_rng() if rng is None else rng
    p = np.asarray(stochastic_probability(v, T))
    out = np.where(rng.random(p.shape) < p, 1.0, -1.0)
    return _out(out, v)


# ----------------------------------------------------------------------------------------------
# Look-up by name
# ----------------------------------------------------------------------------------------------
_TABLE = {
    "threshold": (threshold, threshold_derivative),
    "linear": (linear, linear_derivative),
    "piecewise_linear": (piecewise_linear, piecewise_linear_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
}
NAMES = tuple(_TABLE) + ("softmax",)


def _identity(v):
    return v


#: ψ for a float array with at least one axis, such as a layer holds (softmax over the last
#: axis): the formulas above without the conversions that let them also take numbers and
#: lists, which a layer would pay at every step (about a twentieth of a small network's
#: training step, measured with `make bench`), and the identity without a copy. The other
#: activations are the functions above.
ON_FLOAT_ARRAYS = {"relu": _relu, "sigmoid": _sigmoid, "tanh": np.tanh, "linear": _identity,
                   "softmax": _softmax}

#: ψ' through the output y = ψ(v), where that is possible: what a layer that kept y needs.
DERIVATIVES_FROM_OUTPUT = {"sigmoid": sigmoid_derivative_from_output,
                           "tanh": tanh_derivative_from_output,
                           "relu": relu_derivative_from_output,
                           "linear": linear_derivative}


def get(name):
    """Return the pair ``(ψ, ψ')`` for an elementwise activation named ``name``.

    ``name`` is one of ``NAMES`` except "softmax" (which is not elementwise: use ``softmax`` and
    ``softmax_backward``). An unknown name raises ``ValueError`` listing the known ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"an activation is named by a string, got {type(name).__name__}")
    if name not in _TABLE:
        raise ValueError(f"unknown activation {name!r}; known elementwise activations: "
                         f"{', '.join(_TABLE)}")
    return _TABLE[name]
