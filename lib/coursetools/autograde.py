"""nbgrader's own ``autograde``, refused: this course grades outside the student's kernel.

``nbgrader autograde`` would run a submission's test cells inside the student's kernel, where the
student's code could change what they report. The course's grader (``make autograde``, that is
``python -m coursetools.grading autograde``) runs each submission in a sandbox and judges what the
student's functions returned in a separate process, then writes the scores to nbgrader's
gradebook. nbgrader_config.py makes ``RefuseAutograde`` the exporter of nbgrader's own autograde
(``nbgrader autograde`` and the Formgrader's Autograde button), made before nbgrader touches
anything: it stops with a message saying what to run instead, and leaves the graded copies and
the gradebook as they are (nbgrader's autograde first writes the submission's claimed time into
the gradebook, and with ``--force`` removes the graded copy). ``GradeOutsideTheKernel``, its
only autograde step, is a second layer.
"""
from __future__ import annotations

from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor

MESSAGE = ("This course is not autograded by `nbgrader autograde`: its checks must run outside "
           "the student's kernel. Run `make autograde A=<assignment>` (or `python -m "
           "coursetools.grading autograde <assignment>`), which grades every submission in a "
           "sandbox and writes the scores to nbgrader's gradebook.")


class GradeOutsideTheKernel(NbGraderPreprocessor):
    """Stops ``nbgrader autograde`` with ``MESSAGE``."""

    def preprocess(self, nb, resources):
        raise RuntimeError(MESSAGE)


class RefuseAutograde(NotebookExporter):
    """The exporter of nbgrader's own autograde: made when it starts, it stops it with ``MESSAGE``."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(MESSAGE)
