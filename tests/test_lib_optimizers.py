"""Tests of nnlib.optimizers against numbers worked out by hand.

Every optimizer starts from w₀ = [1.0, −2.0] and is fed the same three gradients
g₁ = [0.5, −1.0], g₂ = [0.25, 1.0], g₃ = [−0.5, 0.5], with η = 0.1 (β = 0.9 where used).
The comments show the arithmetic; the expected weights are typed in as literals.
"""
import numpy as np
import pytest

from nnlib import optimizers as opt

W0 = [1.0, -2.0]
GRADS = [np.array([0.5, -1.0]), np.array([0.25, 1.0]), np.array([-0.5, 0.5])]


def _three_steps(optimizer, dtype=np.float64):
    w = np.array(W0, dtype=dtype)
    path = []
    for g in GRADS:
        optimizer.step([w], [g.astype(dtype)])
        path.append(w.copy())
    return path


def _assert_path(path, expected, atol=1e-7):
    for t, (got, want) in enumerate(zip(path, expected), start=1):
        np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=f"after step {t}")


def test_sgd_by_hand():
    # w₁ = [1 − 0.1·0.5, −2 − 0.1·(−1)] = [0.95, −1.9]
    # w₂ = [0.95 − 0.025, −1.9 − 0.1]   = [0.925, −2.0]
    # w₃ = [0.925 + 0.05, −2.0 − 0.05]  = [0.975, −2.05]
    _assert_path(_three_steps(opt.SGD(lr=0.1)), [[0.95, -1.9], [0.925, -2.0], [0.975, -2.05]])


def test_sgd_updates_every_pair_in_place_and_keeps_no_state():
    # SGD's step is its own loop (no per-parameter state to reach): each w becomes w − η g, bit
    # for bit, in the arrays given, for every pair, with or without the per-call checks
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        ws = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (4,), (2, 2, 2)]]
        gs = [rng.standard_normal(w.shape).astype(dtype) for w in ws]
        for check in (True, False):
            o = opt.SGD(lr=0.1)
            before = [w.copy() for w in ws]
            same = list(ws)
            o.step(ws, gs, check=check)
            assert all(w is v for w, v in zip(ws, same))
            for w, w0, g in zip(ws, before, gs):
                np.testing.assert_array_equal(w, w0 - dtype(0.1) * g)
                assert w.dtype == dtype
            assert o.t == 1 and o.state == []


def test_momentum_by_hand():
    # v₁ = 0.9·0 − 0.1·g₁ = [−0.05, 0.1]                          w₁ = [0.95, −1.9]
    # v₂ = 0.9·[−0.05, 0.1] − [0.025, 0.1] = [−0.07, −0.01]        w₂ = [0.88, −1.91]
    # v₃ = 0.9·[−0.07, −0.01] − [−0.05, 0.05] = [−0.013, −0.059]   w₃ = [0.867, −1.969]
    _assert_path(_three_steps(opt.Momentum(lr=0.1, beta=0.9)),
                 [[0.95, -1.9], [0.88, -1.91], [0.867, -1.969]])


def test_nesterov_by_hand():
    # v as for momentum; w ← w + 0.9·v − 0.1·g
    # 1: 0.9·[−0.05, 0.1] − [0.05, −0.1] = [−0.095, 0.19]           w₁ = [0.905, −1.81]
    # 2: 0.9·[−0.07, −0.01] − [0.025, 0.1] = [−0.088, −0.109]       w₂ = [0.817, −1.919]
    # 3: 0.9·[−0.013, −0.059] − [−0.05, 0.05] = [0.0383, −0.1031]   w₃ = [0.8553, −2.0221]
    _assert_path(_three_steps(opt.Nesterov(lr=0.1, beta=0.9)),
                 [[0.905, -1.81], [0.817, -1.919], [0.8553, -2.0221]])


