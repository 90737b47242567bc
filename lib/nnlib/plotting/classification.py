"""Figures about classifiers: decision regions, confusion matrices, image grids (lectures 06, 13, 19)."""
from __future__ import annotations

import math

import numpy as np

from .. import style
from ._common import class_color, class_marker, class_name, labels_1d, new_axes, points_2d

__all__ = ["predicted_labels", "decision_boundary", "confusion_counts", "confusion_matrix", "image_grid"]


def predicted_labels(output, threshold=0.5):
    """Turn what a ``predict`` function returns into class labels (M,) int.

    * scores / probabilities (M, K) with K ≥ 2 → argmax over the K columns;
    * one probability per row, (M, 1) or (M,) floats that are not all whole numbers → 1 if
      p ≥ ``threshold`` else 0;
    * whole numbers (M,) (labels, also −1/+1 of a perceptron) → kept as they are.
    """
    out = np.asarray(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.argmax(out, axis=1)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise ValueError(f"predict must return (M,), (M, 1) or (M, K) values, got shape {out.shape}")
    if out.dtype.kind == "f":
        if not np.all(np.isfinite(out)):
            raise ValueError("predict returned NaN or inf on the plotting grid")
        if np.all(out == np.round(out)):
            return out.astype(np.int64)
        return (out >= threshold).astype(np.int64)
    return out.astype(np.int64)


def decision_boundary(predict, X, y, ax=None, title="Decision boundary", resolution=200,
                      padding=0.5, class_names=None, xlabel="$x_1$", ylabel="$x_2$", threshold=0.5,
                      legend=True):
    """Shade the region each class is predicted in and scatter the data on top (lectures 06, 13).

    ``predict`` maps points (M, 2) to labels (M,), to probabilities (M,) / (M, 1) (cut at
    ``threshold``) or to scores (M, K) (argmax); see :func:`predicted_labels`. It is evaluated on
    a ``resolution`` × ``resolution`` grid covering ``X`` (N, 2) plus ``padding``. ``y`` (N,)
    holds the true labels (one-hot rows are accepted). Each class has one palette colour and
    marker; region borders are drawn in black. Returns the Axes.
    """
    X = points_2d("X", X)
    y = labels_1d("y", y, X.shape[0])
    ax = new_axes(ax, (5.0, 4.0))
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    pred = predicted_labels(predict(grid), threshold)
    if pred.shape != (grid.shape[0],):
        raise ValueError(f"predict returned {pred.shape[0]} predictions for {grid.shape[0]} grid points")
    classes = np.union1d(np.unique(y), np.unique(pred))
    index = np.searchsorted(classes, pred).reshape(g1.shape)
    from matplotlib.colors import ListedColormap
    cmap = ListedColormap([class_color(i) for i in range(classes.size)])
    ax.imshow(index, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap=cmap, alpha=0.25,
              vmin=-0.5, vmax=classes.size - 0.5, interpolation="nearest", aspect="auto")
    present = np.unique(index)
    if present.size > 1:
        ax.contour(g1, g2, index, levels=np.arange(present.min(), present.max()) + 0.5,
                   colors=style.PALETTE["black"], linewidths=1.0)
    for i, c in enumerate(classes):
        mask = y == c
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], s=22, color=class_color(i), marker=class_marker(i),
                       edgecolors="black", linewidths=0.4, label=class_name(int(c), class_names), zorder=3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    if legend:
        ax.legend(loc="best", frameon=True, framealpha=0.8)
    return ax


def confusion_counts(y_true, y_pred, n_classes=None):
    """Count matrix C (K, K): C[i, j] = number of examples of true class i predicted as class j.

    ``y_true`` and ``y_pred`` are labels (N,) in 0 … K−1 (one-hot / score rows are argmaxed);
    K = ``n_classes`` or 1 + the largest label seen. The diagonal holds the correct predictions,
    so accuracy = trace(C) / N (lecture 13).
    """
    t = labels_1d("y_true", y_true)
    p = labels_1d("y_pred", y_pred, t.shape[0])
    K = int(max(t.max(initial=-1), p.max(initial=-1)) + 1) if n_classes is None else int(n_classes)
    for name, lab in (("y_true", t), ("y_pred", p)):
        if lab.size and (lab.min() < 0 or lab.max() >= K):
            bad = lab[(lab < 0) | (lab >= K)][0]
            raise ValueError(f"{name} holds label {int(bad)}, outside 0 … {K - 1} (n_classes={K})")
    C = np.zeros((K, K), dtype=np.int64)
    np.add.at(C, (t, p), 1)
    return C


