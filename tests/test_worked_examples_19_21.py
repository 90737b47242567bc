"""Worked examples of lectures 19, 20 and 21, computed through the library.

Lecture 19: convolution and pooling written with loops agree with ``nnlib.layers``; the Sobel
and pooling examples give the values the lecture prints. Lecture 20: the RNN and LSTM steps are
the formulas, gradient norms fade or grow with the recurrent factor, truncation and clipping do
what the lecture says, and the notes' errata (bag-of-words row, BPTT indices, LSTM cell state)
stay corrected. Lecture 21: a frozen layer is left unchanged by training while a fine-tuned one
moves, and the 1-D GAN toy's generator moves towards the data.
"""
import numpy as np
import pytest

from nnlib import data, optimizers
from nnlib.layers import (AvgPool2D, Conv2D, Dense, Activation, Flatten, LSTM, LSTMCell, MaxPool2D, RNN,
                          RNNCell, Softmax)
from nnlib.models import Sequential


# ----------------------------------------------------------------------------------------------
# Lecture 19: convolution and pooling
# ----------------------------------------------------------------------------------------------
def conv2d_loops(image, kernel, bias=0.0, stride=1, padding=0):
    """The lecture's loop convolution (cross-correlation), one channel."""
    if padding:
        image = np.pad(image, padding)
    k = kernel.shape[0]
    Ho = (image.shape[0] - k) // stride + 1
    Wo = (image.shape[1] - k) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(image[i * stride:i * stride + k, j * stride:j * stride + k] * kernel) + bias
    return out


def max_pool_loops(fmap, size=2):
    Ho, Wo = fmap.shape[0] // size, fmap.shape[1] // size
    return np.array([[fmap[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
                      for j in range(Wo)] for i in range(Ho)])


STEP = np.array([[0, 0, 1, 1, 1]] * 5, dtype=float)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)


def _library_conv(image, kernel, bias=0.0, stride=1, padding=0):
    conv = Conv2D(1, kernel.shape[0], stride=stride, padding=padding, seed=0)
    conv.forward(image[None, None])
    conv.params["W"][0, 0] = kernel
    conv.params["b"][0] = bias
    return conv.forward(image[None, None])[0, 0]


def test_19_sobel_on_the_step_image_by_loops_and_by_the_library():
    expected = {(0, 1): [[4, 4, 0]] * 3,
                (1, 1): [[0, 3, 3, 0, -3]] + [[0, 4, 4, 0, -4]] * 3 + [[0, 3, 3, 0, -3]],
                (1, 2): [[0, 3, -3], [0, 4, -4], [0, 3, -3]]}
    for (p, s), want in expected.items():
        loops = conv2d_loops(STEP, SOBEL_X, padding=p, stride=s)
        assert loops.shape == ((5 + 2 * p - 3) // s + 1,) * 2
        assert loops == pytest.approx(np.array(want, dtype=float))
        assert _library_conv(STEP, SOBEL_X, padding=p, stride=s) == pytest.approx(loops, abs=1e-12)
    with_bias = conv2d_loops(STEP, SOBEL_X, bias=0.5, padding=1)
    assert _library_conv(STEP, SOBEL_X, bias=0.5, padding=1) == pytest.approx(with_bias, abs=1e-12)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_19_loop_convolution_equals_conv2d_on_random_images(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    img, ker = rng.standard_normal((7, 9)), rng.standard_normal((3, 3))
    assert _library_conv(img, ker, 0.25, stride, padding) == pytest.approx(
        conv2d_loops(img, ker, 0.25, stride, padding), abs=1e-12)


def test_19_multi_channel_convolution_sums_over_channels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 6))
    conv = Conv2D(4, 3, padding=1, seed=1)
    out = conv.forward(x)
    W, b = conv.params["W"], conv.params["b"]
    for n in range(2):
        for f in range(4):
            want = sum(conv2d_loops(x[n, c], W[f, c], padding=1) for c in range(3)) + b[f]
            assert out[n, f] == pytest.approx(want, abs=1e-12)


def test_19_pooling_example_and_the_shift():
    fmap = np.array([[6, 1, 2, 0], [4, 3, 8, 1], [0, 2, 5, 1], [7, 1, 9, 3]], dtype=float)
    assert max_pool_loops(fmap) == pytest.approx(np.array([[6, 8], [7, 9]], dtype=float))
    assert MaxPool2D(2).forward(fmap[None, None])[0, 0] == pytest.approx(max_pool_loops(fmap))
    assert AvgPool2D(2).forward(fmap[None, None])[0, 0] == pytest.approx(
        np.array([[3.5, 2.75], [2.5, 4.5]]))
    shifted = np.roll(fmap, 1, axis=1)
    shifted[:, 0] = 0
    assert int(np.sum(shifted != fmap)) == 15
    assert max_pool_loops(shifted) == pytest.approx(max_pool_loops(fmap))      # unchanged
    shifted2 = np.roll(fmap, 2, axis=1)
    shifted2[:, :2] = 0
    assert not np.allclose(max_pool_loops(shifted2), max_pool_loops(fmap))


def test_19_cnn_and_mlp_parameter_counts():
    cnn = Sequential([Conv2D(8, 3, padding=1, seed=0), Activation("relu"), MaxPool2D(2),
                      Flatten(), Dense(10, seed=1), Softmax()])
    cnn.build((1, 8, 8))
    assert [layer.count_params() for layer in cnn.layers] == [80, 0, 0, 0, 1290, 0]
    mlp = Sequential([Flatten(), Dense(32, seed=0), Activation("relu"),
                      Dense(10, seed=1), Softmax()])
    mlp.build((1, 8, 8))
    assert mlp.count_params() == 64 * 32 + 32 + 32 * 10 + 10 == 2410
