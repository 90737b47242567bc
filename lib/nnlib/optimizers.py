"""Optimizers: the variants of gradient descent (lecture 16; plain SGD in lecture 10).

Each optimizer is an object with a learning rate ``lr`` (change it at any time, e.g. from a
schedule) and a method ``step(params, grads)`` that updates the arrays in ``params`` *in place*
from the matching ``grads``. Whatever an optimizer remembers between steps (a velocity, a running
average of squared gradients, ...) is kept per parameter, in the order the lists are given, so
always pass the parameters in the same order. Notation: w a parameter, g = ∂L/∂w its gradient,
η the learning rate; operations are elementwise.

>>> import numpy as np
>>> w = np.array([1.0]); SGD(lr=0.1).step([w], [np.array([2.0])]); w
array([0.8])
"""
from __future__ import annotations

import numpy as np

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaptiveGain", "AdaGrad", "RMSProp",
           "Adam", "clip_by_value", "clip_by_norm", "get", "NAMES"]


def _same_length(params, grads, who):
    if len(params) != len(grads):
        raise ValueError(f"{who}: got {len(params)} parameters but {len(grads)} gradients")


def _check_lists(params, grads, who):
    params, grads = list(params), list(grads)
    _same_length(params, grads, who)
    for i, (p, g) in enumerate(zip(params, grads)):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"{who}: parameter {i} must be a float ndarray (updated in place), "
                            f"got {type(p).__name__} {getattr(p, 'dtype', '')}")
        if np.shape(g) != p.shape:
            raise ValueError(f"{who}: parameter {i} has shape {p.shape} but its gradient has "
                             f"shape {np.shape(g)}")
        if not np.all(np.isfinite(g)):
            raise ValueError(f"{who}: the gradient of parameter {i} (shape {p.shape}) contains "
                             f"NaN or infinite values")
    return params, [np.asarray(g, dtype=p.dtype) for p, g in zip(params, grads)]


class Optimizer:
    """Common machinery: learning rate, step counter ``t`` and per-parameter state (lecture 16).

    ``lr`` is read at every step, so setting ``opt.lr`` between steps (a schedule does) changes
    the next step; the state already accumulated (a momentum velocity, which holds −η g terms
    with the η of their time, or Adam's averages) is kept as it is, not rescaled.
    """

    #: the per-parameter state arrays: {name: initial value of every entry}
    _slots: dict = {}

    def __init__(self, lr):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: the learning rate must be > 0, got lr={lr}")
        self.lr = lr
        self.t = 0
        self.state = []          # one dict {slot: array} per parameter

    def step(self, params, grads, check=True):
        """Update every array in ``params`` in place from ``grads`` (same order and shapes).

        Each call checks that every parameter is a float array and every gradient has its
        parameter's shape and only finite values, and says which one is wrong. ``check=False``
        skips those checks: for a caller whose arrays are its own and known good, such as a
        model's training loop (its gradients come from its layers, and it stops with a clear
        error as soon as the loss is not finite), where checking every entry of every gradient
        at every step would cost a fifth of a small network's step.
        """
        if check:
            params, grads = _check_lists(params, grads, f"{type(self).__name__}.step")
        state = self.state
        if len(state) != len(params) or len(grads) != len(params):
            state = self._start(params, grads)
        self.t += 1
        for p, g, st in zip(params, grads, state):
            self._update(p, g, st)

    def _start(self, params, grads):
        """The per-parameter state of a first step (every slot at its initial value); refuses
        lists whose lengths disagree with each other or with the state already kept."""
        who = f"{type(self).__name__}.step"
        _same_length(params, grads, who)
        if self.state:
            raise ValueError(f"{who}: this optimizer was used with {len(self.state)} "
                             f"parameters and now gets {len(params)}; call reset() to start "
                             f"afresh")
        self.state = [{s: np.full_like(p, v0) for s, v0 in self._slots.items()} for p in params]
        return self.state

    def reset(self):
        """Forget all state (velocities, averages, gains) and the step count."""
        self.t = 0
        self.state = []

    def _update(self, w, g, state):          # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("state", "t"))
        return f"{type(self).__name__}({fields})"


