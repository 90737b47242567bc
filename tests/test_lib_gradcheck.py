"""Tests of nnlib.gradcheck: it must agree with gradients we know, and catch ones that are wrong."""
import numpy as np
import pytest

from nnlib import gradcheck as gc


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(3,), (2, 4), (2, 3, 2)])
def test_numerical_gradient_of_known_functions(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    A = rng.standard_normal(shape)
    # f(x) = Σ x²  → ∇f = 2x;  f(x) = Σ sin(x)·A → ∇f = cos(x)·A;  f(x) = Σ exp(x) → exp(x)
    cases = [
        (lambda: float(np.sum(x ** 2)), lambda: 2 * x),
        (lambda: float(np.sum(np.sin(x) * A)), lambda: np.cos(x) * A),
        (lambda: float(np.sum(np.exp(x))), lambda: np.exp(x)),
    ]
    before = x.copy()
    for f, exact in cases:
        g = gc.numerical_gradient(f, x)
        assert g.shape == x.shape
        assert gc.rel_error(g, exact()) < 1e-8          # bound: correct gradient in float64
    np.testing.assert_array_equal(x, before)            # x restored exactly


def test_numerical_gradient_of_quadratic_form_by_hand():
    # f(x) = x0² + x0·x1 + x1² (lecture 03): ∂f/∂x0 = 2x0 + x1, ∂f/∂x1 = x0 + 2x1.
    x = np.array([1.0, 2.0])
    f = lambda: float(x[0] ** 2 + x[0] * x[1] + x[1] ** 2)
    g = gc.numerical_gradient(f, x)
    np.testing.assert_allclose(g, [4.0, 5.0], rtol=0, atol=1e-9)   # 2·1 + 2 = 4, 1 + 2·2 = 5


def test_rel_error_values():
    assert gc.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    # max |a − b| = 0.5; max(|a| + |b|) = 2 + 2.5 = 4.5  → 0.5 / 4.5
    assert gc.rel_error([1.0, 2.0], [1.0, 2.5]) == pytest.approx(0.5 / 4.5)
    assert gc.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gc.rel_error([np.nan], [1.0]) == float("inf")
    with pytest.raises(ValueError, match=r"\(2,\) vs \(3,\)"):
        gc.rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_rejects_non_float_arrays():
    with pytest.raises(TypeError, match="float ndarray"):
        gc.numerical_gradient(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="int64"):
        gc.numerical_gradient(lambda: 0.0, np.array([1, 2]))


def _quadratic_problem(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    X = rng.standard_normal((5, 3))
    Y = rng.standard_normal((5, 2))
    loss = lambda: float(0.5 * np.sum((X @ W + b - Y) ** 2))
    R = X @ W + b - Y
    return loss, {"W": W, "b": b}, {"W": X.T @ R, "b": R.sum(axis=0)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check_parameters_passes_a_correct_gradient(seed):
    loss, params, grads = _quadratic_problem(seed)
    report = gc.check_parameters(loss, params, grads)
    assert report.ok, str(report)
    assert report.max_rel_error < 1e-8                 # bound: linear-quadratic loss, float64
    assert set(report.errors) == {"W", "b"}
    assert "PASSED" in str(report)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check_parameters_catches_a_wrong_gradient(seed):
    loss, params, grads = _quadratic_problem(seed)
    grads["W"] = grads["W"].copy()
    grads["W"][1, 0] *= 1.5                             # one entry deliberately wrong
    report = gc.check_parameters(loss, params, grads)
    assert not report.ok
    assert report.max_rel_error > 1e-3
    assert report.errors["b"] < 1e-8                    # the right one still passes
    name, index, analytic, numeric, error = report.entries[0]
    assert (name, index) == ("W", (1, 0))               # the report points at the culprit
    assert analytic == pytest.approx(1.5 * numeric, rel=1e-6)
    text = str(report)
    assert "FAILED" in text and "(1, 0)" in text


def test_check_parameters_forgotten_factor_is_caught():
    # The classic slip: d/dx Σ x² written as x instead of 2x.
    x = np.array([0.3, -1.2, 2.0])
    report = gc.check_parameters(lambda: float(np.sum(x ** 2)), {"x": x}, {"x": x.copy()})
    assert not report.ok
    # |x − 2x| / (|x| + |2x|) = 1/3 at every entry
    assert report.max_rel_error == pytest.approx(1 / 3, rel=1e-6)


def test_check_parameters_shape_mismatch():
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        gc.check_parameters(lambda: 0.0, {"x": x}, {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="keys"):
        gc.check_parameters(lambda: 0.0, {"x": x}, {"y": x})


class _Affine:
    """A minimal layer following the contract: out = x W + b (optionally with a planted bug)."""

    def __init__(self, n_in, n_out, seed, bug=None):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.standard_normal((n_in, n_out)), "b": rng.standard_normal(n_out)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.bug = bug

    def forward(self, x, training=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, grad_out):
        self.grads["W"][...] = self.x.T @ grad_out
        self.grads["b"][...] = grad_out.sum(axis=0) if self.bug != "b" else grad_out.mean(axis=0)
        W = self.params["W"]
        return grad_out @ (W.T if self.bug != "x" else 2 * W.T)


class _Tanh:
    params, grads = {}, {}

    def forward(self, x, training=True):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out):
        return grad_out * (1 - self.y ** 2)


@pytest.mark.parametrize("seed", [0, 1])
def test_check_layer_passes_correct_layers(seed):
    x = np.random.default_rng(seed + 10).standard_normal((4, 3))
    report = gc.check_layer(_Affine(3, 2, seed), x, seed=seed)
    assert report.ok, str(report)
    assert set(report.errors) == {"x", "W", "b"}
    report = gc.check_layer(_Tanh(), x, seed=seed)
    assert report.ok and report.max_rel_error < 1e-8, str(report)


@pytest.mark.parametrize("bug", ["b", "x"])
def test_check_layer_catches_a_wrong_backward(bug):
    x = np.random.default_rng(3).standard_normal((4, 3))
    report = gc.check_layer(_Affine(3, 2, 0, bug=bug), x)
    assert not report.ok
    assert max(report.errors, key=report.errors.get) == bug
    assert report.entries[0][0] == bug
