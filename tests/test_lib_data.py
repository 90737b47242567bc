"""Tests of nnlib.data: shapes, the shipped digits, determinism, splits and argument checks."""
import gzip
from importlib import resources

import numpy as np
import pytest

from nnlib import data

GENERATORS = {
    "xor": lambda seed: data.xor(10, seed=seed),
    "blobs": lambda seed: data.blobs(10, centers=3, seed=seed),
    "moons": lambda seed: data.moons(10, seed=seed),
    "circles": lambda seed: data.circles(10, seed=seed),
    "spirals": lambda seed: data.spirals(10, n_classes=3, seed=seed),
    "regression_line": lambda seed: data.regression_line(10, seed=seed),
}


# ----------------------------------------------------------------------------------------------
# Logic gates
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]),
    ("nor", [1, 0, 0, 0]), ("xor", [0, 1, 1, 0]), ("XOR", [0, 1, 1, 0]),
])
def test_logic_gate_truth_tables(name, expected):
    X, d = data.logic_gate(name)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert X.dtype == np.float64 and d.dtype == np.int64
    np.testing.assert_array_equal(d, expected)
    # the truth tables agree with Python's own operators
    ops = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}
    if name.lower() in ops:
        np.testing.assert_array_equal(d, ops[name.lower()](X[:, 0] > 0, X[:, 1] > 0))


def test_logic_gate_bipolar():
    X, d = data.logic_gate("and", bipolar=True)
    np.testing.assert_array_equal(X, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(d, [-1, -1, -1, 1])


def test_logic_gate_unknown_name():
    with pytest.raises(ValueError, match="'maybe'.*and, or"):
        data.logic_gate("maybe")
    with pytest.raises(TypeError):
        data.logic_gate(3)


# ----------------------------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, n, K", [
    (lambda: data.xor(7), 28, 2),
    (lambda: data.blobs(6, centers=4), 24, 4),
    (lambda: data.moons(9), 18, 2),
    (lambda: data.circles(8), 16, 2),
    (lambda: data.spirals(11, n_classes=5), 55, 5),
])
def test_classification_shapes_and_balance(call, n, K):
    X, y = call()
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), np.full(K, n // K))
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_is_deterministic_for_a_seed(name):
    a, b, c = GENERATORS[name](3), GENERATORS[name](3), GENERATORS[name](4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0] if name != "regression_line" else a[1],
                              c[0] if name != "regression_line" else c[1])


def test_generators_do_not_touch_global_random_state():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    for make in GENERATORS.values():
        make(0)
    assert np.random.random() == expected


def test_noise_free_geometry():
    X, y = data.circles(50, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    X, y = data.moons(50, noise=0.0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1.0, X[y == 1, 1] - 0.5), 1.0)
    X, y = data.spirals(20, n_classes=2, noise=0.0)
    np.testing.assert_allclose(np.hypot(X[:20, 0], X[:20, 1]), np.linspace(0, 1, 20))
    # class 1 is class 0 turned by π: x ↦ −x
    np.testing.assert_allclose(X[20:], -X[:20], atol=1e-12)
    X, y = data.blobs(5, centers=np.array([[1.0, 2.0, 3.0]]), std=0.0)
    np.testing.assert_array_equal(X, np.tile([1.0, 2.0, 3.0], (5, 1)))


def test_xor_clusters_sit_on_the_truth_table():
    X, y = data.xor(200, noise=0.1, seed=0)
    for corner in range(4):
        block = X[corner * 200:(corner + 1) * 200]
        np.testing.assert_allclose(block.mean(axis=0), [[0, 0], [0, 1], [1, 0], [1, 1]][corner], atol=0.03)
    np.testing.assert_array_equal(y[::200], [0, 1, 1, 0])


def test_regression_line_recovers_slope_and_intercept():
    x, y = data.regression_line(2000, slope=-1.5, intercept=0.5, noise=0.1, seed=1)
    assert x.shape == (2000, 1) and y.shape == (2000, 1)
    assert np.all(np.diff(x[:, 0]) >= 0) and x.min() >= -1 and x.max() <= 1
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    assert slope == pytest.approx(-1.5, abs=0.02) and intercept == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("call, words", [
    (lambda: data.spirals(0), "n_per_class.*0"),
    (lambda: data.spirals(10, n_classes=-2), "n_classes.*-2"),
    (lambda: data.moons(10, noise=-0.5), "noise.*-0.5"),
    (lambda: data.circles(10, factor=1.5), "factor.*1.5"),
    (lambda: data.blobs(10, centers=np.zeros(3)), r"\(3,\)"),
    (lambda: data.regression_line(10, x_range=(1, -1)), r"x_range.*\(1, -1\)"),
    (lambda: data.moons(10, noise=float("nan")), "noise.*nan"),
])
def test_bad_generator_arguments_raise_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_non_integer_sizes_raise_type_error():
    with pytest.raises(TypeError, match="2.5"):
        data.spirals(2.5)


