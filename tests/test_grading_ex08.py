"""The grading round trip of ex08_conv_norm_backward, through nbgrader, on a copy of the course.

Submissions: the solution (20 of 20), the untouched student notebook (0), the classic mistakes
of convolution, pooling and batch-norm gradients (a flipped kernel in the forward pass, an
unflipped one in dx, average instead of max pooling, the pooling gradient sent to every position,
batch norm without its paths through the mean and the variance, gradients of shared parameters
not summed over the batch, the variance's derivative over N − 1), each with its exact per-cell
score and its hint, answers that hard-code the visible expected outputs (no hidden points), and
answers that call the course library's own layers (0 for those functions, whose implementations
are not available while graded).
"""
from __future__ import annotations

import pytest

from _grading import (assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all,
                      output_text)

A = "ex08_conv_norm_backward"

# One mistake per function; every answer stands on its own (none calls another answer).
MISTAKES = {
    # a mathematician's convolution: the kernel flipped
    "conv_forward": '''
def conv_forward(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    wf = w[:, :, ::-1, ::-1]
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", patch, wf) + b
    return out
''',
    # dx as a full cross-correlation of dout with the kernel NOT flipped; dw and db right
    "conv_backward": '''
def conv_backward(dout, x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for u in range(kh):
        for v in range(kw):
            patch = xp[:, :, u:u + stride * Ho:stride, v:v + stride * Wo:stride]
            dw[:, :, u, v] = np.einsum("nfij,ncij->fc", dout, patch)
            # the kernel entry (kh-1-u, kw-1-v) where (u, v) belongs
            dxp[:, :, u:u + stride * Ho:stride, v:v + stride * Wo:stride] += np.einsum(
                "nfij,fc->ncij", dout, w[:, :, kh - 1 - u, kw - 1 - v])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
''',
    # average pooling
    "maxpool_forward": '''
def maxpool_forward(x, size=2):
    return _pool_windows(x, size).mean(axis=-1)
''',
    # the window's gradient copied to every position of the window
    "maxpool_backward": '''
def maxpool_backward(dout, x, size=2):
    N, C, H, W = x.shape
    Ho, Wo = H // size, W // size
    dx = np.zeros(x.shape)
    dx[:, :, :Ho * size, :Wo * size] = np.repeat(np.repeat(dout, size, axis=2), size, axis=3)
    return dx
''',
    # only the direct path through x̂: the batch's mean and variance treated as constants
    "batchnorm_backward": '''
def batchnorm_backward(dout, cache):
    dx = dout * cache["gamma"] / np.sqrt(cache["var"] + cache["eps"])
    return dx, (dout * cache["x_hat"]).sum(axis=0), dout.sum(axis=0)
''',
}
MISTAKE_HINTS = {
    "test_conv_forward": "you flipped the kernel",
    "test_conv_backward": "with the kernel FLIPPED by 180°",
    "test_maxpool_forward": "that is average pooling",
    "test_maxpool_backward": "You sent it to every position.",
    "test_batchnorm_backward": "the batch's mean and variance depend on x too",
}
MISTAKE_SCORES = {
    "test_conv_forward": 1.5,          # 3 of 8: the two shapes, and the 1 × 1 kernel (no flip to see)
    "test_conv_backward": 4.0,         # 20 of 30: dw and db everywhere, dx nowhere
    "test_maxpool_forward": 0.4,       # 1 of 5: the shape
    "test_maxpool_backward": 0.0,      # every window's other entries get a gradient
    "test_batchnorm_backward": 3.33,   # 20 of 30: dγ and dβ everywhere, dx nowhere
}

# Gradients of shared parameters not summed over the batch.
BATCH_SUM = {
    # dw and db restarted for every example, so only the last example's are returned
    "conv_backward": '''
def conv_backward(dout, x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape)
    for n in range(N):
        dw = np.zeros(w.shape)
        db = np.zeros(F)
        for i in range(Ho):
            for j in range(Wo):
                r, c = i * stride, j * stride
                dxp[n, :, r:r + kh, c:c + kw] += np.einsum("f,fckl->ckl", dout[n, :, i, j], w)
                dw += dout[n, :, i, j][:, None, None, None] * xp[n, :, r:r + kh, c:c + kw]
                db += dout[n, :, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
''',
    # dγ and dβ per example
    "batchnorm_backward": '''
def batchnorm_backward(dout, cache):
    x_hat, var, gamma, eps = cache["x_hat"], cache["var"], cache["gamma"], cache["eps"]
    N = dout.shape[0]
    g = dout * gamma
    dx = (N * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0)) / (N * np.sqrt(var + eps))
    return dx, dout * x_hat, dout
''',
}
BATCH_SUM_HINTS = {
    "test_conv_backward": "dw holds only the last example's contribution",
    "test_batchnorm_backward": "dγ must be summed over the batch",
}
BATCH_SUM_SCORES = {
    "test_conv_forward": 4.0,
    "test_conv_backward": 3.6,         # 18 of 30: dx everywhere, dw and db for the batches of one
    "test_maxpool_forward": 2.0,
    "test_maxpool_backward": 3.0,
    "test_batchnorm_backward": 1.67,   # 10 of 30: dx everywhere
}

