"""The environment the two commands build: pinned, installed as pinned, and not rebuilt needlessly."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nnlib

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)$")


def pins():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    return [l for l in lines if l and not l.startswith("#")]


def test_every_requirement_is_pinned_exactly():
    bad = [l for l in pins() if not PIN.match(l)]
    assert not bad, f"requirements.txt lines that are not 'name==version': {bad}"


def test_the_environment_has_exactly_the_pinned_versions():
    wrong = []
    for line in pins():
        name, version = PIN.match(line).groups()
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong.append(f"{name}: pinned {version}, installed {installed}")
    assert not wrong, "the environment differs from requirements.txt (run `make setup`):\n" + "\n".join(wrong)


def test_the_course_library_is_the_one_in_this_repository():
    assert Path(nnlib.__file__).resolve().is_relative_to(ROOT / "lib"), nnlib.__file__


def test_a_second_setup_reinstalls_nothing():
    """`make -q` exits 0 when the set-up step is up to date, i.e. a second run would do nothing."""
    if not (ROOT / ".venv" / ".installed").exists():
        import pytest
        pytest.skip("not running from the environment `make setup` builds")
    proc = subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT)
    assert proc.returncode == 0, "make would reinstall: requirements.txt or pyproject.toml is newer"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call `make test`"


def test_python_is_new_enough():
    assert sys.version_info >= (3, 11)


def test_lab_serves_the_whole_course_and_opens_the_course_map():
    """`make lab` must serve the repository's root (so the map's links to exercises/ work) and
    open the course map; given only a file, Jupyter would serve that file's folder instead."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    proc = subprocess.run(["make", "--no-print-directory", "-n", "lab"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    command = next(l for l in proc.stdout.splitlines() if "jupyter lab" in l)
    assert f'--ServerApp.root_dir="{ROOT}"' in command, command
    assert command.split("--ServerApp.root_dir")[1].split()[1] == "lectures/00_course_map.ipynb"
