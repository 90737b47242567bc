"""The benchmark (make bench) times the same computations it claims to compare."""
import numpy as np
import pytest

from coursetools import bench_library as bench


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_benchmark_compares_the_same_computation(dtype):
    # The benchmark times model.train_step against a hand-written numpy step: from the same
    # starting weights both must compute the same losses and the same updated weights.
    X, y = bench._data(64, 10, 32, dtype)
    lib, model = bench.library_step(64, 16, 10, X, y)
    start = [model.layers[0].params["W"], model.layers[0].params["b"],
             model.layers[2].params["W"], model.layers[2].params["b"]]
    hand, weights = bench.numpy_step(X, y, *start)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for _ in range(3):
        assert lib() == pytest.approx(hand(), rel=tol)
    for mine, theirs in zip(start, weights):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_cnn_and_lstm_steps_train_the_same_networks_as_pytorch(dtype):
    # Same architecture on both sides: the same number of trainable scalars (PyTorch's LSTM
    # has two bias vectors where the library has one), the dtype asked for, and each step
    # returns a finite loss.
    torch = pytest.importorskip("torch", reason="PyTorch is optional: pip install torch (CPU)")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 8).astype(np.intp)
    X = rng.standard_normal((8, 1, 8, 8)).astype(dtype)
    S = rng.standard_normal((8, 5, 3)).astype(dtype)
    H = 6
    for (lib, theirs, (model, net)), extra in ((bench.cnn_steps(X, y), 0),
                                               (bench.lstm_steps(S, y, H), 4 * H)):
        assert np.isfinite(lib()) and np.isfinite(theirs())
        assert model.count_params() + extra == sum(p.numel() for p in net.parameters())
        assert model.dtype == dtype
        assert next(net.parameters()).dtype == (torch.float32 if dtype == np.float32
                                                else torch.float64)
    assert torch.get_num_threads() == 1


def test_paired_ratios_compare_the_steps_within_each_round():
    # Round by round (library, reference): the ratio is taken inside a round, never across
    # rounds, and reported as (lowest, median, highest).
    per_round = [[2.0, 1.0], [3.0, 2.0], [1.0, 1.0], [5.0, 4.0]]
    assert bench.paired_ratios(per_round, 0, 1) == (1.0, pytest.approx(1.375), 2.0)
    assert bench.paired_ratios(per_round, 1, 0) == (0.5, pytest.approx(0.7333333), 1.0)


def test_interleaved_times_every_function_in_every_round():
    calls = []
    fns = [lambda: calls.append("a"), lambda: calls.append("b")]
    best, per_round = bench._interleaved(fns, rounds=3)
    assert len(per_round) == 3 and all(len(times) == 2 for times in per_round)
    assert best == [min(t[0] for t in per_round), min(t[1] for t in per_round)]
    assert calls.count("a") > 3 and calls.count("b") > 3


def test_interleaved_rounds_start_one_function_later_each_time(monkeypatch):
    # Which function each round times first: a, b, c, a. (_best calls a function once before
    # timing it, so the first call of each _best belongs to the function it times.)
    calls, firsts = [], []
    fns = [lambda name=name: calls.append(name) for name in "abc"]
    original = bench._best

    def best(fn, repeats, min_time):
        firsts.append(len(calls))
        return original(fn, repeats=1, min_time=1e-4)
    monkeypatch.setattr(bench, "_best", best)
    _, per_round = bench._interleaved(fns, rounds=4)
    assert [calls[i] for i in firsts] == list("abc" "bca" "cab" "abc")
    assert all(len(times) == 3 and all(t > 0 for t in times) for times in per_round)
