"""The lectures' practice: predict-then-run prompts, exercises with self-checks, worked answers.

Every lecture 01–22 has 3–5 "**Predict, then run.**" prompts, each before a code cell that answers
it, and an "## Exercises" section of 4–8 exercises numbered 1, 2, …. Numeric and code exercises
have an answer cell (``# Exercise N: your answer``) whose self-check (``selfcheck.practice``)
prints "not answered yet" in the committed lecture, never "right". Each lecture's worked answers
(solutions/lectures/<stem>.md) answer every exercise; run in place of the answer cells, every
self-check of the lecture prints "right".
"""
import re
from pathlib import Path

import nbformat
import pytest

from coursetools import lecture_answers as la

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted(p for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb")
                  if not p.name.startswith("00_"))
PREDICT = "**Predict, then run.**"


def _ids(paths):
    return [p.stem[:2] for p in paths]


def _read(path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("lecture", LECTURES, ids=_ids(LECTURES))
def test_predict_prompts_come_before_the_cell_that_answers_them(lecture):
    cells = _read(lecture).cells
    prompts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and PREDICT in c.source]
    assert 3 <= len(prompts) <= 5, (
        f"{lecture.name}: {len(prompts)} '{PREDICT}' prompts, expected 3 to 5")
    for i in prompts:
        assert any(c.cell_type == "code" for c in cells[i + 1:i + 3]), (
            f"{lecture.name}: the prompt in cell {i} is not followed by the code cell that "
            f"answers it: {cells[i].source[:120]!r}")


@pytest.mark.parametrize("lecture", LECTURES, ids=_ids(LECTURES))
def test_exercises_are_numbered_and_answered_for_instructors(lecture):
    numbers = la.exercises(_read(lecture))
    assert 4 <= len(numbers) <= 8, f"{lecture.name}: {len(numbers)} exercises, expected 4 to 8"
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"{lecture.name}: exercises numbered {numbers}, expected 1, 2, … in order")
    assert la.problems(lecture) == []


@pytest.mark.parametrize("lecture", LECTURES, ids=_ids(LECTURES))
def test_unanswered_self_checks_say_so_and_never_right(lecture):
    nb = _read(lecture)
    cells = la.answer_cells(nb)
    assert cells, f"{lecture.name}: no answer cell ('# Exercise N: your answer'): numeric and " \
                  f"code exercises need one, with a self-check"
    lines = la.check_lines(nb)
    assert lines, f"{lecture.name}: the committed outputs show no self-check line"
    assert all(mark == "…" for mark, _ in lines), (
        f"{lecture.name}: with no answer given, a self-check printed {lines}")


@pytest.mark.notebooks
@pytest.mark.parametrize("lecture", LECTURES, ids=_ids(LECTURES))
def test_worked_answers_make_every_self_check_right(lecture):
    """Also where the lectures' figures are drawn in the test run (nbval compares the lectures'
    text without drawing them): a drawing error or a warning printed while drawing, like any
    other output to stderr, fails here with the cell it came from."""
    nb = la.run_answered(lecture)
    stderr = [f"cell {i} ({c.source.splitlines()[0][:60]!r}):\n{o.text}"
              for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, f"{lecture.name} wrote to stderr:\n" + "\n".join(stderr)
    lines = la.check_lines(nb)
    wrong = [f"{m} {t}" for m, t in lines if m != "✓"]
    assert not wrong, f"{lecture.name} with its worked answers:\n" + "\n".join(wrong)
    assert len(lines) >= len(la.answer_cells(nb)), (
        f"{lecture.name}: {len(lines)} self-check lines for {len(la.answer_cells(nb))} answer cells")
