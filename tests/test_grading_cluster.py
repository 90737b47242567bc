"""Grading a class on Dask (a LocalCluster of worker processes) gives the same grade table as
grading it serially, and the gradebook is written by the submitting process alone."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from coursetools import course, grading, sandbox

A = "ex01_neurons"
NB = f"{A}.ipynb"

pytestmark = pytest.mark.skipif(not sandbox.available()[0],
                                reason=f"no grading sandbox here: {sandbox.available()[1]}")
pytest.importorskip("distributed", reason="Dask distributed is not installed")


def _class(root):
    course.generate(A, root=root)
    released = nbformat.read(root / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(root / "solutions" / A / NB, as_version=4)
    perfect = course.fill_with_solutions(released, solution)
    mistakes = nbformat.reads(nbformat.writes(perfect), as_version=4)
    crash = nbformat.reads(nbformat.writes(perfect), as_version=4)
    for cell in mistakes.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = ("def softmax(v):\n    e = np.exp(np.asarray(v, dtype=float))\n"
                           "    return e / e.sum(axis=-1, keepdims=True)")
    for cell in crash.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "gates":
            cell.source = "import os\nos._exit(1)"
    for student, nb in {"perfect": perfect, "untouched": released, "mistakes": mistakes,
                        "crash": crash}.items():
        course.submit(student, A, {NB: nb}, root=root)
    (root / "submitted" / "broken" / A).mkdir(parents=True)
    (root / "submitted" / "broken" / A / NB).write_text("{not json", encoding="utf-8")


@pytest.fixture(scope="module")
def tables(course_copy, tmp_path_factory):
    serial_root = course_copy
    dask_root = tmp_path_factory.mktemp("dask-course")
    for name in ("solutions", "exercises"):
        shutil.copytree(serial_root / name, dask_root / name)
    shutil.copy(serial_root / "nbgrader_config.py", dask_root / "nbgrader_config.py")
    _class(serial_root)
    _class(dask_root)
    grading.autograde(A, root=serial_root, workers=1, quiet=True)
    copies = set(Path(tempfile.gettempdir()).glob("grading-course-*"))
    grading.autograde(A, root=dask_root, workers=2, cluster="local", quiet=True)
    TABLE_NOTES["left behind"] = set(Path(tempfile.gettempdir()).glob("grading-course-*")) - copies
    return grading.grade_table(A, root=serial_root), grading.grade_table(A, root=dask_root)


TABLE_NOTES: dict = {}


def test_a_local_dask_cluster_gives_the_serial_grade_table(tables):
    serial, dask = tables
    assert [r["student"] for r in serial] == ["broken", "crash", "mistakes", "perfect", "untouched"]
    assert dask == [dict(r) for r in serial]
    scores = {r["student"]: r["score"] for r in serial}
    assert scores == {"broken": "", "crash": "", "mistakes": "19", "perfect": "20", "untouched": "0"}


def test_a_local_cluster_opens_no_port_and_leaves_no_copy_of_the_checks(tables, monkeypatch):
    """A LocalCluster of processes listened on a TCP port without login: any user of the machine
    could connect and run code as the instructor. The local cluster talks in memory, and the
    course copies its workers made (checks.py included) are gone after the run."""
    from distributed import LocalCluster
    from coursetools import cluster
    assert TABLE_NOTES["left behind"] == set()
    addresses = []
    real = LocalCluster.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        addresses.append(self.scheduler_address)
    monkeypatch.setattr(LocalCluster, "__init__", spy)
    assert list(cluster.grade({"assignment": A}, {}, "local", 1, None)) == []
    assert addresses and all(a.startswith("inproc://") for a in addresses), addresses
