"""How fast is a training step of the library, next to the same step written by hand?

Run ``make bench`` or ``python -m coursetools.bench_library`` (lecture 13's aside on speed).
For two MLPs — 64-128-10 on the 8×8 digits with batches of 64, and 784-256-10 on synthetic
data with batches of 128 — in float32 and float64, it times one training step (forward, backward, SGD update) of

* the library: ``Sequential([Dense, Activation("relu"), Dense, Softmax()])`` trained with
  categorical cross-entropy (``model.train_step``, the loop ``fit`` runs),
* a minimal hand-written numpy step for the same network,
* PyTorch on the CPU, if it is installed,

all measured side by side in one run, interleaved, best of several repeats (and, since a shared
machine's load moves the times, the lowest, median and highest ratio of the rounds, each
round timing the steps one after the other). Then the same for
a small CNN (lecture 19's Conv2D(8, 3×3, padding 1) → ReLU → MaxPool2D(2) → Flatten → Dense(10)
→ softmax) and an LSTM classifier (lecture 20's LSTM(H) → Dense(10) → softmax, last state read),
the library next to PyTorch. It also prints the
achieved GFLOP/s (2·m·k·n per m×k by k×n product; a step does 4·N·D·H + 6·N·H·K) next to what
numpy's matmul reaches on the same products alone, and the time of one step of the scalar
autograd engine (``nnlib.autograd``) on a tiny network, to show what vectorising buys.
"""
from __future__ import annotations

import os
import sys
import time

#: One thread for the BLAS behind numpy (OpenBLAS, MKL, Apple's Accelerate) and for OpenMP: a
#: step is then timed as the code's own work, not as threads fighting for the cores of a shared
#: machine (two OpenBLAS threads on a busy 2-core machine made a 64-128-10 step 12× slower).
#: The BLAS reads these when it loads, so they must be set before numpy is imported: ``python -m
#: coursetools.bench_library`` (and ``make bench``) does so here; PyTorch gets
#: ``torch.set_num_threads(1)``.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "VECLIB_MAXIMUM_THREADS": "1"}
_NUMPY_LOADED_FIRST = "numpy" in sys.modules
if __name__ == "__main__" and not _NUMPY_LOADED_FIRST:
    os.environ.update(SINGLE_THREAD)

import numpy as np  # noqa: E402  (after the thread settings)

from nnlib import optimizers
from nnlib.layers import LSTM, Activation, Conv2D, Dense, Flatten, MaxPool2D, Softmax
from nnlib.models import Sequential

TORCH_HINT = "not installed: pip install torch==2.13.0 (CPU build on this machine)"
LR = 0.01
#: Rounds of the MLP table. A step of 0.1–0.2 ms is timed in blocks of a few ms, which the
#: scheduling of a shared machine hits more often than the longer CNN and LSTM steps: more
#: rounds give each implementation more chances at a quiet block, so that the best times
#: (and their ratio) move less from run to run.
MLP_ROUNDS = 15


def _best(fn, repeats=7, min_time=0.05):
    """Best over ``repeats`` of the mean time per call, each repeat lasting ≥ ``min_time`` s."""
    fn()
    n, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t >= min_time / 5:
            break
        n *= 2
    n = max(1, int(n * (min_time / max(t, 1e-9)) / 5) + 1)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def _interleaved(fns, rounds=9):
    """Time several functions alternately (so load from elsewhere hits all alike).

    Returns (best time per fn, the rounds' times: a list of ``rounds`` lists, one time per fn,
    in the order of ``fns``). Within a round the functions run one after the other, close in
    time, so the ratio of two of them in one round compares them under the same conditions
    (``paired_ratios``). Each round starts one function later than the one before (round r
    runs fns[r], fns[r+1], ..., wrapping round): no function always runs right after the same
    other one, whose after-effects (PyTorch's idle threads, a cache it filled) would then
    always fall on it.
    """
    per_round = []
    for r in range(rounds):
        times = [0.0] * len(fns)
        for k in range(len(fns)):
            i = (r + k) % len(fns)
            times[i] = _best(fns[i], repeats=3, min_time=0.03)
        per_round.append(times)
    return [min(times) for times in zip(*per_round)], per_round


def paired_ratios(per_round, i, j):
    """(lowest, median, highest) over the rounds of time[i] / time[j] taken in the same round.

    The best times' ratio can pair one function's quiet moment with another's busy one; the
    spread of the paired ratios shows how far a ratio moves with the machine's load.
    """
    r = np.array([times[i] / times[j] for times in per_round])
    return float(r.min()), float(np.median(r)), float(r.max())


def _spread(lo_med_hi):
    lo, med, hi = lo_med_hi
    return f"{lo:.2f}–{hi:.2f} ({med:.2f})"