def test_adaptive_gain_by_hand():
    # κ = 0.05, φ = 0.95. Step 1: no previous gradient, gains [1, 1]   w₁ = [0.95, −1.9]
    # Step 2: g₂·g₁ = [0.125, −1.0] → gains [1.05, 0.95]
    #         w₂ = [0.95 − 0.1·1.05·0.25, −1.9 − 0.1·0.95·1.0] = [0.92375, −1.995]
    # Step 3: g₃·g₂ = [−0.125, 0.5] → gains [1.05·0.95, 0.95 + 0.05] = [0.9975, 1.0]
    #         w₃ = [0.92375 + 0.1·0.9975·0.5, −1.995 − 0.1·1.0·0.5] = [0.973625, −2.045]
    o = opt.AdaptiveGain(lr=0.1, kappa=0.05, phi=0.95)
    _assert_path(_three_steps(o), [[0.95, -1.9], [0.92375, -1.995], [0.973625, -2.045]])
    np.testing.assert_allclose(o.state[0]["gain"], [0.9975, 1.0])


def test_adaptive_gain_is_clipped():
    o = opt.AdaptiveGain(lr=0.1, kappa=1.0, phi=0.5, gain_min=0.3, gain_max=2.5)
    w = np.zeros(2)
    for g in ([1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, -1.0]):
        o.step([w], [np.array(g)])
    # entry 0: 1 → 2 → 2.5 (3 clipped) → 2.5; entry 1: 1 → 0.5 → 0.3 (0.25 clipped) → 0.3
    np.testing.assert_allclose(o.state[0]["gain"], [2.5, 0.3])


def test_adagrad_by_hand():
    # 1: G = [0.25, 1.0], √G = [0.5, 1.0]: w₁ = [1 − 0.1·1, −2 + 0.1·1] = [0.9, −1.9]
    # 2: G = [0.3125, 2.0], √G = [0.5590170, 1.4142136]
    #    g/√G = [0.4472136, 0.7071068]: w₂ = [0.85527864, −1.97071068]
    # 3: G = [0.5625, 2.25], √G = [0.75, 1.5], g/√G = [−0.6666667, 0.3333333]
    #    w₃ = [0.85527864 + 0.06666667, −1.97071068 − 0.03333333] = [0.92194531, −2.00404401]
    _assert_path(_three_steps(opt.AdaGrad(lr=0.1)),
                 [[0.9, -1.9], [0.85527864, -1.97071068], [0.92194531, -2.00404401]])


def test_rmsprop_by_hand():
    # ρ = 0.9. 1: s = 0.1·[0.25, 1] = [0.025, 0.1], √s = [0.15811388, 0.31622777]
    #    g/√s = [3.16227766, −3.16227766]: w₁ = [0.68377223, −1.68377223]
    # 2: s = [0.0225 + 0.00625, 0.09 + 0.1] = [0.02875, 0.19], √s = [0.16955825, 0.43588989]
    #    g/√s = [1.47441956, 2.29415734]: w₂ = [0.53633028, −1.91318797]
    # 3: s = [0.025875 + 0.025, 0.171 + 0.025] = [0.050875, 0.196], √s = [0.22555487, 0.44271887]
    #    g/√s = [−2.21675549, 1.12938488]: w₃ = [0.75800583, −2.02612646]
    _assert_path(_three_steps(opt.RMSProp(lr=0.1, rho=0.9)),
                 [[0.68377223, -1.68377223], [0.53633028, -1.91318797],
                  [0.75800583, -2.02612646]])


def test_adam_by_hand():
    # β₁ = 0.9, β₂ = 0.999.
    # 1: m = [0.05, −0.1], v = [0.00025, 0.001]; m̂ = m/0.1 = [0.5, −1], v̂ = v/0.001 = [0.25, 1]
    #    m̂/√v̂ = [1, −1]: w₁ = [0.9, −1.9]
    # 2: m = [0.045 + 0.025, −0.09 + 0.1] = [0.07, 0.01]
    #    v = [0.00024975 + 0.0000625, 0.000999 + 0.001] = [0.00031225, 0.001999]
    #    m̂ = m/0.19 = [0.36842105, 0.05263158]; v̂ = v/0.001999 = [0.15620310, 1.0]
    #    m̂/√v̂ = [0.36842105/0.39522538, 0.05263158] = [0.93217964, 0.05263158]
    #    w₂ = [0.80678204, −1.90526316]
    # 3: m = [0.063 − 0.05, 0.009 + 0.05] = [0.013, 0.059]
    #    v = [0.00031193775 + 0.00025, 0.001997001 + 0.00025] = [0.00056193775, 0.002247001]
    #    m̂ = m/0.271 = [0.04797048, 0.21771218]; v̂ = v/0.002997001 = [0.18750002, 0.74974983]
    #    m̂/√v̂ = [0.11078307, 0.25143431]: w₃ = [0.79570373, −1.93040659]
    _assert_path(_three_steps(opt.Adam(lr=0.1)),
                 [[0.9, -1.9], [0.80678204, -1.90526316], [0.79570373, -1.93040659]])


