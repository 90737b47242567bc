"""The whole grading round trip of ex01_neurons on a copy of the course: sandbox, judge, nbgrader's
gradebook and feedback.

Students submit: the instructor's solution (full marks), the untouched student notebook (0),
a submission with four realistic mistakes (exactly the partial marks designed below), one that
deletes a test cell (put back and graded, with a note), one that duplicates an answer cell, and
correct code that writes warnings to stderr (costs nothing). Then feedback is generated and must
not show the hidden checks' inputs, seeds or source.
"""
from __future__ import annotations

import contextlib
import html as htmllib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from coursetools import course, grading

A = "ex01_neurons"
NB = f"{A}.ipynb"

WRONG_ANSWERS = {
    # the slope a is ignored, and exp is used unguarded (right values, with overflow warnings)
    "sigmoid": '''
def sigmoid(v, a=1.0):
    return 1.0 / (1.0 + np.exp(-np.asarray(v, dtype=float)))


def sigmoid_derivative(v, a=1.0):
    s = sigmoid(v, a)
    return a * s * (1.0 - s)
''',
    # relu' taken as 1 at v = 0
    "relu_family": None,  # filled in below from the solution, with one change
    # softmax without subtracting the maximum
    "softmax": '''
def softmax(v):
    e = np.exp(np.asarray(v, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)
''',
}

# What the designed mistakes must score, cell by cell (the checks each cell runs are in the
# solution notebook; the fractions are checks passed, weighted, times the cell's points).
WRONG_SCORES = {
    "test_mcp_unit": 3.0,
    "test_gates": 3.0,
    "test_sigmoid": 2.14,            # 5 of 7 checks: fails a = 3 and a = 0.5
    "test_sigmoid_derivative": 1.0,  # 2 of 4: fails wherever a != 1
    "test_relu": 1.5,                # 3 of 4: relu'(0) must be 0
    "test_leaky_relu": 2.0,
    "test_tanh_derivative": 2.0,
    "test_softmax": 2.0,             # 4 of 6: NaN for scores near 800 and 1000
}

NOISY_ANSWERS = {  # correct values, but warnings and prints on stderr inside the student's code
    "sigmoid": '''
import sys
import warnings


def sigmoid(v, a=1.0):
    warnings.warn("this sigmoid is not the stable one")
    return 1.0 / (1.0 + np.exp(-a * np.asarray(v, dtype=float)))


def sigmoid_derivative(v, a=1.0):
    print("computing the derivative", file=sys.stderr)
    s = sigmoid(v, a)
    return a * s * (1.0 - s)
''',
}


def _answers(nb, replacements):
    out = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in out.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in replacements:
            cell.source = replacements[gid].strip()
    return out


