"""Gradient checking by centred finite differences (lecture 11).

A backward pass is easy to get subtly wrong and hard to debug by reading. The cure is to compare
it with a gradient we can compute without any calculus: nudge one number by ±h, see how the loss
moves, and divide,

    ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / (2h).

The centred difference is accurate to O(h²) (a one-sided one only to O(h)); with float64 and
h = 1e-5 a correct gradient typically agrees to a relative error below 1e-8, while a wrong one is
off by something of order 1. So a tolerance of 1e-6 separates the two cleanly.

>>> import numpy as np
>>> x = np.array([1.0, -2.0, 3.0])
>>> float(rel_error(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 2 * x)) < 1e-8
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["numerical_gradient", "rel_error", "GradCheckReport", "check_parameters", "check_layer",
           "check_model"]


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of a scalar function with respect to the array ``x``.

    ``f()`` takes no arguments and returns a float computed from ``x``, which this function
    changes *in place*, one entry at a time (x_i ← x_i ± h), restoring it afterwards. For every
    index i:  g_i = (f(x + h e_i) − f(x − h e_i)) / (2h).

    Shapes: ``x`` an ndarray of floats, any shape (use float64: in float32 the differences drown
    in rounding) → ``g`` of the same shape, float64. Costs 2·x.size calls of ``f``.

    Lecture 11.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient changes x in place, so x must be a float ndarray; "
                        f"got {type(x).__name__} with dtype {getattr(x, 'dtype', None)}")
    if not h > 0:
        raise ValueError(f"the step h must be > 0, got h={h}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = float(f())
        x[ix] = old - h
        f_minus = float(f())
        x[ix] = old                      # restore before moving on
        grad[ix] = (f_plus - f_minus) / (2.0 * h)
    return grad


def rel_error(a, b):
    """Relative error between two gradients: max_i |a_i − b_i| / max(max_i (|a_i| + |b_i|), 1e-12).

    Shapes: ``a`` and ``b`` the same shape → a float. Dividing by the size of the gradient as a
    whole (not entry by entry) keeps entries that are nearly zero, where finite differences have
    only absolute accuracy, from raising false alarms. Rough scale in float64: below 1e-7 is a
    correct gradient, above 1e-3 a wrong one.

    Lecture 11.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: the two gradients differ in shape, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    scale = max(float(np.max(np.abs(a) + np.abs(b))), 1e-12)
    return float(np.max(np.abs(a - b)) / scale)


@dataclass
class GradCheckReport:
    """Result of ``check_parameters`` / ``check_layer``.

    ``ok`` is True when every parameter's relative error is at most ``tol``. ``errors`` maps each
    parameter name to its ``rel_error``; ``entries`` lists the worst entries as tuples
    (name, index, analytic, numeric, error), worst first, where ``error`` is that entry's
    |analytic − numeric| divided by the same scale ``rel_error`` uses for the parameter.
    ``str(report)`` prints them as a table.

    Lecture 11.
    """
    tol: float
    errors: dict = field(default_factory=dict)
    entries: list = field(default_factory=list)

    @property
    def max_rel_error(self):
        """The largest relative error over all parameters (0.0 when nothing was checked)."""
        return max(self.errors.values(), default=0.0)

    @property
    def ok(self):
        """True when every parameter passes: max_rel_error ≤ tol."""
        return self.max_rel_error <= self.tol

    def __str__(self):
        verdict = "PASSED" if self.ok else "FAILED"
        lines = [f"gradient check {verdict}: max relative error {self.max_rel_error:.3e} "
                 f"(tolerance {self.tol:.1e})"]
        lines += [f"  {name:>10}: {err:.3e}" for name, err in self.errors.items()]
        if self.entries:
            lines.append("  worst entries:")
            lines.append(f"  {'parameter':>10} {'index':>12} {'analytic':>14} {'numeric':>14} "
                         f"{'error':>10}")
            for name, ix, a, n, err in self.entries:
                lines.append(f"  {name:>10} {str(ix):>12} {a:>14.6e} {n:>14.6e} {err:>10.2e}")
        return "\n".join(lines)


