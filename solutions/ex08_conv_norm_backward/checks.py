"""The checks of exercise 08 (convolution and normalization, backward): 20 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

Every gradient is judged twice: against centred finite differences of the scalar
L = Σ dout · forward(…), computed here from the course library's forward passes, and against the
library's own backward passes (``nnlib.layers.Conv2D``, ``MaxPool2D``, ``BatchNorm``). The hints'
values are what deliberately wrong variants, written below, give on the same inputs. While a
submission is graded none of the library is available to it (``library=()``).
"""

import numpy as np

from coursetools.judge import Assignment, call, probe, hint_values
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import BatchNorm, Conv2D, MaxPool2D

assignment = Assignment("ex08_conv_norm_backward", library=())

_GRAD_RTOL, _GRAD_ATOL = 1e-5, 1e-7      # finite differences: O(h²) plus rounding
_REF_RTOL, _REF_ATOL = 1e-6, 1e-9        # the library's backward: the same sums in another order




# ----------------------------------------------------------------------------------------------
# The references: the course library's layers, set to the given weights
# ----------------------------------------------------------------------------------------------
def _conv_layer(x, w, b, stride, pad):
    F, C, kh, kw = w.shape
    layer = Conv2D(F, (kh, kw), stride=stride, padding=pad)
    layer.build(x.shape[1:])
    layer.params["W"][...] = w
    layer.params["b"][...] = b
    return layer


def _conv_ref(x, w, b, stride=1, pad=0):
    """out (N, F, Ho, Wo) of the library's Conv2D with weights w (F, C, kh, kw) and bias b (F,)."""
    return _conv_layer(x, w, b, stride, pad).forward(np.array(x, dtype=float))


def _conv_back_ref(dout, x, w, b, stride=1, pad=0):
    """(dx, dw, db) of the library's Conv2D for the upstream gradient dout."""
    layer = _conv_layer(x, w, b, stride, pad)
    layer.forward(np.array(x, dtype=float))
    dx = layer.backward(np.array(dout, dtype=float))
    return dx, layer.grads["W"].copy(), layer.grads["b"].copy()


def _numeric(loss, *arrays):
    """Centred differences of the scalar ``loss()`` with respect to each array (changed in place)."""
    return [numerical_gradient(loss, a, h=1e-5) for a in arrays]


def _conv_numeric(dout, x, w, b, stride, pad):
    x, w, b = (np.array(a, dtype=float) for a in (x, w, b))
    return _numeric(lambda: float(np.sum(dout * _conv_ref(x, w, b, stride, pad))), x, w, b)


def _pool_ref(x, size=2):
    return MaxPool2D(size).forward(np.array(x, dtype=float))


def _pool_back_ref(dout, x, size=2):
    layer = MaxPool2D(size)
    layer.forward(np.array(x, dtype=float))
    return layer.backward(np.array(dout, dtype=float))


def _bn_layer(x, gamma, beta, eps):
    layer = BatchNorm(eps=eps)
    layer.build(x.shape[1:])
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    return layer


def _bn_cache(x, gamma, eps=1e-5):
    """The forward cache the exercise's batchnorm_forward returns (a dict of arrays and eps)."""
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    return {"x": x, "x_hat": (x - mu) / np.sqrt(var + eps), "mu": mu, "var": var,
            "gamma": np.array(gamma, dtype=float), "eps": float(eps)}


def _bn_back_ref(dout, x, gamma, beta, eps):
    layer = _bn_layer(x, gamma, beta, eps)
    layer.forward(np.array(x, dtype=float), training=True)
    dx = layer.backward(np.array(dout, dtype=float))
    return dx, layer.grads["gamma"].copy(), layer.grads["beta"].copy()


def _bn_numeric(dout, x, gamma, beta, eps):
    x, gamma, beta = (np.array(a, dtype=float) for a in (x, gamma, beta))

    def loss():
        return float(np.sum(dout * _bn_layer(x, gamma, beta, eps).forward(x, training=True)))
    return _numeric(loss, x, gamma, beta)


