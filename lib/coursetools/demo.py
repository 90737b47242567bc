"""A demo class for trying the whole grading cycle on a fresh clone, in one command.

    python -m coursetools.demo [FOLDER]      (or: make demo)

Makes a temporary copy of the course (or uses FOLDER), writes seven synthetic submissions of
ex01_neurons into a folder of submissions, then runs the instructor's steps on them: regenerate,
import, autograde, feedback, grade table. The students:

    alice    correct answers                                  → full marks
    bob      four realistic mistakes                          → partial marks
    carol    handed in the notebook untouched                 → 0, graded
    dave     a file that is not valid JSON                    → not graded: not a readable notebook
    erin     renamed the notebook                             → not graded: missing notebook
    frank    a loop that never ends and ignores interrupts    → not graded: time limit
    grace    code that kills its own kernel                   → not graded: kernel died
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from coursetools import course, grading

ASSIGNMENT = "ex01_neurons"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

MISTAKES = {
    "sigmoid": "def sigmoid(v, a=1.0):\n    return 1.0 / (1.0 + np.exp(-np.asarray(v, dtype=float)))\n\n\n"
               "def sigmoid_derivative(v, a=1.0):\n    s = sigmoid(v, a)\n    return a * s * (1.0 - s)",
    "softmax": "def softmax(v):\n    e = np.exp(np.asarray(v, dtype=float))\n    return e / e.sum(axis=-1, keepdims=True)",
}
ENDLESS = ("import time\n\ndef mcp_unit(X, w, theta):\n    while True:\n        try:\n"
           "            time.sleep(0.1)\n        except KeyboardInterrupt:\n            pass\n\n"
           "mcp_unit(None, None, None)")
CRASH = "import os\nos._exit(1)"


def _with(nb, answers):
    out = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in out.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return out


def make_submissions(root, folder):
    """Write the demo class's submissions into ``folder`` (one sub-folder per student)."""
    released = nbformat.read(Path(root) / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solution = nbformat.read(Path(root) / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    good = course.fill_with_solutions(released, solution)
    subs = {
        "alice": {NOTEBOOK: nbformat.writes(good)},
        "bob": {NOTEBOOK: nbformat.writes(_with(good, MISTAKES))},
        "carol": {NOTEBOOK: nbformat.writes(released)},
        "dave": {NOTEBOOK: nbformat.writes(good)[:5000]},
        "erin": {"ex01_neurons (1).ipynb": nbformat.writes(good)},
        "frank": {NOTEBOOK: nbformat.writes(_with(good, {"mcp_unit": ENDLESS}))},
        "grace": {NOTEBOOK: nbformat.writes(_with(good, {"gates": CRASH}))},
    }
    for student, files in subs.items():
        (Path(folder) / student).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (Path(folder) / student / name).write_text(text, encoding="utf-8")
    return sorted(subs)


def run(root=None):
    """Run the demo cycle in ``root`` (a fresh temporary copy if None); return the grade rows."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="nn-course-demo-"))
        for name in ("solutions", "exercises"):
            shutil.copytree(course.ROOT / name, root / name)
        shutil.copy(course.ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    root = Path(root)
    os.environ.setdefault("GRADING_CELL_SECONDS", "10")
    os.environ.setdefault("GRADING_SECONDS_PER_STUDENT", "60")
    start = time.perf_counter()
    print(f"demo course in {root}\n1. regenerate the student notebooks")
    course.generate(ASSIGNMENT, root=root)
    print("2. import the class's submissions")
    inbox = root / "inbox"
    make_submissions(root, inbox)
    grading.import_folder(ASSIGNMENT, inbox, root=root)
    print("3. autograde (each submission in its own sandbox, judged outside it)")
    grading.autograde(ASSIGNMENT, root=root)
    print("4. feedback (the judged notebooks as HTML)")
    grading.feedback(ASSIGNMENT, root=root)
    print("5. grade table")
    rows = grading.grade_table(ASSIGNMENT, root=root)
    for row in rows:
        print(f"   {row['student']:8s} {row['status']:11s} {row['score']:>6s} / {row['max_score']:>3s}  {row['reason']}")
    print(f"written: {root / f'grades-{ASSIGNMENT}.csv'}; feedback in {root / 'feedback'}")
    print(f"the whole cycle took {time.perf_counter() - start:.0f} s")
    return root, rows


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
