"""Tests of nnlib.autograd: gradients against finite differences, weight sharing, drawing."""
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnlib.autograd import Value, draw

H = 1e-5
BOUND = 1e-7            # relative error bound (max |a − n| / max(|a| + |n|)), float64


def _check(f, inputs):
    """Gradients of f(*Values) by backward() vs centred differences of f(*floats)."""
    leaves = [Value(v, f"x{i}") for i, v in enumerate(inputs)]
    out = f(*leaves)
    out.backward()
    analytic = np.array([leaf.grad for leaf in leaves])
    numeric = np.zeros(len(inputs))
    for i in range(len(inputs)):
        up, down = list(inputs), list(inputs)
        up[i] += H
        down[i] -= H
        numeric[i] = (f(*map(Value, up)).data - f(*map(Value, down)).data) / (2 * H)
    scale = max(np.max(np.abs(analytic) + np.abs(numeric)), 1e-12)
    err = np.max(np.abs(analytic - numeric)) / scale
    assert err < BOUND, f"analytic {analytic}, numeric {numeric}, rel error {err:.2e}"
    return out, analytic


@pytest.mark.parametrize("w, x, b", [(2.0, -1.0, 3.0), (0.5, 1.5, -0.2), (-1.2, 2.0, 0.7)])
def test_relu_neuron_single_path(w, x, b):
    # a = relu(w·x + b): ∂a/∂w = x, ∂a/∂x = w, ∂a/∂b = 1 when w·x + b > 0, else all 0
    out, grads = _check(lambda w, x, b: (w * x + b).relu(), [w, x, b])
    active = w * x + b > 0
    np.testing.assert_allclose(grads, [x, w, 1.0] if active else [0.0, 0.0, 0.0])
    assert out.data == max(0.0, w * x + b)


def test_weight_sharing_adds_both_paths():
    # L = σ(w·x1) + σ(w·x2) with the SAME w: ∂L/∂w = σ'(w·x1)·x1 + σ'(w·x2)·x2
    w0, x1, x2 = 0.8, 1.5, -2.0
    w = Value(w0, "w")
    L = (w * x1).sigmoid() + (w * x2).sigmoid()
    L.backward()
    s1, s2 = 1 / (1 + math.exp(-w0 * x1)), 1 / (1 + math.exp(-w0 * x2))
    assert w.grad == pytest.approx(s1 * (1 - s1) * x1 + s2 * (1 - s2) * x2, rel=1e-12)
    _check(lambda w: (w * x1).sigmoid() + (w * x2).sigmoid(), [w0])
    # the simplest case: y = w·w uses w twice, dy/dw = 2w
    v = Value(3.0)
    (v * v).backward()
    assert v.grad == 6.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_fully_connected_net(seed):
    # 2 inputs → 3 tanh units → 1 sigmoid output, squared error against a target t
    rng = np.random.default_rng(seed)
    W1, b1 = rng.standard_normal((3, 2)), rng.standard_normal(3)
    W2, b2 = rng.standard_normal(3), rng.standard_normal()
    x, t = rng.standard_normal(2), 0.3
    flat = [*W1.ravel(), *b1, *W2, b2]

    def net(*p):
        W1_, b1_, W2_, b2_ = p[:6], p[6:9], p[9:12], p[12]
        h = [(W1_[2 * j] * x[0] + W1_[2 * j + 1] * x[1] + b1_[j]).tanh() for j in range(3)]
        y = (sum(W2_[j] * h[j] for j in range(3)) + b2_).sigmoid()
        return (y - t) ** 2

    out, grads = _check(net, flat)
    # independent numpy forward/backward for the output-layer weights: 2(y − t)·σ'·h
    h = np.tanh(W1 @ x + b1)
    y = 1 / (1 + np.exp(-(W2 @ h + b2)))
    assert out.data == pytest.approx((y - t) ** 2, rel=1e-12)
    np.testing.assert_allclose(grads[9:12], 2 * (y - t) * y * (1 - y) * h, rtol=1e-10)


@pytest.mark.parametrize("a, b", [(1.3, 0.4), (-0.7, 2.2), (0.2, -1.1)])
def test_every_operation(a, b):
    fns = [
        lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
        lambda a, b: 2 + a, lambda a, b: 2 - a, lambda a, b: 3 * b, lambda a, b: 1 / b,
        lambda a, b: a ** 3, lambda a, b: (a * a + 1) ** 0.5, lambda a, b: -a,
        lambda a, b: a.exp(), lambda a, b: (a * a + b * b).log(), lambda a, b: (a * b).tanh(),
        lambda a, b: (a - b).sigmoid(), lambda a, b: (a * b - 0.1).relu(),
        lambda a, b: (a * b + a / b - (a - 1) ** 2).tanh() * b.exp(),
    ]
    for f in fns:
        _check(f, [a, b])


def test_values_and_errors():
    a = Value(2.0, "a")
    assert (a / 4).data == 0.5 and (1 - a).data == -1.0 and (a ** -1).data == 0.5
    assert Value(-1000.0).sigmoid().data == pytest.approx(0.0)
    assert Value(1000.0).sigmoid().data == 1.0
    assert repr(a) == "Value(a, data=2, grad=0)"
    with pytest.raises(ValueError, match="positive.*-1"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="constant"):
        a ** Value(2.0)
    with pytest.raises(TypeError, match="str"):
        a + "1"
    with pytest.raises(ValueError, match="not a real number"):
        Value(-2.0) ** 0.5


def test_deep_chain_has_no_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(3000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_draw_lays_out_every_node_left_to_right():
    matplotlib.use("Agg")
    w, x, b = Value(2.0, "w"), Value(-1.0, "x"), Value(3.0, "b")
    a = (w * x + b).relu()
    a.label = "a"
    a.backward()
    ax = draw(a)
    boxes = [t for t in ax.texts if t.get_gid() == "autograd-node"]
    assert len(boxes) == 6 == len(a.topological_order())        # w, x, b, w·x, +b, relu
    xs = {t.get_text().split("\n")[0]: t.get_position()[0] for t in boxes}
    assert xs["w"] == xs["x"] == 0                                # inputs in the first column,
    assert xs["b"] == 1                                           # b just left of its "+"
    assert xs["a [relu]"] == max(xs.values()) == 3                # output on the right
    ys = {t.get_text().split("\n")[0]: t.get_position()[1] for t in boxes}
    assert ys["w"] > ys["x"]                                      # w·x reads top to bottom
    assert any("grad -1" in t.get_text() for t in boxes)          # ∂a/∂w = x = −1
    assert ax.get_title()
    plt.close(ax.figure)
    fig, ax2 = plt.subplots()
    assert draw(a, ax=ax2) is ax2
    plt.close(fig)


def test_draw_counts_a_shared_node_once():
    w = Value(0.8, "w")
    L = (w * 1.5).sigmoid() + (w * -2.0).sigmoid()
    L.backward()
    ax = draw(L)
    boxes = [t for t in ax.texts if t.get_gid() == "autograd-node"]
    # w, the constants 1.5 and −2, two products, two sigmoids, the sum
    assert len(boxes) == 8 == len(L.topological_order())
    assert sum(t.get_text().startswith("w\n") for t in boxes) == 1
    plt.close(ax.figure)