@pytest.mark.parametrize("name", opt.NAMES)
def test_state_is_per_parameter_and_float32_works(name):
    # two parameters stepped together = each stepped alone by its own optimizer
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(4)
    grads = [(rng.standard_normal((2, 3)), rng.standard_normal(4)) for _ in range(3)]
    together, alone_a, alone_b = (opt.get(name, lr=0.05) for _ in range(3))
    a1, b1, a2, b2 = a.copy(), b.copy(), a.copy(), b.copy()
    for ga, gb in grads:
        together.step([a1, b1], [ga, gb])
        alone_a.step([a2], [ga])
        alone_b.step([b2], [gb])
    np.testing.assert_allclose(a1, a2, rtol=1e-14)
    np.testing.assert_allclose(b1, b2, rtol=1e-14)
    assert together.t == 3
    w32 = a.astype(np.float32)
    o = opt.get(name, lr=0.05)
    for ga, _ in grads:
        o.step([w32], [ga])
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, a1, atol=1e-5)


def test_lr_is_mutable_and_reset_forgets():
    o = opt.Momentum(lr=0.1)
    w = np.zeros(1)
    o.step([w], [np.array([1.0])])                  # v = −0.1, w = −0.1
    o.lr = 0.2
    o.step([w], [np.array([1.0])])                  # v = −0.09 − 0.2 = −0.29, w = −0.39
    np.testing.assert_allclose(w, [-0.39])
    o.reset()
    o.step([w], [np.array([1.0])])                  # fresh v = −0.2, w = −0.59
    np.testing.assert_allclose(w, [-0.59])


def test_clipping_by_hand():
    g = [np.array([3.0, 4.0]), np.array([12.0])]
    # global norm √(9 + 16 + 144) = 13; max_norm 6.5 → every entry × 0.5
    c = opt.clip_by_norm(g, 6.5)
    np.testing.assert_allclose(c[0], [1.5, 2.0])
    np.testing.assert_allclose(c[1], [6.0])
    np.testing.assert_array_equal(g[0], [3.0, 4.0])             # inputs untouched
    d = opt.clip_by_norm(g, 20.0)                                # below the limit: unchanged copy
    np.testing.assert_array_equal(d[1], [12.0])
    assert d[1] is not g[1]
    v = opt.clip_by_value([np.array([-3.0, 0.5, 2.0])], 1.0)
    np.testing.assert_array_equal(v[0], [-1.0, 0.5, 1.0])


def test_errors_name_what_is_wrong():
    o = opt.SGD(0.1)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        o.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="1 parameters but 2 gradients"):
        o.step([np.zeros(2)], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match="NaN"):
        o.step([np.zeros(2)], [np.array([np.nan, 0.0])])
    with pytest.raises(TypeError, match="float ndarray"):
        o.step([[0.0, 1.0]], [np.zeros(2)])
    # without the per-call checks (a model's loop) the counts are still compared
    with pytest.raises(ValueError, match="SGD.step: got 1 parameters but 2 gradients"):
        o.step([np.zeros(2)], [np.zeros(2), np.zeros(2)], check=False)
    o = opt.Momentum(0.1)
    with pytest.raises(ValueError, match="1 parameters but 2 gradients"):
        o.step([np.zeros(2)], [np.zeros(2), np.zeros(2)], check=False)
    assert o.state == [] and o.t == 0                        # nothing started
    o.step([np.zeros(2)], [np.ones(2)], check=False)
    with pytest.raises(ValueError, match="used with 1 parameters and now gets 2.*reset"):
        o.step([np.zeros(2), np.zeros(1)], [np.ones(2), np.ones(1)], check=False)
    assert o.t == 1
    with pytest.raises(ValueError, match="lr=0"):
        opt.Adam(lr=0)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'.*adam"):
        opt.get("lbfgs")
    assert isinstance(opt.get("Adam"), opt.Adam)
    m = opt.Momentum(0.1)
    m.step([np.zeros(1)], [np.ones(1)])
    with pytest.raises(ValueError, match="reset"):
        m.step([np.zeros(1), np.zeros(1)], [np.ones(1), np.ones(1)])

