"""What students see in their feedback: their own work and the messages of the checks, not the
hidden tests' source.

nbgrader's autograded notebook carries the hidden test regions (they were restored from the
instructor's source to grade). ``HideHiddenTests`` removes those regions from every cell, as
``nbgrader generate_assignment`` does for the released notebook, and shortens the traceback of
every error in a graded cell to its last line (the exception and its message), because a full
traceback quotes the lines of the test that raised. Tracebacks of the student's own cells keep
their lines but lose the folders of any file they name, so no path of the grading machine shows.
"""
from __future__ import annotations

import re

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


_FOLDERS = re.compile(r"(?:/[^/\s:'\"]+)+/(?=[^/\s:'\"]+\.py)")


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden-test regions, reduce graded cells' tracebacks to ``Name: message``, and
    remove the folders (the grading machine's paths) from every other traceback and
    from printed text such as warnings."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":  # warnings name the file that warned
                    output["text"] = _FOLDERS.sub(".../", output.get("text", ""))
                if output.get("output_type") != "error":
                    continue
                if utils.is_grade(cell):
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
                else:
                    output["traceback"] = [_FOLDERS.sub(".../", line) for line in output.get("traceback", [])]
        return cell, resources
