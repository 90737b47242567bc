"""Diagrams: a network's units and weights, and a gallery of activation functions (lectures 04, 07, 08, 11)."""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .. import style
from ._common import new_axes

__all__ = ["network_diagram", "activation_gallery"]


def _layer_names(n_layers):
    if n_layers == 1:
        return ["input"]
    hidden = ["hidden"] if n_layers == 3 else [f"hidden {i}" for i in range(1, n_layers - 1)]
    return ["input", *hidden, "output"]


def network_diagram(sizes, weights=None, ax=None, title=None, layer_names=None, annotate=False,
                    cmap=None, colorbar=True):
    """Draw a fully connected network: a circle per unit, a line per weight (lectures 07, 08, 11).

    ``sizes`` lists the number of units per layer, input first, e.g. [2, 3, 1]. ``weights``
    (optional) is a list of matrices, one per pair of consecutive layers, ``weights[l]`` of shape
    (sizes[l], sizes[l+1]) = (fan_in, fan_out), the library's Dense convention (pass ``W.T`` for
    a matrix written W[neuron, input]); entry [i, j] is the weight from unit i to unit j. Given
    weights, each line's colour shows its sign and size on a diverging map (blue negative, red
    positive, symmetric around 0) and its width grows with |w|; ``annotate=True`` also writes the
    values. Returns the Axes.
    """
    raw = np.atleast_1d(np.asarray(sizes))
    if raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise ValueError(f"sizes must be a list of whole numbers of units per layer, got {sizes!r}")
    sizes = [int(s) for s in raw]
    if len(sizes) < 1 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least one layer, each with ≥ 1 unit, got {sizes}")
    Ws = None
    if weights is not None:
        Ws = [np.asarray(w, dtype=float) for w in weights]
        if len(Ws) != len(sizes) - 1:
            raise ValueError(f"{len(sizes)} layers need {len(sizes) - 1} weight matrices, got {len(Ws)}")
        for l, w in enumerate(Ws):
            if w.shape != (sizes[l], sizes[l + 1]):
                hint = " (it looks transposed: pass W.T)" if w.shape == (sizes[l + 1], sizes[l]) else ""
                raise ValueError(f"weights[{l}] must have shape (fan_in, fan_out) = "
                                 f"({sizes[l]}, {sizes[l + 1]}), got {w.shape}{hint}")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"weights[{l}] of shape {w.shape} contains NaN or inf")
    names = list(layer_names) if layer_names is not None else _layer_names(len(sizes))
    if len(names) != len(sizes):
        raise ValueError(f"layer_names has {len(names)} names for {len(sizes)} layers")
    ax = new_axes(ax, (5.5, 3.5))
    tallest = max(sizes)
    ys = [np.arange(n)[::-1] - (n - 1) / 2.0 for n in sizes]   # centred, first unit on top
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    import matplotlib as mpl
    segments, values, fractions = [], [], []
    for l in range(len(sizes) - 1):
        for i, yi in enumerate(ys[l]):
            for j, yj in enumerate(ys[l + 1]):
                segments.append([(l, yi), (l + 1, yj)])
                values.append(Ws[l][i, j] if Ws is not None else 0.0)
                # where a value is written along its line: spread out so labels do not overlap
                fractions.append(0.25 + 0.5 * j / max(1, sizes[l + 1] - 1))
    values = np.asarray(values)
    if Ws is None:
        lines = LineCollection(segments, colors=style.PALETTE["black"], linewidths=0.8, alpha=0.5, zorder=1)
        ax.add_collection(lines)
    elif segments:
        limit = float(np.abs(values).max()) or 1.0
        norm = Normalize(-limit, limit)
        cm = mpl.colormaps[cmap or style.DIVERGING_CMAP]
        lines = LineCollection(segments, cmap=cm, norm=norm, linewidths=0.6 + 3.0 * np.abs(values) / limit, zorder=1)
        lines.set_array(values)
        ax.add_collection(lines)
        if colorbar:
            ax.figure.colorbar(lines, ax=ax, label="weight", fraction=0.05, pad=0.02)
        if annotate:
            for (p, q), v, where in zip(segments, values, fractions):
                x, y = p[0] + where * (q[0] - p[0]), p[1] + where * (q[1] - p[1])
                ax.text(x, y, f"{v:.2f}", fontsize=7, ha="center", va="center", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))
    size = max(30.0, 400.0 / max(1.0, tallest / 4.0))
    for l, (n, y) in enumerate(zip(sizes, ys)):
        face = style.PALETTE["sky"] if l == 0 else style.PALETTE["orange"] if l == len(sizes) - 1 else "white"
        ax.scatter(np.full(n, l), y, s=size, facecolor=face, edgecolor=style.PALETTE["black"], linewidth=1.0, zorder=3)
    ax.set_xticks(range(len(sizes)), [f"{nm}\n({n})" for nm, n in zip(names, sizes)])
    ax.set_yticks([])
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-tallest / 2.0, tallest / 2.0)
    ax.grid(False)
    for side in ("left", "top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("layer (units)")
    ax.set_ylabel("units")
    ax.set_title(title or "Network " + "–".join(str(n) for n in sizes))
    return ax


def activation_gallery(names=("sigmoid", "tanh", "relu", "leaky_relu"), v=None, params=None, axes=None,
                       title="Activation functions ψ(v) and their derivatives ψ′(v)"):
    """Each activation beside its derivative: one column per name, ψ(v) on top, ψ′(v) below (lecture 04).

    ``names`` are elementwise activations of :mod:`nnlib.activations` (``activations.NAMES``
    without "softmax"); ``v`` the points to draw (default 401 points on [−5, 5]); ``params`` a
    dict {name: keyword arguments}, e.g. {"sigmoid": {"a": 2.0}, "leaky_relu": {"alpha": 0.1}}.
    ``axes`` an array (2, len(names)) of Axes to draw on, else a new figure. Returns the Figure.
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("activation_gallery needs at least one activation name, got none")
    pairs = [act.get(n) for n in names]            # raises ValueError naming an unknown one
    params = dict(params or {})
    unknown = set(params) - set(names)
    if unknown:
        raise ValueError(f"params given for {sorted(unknown)}, which are not among names {names}")
    v = np.linspace(-5.0, 5.0, 401) if v is None else np.asarray(v, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"v must be a 1-D array of at least two points, got shape {v.shape}")
    if axes is None:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, len(names), figsize=(min(10.0, 2.6 * len(names) + 0.5), 4.0),
                                 squeeze=False, layout="constrained")
    else:
        axes = np.asarray(axes, dtype=object).reshape(2, len(names))
        fig = axes[0, 0].figure
    for k, (name, (f, df)) in enumerate(zip(names, pairs)):
        kw = params.get(name, {})
        label = name.replace("_", " ") + "".join(f", {key}={val:g}" for key, val in kw.items())
        top, bottom = axes[0, k], axes[1, k]
        top.plot(v, f(v, **kw), color=style.PALETTE["blue"])
        bottom.plot(v, df(v, **kw), color=style.PALETTE["vermillion"], linestyle="--")
        top.set_title(label)
        bottom.set_title(f"{label}: derivative", fontsize=9)
        for ax in (top, bottom):
            ax.axhline(0, color=style.PALETTE["black"], linewidth=0.5)
            ax.axvline(0, color=style.PALETTE["black"], linewidth=0.5)
        bottom.set_xlabel("v")
        top.set_xlabel("v")
        top.set_ylabel("ψ(v)")
        bottom.set_ylabel("ψ′(v)")
    fig.suptitle(title)
    return fig
