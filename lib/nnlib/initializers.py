"""Weight initializers (lecture 14).

Why it matters: if every weight starts equal (zeros), every neuron of a layer computes the same
thing and receives the same gradient, so they stay equal forever (symmetry). Random weights break
the symmetry, but their *scale* decides whether signals and gradients keep a sensible size as
they pass through many layers. A unit summing fan_in inputs has output variance
fan_in · Var(w) · Var(x), so the scale of w should shrink like 1/√fan_in:

* Glorot/Xavier (2010), for tanh/sigmoid: Var(w) = 2 / (fan_in + fan_out), a compromise between
  keeping forward activations (fan_in) and backward gradients (fan_out) steady.
  Uniform on [−L, L] with L = √(6 / (fan_in + fan_out)) has exactly that variance (L²/3).
* He/Kaiming (2015), for ReLU, which zeroes half its inputs: Var(w) = 2 / fan_in.
* LeCun: Var(w) = 1 / fan_in, i.e. w · √(1/m) with m inputs, the rule written in notes 001.

Every initializer has the signature ``init(shape, rng=None, *, options)`` and returns a float64
array of that shape (``dtype=`` changes it); options such as ``std=`` are keyword-only.
``rng`` is a ``numpy.random.Generator`` or an int seed (None: a fresh, unseeded generator).
Fans come from ``compute_fans(shape)``.
"""
from __future__ import annotations

import functools
import inspect
import math

import numpy as np

__all__ = ["compute_fans", "zeros", "constant", "normal", "uniform", "glorot_uniform",
           "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "get", "initialize", "NAMES"]


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"shape must not contain negative sizes, got {shape}")
    return shape


def _rng(rng):
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def compute_fans(shape):
    """Number of inputs and outputs of a unit for a weight array of the given shape.

    * (fan_in, fan_out): a dense weight matrix W used as y = x W (the course's convention);
    * (n,): a vector (bias), fan_in = fan_out = n;
    * (F, C, kh, kw) and other shapes of 3+ axes: a convolution kernel with F output and C input
      channels (images are (N, C, H, W)): fan_in = C·kh·kw, fan_out = F·kh·kw.

    Returns ``(fan_in, fan_out)`` as ints.

    Lecture 14.
    """
    shape = _shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fans(shape, fan_in, fan_out):
    fi, fo = compute_fans(shape)
    fi = fi if fan_in is None else fan_in
    fo = fo if fan_out is None else fan_out
    if fi <= 0 or fo <= 0:
        raise ValueError(f"fans must be positive, got fan_in={fi}, fan_out={fo} for shape {shape}")
    return fi, fo


def zeros(shape, rng=None, *, dtype=np.float64):
    """All zeros (lecture 14's cautionary example: symmetric neurons never differ).

    ``rng`` is accepted for a uniform signature and not used.
    """
    return np.zeros(_shape(shape), dtype=dtype)


def constant(shape, rng=None, *, value=0.0, dtype=np.float64):
    """Every entry equal to ``value``. ``rng`` unused.

    Lecture 14.
    """
    return np.full(_shape(shape), value, dtype=dtype)


def normal(shape, rng=None, *, std=0.05, mean=0.0, dtype=np.float64):
    """Gaussian entries: w ~ N(mean, std²). Shapes: ``shape`` → array of that shape.

    Lecture 14.
    """
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return _rng(rng).normal(mean, std, _shape(shape)).astype(dtype, copy=False)


def uniform(shape, rng=None, *, limit=0.05, dtype=np.float64):
    """Uniform entries: w ~ U(−limit, limit), variance limit²/3. Shapes: ``shape`` → that shape.

    Lecture 14.
    """
    if not limit >= 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return _rng(rng).uniform(-limit, limit, _shape(shape)).astype(dtype, copy=False)


def glorot_uniform(shape, rng=None, *, fan_in=None, fan_out=None, dtype=np.float64):
    """Glorot/Xavier uniform: w ~ U(−L, L), L = √(6 / (fan_in + fan_out)); Var = 2/(fan_in+fan_out).

    Keras's default for Dense layers, and the course's. ``fan_in``/``fan_out`` override
    ``compute_fans(shape)``.

    Lecture 14.
    """
    fi, fo = _fans(shape, fan_in, fan_out)
    return uniform(shape, rng, limit=math.sqrt(6.0 / (fi + fo)), dtype=dtype)