def _data(D, K, N, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if D == 64:
        try:
            from nnlib.data import load_digits
            X, y = load_digits()
            return X[:N].astype(dtype), y[:N].astype(np.intp)
        except ImportError:
            pass
    return rng.standard_normal((N, D)).astype(dtype), rng.integers(0, K, N).astype(np.intp)


def library_step(D, H, K, X, y):
    """The library's training step (lecture 13) for X (N, D), labels y: returns (step, model)."""
    model = Sequential([Dense(H, seed=0), Activation("relu"), Dense(K, seed=1), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(LR))
    xs, ys, _ = model._prepare(X, y)
    return (lambda: model.train_step(xs, ys)[0]), model


def numpy_step(X, y, W1, b1, W2, b2):
    """The same step written by hand: relu MLP, softmax cross-entropy, SGD (lecture 13).

    Updates copies of the given starting weights; returns (step, [W1, b1, W2, b2]).
    """
    W1, b1, W2, b2 = (np.array(a) for a in (W1, b1, W2, b2))
    N, rows = len(X), np.arange(len(X))

    def step():
        nonlocal W1, b1, W2, b2
        a = X @ W1
        a += b1
        h = np.maximum(a, 0)
        z = h @ W2
        z += b2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        p /= N
        dW2 = h.T @ p
        db2 = p.sum(axis=0)
        dh = p @ W2.T
        dh *= a > 0
        dW1 = X.T @ dh
        db1 = dh.sum(axis=0)
        W1 -= LR * dW1
        b1 -= LR * db1
        W2 -= LR * dW2
        b2 -= LR * db2
        return float(loss)
    return step, [W1, b1, W2, b2]


def _torch():
    """PyTorch limited to one thread (like the BLAS above), or None if it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed once, before any parallel work: already set
        pass
    return torch


def blas_info():
    """(library and version or None, number of threads it runs or None), asked of the BLAS itself.

    Uses threadpoolctl when it is installed, else asks the OpenBLAS that numpy loaded (Linux);
    (None, None) where neither works.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return f"{pool.get('internal_api')} {pool.get('version')}", pool.get("num_threads")
    import ctypes
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_64_", ""):
                get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                get_config = getattr(lib, f"{prefix}_get_config{suffix}", None)
                if get_threads is None:
                    continue
                get_threads.restype = ctypes.c_int
                name = "OpenBLAS"
                if get_config is not None:
                    get_config.restype = ctypes.c_char_p
                    name = " ".join(get_config().decode(errors="replace").split()[:2])
                return name, int(get_threads())
    return None, None


def conditions():
    """Lines saying what the timings were measured under: threads, versions, cores, load."""
    library, threads = blas_info()
    env = " ".join(f"{k}={os.environ.get(k, 'unset')}" for k in SINGLE_THREAD)
    if __name__ == "__main__" and not _NUMPY_LOADED_FIRST:
        env = f"set before numpy was imported: {env}"
    else:
        env = f"as the calling process left them: {env}"
    if threads is None:
        blas = f"BLAS threads not queryable here ({env})"
    else:
        blas = f"{library or 'BLAS'} on {threads} thread{'s' if threads != 1 else ''} ({env})"
    torch = _torch()
    torch_s = (f"PyTorch {torch.__version__} on {torch.get_num_threads()} thread"
               f"{'s' if torch.get_num_threads() != 1 else ''}" if torch is not None
               else "PyTorch not installed")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    machine = f"{cores} CPU cores available" + (
        f", load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)" if load else "")
    lines = [f"numpy {np.__version__}, {blas}; {torch_s}", machine]
    if threads not in (None, 1):
        lines.append(f"note: the BLAS runs {threads} threads: on a busy machine the timings vary a "
                     "lot; run `make bench`, or set OPENBLAS_NUM_THREADS=1 before numpy starts")
    return lines


def torch_step(D, H, K, X, y):
    """The same step in PyTorch on the CPU (lecture 18's comparison), or None if not installed."""
    torch = _torch()
    if torch is None:
        return None
    torch.manual_seed(0)
    dt = torch.float32 if X.dtype == np.float32 else torch.float64
    net = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, K)).to(dt)
    return _torch_classifier_step(net, X, y, torch)


def matmul_only(D, H, K, X):
    """Just the step's five matrix products (lecture 13): the floor for any implementation."""
    dt = X.dtype
    W1, W2 = np.ones((D, H), dt), np.ones((H, K), dt)
    h, g = np.ones((len(X), H), dt), np.ones((len(X), K), dt)

    def step():
        X @ W1
        h @ W2
        h.T @ g
        g @ W2.T
        X.T @ h
    return step


