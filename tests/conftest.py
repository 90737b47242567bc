"""Fixtures shared by the tests (the run-wide hooks are in coursetools.pytest_plugin)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A temporary copy of the course's graded parts (solutions, exercises, nbgrader config)."""
    root = tmp_path_factory.mktemp("course")
    for name in ("solutions", "exercises"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def pytest_collection_modifyitems(config, items):
    """Grading tests need the grading sandbox: where none can be made they are skipped, saying
    why and how to get one (never graded without it)."""
    from coursetools import sandbox
    ok, why = sandbox.available()
    if ok:
        return
    skip = pytest.mark.skip(reason=f"no grading sandbox on this machine: {why}")
    for item in items:
        name = Path(str(item.fspath)).name
        if name.startswith("test_grading_") or name == "test_instructor_workflow.py":
            item.add_marker(skip)
