"""The instructor's cycle on the demo class, through the same commands the README documents."""
from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools import demo, grading

EXPECTED = {  # student: (status, score, words the reason must contain)
    "alice": ("graded", "20", ""),
    "bob": ("graded", "17.14", ""),
    "carol": ("graded", "0", ""),
    "dave": ("not graded", "", "not a readable notebook"),
    "erin": ("not graded", "", "missing notebook ex01_neurons.ipynb"),
    "frank": ("not graded", "", "time limit"),
    "grace": ("not graded", "", "kernel died"),
}


def _digest(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_class(course_copy):
    os.environ["GRADING_CELL_SECONDS"] = "10"
    os.environ["GRADING_SECONDS_PER_STUDENT"] = "90"
    root, rows = demo.run(course_copy)
    return root, {r["student"]: r for r in rows}


def test_grade_table_has_every_student_with_score_or_reason(demo_class):
    root, rows = demo_class
    assert set(rows) == set(EXPECTED)
    for student, (status, score, reason) in EXPECTED.items():
        row = rows[student]
        assert row["status"] == status, (student, row)
        assert row["score"] == score, (student, row)
        assert reason in row["reason"], (student, row)
    with open(root / "grades-ex01_neurons.csv", newline="") as f:
        table = {r["student"]: r for r in csv.DictReader(f)}
    assert table["dave"]["score"] == "" and table["dave"]["status"] == "not graded"
    assert table["bob"]["test_softmax"] == "2"


def test_report_and_log_name_every_student(demo_class):
    root, _ = demo_class
    log = (root / "reports" / "ex01_neurons.log").read_text()
    for student in EXPECTED:
        assert f"===== {student}:" in log


def test_feedback_exists_for_graded_students_without_hidden_tests(demo_class):
    root, _ = demo_class
    for student in ("alice", "bob", "carol"):
        html = (root / "feedback" / student / "ex01_neurons" / "ex01_neurons.html").read_text()
        assert "HIDDEN TESTS" not in html and "default_rng(30101)" not in html


def test_submissions_are_never_modified(demo_class):
    root, _ = demo_class
    before = _digest(root / "inbox")
    submitted_before = _digest(root / "submitted")
    grading.autograde("ex01_neurons", root=root, students=["dave", "erin"])
    assert _digest(root / "inbox") == before
    assert _digest(root / "submitted") == submitted_before


def test_grades_command_runs_from_the_course_folder(demo_class):
    root, _ = demo_class
    proc = subprocess.run([sys.executable, "-m", "coursetools.grading", "grades", "ex01_neurons"],
                          cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"alice\s+graded\s+20 /\s+20", proc.stdout)
    bad = subprocess.run([sys.executable, "-m", "coursetools.grading", "grades", "ex99"],
                         cwd=root, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown assignment 'ex99'" in bad.stdout


def test_a_folder_of_student_notebooks_is_imported_under_the_assignment_notebook_name(tmp_path):
    """`make collect FROM=folder` with FOLDER/<student>.ipynb: each notebook becomes that
    student's submission of the assignment's notebook, ready to grade (not "missing notebook")."""
    from coursetools import course
    root = tmp_path / "course"
    for name in ("solutions", "exercises"):
        shutil.copytree(course.ROOT / name, root / name)
    shutil.copy(course.ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    released = (root / "exercises" / "ex01_neurons" / "ex01_neurons.ipynb").read_text()
    for student in ("ana", "ben"):
        (inbox / f"{student}.ipynb").write_text(released)
    (inbox / "README.txt").write_text("not a submission")
    assert grading.import_folder("ex01_neurons", inbox, root=root) == ["ana", "ben"]
    for student in ("ana", "ben"):
        assert (root / "submitted" / student / "ex01_neurons" / "ex01_neurons.ipynb").read_text() == released
        assert grading.precheck("ex01_neurons", student, root=root) == (None, [])