def autograd_step():
    """One step of lecture 12's scalar engine: 2-4-1 tanh net, 8 examples, MSE (or None)."""
    try:
        from nnlib.autograd import Value
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2)).tolist()
    Y = rng.standard_normal(8).tolist()
    W1 = [[Value(float(v)) for v in row] for row in rng.standard_normal((4, 2)) * 0.5]
    b1 = [Value(0.0) for _ in range(4)]
    W2 = [Value(float(v)) for v in rng.standard_normal(4) * 0.5]
    b2 = Value(0.0)
    params = [w for row in W1 for w in row] + b1 + W2 + [b2]

    def step():
        for p in params:
            p.grad = 0.0
        loss = Value(0.0)
        for x, t in zip(X, Y):
            h = [(sum((w * xi for w, xi in zip(row, x)), b)).tanh() for row, b in zip(W1, b1)]
            out = sum((w * hi for w, hi in zip(W2, h)), b2)
            loss = loss + (out - t) ** 2
        loss = loss / len(X)
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return loss.data
    return step, len(params)


def _compiled(layers, X, y):
    """A Sequential of ``layers`` with cross-entropy and SGD: (its training step on (X, y), it)."""
    model = Sequential(layers)
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.SGD(LR))
    xs, ys, _ = model._prepare(X, y)
    return (lambda: model.train_step(xs, ys)[0]), model


def _torch_classifier_step(net, X, y, torch):
    """One SGD step of ``net`` on (X, y) with cross-entropy, in PyTorch."""
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(Xt), yt)
        loss.backward()
        opt.step()
        return float(loss.detach())
    return step