@pytest.fixture(scope="module")
def graded(course_copy):
    root = course_copy
    course.generate(A, root=root)
    released = nbformat.read(root / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
    perfect = course.fill_with_solutions(released, solution)

    relu_source = next(c.source for c in perfect.cells
                       if c.metadata.get("nbgrader", {}).get("grade_id") == "relu_family")
    wrong = dict(WRONG_ANSWERS, relu_family=relu_source.replace(
        "return (np.asarray(v, dtype=float) > 0).astype(float)",
        "return (np.asarray(v, dtype=float) >= 0).astype(float)"))
    assert wrong["relu_family"] != relu_source

    deleted = nbformat.reads(nbformat.writes(perfect), as_version=4)
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != "test_softmax"]

    course.submit("perfect", A, {NB: perfect}, root=root)
    course.submit("untouched", A, {NB: released}, root=root)
    course.submit("mistakes", A, {NB: _answers(perfect, wrong)}, root=root)
    course.submit("deleted_test", A, {NB: deleted}, root=root)
    course.submit("noisy", A, {NB: _answers(perfect, NOISY_ANSWERS)}, root=root)
    duplicated = nbformat.reads(nbformat.writes(perfect), as_version=4)
    copy = next(c for c in duplicated.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    pasted = nbformat.from_dict(json.loads(json.dumps(copy)))
    pasted.id = "pasted-copy"        # JupyterLab gives a pasted cell an id of its own, not the metadata
    duplicated.cells.append(pasted)
    course.submit("duplicated", A, {NB: duplicated}, root=root)
    course.autograde(A, root=root)
    return root, course.scores(A, root=root)


def test_solution_scores_full_marks(graded):
    _, scores = graded
    assert scores["perfect"]["max"] == 20
    assert scores["perfect"]["total"] == 20, scores["perfect"]["cells"]


def test_untouched_student_notebook_scores_zero(graded):
    _, scores = graded
    assert scores["untouched"]["total"] == 0, scores["untouched"]["cells"]


def test_designed_mistakes_score_the_designed_partial_marks(graded):
    _, scores = graded
    assert scores["mistakes"]["cells"] == pytest.approx(WRONG_SCORES)
    assert scores["mistakes"]["total"] == pytest.approx(sum(WRONG_SCORES.values()))


def test_deleted_test_cell_is_put_back_and_graded_with_a_note(graded):
    root, scores = graded
    assert scores["deleted_test"]["total"] == 20, scores["deleted_test"]["cells"]
    autograded = nbformat.read(root / "autograded" / "deleted_test" / A / NB, as_version=4)
    restored = [c for c in autograded.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax"]
    assert len(restored) == 1
    assert "all 6 checks passed" in restored[0].outputs[0]["text"]
    report = json.loads((root / "reports" / f"{A}.json").read_text())
    assert any("test_softmax was deleted" in n for n in report["deleted_test"]["notes"])


def test_duplicated_answer_cell_still_grades_the_honest_cells(graded):
    root, scores = graded
    assert scores["duplicated"]["total"] == 20, scores["duplicated"]["cells"]
    report = json.loads((root / "reports" / f"{A}.json").read_text())
    assert report["duplicated"]["status"] == "graded"
    assert any("appears twice" in n for n in report["duplicated"]["notes"])


def test_warnings_on_stderr_from_correct_code_cost_nothing(graded):
    root, scores = graded
    assert scores["noisy"]["total"] == 20, scores["noisy"]["cells"]
    autograded = nbformat.read(root / "autograded" / "noisy" / A / NB, as_version=4)
    text = "\n".join(o.get("text", "") for c in autograded.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "not the stable one" in text, "the warning should be reported to the student as a note"


def test_feedback_shows_messages_but_never_hidden_checks(graded):
    root, _ = graded
    course.nbgrader("generate_feedback", A, "--force", root=root)
    page = (root / "feedback" / "mistakes" / A / NB.replace(".ipynb", ".html")).read_text()
    # the text a reader sees: tags (syntax highlighting splits code into spans) removed
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", page))
    assert "expected" in text and "received" in text            # the checks' messages
    assert "relu_derivative([-2, 0, 3])" in text
    assert 'check("test_softmax")' in text                       # the test cells as released
    # nothing of the instructor's checks beyond what the messages say: no seeds, no source
    checks = (root / "solutions" / A / "checks.py").read_text()
    for seed in re.findall(r"default_rng\((\d+)\)", checks):
        assert seed not in text, f"hidden seed {seed} in feedback"
    for line in checks.splitlines():
        line = line.strip()
        if len(line) > 30 and not line.startswith(("#", '"""')):
            assert line not in text, f"checks.py line in feedback: {line}"
    for path in (str(root), str(Path(course.ROOT)), "/tmp/grading-", "/root/"):
        assert path not in text, f"machine path {path} in feedback"




def _visible(page):
    """The text a reader of an HTML page sees (tags removed, spaces normalised)."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_feedback_pages_say_what_nbgraders_own_exporter_and_grade_reader_say(graded, monkeypatch):
    """The course writes feedback with FeedbackHTMLExporter and GetGradesAtOnce (fast), by several
    nbgrader processes for a large class; nbgrader's HTMLExporter and GetGrades must give every
    page the same visible text, scores included."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.apps import NbGraderAPI
    from nbgrader.preprocessors import GetGrades

    from coursetools import grading
    from coursetools.feedback import HideHiddenTests
    root, _ = graded
    pages = {}
    for kind in ("course", "nbgrader", "course, 2 processes"):
        shutil.rmtree(root / "feedback", ignore_errors=True)
        config = course.load_config(root)
        if kind == "nbgrader":
            config.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
            config.GenerateFeedback.exporter_class = HTMLExporter
        if kind == "course, 2 processes":
            monkeypatch.setattr(grading, "FEEDBACK_SHARE", 3)  # the class of 6 makes two shares
            proc = grading.feedback(A, root=root, workers=2)
            written = re.findall(r"Writing \d+ bytes to (\S+)", proc.stdout + proc.stderr)
            assert proc.returncode == 0 and len(written) == len(set(written)) == 6  # each page once
        else:
            assert NbGraderAPI(config=config).generate_feedback(A, force=True)["success"]
        pages[kind] = {p.relative_to(root).as_posix(): _visible(p.read_text())
                       for p in (root / "feedback").rglob("*.html")}
    assert len(pages["course"]) == 6
    assert pages["course"] == pages["nbgrader"] == pages["course, 2 processes"]
    assert "Score: 20.0 / 20.0" in pages["course"][f"feedback/perfect/{A}/{A}.html"]
    # a grade changed by hand (formgrader) shows in the next run, even in the same process
    from nbgrader.api import Gradebook
    page = root / "feedback" / "perfect" / A / NB.replace(".ipynb", ".html")
    with Gradebook(course.load_config(root).CourseDirectory.db_url) as gb:
        gb.find_grade("test_softmax", A, A, "perfect").manual_score = 0.0
        gb.db.commit()
    try:
        assert NbGraderAPI(config=course.load_config(root)).generate_feedback(A, force=True)["success"]
        assert "Score: 17.0 / 20.0" in _visible(page.read_text())
    finally:
        with Gradebook(course.load_config(root).CourseDirectory.db_url) as gb:
            gb.find_grade("test_softmax", A, A, "perfect").manual_score = None
            gb.db.commit()


def test_a_score_given_by_hand_survives_a_new_autograde_run(graded):
    """The instructor changed a score in the Formgrader; running autograde again (for another
    student, or for everyone) keeps it, flags it for review and says so in the grade table."""
    from nbgrader.api import Gradebook
    root, _ = graded
    db = course.load_config(root).CourseDirectory.db_url
    whole_report = (root / "reports" / f"{A}.json").read_text()   # this run grades one student
    with Gradebook(db) as gb:
        gb.find_grade("test_softmax", A, A, "perfect").manual_score = 1.0
        gb.db.commit()
    try:
        report = grading.autograde(A, root=root, students=["perfect"], workers=1, quiet=True)
        assert report["perfect"]["status"] == "graded"
        with Gradebook(db) as gb:
            grade = gb.find_grade("test_softmax", A, A, "perfect")
            assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (1.0, 3.0, True)
        assert ("test_softmax: the score given by hand, 1, is kept over the new automatic 3 (review "
                "it in the Formgrader)") in report["perfect"]["notes"]
        row = {r["student"]: r for r in grading.grade_table(A, root=root)}["perfect"]
        assert float(row["score"]) == 18.0 and "given by hand" in row["notes"]
    finally:
        with Gradebook(db) as gb:
            gb.find_grade("test_softmax", A, A, "perfect").manual_score = None
            gb.db.commit()
        grading.autograde(A, root=root, students=["perfect"], workers=1, quiet=True)
        (root / "reports" / f"{A}.json").write_text(whole_report)


def test_a_resubmission_that_cannot_be_graded_withdraws_the_earlier_grade(graded):
    """Graded once, then handed in again broken: the gradebook (what the Formgrader and
    ``nbgrader export`` show) and the feedback folder (what ``release_feedback`` hands out) must
    not keep the earlier score beside a grade table that says "not graded"."""
    from nbgrader.api import Gradebook, MissingEntry
    root, _ = graded
    db = course.load_config(root).CourseDirectory.db_url
    whole_report = (root / "reports" / f"{A}.json").read_text()
    released = nbformat.read(root / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
    course.submit("resubmits", A, {NB: course.fill_with_solutions(released, solution)}, root=root)
    try:
        report = grading.autograde(A, root=root, students=["resubmits"], workers=1, quiet=True)
        assert report["resubmits"]["status"] == "graded"
        page = root / "feedback" / "resubmits" / A
        page.mkdir(parents=True)                 # as generate_feedback leaves it
        (page / f"{A}.html").write_text("Score: 20.0 / 20.0")
        (root / "submitted" / "resubmits" / A / NB).write_text('{"not json')
        report = grading.autograde(A, root=root, students=["resubmits"], workers=1, quiet=True)
        assert report["resubmits"]["status"] == "not graded"
        assert ("the grade of an earlier run (20 of 20) was withdrawn: the submission now handed "
                "in could not be graded") in report["resubmits"]["notes"]
        assert "the feedback of an earlier run was removed" in report["resubmits"]["notes"]
        with Gradebook(db) as gb, pytest.raises(MissingEntry):
            gb.find_submission(A, "resubmits")
        assert not page.exists()
        row = {r["student"]: r for r in grading.grade_table(A, root=root)}["resubmits"]
        assert row["status"] == "not graded" and row["score"] == "" and "withdrawn" in row["notes"]
    finally:
        with Gradebook(db) as gb:
            with contextlib.suppress(MissingEntry):
                gb.remove_submission(A, "resubmits")
        shutil.rmtree(root / "submitted" / "resubmits", ignore_errors=True)
        (root / "reports" / f"{A}.json").write_text(whole_report)


def test_feedback_images_keep_their_alternative_text():
    from coursetools.feedback_pages import NO_ALT, FeedbackHTMLExporter
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot()", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})])])
    page, _ = FeedbackHTMLExporter(template_name="classic").from_notebook_node(nb)
    images = re.findall(r"<img[^>]*>", page)
    assert len(images) == 1 and f'alt="{NO_ALT}"' in images[0]


def test_nbgraders_own_autograde_stops_before_it_touches_a_graded_copy_or_the_gradebook(graded):
    """nbgrader's autograde (also the Formgrader's Autograde button) wrote the submission's claimed
    time into the gradebook and, with --force, removed the graded copy before it reached the
    step that refused it. It now stops first, saying what to run instead."""
    from nbgrader.api import Gradebook
    root, _ = graded
    graded_copy = root / "autograded" / "perfect" / A / NB
    before_copy = graded_copy.read_bytes()
    (root / "submitted" / "perfect" / A / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")
    db = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db, "nn-from-scratch") as gb:
        before = gb.find_submission(A, "perfect").timestamp
    for args in (["autograde", A, "--force"], ["autograde", A, "--student", "perfect", "--force"]):
        proc = course.nbgrader(*args, root=root, check=False)
        assert proc.returncode != 0 and "make autograde" in proc.stdout + proc.stderr
    assert graded_copy.read_bytes() == before_copy
    with Gradebook(db, "nn-from-scratch") as gb:
        assert gb.find_submission(A, "perfect").timestamp == before
