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


COURSE_MAP_URL_PATH = "/lab/tree/lectures/00_course_map.ipynb"


def make_env():
    """The environment without make's own variables (the tests may run inside `make test`)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def test_lab_serves_the_whole_course_and_opens_the_course_map():
    """`make lab` must serve the repository's root (so the map's links to exercises/ work) and
    land on the course map; given only a file, Jupyter would serve that file's folder instead."""
    proc = subprocess.run(["make", "--no-print-directory", "-n", "lab"], cwd=ROOT, env=make_env(),
                          capture_output=True, text=True)
    command = next(l for l in proc.stdout.splitlines() if "jupyter lab" in l)
    assert f'--ServerApp.root_dir="{ROOT}"' in command, command
    # JupyterLab's own default URL: it overrides ServerApp.default_url with its own (/lab)
    assert f"--LabApp.default_url={COURSE_MAP_URL_PATH}" in command.split(), command


def test_make_lab_prints_and_opens_the_course_map(tmp_path):
    """Run `make lab` for real (on a free port, with a stand-in browser that records what it is
    asked to open): the URL it prints and the page it opens both lead to the course map, and the
    server serves the repository's root. The server is stopped afterwards."""
    import json
    import signal
    import socket
    import time
    import urllib.parse
    import urllib.request

    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        import pytest
        pytest.skip("not running from the environment `make setup` builds")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n')
    browser.chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = make_env()
    env.pop("JUPYTER_TOKEN", None)  # a token from the environment is printed as "..."
    env.update(JUPYTER_PORT=str(port), BROWSER=f"{browser} %s",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    log = tmp_path / "make-lab.log"
    url_re = re.compile(r"(http://127\.0\.0\.1:\d+\S*\?token=[0-9a-f]+)")

    def request(url, method="GET"):
        with urllib.request.urlopen(urllib.request.Request(url, method=method),
                                    timeout=30) as response:
            return response.status, response.read().decode(errors="replace")

    # -o: take the environment as built (a test must never reinstall it)
    with open(log, "wb") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    printed = None
    try:
        deadline = time.monotonic() + 180  # a hang-catcher: start-up takes seconds
        while time.monotonic() < deadline and proc.poll() is None:
            found = url_re.search(log.read_text(errors="replace"))
            if found and opened.exists() and opened.read_text().strip():
                printed = found.group(1)
                break
            time.sleep(0.2)
        text = log.read_text(errors="replace")
        assert printed, f"make lab printed no URL and opened no page; its output:\n{text}"

        url = urllib.parse.urlsplit(printed)
        token = urllib.parse.parse_qs(url.query)["token"][0]
        assert url.path == COURSE_MAP_URL_PATH, f"make lab printed {printed}"

        # what the browser was given: a local page that redirects to the server (it carries the
        # token, so the token is not on a command line)
        target = opened.read_text().split()[0]
        if target.startswith("file:"):
            page = Path(urllib.request.url2pathname(urllib.parse.urlsplit(target).path)).read_text()
            redirect = re.search(r'http-equiv="refresh" content="\d+;url=([^"]+)"', page).group(1)
        else:
            redirect = target
        assert urllib.parse.urlsplit(redirect).path == COURSE_MAP_URL_PATH, \
            f"make lab opened {redirect}"

        # the printed URL answers with JupyterLab, and the server's root is the repository's
        status, body = request(printed)
        assert status == 200 and "jupyter-config-data" in body, (status, body[:500])
        base = f"{url.scheme}://{url.netloc}"
        for path in ("lectures/00_course_map.ipynb", "exercises"):
            status, _ = request(f"{base}/api/contents/{path}?content=0&token={token}")
            assert status == 200, f"the server does not serve {path} from the repository's root"
    finally:
        if proc.poll() is None and printed:
            try:  # a clean stop, then the whole process group (make, jupyter)
                url = urllib.parse.urlsplit(printed)
                request(f"{url.scheme}://{url.netloc}/api/shutdown?{url.query}", method="POST")
                proc.wait(timeout=30)
            except Exception:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
