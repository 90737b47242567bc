"""The 8×8 handwritten digits, shipped with the package (lectures 13, 17 and 19).

The file ``digits.csv.gz`` beside this module holds 1797 images of the digits 0–9, 8×8 pixels
with grey levels 0–16, one image per row (64 pixel values row by row, then the label). It is the
test part of the UCI "Optical Recognition of Handwritten Digits" data set by E. Alpaydin and
C. Kaynak (1998), CC BY 4.0, as redistributed with scikit-learn; see ``DIGITS_SOURCE.txt``.
Nothing is downloaded.
"""
from __future__ import annotations

import functools
import gzip
from importlib import resources

import numpy as np

__all__ = ["load_digits", "N_IMAGES", "CLASS_COUNTS"]

N_IMAGES = 1797
#: Number of images of each digit 0 … 9 in the file.
CLASS_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


@functools.lru_cache(maxsize=1)
def _read():
    """Read the shipped file once: (pixels (1797, 64) uint8, labels (1797,) int64)."""
    raw = resources.files("nnlib.data").joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if table.shape != (N_IMAGES, 65) or table[:, :64].min() < 0 or table[:, :64].max() > 16:
        raise ValueError(f"digits.csv.gz is damaged: expected (1797, 65) integers with pixels in "
                         f"0 … 16, got shape {table.shape}")
    pixels = table[:, :64].astype(np.uint8)
    labels = table[:, 64]
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def load_digits(as_images=False, scale=True, dtype=np.float64):
    """Load the 1797 handwritten 8×8 digits (lecture 13).

    Returns ``X, y``: ``X`` (1797, 64) with pixel values x/16 in [0, 1] (grey levels 0 … 16 when
    ``scale=False``), or (1797, 8, 8) images when ``as_images=True`` (row 0 at the top); ``y``
    (1797,) int64 labels 0 … 9. The arrays are fresh copies each call, of ``dtype`` (float64 by
    default; float32 also works). Class counts are ``CLASS_COUNTS`` (178 zeros … 180 nines).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating-point type such as float64 or float32, got {dtype}")
    pixels, labels = _read()
    X = pixels.astype(dtype)
    if scale:
        X /= dtype.type(16)
    if as_images:
        X = X.reshape(-1, 8, 8)
    return X, labels.copy()
