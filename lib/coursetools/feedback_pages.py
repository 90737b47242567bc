"""Writing a class's feedback pages at a fraction of a second each: nbgrader's exporter and
grade reader, without their per-page overheads (nbgrader_config.py sets both for
``generate_feedback``; the pages say the same).

* ``FeedbackHTMLExporter`` is nbconvert's HTMLExporter without its last pass, which parses the
  finished page with BeautifulSoup to add accessibility attributes: ``tabindex`` to JupyterLab's
  cell elements, which the feedback template (nbgrader's, built on the classic template) does not
  have, and an ``alt`` text to images without one, which is added here the same way. That pass
  was about half of each page's cost.
* ``GetGradesAtOnce`` is nbgrader's GetGrades reading a notebook's grades and comments in one go,
  through one connection to the gradebook for the whole run (nbgrader's opens a connection per
  notebook and queries the gradebook for each cell: a fifth of each page's cost).
"""
from __future__ import annotations

import re

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbgrader.api import Gradebook
from nbgrader.preprocessors import GetGrades

NO_ALT = "No description has been provided for this image"  # nbconvert's own words
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)(?=[\s>/])", re.IGNORECASE)


class FeedbackHTMLExporter(HTMLExporter):
    """HTMLExporter whose pages are not parsed again once written (see the module's text)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code",
                                          Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html), resources


class GetGradesAtOnce(GetGrades):
    """GetGrades with one gradebook connection per run and one look-up per notebook.

    nbgrader makes this preprocessor anew for every run (``generate_feedback``, or formgrader's
    button), so the connection, and what it read, lasts one run: grades changed by hand between
    two runs are read again."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        if getattr(self, "_opened", None) != self.db_url:
            self.gradebook, self._opened = Gradebook(self.db_url), self.db_url
        notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id,
                                                           self.student_id)
        self._grades = {grade.name: grade for grade in notebook.grades}
        self._comments = {comment.name: comment for comment in notebook.comments}
        nb, resources = super(GetGrades, self).preprocess(nb, resources)  # cell by cell
        late_penalty = notebook.late_submission_penalty or 0
        if late_penalty:
            self.log.warning("Late submission penalty: {}".format(late_penalty))
        resources["nbgrader"].update(score=notebook.score - late_penalty,
                                     max_score=notebook.max_score, late_penalty=late_penalty)
        return nb, resources

    def _get_comment(self, cell, resources):
        cell.metadata.nbgrader["comment"] = self._comments[cell.metadata["nbgrader"]["grade_id"]].comment

    def _get_score(self, cell, resources):
        grade = self._grades[cell.metadata["nbgrader"]["grade_id"]]
        cell.metadata.nbgrader["score"] = grade.score
        cell.metadata.nbgrader["points"] = grade.max_score
