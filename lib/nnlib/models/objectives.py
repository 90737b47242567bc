"""How a model turns ``compile(loss=...)`` into per-output loss functions (lectures 09, 18).

An ``Objective`` is called on one output and its targets and returns ``(loss, dL/d output)``.
It computes nothing itself: it names the loss, says what kind of targets it takes, and calls
the formula written once in ``nnlib.losses`` (through ``losses.value_and_grad``, without the
per-call checks, since the data were checked once when they entered the model:
``models.input_checks``). Targets of classification objectives arrive as integer labels (N,)
or one-hot (N, K).

A model whose output layer is a ``Softmax`` and whose loss is categorical cross-entropy uses
the *fused* objective: it returns dL/dz for the logits z entering the softmax, (p − y)/N, and
the model skips the softmax's own backward pass (lecture 11). A sigmoid output with binary
cross-entropy is fused the same way (lecture 10: logistic regression's gradient p − y).

What is logged and what is followed differ at the extremes: the loss a fused objective returns
(and ``fit`` logs) is that of the probabilities clipped at eps (1e-12 in float64, 1e-7 in
float32), so a certain wrong answer costs −log eps ≈ 27.6 (float64), not infinity; the gradient
it returns is the exact (p − y)/N of the logits, never clipped, so training still moves.
"""
from __future__ import annotations

import numpy as np

from nnlib import losses

__all__ = ["Objective", "resolve", "accuracy"]

_CCE = {"categorical_cross_entropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy"}
_LOGITS = {"softmax_cross_entropy", "categorical_cross_entropy_from_logits"}
_BCE_LOGITS = {"binary_cross_entropy_with_logits"}
_BCE = {"binary_cross_entropy", "binary_crossentropy"}


class Objective:
    """One output's loss (lectures 09, 18): ``obj(y_pred, y_true) -> (loss, grad)``.

    ``kind`` is "categorical", "binary" or "regression" (it decides how targets are checked
    and which metrics make sense); ``fused`` says the gradient is taken w.r.t. the input of the
    output Softmax layer; ``logits`` that predictions are scores, not probabilities.
    """

    def __init__(self, name, fn, kind, fused=False, logits=False):
        self.name, self.fn, self.kind, self.fused, self.logits = name, fn, kind, fused, logits

    def __call__(self, y_pred, y_true):
        return self.fn(y_pred, y_true)

    def __repr__(self):
        return f"Objective({self.name!r}, kind={self.kind!r}, fused={self.fused})"


def _custom(spec):
    """A (loss, grad) pair or an object with .loss and .grad, each taking (y_pred, y_true)."""
    f, df = spec

    def fn(y_pred, y_true):
        return float(f(y_pred, y_true)), np.asarray(df(y_pred, y_true), dtype=y_pred.dtype)
    return Objective(getattr(f, "__name__", "custom"), fn, "regression")


def resolve(spec, output_activation=None, class_weight=None):
    """Turn a loss name (or a (loss, grad) pair) into an ``Objective`` for one output (lecture 18).

    Names: those of ``nnlib.losses.get`` (Keras spellings included). ``output_activation`` is
    the name of the output layer's activation when the model may skip its backward pass:
    "softmax" with categorical cross-entropy and "sigmoid" with binary cross-entropy give the
    fused objectives, whose gradient w.r.t. the logits is (p − y)/N. With ``class_weight``
    the checked functions of ``nnlib.losses`` are used, with the weights.
    """
    if isinstance(spec, Objective):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and all(map(callable, spec)):
        return _custom(spec)
    if not isinstance(spec, str):
        raise TypeError(f"compile: a loss is a name such as 'mse' or a (loss, grad) pair of "
                        f"functions, got {type(spec).__name__}")
    pair = losses.get(spec)                            # raises ValueError for unknown names
    kind = ("categorical" if spec in _CCE | _LOGITS else
            "binary" if spec in _BCE | _BCE_LOGITS else "regression")
    logits = spec in _LOGITS | _BCE_LOGITS
    if class_weight is not None:
        if kind == "regression":
            raise ValueError(f"compile: class_weight needs a classification loss, not {spec!r}")

        def weighted(y_pred, y_true):
            return (float(pair.loss(y_pred, y_true, class_weight=class_weight)),
                    np.asarray(pair.grad(y_pred, y_true, class_weight=class_weight),
                               dtype=y_pred.dtype))
        return Objective(spec, weighted, kind, logits=logits)
    fn, fused = losses.value_and_grad(spec, output_activation)
    return Objective(spec, fn, kind, fused=fused, logits=logits)


def accuracy(y_pred, y_true, objective):
    """Fraction of correct predictions (lecture 13).

    Categorical: argmax of the scores vs the label (or the argmax of a one-hot row). Binary:
    p > 0.5 (z > 0 for logits) vs y ≥ 0.5, entry by entry.
    """
    if objective.kind == "categorical":
        pred = y_pred.argmax(axis=1)
        true = y_true if y_true.ndim == 1 else y_true.argmax(axis=1)
        return float(np.mean(pred == true))
    if objective.kind == "binary":
        pred = y_pred > (0.0 if objective.logits else 0.5)
        return float(np.mean(pred == (y_true >= 0.5)))
    raise ValueError(f"accuracy is defined for classification losses; this output is trained "
                     f"with {objective.name!r} (regression)")