# ----------------------------------------------------------------------------------------------
# Part 1 · conv_forward
# ----------------------------------------------------------------------------------------------
_CONV_FORWARD_HINTS = [
    (lambda x, w, b, stride=1, pad=0: _conv_ref(x, w[:, :, ::-1, ::-1], b, stride, pad),
     "you flipped the kernel (a mathematician's convolution): the course's convolution is a "
     "cross-correlation, out[n, f, i, j] = b[f] + Σ w[f, c, u, v] · x_pad[n, c, i·s + u, j·s + v]."),
    (lambda x, w, b, stride=1, pad=0: _conv_ref(x, w, 0 * b, stride, pad),
     "the bias b[f] is missing: add it to every output pixel of filter f."),
    (lambda x, w, b, stride=1, pad=0: _conv_ref(x, w, b, stride, pad) - b[None, :, None, None]
     + b[None, :, None, None] * w.shape[1],
     "add the bias once per filter, not once per input channel."),
]


def _conv_forward_check(t, x, w, b, label, **kw):
    t.values(call("conv_forward", x, w, b, **kw), expected=_conv_ref(x, w, b, **kw),
             hints=hint_values(_CONV_FORWARD_HINTS, x, w, b, **kw), label=label)


def _out_shape(x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    return (N, F, (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1)


# The visible examples: two 1-channel 4 × 4 images, two 2 × 2 filters.
_X1 = np.arange(32.0).reshape(2, 1, 4, 4) % 7 - 3
_W1 = np.array([[[[1.0, 0.0], [0.0, -1.0]]], [[[0.5, 2.0], [-1.0, 0.0]]]])
_B1 = np.array([0.5, -1.0])


@assignment.test("test_conv_forward", name="conv_forward", points=4)
def _(t):
    t.shape(call("conv_forward", _X1, _W1, _B1), expected_shape=_out_shape(_X1, _W1),
            label="x of shape (2, 1, 4, 4), w of shape (2, 1, 2, 2), stride=1, pad=0")
    _conv_forward_check(t, _X1, _W1, _B1, "the two 4 × 4 images, two 2 × 2 filters, stride=1, pad=0")
    t.shape(call("conv_forward", _X1, _W1, _B1, stride=2, pad=1),
            expected_shape=_out_shape(_X1, _W1, stride=2, pad=1),
            label="the same with stride=2, pad=1")
    with t.hidden():
        rng = np.random.default_rng(80801)
        x, w, b = rng.normal(size=(3, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
        _conv_forward_check(t, x, w, b, "a (3, 3, 7, 6) batch, four 3 × 2 filters on 3 channels")
        _conv_forward_check(t, x, w, b, "the same with stride=2, pad=1", stride=2, pad=1)
        x1, w1 = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
        _conv_forward_check(t, x1, w1, rng.normal(size=3), "a batch of one, 5 × 5, stride=3, pad=2",
                            stride=3, pad=2)
        _conv_forward_check(t, x1, rng.normal(size=(2, 2, 5, 5)), rng.normal(size=2),
                            "a kernel as large as the image: one output pixel per filter")
        _conv_forward_check(t, x1, rng.normal(size=(2, 2, 1, 1)), np.zeros(2),
                            "a 1 × 1 kernel: a weighted sum of the channels at every pixel")


# ----------------------------------------------------------------------------------------------
# Part 2 · conv_backward
# ----------------------------------------------------------------------------------------------
def _per_example(dout, x, w, b, stride=1, pad=0):
    """(dw, db) of every example on its own: shapes (N, F, C, kh, kw) and (N, F)."""
    parts = [_conv_back_ref(dout[n:n + 1], x[n:n + 1], w, b, stride, pad) for n in range(len(x))]
    return np.stack([p[1] for p in parts]), np.stack([p[2] for p in parts])


_CONV_BACKWARD_HINTS = {
    0: [(lambda dout, x, w, b, stride=1, pad=0: _conv_back_ref(dout, x, w[:, :, ::-1, ::-1], b, stride, pad)[0],
         "dx is a full cross-correlation of dout with the kernel FLIPPED by 180° (w[:, :, ::-1, ::-1], "
         "with its filter and channel axes swapped); you used the kernel unflipped.")],
    1: [(lambda dout, x, w, b, stride=1, pad=0: _per_example(dout, x, w, b, stride, pad)[0],
         "dw must be summed over the batch: one (F, C, kh, kw) array, not one per example."),
        (lambda dout, x, w, b, stride=1, pad=0: _per_example(dout, x, w, b, stride, pad)[0][-1],
         "dw holds only the last example's contribution: the filter is shared by every example, so "
         "add the contributions of all of them (+=, or a sum over n)."),
        (lambda dout, x, w, b, stride=1, pad=0: _per_example(dout, x, w, b, stride, pad)[0][0],
         "dw holds only the first example's contribution: sum over the whole batch."),
        (lambda dout, x, w, b, stride=1, pad=0: _per_example(dout, x, w, b, stride, pad)[0].mean(axis=0),
         "dw is a SUM over the batch, not a mean (L = Σ dout · out has no 1/N)."),
        (lambda dout, x, w, b, stride=1, pad=0: _conv_back_ref(dout, x, w[:, :, ::-1, ::-1], b, stride, pad)[1][:, :, ::-1, ::-1],
         "dw is flipped: dw[f, c, u, v] = Σ dout[n, f, i, j] · x_pad[n, c, i·s + u, j·s + v], no flip.")],
    2: [(lambda dout, x, w, b, stride=1, pad=0: dout.sum(axis=(2, 3)),
         "db must be summed over the batch too: db[f] = Σ over n, i, j of dout[n, f, i, j], shape (F,)."),
        (lambda dout, x, w, b, stride=1, pad=0: dout[-1].sum(axis=(1, 2)),
         "db holds only the last example: add every example's sum."),
        (lambda dout, x, w, b, stride=1, pad=0: dout[0].sum(axis=(1, 2)),
         "db holds only the first example: add every example's sum."),
        (lambda dout, x, w, b, stride=1, pad=0: dout.sum(axis=(2, 3)).mean(axis=0),
         "db is a SUM over the batch, not a mean."),
        (lambda dout, x, w, b, stride=1, pad=0: dout.sum(axis=0),
         "db must also be summed over the output positions (i, j): shape (F,).")],
}
_GRAD_NAMES = ("dx", "dw", "db")


def _conv_backward_check(t, dout, x, w, b, label, stride=1, pad=0, reference=True):
    numeric = _conv_numeric(dout, x, w, b, stride, pad)
    ref = _conv_back_ref(dout, x, w, b, stride, pad)
    for k, name in enumerate(_GRAD_NAMES):
        p = probe(f"conv_backward(dout, x, w, stride=stride, pad=pad)[{k}]",
                  dout=dout, x=x, w=w, stride=stride, pad=pad)
        hints = hint_values(_CONV_BACKWARD_HINTS[k], dout, x, w, b, stride, pad)
        t.values(p, expected=numeric[k], rtol=_GRAD_RTOL, atol=_GRAD_ATOL, hints=hints,
                 label=f"{label}: {name} against finite differences")
        if reference:
            t.values(p, expected=ref[k], rtol=_REF_RTOL, atol=_REF_ATOL, hints=hints,
                     label=f"{label}: {name} against the course's Conv2D")


_DOUT1 = np.array([[[[1.0, -1.0, 0.0], [0.0, 2.0, 1.0], [0.5, 0.0, -1.0]],
                    [[0.0, 1.0, 0.0], [-2.0, 0.0, 1.0], [1.0, 1.0, 0.0]]],
                   [[[0.0, 0.0, 1.0], [1.0, -1.0, 0.0], [0.0, 2.0, 0.0]],
                    [[1.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, -1.0]]]])


@assignment.test("test_conv_backward", name="conv_backward", points=6)
def _(t):
    _conv_backward_check(t, _DOUT1, _X1, _W1, _B1, "the two 4 × 4 images and two 2 × 2 filters")
    with t.hidden():
        rng = np.random.default_rng(80802)
        x, w, b = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
        _conv_backward_check(t, rng.normal(size=_out_shape(x, w)), x, w, b,
                             "a (3, 2, 6, 5) batch, three 3 × 2 filters")
        _conv_backward_check(t, rng.normal(size=_out_shape(x, w, 2, 1)), x, w, b,
                             "the same with stride=2, pad=1", stride=2, pad=1)
        x1, w1, b1 = rng.normal(size=(1, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
        _conv_backward_check(t, rng.normal(size=_out_shape(x1, w1, 1, 1)), x1, w1, b1,
                             "a batch of one, pad=1 (the output keeps the image's size)", pad=1)
        _conv_backward_check(t, rng.normal(size=_out_shape(x1, w1, 2, 0)), x1, w1, b1,
                             "a batch of one, stride=2", stride=2)


# ----------------------------------------------------------------------------------------------
# Part 3 · max pooling, forward and backward
# ----------------------------------------------------------------------------------------------
def _windows(x, s):
    N, C, H, W = x.shape
    Ho, Wo = H // s, W // s
    return x[:, :, :Ho * s, :Wo * s].reshape(N, C, Ho, s, Wo, s)


def _spread(g, x_shape, s):
    """(N, C, Ho, Wo, s, s) window gradients back to the image shape, 0 on ragged edges."""
    N, C, H, W = x_shape
    Ho, Wo = H // s, W // s
    dx = np.zeros(x_shape)
    dx[:, :, :Ho * s, :Wo * s] = g.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * s, Wo * s)
    return dx


def _pool_to_every(dout, x, size=2):
    return _spread(np.broadcast_to(dout[:, :, :, :, None, None],
                                   dout.shape + (size, size)).copy(), x.shape, size)


def _pool_to_every_max(dout, x, size=2):
    win = _windows(x, size).transpose(0, 1, 2, 4, 3, 5)
    is_max = win == win.max(axis=(-2, -1), keepdims=True)
    return _spread(is_max * dout[:, :, :, :, None, None], x.shape, size)


def _pool_to_last_max(dout, x, size=2):
    win = _windows(x, size).transpose(0, 1, 2, 4, 3, 5)
    flat = win.reshape(win.shape[:4] + (-1,))
    last = flat.shape[-1] - 1 - np.argmax(flat[..., ::-1], axis=-1)
    g = np.zeros_like(flat)
    np.put_along_axis(g, last[..., None], dout[..., None], axis=-1)
    return _spread(g.reshape(win.shape), x.shape, size)


_POOL_FORWARD_HINTS = [
    (lambda x, size=2: _windows(x, size).mean(axis=(3, 5)),
     "that is average pooling: take the MAXIMUM of each window."),
    (lambda x, size=2: _windows(x, size).min(axis=(3, 5)), "take the maximum of each window, not the minimum."),
]
_POOL_BACKWARD_HINTS = [
    (_pool_to_every,
     "the gradient of a window goes only to the position of its maximum (the only entry that "
     "reached the output); every other entry gets 0. You sent it to every position."),
    (lambda dout, x, size=2: _pool_to_every(dout, x, size) / size ** 2,
     "that is average pooling's backward (dout / size²): max pooling sends all of dout to the maximum."),
    (_pool_to_every_max,
     "where a window has several equal maxima, only the FIRST (in reading order, as np.argmax finds "
     "it) gets the gradient; the others get 0."),
    (_pool_to_last_max,
     "where a window has several equal maxima, the FIRST one in reading order (np.argmax) gets the "
     "gradient, not the last."),
]


def _pool_forward_check(t, x, label, **kw):
    t.values(call("maxpool_forward", x, **kw), expected=_pool_ref(x, **kw),
             hints=hint_values(_POOL_FORWARD_HINTS, x, **kw), label=label)


_X2 = np.array([[[[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, -1.0, 3.0, 3.0],
                  [2.0, 1.0, 3.0, 1.0]]]])


@assignment.test("test_maxpool_forward", name="maxpool_forward", points=2)
def _(t):
    t.shape(call("maxpool_forward", _X2), expected_shape=(1, 1, 2, 2), label="x of shape (1, 1, 4, 4), size=2")
    _pool_forward_check(t, _X2, "the 4 × 4 example, size=2")
    with t.hidden():
        rng = np.random.default_rng(80803)
        _pool_forward_check(t, rng.normal(size=(3, 2, 6, 8)), "a (3, 2, 6, 8) batch, size=2")
        _pool_forward_check(t, rng.normal(size=(2, 3, 9, 9)), "a (2, 3, 9, 9) batch, size=3", size=3)
        _pool_forward_check(t, rng.normal(size=(1, 2, 5, 7)),
                            "a (1, 2, 5, 7) image, size=2: the ragged last row and column are dropped")


def _pool_backward_check(t, dout, x, label, size=2, numeric=True):
    p = probe("maxpool_backward(dout, x, size=size)", dout=dout, x=x, size=size)
    hints = hint_values(_POOL_BACKWARD_HINTS, dout, x, size)
    if numeric:   # only where no window has a tie (the maximum is then differentiable)
        x = np.array(x, dtype=float)
        fd = numerical_gradient(lambda: float(np.sum(dout * _pool_ref(x, size))), x, h=1e-6)
        t.values(p, expected=fd, rtol=_GRAD_RTOL, atol=_GRAD_ATOL, hints=hints,
                 label=f"{label}: against finite differences")
    t.values(p, expected=_pool_back_ref(dout, x, size), rtol=_REF_RTOL, atol=_REF_ATOL, hints=hints,
             label=f"{label}: against the course's MaxPool2D")


@assignment.test("test_maxpool_backward", name="maxpool_backward", points=3)
def _(t):
    dout = np.array([[[[1.0, -2.0], [0.5, 3.0]]]])
    x = _X2.copy()
    x[0, 0, 2, 3], x[0, 0, 3, 2] = 2.5, 2.0          # no ties left
    _pool_backward_check(t, dout, x, "the 4 × 4 example without ties (2.5 and 2 for two of the 3s)")
    _pool_backward_check(t, dout, _X2, "the 4 × 4 example (three 3s tie in the bottom-right window)",
                         numeric=False)
    with t.hidden():
        rng = np.random.default_rng(80804)
        x = rng.normal(size=(3, 2, 6, 8))
        _pool_backward_check(t, rng.normal(size=(3, 2, 3, 4)), x, "a (3, 2, 6, 8) batch, size=2")
        x = rng.normal(size=(2, 2, 7, 6))
        _pool_backward_check(t, rng.normal(size=(2, 2, 2, 2)), x,
                             "a (2, 2, 7, 6) batch, size=3 (ragged edges get 0)", size=3)
        x = rng.integers(0, 3, size=(1, 3, 4, 6)).astype(float)
        _pool_backward_check(t, rng.normal(size=(1, 3, 2, 3)), x,
                             "a batch of one with many ties (entries 0, 1, 2)", numeric=False)


# ----------------------------------------------------------------------------------------------
# Part 4 · batchnorm_backward
# ----------------------------------------------------------------------------------------------
def _bn_back_variant(dout, cache, var_path=True, mean_path=True, ddof=0, sum_params=True, mean_params=False):
    """The staged backward pass, with switches for the classic mistakes."""
    x, mu, var, gamma, eps = cache["x"], cache["mu"], cache["var"], cache["gamma"], cache["eps"]
    N = x.shape[0]
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * inv ** 3 if var_path else 0.0
    dmu = -np.sum(dx_hat * inv, axis=0) if mean_path else 0.0
    dx = dx_hat * inv + dvar * 2 * (x - mu) / (N - ddof) + dmu / N
    dgamma, dbeta = dout * x_hat, dout
    if sum_params:
        dgamma, dbeta = dgamma.sum(axis=0), dbeta.sum(axis=0)
    elif mean_params:
        dgamma, dbeta = dgamma.mean(axis=0), dbeta.mean(axis=0)
    return dx, dgamma, dbeta


def _bn_hints(k, dout, cache):
    variants = {
        0: [(dict(var_path=False, mean_path=False),
             "the batch's mean and variance depend on x too: dx has three terms, "
             "dx = (1/N)·(1/√(σ²+ε))·(N·dx̂ − Σ dx̂ − x̂ Σ dx̂·x̂) with dx̂ = γ·dout; you kept only the first."),
            (dict(var_path=False),
             "the path through the variance is missing: σ² depends on x, "
             "dσ² = Σ dx̂·(x − μ)·(−½)(σ²+ε)^(−3/2), and it adds dσ²·2(x − μ)/N to dx."),
            (dict(mean_path=False),
             "the path through the mean is missing: μ depends on x, dμ = −Σ dx̂/√(σ²+ε), "
             "and it adds dμ/N to dx."),
            (dict(ddof=1),
             "the variance in the forward pass divides by N, so its derivative is 2(x − μ)/N, "
             "not 2(x − μ)/(N − 1).")],
        1: [(dict(sum_params=False), "dγ must be summed over the batch: dγ = Σ_n dout·x̂, shape (D,)."),
            (dict(sum_params=False, mean_params=True), "dγ is a SUM over the batch, not a mean.")],
        2: [(dict(sum_params=False), "dβ must be summed over the batch: dβ = Σ_n dout, shape (D,)."),
            (dict(sum_params=False, mean_params=True), "dβ is a SUM over the batch, not a mean.")],
    }[k]
    return hint_values([(lambda d, c, kw=kw: _bn_back_variant(d, c, **kw)[k], text) for kw, text in variants],
                  dout, cache)


def _bn_backward_check(t, dout, x, gamma, beta, label, eps=1e-5, weak_dx=False):
    cache = _bn_cache(x, gamma, eps)
    numeric = _bn_numeric(dout, x, gamma, beta, eps)
    ref = _bn_back_ref(dout, x, gamma, beta, eps)
    for k, name in enumerate(("dx", "dgamma", "dbeta")):
        p = probe(f"batchnorm_backward(dout, cache)[{k}]", dout=dout, cache=cache)
        hints = _bn_hints(k, dout, cache)
        weak = weak_dx and name == "dx"
        t.values(p, expected=numeric[k], rtol=_GRAD_RTOL, atol=_GRAD_ATOL, hints=hints, weak=weak,
                 label=f"{label}: {name} against finite differences")
        t.values(p, expected=ref[k], rtol=_REF_RTOL, atol=_REF_ATOL, hints=hints, weak=weak,
                 label=f"{label}: {name} against the course's BatchNorm")


_X3 = np.array([[1.0, 8.0], [2.0, 2.0], [3.0, 2.0], [4.0, 4.0]])
_DOUT3 = np.array([[0.5, -1.0], [1.0, 0.0], [-2.0, 1.0], [0.0, 2.0]])


@assignment.test("test_batchnorm_backward", name="batchnorm_backward", points=5)
def _(t):
    _bn_backward_check(t, _DOUT3, _X3, np.array([1.0, 2.0]), np.array([0.0, 2.0]),
                       "the 4 × 2 example, γ = [1, 2], β = [0, 2]")
    with t.hidden():
        rng = np.random.default_rng(80805)
        _bn_backward_check(t, rng.normal(size=(16, 5)), rng.normal(3.0, 4.0, size=(16, 5)),
                           rng.normal(size=5), rng.normal(size=5), "a (16, 5) batch, random γ and β")
        _bn_backward_check(t, rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 2 * np.ones(3), np.ones(3),
                           "a batch of two")
        _bn_backward_check(t, rng.normal(size=(1, 4)), rng.normal(size=(1, 4)), np.ones(4), np.zeros(4),
                           "a batch of one (x̂ = 0 and dx = 0)", weak_dx=True)   # zeros pass dx
        _bn_backward_check(t, rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) * 1e-2, rng.normal(size=3),
                           np.zeros(3), "small values and eps=1e-3 (the cache's eps is used)", eps=1e-3)
