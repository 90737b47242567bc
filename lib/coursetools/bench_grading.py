"""A grading benchmark: a synthetic class graded serially and with several workers, side by side.

    python -m coursetools.bench_grading [N] [--workers W]     (or: make bench-grading N=100)

Makes a temporary copy of the course and a class of N submissions of ex01_neurons (about 70 %
correct, 15 % with realistic mistakes, 10 % broken — untouched or not valid JSON — and 5 % with a
cell that never ends, stopped at the assignment's cell limit), then runs the whole instructor cycle on it
twice, from a fresh gradebook each time: import → autograde → feedback → grade table, once with
one worker and once with W (default: the number of cores). It prints, for both, the seconds per
submission and in total for each step, the speed-up and the CPU seconds each step cost the grading
process and nbgrader; then where a submission's time goes with W workers (in its sandbox, in the
grading process around it, writing the gradebook); and checks that both grade tables agree.
"""
from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from coursetools import course, demo, grading, judge, sandbox

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
    """The instructor's cycle on a fresh copy of the course: the seconds of each step, the grade
    table's rows and what explains the autograde step (see ``_explain``)."""
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        for name in ("solutions", "exercises"):
            shutil.copytree(base / name, root / name)
        shutil.copy(base / "nbgrader_config.py", root / "nbgrader_config.py")
        course.generate(A, root=root)  # the gradebook's assignment (not timed)
        inbox = root / "inbox"
        inbox.mkdir()
        _class(root, inbox, n)
        times, cpu = {}, {}
        start = time.perf_counter()
        for step, work in (("import", lambda: grading.import_folder(A, inbox, root=root)),
                           ("autograde", lambda: grading.autograde(A, root=root, workers=workers, quiet=True)),
                           ("feedback", lambda: grading.feedback(A, root=root, workers=workers)),
                           ("grades", lambda: grading.grade_table(A, root=root))):
            t, c = time.perf_counter(), _cpu()
            done = work()
            times[step], cpu[step] = time.perf_counter() - t, _cpu() - c
            if step == "autograde":
                report = done
            elif step == "grades":
                rows = done
        times["total"] = time.perf_counter() - start
        cpu["total"] = sum(cpu.values())
        return times, cpu, [(r["student"], r["status"], r["score"]) for r in rows], _explain(report)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _cpu():
    """CPU seconds of this process (all its threads) and of the subprocesses it has waited for
    (nbgrader's; a sandbox's own processes are not counted: they live in its namespaces)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _explain(report):
    """Where the autograde step's time goes, from its report: how many submissions ran in a
    sandbox, their mean seconds in the sandbox, in the grading process around it (checks before,
    judging, the judged notebook) and writing the gradebook, and how many hit a time limit."""
    ran = [r for r in report.values() if "sandbox_seconds" in r]
    mean = (lambda xs: sum(xs) / len(xs)) if ran else (lambda xs: 0.0)
    return {"submissions": len(report), "sandboxed": len(ran),
            "sandbox": mean([r["sandbox_seconds"] for r in ran]),
            "grader": mean([r["seconds"] - r["sandbox_seconds"] for r in ran]),
            "gradebook": mean([r.get("record_seconds", 0.0) for r in ran]),
            "interrupted": sum(any("interrupted" in n for n in r["notes"]) for r in report.values())}


def overhead(repeats=5):
    """Seconds of one sandboxed run of a one-cell notebook (the fixed cost of every submission:
    sandbox, runner, shell start and stop), best and median of ``repeats``."""
    from coursetools import sandbox
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
    os.environ.setdefault("GRADING_SECONDS_PER_STUDENT", "120")
    cell = (os.environ.get("GRADING_CELL_SECONDS") or judge.load(A, course.ROOT).cell_seconds
            or sandbox.Limits().cell_seconds)
    print(f"grading benchmark: {n} submissions of {A} on {os.cpu_count()} cores "
          f"(load average {_load()} at the start), cell limit {cell} s")
    best, median = overhead()
    print(f"fixed cost of one submission (sandbox, runner, shell start and stop): "
          f"{best:.2f} s best, {median:.2f} s median of 5")
    runs = {1: _cycle(course.ROOT, n, 1), workers: _cycle(course.ROOT, n, workers)}
    (serial, serial_cpu, rows_serial, _), (parallel, parallel_cpu, rows_parallel, explained) = \
        runs[1], runs[workers]
    print(f"\n{'step':10s} {'1 worker':>22s} {f'{workers} workers':>22s} {'speed-up':>9s} "
          f"{'CPU s, 1 / ' + str(workers):>16s}")
    for step in ("import", "autograde", "feedback", "grades", "total"):
        a, b = serial[step], parallel[step]
        print(f"{step:10s} {a:9.1f} s {a / n:7.2f} s/sub {b:9.1f} s {b / n:7.2f} s/sub {a / b:8.2f}× "
              f"{serial_cpu[step]:7.1f} / {parallel_cpu[step]:.1f}")
    e = explained
    print(f"\nautograde with {workers} workers: {e['sandboxed']} of {e['submissions']} submissions ran "
          f"in a sandbox ({e['submissions'] - e['sandboxed']} were refused before: not readable); "
          f"each, on average, {e['sandbox']:.2f} s in its sandbox (the fixed cost above, then its "
          f"cells and the checks' calls; {e['interrupted']} reached the cell limit), "
          f"{e['grader']:.2f} s in the grading process around it (checks before, judging, the "
          f"judged notebook) and {e['gradebook']:.2f} s writing the gradebook; "
          f"{workers} at a time. CPU s counts the grading process and nbgrader's (feedback), not "
          f"the sandboxes'. Load average at the end: {_load()}")
    same = rows_serial == rows_parallel
    print(f"\nthe two grade tables are {'identical' if same else 'DIFFERENT'}")
    return 0 if same else 1


def _load():
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


if __name__ == "__main__":
    sys.exit(main())
