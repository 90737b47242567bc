"""Figures about training: learning curves and loss surfaces with optimizer paths (lectures 10, 13, 16)."""
from __future__ import annotations

import numpy as np

from .. import style
from ._common import new_axes

__all__ = ["curves", "loss_surface"]

_PRETTY = {"loss": "loss", "accuracy": "accuracy", "acc": "accuracy", "lr": "learning rate"}


def _metric_names(history):
    """Base metric names in a history dict, in first-seen order ("val_loss" counts as "loss")."""
    names = []
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    return names


def _draw_metric(ax, history, metric, title, xlabel):
    train = history.get(metric)
    val = history.get("val_" + metric)
    if train is None and val is None:
        raise ValueError(f"history has no {metric!r} or 'val_{metric}'; its keys are {sorted(history)}")
    series = [(s, lbl) for s, lbl in ((train, "training"), (val, "validation")) if s is not None]
    lengths = {len(s) for s, _ in series}
    if len(lengths) > 1:
        raise ValueError(f"{metric!r} and 'val_{metric}' have different lengths {sorted(lengths)}")
    for (s, lbl), color, ls in zip(series, (style.PALETTE["blue"], style.PALETTE["vermillion"]), ("-", "--")):
        s = np.asarray(s, dtype=float)
        epochs = np.arange(1, s.size + 1)
        ax.plot(epochs, s, ls, color=color, label=lbl, marker="o" if s.size <= 30 else None, markersize=3)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_PRETTY.get(metric, metric.replace("_", " ")))
    ax.set_title(title)
    ax.legend()


def curves(history, ax=None, title=None, metric=None, xlabel="epoch"):
    """Learning curves, training vs validation, epoch by epoch (lectures 13 and 15).

    ``history`` is a dict of lists (``History.history``, or a ``History`` object), keys such as
    "loss", "val_loss", "accuracy", "val_accuracy"; each list has one value per epoch and is
    plotted against epochs 1, 2, …: training solid blue, validation dashed vermillion.

    * ``metric`` a name ("loss", "accuracy", …) or ``ax`` given: one panel (``metric`` defaults to
      the first one in ``history``) on ``ax`` or a new Axes; returns the Axes.
    * neither: one panel per metric side by side in a new figure; returns the Figure (a single
      metric still gives its Axes).

    ``title`` defaults to "Learning curves: <metric>" per panel.
    """
    history = getattr(history, "history", history)
    if not isinstance(history, dict) or not history:
        raise ValueError(f"history must be a non-empty dict of lists like {{'loss': [...]}}, got {history!r}")
    names = _metric_names(history)
    if metric is not None or ax is not None or len(names) == 1:
        metric = names[0] if metric is None else metric
        ax = new_axes(ax, (5.0, 3.5))
        _draw_metric(ax, history, metric, title or f"Learning curves: {_PRETTY.get(metric, metric)}", xlabel)
        return ax
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(names), figsize=(min(10.0, 4.5 * len(names)), 3.5), layout="constrained")
    for a, name in zip(axes, names):
        _draw_metric(a, history, name, f"{title}: {_PRETTY.get(name, name)}" if title
                     else f"Learning curves: {_PRETTY.get(name, name)}", xlabel)
    return fig


def _evaluate_on_grid(f, W1, W2):
    """f on a grid: vectorised f(W1, W2) if it broadcasts, else point by point as f(w1, w2) or f(w)."""
    try:
        Z = np.asarray(f(W1, W2), dtype=float)
        if Z.shape == W1.shape:
            return Z
    except TypeError:
        pass
    try:                                   # f(w1, w2) on plain floats (math functions inside)
        float(f(float(W1.flat[0]), float(W2.flat[0])))
        point = lambda a, b: float(f(a, b))
    except TypeError:                      # f(w) on one parameter vector
        point = lambda a, b: float(f(np.array([a, b])))
    Z = np.array([point(a, b) for a, b in zip(W1.ravel().tolist(), W2.ravel().tolist())])
    return Z.reshape(W1.shape)


def loss_surface(f, xlim, ylim, trajectories=None, ax=None, title="Loss surface", resolution=120,
                 levels=20, log_levels=False, minimum=None, xlabel="$w_1$", ylabel="$w_2$", colorbar=True):
    """Contours of a loss of two parameters, with optimizer paths drawn on top (lectures 10, 16).

    ``f`` is the loss L(w₁, w₂): either vectorised, ``f(W1, W2)`` on two arrays of the same shape
    returning that shape, or ``f(w)`` taking one vector w (2,) (then evaluated point by point).
    It is drawn on ``xlim`` × ``ylim`` with ``resolution``² points as ``levels`` filled contours
    (geometrically spaced when ``log_levels=True``, useful for valleys like Rosenbrock's).

    ``trajectories`` is a dict {name: array (T, 2)} of successive (w₁, w₂), or a list of such
    arrays; each is a line with dots, a circle at its start and a star at its end. ``minimum``
    (w₁*, w₂*) is marked with a black cross. Returns the Axes.
    """
    (x0, x1), (y0, y1) = (float(v) for v in xlim), (float(v) for v in ylim)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"xlim and ylim must be (low, high) with low < high, got {xlim!r} and {ylim!r}")
    W1, W2 = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    Z = _evaluate_on_grid(f, W1, W2)
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"the loss is NaN or inf somewhere on xlim={xlim!r}, ylim={ylim!r}")
    ax = new_axes(ax, (5.5, 4.0))
    if log_levels:
        if Z.min() <= 0:
            raise ValueError(f"log_levels needs a positive loss, its minimum on the grid is {Z.min():.3g}")
        lv = np.geomspace(Z.min(), Z.max(), levels) if Z.max() > Z.min() else levels
    else:
        lv = np.linspace(Z.min(), Z.max(), levels) if Z.max() > Z.min() else levels
    cs = ax.contourf(W1, W2, Z, levels=lv, cmap=style.CMAP)
    ax.contour(W1, W2, Z, levels=lv, colors="white", linewidths=0.4, alpha=0.6)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label="loss", format="%.3g")
    if trajectories is not None:
        items = trajectories.items() if isinstance(trajectories, dict) else \
            ((f"path {i + 1}", t) for i, t in enumerate(trajectories))
        # colours that stand out on cividis (blue to yellow)
        colors = [style.PALETTE[c] for c in ("vermillion", "sky", "purple", "orange", "green", "black")]
        for i, (name, path) in enumerate(items):
            path = np.asarray(path, dtype=float)
            if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 1:
                raise ValueError(f"trajectory {name!r} must have shape (T, 2), got {path.shape}")
            c = colors[i % len(colors)]
            ax.plot(path[:, 0], path[:, 1], "-", color=c, marker=".", markersize=4, linewidth=1.5, label=str(name))
            ax.plot(*path[0], "o", color=c, markeredgecolor="white", markersize=7)
            ax.plot(*path[-1], "*", color=c, markeredgecolor="white", markersize=11)
    if minimum is not None:
        ax.plot(*np.asarray(minimum, dtype=float), "x", color=style.PALETTE["black"], markersize=9,
                markeredgewidth=2, label="minimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(False)
    if trajectories is not None or minimum is not None:
        ax.legend(loc="upper right", frameon=True, framealpha=0.85)
    return ax
