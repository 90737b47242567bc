"""Conv2D, MaxPool2D, AvgPool2D, Flatten (lecture 19): values against plain loops, gradients
against centred finite differences in float64 (bound on the relative error stated per test), and
the convolution against the library's earlier formulation (one row per patch), in float32 and
float64, for odd shapes.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer
from nnlib.layers import AvgPool2D, Conv2D, Flatten, MaxPool2D
from nnlib.layers.conv import col2im, im2col

TOL = 1e-7


def conv_by_loops(x, W, b, stride, pad):
    """The definition, one output number at a time (an independent oracle)."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = (H + 2 * pad - kh) // stride + 1, (Wd + 2 * pad - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(patch * W[f]) + b[f]
    return out


CASES = [  # (N, C, H, W, filters, kernel, stride, padding)
    (2, 1, 5, 5, 2, 3, 1, 0),
    (2, 3, 6, 5, 4, 3, 2, 1),
    (1, 2, 7, 7, 3, (2, 3), 1, 2),
    (3, 2, 4, 6, 1, 1, 1, 0),
]


@pytest.mark.parametrize("case", CASES)
def test_conv_forward_equals_the_definition(case):
    N, C, H, W, F, k, s, p = case
    rng = np.random.default_rng(0)
    conv = Conv2D(F, k, stride=s, padding=p, seed=1)
    x = rng.standard_normal((N, C, H, W))
    out = conv.forward(x)
    conv.params["b"][:] = rng.standard_normal(F)
    out = conv.forward(x)
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], s, p)
    assert out.shape == expected.shape == (N,) + conv.compute_output_shape((C, H, W))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_conv_gradients_match_finite_differences(case, seed):
    N, C, H, W, F, k, s, p = case
    rng = np.random.default_rng(seed)
    conv = Conv2D(F, k, stride=s, padding=p, seed=seed)
    report = check_layer(conv, rng.standard_normal((N, C, H, W)), seed=seed, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7


def conv_rows_reference(x, W, b, G, stride, pad):
    """The library's earlier Conv2D, kept as an oracle: one im2col row per patch, in float64.

    x (N, C, H, W), W (F, C, kh, kw), b (F,), G = dL/d(out) (N, F, Ho, Wo) →
    (out, dW, db, dx) from cols (N·Ho·Wo, C·kh·kw): out = cols W_flatᵀ + b, dW = G_rowsᵀ cols,
    db = Σ G_rows, dx = col2im(G_rows W_flat), with G_rows = G as (N·Ho·Wo, F).
    """
    x, W, b, G = (np.asarray(a, dtype=np.float64) for a in (x, W, b, G))
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    Ho, Wo = (H + 2 * pad - kh) // stride + 1, (Wd + 2 * pad - kw) // stride + 1
    xt = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).transpose(0, 2, 3, 1)
    cols = np.empty((N, Ho, Wo, C, kh, kw))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, :, :, u, v] = xt[:, u:u + stride * Ho:stride, v:v + stride * Wo:stride]
    cols = cols.reshape(N * Ho * Wo, C * kh * kw)
    W_flat = W.reshape(F, -1)
    out = (cols @ W_flat.T + b).reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)
    G_rows = G.transpose(0, 2, 3, 1).reshape(-1, F)
    dW = (G_rows.T @ cols).reshape(W.shape)
    db = G_rows.sum(axis=0)
    dcols = (G_rows @ W_flat).reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad))
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u:u + stride * Ho:stride, v:v + stride * Wo:stride] += dcols[:, :, u, v]
    return out, dW, db, dxp[:, :, pad:pad + H, pad:pad + Wd]


ODD_CASES = [  # (N, C, H, W, filters, kernel, stride, padding): odd sizes, strides, kernels
    (3, 1, 7, 9, 2, 3, 2, 0),
    (2, 3, 9, 7, 4, (2, 3), 2, 1),
    (2, 2, 5, 8, 3, (3, 1), 1, 2),
    (1, 4, 11, 6, 5, (4, 2), 3, 1),
    (4, 2, 6, 6, 1, 5, 1, 2),
    (2, 3, 3, 5, 2, 1, 2, 0),
]

#: Bound on the relative error against the float64 oracle: rounding only (float32's unit
#: roundoff is 6e-8; sums of at most a few hundred products here).
ORACLE_RTOL = {np.float64: 1e-12, np.float32: 1e-6}