class SGD(Optimizer):
    """Plain gradient descent (lecture 10): w ← w − η g.

    It keeps no state, so its ``step`` is the update itself, one line in one loop over the
    pairs (the other optimizers call ``_update`` once per parameter to reach their state).
    """

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self, params, grads, check=True):
        """w ← w − η g in place for every (w, g) pair; the checks of ``Optimizer.step``."""
        if check:
            params, grads = _check_lists(params, grads, "SGD.step")
        else:
            _same_length(params, grads, "SGD.step")
        self.t += 1
        lr = self.lr
        for w, g in zip(params, grads):
            w -= lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum (lecture 16):  v ← β v − η g;  w ← w + v  (v₀ = 0).

    The velocity v is a running sum of past steps, decaying by β each time: along a direction
    where the gradient keeps its sign the steps build up to η g / (1 − β) (10× for β = 0.9);
    where it flips they cancel. The notes write the same rule with Δw = −v.
    """
    _slots = {"v": 0.0}

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        if not 0 <= beta < 1:
            raise ValueError(f"Momentum: beta must be in [0, 1), got {beta}")
        self.beta = beta

    def _update(self, w, g, state):
        v = state["v"]
        v *= self.beta
        v -= self.lr * g
        w += v


class Nesterov(Momentum):
    """Nesterov momentum (lecture 16): the gradient is taken at the look-ahead point w + βv.

    Implemented in the usual equivalent form in which the stored parameters *are* the
    look-ahead point, so g is simply the gradient at the current w:
        v ← β v − η g;   w ← w + β v − η g   (with the new v).
    """

    def _update(self, w, g, state):
        v = state["v"]
        v *= self.beta
        v -= self.lr * g
        w += self.beta * v - self.lr * g


class AdaptiveGain(Optimizer):
    """Per-weight adaptive gains (delta-bar-delta style, lecture 16):  w ← w − η · gain · g.

    Every weight has its own gain, starting at 1. Before each step it compares the sign of its
    gradient with the previous step's:
        g · g_prev > 0 (same direction, the step size is good)  → gain ← gain + κ
        g · g_prev < 0 (the last step overshot)                  → gain ← gain · φ
        g · g_prev = 0 (first step, or a zero gradient)          → gain unchanged
    then clips the gain to [gain_min, gain_max]. Additive increase, multiplicative decrease: gains
    grow slowly and shrink fast. The notes' version is κ = β, φ = 1 − β.
    """
    _slots = {"gain": 1.0, "prev": 0.0}

    def __init__(self, lr=0.01, kappa=0.05, phi=0.95, gain_min=0.1, gain_max=10.0):
        super().__init__(lr)
        if not (kappa >= 0 and 0 < phi <= 1 and 0 < gain_min <= 1 <= gain_max):
            raise ValueError(f"AdaptiveGain: need kappa >= 0, 0 < phi <= 1 and "
                             f"0 < gain_min <= 1 <= gain_max; got kappa={kappa}, phi={phi}, "
                             f"gain_min={gain_min}, gain_max={gain_max}")
        self.kappa, self.phi, self.gain_min, self.gain_max = kappa, phi, gain_min, gain_max

    def _update(self, w, g, state):
        gain, prev = state["gain"], state["prev"]
        agree = g * prev
        gain[agree > 0] += self.kappa
        gain[agree < 0] *= self.phi
        np.clip(gain, self.gain_min, self.gain_max, out=gain)
        prev[...] = g
        w -= self.lr * gain * g


class AdaGrad(Optimizer):
    """AdaGrad (lecture 16):  G ← G + g²;  w ← w − η g / (√G + ε)  (G₀ = 0).

    Each weight's step shrinks with the total squared gradient it has seen: frequently updated
    weights slow down, rare ones keep moving. G only grows, so learning eventually stalls.
    """
    _slots = {"G": 0.0}

    def __init__(self, lr=0.01, eps=1e-8):
        super().__init__(lr)
        self.eps = eps

    def _update(self, w, g, state):
        G = state["G"]
        G += g * g
        w -= self.lr * g / (np.sqrt(G) + self.eps)


class RMSProp(Optimizer):
    """RMSProp (lecture 16):  s ← ρ s + (1 − ρ) g²;  w ← w − η g / (√s + ε)  (s₀ = 0).

    AdaGrad with a forgetting running average ("MeanSquare" in the notes, ρ = 0.9 to 0.999)
    instead of an ever-growing sum. The notes put ε inside the root, √(s + ε); here ε is added
    after it, as in Keras and PyTorch (the two differ only while s is comparable to ε).
    """
    _slots = {"s": 0.0}

    def __init__(self, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(lr)
        if not 0 <= rho < 1:
            raise ValueError(f"RMSProp: rho must be in [0, 1), got {rho}")
        self.rho, self.eps = rho, eps

    def _update(self, w, g, state):
        s = state["s"]
        s *= self.rho
        s += (1 - self.rho) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (lecture 16): momentum and RMSProp together, with bias correction. At step t = 1, 2, …

        m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ);       v̂ = v / (1 − β₂ᵗ)
        w ← w − η m̂ / (√v̂ + ε)

    m and v start at 0, which biases them towards 0 in the first steps; dividing by 1 − βᵗ
    removes that bias (at t = 1, m̂ = g and v̂ = g² exactly, so the first step is ≈ η·sign(g)).
    """
    _slots = {"m": 0.0, "v": 0.0}

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _update(self, w, g, state):
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# ----------------------------------------------------------------------------------------------
# Gradient clipping (lectures 16 and 20)
# ----------------------------------------------------------------------------------------------
def clip_by_value(grads, limit):
    """Clip every gradient entry to [−limit, limit]. Returns new arrays; the inputs are unchanged.

    Shapes: a list of arrays → a list of arrays of the same shapes. Simple, but it can change
    the direction of the gradient vector.

    Lecture 16; also 20.
    """
    if not limit > 0:
        raise ValueError(f"clip_by_value: limit must be > 0, got {limit}")
    return [np.clip(np.asarray(g), -limit, limit) for g in grads]


