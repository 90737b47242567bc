"""What students see in their feedback: their own work and the messages of the checks, not the
hidden tests' source.

nbgrader's autograded notebook carries the hidden test regions (they were restored from the
instructor's source to grade). ``HideHiddenTests`` removes those regions from every cell, as
``nbgrader generate_assignment`` does for the released notebook, and shortens the traceback of
every error in a graded cell to its last line (the exception and its message), because a full
traceback quotes the lines of the test that raised.
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden-test regions and reduce graded cells' tracebacks to ``Name: message``."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
