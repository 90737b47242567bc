"""nbgrader's configuration for this course (read by every `nbgrader` command run from here).

Instructor notebooks live in solutions/<assignment>/, the student versions that
`nbgrader generate_assignment` makes go to exercises/<assignment>/. Submissions, autograded
copies, feedback and the gradebook stay in folders that git ignores.
"""
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from coursetools.autograde import GradeOutsideTheKernel, RefuseAutograde
from coursetools.feedback import HideHiddenTests
from coursetools.feedback_pages import FeedbackHTMLExporter, GetGradesAtOnce

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.source_directory = "solutions"
# Each assignment's checks (expected values, hidden inputs, points) stay with the instructor:
# checks.py is never copied to students; the visible checks go as visible_checks.json.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "checks.py"]
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Releasing and collecting go through an exchange folder inside the course (no system folder
# needed), unless the machine has an exchange of its own: a JupyterHub sets c.Exchange.root in
# /etc/jupyter/nbgrader_config.py (read before this file) or NBGRADER_EXCHANGE in the environment.
def _machine_has_exchange():
    """True when this machine's Jupyter configuration (a hub's) sets an exchange of its own."""
    from jupyter_core.paths import jupyter_config_path
    for folder in jupyter_config_path():
        path = os.path.join(folder, "nbgrader_config.py")
        if os.path.abspath(path) != os.path.abspath(__file__) and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                if "Exchange.root" in f.read():
                    return True
    return os.path.isdir("/srv/nbgrader/exchange")  # nbgrader's default, made by a hub's admin


if os.environ.get("NBGRADER_EXCHANGE"):
    c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]
elif not _machine_has_exchange():
    c.Exchange.root = os.path.join(here, "exchange")
    os.makedirs(c.Exchange.root, exist_ok=True)
# Collecting trusts nothing a student put in the exchange: a submission is taken only from the
# student it names (or from the instructor), holds only files and folders, and is copied without
# following links (coursetools.exchange). nbgrader's own collect would follow a link to any file the
# instructor can read and take a submission made under another student's name.
c.ExchangeFactory.collect = "coursetools.exchange.CollectOwnSubmissions"
# The gradebook: an SQLite file in the course by default; for a class, a real database server,
# e.g. NBGRADER_DB_URL=postgresql+psycopg2://user:password@host/gradebook (solutions/README.md).
c.CourseDirectory.db_url = (os.environ.get("NBGRADER_DB_URL")
                            or "sqlite:///" + os.path.join(here, "gradebook.db"))


# Student notebooks as released: no outputs, cells locked where nbgrader locks them.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.GenerateAssignment.create_assignment = True

# Autograding is done by `make autograde` (python -m coursetools.grading autograde): every
# submission runs in a sandbox and is judged outside it. nbgrader's own autograde would run the
# checks inside the student's kernel, so it refuses with a message saying what to run instead.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Autograde.exporter_class = RefuseAutograde       # stops it before it touches anything
c.Autograde.autograde_preprocessors = [GradeOutsideTheKernel]
c.LimitOutput.max_lines = 400
c.LimitOutput.max_traceback = 40

# Every page nbgrader renders from a notebook (the Formgrader's, in the instructor's own Jupyter
# server, and the feedback pages) shows HTML only through a cleaner that lets nothing run: the
# graded copies are cleaned when they are written (coursetools.safe_display), this is a second layer.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"clean_html": "coursetools.safe_display.clean_html",
                          "markdown2html": "coursetools.safe_display.markdown2html"}
# Feedback shows the student's work and the checks' messages, never the hidden tests' source;
# its pages are written by nbgrader's exporter and grade reader without their per-page overheads.
c.GenerateFeedback.preprocessors = [GetGradesAtOnce, HideHiddenTests, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = FeedbackHTMLExporter
