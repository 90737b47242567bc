"""Interactive explorers for the lectures, and the ready-made drawings they use (lectures 04, 10, 16).

An explorer is a set of sliders around a drawing function ``draw(**values)`` that makes one
matplotlib figure. Moving a slider calls ``draw`` again with the new values and shows only the
figure it drew. Write each explorer in two cells::

    # cell tagged nbval-ignore-output: the live version (needs a running kernel)
    widgets.explorer(widgets.draw_activation, name=["sigmoid", "tanh"], a=(0.1, 5.0, 0.1, 1.0))

    # the static twin, a normal cell: the same function once, with its default values
    widgets.draw_activation()
    plt.show()

so the notebook reads right where no kernel runs (a rendered page, nbval, a PDF). Give every
``draw`` default values equal to the sliders' starting values: an explorer built from tuples
without a start value starts at the ``draw`` default, so both cells show the same figure.
"""
from __future__ import annotations

import inspect
import io
import math
import numbers

import numpy as np

from . import activations as act
from . import style

__all__ = ["explorer", "control", "draw_activation", "descent_path", "draw_learning_rate"]


# ----------------------------------------------------------------------------------------------
# Building explorers
# ----------------------------------------------------------------------------------------------
def _decimals(step):
    return max(0, min(6, -math.floor(math.log10(step)) if step < 1 else 0))


def control(name, spec, default=inspect.Parameter.empty):
    """Turn one control specification into an ipywidgets widget (used by :func:`explorer`).

    * an ipywidgets widget → used as it is;
    * a tuple ``(min, max, step, value)`` or ``(min, max, step)`` or ``(min, max)`` of numbers →
      an ``IntSlider`` when all are whole numbers (ints), else a ``FloatSlider``; a missing
      value starts at ``default`` (the ``draw`` function's default) or else at ``min``;
    * a list of choices (strings or numbers) → a ``Dropdown``; a bool → a ``Checkbox``.

    Sliders update when released (``continuous_update=False``). Bad specifications raise
    ValueError naming the control and its values.
    """
    import ipywidgets as ipw
    if isinstance(spec, ipw.ValueWidget):
        return spec
    if isinstance(spec, bool):
        return ipw.Checkbox(value=spec, description=name)
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"control {name!r}: a list of choices must not be empty")
        value = default if default in spec else spec[0]
        return ipw.Dropdown(options=spec, value=value, description=name)
    if isinstance(spec, tuple):
        if not 2 <= len(spec) <= 4 or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec):
            raise ValueError(f"control {name!r}: a slider is (min, max, step, value) or (min, max, step) "
                             f"or (min, max) of numbers, got {spec!r}")
        lo, hi = spec[0], spec[1]
        integral = all(isinstance(v, numbers.Integral) for v in spec)
        step = spec[2] if len(spec) > 2 else (1 if integral else (hi - lo) / 100)
        if len(spec) == 4:
            value = spec[3]
        elif isinstance(default, numbers.Real) and not isinstance(default, bool):
            value = default
        else:
            value = lo
        if not (lo < hi):
            raise ValueError(f"control {name!r}: min must be below max, got min={lo}, max={hi}")
        if not step > 0:
            raise ValueError(f"control {name!r}: step must be positive, got {step}")
        if not lo <= value <= hi:
            raise ValueError(f"control {name!r}: start value {value} lies outside [{lo}, {hi}]")
        if integral and isinstance(value, numbers.Integral):
            return ipw.IntSlider(min=lo, max=hi, step=step, value=value, description=name,
                                 continuous_update=False)
        return ipw.FloatSlider(min=lo, max=hi, step=step, value=value, description=name,
                               continuous_update=False, readout_format=f".{_decimals(step)}f")
    raise TypeError(f"control {name!r}: expected an ipywidgets widget, a (min, max, step, value) tuple, "
                    f"a list of choices or a bool, got {spec!r} of type {type(spec).__name__}")


