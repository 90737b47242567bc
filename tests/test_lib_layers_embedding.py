"""Embedding and positional information (lecture 22): look-ups, the scattered gradient of the
table (repeated ids accumulate), sinusoidal encodings, learnt position vectors.

Gradients are compared with centred finite differences in float64 (h = 1e-5); the bound on the
relative error is stated in each test.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, check_parameters
from nnlib.layers import Embedding, PositionalEmbedding, PositionalEncoding
from nnlib.layers.embedding import as_ids, embedding, embedding_backward
from nnlib.layers.positional import sinusoidal_encoding

TOL = 1e-7


def test_a_lookup_is_the_one_hot_vector_times_the_table():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((6, 3))
    ids = np.array([[0, 5, 2], [2, 2, 1]])
    out, _ = embedding(ids, E)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out, np.eye(6)[ids] @ E)


def test_repeated_ids_accumulate_their_gradients_and_unused_rows_get_zero():
    ids = np.array([[1, 3, 1], [1, 0, 3]])
    G = np.arange(18.0).reshape(2, 3, 3)
    dE = embedding_backward(G, embedding(ids, np.zeros((5, 3)))[1])
    np.testing.assert_array_equal(dE[1], G[0, 0] + G[0, 2] + G[1, 0])   # id 1 three times
    np.testing.assert_array_equal(dE[3], G[0, 1] + G[1, 2])
    np.testing.assert_array_equal(dE[0], G[1, 1])
    np.testing.assert_array_equal(dE[[2, 4]], 0.0)                     # never looked up


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_table_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    layer = Embedding(5, 4, seed=seed)
    ids = rng.integers(0, 5, size=(3, 6))                # 18 look-ups in 5 rows: repeats
    G = rng.standard_normal((3, 6, 4))
    layer.forward(ids)
    assert layer.backward(G) is None                     # ids have no gradient
    report = check_parameters(lambda: float(np.sum(layer.forward(ids) * G)),
                              layer.params, {"E": layer.grads["E"]}, tol=TOL)
    assert report.ok, str(report)                        # bound: relative error < 1e-7


def test_ids_may_come_as_whole_floats_but_not_fractions_or_out_of_range():
    np.testing.assert_array_equal(as_ids(np.array([0.0, 3.0]), 4), [0, 3])
    layer = Embedding(4, 2, seed=0)
    with pytest.raises(ValueError, match="whole"):
        layer.forward(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"0\.\.3"):
        layer.forward(np.array([[4, 1]]))
    with pytest.raises(ValueError, match=r"\[-1\]"):
        layer.forward(np.array([[-1, 1]]))                # numpy would silently read row 3
    with pytest.raises(ValueError, match="positive"):
        Embedding(0, 3)


def test_embedding_layer_builds_float64_and_reports_its_shape():
    layer = Embedding(10, 3, seed=0)
    out = layer.forward(np.array([[1, 2, 3, 4]]))
    assert out.shape == (1, 4, 3) and layer.params["E"].shape == (10, 3)
    assert layer.compute_output_shape((4,)) == (4, 3)
    assert np.abs(layer.params["E"]).max() < 0.5          # N(0, 0.05²) start


def test_sinusoidal_encodings_follow_the_formula():
    T, D = 7, 6
    P = sinusoidal_encoding(T, D)
    t = np.arange(T)[:, None]
    i = np.arange(D // 2)[None, :]
    np.testing.assert_allclose(P[:, 0::2], np.sin(t / 10000 ** (2 * i / D)), rtol=1e-12)
    np.testing.assert_allclose(P[:, 1::2], np.cos(t / 10000 ** (2 * i / D)), rtol=1e-12)
    odd = sinusoidal_encoding(T, 5)                      # an odd D drops the last cosine
    i = np.arange(3)[None, :]
    np.testing.assert_allclose(odd[:, 0::2], np.sin(t / 10000 ** (2 * i / 5)), rtol=1e-12)
    np.testing.assert_allclose(odd[:, 1::2], np.cos(t / 10000 ** (2 * i[:, :2] / 5)), rtol=1e-12)


def test_sinusoidal_positions_are_distinct_and_a_shift_is_a_rotation():
    P = sinusoidal_encoding(50, 16)
    dist = np.linalg.norm(P[:, None] - P[None], axis=-1)
    assert dist[~np.eye(50, dtype=bool)].min() > 1e-3   # every position has its own pattern
    k, D = 3, 16
    freq = 10000.0 ** (-np.arange(0, D, 2) / D)
    c, s = np.cos(k * freq), np.sin(k * freq)
    shifted = np.empty_like(P[:-k])                      # (sin, cos) pairs turned by k·freq
    shifted[:, 0::2] = P[:-k, 0::2] * c + P[:-k, 1::2] * s
    shifted[:, 1::2] = P[:-k, 1::2] * c - P[:-k, 0::2] * s
    np.testing.assert_allclose(shifted, P[k:], atol=1e-12)


def test_positional_encoding_layer_adds_the_table_and_passes_the_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 4))
    layer = PositionalEncoding()
    np.testing.assert_allclose(layer.forward(x), x + sinusoidal_encoding(5, 4))
    assert layer.params == {}
    report = check_layer(layer, x, seed=1, tol=TOL)
    assert report.ok, str(report)                        # bound: relative error < 1e-7


@pytest.mark.parametrize("T", [6, 4])
def test_learnt_positions_gradients_match_finite_differences(T):
    rng = np.random.default_rng(T)
    layer = PositionalEmbedding(6, seed=0)
    x = rng.standard_normal((3, 6, 4))
    layer.forward(x)                                     # builds for D = 4, max_len 6
    x = x[:, :T]                                         # shorter sequences use the first rows
    np.testing.assert_allclose(layer.forward(x), x + layer.params["P"][:T])
    report = check_layer(layer, x, seed=2, tol=TOL)
    assert report.ok, str(report)                        # bound: relative error < 1e-7
    np.testing.assert_array_equal(layer.grads["P"][T:], 0.0)


def test_learnt_positions_refuse_sequences_longer_than_max_len():
    layer = PositionalEmbedding(3, seed=0)
    with pytest.raises(ValueError, match="T <= 3"):
        layer.forward(np.zeros((1, 4, 2)))
    with pytest.raises(ValueError, match="positive"):
        PositionalEmbedding(0)
