"""The activations against PyTorch, an independent reference, in float64: each function's values,
its ``*_derivative`` (against torch's autograd of the same function), ``softmax_backward`` and the
``Activation`` layer's forward and backward.

The inputs include exact zeros, where ReLU and leaky ReLU have a kink: nnlib takes ψ'(0) = 0 for
ReLU and α for leaky ReLU, and so does torch. PyTorch is NOT a course dependency: these tests are
skipped when it is not installed (pip install torch==2.13.0 takes a CPU build). Agreement is
required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import RTOL, close, leaf, torch_or_skip

torch = torch_or_skip("the activations")
F = torch.nn.functional

from nnlib import activations as act  # noqa: E402
from nnlib.layers import Activation, Softmax  # noqa: E402


def inputs():
    """(4, 6) values from −30 to 30, with exact zeros (the kinks) and small magnitudes."""
    rng = np.random.default_rng(0)
    v = rng.normal(0, 3, (4, 6))
    v[0, :3] = 0.0
    v[1, :4] = [-30.0, 30.0, 1e-9, -1e-9]
    return v


# name: (nnlib function, nnlib derivative, the same function written with torch)
ELEMENTWISE = {
    "sigmoid": (act.sigmoid, act.sigmoid_derivative, torch.sigmoid),
    "sigmoid_slope_2.5": (lambda v: act.sigmoid(v, a=2.5),
                          lambda v: act.sigmoid_derivative(v, a=2.5),
                          lambda t: torch.sigmoid(2.5 * t)),
    "tanh": (act.tanh, act.tanh_derivative, torch.tanh),
    "relu": (act.relu, act.relu_derivative, F.relu),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_derivative,
                   lambda t: F.leaky_relu(t, negative_slope=0.01)),
    "leaky_relu_0.2": (lambda v: act.leaky_relu(v, alpha=0.2),
                       lambda v: act.leaky_relu_derivative(v, alpha=0.2),
                       lambda t: F.leaky_relu(t, negative_slope=0.2)),
}


def torch_value_and_slope(fn, v):
    """ψ(v) and dψ/dv elementwise, by autograd (the gradient of Σ ψ(v))."""
    t = leaf(v)
    out = fn(t)
    out.sum().backward()
    return out, t.grad


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_and_derivative_match_torch(name):
    f, df, tf = ELEMENTWISE[name]
    v = inputs()
    out, slope = torch_value_and_slope(tf, v)
    close(f(v), out)
    close(df(v), slope)


def test_sigmoid_far_in_the_tails_matches_torch():
    v = np.array([-700.0, -200.0, -40.0, 40.0, 200.0, 700.0])
    out, slope = torch_value_and_slope(torch.sigmoid, v)
    np.testing.assert_allclose(act.sigmoid(v), out.detach().numpy(), rtol=RTOL, atol=0)
    np.testing.assert_allclose(act.sigmoid_derivative(v), slope.numpy(), rtol=RTOL, atol=0)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_and_its_backward_match_torch(axis):
    rng = np.random.default_rng(1)
    v = rng.normal(0, 4, (5, 4)) + np.array([0, 0, 0, 500.0])   # a column/row of large scores
    G = rng.standard_normal(v.shape)
    t = leaf(v)
    tp = F.softmax(t, dim=axis)
    tp.backward(torch.from_numpy(G))
    p = act.softmax(v, axis=axis)
    close(p, tp)
    close(act.softmax_backward(p, G, axis=axis), t.grad)


@pytest.mark.parametrize("name,torch_fn", [
    ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", F.relu),
    ("linear", lambda t: t), ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)),
    ("softmax", lambda t: F.softmax(t, dim=-1))])
def test_activation_layer_matches_torch(name, torch_fn):
    rng = np.random.default_rng(2)
    x = inputs()[None].repeat(2, axis=0)                 # (2, 4, 6): the last axis for softmax
    G = rng.standard_normal(x.shape)
    layer = Softmax() if name == "softmax" else Activation(name)
    out = layer.forward(x)
    dx = layer.backward(G)
    t = leaf(x)
    tout = torch_fn(t)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, t.grad)
