"""The test kernels' profile: figures are drawn in full but sent without PNG, and a drawing error
still reaches the cell's outputs (where nbval would see it)."""
import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from coursetools import testkernels

pytestmark = pytest.mark.notebooks


def _run(tmp_path, *sources):
    env = testkernels.environment(tmp_path / "kernels", figures="check")
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    old = {k: os.environ.get(k) for k in list(env) + ["MPLBACKEND"]}
    os.environ.update(env, MPLBACKEND="module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=300).execute()
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