def _show_new_figures(before):
    """Show the figures opened since ``before`` (a set of figure numbers) and close them.

    With the inline back end ``plt.show()`` does it; with any other (e.g. Agg in a headless
    kernel, where ``plt.show()`` would show nothing) each figure is shown as a PNG image.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    new = [n for n in plt.get_fignums() if n not in before]
    if "inline" in matplotlib.get_backend():
        plt.show()
        return
    from IPython.display import Image, display
    for n in new:
        fig = plt.figure(n)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(fig)
        display(Image(data=buffer.getvalue(), format="png"))


def explorer(draw, **controls):
    """Sliders around ``draw(**values)``; every change redraws and shows only its figure (lecture 04).

    ``controls`` map keyword arguments of ``draw`` to ipywidgets widgets or to
    ``(min, max, step, value)`` tuples (see :func:`control`); keywords of ``draw`` without a
    control keep their defaults. ``draw`` makes one matplotlib figure (its return value is not
    displayed, so returning an Axes or Figure is fine) and must not call ``plt.show()`` itself.

    Returns the ``ipywidgets.interactive`` widget: make it the last expression of its cell (no
    trailing ``;``) and tag the cell ``nbval-ignore-output``. The static twin is ``draw()``
    called once with its default values in the next cell, followed by ``plt.show()``.
    Creating an explorer writes nothing to stderr; an exception inside ``draw`` is shown in the
    explorer's output area as a traceback.
    """
    import ipywidgets as ipw
    import matplotlib.pyplot as plt
    if not callable(draw):
        raise TypeError(f"draw must be a function, got {draw!r}")
    if not controls:
        raise ValueError("explorer needs at least one control, e.g. a=(0.1, 5.0, 0.1, 1.0)")
    params = inspect.signature(draw).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in controls if k not in params and not takes_any]
    if unknown:
        raise ValueError(f"controls {unknown} are not parameters of {getattr(draw, '__name__', 'draw')}"
                         f"{inspect.signature(draw)}")
    widgets = {k: control(k, spec, params[k].default if k in params else inspect.Parameter.empty)
               for k, spec in controls.items()}

    def redraw(**values):
        before = set(plt.get_fignums())
        draw(**values)
        _show_new_figures(before)

    redraw.__name__ = getattr(draw, "__name__", "draw")
    redraw.__doc__ = getattr(draw, "__doc__", None)
    return ipw.interactive(redraw, **widgets)


# ----------------------------------------------------------------------------------------------
# Activation functions (lecture 04)
# ----------------------------------------------------------------------------------------------
def draw_activation(name="sigmoid", a=1.0, T=1.0, v_max=5.0, axes=None):
    """ψ(a·v) and its derivative side by side, with the a = 1 curve in grey for comparison (lecture 04).

    ``name`` is an elementwise activation of :mod:`nnlib.activations` or "stochastic". The slope
    ``a`` scales the input: the drawn function is ψ(a·v) with derivative a·ψ′(a·v) (for the
    sigmoid this is exactly its slope parameter, σ(a·v) = 1/(1 + e^(−a·v))). The temperature ``T``
    is used by "stochastic": the probability of firing +1, P(v) = 1/(1 + e^(−v/T)), with
    P′(v) = P(1 − P)/T, and dots for the fraction of +1 outputs in 200 seeded draws at 21 values
    of v. ``v`` runs over [−v_max, v_max]. Draws on ``axes`` (two Axes) or a new figure; returns
    the Figure.
    """
    import matplotlib.pyplot as plt
    if not (isinstance(a, numbers.Real) and a > 0):
        raise ValueError(f"the slope a must be a positive number, got a={a!r}")
    v = np.linspace(-v_max, v_max, 401)
    if name == "stochastic":
        if not (isinstance(T, numbers.Real) and T > 0):
            raise ValueError(f"the temperature T must be a positive number, got T={T!r}")
        f = lambda x: act.stochastic_probability(x, T)
        df = lambda x: act.stochastic_probability(x, T) * (1 - act.stochastic_probability(x, T)) / T
        f1 = lambda x: act.stochastic_probability(x, 1.0)
        df1 = lambda x: act.stochastic_probability(x, 1.0) * (1 - act.stochastic_probability(x, 1.0))
        label, label1 = f"P(v), T = {T:g}", "T = 1"
        heading = f"Stochastic unit at temperature T = {T:g}"
    else:
        psi, dpsi = act.get(name)                  # ValueError names unknown activations
        f = lambda x: psi(a * x)
        df = lambda x: a * dpsi(a * x)
        f1, df1 = psi, dpsi
        pretty = name.replace("_", " ")
        label, label1 = f"ψ(a·v), a = {a:g}", "a = 1"
        heading = f"{pretty.capitalize()} with slope a = {a:g}"
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    fig = axes[0].figure
    left, right = axes
    changed = (T != 1.0) if name == "stochastic" else (a != 1.0)
    if changed:
        left.plot(v, f1(v), color="0.6", linewidth=1.0, label=label1)
        right.plot(v, df1(v), color="0.6", linewidth=1.0, label=label1)
    left.plot(v, f(v), color=style.PALETTE["blue"], linewidth=2.0, label=label)
    right.plot(v, df(v), color=style.PALETTE["vermillion"], linewidth=2.0, linestyle="--",
               label="P′(v)" if name == "stochastic" else "a·ψ′(a·v)")
    if name == "stochastic":
        rng = np.random.default_rng(0)
        vs = np.linspace(-v_max, v_max, 21)
        fires = act.stochastic(np.repeat(vs[:, None], 200, axis=1), T, rng=rng)
        left.plot(vs, (fires > 0).mean(axis=1), "o", color=style.PALETTE["green"], markersize=4,
                  label="fraction of +1 in 200 draws")
    for ax in axes:
        ax.axhline(0, color=style.PALETTE["black"], linewidth=0.5)
        ax.axvline(0, color=style.PALETTE["black"], linewidth=0.5)
        ax.set_xlabel("v (induced local field)")
        ax.legend(loc="best")
    left.set_ylabel("output")
    right.set_ylabel("derivative")
    left.set_title(heading)
    right.set_title("Its derivative")
    return fig


# ----------------------------------------------------------------------------------------------
# Learning rate and gradient descent (lecture 10)
# ----------------------------------------------------------------------------------------------
#: The quadratic losses of draw_learning_rate: L(w) = ½ Σ c_i (w_i − w*_i)², gradient c ⊙ (w − w*).
SURFACES = {
    "1d": dict(curvature=np.array([2.0]), minimum=np.array([1.0]), start=np.array([-2.0])),
    "2d": dict(curvature=np.array([1.0, 8.0]), minimum=np.array([0.0, 0.0]), start=np.array([-4.0, 2.0])),
}
_DIVERGED = 1e6


def _surface(surface):
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose one of {sorted(SURFACES)}")
    return SURFACES[surface]


def descent_path(lr, steps, surface="1d", start=None):
    """Gradient descent w ← w − η ∇L(w) on a quadratic loss; returns the iterates (lecture 10).

    ``surface`` "1d": L(w) = (w − 1)², i.e. c = 2, w* = 1, start −2; each step multiplies the
    distance to w* by (1 − 2η), so 0 < η < 1 converges (in one step at η = ½, with a zigzag
    above it), η = 1 bounces for ever and η > 1 diverges. "2d": L(w) = ½(w₁² + 8 w₂²), start
    (−4, 2): the steep direction w₂ limits η to below 2/8 = 0.25 while the flat one w₁ wants η
    large. Returns ``path`` (k + 1, D) with path[0] = start; it stops early (k < ``steps``) once
    |w| exceeds 10⁶ (diverged).
    """
    s = _surface(surface)
    if not (isinstance(lr, numbers.Real) and lr >= 0 and math.isfinite(lr)):
        raise ValueError(f"the learning rate must be a finite number ≥ 0, got lr={lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, got steps={steps!r}")
    w = np.array(s["start"] if start is None else start, dtype=float).reshape(-1)
    if w.shape != s["start"].shape:
        raise ValueError(f"start must have shape {s['start'].shape} for surface {surface!r}, got {w.shape}")
    path = [w.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            w = w - lr * s["curvature"] * (w - s["minimum"])
            path.append(w.copy())
            if not np.abs(w).max() <= _DIVERGED:
                break
    return np.array(path)


def _loss(path, s):
    return 0.5 * (s["curvature"] * (path - s["minimum"]) ** 2).sum(axis=-1)


def _verdict(lr, s):
    factors = np.abs(1.0 - lr * s["curvature"])    # per-direction shrink factor |1 − η c|
    worst = factors.max()
    if lr == 0:
        return "η = 0: nothing moves"
    if worst > 1:
        return "diverges"
    if worst == 1:
        return "never settles"
    if np.any(1.0 - lr * s["curvature"] < 0):
        return "converges, zigzagging"
    return "converges slowly" if worst >= 0.9 else "converges"


def draw_learning_rate(lr=0.1, steps=20, surface="1d", axes=None):
    """Gradient descent with learning rate ``lr`` on a 1-D or 2-D quadratic loss (lecture 10).

    Left: the loss (a parabola for "1d", contours for "2d") with the iterates of
    :func:`descent_path` joined in order; right: the loss after each step on a log scale.
    The title says whether this η converges, zigzags, never settles or diverges. Draws on
    ``axes`` (two Axes) or a new figure; returns the Figure.
    """
    import matplotlib.pyplot as plt
    from . import plotting
    s = _surface(surface)
    path = descent_path(lr, steps, surface)
    losses = _loss(path, s)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    fig = axes[0].figure
    left, right = axes
    c = style.PALETTE["vermillion"]
    if surface == "1d":
        reach = min(max(np.abs(path[:, 0] - s["minimum"][0]).max(), 1.0), 10.0) * 1.15
        w = np.linspace(s["minimum"][0] - reach, s["minimum"][0] + reach, 300)
        left.plot(w, _loss(w[:, None], s), color=style.PALETTE["blue"], label="L(w) = (w − 1)²")
        shown = np.abs(path[:, 0] - s["minimum"][0]) <= reach
        left.plot(path[shown, 0], losses[shown], "-o", color=c, markersize=4, linewidth=1.0,
                  label="gradient descent")
        left.plot(path[0, 0], losses[0], "o", color=c, markeredgecolor="black", markersize=8, label="start")
        left.set_xlim(w[0], w[-1])
        left.set_xlabel("w")
        left.set_ylabel("loss L(w)")
        left.legend(loc="upper center")
        left.set_title(f"η = {lr:g}: {_verdict(lr, s)}")
    else:
        span = min(max(np.abs(path).max(), 4.5), 12.0) * 1.1
        plotting.loss_surface(lambda a, b: 0.5 * (a ** 2 + 8.0 * b ** 2), (-span, span), (-span / 2, span / 2),
                              {f"η = {lr:g}": path}, ax=left, minimum=s["minimum"], resolution=80,
                              title=f"η = {lr:g}: {_verdict(lr, s)}", colorbar=False)
        left.set_xlabel("w₁")
        left.set_ylabel("w₂")
    k = np.arange(losses.size)
    right.semilogy(k, np.maximum(losses, 1e-16), "-o", color=c, markersize=3)
    from matplotlib.ticker import MaxNLocator
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("step")
    right.set_ylabel("loss (log scale)")
    right.set_title("Loss after each step" + (" (stopped: diverged)" if path.shape[0] < steps + 1 else ""))
    return fig
