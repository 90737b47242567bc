"""Autograding preprocessors that make deleted test cells count, visibly, as zero.

nbgrader can put back a test cell that a student deleted (``OverwriteCells.add_missing_cells``),
but it puts back the whole test, which then passes for correct code: deleting a test would cost
nothing. And it places the cell after the previous *graded* cell by id, which fails when the cell
before it was an ordinary read-only cell. ``RestoreDeletedTests`` puts every missing test cell back
where it was (after the nearest surviving cell that preceded it in the instructor's notebook) with
a body that fails with a plain message, so the cell scores 0, the student and the instructor see
why, and nothing is left for "manual grading" by accident.
"""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import OverwriteCells

MISSING_TEST_SOURCE = (
    "# This test cell was missing from the submitted notebook (id: {cell_id}).\n"
    "# Test cells must stay in the notebook: a deleted test cell scores 0.\n"
    "raise AssertionError('The test cell {cell_id} was deleted from the submission, "
    "so it scores 0 of {points:g} points.')"
)


class RestoreDeletedTests(OverwriteCells):
    """``OverwriteCells`` whose re-added test cells fail (score 0) with an explanation."""

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        sources = {cell.name: cell for cell in source_nb.source_cells}
        order = list(sources)
        present = {cell.metadata.nbgrader["grade_id"] for cell in nb.cells
                   if "nbgrader" in cell.metadata and "grade_id" in cell.metadata.nbgrader}
        for grade_cell in source_nb.grade_cells:
            if grade_cell.name in present or grade_cell.cell_type != "code":
                continue
            self.log.warning("Test cell %s is missing from the submission: restored, scored 0",
                             grade_cell.name)
            cell = NotebookNode({
                "cell_type": "code", "execution_count": None, "outputs": [],
                "id": f"restored-{grade_cell.name}"[:64],
                "metadata": {"deletable": False, "editable": False, "nbgrader": {
                    "grade": True, "grade_id": grade_cell.name, "locked": True,
                    "checksum": sources[grade_cell.name].checksum, "cell_type": "code",
                    "points": grade_cell.max_score, "solution": False, "task": False,
                    "schema_version": 3}},
                "source": MISSING_TEST_SOURCE.format(cell_id=grade_cell.name,
                                                     points=grade_cell.max_score),
            })
            nb.cells.insert(self._position(nb, order, grade_cell.name), cell)
            present.add(grade_cell.name)
        return nb, resources

    @staticmethod
    def _position(nb, order, name):
        """Index just after the nearest surviving cell that came before ``name`` in the source."""
        index = {c.metadata.nbgrader["grade_id"]: i for i, c in enumerate(nb.cells)
                 if "nbgrader" in c.metadata and "grade_id" in c.metadata.nbgrader}
        if name in order:
            for earlier in reversed(order[:order.index(name)]):
                if earlier in index:
                    return index[earlier] + 1
        return len(nb.cells)


# ----------------------------------------------------------------------------------------------
# Signed verdicts: a test cell's marks must come from the real checks
# ----------------------------------------------------------------------------------------------
import hashlib  # noqa: E402  (kept next to the code that uses them)
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402

from nbformat.v4 import new_output  # noqa: E402
from nbgrader.preprocessors import NbGraderPreprocessor  # noqa: E402

TAMPERED = ("Tampering detected: the checks of this cell did not report a verdict that matches "
            "its output (a checking helper, numpy or a builtin was replaced, or the output was "
            "forged). This cell scores 0.")


class PrepareVerdicts(NbGraderPreprocessor):
    """Before execution: a fresh secret key and file for the checks' signed verdicts.

    ``nnlib.checking`` reads both from the environment when the exercise imports it (its first
    cell, before any student code) and removes them from the environment.
    """

    def preprocess(self, nb, resources):
        handle, path = tempfile.mkstemp(prefix="verdicts-", suffix=".jsonl")
        os.close(handle)
        key = secrets.token_hex(32)
        os.environ["NNLIB_VERDICTS"], os.environ["NNLIB_VERDICT_KEY"] = path, key
        resources.setdefault("nbgrader", {})["verdicts"] = (path, key)
        return nb, resources


class VerifyVerdicts(NbGraderPreprocessor):
    """After execution: every test cell that ends with ``check.score()`` must have a signed verdict
    from the real checks, for that cell, agreeing with the marks its output claims; otherwise
    its output is replaced by an error saying that tampering was detected (0 marks)."""

    def preprocess(self, nb, resources):
        path, key = resources.get("nbgrader", {}).pop("verdicts", (None, None))
        os.environ.pop("NNLIB_VERDICTS", None)
        os.environ.pop("NNLIB_VERDICT_KEY", None)
        if not path:
            return nb, resources
        verdicts = {}
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        record = json.loads(line)
                        mac = record.pop("mac")
                    except (ValueError, KeyError, AttributeError):
                        continue
                    body = json.dumps(record, sort_keys=True).encode()
                    if hmac.compare_digest(mac, hmac.new(key.encode(), body, hashlib.sha256).hexdigest()):
                        verdicts[record["cell"]] = record  # the last verdict of a cell counts
        finally:
            os.unlink(path)
        for cell in nb.cells:
            if cell.cell_type != "code" or not utils.is_grade(cell) or ".score()" not in cell.source:
                continue
            if any(o.get("output_type") == "error" for o in cell.outputs):
                continue  # already scores 0
            claimed, max_points = utils.determine_grade(cell, self.log)
            record = verdicts.get(cell.get("execution_count"))
            if record is None or abs(float(record["earned"]) - float(claimed or 0)) > 1e-6:
                self.log.warning("Tampering detected in test cell %s (claimed %s, verdict %s)",
                                 cell.metadata.nbgrader.get("grade_id"), claimed, record)
                cell.outputs = [new_output("error", ename="TamperingDetected", evalue=TAMPERED,
                                           traceback=[f"TamperingDetected: {TAMPERED}"])]
        return nb, resources
