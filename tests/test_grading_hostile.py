"""Hostile and broken submissions: nothing crashes the class, nothing is lost, nothing is unearned.

A catalogue of submissions of ex01_neurons, each with the exact outcome it must produce, graded
together with honest ones through the instructor's grading step (coursetools.grading, what
`make autograde` runs) on a temporary copy of the course.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from coursetools import course, grading

A = "ex01_neurons"
NB = f"{A}.ipynb"
FULL = 20.0

# student: (answers to put in place of the solution cells, or a special key; expected status,
#           expected score or None, words the reason or notes must contain)
CATALOGUE = {
    # --- honest work, which must be unaffected by everything else in the class ---
    "honest_full": ({}, "graded", FULL, ""),
    "honest_partial": ({"softmax": "def softmax(v):\n    e = np.exp(np.asarray(v, dtype=float))\n"
                                   "    return e / e.sum(axis=-1, keepdims=True)"},
                       "graded", 19.0, ""),
    # --- unearned marks ---
    "fake_checker": ({"mcp_unit": "class _Fake:\n    def __init__(self, *a, **k): pass\n"
                                  "    def __getattr__(self, n): return lambda *a, **k: None\n"
                                  "Checker = _Fake\ndef mcp_unit(X, w, theta):\n    return 0"},
                     "graded", 0.0, ""),
    "patched_numpy": ({"mcp_unit": "np.allclose = lambda *a, **k: True\n"
                                   "def mcp_unit(X, w, theta):\n    return np.zeros(len(X))"},
                      "graded", 0.0, ""),
    "patched_checking_module": ({"mcp_unit": "import nnlib.checking as c\n"
                                             "c._compare = lambda *a, **k: (True, '')\n"
                                             "def mcp_unit(X, w, theta):\n    return 0"},
                                "graded", 0.0, ""),
    "edited_test_cell": ("edit-test", "graded", FULL, ""),
    "deleted_test_cell": ("delete-test", "graded", FULL - 3, ""),
    # --- nothing crashes the class ---
    # a loop that can be interrupted costs only what depends on its cell (the gates: 3 points)
    "endless_loop": ({"gates": "while True:\n    pass"}, "graded", FULL - 3, "was interrupted"),
    "swallows_interrupt": ({"gates": "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                                     "    except KeyboardInterrupt:\n        pass"},
                           "not graded", None, "time limit"),
    "sleeps": ({"gates": "import time\ntime.sleep(3600)"}, "graded", FULL - 3, "was interrupted"),
    "exhausts_memory": ({"relu_family": "SOLUTION\nhog = bytearray(16 * 1024 ** 3)"},
                        "graded", FULL, ""),
    "kills_kernel": ({"gates": "import os\nos._exit(1)"}, "not graded", None,
                     "tests that ran before it stopped: test_mcp_unit 3/3"),
    "system_exit": ({"gates": "raise SystemExit(0)"}, "graded", FULL - 3, ""),
    "keyboard_interrupt": ({"sigmoid": "raise KeyboardInterrupt"}, "graded", FULL - 5, ""),
    "floods_output": ({"relu_family": "SOLUTION\nfor i in range(100000):\n    print('spam', i)"},
                      "graded", FULL, ""),
    "spawns_process": ({"relu_family": "SOLUTION\nimport subprocess\n"
                                       "subprocess.Popen(['sleep', '3000'], start_new_session=True)"},
                       "graded", FULL, "left running by the submission were stopped"),
    "spawns_thread": ({"relu_family": "SOLUTION\nimport threading, time\n"
                                      "threading.Thread(target=time.sleep, args=(3000,)).start()"},
                      "graded", FULL, ""),
    "writes_outside": ({"relu_family": "SOLUTION\nimport pathlib\n"
                                       "for p in ['../../honest_full/ex01_neurons/ex01_neurons.ipynb',\n"
                                       "          '../../../submitted/honest_full/ex01_neurons/ex01_neurons.ipynb']:\n"
                                       "    q = pathlib.Path(p)\n"
                                       "    q.parent.mkdir(parents=True, exist_ok=True)\n"
                                       "    q.write_text('overwritten')"},
                       "graded", FULL, ""),
    # --- nothing is lost ---
    "invalid_json": ("invalid-json", "not graded", None, "not a readable notebook"),
    "renamed_notebook": ("renamed", "not graded", None, "missing notebook ex01_neurons.ipynb"),
    "wrong_kernel": ("wrong-kernel", "graded", FULL, "asked for kernel 'ir'"),
    "extra_files": ("extra-files", "graded", FULL, "extra files ignored: notes.txt"),
}


def _build(perfect, released, spec):
    """The files one catalogue entry submits."""
    if spec == "invalid-json":
        return {NB: nbformat.writes(perfect)[:3000]}
    if spec == "renamed":
        return {"my_work.ipynb": nbformat.writes(perfect)}
    nb = nbformat.reads(nbformat.writes(perfect), as_version=4)
    files = {}
    if spec == "wrong-kernel":
        nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    elif spec == "extra-files":
        files["notes.txt"] = "my notes"
    elif spec == "edit-test":
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass  # tests are for other people"
    elif spec == "delete-test":
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_softmax"]
    elif isinstance(spec, dict):
        solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in spec:
                cell.source = spec[gid].replace("SOLUTION", solutions[gid])
    files[NB] = nbformat.writes(nb)
    return files


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded_class(course_copy):
    root = course_copy
    os.environ["GRADING_CELL_SECONDS"] = "5"
    os.environ["GRADING_SECONDS_PER_STUDENT"] = "45"
    course.generate(A, root=root)
    released = nbformat.read(root / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
    perfect = course.fill_with_solutions(released, solution)
    for student, (spec, *_rest) in CATALOGUE.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        for name, text in _build(perfect, released, spec).items():
            (folder / name).write_text(text, encoding="utf-8")
    before = _digest(root / "submitted")
    report = grading.autograde(A, root=root)
    rows = {r["student"]: r for r in grading.grade_table(A, root=root)}
    return root, report, rows, before


@pytest.mark.parametrize("student", list(CATALOGUE))
def test_each_submission_gets_exactly_its_outcome(graded_class, student):
    _, report, rows, _ = graded_class
    _, status, score, words = CATALOGUE[student]
    row = rows[student]
    assert row["status"] == status, (student, row, report[student].get("reason"))
    if score is None:
        assert row["score"] == ""
    else:
        assert float(row["score"]) == pytest.approx(score), (student, row)
    told = f"{row['reason']} {row['notes']}"
    assert words in told, (student, told)
    if status == "not graded":
        assert row["reason"], "a submission that was not graded must say why"


def test_tampering_is_named_in_the_autograded_notebooks(graded_class):
    root, *_ = graded_class
    for student in ("fake_checker", "patched_numpy", "patched_checking_module"):
        nb = nbformat.read(root / "autograded" / student / A / NB, as_version=4)
        text = " ".join(o.get("evalue", "") for c in nb.cells for o in c.get("outputs", []))
        assert "ampering detected" in text, student


def test_student_files_are_never_modified(graded_class):
    root, *_, before = graded_class
    assert _digest(root / "submitted") == before


def test_no_process_is_left_behind(graded_class):
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 3000" not in out


def test_every_student_is_in_the_log(graded_class):
    root, *_ = graded_class
    log = (root / "reports" / f"{A}.log").read_text()
    for student in CATALOGUE:
        assert f"===== {student}:" in log


def test_feedback_shows_no_hidden_test_and_no_machine_path(graded_class):
    root, *_ = graded_class
    grading.feedback(A, root=root)
    pages = sorted((root / "feedback").rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        text = page.read_text()
        for secret in ("HIDDEN TESTS", "default_rng(30101)", "/tmp/", str(course.ROOT), "site-packages"):
            assert secret not in text, f"{page.parent.parent.name}: feedback shows {secret!r}"
