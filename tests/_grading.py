"""Helpers for the grading tests of the exercises (test_grading_exNN.py).

They build submissions from the released student notebook: the instructor's solution with some
answer cells replaced by other code (a planted mistake, hard-coded answers, a call of the course
library), autograde them all in one nbgrader run, and read back each cell's score and what the
student would see under a test cell.
"""
from __future__ import annotations

import textwrap
import time

import nbformat

from coursetools import course


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def replace_answers(nb, replacements):
    """A copy of ``nb`` whose answer cells named in ``replacements`` hold the given source."""
    out = nbformat.reads(nbformat.writes(nb), as_version=4)
    found = set()
    for cell in out.cells:
        if grade_id(cell) in replacements:
            cell.source = textwrap.dedent(replacements[grade_id(cell)]).strip()
            found.add(grade_id(cell))
    missing = set(replacements) - found
    assert not missing, f"no answer cells named {sorted(missing)}"
    return out


def solution_source(nb, gid):
    """The source of the answer cell ``gid`` in ``nb``."""
    return next(c.source for c in nb.cells if grade_id(c) == gid)


def grade_all(root, assignment, submissions):
    """Generate ``assignment`` in the course copy at ``root``, submit and autograde every submission.

    ``submissions`` maps a student name to a function ``(released, perfect) -> notebook``, where
    ``released`` is the untouched student notebook and ``perfect`` the one filled with the solution.
    Returns the scores: {student: {"total", "max", "cells": {grade_id: points}}}.
    """
    name = f"{assignment}.ipynb"
    course.generate(assignment, root=root)
    released = nbformat.read(root / "exercises" / assignment / name, as_version=4)
    solution = nbformat.read(root / "solutions" / assignment / name, as_version=4)
    perfect = course.fill_with_solutions(released, solution)
    for student, make in submissions.items():
        course.submit(student, assignment, {name: make(released, perfect)}, root=root)
    start = time.perf_counter()
    course.autograde(assignment, root=root)
    print(f"autograde of {len(submissions)} submissions of {assignment}: "
          f"{time.perf_counter() - start:.1f} s")
    return course.scores(assignment, root=root)


def assert_full_marks(scores, total, points=None):
    """The instructor's solution ("perfect") earns every point (per cell too, if ``points``)."""
    assert scores["perfect"]["max"] == total
    assert scores["perfect"]["total"] == total, scores["perfect"]["cells"]
    if points is not None:
        assert scores["perfect"]["cells"] == points


def assert_untouched_scores_zero(scores):
    """The released notebook handed in as it is ("untouched") earns nothing."""
    assert scores["untouched"]["total"] == 0, scores["untouched"]["cells"]


def assert_designed(root, scores, assignment, student, expected, hints=(), **approx):
    """``student`` scores exactly ``expected`` cell by cell, and each hint {grade_id: text} shows
    under its cell in the autograded notebook."""
    import pytest
    assert scores[student]["cells"] == pytest.approx(expected, **approx), (student, scores[student]["cells"])
    for gid, hint in dict(hints).items():
        assert hint in output_text(root, student, assignment, gid), (student, gid)


def output_text(root, student, assignment, gid):
    """Everything the autograded notebook shows under the cell ``gid``: prints and error messages."""
    nb = nbformat.read(root / "autograded" / student / assignment / f"{assignment}.ipynb",
                       as_version=4)
    cell = next(c for c in nb.cells if grade_id(c) == gid)
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def class_of(**answers):
    """The usual class of a grading test: "perfect" (the instructor's solution), "untouched" (the
    released notebook as it is), and one student per keyword, whose answer cells are replaced by
    the given sources ({answer cell id: source})."""
    submissions = {"perfect": lambda released, perfect: perfect,
                   "untouched": lambda released, perfect: released}
    for student, replacements in answers.items():
        submissions[student] = (lambda released, perfect, r=replacements:
                                replace_answers(perfect, r() if callable(r) else r))
    return submissions
