"""Tests of nnlib.plotting: every figure draws under Agg on small inputs, has a title and labelled
axes, uses the course palette, raises no warnings, and rejects bad input with a clear message."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from nnlib import data, plotting, style  # noqa: E402


pytestmark = pytest.mark.filterwarnings("error")     # any warning (e.g. a missing glyph) fails a test


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_warnings_do_fail_here():
    with pytest.raises(UserWarning):
        warnings.warn("this must become an error", UserWarning)


def _labelled(ax):
    assert ax.get_title(), "missing title"
    assert ax.get_xlabel(), "missing x label"
    assert ax.get_ylabel(), "missing y label"


def _render(fig):
    fig.canvas.draw()                          # lay out text: catches missing glyph warnings


# ----------------------------------------------------------------------------------------------
def test_decision_boundary_with_labels_probabilities_and_scores():
    X, y = data.blobs(15, centers=3, seed=0)
    centres = np.array([[0.0, 2.5], [-2.17, -1.25], [2.17, -1.25]])
    scores = lambda P: -((P[:, None, :] - centres) ** 2).sum(axis=2)          # (M, 3)
    ax = plotting.decision_boundary(scores, X, y, title="Nearest centre", resolution=40)
    _labelled(ax)
    assert ax.get_title() == "Nearest centre"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    colours = [to_hex(c.get_facecolor()[0]) for c in ax.collections if c.get_label().startswith("class")]
    assert colours == [c.lower() for c in style.COLORS[:3]]
    _render(ax.figure)
    # one probability per row (sigmoid output) and plain ±1 labels (perceptron) also work
    X2, y2 = data.blobs(10, centers=2, seed=1)
    ax = plotting.decision_boundary(lambda P: 1 / (1 + np.exp(-P[:, 1:2])), X2, y2, resolution=30)
    _labelled(ax)
    ax = plotting.decision_boundary(lambda P: np.where(P[:, 1] > 0, 1, -1), X2, 2 * y2 - 1,
                                    resolution=30, class_names={-1: "no", 1: "yes"})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no", "yes"]
    with pytest.raises(ValueError, match="none for class -1"):
        plotting.decision_boundary(lambda P: np.where(P[:, 1] > 0, 1, -1), X2, 2 * y2 - 1,
                                   resolution=10, class_names=["no", "yes"])
    # float32 data work too
    ax = plotting.decision_boundary(lambda P: (P[:, 1] > 0).astype(np.float32), X2.astype(np.float32),
                                    y2, resolution=10)
    _labelled(ax)


def test_predicted_labels_rules():
    np.testing.assert_array_equal(plotting.predicted_labels(np.array([[0.1, 0.9], [0.8, 0.2]])), [1, 0])
    np.testing.assert_array_equal(plotting.predicted_labels(np.array([[0.7], [0.2]])), [1, 0])
    np.testing.assert_array_equal(plotting.predicted_labels(np.array([2.0, 0.0])), [2, 0])


def test_decision_boundary_bad_input():
    with pytest.raises(ValueError, match=r"\(5, 3\)"):
        plotting.decision_boundary(lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(ValueError, match="4 labels but there are 5"):
        plotting.decision_boundary(lambda P: P[:, 0], np.zeros((5, 2)), np.zeros(4, int))
    with pytest.raises(ValueError, match="shape"):
        plotting.decision_boundary(lambda P: np.zeros((len(P), 2, 2)), np.zeros((5, 2)), np.zeros(5, int),
                                   resolution=10)


# ----------------------------------------------------------------------------------------------
HISTORY = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
           "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7]}


def test_curves_one_panel_per_metric():
    fig = plotting.curves(HISTORY)
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("loss", "accuracy")):
        _labelled(ax)
        assert metric in ax.get_title() and ax.get_xlabel() == "epoch"
        train, val = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), HISTORY[metric])
        np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_" + metric])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    _render(fig)


def test_curves_single_metric_on_given_axes_and_history_object():
    class History:                              # anything with a .history dict
        history = {"loss": [3.0, 2.0, 1.5, 1.2]}
    fig, ax = plt.subplots()
    out = plotting.curves(History(), ax=ax, title="Training loss")
    assert out is ax and ax.get_title() == "Training loss"
    _labelled(ax)
    fig, ax = plt.subplots()
    assert plotting.curves(HISTORY, ax) is ax and ax.get_ylabel() == "loss"   # agreed order: (history, ax)
    ax = plotting.curves(HISTORY, metric="accuracy")
    assert ax.get_ylabel() == "accuracy" and len(ax.get_lines()) == 2


def test_curves_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        plotting.curves({})
    with pytest.raises(ValueError, match="'f1'.*keys"):
        plotting.curves(HISTORY, metric="f1")
    with pytest.raises(ValueError, match=r"different lengths \[2, 3\]"):
        plotting.curves({"loss": [1, 2, 3], "val_loss": [1, 2]})


# ----------------------------------------------------------------------------------------------
def test_activation_gallery():
    names = ["sigmoid", "tanh", "relu", "leaky_relu", "threshold"]
    fig = plotting.activation_gallery(names, params={"sigmoid": {"a": 2.0}})
    axes = np.array(fig.axes).reshape(2, len(names))
    assert fig.get_suptitle()
    for ax in axes.ravel():
        _labelled(ax)
    # sigmoid with a = 2: ψ(0) = ½ and ψ′(0) = a/4 = ½
    v, s = axes[0, 0].get_lines()[0].get_data()
    _, ds = axes[1, 0].get_lines()[0].get_data()
    i = int(np.argmin(np.abs(v)))
    assert v[i] == 0 and s[i] == pytest.approx(0.5) and ds[i] == pytest.approx(0.5)
    assert "a=2" in axes[0, 0].get_title()
    _render(fig)
    with pytest.raises(ValueError, match="'swish'"):
        plotting.activation_gallery(["swish"])
    with pytest.raises(ValueError, match="tanh"):
        plotting.activation_gallery(["relu"], params={"tanh": {}})


# ----------------------------------------------------------------------------------------------
def test_network_diagram_plain_and_weighted():
    ax = plotting.network_diagram([3, 4, 2])
    _labelled(ax)
    assert ax.get_title() == "Network 3–4–2"
    lines = ax.collections[0]
    assert len(lines.get_segments()) == 3 * 4 + 4 * 2
    assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == 3 + 4 + 2   # one circle per unit
    W1 = np.array([[1.0, -2.0], [0.5, 0.0]])
    W2 = np.array([[3.0], [-1.0]])
    ax = plotting.network_diagram([2, 2, 1], [W1, W2], annotate=True, title="2-2-1")
    _labelled(ax)
    lines = ax.collections[0]
    np.testing.assert_array_equal(lines.get_array(), [1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    assert lines.norm.vmin == -3.0 and lines.norm.vmax == 3.0                       # symmetric
    assert lines.get_cmap().name == style.DIVERGING_CMAP
    widths = lines.get_linewidths()
    assert widths[4] > widths[0] > widths[3]                                          # |3| > |1| > |0|
    assert {"1.00", "-2.00", "3.00"} <= {t.get_text() for t in ax.texts}
    _render(ax.figure)


def test_network_diagram_bad_weights():
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(3, 2\).*W\.T"):
        plotting.network_diagram([2, 3], [np.zeros((3, 2))])
    with pytest.raises(ValueError, match="2 layers need 1 weight"):
        plotting.network_diagram([2, 3], [np.zeros((2, 3)), np.zeros((3, 1))])
    with pytest.raises(ValueError, match=r"\[2, 0\]"):
        plotting.network_diagram([2, 0])
    with pytest.raises(ValueError, match=r"\[2, 1.5\]"):
        plotting.network_diagram([2, 1.5])


# ----------------------------------------------------------------------------------------------
def test_loss_surface_with_trajectories():
    f = lambda w1, w2: w1 ** 2 + 4 * w2 ** 2
    path = np.array([[2.0, 1.0], [1.0, 0.2], [0.5, 0.05]])
    ax = plotting.loss_surface(f, (-3, 3), (-2, 2), {"SGD": path, "momentum": path * 0.5},
                               minimum=(0, 0), resolution=30)
    _labelled(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "momentum", "minimum"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xydata(), path)
    _render(ax.figure)
    # f written for one parameter vector, with math functions, on log-spaced levels
    import math
    ax = plotting.loss_surface(lambda w: math.exp(w[0]) + w[1] ** 2, (-1, 1), (-1, 1), [path],
                               resolution=12, log_levels=True, title="Vector form")
    assert ax.get_title() == "Vector form"


def test_loss_surface_bad_input():
    with pytest.raises(ValueError, match=r"\(3, -3\)"):
        plotting.loss_surface(lambda a, b: a + b, (3, -3), (0, 1))
    with pytest.raises(ValueError, match=r"'bad'.*\(3,\)"):
        plotting.loss_surface(lambda a, b: a * a + b * b, (-1, 1), (-1, 1), {"bad": np.zeros(3)}, resolution=10)


# ----------------------------------------------------------------------------------------------
def test_confusion_matrix_counts_and_figure():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2])
    C = plotting.confusion_counts(y_true, y_pred)
    np.testing.assert_array_equal(C, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    ax = plotting.confusion_matrix(y_true, y_pred, class_names=["cat", "dog", "fox"])
    _labelled(ax)
    assert "accuracy 71.4%" in ax.get_title()                      # 5 of 7 on the diagonal
    assert [t.get_text() for t in ax.texts] == [str(c) for c in C.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "fox"]
    _render(ax.figure)
    ax = plotting.confusion_matrix(y_true, y_pred, n_classes=4, normalize=True)
    assert len(ax.texts) == 16
    with pytest.raises(ValueError, match="label 3.*n_classes=3"):
        plotting.confusion_counts([0, 1], [0, 3], n_classes=3)
    with pytest.raises(ValueError, match="2 labels but there are 3"):
        plotting.confusion_counts([0, 1, 1], [0, 1])


# ----------------------------------------------------------------------------------------------
def test_image_grid_digits_with_predictions():
    X, y = data.load_digits()
    pred = y[:12].copy()
    pred[3] = 5
    fig = plotting.image_grid(X[:12], y[:12], pred, ncols=6, title="Digits: predicted vs true")
    assert fig.get_suptitle() == "Digits: predicted vs true"
    assert "predicted (true)" in fig._supxlabel.get_text()
    tiles = fig.axes
    assert len(tiles) == 12
    assert tiles[3].get_title() == "5 (true 3) ✗" and tiles[0].get_title() == "0 ✓"
    assert to_hex(tiles[3].title.get_color()) == style.PALETTE["vermillion"].lower()
    assert tiles[0].get_images()[0].get_array().shape == (8, 8)
    _render(fig)


def test_image_grid_shapes():
    images, y = data.load_digits(as_images=True)
    fig = plotting.image_grid(images[:5, None], labels=y[:5], ncols=3)      # (N, 1, H, W)
    assert [ax.get_title() for ax in fig.axes[:5]] == [str(v) for v in y[:5]]
    assert not fig.axes[5].axison                                           # the spare tile is blank
    fig = plotting.image_grid(images[:3])
    assert "8×8" in fig._supxlabel.get_text()
    with pytest.raises(ValueError, match="not square: 10"):
        plotting.image_grid(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="NaN"):
        plotting.image_grid(np.full((1, 4, 4), np.nan))


def test_no_function_calls_show(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("plt.show() called by the library")
    monkeypatch.setattr(plt, "show", boom)
    X, y = data.xor(5)
    plotting.decision_boundary(lambda P: (P.sum(axis=1) > 1).astype(int), X, y, resolution=20)
    plotting.curves(HISTORY)
    plotting.activation_gallery(["relu"])
    plotting.network_diagram([2, 1])
    plotting.loss_surface(lambda a, b: a * a + b * b, (-1, 1), (-1, 1), resolution=10)
    plotting.confusion_matrix(y, y)
    plotting.image_grid(np.zeros((2, 4)))


# ----------------------------------------------------------------------------------------------
# nnlib.widgets
# ----------------------------------------------------------------------------------------------
def test_explorer_builds_sliders_from_tuples_and_defaults():
    import ipywidgets as ipw
    from nnlib import widgets
    calls = []

    def draw(a=1.0, n=3, name="x", flag=False):
        calls.append((a, n, name, flag))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, a])
        ax.set(title="t", xlabel="x", ylabel="y")
        return ax

    w = widgets.explorer(draw, a=(0.1, 5.0, 0.1), n=(1, 10), name=["x", "y"], flag=False)
    assert isinstance(w, ipw.interactive)
    a, n, name, flag = w.children[:4]
    assert isinstance(a, ipw.FloatSlider) and a.value == 1.0 and a.continuous_update is False
    assert isinstance(n, ipw.IntSlider) and n.value == 3               # start = draw's default
    assert isinstance(name, ipw.Dropdown) and isinstance(flag, ipw.Checkbox)
    assert calls == [(1.0, 3, "x", False)]                            # drawn once on creation
    a.value = 2.5
    assert calls[-1] == (2.5, 3, "x", False)
    assert w.result is None                                           # the Axes is not displayed
    assert plt.get_fignums() == []                                    # each figure shown and closed
    given = ipw.FloatSlider(min=0, max=2, value=0.5)
    w = widgets.explorer(draw, a=given)
    assert w.children[0] is given and calls[-1][0] == 0.5


@pytest.mark.parametrize("controls, error, words", [
    (dict(b=(0, 1)), ValueError, r"\['b'\] are not parameters"),
    (dict(a=(1.0, 0.0)), ValueError, "min=1.0, max=0.0"),
    (dict(a=(0.0, 1.0, 0.1, 5.0)), ValueError, "5.0 lies outside"),
    (dict(a=(0.0, 1.0, -0.1)), ValueError, "step.*-0.1"),
    (dict(a="big"), TypeError, "'big'"),
    ({}, ValueError, "at least one control"),
])
def test_explorer_bad_controls(controls, error, words):
    from nnlib import widgets
    with pytest.raises(error, match=words):
        widgets.explorer(lambda a=0.5: None, **controls)


@pytest.mark.parametrize("name, kw", [("sigmoid", {"a": 2.0}), ("tanh", {}), ("relu", {"a": 0.5}),
                                      ("stochastic", {"T": 0.5}), ("leaky_relu", {})])
def test_draw_activation_static(name, kw):
    from nnlib import widgets
    fig = widgets.draw_activation(name, **kw)
    left, right = fig.axes
    for ax in (left, right):
        _labelled(ax)
    if name == "stochastic":
        _render(fig)
    if name == "sigmoid":                     # σ(2v): value ½ and slope a/4 = ½ at v = 0
        main = lambda ax: next(ln for ln in ax.get_lines() if "a = 2" in ln.get_label() or "ψ′" in ln.get_label())
        v, y = main(left).get_data()
        _, dy = main(right).get_data()
        i = int(np.argmin(np.abs(v)))
        assert y[i] == pytest.approx(0.5) and dy[i] == pytest.approx(0.5)
        assert "a = 2" in left.get_title()


def test_draw_activation_bad_input():
    from nnlib import widgets
    with pytest.raises(ValueError, match="'swish'"):
        widgets.draw_activation("swish")
    with pytest.raises(ValueError, match="a=-1"):
        widgets.draw_activation("sigmoid", a=-1)
    with pytest.raises(ValueError, match="T=0"):
        widgets.draw_activation("stochastic", T=0)


def test_descent_path_matches_closed_form():
    from nnlib import widgets
    # L(w) = (w − 1)²: w_k − 1 = (1 − 2η)^k (w_0 − 1), w_0 = −2
    for lr in (0.1, 0.5, 0.8):
        path = widgets.descent_path(lr, 10)
        np.testing.assert_allclose(path[:, 0] - 1, (1 - 2 * lr) ** np.arange(11) * -3.0, atol=1e-12)
    path = widgets.descent_path(1.0, 4)                 # η = 1 bounces between −2 and 4
    np.testing.assert_allclose(path[:, 0], [-2, 4, -2, 4, -2])
    path = widgets.descent_path(3.0, 1000)              # diverges: stops once |w| > 10⁶
    assert path.shape[0] < 1001 and np.abs(path[-1]).max() > 1e6 and np.all(np.isfinite(path))
    path = widgets.descent_path(0.1, 3, "2d")           # w ← w − η (w₁, 8 w₂)
    np.testing.assert_allclose(path[1], [-4 + 0.4, 2 - 0.1 * 16])
    with pytest.raises(ValueError, match="'3d'"):
        widgets.descent_path(0.1, 3, "3d")
    with pytest.raises(ValueError, match="lr=-0.1"):
        widgets.descent_path(-0.1, 3)


@pytest.mark.parametrize("lr, surface, verdict", [
    (0.1, "1d", "converges"), (0.8, "1d", "zigzagging"), (1.0, "1d", "never settles"),
    (1.2, "1d", "diverges"), (0.2, "2d", "zigzagging"), (0.3, "2d", "diverges"), (0.02, "2d", "slowly"),
])
def test_draw_learning_rate_static(lr, surface, verdict):
    from nnlib import widgets
    fig = widgets.draw_learning_rate(lr, 25, surface)
    left, right = fig.axes[:2]
    for ax in (left, right):
        _labelled(ax)
    assert verdict in left.get_title() and f"η = {lr:g}" in left.get_title()
    if surface == "2d" and verdict == "diverges":
        _render(fig)


def test_explorer_in_a_headless_kernel_writes_nothing_to_stderr():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nfrom nnlib import style, widgets\nstyle.use()",
        "w = widgets.explorer(widgets.draw_learning_rate, lr=(0.0, 1.2, 0.01), steps=(1, 50),\n"
        "                     surface=['1d', '2d'])\nw.children[0].value = 0.9\nw",
        "%matplotlib agg\nwidgets.explorer(widgets.draw_activation, a=(0.1, 5.0, 0.1))",
        "widgets.draw_activation()\nplt.close('all')",
    )]
    from coursetools.execute import ShortWaitKernelManager   # no missed wake-up after a widget cell
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                            kernel_manager_class=ShortWaitKernelManager).execute()
    outputs = [o for c in nb.cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs) == 2
