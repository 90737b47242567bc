"""Callbacks: code that ``fit`` runs at the start and end of training and of every epoch.

(lectures 13, 15, 16, 18) ``History`` records the logs, ``EarlyStopping`` stops when the
validation loss stops improving and puts back the best weights, ``LearningRateScheduler`` sets
the learning rate from the epoch number, ``ProgressBar`` prints one line per epoch.

A callback receives ``logs``, a dict such as {"loss": 0.31, "accuracy": 0.9, "val_loss": 0.35},
and may set ``model.stop_training = True``.
"""
from __future__ import annotations

import inspect
import math
import os
import sys

__all__ = ["Callback", "History", "EarlyStopping", "LearningRateScheduler", "ProgressBar",
           "interactive"]


class Callback:
    """Base class (lecture 18): every hook does nothing; ``self.model`` is the model in training."""

    model = None
    params: dict = {}

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, logs):
        pass

    def __repr__(self):
        shown = {k: v for k, v in vars(self).items()
                 if not k.startswith("_") and k not in ("model", "params", "best_weights")
                 and isinstance(v, (int, float, str, bool, type(None)))}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


class History(Callback):
    """Records every epoch's logs (lecture 13): ``history["loss"][e]`` is epoch e's loss.

    ``fit`` returns one; ``history`` is a dict of lists, ``epoch`` the list of epoch numbers.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _lower_is_better(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return not ("acc" in monitor)
    return mode == "min"


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (lecture 15).

    An epoch improves on the best value so far when it is lower by more than ``min_delta``
    (higher, for accuracies; ``mode`` = "min"/"max"/"auto"). After ``patience`` epochs in a row
    without improvement (at least one, as in Keras) training stops; ``stopped_epoch`` and
    ``best_epoch`` say when.
    With ``restore_best=True`` the weights of the best epoch are copied back when training ends.
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best=True):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(min_delta)
        self.lower = _lower_is_better(monitor, mode)
        self.restore_best = restore_best

    def on_train_begin(self, logs):
        self.best = math.inf if self.lower else -math.inf
        self.best_epoch, self.stopped_epoch, self.wait = None, None, 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r} but the logs only have "
                             f"{sorted(logs)} (val_* needs fit(validation_data=...))")
        value = logs[self.monitor]
        better = (value < self.best - self.min_delta) if self.lower else \
            (value > self.best + self.min_delta)
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs):
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of every epoch (lecture 16).

    ``schedule(epoch)`` → lr (e.g. from ``nnlib.schedules``), or ``schedule(epoch, lr)`` → new
    lr like Keras. The rate used is logged as "lr".
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler needs a function epoch -> lr, got "
                            f"{type(schedule).__name__}")
        self.schedule = schedule
        try:
            params = inspect.signature(schedule).parameters.values()
            required = [p for p in params if p.default is p.empty
                        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            self._two = len(required) >= 2
        except (TypeError, ValueError):
            self._two = False

    def on_epoch_begin(self, epoch, logs):
        opt = self.model.optimizer
        lr = self.schedule(epoch, opt.lr) if self._two else self.schedule(epoch)
        lr = float(lr)
        if not lr >= 0 or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule gave lr={lr} at epoch {epoch}")
        opt.lr = lr

    def on_epoch_end(self, epoch, logs):
        logs["lr"] = float(self.model.optimizer.lr)


def interactive():
    """True when someone watches (lecture 13): a terminal or notebook, not pytest, not NNLIB_QUIET=1."""
    if os.environ.get("NNLIB_QUIET") == "1":
        return False
    if "PYTEST_CURRENT_TEST" in os.environ or "pytest" in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython()
        if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
            return True
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


class ProgressBar(Callback):
    """Print one line per epoch (lecture 13), e.g. ``epoch  3/20  loss 0.4127  val_loss 0.4532``.

    Silent when nobody is watching (see ``interactive``). No timings are printed, so the
    output of a seeded run is the same every time.
    """

    def __init__(self, every=1):
        self.every = max(1, int(every))
        self.enabled = interactive()

    def on_epoch_end(self, epoch, logs):
        epochs = self.params.get("epochs", 0)
        if not self.enabled or ((epoch + 1) % self.every and epoch + 1 != epochs):
            return
        width = len(str(epochs))
        items = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
        print(f"epoch {epoch + 1:>{width}}/{epochs}  {items}", flush=True)
