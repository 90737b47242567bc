"""Binder builds the same environment as `make setup` and opens JupyterLab on the course map.

Checked without Docker:
- binder/requirements.txt pins exactly the packages and versions of requirements.txt and adds
  only the course library (`-e .`, installed from the repository root);
- binder/runtime.txt names a Python the project supports (pyproject's requires-python);
- binder/postBuild stops on the first error, checks the widget and nbgrader extensions and imports
  binder/workspace.json, whose default workspace opens lectures/00_course_map.ipynb;
- the local environment passes the same extension check;
- `jupyter-repo2docker --no-build --debug .` accepts the configuration and prints a build script
  (Dockerfile) that installs binder/requirements.txt after copying the repository (so `-e .`
  finds the library), runs postBuild, and uses the Python of runtime.txt.

repo2docker is not part of the course's requirements: the last test installs
jupyter-repo2docker==2026.4.0 once into its own virtual environment under .cache/ (ignored by git)
and is skipped, saying why, when that installation fails (for instance without a package index).
"""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
REPO2DOCKER_VERSION = "2026.4.0"
REPO2DOCKER_VENV = REPO / ".cache" / f"repo2docker-{REPO2DOCKER_VERSION}"


def requirement_lines(path):
    """The requirement lines of a pip requirements file, without comments and blank lines."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def pins(lines):
    """{normalised name: version} for `name==version` lines; other lines are returned apart."""
    found, other = {}, []
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)", line)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            assert name not in found, f"{name} is pinned twice"
            found[name] = match.group(2)
        else:
            other.append(line)
    return found, other


def test_binder_requirements_pin_exactly_the_course_requirements():
    course, course_other = pins(requirement_lines(REPO / "requirements.txt"))
    binder, binder_other = pins(requirement_lines(BINDER / "requirements.txt"))
    assert not course_other, f"requirements.txt has lines that are not exact pins: {course_other}"
    only_course = {k: v for k, v in course.items() if binder.get(k) != v}
    only_binder = {k: v for k, v in binder.items() if course.get(k) != v}
    assert not only_course and not only_binder, (
        "binder/requirements.txt and requirements.txt disagree:\n"
        f"  in requirements.txt but not in binder/: {only_course}\n"
        f"  in binder/ but not in requirements.txt: {only_binder}")
    assert binder_other == ["-e ."], (
        "binder/requirements.txt must add exactly one line to the pins, `-e .` (the course "
        f"library from the repository root); it has {binder_other}")


def test_runtime_is_a_supported_python():
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", text)
    assert match, f"binder/runtime.txt should read like python-3.11, not {text!r}"
    version = tuple(map(int, match.groups()))
    project = (REPO / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python\s*=\s*">=\s*(\d+)\.(\d+)"', project)
    assert minimum, "pyproject.toml has no requires-python = \">=X.Y\""
    assert version >= tuple(map(int, minimum.groups())), (
        f"binder/runtime.txt asks for Python {text}, older than pyproject's {minimum.group(0)}")


def test_post_build_checks_extensions_and_opens_the_course_map():
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    lines = [line.strip() for line in post_build.read_text().splitlines()]
    assert lines[0].startswith("#!"), "postBuild needs a #! line"
    commands = [line for line in lines[1:] if line and not line.startswith("#")]
    assert commands[0].startswith("set -e"), "postBuild must start with `set -e` (stop on errors)"
    syntax = subprocess.run(["bash", "-n", str(post_build)], capture_output=True, text=True)
    assert syntax.returncode == 0, f"binder/postBuild is not valid bash: {syntax.stderr}"
    assert "python binder/check_extensions.py" in commands
    assert "jupyter lab workspaces import binder/workspace.json" in commands

    workspace = json.loads((BINDER / "workspace.json").read_text())
    assert workspace["metadata"]["id"] == "default"
    main = workspace["data"]["layout-restorer:data"]["main"]
    current = main["current"]
    assert current == "notebook:lectures/00_course_map.ipynb"
    assert current in main["dock"]["widgets"]
    opened = workspace["data"][current]["data"]
    assert opened == {"path": "lectures/00_course_map.ipynb", "factory": "Notebook"}
    assert (REPO / opened["path"]).exists()


def test_local_environment_has_the_extensions_binder_checks():
    done = subprocess.run([sys.executable, str(BINDER / "check_extensions.py")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": str(Path(sys.executable).parent)
                               + os.pathsep + os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------- repo2docker (installed once)

def repo2docker():
    """Path of jupyter-repo2docker, installed on first use into .cache/; skips if it cannot be."""
    exe = REPO2DOCKER_VENV / "bin" / "jupyter-repo2docker"
    stamp = REPO2DOCKER_VENV / ".installed"
    REPO2DOCKER_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(REPO2DOCKER_VENV.parent / "repo2docker.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time (pytest -n)
        if stamp.exists() and exe.exists():
            return exe
        shutil.rmtree(REPO2DOCKER_VENV, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(REPO2DOCKER_VENV)
        try:
            done = subprocess.run(
                [str(REPO2DOCKER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", f"jupyter-repo2docker=={REPO2DOCKER_VERSION}"],
                capture_output=True, text=True, timeout=600)
            failed = done.returncode != 0 or not exe.exists()
            why = (done.stderr or done.stdout).strip().splitlines()[-3:]
        except subprocess.TimeoutExpired:
            failed, why = True, ["pip did not finish within 10 minutes"]
        if failed:
            shutil.rmtree(REPO2DOCKER_VENV, ignore_errors=True)
            pytest.skip(f"could not install jupyter-repo2docker=={REPO2DOCKER_VERSION} into "
                        f"{REPO2DOCKER_VENV.relative_to(REPO)} (no package index?): "
                        + " / ".join(why))
        stamp.touch()
        return exe


def test_repo2docker_accepts_binder_and_installs_the_course():
    exe = repo2docker()
    done = subprocess.run([str(exe), "--no-build", "--debug", "."], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"repo2docker rejected the configuration:\n{done.stderr[-3000:]}"
    dockerfile = done.stdout
    assert "FROM " in dockerfile, f"no build script printed:\n{done.stdout[-2000:]}"

    python = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"Building conda environment for python={python}" in done.stderr, (
        f"repo2docker does not build Python {python}:\n{done.stderr[-2000:]}")
    assert f"environment-2epy-2d{python.replace('.', '-2e')}-2d" in dockerfile, (
        f"the build script does not install the Python {python} environment")

    copy_repo = dockerfile.find("COPY --chown=0:0 src/ ${REPO_DIR}/")
    install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy_repo >= 0, "the build script does not copy the repository"
    assert install >= 0, "the build script does not install binder/requirements.txt"
    assert install > copy_repo, ("binder/requirements.txt is installed before the repository is "
                                 "copied in, so `-e .` would not find the course library")
    run_post_build = dockerfile.find("RUN ./binder/postBuild")
    assert run_post_build > install, "postBuild must run, after the requirements are installed"