@pytest.mark.parametrize("case", ODD_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_matches_the_earlier_formulation(case, dtype):
    N, C, H, W, F, k, s, p = case
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    conv = Conv2D(F, k, stride=s, padding=p, seed=2)
    conv.build((C, H, W), dtype)
    conv.params["b"][:] = rng.standard_normal(F)
    out = conv.forward(x)
    G = rng.standard_normal(out.shape).astype(dtype)
    dx = conv.backward(G)
    expected = conv_rows_reference(x, conv.params["W"], conv.params["b"], G, s, p)
    got = (out, conv.grads["W"], conv.grads["b"], dx)
    for name, a, e in zip(("out", "dW", "db", "dx"), got, expected):
        assert a.dtype == dtype and a.shape == e.shape, name     # float32 stays float32
        scale = np.max(np.abs(e))
        assert np.max(np.abs(a - e)) <= ORACLE_RTOL[dtype] * scale, name
    by_loops = conv_by_loops(x.astype(np.float64), conv.params["W"], conv.params["b"], s, p)
    tol = ORACLE_RTOL[dtype]
    np.testing.assert_allclose(out, by_loops, rtol=tol, atol=tol * np.max(np.abs(by_loops)))


@pytest.mark.parametrize("case", ODD_CASES)
def test_conv_gradients_match_finite_differences_on_odd_shapes(case):
    N, C, H, W, F, k, s, p = case
    rng = np.random.default_rng(6)
    conv = Conv2D(F, k, stride=s, padding=p, seed=3)
    conv.build((C, H, W), np.float64)
    conv.params["b"][:] = rng.standard_normal(F)
    report = check_layer(conv, rng.standard_normal((N, C, H, W)), seed=7, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_without_input_grad_returns_none_and_the_same_parameter_gradients(dtype):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 2, 7, 5)).astype(dtype)
    conv = Conv2D(3, (3, 2), stride=2, padding=1, seed=0)
    out = conv.forward(x)
    G = rng.standard_normal(out.shape).astype(dtype)
    assert conv.backward(G).shape == x.shape
    dW, db = conv.grads["W"].copy(), conv.grads["b"].copy()
    conv.grads = {k: np.zeros_like(v) for k, v in conv.grads.items()}
    assert conv.backward(G, input_grad=False) is None
    np.testing.assert_array_equal(conv.grads["W"], dW)
    np.testing.assert_array_equal(conv.grads["b"], db)
    assert conv.grads["W"].dtype == conv.grads["b"].dtype == dtype


def test_im2col_puts_each_patch_in_a_column():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 6, 7))
    kh, kw, s, p = 3, 2, 2, 1
    cols = im2col(x, kh, kw, stride=s, padding=p)
    Ho, Wo = (6 + 2 * p - kh) // s + 1, (7 + 2 * p - kw) // s + 1
    assert cols.shape == (2, 3 * kh * kw, Ho * Wo)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    for n, i, j in [(0, 0, 0), (1, 2, 3), (0, Ho - 1, Wo - 1)]:
        patch = xp[n, :, i * s:i * s + kh, j * s:j * s + kw]
        np.testing.assert_array_equal(cols[n, :, i * Wo + j], patch.ravel())


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for all x, c: what makes the backward pass exact.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 6, 7))
    cols = im2col(x, 3, 2, stride=2, padding=1)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, 3, 2, stride=2, padding=1))
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_edge_filter_finds_a_vertical_edge():
    img = np.zeros((1, 1, 5, 6))
    img[..., 3:] = 1.0                              # dark left, bright right
    conv = Conv2D(1, (1, 2))
    conv.build((1, 5, 6))
    conv.params["W"][:] = np.array([-1.0, 1.0]).reshape(1, 1, 1, 2)
    out = conv.forward(img)[0, 0]
    np.testing.assert_array_equal(out, np.tile([0, 0, 1, 0, 0], (5, 1)))


def pool_by_loops(x, s, reduce):
    N, C, H, W = x.shape
    out = np.zeros((N, C, H // s, W // s))
    for i in range(H // s):
        for j in range(W // s):
            out[:, :, i, j] = reduce(x[:, :, i * s:(i + 1) * s, j * s:(j + 1) * s], axis=(2, 3))
    return out


@pytest.mark.parametrize("shape,size", [((2, 3, 4, 4), 2), ((1, 2, 7, 5), 2), ((2, 1, 6, 6), 3)])
def test_pooling_forward_and_gradients(shape, size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(MaxPool2D(size).forward(x), pool_by_loops(x, size, np.max))
    np.testing.assert_allclose(AvgPool2D(size).forward(x), pool_by_loops(x, size, np.mean))
    for layer in (MaxPool2D(size), AvgPool2D(size)):
        report = check_layer(layer, x, seed=3, tol=TOL)
        assert report.ok, str(report)              # bound: relative error < 1e-7


def test_maxpool_sends_the_gradient_to_the_maximum_only():
    x = np.array([[[[1.0, 2.0], [4.0, 3.0]]]])
    pool = MaxPool2D(2)
    assert pool.forward(x).item() == 4.0
    np.testing.assert_array_equal(pool.backward(np.array([[[[5.0]]]])), [[[[0, 0], [5, 0]]]])


def test_flatten_round_trip_and_gradient():
    x = np.random.default_rng(4).standard_normal((3, 2, 3, 4))
    f = Flatten()
    assert f.forward(x).shape == (3, 24) and f.compute_output_shape((2, 3, 4)) == (24,)
    np.testing.assert_array_equal(f.backward(f.forward(x)), x)
    report = check_layer(Flatten(), x, tol=TOL)
    assert report.ok, str(report)                  # bound: relative error < 1e-7


def test_conv_keeps_float32_and_rejects_bad_input():
    conv = Conv2D(2, 3, padding=1, seed=0)
    out = conv.forward(np.ones((1, 1, 4, 4), dtype=np.float32))
    assert out.dtype == np.float32 and conv.params["W"].dtype == np.float32
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv.forward(np.ones((4, 4)))
    with pytest.raises(ValueError, match="does not fit"):
        Conv2D(1, 5).compute_output_shape((1, 3, 3))
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(1, 0)
    with pytest.raises(ValueError, match="larger than"):
        MaxPool2D(4).compute_output_shape((1, 3, 3))