def check_parameters(loss_fn, params, analytic, h=1e-5, tol=1e-6, worst=5):
    """Compare analytic gradients with centred differences, parameter by parameter.

    ``loss_fn()`` returns the scalar loss computed from the arrays in ``params`` (a dict
    name → float64 ndarray), which are nudged in place and restored. ``analytic`` maps the same
    names to the gradients your backward pass produced (same shapes). Returns a
    ``GradCheckReport`` listing the ``worst`` largest disagreements overall.

    Lecture 11.
    """
    if set(params) != set(analytic):
        raise ValueError(f"check_parameters: params has keys {sorted(params)} but analytic has "
                         f"keys {sorted(analytic)}")
    report = GradCheckReport(tol=tol)
    candidates = []
    for name, value in params.items():
        a = np.asarray(analytic[name], dtype=np.float64)
        if a.shape != np.shape(value):
            raise ValueError(f"check_parameters: analytic gradient for {name!r} has shape "
                             f"{a.shape} but the parameter has shape {np.shape(value)}")
        n = numerical_gradient(loss_fn, value, h=h)
        report.errors[name] = rel_error(a, n)
        scale = max(float(np.max(np.abs(a) + np.abs(n), initial=0.0)), 1e-12)
        diff = np.abs(a - n) / scale
        diff = np.where(np.isfinite(diff), diff, np.inf)
        for flat in np.argsort(diff, axis=None)[::-1][:worst]:
            ix = np.unravel_index(flat, a.shape)
            ix = tuple(int(i) for i in ix)
            candidates.append((name, ix, float(a[ix]), float(n[ix]), float(diff[ix])))
    candidates.sort(key=lambda entry: entry[4], reverse=True)
    report.entries = candidates[:worst]
    return report


def check_layer(layer, x, seed=0, tol=1e-6, h=1e-5, training=True):
    """Check a layer's backward pass against finite differences (lecture 11).

    The layer follows the course contract: ``forward(x, training) -> out``,
    ``backward(grad_out) -> grad_x``, trainable arrays in ``layer.params`` and their gradients in
    ``layer.grads`` (same keys). A random upstream gradient G (seeded by ``seed``, shape of
    ``out``) turns the layer into a scalar loss L = Σ out · G, whose exact gradients are what
    ``backward(G)`` must return. Checks dL/dx (reported as "x") and every parameter.

    Shapes: ``x`` any shape the layer accepts (converted to a float64 copy). Use float64
    parameters, and layers whose forward pass is deterministic for the ``training`` flag given
    (seed a dropout layer's mask, or check it with ``training=False``).
    Returns a ``GradCheckReport``.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x, training=training)
    upstream = rng.standard_normal(np.shape(out))
    grad_x = layer.backward(upstream)
    if "x" in layer.params:
        raise ValueError("check_layer reports the input gradient as 'x'; the layer has a "
                         "parameter with that name")
    analytic = {"x": np.array(grad_x, dtype=np.float64)}
    analytic.update({k: np.array(layer.grads[k], dtype=np.float64) for k in layer.params})

    def loss():
        return float(np.sum(layer.forward(x, training=training) * upstream))

    report = check_parameters(loss, {"x": x, **layer.params}, analytic, h=h, tol=tol)
    layer.forward(x, training=training)         # leave the layer's cache as it was
    return report


def check_model(model, X, y, h=1e-5, tol=1e-7, worst=5):
    """Every parameter of a compiled model against centred differences (lecture 11).

    ``model.check_gradients(X, y, ...)``: the model's total training loss on (X, y) (losses
    weighted per output, plus the L2 penalties) differentiated by one backward pass and
    numerically, entry by entry. Shapes: X, y as for ``fit``; float64 parameters. Returns a
    ``GradCheckReport`` whose names are "<layer name>.<param>".
    """
    return model.check_gradients(X, y, h=h, tol=tol, worst=worst)
