"""Tests of nnlib.classic: the perceptron's worked example (notes 001), the delta rule,
nearest neighbours and competitive learning, against values worked out by hand."""
import numpy as np
import pytest

from nnlib import classic

# ---------------------------------------------------------------------------------------------
# Perceptron, notes 001: x1 = [1, −1, −1], d1 = 0; x2 = [1, 1, 1] or [1, 1, −1], d2 = 1;
# w = [0.5, −1, −0.5], b = 0.5, η = 1, y = 1 if v ≥ 0 else 0.
# ---------------------------------------------------------------------------------------------
X1 = [1.0, -1.0, -1.0]


def _steps(result):
    return [(s.epoch, s.iteration, s.v, s.y, s.e, list(s.w_after), s.b_after) for s in result.trace]


def test_perceptron_worked_example_with_x2_all_ones():
    r = classic.perceptron_train([X1, [1, 1, 1]], [0, 1], w0=[0.5, -1, -0.5], b0=0.5, eta=1.0)
    assert _steps(r) == [
        # v = 0.5·1 + (−1)(−1) + (−0.5)(−1) + 0.5 = 2.5 → y = 1, e = −1
        # w = [0.5, −1, −0.5] − [1, −1, −1] = [−0.5, 0, 0.5], b = −0.5
        (1, 1, 2.5, 1.0, -1.0, [-0.5, 0.0, 0.5], -0.5),
        # v = −0.5 + 0 + 0.5 − 0.5 = −0.5 → y = 0, e = 1; w = [0.5, 1, 1.5], b = 0.5
        (1, 2, -0.5, 0.0, 1.0, [0.5, 1.0, 1.5], 0.5),
        # v = 0.5 − 1 − 1.5 + 0.5 = −1.5 → y = 0 = d1: no change
        (2, 1, -1.5, 0.0, 0.0, [0.5, 1.0, 1.5], 0.5),
        # v = 0.5 + 1 + 1.5 + 0.5 = 3.5 → y = 1 = d2: no change, an error-free epoch
        (2, 2, 3.5, 1.0, 0.0, [0.5, 1.0, 1.5], 0.5),
    ]
    assert r.converged and r.epochs == 2 and r.errors_per_epoch() == [2, 0]


def test_perceptron_worked_example_with_x2_last_minus_one():
    r = classic.perceptron_train([X1, [1, 1, -1]], [0, 1], w0=[0.5, -1, -0.5], b0=0.5, eta=1.0)
    assert _steps(r) == [
        # v = 2.5 as above (the notes print 0.5) → w = [−0.5, 0, 0.5], b = −0.5
        (1, 1, 2.5, 1.0, -1.0, [-0.5, 0.0, 0.5], -0.5),
        # v = −0.5 + 0 − 0.5 − 0.5 = −1.5 → e = 1; w = [0.5, 1, −0.5], b = 0.5 (as in the notes)
        (1, 2, -1.5, 0.0, 1.0, [0.5, 1.0, -0.5], 0.5),
        # v = 0.5 − 1 + 0.5 + 0.5 = 0.5 → y = 1, e = −1
        # w = [0.5, 1, −0.5] − [1, −1, −1] = [−0.5, 2, 0.5] (the notes print [−0.5, 0, 0.5])
        (2, 1, 0.5, 1.0, -1.0, [-0.5, 2.0, 0.5], -0.5),
        # v = −0.5 + 2 − 0.5 − 0.5 = 0.5 → y = 1 = d2
        (2, 2, 0.5, 1.0, 0.0, [-0.5, 2.0, 0.5], -0.5),
        # v = −0.5 − 2 − 0.5 − 0.5 = −3.5 → y = 0 = d1
        (3, 1, -3.5, 0.0, 0.0, [-0.5, 2.0, 0.5], -0.5),
        # v = 0.5 again → correct; epoch 3 is error-free
        (3, 2, 0.5, 1.0, 0.0, [-0.5, 2.0, 0.5], -0.5),
    ]
    assert r.converged and r.epochs == 3 and r.errors_per_epoch() == [2, 1, 0]
    assert r.trace[0].v != 0.5                                  # the notes' first v is a slip
    assert list(r.trace[2].w_after) != [-0.5, 0.0, 0.5]         # and so is the epoch-2 weight


