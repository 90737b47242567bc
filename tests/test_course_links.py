"""Navigation: the course map links every lecture and exercise, and no notebook link is broken."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+\.(?:ipynb|md))\)")
NOTEBOOKS = sorted([*ROOT.glob("lectures/*.ipynb"), *ROOT.glob("exercises/*/*.ipynb")])


def links(path):
    nb = nbformat.read(path, as_version=4)
    return [l for c in nb.cells if c.cell_type == "markdown" for l in LINK.findall(c.source)
            if not l.startswith(("http:", "https:"))]


def test_course_map_links_every_lecture_and_exercise():
    linked = {(ROOT / "lectures" / l).resolve() for l in links(ROOT / "lectures" / "00_course_map.ipynb")}
    expected = {p.resolve() for p in NOTEBOOKS if p.name != "00_course_map.ipynb"}
    missing = sorted(str(p.relative_to(ROOT)) for p in expected - linked)
    assert not missing, f"the course map does not link: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_link_resolves(path):
    broken = [l for l in links(path) if not (path.parent / l).exists()]
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"
