"""Learning-rate schedules (lecture 16): functions epoch → learning rate.

Each factory below returns a schedule, a plain function ``schedule(epoch) -> lr`` with epochs
counted from 0, ready for ``callbacks.LearningRateScheduler(schedule)`` or for setting
``optimizer.lr`` by hand at the start of every epoch. Big steps early cover ground fast; small
steps late settle into a minimum instead of rattling around it.

>>> s = step_decay(0.1, drop=0.5, every=10)
>>> [s(0), s(9), s(10), s(25)]
[0.1, 0.1, 0.05, 0.025]
"""
from __future__ import annotations

import math

__all__ = ["step_decay", "exponential_decay", "cosine_decay"]


def _check(lr0, **positive):
    if not lr0 > 0:
        raise ValueError(f"the initial learning rate lr0 must be > 0, got {lr0}")
    for name, value in positive.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def _epoch(epoch):
    if epoch < 0:
        raise ValueError(f"epochs are counted from 0, got epoch={epoch}")
    return epoch


def step_decay(lr0, drop=0.5, every=10):
    """Step decay: lr(epoch) = lr0 · drop^⌊epoch / every⌋ (halve every 10 epochs by default).

    Lecture 16.
    """
    _check(lr0, drop=drop, every=every)

    def schedule(epoch):
        return lr0 * drop ** (_epoch(epoch) // every)

    schedule.__doc__ = f"lr = {lr0} * {drop} ** (epoch // {every})"
    return schedule


def exponential_decay(lr0, decay_rate=0.96, decay_epochs=1):
    """Smooth exponential decay: lr(epoch) = lr0 · decay_rate^(epoch / decay_epochs).

    Equivalently lr0 · exp(−k · epoch) with k = −ln(decay_rate) / decay_epochs.

    Lecture 16.
    """
    _check(lr0, decay_rate=decay_rate, decay_epochs=decay_epochs)

    def schedule(epoch):
        return lr0 * decay_rate ** (_epoch(epoch) / decay_epochs)

    schedule.__doc__ = f"lr = {lr0} * {decay_rate} ** (epoch / {decay_epochs})"
    return schedule


def cosine_decay(lr0, total_epochs, lr_min=0.0):
    """Cosine decay from lr0 to lr_min over ``total_epochs`` epochs, then constant at lr_min:

        lr(epoch) = lr_min + ½ (lr0 − lr_min) (1 + cos(π · min(epoch, T) / T)),  T = total_epochs.

    Flat at the start, steepest in the middle, flat again at the end.

    Lecture 16.
    """
    _check(lr0, total_epochs=total_epochs)
    if not 0 <= lr_min <= lr0:
        raise ValueError(f"lr_min must be in [0, lr0={lr0}], got {lr_min}")

    def schedule(epoch):
        progress = min(_epoch(epoch), total_epochs) / total_epochs
        return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * progress))

    schedule.__doc__ = f"cosine from {lr0} to {lr_min} over {total_epochs} epochs"
    return schedule
