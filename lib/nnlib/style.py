"""One look for every figure of the course: a colour-blind-safe palette and readable defaults.

The palette is Okabe & Ito's (2008) eight colours, distinguishable under the common forms of
colour blindness. Call ``use()`` once at the top of a notebook.
"""
from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

#: Okabe–Ito palette, in the order figures use it.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = list(PALETTE.values())
#: A perceptually uniform colour map that stays readable for colour-blind readers and in grey.
CMAP = "cividis"
#: A diverging map for signed quantities (weights, gradients): blue negative, red positive.
DIVERGING_CMAP = "RdBu_r"


def use():
    """Apply the course style to matplotlib (palette, sizes, grid, colour map)."""
    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=COLORS),
        "image.cmap": CMAP,
        "figure.figsize": (6.0, 4.0),
        "figure.dpi": 80,
        "savefig.dpi": 80,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
