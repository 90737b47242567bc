"""The course's figures, drawn the same way in every lecture (lectures 04–19).

Every function draws with the course palette (:mod:`nnlib.style`), gives its figure a title and
labelled axes, takes an optional ``ax`` (or ``axes``/``fig``) to draw on, and returns the Axes
(one-panel figures) or the Figure (several panels). None calls ``plt.show()``: the notebook does.

* :mod:`.classification`: ``decision_boundary``, ``confusion_matrix`` (and ``confusion_counts``),
  ``image_grid``;
* :mod:`.training`: ``curves`` (learning curves), ``loss_surface`` (contours + optimizer paths);
* :mod:`.diagrams`: ``network_diagram``, ``activation_gallery``.

>>> from nnlib import data, plotting
>>> X, y = data.blobs(20, centers=2)
>>> ax = plotting.decision_boundary(lambda P: (P[:, 1] > 0).astype(int), X, y)
"""
from .classification import confusion_counts, confusion_matrix, decision_boundary, image_grid, predicted_labels
from .diagrams import activation_gallery, network_diagram
from .training import curves, loss_surface

__all__ = [
    "decision_boundary", "predicted_labels", "curves", "activation_gallery", "network_diagram",
    "loss_surface", "confusion_matrix", "confusion_counts", "image_grid",
]
