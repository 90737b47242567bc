"""The grading round trip with nbgrader's gradebook in a real PostgreSQL server.

The test starts a private PostgreSQL server (Debian's `postgresql` package: initdb and pg_ctl, run
as the `postgres` user when the test runs as root), listening only on a Unix socket in a temporary
folder, points the course at it with NBGRADER_DB_URL, grades a small class with two workers, and
checks every score against the same class graded with the default SQLite gradebook. Skipped, saying
why, where PostgreSQL is not installed.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from coursetools import course, grading

A = "ex01_neurons"
NB = f"{A}.ipynb"


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
    return Path(found[-1]).parent if found[-1] else None


def _as_postgres(cmd, **kw):
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no `postgres` user to run the server as")
    # outside pytest's own temporary folder, which only root may enter
    base = Path(tempfile.mkdtemp(prefix="gradebook-postgres-"))
    data, sock = base / "data", base / "socket"
    sock.mkdir()
    os.chmod(base, 0o755)
    if os.geteuid() == 0:
        for p in (base, sock):
            shutil.chown(p, "postgres", "postgres")
    init = _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                        timeout=300)
    assert init.returncode == 0, init.stderr[-2000:]
    port = "54329"
    start = _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                          "-t", "300", "-o", f"-c listen_addresses='' -k {sock} -p {port}", "start"],
                         timeout=400)
    assert start.returncode == 0, start.stdout[-2000:] + start.stderr[-2000:]
    try:
        made = _as_postgres([str(bin_dir / "createdb"), "-h", str(sock), "-p", port, "-U", "postgres",
                             "gradebook"], timeout=120)
        assert made.returncode == 0, made.stderr
        yield f"postgresql+psycopg2://postgres@/gradebook?host={sock}&port={port}"
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def _class(root):
    course.generate(A, root=root)
    released = nbformat.read(root / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
    perfect = course.fill_with_solutions(released, solution)
    mistakes = nbformat.reads(nbformat.writes(perfect), as_version=4)
    for cell in mistakes.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = ("def softmax(v):\n    e = np.exp(np.asarray(v, dtype=float))\n"
                           "    return e / e.sum(axis=-1, keepdims=True)")
    for student, nb in {"perfect": perfect, "untouched": released, "mistakes": mistakes}.items():
        course.submit(student, A, {NB: nb}, root=root)


def test_a_postgresql_gradebook_gets_the_same_grades_as_sqlite(server, course_copy, tmp_path):
    sqlite_root = tmp_path / "sqlite-course"
    for name in ("solutions", "exercises"):
        shutil.copytree(course_copy / name, sqlite_root / name)
    shutil.copy(course_copy / "nbgrader_config.py", sqlite_root / "nbgrader_config.py")
    _class(sqlite_root)
    grading.autograde(A, root=sqlite_root, workers=2, quiet=True)
    expected = course.scores(A, root=sqlite_root)

    os.environ["NBGRADER_DB_URL"] = server
    try:
        assert course.load_config(course_copy).CourseDirectory.db_url == server
        _class(course_copy)
        grading.autograde(A, root=course_copy, workers=2, quiet=True)
        got = course.scores(A, root=course_copy)
        rows = {r["student"]: r for r in grading.grade_table(A, root=course_copy)}
    finally:
        os.environ.pop("NBGRADER_DB_URL", None)
    assert not (course_copy / "gradebook.db").exists(), "the SQLite file was used instead"
    assert got == expected
    assert got["perfect"]["total"] == 20 and got["untouched"]["total"] == 0
    assert got["mistakes"]["total"] == 19
    assert rows["perfect"]["status"] == "graded" and rows["perfect"]["score"] == "20"
