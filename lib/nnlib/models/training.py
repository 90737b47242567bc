"""compile / fit / evaluate / predict / summary / check_gradients, shared by every model.

One training loop serves both kinds of model (lectures 10, 13, 18). A subclass supplies the
graph: ``_forward(xs, training) -> outputs`` and ``_backward(grads)``, plus ``layers``,
``input_names``, ``output_names`` and the per-example input and output shapes.
"""
from __future__ import annotations

import math

import numpy as np

from nnlib import gradcheck, optimizers
from nnlib.callbacks import History, ProgressBar
from nnlib.layers import Activation, Dropout
from nnlib.models import input_checks, objectives

__all__ = ["BaseModel"]


class BaseModel:
    """What every model can do: compile, fit, evaluate, predict, summary, check its gradients
    (lectures 11, 13, 18)."""

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self.optimizer = None
        self.objectives = None
        self.loss_weights = None
        self.metrics = []
        self.stop_training = False
        self.history = None
        self._trainable = None

    def __repr__(self):
        built = all(layer.built for layer in self.layers)
        params = f"{self.count_params():,}" if built else "not built yet"
        return (f"{type(self).__name__}(name={self.name!r}, layers={len(self.layers)}, "
                f"params={params})")

    # -- set-up ------------------------------------------------------------------------------
    def compile(self, loss, optimizer="sgd", metrics=None, loss_weights=None, class_weight=None):
        """Choose the loss of each output, the optimizer and the metrics (lecture 18).

        ``loss``: a name from ``nnlib.losses`` (e.g. "mse", "categorical_cross_entropy",
        "softmax_cross_entropy", "binary_cross_entropy"), a (loss, grad) pair, or for several
        outputs a list/dict of those (one name is used for all). ``optimizer``: an optimizer
        object or a name (created with its default learning rate). ``metrics``: ["accuracy"]
        or None; for several outputs it applies to the classification outputs. ``loss_weights``:
        w_o per output, total loss L = Σ_o w_o J_o (default all 1: L = J₁ + J₂ + ...).
        ``class_weight``: {class: weight} for a single output (lecture 15).
        """
        n = len(self.output_names)
        specs = self._per_output(loss, "loss", isinstance(loss, (list, dict)))
        if class_weight is not None and n != 1:
            raise ValueError("compile: class_weight is supported for single-output models")
        self.objectives = [objectives.resolve(s, self._output_activation(i), class_weight)
                           for i, s in enumerate(specs)]
        if loss_weights is None:
            self.loss_weights = [1.0] * n
        else:
            w = self._per_output(loss_weights, "loss_weights",
                                 isinstance(loss_weights, (list, tuple, dict)))
            if any(not np.isfinite(v) or v < 0 for v in w):
                raise ValueError(f"compile: loss_weights must be {n} finite numbers >= 0, got {w}")
            self.loss_weights = [float(v) for v in w]
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc"):
                raise ValueError(f"compile: unknown metric {m!r}; known: 'accuracy'")
        self.metrics = ["accuracy"] if metrics else []
        if self.metrics and n == 1 and self.objectives[0].kind == "regression":
            raise ValueError(f"compile: accuracy needs a classification loss, not "
                             f"{self.objectives[0].name!r}")
        self.optimizer = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
        self._trainable = None               # trainable flags are read again at the next step
        if not hasattr(self.optimizer, "step"):
            raise TypeError(f"compile: optimizer must be a name or have a step(params, grads) "
                            f"method, got {type(optimizer).__name__}")
        return self

    def _per_output(self, value, what, several):
        """One entry per output from a dict by output name, a list, or one value for all."""
        n = len(self.output_names)
        if isinstance(value, dict):
            return input_checks.as_list(value, n, self.output_names, f"compile({what}=...)")
        if several:
            if len(value) != n:
                raise ValueError(f"compile: {what} has {len(value)} entries but the model has "
                                 f"{n} output(s) {list(self.output_names)}")
            return list(value)
        return [value] * n

    def _output_activation(self, i):
        """Name of output i's activation layer, if the model may skip its backward pass."""
        layer = self._output_layers()[i]
        return layer.activation if isinstance(layer, Activation) else None

    def _require_compiled(self, what):
        if self.objectives is None:
            raise RuntimeError(f"{what}: call model.compile(loss=..., optimizer=...) first")

    @property
    def dtype(self):
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return None

    def astype(self, dtype):
        """Convert every parameter and state array to ``dtype`` (float32 or float64)."""
        dtype = np.dtype(dtype)
        for layer in self.layers:
            for group in (layer.params, layer.state):
                for k in group:
                    group[k] = group[k].astype(dtype)
            if hasattr(layer, "cell"):
                layer.cell.params = layer.params
        self._trainable = None
        if self.optimizer is not None and hasattr(self.optimizer, "reset"):
            self.optimizer.reset()
        return self

    def _find_trainable(self):
        """(layer, key) pairs of every trainable array, each layer once, in a fixed order.

        Layers with ``trainable = False`` (at the last ``compile``) are left out. Kept until
        compile/astype/build change what is trainable, with the arrays themselves (in the same
        order, for the optimizer) and the layers with an L2 penalty.
        """
        if self._trainable is None:
            live = [layer for layer in self.layers if getattr(layer, "trainable", True)]
            self._trainable = [(layer, k) for layer in live for k in layer.params]
            self._param_list = [layer.params[k] for layer, k in self._trainable]
            self._l2_layers = [layer for layer in live if layer.l2]
        return self._trainable

    def get_weights(self):
        """{layer name: layer.get_weights()} — copies of every parameter and running statistic."""
        return {layer.name: layer.get_weights() for layer in self.layers}

    def set_weights(self, weights):
        """Copy arrays from ``get_weights()`` back in place."""
        for layer in self.layers:
            if layer.name in weights:
                layer.set_weights(weights[layer.name])

    def count_params(self):
        """Total number of trainable scalars."""
        return sum(layer.count_params() for layer in self.layers)

    # -- data entering the model -------------------------------------------------------------
    def _prepare_x(self, X):
        xs = input_checks.as_list(X, len(self.input_names), self.input_names, "inputs")
        dtype = self.dtype
        if dtype is None:
            kinds = [np.asarray(a).dtype for a in xs]
            dtype = np.float32 if all(k == np.float32 for k in kinds) else np.float64
        xs, n = input_checks.check_inputs(xs, self._input_shapes(), self.input_names, dtype)
        self._ensure_built([a.shape[1:] for a in xs], dtype)
        return xs, n

    def _prepare(self, X, y):
        self._require_compiled("fit/evaluate")
        xs, n = self._prepare_x(X)
        ys = input_checks.as_list(y, len(self.output_names), self.output_names, "targets")
        ys = [input_checks.check_targets(t, obj, shape, n, name, xs[0].dtype)
              for t, obj, shape, name in zip(ys, self.objectives, self._output_shapes(),
                                             self.output_names)]
        return xs, ys, n

    # -- one step ----------------------------------------------------------------------------
    def _loss_and_backward(self, xs, ys):
        """Forward in training mode, every output's loss, backward. Returns (L, outputs).

        L = Σ_o w_o J_o; with one output of weight 1 (most models) that is J itself, and its
        gradient goes back unscaled."""
        outs = self._forward(xs, True)
        if len(outs) == 1 and self.loss_weights[0] == 1.0:
            loss, g = self.objectives[0].fn(outs[0], ys[0])
            self.last_losses = [loss]
            self._backward([g])
            return loss, outs
        total, grads, per = 0.0, [], []
        for out, y, obj, w in zip(outs, ys, self.objectives, self.loss_weights):
            loss, g = obj.fn(out, y)
            per.append(loss)
            total += w * loss
            grads.append(g if w == 1.0 else g * w)
        self._backward(grads)
        self.last_losses = per
        return total, outs

    def _l2(self):
        """Penalty Σ λ Σ W² over regularised layers."""
        return sum(layer.l2_penalty() for layer in self._l2_layers)

    def _gradients(self):
        """Current gradients of the trainable arrays (with the L2 term 2λW), in their order."""
        grads = [layer.grads[k] for layer, k in self._trainable]
        if self._l2_layers:
            for i, (layer, k) in enumerate(self._trainable):
                if layer.l2 and k in layer.regularized:
                    grads[i] = grads[i] + (2 * layer.l2) * layer.params[k]
        return grads

    def _apply_gradients(self):
        """The optimizer's step on the trainable arrays from their gradients (with 2λW for L2).

        The library's optimizers are told to skip their per-call checks (``check=False``): the
        arrays are the model's own, and ``train_step`` stops on a non-finite loss. Any other
        object with a ``step(params, grads)`` method is called as it is.
        """
        grads = self._gradients()
        if isinstance(self.optimizer, optimizers.Optimizer):
            self.optimizer.step(self._param_list, grads, check=False)
        else:
            self.optimizer.step(self._param_list, grads)

    def train_step(self, xs, ys):
        """One update on one (already checked) batch: forward, backward, optimizer step.

        ``xs``/``ys`` are lists of arrays as produced by the model's entry checks. Returns the
        batch's total loss (with the L2 penalty) and the outputs.
        """
        if self._trainable is None:
            self._find_trainable()
        loss, outs = self._loss_and_backward(xs, ys)
        if self._l2_layers:
            loss += self._l2()
        if not math.isfinite(loss):
            self._diverged(loss)
        self._apply_gradients()
        return loss, outs

    def _diverged(self, loss):
        lr = getattr(self.optimizer, "lr", None)
        raise FloatingPointError(f"training diverged: the loss became {loss} (learning rate "
                                 f"{lr}); lower the learning rate or check the data")

    def accumulate_step(self, batches):
        """One update from several micro-batches [(xs, ys), ...] (lecture 10).

        The gradient is Σ_i (n_i / n) g_i with n_i the micro-batch sizes and n their sum:
        exactly the gradient of the mean loss over the union of the micro-batches.
        """
        self._find_trainable()
        n = sum(len(xs[0]) for xs, _ in batches)
        acc, total, outs_all, per = None, 0.0, [], 0.0
        for xs, ys in batches:
            loss, outs = self._loss_and_backward(xs, ys)
            f = len(xs[0]) / n
            total += f * loss
            per = per + f * np.asarray(self.last_losses)
            outs_all.append(outs)
            grads = [layer.grads[k] for layer, k in self._trainable]
            if acc is None:
                acc = [g * f for g in grads]
            else:
                for a, g in zip(acc, grads):
                    a += f * g
        for (layer, k), a in zip(self._trainable, acc):
            layer.grads[k] = a
        self.last_losses = list(per)
        if self._l2_layers:
            total += self._l2()
        if not math.isfinite(total):
            self._diverged(total)
        self._apply_gradients()
        return total, outs_all

    def check_gradients(self, X, y, h=1e-5, tol=1e-7, worst=5):
        """Compare backpropagated gradients with centred differences (lecture 11).

        The total training loss on (X, y), L = Σ_o w_o J_o(ŷ_o, y_o) + Σ_layers λ Σ W², is
        differentiated two ways: by one backward pass, and numerically, one parameter entry at a
        time, (L(θ + h) − L(θ − h)) / 2h (``gradcheck.check_parameters``). Dropout layers keep
        one fixed mask during the check; batch norm uses batch statistics (training mode); every
        weight and running statistic is restored afterwards.

        Shapes: X, y as for ``fit``. Parameters must be float64 (``astype("float64")``).
        Returns a ``gradcheck.GradCheckReport`` whose names are "<layer name>.<param>". Costs
        two forward passes per parameter entry: use a small model and a few examples.
        """
        xs, ys, _ = self._prepare(X, y)
        if self.dtype != np.float64:
            raise TypeError(f"checking gradients needs float64 parameters, the model has "
                            f"{self.dtype}; call model.astype('float64') first")
        trainable = self._find_trainable()
        saved = self.get_weights()
        drops = [layer for layer in self.layers if isinstance(layer, Dropout)]
        held = [d.hold_mask for d in drops]
        try:
            for d in drops:
                d.hold_mask = False
            self._forward(xs, True)                    # draw the masks once ...
            for d in drops:
                d.hold_mask = True                     # ... and keep them
            self._loss_and_backward(xs, ys)
            analytic = {f"{layer.name}.{k}": np.array(g, dtype=np.float64)
                        for (layer, k), g in zip(trainable, self._gradients())}
            params = {f"{layer.name}.{k}": layer.params[k] for layer, k in trainable}

            def loss():
                outs = self._forward(xs, True)
                total = sum(w * obj(o, t)[0] for o, t, obj, w in
                            zip(outs, ys, self.objectives, self.loss_weights))
                return total + self._l2()

            return gradcheck.check_parameters(loss, params, analytic, h=h, tol=tol,
                                              worst=worst)
        finally:
            for d, flag in zip(drops, held):
                d.hold_mask = flag
            self.set_weights(saved)

    # -- the loop ----------------------------------------------------------------------------
    def fit(self, X, y, epochs=1, batch_size=None, validation_data=None, accumulate=1,
            callbacks=None, verbose=0, seed=0, shuffle=True):
        """Train (lectures 10, 13). Returns a ``History`` (``.history``: dict of lists).

        ``batch_size``: None = batch mode (all N examples per update), 1 = online, k =
        mini-batches of k (reshuffled each epoch with ``seed`` when ``shuffle``).
        ``accumulate=k`` sums the gradients of k consecutive batches, weighted by size, into
        one update: exactly the gradient of one k-times larger batch (except through batch
        norm's batch statistics). ``validation_data`` = (X_val, y_val): evaluated after each
        epoch into "val_loss" (and "val_accuracy"). ``callbacks``: History, EarlyStopping,
        LearningRateScheduler, ProgressBar objects; ``verbose=1`` adds a ProgressBar.
        The logged "loss" of an epoch is the size-weighted mean of its batch losses.
        Each layer's ``on_fit_start(seed, index)`` runs first (Dropout seeds its masks there).
        """
        xs, ys, n = self._prepare(X, y)
        size = self._check_fit(n, epochs, batch_size, accumulate)
        val = None if validation_data is None else self._prepare_validation(validation_data)
        rng = np.random.default_rng(seed)
        for i, layer in enumerate(self.layers):
            layer.on_fit_start(seed, i)
        history, cbs = self._callbacks(callbacks, verbose, epochs, n, batch_size)
        self.stop_training = False
        for epoch in range(epochs):
            logs = {}
            for cb in cbs:
                cb.on_epoch_begin(epoch, logs)
            order = rng.permutation(n) if shuffle and size < n else None
            sums = _EpochSums(self, n)
            for batches in _update_groups(xs, ys, n, size, order, accumulate):
                if len(batches) == 1:
                    loss, outs = self.train_step(*batches[0])
                    sums.add(batches, loss, [outs])
                else:
                    sums.add(batches, *self.accumulate_step(batches))
            logs.update(sums.logs())
            if val is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate_lists(*val).items()})
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end({})
        self.history = history
        return history

    def _check_fit(self, n, epochs, batch_size, accumulate):
        """Check fit's counts; returns the batch size used (n in batch mode)."""
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"fit: batch_size must be None or a positive integer, got "
                             f"{batch_size!r}")
        if not isinstance(accumulate, (int, np.integer)) or accumulate < 1:
            raise ValueError(f"fit: accumulate must be a positive integer, got {accumulate!r}")
        return n if batch_size is None else min(batch_size, n)

    def _prepare_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
        return self._prepare(*validation_data)[:2]

    def _callbacks(self, callbacks, verbose, epochs, n, batch_size):
        """(History, every callback in calling order, the History last), each told it begins."""
        history = History()
        cbs = list(callbacks or [])
        if verbose and not any(isinstance(c, ProgressBar) for c in cbs):
            cbs.append(ProgressBar())
        cbs.append(history)                        # last: it sees what the others logged
        for cb in cbs:
            cb.set_model(self)
            cb.params = {"epochs": epochs, "samples": n, "batch_size": batch_size}
            cb.on_train_begin({})
        return history, cbs

    def _name_logs(self, total, per_output_losses, accuracies):
        """{"loss", "<output>_loss" (several outputs), "accuracy" / "<output>_accuracy"}."""
        logs = {"loss": float(total)}
        multi = len(self.output_names) > 1
        if per_output_losses is not None and multi:
            for name, v in zip(self.output_names, per_output_losses):
                logs[f"{name}_loss"] = float(v)
        if self.metrics:
            for name, obj, acc in zip(self.output_names, self.objectives, accuracies):
                if obj.kind != "regression":
                    logs[f"{name}_accuracy" if multi else "accuracy"] = float(acc)
        return logs

    # -- evaluation --------------------------------------------------------------------------
    def _evaluate_lists(self, xs, ys):
        outs = self._forward(xs, False)
        per = [obj(o, t)[0] for o, t, obj in zip(outs, ys, self.objectives)]
        total = sum(w * v for w, v in zip(self.loss_weights, per))
        self._find_trainable()
        total += self._l2()
        accs = [objectives.accuracy(o, t, obj) if obj.kind != "regression" else 0.0
                for o, t, obj in zip(outs, ys, self.objectives)]
        return self._name_logs(total, per, accs)

    def evaluate(self, X, y):
        """Loss (L = Σ w_o J_o + L2 penalty) and metrics on (X, y) in evaluation mode → dict.

        For several outputs the dict also holds "<output>_loss" (J_o) for each output.
        """
        xs, ys, _ = self._prepare(X, y)
        return self._evaluate_lists(xs, ys)

    def predict(self, X, batch_size=None):
        """Outputs in evaluation mode (dropout off, batch norm on running statistics).

        Shapes: X as the model's input(s) → (N, *output shape), or a list for several outputs.
        """
        xs, n = self._prepare_x(X)
        if batch_size is None or batch_size >= n:
            outs = self._forward(xs, False)
        else:
            parts = [self._forward([a[s:s + batch_size] for a in xs], False)
                     for s in range(0, n, batch_size)]
            outs = [np.concatenate(p) for p in zip(*parts)]
        return outs[0] if len(outs) == 1 else outs

    # -- summary -----------------------------------------------------------------------------
    def summary(self):
        """A text table: layer name, type, output shape, number of parameters; then the total."""
        shapes = self._input_shapes()
        if all(s is not None for s in shapes):
            self._ensure_built(shapes, self.dtype or np.float64)
        rows = [("Layer", "Type", "Output shape", "Params")]
        for name, kind, shape, count in self._summary_rows():
            shape_s = "(N, " + ", ".join("?" if s is None else str(s) for s in shape) + ")" \
                if shape is not None else "?"
            rows.append((name, kind, shape_s, f"{count:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        fmt = lambda r: (f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  "
                         f"{r[3]:>{widths[3]}}")
        rule = "-" * len(fmt(rows[0]))
        lines = [f'Model "{self.name}"', rule, fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]]
        lines += [rule, f"Total trainable parameters: {self.count_params():,}"]
        return "\n".join(lines)