def cnn_steps(X, y, filters=8, K=10):
    """(library step, PyTorch step or None, (library model, PyTorch net or None)) of the
    lecture-19 CNN on images X (N, C, H, W) with labels y (N,)."""
    lib, model = _compiled([Conv2D(filters, 3, padding=1, seed=0), Activation("relu"), MaxPool2D(2),
                     Flatten(), Dense(K, seed=1), Softmax()], X, y)
    torch = _torch()
    if torch is None:
        return lib, None, (model, None)
    torch.manual_seed(0)
    C, H, W = X.shape[1:]
    net = torch.nn.Sequential(torch.nn.Conv2d(C, filters, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(filters * (H // 2) * (W // 2), K))
    net = net.to(torch.float32 if X.dtype == np.float32 else torch.float64)
    return lib, _torch_classifier_step(net, X, y, torch), (model, net)


def lstm_steps(X, y, units, K=10):
    """(library step, PyTorch step or None, (library model, PyTorch net or None)) of
    LSTM(units) → Dense(K) on sequences X (N, T, D) with labels y (N,)."""
    lib, model = _compiled([LSTM(units, seed=0), Dense(K, seed=1), Softmax()], X, y)
    torch = _torch()
    if torch is None:
        return lib, None, (model, None)
    torch.manual_seed(0)

    class LastState(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(X.shape[2], units, batch_first=True)
            self.head = torch.nn.Linear(units, K)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])
    net = LastState().to(torch.float32 if X.dtype == np.float32 else torch.float64)
    return lib, _torch_classifier_step(net, X, y, torch), (model, net)


def run_networks(out=sys.stdout):
    """Time the CNN and LSTM steps, library next to PyTorch; print and return the rows."""
    rng = np.random.default_rng(0)
    cases = []
    for label, shape, dtype in [("CNN 1×8×8 (digits)", (64, 1, 8, 8), np.float64),
                                ("CNN 1×28×28 (synthetic)", (64, 1, 28, 28), np.float32)]:
        X = rng.standard_normal(shape).astype(dtype)
        cases.append((label, X, cnn_steps(X, rng.integers(0, 10, shape[0]).astype(np.intp))))
    for label, shape, units, dtype in [("LSTM(24) T=7 D=24", (64, 7, 24), 24, np.float64),
                                       ("LSTM(64) T=20 D=16", (32, 20, 16), 64, np.float32),
                                       ("LSTM(64) T=50 D=16", (64, 50, 16), 64, np.float32)]:
        X = rng.standard_normal(shape).astype(dtype)
        cases.append((label, X, lstm_steps(X, rng.integers(0, 10, shape[0]).astype(np.intp),
                                           units)))
    head = (f"{'network':<24} {'dtype':<8} {'batch':>5} {'library µs':>10} {'PyTorch µs':>10} "
            f"{'ratio':>6}  {'rounds: low–high (median)':<25}")
    print("Time per training step of a CNN and an LSTM, best of repeats (ratio = library / "
          "PyTorch)", file=out)
    print(head, file=out)
    print("-" * len(head), file=out)
    rows = []
    for label, X, (lib, tor, _) in cases:
        times, per_round = _interleaved([lib] + ([tor] if tor is not None else []), rounds=5)
        t_torch = times[1] if tor is not None else None
        spread = paired_ratios(per_round, 0, 1) if tor is not None else None
        rows.append({"net": label, "dtype": X.dtype.name, "batch": len(X), "lib": times[0],
                     "torch": t_torch, "rounds": spread})
        tail = (f"{t_torch * 1e6:10.1f} {times[0] / t_torch:6.2f}  {_spread(spread)}"
                if t_torch is not None else TORCH_HINT)
        print(f"{label:<24} {X.dtype.name:<8} {len(X):>5} {times[0] * 1e6:10.1f} {tail}",
              file=out)
    if any(r["torch"] is not None for r in rows):
        print("target: ratio at most 1.0 (the library no slower than PyTorch on one thread); "
              "ratio = best time / best time, rounds = the ratio within each of the 5 rounds",
              file=out)
    out.flush()
    return rows


def run(out=sys.stdout):
    """Measure everything and print the table (lecture 13); returns the rows as dicts."""
    configs = [("64-128-10 (digits)", 64, 128, 10, 64), ("784-256-10 (synthetic)", 784, 256, 10, 128)]
    for line in conditions():
        print(line, file=out)
    out.flush()
    rows = []
    for label, D, H, K, N in configs:
        for dtype in (np.float32, np.float64):
            X, y = _data(D, K, N, dtype)
            lib, model = library_step(D, H, K, X, y)
            start = [model.layers[0].params["W"], model.layers[0].params["b"],
                     model.layers[2].params["W"], model.layers[2].params["b"]]
            fns = [lib, numpy_step(X, y, *start)[0], matmul_only(D, H, K, X)]
            t_torch = torch_step(D, H, K, X, y)
            if t_torch is not None:
                fns.append(t_torch)
            times, per_round = _interleaved(fns, rounds=MLP_ROUNDS)
            flops = 4 * N * D * H + 6 * N * H * K
            rows.append({"net": label, "dtype": np.dtype(dtype).name, "batch": N,
                         "lib": times[0], "numpy": times[1], "matmul": times[2],
                         "torch": times[3] if t_torch is not None else None, "flops": flops,
                         "rounds": paired_ratios(per_round, 0, 1)})
    peak = {}
    for dtype in (np.float32, np.float64):
        A = np.ones((1024, 1024), dtype)
        peak[np.dtype(dtype).name] = 2 * 1024 ** 3 / _best(lambda: A @ A, repeats=3) / 1e9
    us = lambda t: f"{t * 1e6:9.1f}"
    head = (f"{'network':<23} {'dtype':<8} {'batch':>5} {'library µs':>10} {'by hand µs':>10} "
            f"{'ratio':>6}  {'rounds: low–high (median)':<25} {'lib GFLOP/s':>11} "
            f"{'hand GFLOP/s':>12} {'matmul GFLOP/s':>14}  PyTorch µs")
    print("Time per training step (forward, backward, SGD update), best of repeats", file=out)
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        torch_s = f"{r['torch'] * 1e6:10.1f}" if r["torch"] is not None else TORCH_HINT
        print(f"{r['net']:<23} {r['dtype']:<8} {r['batch']:>5} {us(r['lib']):>10} "
              f"{us(r['numpy']):>10} {r['lib'] / r['numpy']:6.2f}  {_spread(r['rounds']):<25} "
              f"{r['flops'] / r['lib'] / 1e9:11.2f} {r['flops'] / r['numpy'] / 1e9:12.2f} "
              f"{r['flops'] / r['matmul'] / 1e9:14.2f}  {torch_s}", file=out)
    print(f"ratio = library / by hand, best time / best time (target: at most 1.1); rounds = "
          f"the ratio within each of the {MLP_ROUNDS} rounds, where the two ran one after the "
          f"other", file=out)
    print("matmul GFLOP/s = the step's five matrix products timed alone; numpy's matmul on "
          "1024×1024: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peak.items()), file=out)
    ag = autograd_step()
    if ag is None:
        print("scalar autograd engine (nnlib.autograd): not present, skipped", file=out)
    else:
        step, n_params = ag
        t = _best(step, repeats=3)
        flops = 6 * 8 * (2 * 4 + 4 * 1)          # 3 products of 2·N·(weights) per step
        print(f"scalar autograd engine (nnlib.autograd), 2-4-1 tanh net ({n_params} parameters), "
              f"8 examples, MSE: {t * 1e6:.0f} µs per step, {flops / t / 1e9:.4f} GFLOP/s",
              file=out)
    print(file=out)
    run_networks(out)
    if hasattr(os, "getloadavg"):
        print("load average at the end: {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(
            *os.getloadavg()), file=out)
    return rows


if __name__ == "__main__":
    run()
