"""A grading benchmark: a synthetic class graded serially and with several workers, side by side.

    python -m coursetools.bench_grading [N] [--workers W]     (or: make bench-grading N=100)

Makes a temporary copy of the course and a class of N submissions of ex01_neurons (about 70 %
correct, 15 % with realistic mistakes, 10 % broken — untouched or not valid JSON — and 5 % with a
cell that never ends, stopped at a 5 s cell limit), then runs the whole instructor cycle on it
twice, from a fresh gradebook each time: import → autograde → feedback → grade table, once with
one worker and once with W (default: the number of cores). It prints, for both, the seconds per
submission and in total for each step, and the speed-up; and checks that both grade tables agree.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from coursetools import course, demo, grading

A = demo.ASSIGNMENT
NB = demo.NOTEBOOK


def _class(root, folder, n):
    released = nbformat.read(Path(root) / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(Path(root) / "solutions" / A / NB, as_version=4)
    good = course.fill_with_solutions(released, solution)
    kinds = {"correct": nbformat.writes(good),
             "mistakes": nbformat.writes(demo._with(good, demo.MISTAKES)),
             "untouched": nbformat.writes(released),
             "invalid": nbformat.writes(good)[:4000],
             "hangs": nbformat.writes(demo._with(good, {"gates": "while True:\n    pass"}))}
    plan = ["correct"] * 14 + ["mistakes"] * 3 + ["untouched", "invalid"] + ["hangs"]  # per 20
    for i in range(n):
        kind = plan[i % len(plan)]
        (Path(folder) / f"s{i:04d}-{kind}.ipynb").write_text(kinds[kind], encoding="utf-8")


def _cycle(base, n, workers):
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        for name in ("solutions", "exercises"):
            shutil.copytree(base / name, root / name)
        shutil.copy(base / "nbgrader_config.py", root / "nbgrader_config.py")
        course.generate(A, root=root)  # the gradebook's assignment (not timed)
        inbox = root / "inbox"
        inbox.mkdir()
        _class(root, inbox, n)
        times = {}
        start = time.perf_counter()
        grading.import_folder(A, inbox, root=root)
        times["import"] = time.perf_counter() - start
        t = time.perf_counter()
        grading.autograde(A, root=root, workers=workers, quiet=True)
        times["autograde"] = time.perf_counter() - t
        t = time.perf_counter()
        grading.feedback(A, root=root)
        times["feedback"] = time.perf_counter() - t
        t = time.perf_counter()
        rows = grading.grade_table(A, root=root)
        times["grades"] = time.perf_counter() - t
        times["total"] = time.perf_counter() - start
        return times, [(r["student"], r["status"], r["score"]) for r in rows]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def overhead(repeats=5):
    """Seconds of one sandboxed run of a one-cell notebook (the fixed cost of every submission:
    sandbox, runner, kernel start and stop), best and median of ``repeats``."""
    from coursetools import judge, sandbox
    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    try:
        box = sandbox.Sandbox(judge.build_library(grading.LIB, work / "lib"))
        times = []
        notebook = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]))
        for k in range(repeats):
            scratch = box.prepare_scratch(work / f"s{k}")
            start = time.perf_counter()
            box.run([f"{sandbox.ENV_MOUNT}/bin/python", "-m", "selfcheck.runner", "--output-fd", "{fd}"],
                    scratch, channel=1 << 20, stdin=notebook.encode())
            times.append(time.perf_counter() - start)
        return min(times), sorted(times)[len(times) // 2]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    workers = grading.default_workers()
    if "--workers" in argv:
        k = argv.index("--workers")
        workers = int(argv[k + 1])
        del argv[k:k + 2]
    n = int(argv[0]) if argv else 100
    os.environ.setdefault("GRADING_CELL_SECONDS", "5")
    os.environ.setdefault("GRADING_SECONDS_PER_STUDENT", "120")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"grading benchmark: {n} submissions of {A} on {os.cpu_count()} cores "
          f"(load average {load:.1f} at the start), cell limit {os.environ['GRADING_CELL_SECONDS']} s")
    best, median = overhead()
    print(f"fixed cost of one submission (sandbox, runner, kernel start and stop): "
          f"{best:.2f} s best, {median:.2f} s median of 5")
    serial, rows_serial = _cycle(course.ROOT, n, 1)
    parallel, rows_parallel = _cycle(course.ROOT, n, workers)
    print(f"\n{'step':10s} {'1 worker':>22s} {f'{workers} workers':>22s} {'speed-up':>9s}")
    for step in ("import", "autograde", "feedback", "grades", "total"):
        a, b = serial[step], parallel[step]
        print(f"{step:10s} {a:9.1f} s {a / n:7.2f} s/sub {b:9.1f} s {b / n:7.2f} s/sub {a / b:8.2f}×")
    same = rows_serial == rows_parallel
    print(f"\nthe two grade tables are {'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