def _update_groups(xs, ys, n, size, order, accumulate):
    """The batches of one epoch, ``accumulate`` at a time: lists of (inputs, targets) pairs.

    Batches are consecutive slices of ``size`` examples (of ``order``, a permutation, when
    shuffling); the whole data set is passed as is in batch mode without shuffling.
    """
    starts = list(range(0, n, size))
    for g in range(0, len(starts), accumulate):
        batches = []
        for s in starts[g:g + accumulate]:
            if order is None and size == n:
                batches.append((xs, ys))
            else:
                idx = slice(s, s + size) if order is None else order[s:s + size]
                batches.append(([a[idx] for a in xs], [t[idx] for t in ys]))
        yield batches


class _EpochSums:
    """Size-weighted sums over an epoch's batches: total loss, per-output losses, accuracies."""

    def __init__(self, model, n):
        self.model, self.n, self.n_out = model, n, len(model.output_names)
        self.sums = np.zeros(1 + 2 * self.n_out)

    def add(self, batches, loss, outs_all):
        model, sums, n_out = self.model, self.sums, self.n_out
        m = sum(len(b[0][0]) for b in batches)
        sums[0] += loss * m
        if n_out > 1:
            sums[1:1 + n_out] += np.asarray(model.last_losses) * m
        if model.metrics:
            for (bx, by), outs in zip(batches, outs_all):
                for j, (o, t, obj) in enumerate(zip(outs, by, model.objectives)):
                    if obj.kind != "regression":
                        sums[1 + n_out + j] += objectives.accuracy(o, t, obj) * len(t)

    def logs(self):
        """The epoch's logs: the sums divided by the number of examples, named."""
        sums, n_out = self.sums / self.n, self.n_out
        per = sums[1:1 + n_out] if n_out > 1 else None
        return self.model._name_logs(sums[0], per, sums[1 + n_out:])
