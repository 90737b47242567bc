"""The student edition (`make student-edition`): everything a student needs, no answer anywhere.

Built into a temporary folder, it must hold the lectures, the student notebooks with their visible
checks, the course library, binder/ and the two commands; it must hold no solutions/, no
checks.py, no solution text, no instructor tool, and no function that returns a graded answer
(the same functional leak check as the repository's own exercises). Its `make test` must run from
the copy (with the environment already built, as `make setup` would build it from the same
requirements.txt), and its README's Binder link must be the one course.cfg sets.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from coursetools import course, edition

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return edition.build(tmp_path_factory.mktemp("edition") / "course")


def test_it_holds_what_students_need(student):
    for path in ("README.md", "Makefile", "requirements.txt", "pyproject.toml", "binder/requirements.txt",
                 "lectures/00_course_map.ipynb", "lib/nnlib/activations.py", "lib/selfcheck/__init__.py",
                 "tests/test_student_notebooks.py"):
        assert (student / path).is_file(), f"the student edition has no {path}"
    for name in course.assignments(ROOT):
        assert (student / "exercises" / name / f"{name}.ipynb").is_file()
        assert (student / "exercises" / name / "visible_checks.json").is_file()
    lectures = sorted(p.name for p in (ROOT / "lectures").glob("*.ipynb"))
    assert sorted(p.name for p in (student / "lectures").glob("*.ipynb")) == lectures


def test_it_holds_no_answer_and_no_instructor_tool(student):
    files = [p for p in student.rglob("*") if p.is_file()]
    names = {p.relative_to(student).as_posix() for p in files}
    assert not (student / "solutions").exists()
    assert not any(Path(n).name == "checks.py" for n in names)
    for tool in ("judge.py", "grading.py", "sandbox.py", "cluster.py", "demo.py", "edition.py",
                 "course.py", "autograde.py", "feedback.py"):
        assert f"lib/coursetools/{tool}" not in names
    assert not any(n.startswith("tests/test_grading") for n in names)
    for path in files:
        text = path.read_text(errors="replace") if path.suffix in (".py", ".ipynb", ".json", ".md", ".txt", ".cfg") else ""
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(student)} contains {marker!r}"


@pytest.mark.parametrize("name", course.assignments(ROOT))
def test_no_function_it_gives_returns_a_graded_answer(student, name):
    from test_exercise_notebooks import given_function_leaks
    leaks = given_function_leaks(name, student / "exercises")
    assert not leaks, leaks[:5]


def test_its_readme_links_binder_to_the_published_edition(student):
    url = edition.binder_url(ROOT)
    assert edition.settings(ROOT)["repository"] in url
    assert url in (student / "README.md").read_text()
    assert url in (ROOT / "README.md").read_text(), "the README's Binder badge must be edition.binder_url()"
    assert "make lab" in (student / "README.md").read_text() and "make test" in (student / "README.md").read_text()


def test_its_two_commands_work_from_the_copy(student):
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("not running from the environment `make setup` builds")
    os.symlink(ROOT / ".venv", student / ".venv")
    env = dict(os.environ, PYTHONPATH=str(student / "lib"), MAKEFLAGS="")
    env.pop("PYTEST_XDIST_WORKER", None)
    dry = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "lab"],
                         cwd=student, env=env, capture_output=True, text=True)
    assert dry.returncode == 0 and "jupyter lab" in dry.stdout and "00_course_map" in dry.stdout, dry.stdout + dry.stderr
    # the copy's own test command, on its own library, over a lecture, the student notebooks,
    # the course map's links and a library test (the rest are the repository's own, tested there)
    env["PYTEST_ADDOPTS"] = ("tests/test_student_notebooks.py tests/test_course_links.py "
                             "tests/test_lib_activations.py lectures/02_the_neuron.ipynb -p no:randomly")
    proc = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "test", "JOBS=2"],
                          cwd=student, env=env, capture_output=True, text=True, timeout=1800)
    tail = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, tail
    assert re.search(r"\d+ passed", tail), tail
    assert "failed" not in tail.splitlines()[-1], tail
