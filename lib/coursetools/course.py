"""Driving nbgrader for this course: regenerate, autograde, read scores.

Everything goes through nbgrader's own command line, run from the course's root folder so that it
reads ``nbgrader_config.py`` there. (nbgrader's Python API does not read that file by itself;
``load_config`` loads it explicitly for code that needs the settings.)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def load_config(root=ROOT):
    """nbgrader's configuration for the course at ``root``, loaded from its nbgrader_config.py."""
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(root))
    return loader.load_config()


def assignments(root=ROOT):
    """Names of the assignments: one folder per assignment under solutions/."""
    return sorted(p.name for p in (Path(root) / "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def nbgrader(*args, root=ROOT, check=True, timeout=1800):
    """Run ``nbgrader ARGS`` in ``root`` with this environment's bin/ first on PATH.

    Returns the CompletedProcess (stdout and stderr captured, as text). With ``check`` a non-zero
    exit raises RuntimeError quoting nbgrader's own messages.
    """
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("MPLBACKEND", None)  # kernels use Jupyter's inline back end
    proc = subprocess.run([str(BIN / "nbgrader"), *map(str, args)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(map(str, args))} failed "
                           f"(exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def generate(assignment, root=ROOT):
    """Regenerate exercises/<assignment>/ from solutions/<assignment>/ (outputs cleared), with
    the visible checks written first to visible_checks.json (nbgrader copies it to students)."""
    from coursetools import judge
    if (Path(root) / "solutions" / assignment / judge.CHECKS_FILE).exists():
        judge.write_visible(assignment, root)
    return nbgrader("generate_assignment", assignment, "--force", root=root)


_SOLUTION = re.compile(r"^[ \t]*#+ *(BEGIN|END) SOLUTION.*\n?", re.M)


def fill_with_solutions(student_nb, solution_nb):
    """A student notebook whose answer cells hold the instructor's solutions (markers removed).

    This is what a perfect student would submit: used to check that the solution earns full marks.
    """
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution_nb.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    filled = nbformat.reads(nbformat.writes(student_nb), as_version=4)  # a deep copy
    for cell in filled.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = _SOLUTION.sub("", answers[meta["grade_id"]])
    return filled


def submit(student, assignment, notebooks, root=ROOT):
    """Place a submission: ``notebooks`` maps file name → NotebookNode (or raw text)."""
    folder = Path(root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        text = nb if isinstance(nb, str) else nbformat.writes(nb)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def autograde(assignment, student=None, root=ROOT, **options):
    """Autograde every submission of ``assignment`` (or one student's) with the course's grader
    (each in a sandbox, judged outside it); returns its report."""
    from coursetools import grading
    return grading.autograde(assignment, root=root, students=[student] if student else None,
                             quiet=True, **options)


def scores(assignment, root=ROOT):
    """{student: {"total": points, "max": max points, "cells": {grade_id: points}}} from the gradebook."""
    from nbgrader.api import Gradebook
    config = load_config(root)
    db_url = config.CourseDirectory.db_url
    out = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            cells = {}
            for nb in sub.notebooks:
                for grade in nb.grades:
                    cells[grade.name] = grade.score
            out[sub.student_id] = {"total": sub.score, "max": sub.max_score, "cells": cells}
    return out