def confusion_matrix(y_true, y_pred, ax=None, n_classes=None, class_names=None,
                     title="Confusion matrix", normalize=False):
    """Draw the confusion matrix with the count written in every cell (lecture 13).

    Rows are true classes, columns predicted classes (see :func:`confusion_counts`). With
    ``normalize=True`` colours show each row divided by its total (the recall of each class),
    while the cells still show the counts. Returns the Axes.
    """
    C = confusion_counts(y_true, y_pred, n_classes)
    K = C.shape[0]
    ax = new_axes(ax, (4.5, 4.0))
    totals = C.sum(axis=1, keepdims=True)
    shade = np.divide(C, totals, out=np.zeros(C.shape), where=totals > 0) if normalize else C
    im = ax.imshow(shade, cmap=style.CMAP, vmin=0, vmax=max(float(shade.max()), 1e-12))
    cut = 0.5 * float(shade.max())
    for i in range(K):
        for j in range(K):
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=9 if K <= 10 else 7,
                    color="black" if shade[i, j] > cut else "white")
    names = [class_name(k, class_names) if class_names is not None else str(k) for k in range(K)]
    ax.set_xticks(range(K), names)
    ax.set_yticks(range(K), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(C) / max(C.sum(), 1)
    ax.set_title(f"{title} (accuracy {accuracy:.1%})")
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04,
                       label="fraction of the true class" if normalize else "count")
    return ax


def _as_images(images):
    """Images as (N, H, W): accepts (N, H, W), (N, 1, H, W) and flat square rows (N, H·W)."""
    arr = np.asarray(images, dtype=float)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"flat images of shape {arr.shape} are not square: {arr.shape[1]} pixels")
        arr = arr.reshape(arr.shape[0], side, side)
    if arr.ndim != 3:
        raise ValueError(f"images must be (N, H, W), (N, 1, H, W) or (N, H·W), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"images of shape {arr.shape} contain NaN or inf")
    return arr


def image_grid(images, labels=None, predictions=None, ncols=10, title="Images", cmap="gray_r",
               class_names=None, fig=None, tile_size=0.9):
    """Show images in a grid, each captioned with its label, or predicted vs true (lectures 13, 19).

    ``images`` (N, H, W), (N, 1, H, W) or flat (N, H·W) with a square number of pixels (the
    digits' 64 → 8 × 8). ``labels`` (N,) are the true classes; with ``predictions`` (N,) too, a
    caption reads "5 (true 3)" in vermillion with a ✗ when they differ, "3 ✓" in black when
    equal. Grey levels use ``cmap`` (ink dark on light). Draws on ``fig`` (or a new figure of
    ``tile_size`` inches per image) and returns the Figure.
    """
    imgs = _as_images(images)
    n = imgs.shape[0]
    if n == 0:
        raise ValueError("image_grid needs at least one image, got 0")
    lab = None if labels is None else labels_1d("labels", labels, n)
    pred = None if predictions is None else labels_1d("predictions", predictions, n)
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(min(10.0, tile_size * ncols + 0.4), tile_size * 1.2 * nrows + 0.7),
                         layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    vmin, vmax = float(imgs.min()), float(imgs.max())
    name = (lambda c: class_name(c, class_names)) if class_names is not None else str
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(True)
            side.set_linewidth(0.5)
        if k >= n:
            ax.set_axis_off()
            continue
        ax.imshow(imgs[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if pred is not None:
            right = lab is None or pred[k] == lab[k]
            text = name(int(pred[k])) + ("" if lab is None else " ✓" if right else f" (true {name(int(lab[k]))}) ✗")
            ax.set_title(text, fontsize=8, color=style.PALETTE["black" if right else "vermillion"])
        elif lab is not None:
            ax.set_title(name(int(lab[k])), fontsize=8)
    fig.suptitle(title)
    if pred is not None:
        caption = "caption: predicted (true) class" if lab is not None else "caption: predicted class"
    elif lab is not None:
        caption = "caption: true class"
    else:
        caption = f"{n} images of {imgs.shape[1]}×{imgs.shape[2]} pixels"
    fig.supxlabel(caption, fontsize=9)
    return fig
