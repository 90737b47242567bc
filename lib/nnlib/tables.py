"""Aligned text tables for the lectures' side-by-side comparisons (notes against computed, …).

    format_table(header, rows) -> str      the table as text
    show_table(header, rows)               print it

Layout: the header row, a rule of dashes, then one line per row; columns separated by two spaces,
each as wide as its widest entry; the first column (the row's label) left-aligned, the others
right-aligned so that numbers line up. Entries are shown with ``str``: format numbers before
passing them (for example ``f"{x:.4f}"``) to choose their precision.
"""
from __future__ import annotations

__all__ = ["format_table", "show_table"]


def format_table(header, rows):
    """The table as a string (no trailing newline).

    header: a sequence of k column titles; rows: an iterable of sequences of k entries each.
    Raises ValueError naming the row whose length is not k.
    """
    header = [str(h) for h in header]
    cells = [header]
    for i, row in enumerate(rows):
        row = [str(c) for c in row]
        if len(row) != len(header):
            raise ValueError(f"show_table: row {i} has {len(row)} entries, expected {len(header)} "
                             f"(one per column of the header {header})")
        cells.append(row)
    widths = [max(len(r[j]) for r in cells) for j in range(len(header))]

    def line(row):
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                         for j, (c, w) in enumerate(zip(row, widths))).rstrip()

    lines = [line(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells[1:]]
    return "\n".join(lines)


def show_table(header, rows):
    """Print ``format_table(header, rows)``."""
    print(format_table(header, rows))
