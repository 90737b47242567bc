"""Shared fixtures, and the time budget of every lecture.

nbval runs each lecture cell by cell; the time of its cells is added up per notebook here, the
slowest lectures are listed at the end of the run, and the run fails if a lecture goes over its
budget (COURSE.md: "each runs top to bottom in seconds").
"""
from __future__ import annotations

import os
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NNLIB_QUIET", "1")


def lecture_budget(name):
    """Seconds a lecture may take to run its cells: 10 for 00–09, 15 for 10–17, 20 for 18 on."""
    number = int(name[:2]) if name[:2].isdigit() else 0
    return 10.0 if number <= 9 else 15.0 if number <= 17 else 20.0


_lecture_seconds: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.startswith("lectures/") and path.endswith(".ipynb") and report.when == "call":
        _lecture_seconds[Path(path).name] += report.duration


def _over_budget():
    return {n: s for n, s in _lecture_seconds.items() if s > lecture_budget(n)}


def pytest_terminal_summary(terminalreporter):
    if not _lecture_seconds:
        return
    tr = terminalreporter
    tr.section("lecture run times (cells only, slowest first)")
    for name, seconds in sorted(_lecture_seconds.items(), key=lambda kv: -kv[1])[:8]:
        flag = "  OVER BUDGET" if seconds > lecture_budget(name) else ""
        tr.write_line(f"{seconds:6.1f} s  (budget {lecture_budget(name):4.0f} s)  {name}{flag}")


def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A temporary copy of the course's graded parts (solutions, exercises, nbgrader config)."""
    root = tmp_path_factory.mktemp("course")
    for name in ("solutions", "exercises"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root
