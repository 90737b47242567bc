"""Words and cells per lecture, and the share of cells in "The notes, checked".

    python -m coursetools.lecture_stats [--rev GIT_REVISION]

Words count the markdown cells' words; cells count every cell. With --rev, the lectures are read
as they were at that git revision (to compare before and after a change).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
AUDIT = "## The notes, checked"


def stats(nb):
    """(cells, markdown words, cells from the audit section on)."""
    audit_from = next((i for i, c in enumerate(nb.cells)
                       if c.cell_type == "markdown" and AUDIT in c.source), len(nb.cells))
    words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    return len(nb.cells), words, len(nb.cells) - audit_from


def lectures(rev=None):
    if rev is None:
        for p in sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb")):
            yield p.name, nbformat.read(p, as_version=4)
        return
    names = subprocess.run(["git", "ls-tree", "--name-only", rev, "lectures/"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split()
    for name in sorted(n for n in names if n.endswith(".ipynb")):
        text = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        yield Path(name).name, nbformat.reads(text, as_version=4)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev")
    args = parser.parse_args(argv)
    total = [0, 0, 0]
    print(f"{'lecture':40s} {'cells':>5s} {'words':>6s} {'audit cells':>11s}")
    for name, nb in lectures(args.rev):
        c, w, a = stats(nb)
        total = [total[0] + c, total[1] + w, total[2] + a]
        print(f"{name:40s} {c:5d} {w:6d} {a:5d} ({a / c:4.0%})")
    print(f"{'all':40s} {total[0]:5d} {total[1]:6d} {total[2]:5d} ({total[2] / total[0]:4.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
