"""Whole-model gradient check (lecture 11): every parameter of a model against finite differences."""
from __future__ import annotations

import numpy as np

from nnlib import gradcheck
from nnlib.layers import Dropout

__all__ = ["check_model"]


def check_model(model, X, y, h=1e-5, tol=1e-7, worst=5):
    """Compare the model's backpropagated gradients with centred differences (lecture 11).

    The compiled ``model``'s total training loss on (X, y),
    L = Σ_o w_o J_o(ŷ_o, y_o) + Σ_layers λ Σ W², is differentiated two ways: by one backward
    pass, and numerically, one parameter entry at a time (L(θ + h) − L(θ − h)) / 2h, using
    ``gradcheck.check_parameters``. Dropout layers keep one fixed mask during the check; batch
    norm uses batch statistics (training mode), and every running statistic is restored after.

    Shapes: X, y as for ``model.fit``. Parameters must be float64 (``model.astype("float64")``).
    Returns a ``gradcheck.GradCheckReport`` whose names are "<layer name>.<param>". Costs two
    forward passes per parameter entry: use a small model and a few examples.
    """
    xs, ys, _ = model._prepare(X, y)
    if model.dtype != np.float64:
        raise TypeError(f"check_model needs float64 parameters, the model has {model.dtype}; "
                        f"call model.astype('float64') first")
    model._params_and_slots()
    saved = model.get_weights()
    drops = [layer for layer in model.layers if isinstance(layer, Dropout)]
    held = [d.hold_mask for d in drops]
    try:
        for d in drops:
            d.hold_mask = False
        model._forward(xs, True)                       # draw the masks once ...
        for d in drops:
            d.hold_mask = True                         # ... and keep them
        model._loss_and_backward(xs, ys)
        analytic = {f"{layer.name}.{k}": np.array(g, dtype=np.float64)
                    for (layer, k), g in zip(model._slots, model._gradients())}
        params = {f"{layer.name}.{k}": layer.params[k] for layer, k in model._slots}

        def loss():
            outs = model._forward(xs, True)
            total = sum(w * obj(o, t)[0] for o, t, obj, w in
                        zip(outs, ys, model.objectives, model.loss_weights))
            return total + model._l2()

        return gradcheck.check_parameters(loss, params, analytic, h=h, tol=tol, worst=worst)
    finally:
        for d, flag in zip(drops, held):
            d.hold_mask = flag
        model.set_weights(saved)