# ---------------------------------------------------------------------------------------------
# Delta rule
# ---------------------------------------------------------------------------------------------
def test_delta_rule_by_hand():
    r = classic.delta_rule_train([[1, 2], [2, -1]], [1, 0], eta=0.1, epochs=2)
    got = [(s.y, s.e, s.E, list(s.w_after), s.b_after) for s in r.trace]
    expected = [
        # y = 0, e = 1, E = 0.5; w = 0.1·1·[1, 2] = [0.1, 0.2], b = 0.1
        (0.0, 1.0, 0.5, [0.1, 0.2], 0.1),
        # y = 0.2 − 0.2 + 0.1 = 0.1, e = −0.1, E = 0.005; w = [0.08, 0.21], b = 0.09
        (0.1, -0.1, 0.005, [0.08, 0.21], 0.09),
        # y = 0.08 + 0.42 + 0.09 = 0.59, e = 0.41, E = 0.08405; w = [0.121, 0.292], b = 0.131
        (0.59, 0.41, 0.08405, [0.121, 0.292], 0.131),
        # y = 0.242 − 0.292 + 0.131 = 0.081, e = −0.081, E = 0.0032805
        # w = [0.121 − 0.0162, 0.292 + 0.0081] = [0.1048, 0.3001], b = 0.1229
        (0.081, -0.081, 0.0032805, [0.1048, 0.3001], 0.1229),
    ]
    for (y, e, E, w, b), (y0, e0, E0, w0, b0) in zip(got, expected):
        assert (y, e, E, b) == pytest.approx((y0, e0, E0, b0), abs=1e-12)
        np.testing.assert_allclose(w, w0, atol=1e-12)
    # mean E per epoch: (0.5 + 0.005)/2, (0.08405 + 0.0032805)/2
    assert r.cost_per_epoch() == pytest.approx([0.2525, 0.04366525])
    np.testing.assert_allclose(r.w, [0.1048, 0.3001])
    assert r.b == pytest.approx(0.1229)


def test_delta_rule_finds_the_least_squares_line():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (20, 2))
    d = X @ np.array([2.0, -1.0]) + 0.5                          # noiseless linear targets
    r = classic.delta_rule_train(X, d, eta=0.1, epochs=300)
    np.testing.assert_allclose(r.w, [2.0, -1.0], atol=1e-6)
    assert r.b == pytest.approx(0.5, abs=1e-6)
    costs = r.cost_per_epoch()
    assert costs[-1] < 1e-12 < costs[0]


def test_delta_rule_bad_input():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        classic.delta_rule_train(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        classic.delta_rule_train([[np.nan, 1.0]], [1.0])
    with pytest.raises(ValueError, match=r"w0.*\(2,\).*\(3,\)"):
        classic.delta_rule_train(np.zeros((3, 2)), np.zeros(3), w0=[0, 0, 0])


# ---------------------------------------------------------------------------------------------
# Nearest neighbours
# ---------------------------------------------------------------------------------------------
XT = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0]])
DT = np.array([0, 0, 1, 1, 1])


