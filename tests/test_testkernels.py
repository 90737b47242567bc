"""The test kernels' profile: figures are drawn in full but sent without PNG, and a drawing error
still reaches the cell's outputs (where nbval would see it); the kernels start without a debugger
but with all the lectures import; nbval starts them with the test kernels' manager and still
finds stored outputs equal, or different."""
import os
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook, new_output

from coursetools import execute, testkernels

pytestmark = pytest.mark.notebooks


def _run(tmp_path, *sources):
    env = testkernels.environment(tmp_path / "kernels", figures="check")
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    old = {k: os.environ.get(k) for k in list(env) + ["MPLBACKEND"]}
    os.environ.update(env, MPLBACKEND="module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=300,
                       kernel_manager_class=execute.ShortWaitKernelManager).execute()
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return nb


def test_a_shown_figure_gives_its_text_and_no_png(tmp_path):
    nb = _run(tmp_path, "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(6, 3))\n"
                        "ax.plot([0, 1], [1, 0])\nax.set_title('$x^2$')\nplt.show()")
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    assert outputs[0].data == {"text/plain": "<Figure size 600x300 with 1 Axes>"}


def test_a_drawing_error_reaches_the_outputs(tmp_path):
    nb = _run(tmp_path, "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                        "ax.set_title(r'$\\frac{1}{$')\nplt.show()")
    errors = [o for o in nb.cells[0].outputs if o.output_type == "stream" and o.name == "stderr"]
    assert errors and "ParseSyntaxException" in errors[0].text


def test_the_config_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="figures must be one of"):
        testkernels.kernel_config("fast")


def test_test_kernels_start_without_a_debugger_and_import_what_lectures_need(tmp_path):
    nb = _run(tmp_path, "import sys\n"
                        "print(sys.modules.get('debugpy', 'absent'))\n"
                        "features = get_ipython().kernel.kernel_info['supported_features']\n"
                        "print('debugger' in features)\n"
                        "import numpy, matplotlib.pyplot, nnlib, selfcheck.practice")
    outputs = nb.cells[0].outputs
    assert [(o.output_type, o.get("text")) for o in outputs] == [("stream", "None\nFalse\n")]


def test_nbval_starts_its_kernels_with_the_test_kernel_manager():
    """The course's plugin (loaded by this run) gives nbval the manager, which makes the client."""
    from nbval import kernel
    assert kernel.KernelManager is testkernels.KernelManagerForTests
    assert testkernels.KernelManagerForTests().client_factory is testkernels.KernelClientForTests


def test_the_test_kernel_manager_starts_runs_and_stops_a_kernel(tmp_path):
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager
    manager = testkernels.KernelManagerForTests(kernel_name=CURRENT_ENV_KERNEL_NAME,
                                                kernel_spec_manager=NbvalKernelspecManager())
    manager.start_kernel(cwd=str(tmp_path))
    outputs = []
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive("print(6 * 7)", timeout=60, output_hook=outputs.append)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == ["42\n"]
    assert not manager.is_alive()


#: Cells and the outputs stored for them, as if executed in JupyterLab (the PNG is never compared).
LECTURE_LIKE = [
    ("print(2 + 2)", [new_output("stream", name="stdout", text="4\n")]),
    ("import matplotlib.pyplot as plt\n"
     "fig, ax = plt.subplots(figsize=(6, 3))\n"
     "ax.plot([0, 1])\n"
     "plt.show()",
     [new_output("display_data", data={"text/plain": "<Figure size 600x300 with 1 Axes>",
                                      "image/png": "iVBORw0KGgo="})]),
    ("import sys\nprint(sys.modules.get('debugpy', 'absent'))",
     [new_output("stream", name="stdout", text="None\n")]),
]


def test_nbval_with_the_test_kernels_passes_a_notebook_with_its_stored_outputs(tmp_path):
    """nbval, with the course's plugin (test kernels, their manager), compares a small notebook's
    stored text outputs and finds them equal; a wrong stored output still fails."""
    cells = [new_code_cell(source, outputs=outs, execution_count=i + 1)
             for i, (source, outs) in enumerate(LECTURE_LIKE)]
    nbformat.write(new_notebook(cells=cells), tmp_path / "good.ipynb")
    cells[0].outputs[0].text = "5\n"
    nbformat.write(new_notebook(cells=cells), tmp_path / "wrong.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "coursetools.pytest_plugin", "--nbval", "--nbval-current-env",
                           "good.ipynb", "wrong.ipynb"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert "1 failed, 5 passed" in done.stdout, done.stdout + done.stderr
    assert "FAILED wrong.ipynb::Cell 0" in done.stdout, done.stdout


def test_nbval_compares_the_lectures_without_drawing_and_everything_else_draws():
    """The course's plugin (loaded by this run) picks a kernel profile before each test: the
    lectures' nbval cells get the "compare" profile (figures not drawn), every other test the
    "draw" one, in which a drawing error reaches the outputs (test above)."""
    from pathlib import Path

    from coursetools import pytest_plugin

    def profile_for(path, module):
        item = type("Item", (), {"__module__": module})()
        item.path = Path(path)
        pytest_plugin.pytest_runtest_setup(item)
        return os.environ["IPYTHONDIR"]

    profiles = pytest_plugin.PROFILES
    saved = os.environ.get("IPYTHONDIR")
    try:
        assert profile_for("/c/lectures/06_perceptron.ipynb", "nbval.plugin") == profiles["compare"]
        assert profile_for("/c/solutions/ex01/ex01.ipynb", "nbval.plugin") == profiles["draw"]
        assert profile_for("/c/tests/test_lecture_exercises.py", "_pytest.python") == \
            profiles["draw"]
    finally:
        os.environ["IPYTHONDIR"] = saved
    config = "profile_default/ipython_kernel_config.py"
    assert testkernels.FIGURES["skip"] in (Path(profiles["compare"]) / config).read_text()
    assert testkernels.FIGURES["check"] in (Path(profiles["draw"]) / config).read_text()
