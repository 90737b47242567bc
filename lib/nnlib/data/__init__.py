"""Data sets and data preparation for the course (no downloads: everything is generated or shipped).

* ``toy``: ``logic_gate``, ``xor``, ``blobs``, ``moons``, ``circles``, ``spirals``,
  ``regression_line`` — seeded, deterministic generators (lectures 02–17).
* ``split``: ``train_val_split``, ``one_hot``, ``standardize`` (lectures 09, 13, 17).
* ``digits``: ``load_digits`` — the 8×8 handwritten digits shipped in the package (lecture 13).

Everything is re-exported here, so ``from nnlib import data; data.spirals(100)`` works.
"""
from .digits import CLASS_COUNTS as DIGIT_CLASS_COUNTS, load_digits
from .split import one_hot, standardize, train_val_split
from .toy import GATES, blobs, circles, logic_gate, moons, regression_line, spirals, xor

__all__ = [
    "logic_gate", "GATES", "xor", "blobs", "moons", "circles", "spirals", "regression_line",
    "train_val_split", "one_hot", "standardize", "load_digits", "DIGIT_CLASS_COUNTS",
]