def glorot_normal(shape, rng=None, *, fan_in=None, fan_out=None, dtype=np.float64):
    """Glorot/Xavier normal: w ~ N(0, σ²), σ = √(2 / (fan_in + fan_out)).

    A plain (untruncated) Gaussian; Keras truncates at 2σ and rescales, which changes little.

    Lecture 14.
    """
    fi, fo = _fans(shape, fan_in, fan_out)
    return normal(shape, rng, std=math.sqrt(2.0 / (fi + fo)), dtype=dtype)


def he_normal(shape, rng=None, *, fan_in=None, fan_out=None, dtype=np.float64):
    """He/Kaiming normal, for ReLU layers: w ~ N(0, σ²), σ = √(2 / fan_in). ``fan_out`` unused.

    Lecture 14.
    """
    fi, _ = _fans(shape, fan_in, fan_out)
    return normal(shape, rng, std=math.sqrt(2.0 / fi), dtype=dtype)


def he_uniform(shape, rng=None, *, fan_in=None, fan_out=None, dtype=np.float64):
    """He/Kaiming uniform: w ~ U(−L, L), L = √(6 / fan_in); Var = 2/fan_in as in ``he_normal``.

    Lecture 14.
    """
    fi, _ = _fans(shape, fan_in, fan_out)
    return uniform(shape, rng, limit=math.sqrt(6.0 / fi), dtype=dtype)


def lecun_normal(shape, rng=None, *, fan_in=None, fan_out=None, dtype=np.float64):
    """LeCun normal: w ~ N(0, 1/fan_in), i.e. a standard normal scaled by √(1/m) (notes 001).

    Lecture 14.
    """
    fi, _ = _fans(shape, fan_in, fan_out)
    return normal(shape, rng, std=math.sqrt(1.0 / fi), dtype=dtype)


_TABLE = {f.__name__: f for f in (zeros, constant, normal, uniform, glorot_uniform, glorot_normal,
                                   he_normal, he_uniform, lecun_normal)}
_ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
            "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform"}
NAMES = tuple(_TABLE) + tuple(_ALIASES)


def get(name, **kw):
    """Return the initializer ``name`` as ``init(shape, rng=None)``, with ``kw`` bound.

    ``get("constant", value=0.1)``, ``get("normal", std=0.01)``, ``get("uniform", limit=0.1)``,
    ``get("glorot_uniform")``; "xavier_*" and "kaiming_*" are accepted as aliases. A callable is
    returned unchanged. An unknown name or keyword raises ``ValueError``/``TypeError``.

    Lecture 14.
    """
    if callable(name):
        return functools.partial(name, **kw) if kw else name
    if not isinstance(name, str):
        raise TypeError(f"an initializer is named by a string, got {type(name).__name__}")
    key = _ALIASES.get(name, name)
    if key not in _TABLE:
        raise ValueError(f"unknown initializer {name!r}; known: {', '.join(NAMES)}")
    f = _TABLE[key]
    allowed = set(inspect.signature(f).parameters) - {"shape", "rng"}
    unknown = set(kw) - allowed
    if unknown:
        raise TypeError(f"initializer {name!r} takes no argument(s) {sorted(unknown)}; "
                        f"it takes {sorted(allowed)}")
    return functools.partial(f, **kw) if kw else f


def initialize(init, shape, rng, dtype):
    """Draw an array of ``shape`` with the initializer ``init`` (lecture 14), in ``dtype``.

    ``init`` is a name known to ``get`` or a callable ``init(shape, rng)``; ``rng`` a
    ``numpy.random.Generator``. Shapes: ``shape`` → array of that shape. This is how every
    layer of ``nnlib.layers`` creates its weights.
    """
    fn = init if callable(init) else get(init)
    return np.asarray(fn(tuple(shape), rng=rng), dtype=dtype)
