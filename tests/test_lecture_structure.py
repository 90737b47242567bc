"""Lectures teach first: goals, the subject, a summary, exercises, and the audit of the notes last.

* Every lecture 01–21 opens with "## Learning goals" and ends with "## Summary", "## Exercises"
  and "## The notes, checked", in that order (lecture 22 goes beyond the notes and has no audit).
* Learning goals and summaries speak of the subject, not of the notes' errors.
* The notes are cited by their readable names (the course map's References), never by file name.
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted(p for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb")
                  if not p.name.startswith("00_"))
HASHED = re.compile(r"\b\d{3}_[0-9a-f]{16}(\.txt)?\b")
AUDIT = "## The notes, checked"
AUDIT_WORDS = re.compile(r"errat|misprint|transcri|typo|reconstruct", re.I)


def _sections(nb):
    """[(heading, [cells])] for the level-2 headings (a heading starts a markdown cell's line)."""
    sections = [("", [])]
    for cell in nb.cells:
        heads = [ln for ln in cell.source.splitlines() if ln.startswith("## ")] \
            if cell.cell_type == "markdown" else []
        for h in heads:
            sections.append((h.strip(), []))
        sections[-1][1].append(cell)
    return sections


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem[:2] for p in LECTURES])
def test_order_of_sections(lecture):
    heads = [h for h, _ in _sections(nbformat.read(lecture, as_version=4))[1:]]
    assert heads[0] == "## Learning goals", f"{lecture.name}: first section is {heads[0]!r}"
    tail = ["## Summary", "## Exercises"] + ([] if lecture.name.startswith("22_") else [AUDIT])
    assert heads[-len(tail):] == tail, (
        f"{lecture.name}: the last sections are {heads[-len(tail):]}, expected {tail}")
    for name in tail:
        assert heads.count(name) == 1, f"{lecture.name}: {heads.count(name)} sections {name!r}"


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem[:2] for p in LECTURES])
def test_goals_and_summary_are_about_the_subject(lecture):
    for head, cells in _sections(nbformat.read(lecture, as_version=4)):
        if head in ("## Learning goals", "## Summary"):
            text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
            found = AUDIT_WORDS.findall(text)
            assert not found, f"{lecture.name}: {head} speaks of the notes' errors ({found})"


@pytest.mark.parametrize("path", sorted((ROOT / "lectures").glob("*.ipynb")),
                         ids=lambda p: p.stem[:2])
def test_notes_are_cited_by_readable_names(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        found = HASHED.findall(cell.source)
        assert not HASHED.search(cell.source), (
            f"{path.name}, cell {i}: cites the notes by file name "
            f"({HASHED.search(cell.source).group(0)}); use the readable names of the course "
            f"map's References")


def test_the_course_maps_references_list_the_lectures_that_cite_each_set_of_notes():
    names = ["bootcamp notes", "handwritten notes", "feedforward slides", "webinar slides",
             "propagation slides"]
    cells = nbformat.read(ROOT / "lectures" / "00_course_map.ipynb", as_version=4).cells
    table = next(c.source for c in cells if c.source.startswith("## References"))
    for name in names:
        row = next((ln for ln in table.splitlines() if ln.startswith(f"| **{name}** |")), None)
        assert row, f"the course map's References has no row for the {name}"
        listed = [s.strip() for s in row.rstrip(" |").split("|")[-1].split(",")]
        citing = [p.name[:2] for p in LECTURES
                  if name in "\n".join(c.source for c in nbformat.read(p, as_version=4).cells).lower()]
        assert listed == citing, f"{name}: the map lists lectures {listed}, the lectures citing them are {citing}"
