"""Grading on a Dask cluster: the same grading task, run by Dask's workers instead of threads.

For a class that outgrows one machine. Each task carries all it needs, as plain data: the
assignment's bundle (its name, the released notebook and its checks.py) and one student's
submitted files; it returns the judged result (status, reason, notes, points per test cell and
the judged notebook as text). The gradebook is written by the process that submitted the tasks
(``coursetools.grading.autograde``), never by a worker.

    make autograde A=ex01_neurons CLUSTER=local WORKERS=4     # a LocalCluster of 4 processes
    make autograde A=ex01_neurons CLUSTER=tcp://scheduler:8786

A worker is a machine (or container) with this course's environment installed (``make setup``)
and bubblewrap, started with ``dask worker tcp://scheduler:8786 --nthreads 1`` (one task at a time
per worker process: each task is one sandbox). dask-jobqueue (batch systems: SLURM, PBS, …) and
dask-kubernetes start the same workers through the same API, and their cluster's address is all
``CLUSTER=`` needs.

``CLUSTER=local`` runs its workers as threads of the grading process, talking in memory
(``inproc://``): no port is opened, so no other user of the machine can reach the scheduler and
run code as the instructor (a LocalCluster of processes listens on a TCP port, without login).
The work itself happens in the sandboxes' own processes either way. A scheduler on the network
must be secured by whoever runs it (Dask's TLS settings: ``distributed.comm.tls`` in its
configuration): anyone who reaches an open scheduler runs code on its workers.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import nbformat

_RUNS: dict = {}   # per worker process: bundle digest -> ClassRun
_RUNS_LOCK = threading.Lock()


def _class_run(bundle, limits, unsafe):
    """The ClassRun for ``bundle`` in this worker process (made once, then reused)."""
    from coursetools import grading, judge
    key = hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()
    with _RUNS_LOCK:
        if key not in _RUNS:
            root = Path(tempfile.mkdtemp(prefix="grading-course-"))   # 0700: the worker's alone
            atexit.register(shutil.rmtree, root, ignore_errors=True)  # the checks go with the worker
            a, name = bundle["assignment"], bundle["notebook"]
            for folder in ("solutions", "exercises"):
                (root / folder / a).mkdir(parents=True)
                (root / folder / a / name).write_text(bundle["released"], encoding="utf-8")
            (root / "solutions" / a / judge.CHECKS_FILE).write_text(bundle["checks"], encoding="utf-8")
            _RUNS[key] = grading.ClassRun(a, root, unsafe=unsafe, limits=limits)
        return _RUNS[key]


def _forget_runs():
    """Close the class runs of this process and remove their course copies (checks included)."""
    with _RUNS_LOCK:
        runs = list(_RUNS.values())
        _RUNS.clear()
    for run in runs:
        run.close()
        shutil.rmtree(run.root, ignore_errors=True)


def _slot():
    """A sandbox slot (user id offset) for this worker process: its number in a LocalCluster."""
    try:
        from distributed import get_worker
        name = get_worker().name
        if isinstance(name, int) or str(name).isdigit():
            return int(name) % 64
    except Exception:
        pass
    return os.getpid() % 64


def grade_task(bundle, student, files, limits, unsafe=False):
    """Grade one student's ``files`` ({name: bytes}) on this worker; the judged result."""
    run = _class_run(bundle, limits, unsafe)
    folder = run.root / "submitted" / student / bundle["assignment"]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / Path(name).name).write_bytes(data)
    try:
        result = run.grade(student, _slot())
    finally:
        shutil.rmtree(run.root / "submitted" / student, ignore_errors=True)
    notebook = result.pop("notebook", None)
    result["notebook"] = nbformat.writes(notebook) if notebook is not None else None
    return result


def grade(bundle, submissions, cluster, workers, limits, unsafe=False):
    """Yield (student, result) as Dask finishes grading ``submissions`` ({student: files}).

    ``cluster``: "local" for a LocalCluster of ``workers`` processes, else a scheduler address."""
    from distributed import Client, LocalCluster, as_completed
    local = None
    if cluster == "local":
        # threads of this process, talking in memory: no port another user could connect to
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                             dashboard_address=None, worker_dashboard_address=None)
        client = Client(local)
    else:
        client = Client(cluster)
    try:
        futures = {client.submit(grade_task, bundle, student, files, limits, unsafe,
                                 key=f"grade-{bundle['assignment']}-{student}", pure=False): student
                   for student, files in submissions.items()}
        for future in as_completed(futures):
            student = futures[future]
            try:
                yield student, future.result()
            except Exception as exc:  # a worker lost or a task failed: this student only
                yield student, {"status": "not graded", "reason": f"the grading task failed on "
                                f"the cluster ({type(exc).__name__}: {str(exc)[:200]})",
                                "notes": [], "seconds": 0.0, "log": "", "scores": {}}
    finally:
        client.close()
        if local is not None:
            local.close()
            _forget_runs()
