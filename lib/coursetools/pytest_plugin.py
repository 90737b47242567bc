"""pytest plugin of the course (loaded by pyproject.toml's addopts for every test run).

* Notebook kernels started by nbval and by the grading tests must not inherit a matplotlib back
  end from the calling shell: they use Jupyter's inline one, as in JupyterLab, so their figure
  outputs match the committed lectures. The test process itself draws with Agg.
* Kernels do their linear algebra on one thread (SINGLE_THREAD), as when the lectures were
  executed, so that results print the same on any machine.
* Kernels draw every figure they show but do not turn it into a PNG (coursetools.testkernels):
  nbval compares text outputs only, and rasterising was half of the lectures' run time. nbval's
  pass over the lectures does not draw them at all; the lectures' figures are drawn when the
  lectures run with their worked answers, in the same test run (``_test_kernels``).
* Kernels start without a debugger, and nbval starts and stops them without two fixed waits of
  jupyter_client's (0.2 s after a kernel is ready, 0.1 s after it is killed): about 0.5 s less
  per lecture (coursetools.testkernels).
* The time of each lecture's cells is added up and reported at the end of the run beside the
  lecture's budget (COURSE.md: "each runs top to bottom in seconds"). The budget is a figure to
  watch, not a pass/fail limit: a shared, busy machine can make any lecture slower for a while.
  Only a lecture that takes HANG_FACTOR times its budget fails the run, since that is a hang or a
  real regression, not load.
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import matplotlib
import pytest

#: Linear algebra on one thread in notebook kernels: sums are then added in the same order on
#: every machine whatever its number of cores, so printed results match the committed outputs.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

os.environ.pop("MPLBACKEND", None)
matplotlib.use("Agg")
os.environ.setdefault("NNLIB_QUIET", "1")
os.environ.update(SINGLE_THREAD)


def lecture_budget(name):
    """Seconds a lecture may take to run its cells: 10 for 00–09, 15 for 10–17, 20 for 18 on."""
    number = int(name[:2]) if name[:2].isdigit() else 0
    return 10.0 if number <= 9 else 15.0 if number <= 17 else 20.0


_lecture_seconds: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.startswith("lectures/") and path.endswith(".ipynb") and report.when == "call":
        _lecture_seconds[Path(path).name] += report.duration


#: A lecture this many times over its budget fails the run (a hang, not a busy machine).
HANG_FACTOR = 6.0


def over_budget():
    """Lectures over their budget in this run: {name: seconds} (reported, not failed)."""
    return {n: s for n, s in _lecture_seconds.items() if s > lecture_budget(n)}


def hanging():
    """Lectures that took HANG_FACTOR times their budget or more: {name: seconds} (these fail)."""
    return {n: s for n, s in _lecture_seconds.items() if s > HANG_FACTOR * lecture_budget(n)}


def pytest_terminal_summary(terminalreporter):
    if not _lecture_seconds:
        return
    tr = terminalreporter
    tr.section("lecture run times (cells only, slowest first)")
    for name, seconds in sorted(_lecture_seconds.items(), key=lambda kv: -kv[1])[:8]:
        flag = "  OVER BUDGET" if seconds > lecture_budget(name) else ""
        tr.write_line(f"{seconds:6.1f} s  (budget {lecture_budget(name):4.0f} s)  {name}{flag}")
    for name, seconds in over_budget().items():
        tr.write_line(f"note: {name} ran its cells in {seconds:.1f} s, over its budget of "
                      f"{lecture_budget(name):.0f} s (reported only: the machine may be busy)")
    for name, seconds in hanging().items():
        tr.write_line(f"FAILED: {name} ran its cells in {seconds:.1f} s, {HANG_FACTOR:g} times its "
                      f"budget of {lecture_budget(name):.0f} s or more: a hang or a regression",
                      red=True)


def pytest_sessionfinish(session, exitstatus):
    if hanging() and session.exitstatus == 0:
        session.exitstatus = 1


# ----------------------------------------------------------------------------------------------
# Markers, so that a developer can pick one kind of test: pytest -m grading, -m "not notebooks"…
# ----------------------------------------------------------------------------------------------
MARKERS = {
    "notebooks": "executes notebooks (lectures and instructor notebooks with nbval, student notebooks)",
    "grading": "collects submissions and grades them through the sandbox and the judge",
    "browser": "drives JupyterLab in Chromium",
    "slow": "builds or serves something whole (Binder's configuration, the student edition, make lab, "
            "the course on a JupyterHub)",
}


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    _test_kernels(config)


#: The two kernel profiles of a test run, as IPYTHONDIR values (set by ``_test_kernels``).
PROFILES = {}


def _test_kernels(config):
    """Notebook kernels started by this run use test-kernel profiles (coursetools.testkernels),
    without a debugger, started and stopped by testkernels.KernelManagerForTests (no fixed 0.2 s
    wait after a kernel is ready nor 0.1 s after it is killed).

    * "draw" (the default for every kernel): each figure a cell shows gets matplotlib's whole
      draw pass but no PNG, so a drawing error or warning shows in the cell's outputs.
    * "compare", for nbval's pass over the lectures only: figures are not drawn at all, a third
      of the lectures' CPU time. nbval compares text outputs, which are the same either way
      (``<Figure size ... with N Axes>`` included). Every lecture figure is still drawn in the
      same test run: tests/test_lecture_exercises.py executes each lecture with its worked
      answers in a "draw" kernel and fails on any output to stderr.
    """
    from coursetools import testkernels
    root = Path(str(config.rootpath))
    cache = root / ".cache" / "test-kernels"
    draw = testkernels.environment(cache / "draw", figures="check")
    PROFILES["draw"] = draw["IPYTHONDIR"]
    PROFILES["compare"] = testkernels.environment(cache / "compare", figures="skip")["IPYTHONDIR"]
    os.environ.update(draw)
    if not hasattr(config, "workerinput"):  # the controlling process, before any worker starts
        testkernels.compile_library(root / "lib")
    _nbval_kernel_manager(testkernels.KernelManagerForTests)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before each test (and so before nbval starts a notebook's kernel, at its first cell):
    the "compare" profile for nbval's cells of a lecture, the "draw" profile for anything else."""
    if PROFILES:
        lecture_cell = (type(item).__module__.startswith("nbval")
                        and Path(item.path).parent.name == "lectures")
        os.environ["IPYTHONDIR"] = PROFILES["compare" if lecture_cell else "draw"]


def _nbval_kernel_manager(manager_class):
    """Make nbval start its kernels with ``manager_class``: nbval.kernel.start_new_kernel calls
    the KernelManager named in its module (jupyter_client's). Nothing changes if nbval is not
    installed or no longer names a KernelManager there."""
    try:
        from nbval import kernel
    except ImportError:
        return
    if hasattr(kernel, "KernelManager"):
        kernel.KernelManager = manager_class


def _kind(path):
    path = Path(str(path))
    name = path.name
    if path.suffix == ".ipynb" or name in ("test_exercise_notebooks.py", "test_static_html.py"):
        return "notebooks"
    if name.startswith("test_grading_") or name in ("test_instructor_workflow.py", "test_collect.py"):
        return "grading"
    if name == "test_browser.py":
        return "browser"
    if name in ("test_binder.py", "test_student_edition.py", "test_environment.py", "test_hub.py"):
        return "slow"
    return None


def pytest_collection_modifyitems(config, items):
    import pytest
    for item in items:
        kind = _kind(item.fspath)
        if kind:
            item.add_marker(getattr(pytest.mark, kind))
        if Path(str(item.fspath)).name == "test_hub.py":  # it drives Chromium too
            item.add_marker(pytest.mark.browser)
