"""nbgrader's own ``autograde``, refused: this course grades outside the student's kernel.

``nbgrader autograde`` would run a submission's test cells inside the student's kernel, where the
student's code could change what they report. The course's grader (``make autograde``, that is
``python -m coursetools.grading autograde``) runs each submission in a sandbox and judges what the
student's functions returned in a separate process, then writes the scores to nbgrader's
gradebook. nbgrader_config.py makes ``GradeOutsideTheKernel`` nbgrader's only autograde step, so a
plain ``nbgrader autograde`` stops with a message saying what to run instead.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

MESSAGE = ("This course is not autograded by `nbgrader autograde`: its checks must run outside "
           "the student's kernel. Run `make autograde A=<assignment>` (or `python -m "
           "coursetools.grading autograde <assignment>`), which grades every submission in a "
           "sandbox and writes the scores to nbgrader's gradebook.")


class GradeOutsideTheKernel(NbGraderPreprocessor):
    """Stops ``nbgrader autograde`` with ``MESSAGE``."""

    def preprocess(self, nb, resources):
        raise RuntimeError(MESSAGE)