def clip_by_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    ‖g‖ = √(Σ over all arrays and entries of g²); if ‖g‖ > max_norm every array is multiplied by
    max_norm / ‖g‖, else nothing changes. The direction is kept, only a step off a cliff is
    shortened. Returns new arrays (same shapes); the inputs are unchanged.

    Lecture 16; also 20.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_by_norm: max_norm must be > 0, got {max_norm}")
    grads = [np.asarray(g) for g in grads]
    norm = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)))
    if not np.isfinite(norm):
        raise ValueError("clip_by_norm: the gradients contain NaN or infinite values")
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * np.asarray(scale, dtype=g.dtype) if scale != 1.0 else g.copy() for g in grads]


_TABLE = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adaptive_gain": AdaptiveGain,
          "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam}
NAMES = tuple(_TABLE)


def get(name, **kw):
    """Make an optimizer by name: ``get("adam", lr=0.01)`` → ``Adam(lr=0.01)``.

    Names (case-insensitive): sgd, momentum, nesterov, adaptive_gain, adagrad, rmsprop, adam.
    An ``Optimizer`` instance is returned unchanged. Unknown names raise ``ValueError``.

    Lecture 16.
    """
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str):
        raise TypeError(f"an optimizer is named by a string, got {type(name).__name__}")
    key = name.lower()
    if key not in _TABLE:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(NAMES)}")
    return _TABLE[key](**kw)