def test_nearest_neighbour_by_hand():
    # k = 1: [0.9, 0.1] is nearest to [1, 0] (label 0); [5.2, 5] nearest to [5, 5] (label 1)
    np.testing.assert_array_equal(classic.nearest_neighbour_predict(XT, DT, [[0.9, 0.1], [5.2, 5]]),
                                  [0, 1])
    # k = 3 at [0.2, 0.2]: distances 0.283 (label 0), 0.825 (0), 0.825 (1) → 2 votes to 1 → 0
    labels, idx = classic.nearest_neighbour_predict(XT, DT, [0.2, 0.2], k=3, return_neighbours=True)
    np.testing.assert_array_equal(labels, [0])
    np.testing.assert_array_equal(idx, [[0, 1, 2]])
    # k = 2 ties (one vote each) go to the nearer neighbour:
    # [0.1, 0.8]: [0, 1] at 0.224 (label 1), [0, 0] at 0.806 (label 0) → 1
    # [0.1, 0.3]: [0, 0] at 0.316 (label 0), [0, 1] at 0.707 (label 1) → 0
    np.testing.assert_array_equal(
        classic.nearest_neighbour_predict(XT, DT, [[0.1, 0.8], [0.1, 0.3]], k=2), [1, 0])


def test_nearest_neighbour_memorises_and_takes_any_labels():
    np.testing.assert_array_equal(classic.nearest_neighbour_predict(XT, DT, XT), DT)
    names = np.array(["cat", "cat", "dog", "dog", "dog"])
    np.testing.assert_array_equal(
        classic.nearest_neighbour_predict(XT, names, [[0.2, 0.2], [4, 4]], k=3), ["cat", "dog"])


def test_nearest_neighbour_bad_input():
    with pytest.raises(ValueError, match=r"2 features.*\(1, 3\)"):
        classic.nearest_neighbour_predict(XT, DT, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"k must be .* 1\.\.5, got 6"):
        classic.nearest_neighbour_predict(XT, DT, [[1.0, 2.0]], k=6)
    with pytest.raises(ValueError, match=r"\(5, 2\) and \(4,\)"):
        classic.nearest_neighbour_predict(XT, DT[:4], [[1.0, 2.0]])


# ---------------------------------------------------------------------------------------------
# Competitive learning
# ---------------------------------------------------------------------------------------------
def test_competitive_learning_by_hand():
    X = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    r = classic.competitive_train(X, W0=[[0.5, 0.0], [0.0, 0.5]], eta=0.5, epochs=1)
    # x = [1, 0]: distances 0.5 and √(1 + 0.25) = 1.118 → unit 0 wins
    #   w0 = [0.5, 0] + 0.5·([1, 0] − [0.5, 0]) = [0.75, 0]
    # x = [0, 1]: distances √(0.5625 + 1) = 1.25 and 0.5 → unit 1 wins; w1 = [0, 0.75]
    # x = [1, 1]: distances √(0.0625 + 1) and √(1 + 0.0625), a tie → the lower index, unit 0
    #   w0 = [0.75, 0] + 0.5·([0.25, 1]) = [0.875, 0.5]
    np.testing.assert_array_equal(r.winners, [0, 1, 0])
    np.testing.assert_allclose(r.trace[0].distances, [0.5, np.sqrt(1.25)])
    np.testing.assert_allclose(r.trace[1].distances, [1.25, 0.5])
    np.testing.assert_allclose(r.W, [[0.875, 0.5], [0.0, 0.75]])
    np.testing.assert_allclose(r.trace[2].w_before, [0.75, 0.0])
    np.testing.assert_allclose(r.trace[2].w_after, [0.875, 0.5])


def test_competitive_units_move_to_cluster_centres():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 4.0]])
    X = np.vstack([c + 0.1 * rng.standard_normal((30, 2)) for c in centres])
    X = X[rng.permutation(len(X))]
    r = classic.competitive_train(X, W0=[[1.0, 0.5], [3.0, 3.5]], eta=0.05, epochs=30)
    np.testing.assert_allclose(r.W, centres, atol=0.1)
    assert set(r.winners) == {0, 1}


def test_competitive_bad_input():
    with pytest.raises(ValueError, match=r"\(3, 2\) and \(2, 3\)"):
        classic.competitive_train(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="eta"):
        classic.competitive_train(np.zeros((3, 2)), np.zeros((2, 2)), eta=1.5)
