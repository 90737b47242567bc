"""Worked examples of lectures 16 (optimizers), 17 (tuning) and 18 (models the Keras way).

Each test recomputes one example of the lectures through the library and asserts the values the
lecture prints; where the notes print something else (an erratum in the lecture), the test also
asserts that the notes' version is indeed different, so that the erratum cannot silently come back.
"""
import re

import numpy as np
import pytest

from nnlib import optimizers


# ----------------------------------------------------------------------------------------------
# Lecture 16: optimizers
# ----------------------------------------------------------------------------------------------
def ravine_grad(w):
    """Gradient of the ravine L = ½(w1² + 20 w2²) of lecture 16."""
    return np.array([w[0], 20.0 * w[1]])


def ravine_loss(w):
    return 0.5 * (w[0] ** 2 + 20.0 * w[1] ** 2)


def two_steps(name, **kw):
    opt, w, out = optimizers.get(name, lr=0.05, **kw), np.array([-4.0, 1.0]), []
    for _ in range(2):
        opt.step([w], [ravine_grad(w)])
        out.append(w.copy())
    return out


# w after steps 1 and 2 from (-4, 1) with η = 0.05, worked out by hand from each update rule
HAND = {
    "sgd": [(-3.8, 0.0), (-3.61, 0.0)],
    "momentum": [(-3.8, 0.0), (-3.43, -0.9)],          # v = (0.2, -1), then (0.37, -0.9)
    "nesterov": [(-3.62, -0.9), (-3.1141, 0.0)],       # the stored point is the look-ahead w + βv
    "adaptive_gain": [(-3.8, 0.0), (-3.6005, 0.0)],    # gain of w1 grows to 1.05 in step 2
    "adagrad": [(-3.95, 0.95), (-3.914868, 0.915563)],
    "rmsprop": [(-3.841886, 0.841886), (-3.729395, 0.736938)],
    "adam": [(-3.95, 0.95), (-3.900017, 0.900083)],    # first step η·sign(g)
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_16_first_two_steps_on_the_ravine_match_the_hand_values(name):
    got = two_steps(name)
    for step, (expected, w) in enumerate(zip(HAND[name], got), start=1):
        assert w == pytest.approx(np.array(expected), abs=5e-6), f"{name}, step {step}"


def test_16_first_steps_by_the_formulas():
    g = ravine_grad(np.array([-4.0, 1.0]))
    assert g == pytest.approx([-4.0, 20.0])
    # RMSProp: s = 0.1 g², step η g/√s = η/√0.1 per coordinate
    assert 0.05 / np.sqrt(0.1) == pytest.approx(0.158114, abs=1e-6)
    # Adam: m̂ = g, v̂ = g² at t = 1, so the step is η·sign(g) whatever |g|
    assert two_steps("adam")[0] - np.array([-4.0, 1.0]) == pytest.approx([0.05, -0.05], abs=1e-9)


def test_16_nesterov_lookahead_form_equals_the_library_form():
    w, v = np.array([-4.0, 1.0]), np.zeros(2)
    w_lib, opt = np.array([-4.0, 1.0]), optimizers.Nesterov(lr=0.05, beta=0.9)
    for _ in range(20):
        v = 0.9 * v - 0.05 * ravine_grad(w + 0.9 * v)
        w = w + v
        opt.step([w_lib], [ravine_grad(w_lib)])
        assert w + 0.9 * v == pytest.approx(w_lib, abs=1e-12)


def test_16_erratum_nesterov_sign_in_the_notes_goes_uphill():
    w0 = np.array([-4.0, 1.0])
    notes = w0 + 0.05 * ravine_grad(w0)                 # the notes' "+ η ∂L/∂w"
    right = w0 - 0.05 * ravine_grad(w0)
    assert ravine_loss(w0) == pytest.approx(18.0)
    assert ravine_loss(notes) == pytest.approx(48.82)
    assert ravine_loss(right) == pytest.approx(7.22)
    assert ravine_loss(notes) > ravine_loss(w0) > ravine_loss(right)


def test_16_rmsprop_epsilon_inside_or_outside_the_root():
    eps = 1e-8
    for g, inside, outside in [(20.0, 3.1623, 3.1623), (1e-5, 0.1000, 3.1523)]:
        s = 0.1 * g ** 2
        assert g / np.sqrt(s + eps) == pytest.approx(inside, abs=5e-5)
        assert g / (np.sqrt(s) + eps) == pytest.approx(outside, abs=5e-5)
    w = np.array([0.0])
    optimizers.RMSProp(lr=1.0, rho=0.9, eps=eps).step([w], [np.array([1e-5])])
    assert w == pytest.approx([-3.1523], abs=5e-5)        # the library adds ε outside the root


def test_16_swapping_two_hidden_neurons_proves_non_convexity():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    W1 = np.array([[1.0, -2.0, 0.5], [2.0, 1.0, -1.5]])
    b1 = np.array([0.5, -0.5, 0.0])
    W2 = np.array([[1.5], [-1.0], [2.0]])
    y = np.tanh(X @ W1 + b1) @ W2

    def loss(W1, b1, W2):
        return np.mean((np.tanh(X @ W1 + b1) @ W2 - y) ** 2)

    swap = [1, 0, 2]
    swapped = (W1[:, swap], b1[swap], W2[swap])
    mid = [(a + b) / 2 for a, b in zip((W1, b1, W2), swapped)]
    assert loss(W1, b1, W2) == 0.0 and loss(*swapped) == pytest.approx(0.0, abs=1e-28)
    assert loss(*mid) == pytest.approx(1.9944, abs=5e-5)


def test_16_the_saddle_point_has_mixed_curvature():
    grad = lambda w: np.array([10 * w[0], w[1] ** 3 - w[1]])
    h = 1e-5
    H = np.column_stack([(grad(h * e) - grad(-h * e)) / (2 * h) for e in np.eye(2)])
    assert grad(np.zeros(2)) == pytest.approx([0.0, 0.0])
    assert np.linalg.eigvalsh(H) == pytest.approx([-1.0, 10.0], abs=1e-6)


def _cliff_grad(w, K=100.0, s=60.0, d=0.3):
    sig = lambda z: 0.5 * (1 + np.tanh(z / 2))
    return np.array([0.4 * (w[0] - 2) + K * (sig(-s * (w[0] + d)) - sig(-s * w[0])), w[1]])


def _cliff_path(steps, clip=None):
    opt, w, path = optimizers.SGD(lr=0.1), np.array([-1.9, 1.5]), [np.array([-1.9, 1.5])]
    for _ in range(steps):
        g = _cliff_grad(w)
        if clip is not None:
            g = optimizers.clip_by_norm([g], clip)[0]
        opt.step([w], [g])
        path.append(w.copy())
    return np.array(path)


def test_16_clip_by_value_turns_the_gradient_clip_by_norm_keeps_its_direction():
    g = np.array([30.0, 0.5])
    by_value = optimizers.clip_by_value([g], 1.0)[0]
    by_norm = optimizers.clip_by_norm([g], 1.0)[0]
    assert by_value == pytest.approx([1.0, 0.5])
    assert np.degrees(np.arctan2(by_value[1], by_value[0])) == pytest.approx(26.57, abs=5e-3)
    assert by_norm == pytest.approx([0.99986, 0.016664], abs=5e-6)
    assert np.linalg.norm(by_norm) == pytest.approx(1.0)
    assert np.arctan2(by_norm[1], by_norm[0]) == pytest.approx(np.arctan2(0.5, 30.0))
    assert g == pytest.approx([30.0, 0.5])                 # inputs unchanged


def test_16_the_cliff_throws_plain_sgd_and_clipping_saves_the_step():
    plain, clipped = _cliff_path(80), _cliff_path(80, clip=3.0)
    steps = np.linalg.norm(np.diff(plain, axis=0), axis=1)
    k = int(np.argmax(steps))
    assert k + 1 == 14 and plain[k, 0] == pytest.approx(-0.247, abs=5e-4)
    assert np.linalg.norm(_cliff_grad(plain[k])) == pytest.approx(96.8, abs=0.05)
    assert plain[k + 1, 0] == pytest.approx(9.43, abs=5e-3)
    assert np.linalg.norm(np.diff(clipped, axis=0), axis=1).max() == pytest.approx(0.30, abs=5e-3)
    assert clipped[:14] == pytest.approx(plain[:14])        # identical until the face: clipping idle
    assert plain[-1] == pytest.approx([2.5025, 0.0003], abs=5e-5)
    assert clipped[-1] == pytest.approx([1.8839, 0.0004], abs=5e-5)



# The race of section 4: every optimizer at its tuned rate on four landscapes, and when each run
# first gets within 1e-3 of the minimum loss and when it stays there.
def _sig(z):
    return 0.5 * (1 + np.tanh(z / 2))


def _cliff_drop(w1, K=100.0, s=60.0, d=0.3):
    softplus = lambda z: np.logaddexp(0, z)
    return K / s * (softplus(-s * w1) - softplus(-s * (w1 + d)))


RACE_SURFACES = {   # loss, gradient, start, L*
    "ravine": (lambda w: 0.5 * (w[0] ** 2 + 20 * w[1] ** 2), ravine_grad, (-4.0, 1.0), 0.0),
    "saddle": (lambda w: 5 * w[0] ** 2 + 0.25 * w[1] ** 4 - 0.5 * w[1] ** 2,
               lambda w: np.array([10 * w[0], w[1] ** 3 - w[1]]), (-1.5, 0.001), -0.25),
    "plateau": (lambda w: 1 - np.exp(-(w[0] ** 2 + w[1] ** 2) / 2),
                lambda w: w * np.exp(-(w @ w) / 2), (3.0, 2.6), 0.0),
    "cliff": (lambda w: 0.2 * (w[0] - 2) ** 2 + 0.5 * w[1] ** 2 + _cliff_drop(w[0]),
              _cliff_grad, (-1.9, 1.5), 0.0),
}


def _race_path(name, lr, surface, steps=50, opt=None):
    _, grad, start, _ = RACE_SURFACES[surface]
    opt = opt or optimizers.get(name, lr=lr)
    w = np.array(start)
    path = [w.copy()]
    for _ in range(steps):
        opt.step([w], [grad(w)])
        path.append(w.copy())
        if np.abs(w).max() > 1e3:
            break
    return np.array(path)


def _excess(path, surface):
    L, _, _, L_min = RACE_SURFACES[surface]
    return np.array([L(w) for w in path]) - L_min


def _first_within(excess, tol=1e-3):
    return next((k for k, e in enumerate(excess) if e <= tol), None)


def _settles_at(excess, tol=1e-3):
    """Independent of the lecture's version: walk back from the end while the run is close."""
    k = len(excess)
    while k > 0 and excess[k - 1] <= tol:
        k -= 1
    return k


def _tuned_lr(name, surface):
    grid = np.geomspace(0.001, 1.0, 13)
    means = []
    for lr in grid:
        path = _race_path(name, lr, surface)
        means.append(_excess(path, surface).mean() if len(path) == 51 else np.inf)
    return float(grid[int(np.argmin(means))])


@pytest.fixture(scope="module")
def race():
    out = {}
    for s in RACE_SURFACES:
        for n in optimizers.NAMES:
            lr = _tuned_lr(n, s)
            path = _race_path(n, lr, s)
            out[n, s] = dict(lr=lr, path=path, excess=_excess(path, s))
    return out


def _lecture16_output(containing):
    import nbformat
    from pathlib import Path
    nb = nbformat.read(Path(__file__).resolve().parents[1] / "lectures" / "16_optimizers.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and containing in cell.source:
            return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    raise AssertionError(f"lecture 16 has no code cell containing {containing!r}")


def test_16_settling_is_measured_from_the_last_step_outside_the_band():
    dip_then_leave = [5.0, 5e-4, 2e-3, 1e-4, 1e-5]
    assert _first_within(dip_then_leave) == 1 and _settles_at(dip_then_leave) == 3
    assert _settles_at([1e-5, 1e-4]) == 0
    assert _settles_at([2.0, 1.0, 5e-4, 0.5]) == 4          # ends outside: "never"
    assert _first_within([2.0, 1.0]) is None


def test_16_the_race_table_printed_in_the_lecture_is_what_the_optimizers_do(race):
    def cell(r):
        first, stays = _first_within(r["excess"]), _settles_at(r["excess"])
        return (f"η={r['lr']:.3g}: {'—' if first is None else first} / "
                f"{'never' if stays == len(r['excess']) else stays}")
    printed = _lecture16_output("race_cell(RACE[n, s])").splitlines()
    assert printed[0].split() == ["optimizer", *RACE_SURFACES]
    rows = {ln.split()[0]: re.split(r"\s{2,}", ln.strip())[1:] for ln in printed[2:] if ln.strip()}
    assert set(rows) == set(optimizers.NAMES)
    for n in optimizers.NAMES:
        assert rows[n] == [cell(race[n, s]) for s in RACE_SURFACES], n


def test_16_who_stays_close_on_each_landscape(race):
    settled = {s: {n: _settles_at(race[n, s]["excess"]) for n in optimizers.NAMES
                   if _settles_at(race[n, s]["excess"]) < len(race[n, s]["excess"])} for s in RACE_SURFACES}
    assert settled["ravine"] == {"adagrad": 26, "adaptive_gain": 39, "rmsprop": 49}
    assert settled["saddle"] == {"adagrad": 10, "adaptive_gain": 43}
    assert settled["plateau"] == {"nesterov": 44, "adagrad": 8}
    first = lambda n, s: _first_within(race[n, s]["excess"])
    assert (first("nesterov", "ravine"), first("rmsprop", "ravine")) == (10, 17)
    assert min((first(n, "ravine"), n) for n in optimizers.NAMES if first(n, "ravine") is not None) == (10, "nesterov")
    assert (first("rmsprop", "saddle"), first("adam", "plateau"), first("rmsprop", "plateau")) == (10, 44, None)
    for n in ("sgd", "momentum", "adam"):
        assert first(n, "ravine") is None


def test_16_nesterov_is_close_early_on_the_ravine_but_overshoots_and_does_not_settle(race):
    r = race["nesterov", "ravine"]
    assert r["lr"] == pytest.approx(10 ** -1.5)
    w1 = r["path"][:, 0]
    k = int(np.argmax(w1))
    assert (k, round(w1[k], 2), round(w1[10], 2)) == (17, 1.17, 0.03)
    assert r["excess"][-1] == pytest.approx(2.4e-3, abs=5e-5) and r["excess"][-1] > 1e-3
    assert race["momentum", "ravine"]["path"][:, 0].max() == pytest.approx(1.56, abs=5e-3)
    finals = sorted(optimizers.NAMES, key=lambda n: race[n, "ravine"]["excess"][-1])
    assert finals[0] == "adagrad"
    printed = _lecture16_output("excess loss at step 50")
    assert "overshoots to +1.17 (step 17); excess loss at step 50: 2.4e-03" in printed


def test_16_rmsprop_is_thrown_out_of_the_minimum_when_its_average_forgets(race):
    r = race["rmsprop", "ravine"]
    e = r["excess"]
    assert int(np.argmin(e)) == 33 and e[33] < 1e-13
    assert int(np.argmax(e[1:])) + 1 == 43 and e[43] == pytest.approx(4.5, abs=0.05)
    growth = (e[43] / e[33]) ** (1 / 10)                        # per step, 33 -> 43
    assert 25 < growth < 35 and np.all(e[34:44] / e[33:43] > 5)
    assert e[17:41].max() <= 1e-3 < e[41]                       # close from 17 to 40, out at 41
    # the mechanism: with tiny gradients s forgets, and the rate of the steep coordinate, η/√s₂,
    # passes SGD's stability limit 2/20; AdaGrad's η/√G₂ can only fall
    opt = optimizers.RMSProp(lr=r["lr"])
    w, rates, w2 = np.array([-4.0, 1.0]), [], []
    for _ in range(43):
        opt.step([w], [ravine_grad(w)])
        rates.append(r["lr"] / np.sqrt(opt.state[0]["s"][1]))
        w2.append(abs(w[1]))
    rates = np.array(rates)                                     # rates[t - 1]: after step t
    assert int(np.argmax(rates > 0.1)) + 1 == 15 and np.all(rates[14:42] > 0.1)
    assert np.all(np.diff(rates[:42]) > 0) and rates[32] == pytest.approx(0.27, abs=5e-3)
    assert rates[41] == pytest.approx(0.42, abs=5e-3) and rates[42] < 0.25
    assert int(np.argmin(w2)) + 1 == 14 and np.all(np.diff(w2[13:43]) > 0)
    ada = optimizers.AdaGrad(lr=1.0)
    w, G = np.array([-4.0, 1.0]), []
    for _ in range(200):
        ada.step([w], [ravine_grad(w)])
        G.append(ada.state[0]["G"][1])
    assert np.all(np.diff(G) >= 0)
    long = _excess(_race_path("rmsprop", r["lr"], "ravine", steps=200), "ravine")
    assert _settles_at(long) == len(long)                       # over 200 steps: thrown out again

# ----------------------------------------------------------------------------------------------
# Lecture 17: hyperparameter tuning
# ----------------------------------------------------------------------------------------------
def _spiral_splits():
    from nnlib import data
    X, y = data.spirals(n_per_class=150, n_classes=3, noise=0.2, seed=0)
    X_rest, X_test, y_rest, y_test = data.train_val_split(X, y, val_fraction=0.2, seed=0, stratify=True)
    X_train, X_val, y_train, y_val = data.train_val_split(X_rest, y_rest, val_fraction=0.25, seed=1,
                                                          stratify=True)
    return X_train, X_val, X_test, y_train, y_val, y_test


def test_17_three_way_split_keeps_the_class_proportions():
    X_train, X_val, X_test, y_train, y_val, y_test = _spiral_splits()
    assert (len(y_train), len(y_val), len(y_test)) == (270, 90, 90)
    assert np.bincount(y_train).tolist() == [90, 90, 90]
    assert np.bincount(y_val).tolist() == [30, 30, 30] and np.bincount(y_test).tolist() == [30, 30, 30]
    rows = lambda A: {tuple(r) for r in np.round(A, 12)}
    assert not rows(X_train) & rows(X_val) and not rows(X_train) & rows(X_test) and not rows(X_val) & rows(X_test)


def test_17_the_default_trial_and_the_cost_of_the_searches():
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Sequential
    X_train, X_val, _, y_train, y_val, _ = _spiral_splits()
    layers = []
    for i in range(2):
        layers += [Dense(32, init="glorot_uniform", l2=0.0, seed=i), Activation("relu")]
    model = Sequential(layers + [Dense(3, seed=2), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(0.01), metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=30, batch_size=64, seed=0)
    assert model.evaluate(X_val, y_val)["accuracy"] == pytest.approx(84 / 90)      # 0.933
    steps = lambda batch: 30 * int(np.ceil(270 / batch))
    assert [steps(b) for b in (32, 64, 128)] == [270, 150, 90]
    assert 16 * steps(64) == 2400                                                    # the 4 x 4 grid
    assert int(np.prod([4, 4, 3, 3, 2, 3, 4])) == 3456                              # the full grid


def test_17_the_search_winner_is_optimistic():
    measured = np.random.default_rng(0).binomial(90, 0.85, size=(1000, 16)) / 90
    assert measured.mean() == pytest.approx(0.850, abs=5e-4)
    assert measured.max(axis=1).mean() == pytest.approx(0.913, abs=5e-4)



def _tuning_trial(X_train, y_train, lr, width, depth, batch_size, init, activation, l2):
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Sequential
    layers = []
    for i in range(depth):
        layers += [Dense(width, init=init, l2=l2, seed=i), Activation(activation)]
    model = Sequential(layers + [Dense(3, init=init, seed=depth), Softmax()])
    model.compile(loss="categorical_cross_entropy", optimizer=optimizers.Adam(lr), metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=30, batch_size=batch_size, seed=0)
    return model


def _random_search_settings():
    """The 16 settings lecture 17's random search draws (seed 17), in order; no training."""
    space = {"width": [8, 16, 32, 64], "depth": [1, 2, 3], "batch_size": [32, 64, 128],
             "init": ["glorot_uniform", "he_normal"], "activation": ["relu", "tanh", "leaky_relu"],
             "l2": [0.0, 1e-4, 1e-3, 1e-2]}
    rng, out = np.random.default_rng(17), []
    for _ in range(16):
        hp = {"lr": float(10 ** rng.uniform(-4, -1))}
        hp.update({k: v[rng.integers(len(v))] for k, v in space.items()})
        out.append(hp)
    return out


def test_17_the_winner_scores_lower_on_test_than_on_validation():
    X_train, X_val, X_test, y_train, y_val, y_test = _spiral_splits()
    settings = _random_search_settings()
    assert len({hp["lr"] for hp in settings}) == 16
    winner = next(hp for hp in settings if round(hp["lr"], 5) == 0.05745)
    assert winner == dict(winner, width=8, depth=3, batch_size=64, init="glorot_uniform",
                          activation="leaky_relu", l2=0.0)
    model = _tuning_trial(X_train, y_train, **winner)
    val, test = model.evaluate(X_val, y_val)["accuracy"], model.evaluate(X_test, y_test)["accuracy"]
    assert (round(val, 3), round(test, 3)) == (0.978, 0.944) and test < val


def test_17_random_trials_near_lr_001_are_low_because_they_use_tanh():
    X_train, X_val, _, y_train, y_val, _ = _spiral_splits()
    near = sorted((hp for hp in _random_search_settings() if 0.008 < hp["lr"] < 0.02), key=lambda hp: hp["lr"])
    assert [round(hp["lr"], 4) for hp in near] == [0.0091, 0.0162]
    assert all(hp["activation"] == "tanh" for hp in near)
    accs = [_tuning_trial(X_train, y_train, **hp).evaluate(X_val, y_val)["accuracy"] for hp in near]
    assert [round(a, 3) for a in accs] == [0.500, 0.467]
    defaults = dict(lr=0.01, depth=2, batch_size=64, init="glorot_uniform", activation="relu", l2=0.0)
    grid = [_tuning_trial(X_train, y_train, width=w, **defaults).evaluate(X_val, y_val)["accuracy"]
            for w in (8, 16, 32, 64)]
    assert [round(a, 3) for a in grid] == [0.889, 0.922, 0.933, 0.956]


def test_17_exercise_values_cost_of_a_grid_and_trials_for_a_top_5_percent_setting():
    steps = lambda batch: 30 * int(np.ceil(270 / batch))
    assert steps(100) == 90
    assert 5 * 3 * 3 * 3 == 135 and 5 * 3 * 3 * sum(steps(b) for b in (32, 64, 128)) == 22950
    n = int(np.ceil(np.log(0.05) / np.log(0.95)))
    assert n == 59 and 1 - 0.95 ** (n - 1) < 0.95 <= 1 - 0.95 ** n
    sixty_four = [(np.random.default_rng(s).binomial(90, 0.85, size=(1000, 64)) / 90).max(axis=1).mean()
                  for s in range(3)]
    assert all(v == pytest.approx(0.931, abs=2e-3) for v in sixty_four)
    assert min(sixty_four) > 0.913

# ----------------------------------------------------------------------------------------------
# Lecture 18: models the Keras way (notes 000, the two-input two-output functional model)
# ----------------------------------------------------------------------------------------------
def _notes_model():
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Input, Model
    inp1, inp2 = Input(11, name="inp1"), Input(5, name="inp2")
    h1 = Activation("relu")(Dense(16, seed=0, name="h1")(inp1))
    h2 = Activation("relu")(Dense(4, seed=1, name="h2")(h1))
    h3 = Activation("relu")(Dense(4, seed=2, name="h3")(inp2))
    out1 = Softmax(name="out1")(Dense(4, seed=3, name="out1_dense")(h2))
    out2 = Dense(1, seed=4, name="out2")(h3)
    model = Model(inputs=[inp1, inp2], outputs=[out1, out2])
    return model.compile(loss=["categorical_cross_entropy", "mse"], optimizer=optimizers.Adam(lr=0.01))


def _shared_trunk_model():
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Input, Model
    x = Input(11, name="x")
    t = Activation("relu")(Dense(16, seed=0, name="trunk1")(x))
    t = Activation("relu")(Dense(4, seed=1, name="trunk2")(t))
    head1 = Softmax(name="class_head")(Dense(4, seed=3, name="class_dense")(t))
    head2 = Dense(1, seed=4, name="value_head")(t)
    model = Model(inputs=[x], outputs=[head1, head2])
    return model.compile(loss=["categorical_cross_entropy", "mse"], optimizer=optimizers.Adam(lr=0.01))


def _two_input_data(n=50):
    rng = np.random.default_rng(18)
    teacher = rng.normal(size=(11, 4))
    X1, X2 = rng.normal(size=(n, 11)), rng.normal(size=(n, 5))
    y1 = (X1 @ teacher + 0.5 * rng.normal(size=(n, 4))).argmax(axis=1)
    y2 = (np.sin(X2[:, 0]) + 0.5 * X2[:, 1] * X2[:, 2] + 0.1 * rng.normal(size=n))[:, None]
    return X1, X2, y1, y2


def _layer(model, name):
    return next(layer for layer in model.layers if layer.name == name)


def test_18_parameter_counts_of_the_notes_model_match_the_hand_formula():
    from nnlib.layers import Dense
    model = _notes_model()
    hand = {"h1": (11 + 1) * 16, "h2": (16 + 1) * 4, "out1_dense": (4 + 1) * 4, "h3": (5 + 1) * 4,
            "out2": (4 + 1) * 1}
    assert hand == {"h1": 192, "h2": 68, "out1_dense": 20, "h3": 24, "out2": 5}
    counts = {layer.name: layer.count_params() for layer in model.layers if isinstance(layer, Dense)}
    assert counts == hand
    assert model.count_params() == sum(hand.values()) == 309
    assert "Total trainable parameters: 309" in model.summary()
    assert _shared_trunk_model().count_params() == 192 + 68 + 20 + 5


def test_18_the_model_loss_is_J1_plus_J2():
    model = _notes_model()
    X1, X2, y1, y2 = _two_input_data()
    p1, yhat2 = model.predict([X1, X2])
    J1 = -np.mean(np.log(p1[np.arange(len(y1)), y1]))
    J2 = np.mean((yhat2 - y2) ** 2)
    report = model.evaluate([X1, X2], [y1, y2])
    assert report["out1_loss"] == pytest.approx(J1, rel=1e-12)
    assert report["out2_loss"] == pytest.approx(J2, rel=1e-12)
    assert report["loss"] == pytest.approx(J1 + J2, rel=1e-12)


def test_18_in_the_notes_model_each_branch_feels_only_its_own_head():
    from nnlib.gradcheck import numerical_gradient
    model = _notes_model()
    X1, X2, y1, y2 = _two_input_data()
    heads = lambda: model.evaluate([X1, X2], [y1, y2])
    for name, own, other in (("h1", "out1_loss", "out2_loss"), ("h3", "out2_loss", "out1_loss")):
        W = _layer(model, name).params["W"]
        assert np.all(numerical_gradient(lambda: heads()[other], W) == 0.0)
        assert np.abs(numerical_gradient(lambda: heads()[own], W)).max() > 1e-3


def test_18_a_shared_weight_gets_the_sum_of_both_heads_gradients():
    from nnlib.gradcheck import numerical_gradient
    from nnlib.models import check_model
    model = _shared_trunk_model()
    X1, _, y1, _ = _two_input_data()
    y2 = (np.sin(X1[:, 0]) + 0.5 * X1[:, 1] * X1[:, 2])[:, None]
    W = _layer(model, "trunk1").params["W"]
    dJ1 = numerical_gradient(lambda: model.evaluate([X1], [y1, y2])["class_head_loss"], W)
    dJ2 = numerical_gradient(lambda: model.evaluate([X1], [y1, y2])["value_head_loss"], W)
    saved = model.get_weights()
    model.train_step([X1], [y1, y2])
    dL = _layer(model, "trunk1").grads["W"].copy()
    model.set_weights(saved)
    assert np.abs(dJ1).min() > 0 and np.abs(dJ2).max() > 1e-3     # both heads pull on the trunk
    assert dL == pytest.approx(dJ1 + dJ2, abs=1e-8)
    assert not np.allclose(dL, dJ1, atol=1e-4) and not np.allclose(dL, dJ2, atol=1e-4)
    assert check_model(model, [X1], [y1, y2]).ok


def _lecture18_data():
    """The lecture's 500 examples (seed 18): 400 for training, 100 for validation."""
    rng = np.random.default_rng(18)
    teacher = rng.normal(size=(11, 4))
    X1, X2 = rng.normal(size=(500, 11)), rng.normal(size=(500, 5))
    y1 = (X1 @ teacher + 0.5 * rng.normal(size=(500, 4))).argmax(axis=1)
    y2 = (np.sin(X2[:, 0]) + 0.5 * X2[:, 1] * X2[:, 2] + 0.1 * rng.normal(size=500))[:, None]
    return X1, X2, y1, y2


def test_18_the_untrained_head_is_near_a_uniform_guess_and_fit_stops_as_stated():
    from nnlib import callbacks, schedules
    X1, X2, y1, y2 = _lecture18_data()
    model = _notes_model()
    report = model.evaluate([X1[:400], X2[:400]], [y1[:400], y2[:400]])
    assert round(report["out1_loss"], 3) == 1.505 and report["out1_loss"] > np.log(4) == pytest.approx(1.386, abs=5e-4)
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best=True)
    scheduler = callbacks.LearningRateScheduler(schedules.step_decay(0.01, drop=0.5, every=10))
    H = model.fit([X1[:400], X2[:400]], [y1[:400], y2[:400]], epochs=60, batch_size=32,
                  validation_data=([X1[400:], X2[400:]], [y1[400:], y2[400:]]),
                  callbacks=[stopper, scheduler], seed=0).history
    assert (len(H["loss"]), stopper.best_epoch + 1) == (37, 32)
    assert min(H["val_loss"][32:]) > H["val_loss"][31] == pytest.approx(stopper.best)
    lr = np.array(H["lr"])
    assert [int(k) + 1 for k in np.nonzero(np.diff(lr))[0] + 1] == [11, 21, 31]
    assert lr[[0, 10, 20, 30]] == pytest.approx([0.01, 0.005, 0.0025, 0.00125])
    final = model.evaluate([X1[400:], X2[400:]], [y1[400:], y2[400:]])
    assert round(final["loss"], 4) == 0.4107


def test_18_a_small_weight_on_the_second_task_gives_the_lowest_classification_loss():
    X1, _, y1, _ = _lecture18_data()
    y2s = (np.sin(X1[:, 0]) + 0.5 * X1[:, 1] * X1[:, 2] + 0.1 * np.random.default_rng(1).normal(size=500))[:, None]
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Input, Model
    J1 = {}
    for w2 in (0.0, 0.1, 1.0, 10.0):
        x = Input(11)
        t = Activation("relu")(Dense(4, seed=1)(Activation("relu")(Dense(16, seed=0)(x))))
        m = Model(inputs=[x], outputs=[Softmax(name="class_head")(Dense(4, seed=3)(t)),
                                       Dense(1, seed=4, name="value_head")(t)])
        m.compile(loss=["categorical_cross_entropy", "mse"], optimizer=optimizers.Adam(lr=0.01),
                  loss_weights=[1.0, w2])
        m.fit(X1[:400], [y1[:400], y2s[:400]], epochs=30, batch_size=32, seed=0)
        J1[w2] = m.evaluate(X1[400:], [y1[400:], y2s[400:]])["class_head_loss"]
    assert [round(J1[w], 3) for w in (0.0, 0.1, 1.0, 10.0)] == [0.369, 0.329, 0.422, 0.538]
    assert min(J1, key=J1.get) == 0.1


def test_18_exercise_values_parameter_counts_and_a_weighted_loss():
    from nnlib import losses
    from nnlib.layers import Activation, Dense, Softmax
    from nnlib.models import Input, Model
    x = Input(20)
    t = Activation("relu")(Dense(8)(Activation("relu")(Dense(32)(x))))
    assert Model(inputs=[x], outputs=[Softmax()(Dense(3)(t)), Dense(1)(t)]).count_params() == 972
    x = Input(11)
    t1 = Activation("relu")(Dense(16)(x))
    t2 = Activation("relu")(Dense(4)(t1))
    assert Model(inputs=[x], outputs=[Softmax()(Dense(4)(t2)), Dense(1)(t1)]).count_params() == 297
    J1 = losses.categorical_cross_entropy(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), np.eye(3)[[0, 2]])
    J2 = losses.mse(np.array([[1.5], [-0.5]]), np.array([[1.0], [0.5]]))
    assert (J1, J2) == (pytest.approx(0.43375, abs=5e-6), pytest.approx(0.625))
    assert J1 + 2 * J2 == pytest.approx(1.68375, abs=5e-6)


def test_18_adam_ignores_a_loss_weight_on_an_independent_branch_and_sgd_scales_it():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=3) for _ in range(20)]
    for name, same in (("adam", True), ("sgd", False)):
        w1, w10 = np.ones(3), np.ones(3)
        o1, o10 = optimizers.get(name, lr=0.01, **({"eps": 0.0} if name == "adam" else {})), \
            optimizers.get(name, lr=0.01, **({"eps": 0.0} if name == "adam" else {}))
        for g in grads:
            o1.step([w1], [g])
            o10.step([w10], [10 * g])
        assert np.allclose(w1, w10, rtol=0, atol=1e-12) == same, name
        if not same:
            assert (w10 - 1) == pytest.approx(10 * (w1 - 1))

