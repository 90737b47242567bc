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
