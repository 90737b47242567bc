"""The student edition: the repository students clone and Binder builds, without any answer.

    python -m coursetools.edition DEST        (or: make student-edition [DEST=folder])

Keep this repository (with ``solutions/``, the checks and the grading tools) private, and publish
the folder this makes as the students' repository: lectures, student notebooks with their visible
checks, the course library, ``binder/``, the two commands (``make lab``, ``make test``) and the
tests that concern students (library, worked examples, lectures, their notebooks). It contains no
``solutions/``, no ``checks.py``, no hidden check, and none of the instructor's tools.

Where it is published is set once, in ``course.cfg`` (``[student-edition] repository``): the
Binder badge of both READMEs is made from it (``binder_url``).
"""
from __future__ import annotations

import configparser
import shutil
import sys
import time
from pathlib import Path

from coursetools import course

#: What the student edition holds, relative to the repository's root.
FILES = ["Makefile", "requirements.txt", "pyproject.toml", "course.cfg", ".gitignore",
         "tests/conftest.py", "tests/nbval_sanitize.cfg", "tests/test_course_links.py"]
FOLDERS = ["lectures", "exercises", "binder", "lib/nnlib", "lib/selfcheck"]
#: The instructor tools students need: running the tests, re-executing lectures, and the lectures
#: as offline web pages (make html).
TOOLS = ["lib/coursetools/__init__.py", "lib/coursetools/pytest_plugin.py",
         "lib/coursetools/execute.py", "lib/coursetools/testkernels.py", "lib/coursetools/html.py"]
TEST_PATTERNS = ["test_lib_*.py", "test_worked_examples_*.py", "_torch.py"]


def settings(root=course.ROOT):
    """The [student-edition] settings of course.cfg: repository and branch."""
    parser = configparser.ConfigParser()
    parser.read(Path(root) / "course.cfg", encoding="utf-8")
    section = parser["student-edition"]
    return {"repository": section.get("repository", "").strip(),
            "branch": section.get("branch", "main").strip()}


def binder_url(root=course.ROOT):
    """The Binder link that opens the student edition's course map in JupyterLab."""
    s = settings(root)
    return (f"https://mybinder.org/v2/gh/{s['repository']}/{s['branch']}"
            f"?urlpath=lab/tree/lectures/00_course_map.ipynb")


STUDENT_README = """# Neural Networks from Scratch, executable

An introductory course on artificial neural networks and deep learning, built as Jupyter notebooks
that you run, change and check: from a single neuron and the perceptron, through backpropagation,
training, optimizers and regularization, to convolutional and recurrent networks and attention.
Every formula becomes a few lines of numpy, sliders let you move weights and learning rates, and
graded exercises check your own code and say precisely what is wrong.

## Open it on Binder

No installation at all: [![Binder](https://mybinder.org/badge_logo.svg)]({binder})

## Or on your machine

You need Python 3.11 or newer (Linux or macOS) and access to the Python package index. Two commands:

```bash
make lab     # set everything up (first time only) and open the course in JupyterLab
make test    # set everything up (first time only) and run every test
```

`make lab` creates a virtual environment in `.venv/`, installs the pinned packages of
`requirements.txt` and the course library, and opens JupyterLab on the course map,
`lectures/00_course_map.ipynb`.

## The exercises

The graded exercises are in `exercises/`. Write your code where it says `# YOUR CODE HERE`; each
test cell, `check("test_…")`, runs the visible checks and tells you what is wrong, and the last
cell counts the checks that pass. When your work is graded, hidden checks on other inputs run too,
so make your code right in general. Before you submit: **Kernel ▸ Restart Kernel and Run All
Cells**, or nbgrader's **Validate** button.

Work on a copy if you want to pull course updates later without conflicts: `make my-exercises`
copies the exercises to `my-exercises/` (ignored by git), where your answers are safe from
`git pull`.

## Licence

Code: MIT. Text of the notebooks: CC BY 4.0.
"""

STUDENT_TEST = '''"""The student notebooks: every cell runs, and the only errors are the unanswered stubs."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from coursetools.execute import ShortWaitKernelManager

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "exercises").glob("*/*.ipynb")),
                         ids=lambda p: p.parent.name)
def test_student_notebook_runs_with_only_not_implemented_errors(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   kernel_manager_class=ShortWaitKernelManager,
                   resources={{"metadata": {{"path": str(path.parent)}}}}).execute()
    errors = [f"cell {{i}}: {{o.ename}}: {{o.evalue[:200]}}" for i, c in enumerate(nb.cells)
              for o in c.get("outputs", []) if o.output_type == "error"
              and not (o.ename == "NotImplementedError"
                       or (o.ename == "CheckFailed" and "not implemented yet" in o.evalue))]
    assert not errors, "unexpected errors:\\n" + "\\n".join(errors)
'''


def build(dest, root=course.ROOT):
    """Make the student edition in ``dest`` (which must not exist yet, or be empty)."""
    root, dest = Path(root), Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty: give a new folder for the student edition")
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "checks.py",
                                    "*.egg-info")
    for folder in FOLDERS:
        shutil.copytree(root / folder, dest / folder, ignore=ignore)
    for name in FILES + TOOLS:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, dest / name)
    for pattern in TEST_PATTERNS:
        for path in sorted((root / "tests").glob(pattern)):
            shutil.copy2(path, dest / "tests" / path.name)
    (dest / "tests" / "test_student_notebooks.py").write_text(STUDENT_TEST.format(), encoding="utf-8")
    # the student edition's own conftest needs no instructor fixture
    (dest / "tests" / "conftest.py").write_text(
        '"""Student edition: the run-wide hooks are in coursetools.pytest_plugin."""\n',
        encoding="utf-8")
    (dest / "README.md").write_text(STUDENT_README.format(binder=binder_url(root)), encoding="utf-8")
    _student_makefile(dest / "Makefile")
    _student_pyproject(dest / "pyproject.toml")
    return dest


def _student_makefile(path):
    """The instructor's Makefile without the instructor's steps, plus `make my-exercises`."""
    text = path.read_text(encoding="utf-8")
    cut = text.find("# ---- instructor steps")
    text = text[:cut] if cut >= 0 else text
    text = text.replace(".PHONY: lab test setup generate bench clean release collect autograde "
                        "feedback grades demo", ".PHONY: lab test setup clean my-exercises")
    text += ("\n# A copy of the exercises to work in (ignored by git), so that `git pull` never "
             "conflicts with your answers.\nmy-exercises:\n\t@mkdir -p my-exercises\n"
             "\t@for d in exercises/*/; do n=$$(basename $$d); [ -e my-exercises/$$n ] || "
             "cp -r $$d my-exercises/$$n; done\n\t@echo \"your copies are in my-exercises/\"\n")
    path.write_text(text, encoding="utf-8")


def _student_pyproject(path):
    text = path.read_text(encoding="utf-8")
    text = text.replace('testpaths = ["tests", "lectures", "solutions"]', 'testpaths = ["tests", "lectures"]')
    path.write_text(text, encoding="utf-8")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print(__doc__)
        return 2
    start = time.perf_counter()
    dest = build(argv[0])
    print(f"student edition written to {dest} in {time.perf_counter() - start:.1f} s; "
          f"publish it as {settings()['repository']} (course.cfg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
