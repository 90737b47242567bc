"""The feed-forward and image layers against PyTorch, an independent reference, in float64: the
forward values, dL/dx and every parameter gradient of Dense, Conv2D (stride, padding, non-square
kernels), MaxPool2D (ties and ragged edges), AvgPool2D, Flatten, Dropout and the LayerNorm layer.

Weight layouts: nnlib's Dense computes x W + b with W (D, units), torch's linear x Wᵀ + b, so
torch gets Wᵀ; Conv2D's W (filters, C, kh, kw) is torch's layout already. Dropout's masks come
from different generators, so train mode is compared with nnlib's mask handed to torch's own
dropout kernel (``aten.native_dropout_backward``: G · mask · scale). Embedding, layer_norm's
function form and attention are compared in test_lib_attention_torch.py.

PyTorch is NOT a course dependency: these tests are skipped when it is not installed
(pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, leaf, torch_or_skip

torch = torch_or_skip("the layers")
F = torch.nn.functional

from nnlib.layers import (AvgPool2D, Conv2D, Dense, Dropout, Flatten, LayerNorm,  # noqa: E402
                          MaxPool2D)


def run_both(layer, x, torch_fn, torch_params, seed=0):
    """Forward and backward through ``layer`` and ``torch_fn(tx, *tparams)`` with one random G.

    Returns (out, dx, tout, tx, tparams): the torch leaves carry their .grad.
    """
    out = layer.forward(x)
    G = np.random.default_rng(seed).standard_normal(out.shape)
    dx = layer.backward(G)
    tx = leaf(x)
    tparams = [leaf(p) for p in torch_params]
    tout = torch_fn(tx, *tparams)
    tout.backward(torch.from_numpy(G))
    return out, dx, tout, tx, tparams


@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 4)])
def test_dense_matches_torch_linear(shape):
    rng = np.random.default_rng(0)
    layer = Dense(3, input_dim=4, seed=0)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal(shape)
    out, dx, tout, tx, (tW, tb) = run_both(
        layer, x, lambda t, W, b: F.linear(t, W, b), [layer.params["W"].T, layer.params["b"]])
    close(out, tout)
    close(dx, tx.grad)
    close(layer.grads["W"], tW.grad.T)
    close(layer.grads["b"], tb.grad)


CONV_CASES = [  # (C, H, W, filters, kernel, stride, padding)
    (1, 5, 5, 2, 3, 1, 0), (3, 7, 6, 4, 3, 2, 1), (2, 6, 6, 3, (2, 3), 1, 2),
    (2, 8, 7, 2, 3, 3, 1), (3, 5, 5, 2, 1, 2, 0)]


@pytest.mark.parametrize("C,H,W,filters,kernel,stride,padding", CONV_CASES)
def test_conv2d_matches_torch(C, H, W, filters, kernel, stride, padding):
    rng = np.random.default_rng(C * H + W)
    layer = Conv2D(filters, kernel, stride=stride, padding=padding, seed=1)
    x = rng.standard_normal((2, C, H, W))
    layer.forward(x)                                     # builds the weights
    layer.params["b"][...] = rng.standard_normal(filters)
    out, dx, tout, tx, (tW, tb) = run_both(
        layer, x, lambda t, Wt, b: F.conv2d(t, Wt, b, stride=stride, padding=padding),
        [layer.params["W"], layer.params["b"]])
    close(out, tout)
    close(dx, tx.grad)
    close(layer.grads["W"], tW.grad)
    close(layer.grads["b"], tb.grad)


def pool_input(shape, ties):
    rng = np.random.default_rng(sum(shape))
    if ties:                                             # few distinct values: many tied maxima
        return rng.integers(0, 3, shape).astype(float)
    return rng.standard_normal(shape)


POOL_CASES = [((2, 3, 4, 4), 2), ((2, 2, 7, 5), 2), ((1, 2, 9, 8), 3), ((2, 1, 4, 6), 1)]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("shape,size", POOL_CASES)
def test_max_pool_matches_torch_first_maximum_and_dropped_edges(shape, size, ties):
    x = pool_input(shape, ties)
    out, dx, tout, tx, _ = run_both(MaxPool2D(size), x, lambda t: F.max_pool2d(t, size), [])
    close(out, tout)
    close(dx, tx.grad)


@pytest.mark.parametrize("shape,size", POOL_CASES)
def test_avg_pool_matches_torch(shape, size):
    x = pool_input(shape, ties=False)
    out, dx, tout, tx, _ = run_both(AvgPool2D(size), x, lambda t: F.avg_pool2d(t, size), [])
    close(out, tout)
    close(dx, tx.grad)


def test_flatten_matches_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    out, dx, tout, tx, _ = run_both(Flatten(), x, lambda t: torch.flatten(t, 1), [])
    close(out, tout)
    close(dx, tx.grad)


def test_dropout_in_evaluation_mode_matches_torch():
    rng = np.random.default_rng(4)
    x, G = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    layer = Dropout(0.4, seed=0)
    out = layer.forward(x, training=False)
    dx = layer.backward(G)
    tx = leaf(x)
    tout = F.dropout(tx, p=0.4, training=False)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_in_training_mode_matches_torchs_kernel_with_the_same_mask(rate):
    rng = np.random.default_rng(5)
    x, G = rng.standard_normal((40, 30)), rng.standard_normal((40, 30))
    layer = Dropout(rate, seed=1)
    out = layer.forward(x, training=True)
    dx = layer.backward(G)
    keep = torch.from_numpy(layer.mask != 0)
    assert 0 < keep.sum() < keep.numel()                 # some units kept, some dropped
    scale = 1 / (1 - rate)                               # torch's scaling of kept units
    kernel = torch.ops.aten.native_dropout_backward
    close(out, kernel(torch.from_numpy(x), keep, scale))
    close(dx, kernel(torch.from_numpy(G), keep, scale))


def test_layer_norm_layer_matches_torch():
    rng = np.random.default_rng(6)
    layer = LayerNorm(eps=1e-3)
    x = rng.normal(1, 2, (3, 4, 6))
    layer.forward(x)
    layer.params["gamma"][...] = rng.uniform(0.5, 2, 6)
    layer.params["beta"][...] = rng.standard_normal(6)
    out, dx, tout, tx, (tg, tb) = run_both(
        layer, x, lambda t, g, b: F.layer_norm(t, (6,), g, b, eps=1e-3),
        [layer.params["gamma"], layer.params["beta"]])
    close(out, tout)
    close(dx, tx.grad)
    close(layer.grads["gamma"], tg.grad)
    close(layer.grads["beta"], tb.grad)