# The staged backward pass with the variance's derivative taken over N − 1.
VARIANCE = {
    "batchnorm_backward": '''
def batchnorm_backward(dout, cache):
    x, mu, var, gamma, eps = cache["x"], cache["mu"], cache["var"], cache["gamma"], cache["eps"]
    N = x.shape[0]
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / (N - 1) + dmu / N
    return dx, np.sum(dout * cache["x_hat"], axis=0), np.sum(dout, axis=0)
''',
}
VARIANCE_HINTS = {"test_batchnorm_backward": "not 2(x − μ)/(N − 1)"}
VARIANCE_SCORES = dict(BATCH_SUM_SCORES, test_conv_backward=6.0,
                       test_batchnorm_backward=3.33)   # 20 of 30: dγ and dβ

HARDCODED = {
    "conv_forward": '''
def conv_forward(x, w, b, stride=1, pad=0):
    one = [[[-4.5, -4.5, 2.5], [2.5, 2.5, 2.5], [-4.5, 2.5, 2.5]],
           [[-7.5, -6.0, -4.5], [5.5, 7.0, -5.5], [-6.0, -4.5, 4.0]]]
    two = [[[2.5, 2.5, 2.5], [2.5, -4.5, -4.5], [2.5, 2.5, 2.5]],
           [[-4.5, 4.0, 5.5], [-5.5, -7.5, -6.0], [4.0, 5.5, 7.0]]]
    return np.array([one, two])
''',
    "conv_backward": '''
def conv_backward(dout, x, w, stride=1, pad=0):
    dx = np.array([[[[1.0, -0.5, 2.0, 0.0], [-1.0, -4.0, 2.5, 2.0], [3.0, 2.5, -2.0, -1.0],
                     [-1.0, -1.5, 0.0, 1.0]]],
                   [[[0.5, 2.0, 1.0, 0.0], [0.0, -0.75, 1.0, -1.0], [0.0, 0.5, 0.5, -2.0],
                     [0.0, 0.0, -1.0, 0.0]]]])
    dw = np.array([[[[14.0, 5.5], [-6.0, -0.5]]], [[[-8.5, -13.0], [15.5, 4.0]]]])
    return dx, dw, np.array([5.5, 2.5])
''',
    "maxpool_forward": '''
def maxpool_forward(x, size=2):
    return np.array([[[[4.0, 5.0], [2.0, 3.0]]]])
''',
    "maxpool_backward": '''
def maxpool_backward(dout, x, size=2):
    return np.array([[[[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, -2.0], [0.0, 0.0, 3.0, 0.0],
                       [0.5, 0.0, 0.0, 0.0]]]])
''',
    "batchnorm_backward": '''
def batchnorm_backward(dout, cache):
    dx = np.array([[-4.47163508e-02, -4.08249311e-01], [8.04982862e-01, -8.16495220e-01],
                   [-1.47580057e+00, 6.80412116e-07], [7.15534061e-01, 1.22474385e+00]])
    return dx, np.array([-2.01245313, -2.4494877]), np.array([-0.5, 2.0])
''',
}
HARDCODED_SCORES = {  # the visible checks only
    "test_conv_forward": 1.5,          # 3 of 8
    "test_conv_backward": 1.2,         # 6 of 30
    "test_maxpool_forward": 0.8,       # 2 of 5
    "test_maxpool_backward": 1.12,     # 3 of 8
    "test_batchnorm_backward": 1.0,    # 6 of 30
}

LIBRARY = {
    "maxpool_forward": '''
from nnlib.layers import MaxPool2D


def maxpool_forward(x, size=2):
    return MaxPool2D(size).forward(x)
''',
    "batchnorm_backward": '''
from nnlib.layers import BatchNorm


def batchnorm_backward(dout, cache):
    layer = BatchNorm(eps=cache["eps"])
    layer.build(cache["x"].shape[1:])
    layer.params["gamma"][...] = cache["gamma"]
    layer.forward(cache["x"], training=True)
    dx = layer.backward(dout)
    return dx, layer.grads["gamma"], layer.grads["beta"]
''',
}


@pytest.fixture(scope="module")
def graded(course_copy):
    submissions = class_of(mistakes=MISTAKES, batch_sum=BATCH_SUM, variance=VARIANCE,
                           hardcoded=HARDCODED, library=LIBRARY)
    return course_copy, grade_all(course_copy, A, submissions)


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], 20, {"test_conv_forward": 4, "test_conv_backward": 6,
                                      "test_maxpool_forward": 2, "test_maxpool_backward": 3,
                                      "test_batchnorm_backward": 5})


def test_untouched_student_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


def test_planted_mistakes_score_the_designed_marks_with_their_hints(graded):
    assert_designed(*graded, A, "mistakes", MISTAKE_SCORES, MISTAKE_HINTS)


def test_gradients_not_summed_over_the_batch_are_hinted(graded):
    assert_designed(*graded, A, "batch_sum", BATCH_SUM_SCORES, BATCH_SUM_HINTS)
    text = output_text(graded[0], "batch_sum", A, "test_batchnorm_backward")
    assert "dβ must be summed over the batch" in text, text


def test_the_variance_over_n_minus_one_is_hinted(graded):
    assert_designed(*graded, A, "variance", VARIANCE_SCORES, VARIANCE_HINTS)


def test_hardcoded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hardcoded"]["cells"] == pytest.approx(HARDCODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    assert cells["test_maxpool_forward"] == 0 and cells["test_batchnorm_backward"] == 0, cells
    assert scores["library"]["total"] == pytest.approx(20 - 2 - 5)
    # while graded the library keeps its names but not its implementations
    for grade_id in ("test_maxpool_forward", "test_batchnorm_backward"):
        text = output_text(root, "library", A, grade_id)
        assert "it calls nnlib.layers." in text and "not available while graded" in text, (grade_id, text)
