"""nbgrader's configuration for this course (read by every `nbgrader` command run from here).

Instructor notebooks live in solutions/<assignment>/, the student versions that
`nbgrader generate_assignment` makes go to exercises/<assignment>/. Submissions, autograded
copies, feedback and the gradebook stay in folders that git ignores.
"""
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                    DeduplicateIds, Execute, GetGrades, IgnorePattern,
                                    LimitOutput, OverwriteKernelspec, SaveAutoGrades)

from coursetools.autograde import PrepareVerdicts, RestoreDeletedTests, VerifyVerdicts
from coursetools.feedback import HideHiddenTests

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Releasing and collecting go through an exchange folder inside the course (no system folder
# needed); on a shared JupyterHub point this at the hub's exchange instead.
c.Exchange.root = os.path.join(here, "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")


# Student notebooks as released: no outputs, cells locked where nbgrader locks them.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.GenerateAssignment.create_assignment = True

# Autograding: every cell has a time limit; a student who deletes or edits a test cell gets the
# instructor's cell back (and so the marks it really earns), never a silent "needs manual grading".
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                     RestoreDeletedTests, CheckCellMetadata]
# Marks must come from the real checks: each verdict is signed with a key the student's code
# never sees, and a test cell whose output disagrees with its signed verdict scores 0.
c.Autograde.autograde_preprocessors = [PrepareVerdicts, Execute, VerifyVerdicts, IgnorePattern,
                                       ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                       AssignLatePenalties, CheckCellMetadata]
c.RestoreDeletedTests.add_missing_cells = True
c.LimitOutput.max_lines = 400
c.LimitOutput.max_traceback = 40

# Feedback shows the student's work and the checks' messages, never the hidden tests' source.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