# ----------------------------------------------------------------------------------------------
# Splitting, one-hot, standardizing
# ----------------------------------------------------------------------------------------------
def test_train_val_split_sizes_and_partition():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100)
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.25, seed=0)
    assert X_tr.shape == (75, 2) and X_val.shape == (25, 2) and y_tr.shape == (75,) and y_val.shape == (25,)
    assert X_tr.dtype == np.float32
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)   # a partition
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)                        # rows stay paired
    again = data.train_val_split(X, y, val_fraction=0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_val)
    assert not np.array_equal(data.train_val_split(X, y, 0.25, seed=1)[3], y_val)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    X = np.arange(y.size)[:, None].astype(float)
    _, _, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_val), [20, 10, 2])
    np.testing.assert_array_equal(np.bincount(y_tr), [80, 40, 8])
    assert not np.all(np.diff(y_val) >= 0)                  # shuffled, not ordered by class
    # one-hot labels stratify the same way
    _, _, _, Y_val = data.train_val_split(X, data.one_hot(y), val_fraction=0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(Y_val.sum(axis=0), [20, 10, 2])


def test_stratified_digits_split():
    X, y = data.load_digits()
    _, _, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0, stratify=True)
    expected = np.round(0.2 * np.array(data.DIGIT_CLASS_COUNTS)).astype(int)
    np.testing.assert_array_equal(np.bincount(y_val, minlength=10), expected)
    assert y_tr.size + y_val.size == 1797


@pytest.mark.parametrize("kwargs, words", [
    (dict(X=np.zeros((5, 2)), y=np.zeros(4)), r"\(5, 2\).*\(4,\)"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), val_fraction=1.5), "val_fraction.*1.5"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), val_fraction=0), "val_fraction.*0"),
    (dict(X=np.zeros((3, 2)), y=np.zeros(3), val_fraction=0.1), "N=3.*0 for validation"),
    (dict(X=np.zeros((3, 2)), y=np.array([0, -1, 1]), stratify=True), "-1"),
])
def test_train_val_split_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        data.train_val_split(**kwargs)


def test_one_hot():
    Y = data.one_hot(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype == np.float64
    assert data.one_hot([0, 1], K=4).shape == (2, 4)
    assert data.one_hot([0, 1], K=2, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.argmax(data.one_hot([3, 1, 4, 1, 5]), axis=1), [3, 1, 4, 1, 5])


@pytest.mark.parametrize("y, K, words", [
    ([0, 3, 1], 3, "label 3 .*K=3"),
    ([0, -1], 2, "-1"),
    ([0.5, 1.0], 2, "0.5"),
    ([0, 1], 0, "K .*0"),
    ([[0, 1]], 2, r"\(1, 2\)"),
])
def test_one_hot_bad_labels(y, K, words):
    with pytest.raises(ValueError, match=words):
        data.one_hot(y, K)


def test_standardize_fit_and_reuse():
    rng = np.random.default_rng(0)
    X = rng.normal([5.0, -2.0, 0.0], [3.0, 0.5, 0.0], size=(200, 3))
    Z, mean, std = data.standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(Z[:, 2], 0.0)               # constant column: zeros, not NaN
    assert std[2] == 1.0
    Z2, m2, s2 = data.standardize(X[:10], mean, std)
    np.testing.assert_allclose(Z2, Z[:10])
    Z32, _, _ = data.standardize(X.astype(np.float32))
    assert Z32.dtype == np.float32
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        data.standardize(X, mean[:2], std[:2])
    with pytest.raises(ValueError, match="NaN"):
        data.standardize(np.array([[1.0, np.nan]]))


# ----------------------------------------------------------------------------------------------
# Digits
# ----------------------------------------------------------------------------------------------
def _file_table():
    raw = resources.files("nnlib.data").joinpath("digits.csv.gz").read_bytes()
    return np.array([[int(v) for v in line.split(",")]
                     for line in gzip.decompress(raw).decode().splitlines()])


def test_digits_against_the_file():
    table = _file_table()
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype.kind == "i"
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, table[:, :64])
    np.testing.assert_array_equal(y, table[:, 64])
    np.testing.assert_array_equal(np.bincount(y), np.bincount(table[:, 64]))
    np.testing.assert_array_equal(np.bincount(y),
                                  [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert tuple(np.bincount(y)) == data.DIGIT_CLASS_COUNTS


def test_digits_options():
    images, y = data.load_digits(as_images=True)
    flat, _ = data.load_digits()
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), flat)
    raw, _ = data.load_digits(scale=False)
    assert raw.max() == 16.0 and np.all(raw == np.round(raw))
    x32, _ = data.load_digits(dtype=np.float32)
    assert x32.dtype == np.float32
    # every call returns fresh arrays: changing one does not change the next
    flat[0, 0] = 99.0
    assert data.load_digits()[0][0, 0] == 0.0
    with pytest.raises(TypeError, match="int64"):
        data.load_digits(dtype=np.int64)


def test_digit_zero_looks_like_a_zero():
    images, y = data.load_digits(as_images=True)
    mean_zero = images[y == 0].mean(axis=0)
    assert mean_zero[3:5, 3:5].mean() < 0.2 < mean_zero[1, 2:6].mean()   # hole in the middle, ink on top


def test_digits_source_file_is_shipped():
    text = resources.files("nnlib.data").joinpath("DIGITS_SOURCE.txt").read_text()
    for words in ("Alpaydin", "Kaynak", "1998", "CC BY 4.0", "1797", "scikit-learn"):
        assert words in text
