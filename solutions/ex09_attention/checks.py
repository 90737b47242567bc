"""The checks of exercise 09 (attention): 20 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

The expected values come from the course library (``nnlib.layers.attention``: scaled dot-product
attention, its backward pass, split_heads and MultiHeadAttention), which runs here, in the judge;
the gradients are judged against centred finite differences of the library's forward pass as well.
While a submission is graded the library's implementations are not available to it
(``library=()``: the notebook uses no part of ``nnlib`` outside its answers). Every hint's value is
what a deliberately wrong variant below computes on the same inputs.
"""

import numpy as np

from coursetools.judge import Assignment, call, hint_values
from selfcheck.compare import compare
from nnlib.layers import MultiHeadAttention
from nnlib.layers import attention as ref

assignment = Assignment("ex09_attention", library=())


def _demo():
    """The example of the notebook: q, k, v of shape (2, 4, 4), one decimal."""
    rng = np.random.default_rng(9)
    return tuple(np.round(rng.normal(size=(2, 4, 4)), 1) for _ in range(3))


def _causal(T):
    return np.tri(T, dtype=bool)


def _distinct(hints, expected):
    """The hints whose wrong value differs from the expected one (on some inputs a mistake is
    harmless: with one head, say, there is nothing to mix up)."""
    return [(value, text) for value, text in hints if not compare(value, expected, 1e-6, 1e-9)[0]]




# ----------------------------------------------------------------------------------------------
# Part 1 · attention_forward
# ----------------------------------------------------------------------------------------------
_FORWARD_PRELUDE = '''
def _attention_out(q, k, v, mask=None):
    # the output of the student's attention_forward
    return attention_forward(q, k, v, mask)[0]

def _attention_weights(q, k, v, mask=None):
    # the weights of the student's attention_forward
    return attention_forward(q, k, v, mask)[1]
'''


def _variant(q, k, v, mask=None, scale="sqrt", axis=-1, mask_how="-inf", transpose_k=True,
             guard_empty=True):
    """Attention as written, or with one classic mistake: (out, weights).

    scale: "sqrt" (1/√d, right), "none" or "d" (1/d); axis: the softmax's axis (-1 right, -2 over
    the queries); mask_how: "-inf" (right), "zero" (masked scores set to 0), "after" (weights
    multiplied by the mask after the softmax), "ignored"; transpose_k=False computes Q K without
    the transpose; guard_empty=False lets a fully masked row divide 0 by 0 (NaN)."""
    d = q.shape[-1]
    factor = {"sqrt": 1 / np.sqrt(d), "none": 1.0, "d": 1 / d}[scale]
    scores = (q @ (np.swapaxes(k, -1, -2) if transpose_k else k)) * factor
    if mask is not None and mask_how == "-inf":
        scores = np.where(mask, scores, -np.inf)
    elif mask is not None and mask_how == "zero":
        scores = np.where(mask, scores, 0.0)
    m = scores.max(axis=axis, keepdims=True)
    if guard_empty:
        m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(scores - m)
    total = e.sum(axis=axis, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0) if guard_empty else e / total
    if mask is not None and mask_how == "after":
        weights = weights * mask
    return weights @ v, weights


_FORWARD_MISTAKES = [
    (dict(scale="none"), "the scores are not scaled: divide Q Kᵀ by √d (d = q.shape[-1]) before the "
                         "softmax."),
    (dict(scale="d"), "divide the scores by √d, the square ROOT of d, not by d."),
    (dict(axis=-2), "the softmax runs over the wrong axis: each query's weights (a row, the LAST "
                    "axis, over the keys) must sum to 1."),
    (dict(mask_how="after"), "the mask is applied after the softmax: set the masked scores to −inf "
                             "BEFORE it, so that the weights that remain still sum to 1."),
    (dict(mask_how="zero"), "a masked score set to 0 still gets a weight (exp(0) = 1 is not small): "
                            "set masked scores to −inf, whose exp is exactly 0."),
    (dict(mask_how="ignored"), "the mask is ignored: positions where mask is False must get weight 0."),
    (dict(transpose_k=False), "K is not transposed: the scores are Q Kᵀ (q @ np.swapaxes(k, -1, -2)), "
                              "one score per (query, key) pair."),
    (dict(guard_empty=False), "a query whose every key is masked must get weights 0 (and output 0), "
                              "not NaN: when a row's maximum is −inf, subtract 0 instead, and divide "
                              "by 1 where the row's sum is 0."),
]


def _forward_hints(which, q, k, v, mask=None):
    hints = [(lambda *a, kw=kw, **k: _variant(*a, **kw, **k)[which], text) for kw, text in _FORWARD_MISTAKES
             if mask is not None or "mask_how" not in kw and "guard_empty" not in kw]
    return hint_values(hints, q, k, v, mask)


def _forward_checks(t, label, q, k, v, mask=None, what=("weights", "out")):
    expected = ref.scaled_dot_product(q, k, v, mask)
    args = (q, k, v) if mask is None else (q, k, v, mask)
    for which, name in ((1, "weights"), (0, "out")):
        if name in what:
            t.values(call(f"_attention_{name}", *args),
                     expected=expected[which], rtol=1e-6, atol=1e-9,
                     hints=_distinct(_forward_hints(which, q, k, v, mask), expected[which]), label=f"{label}: {name}")


@assignment.test("test_attention_forward", name="attention_forward", points=6, prelude=_FORWARD_PRELUDE)
def _(t):
    q, k, v = _demo()
    t.shape(call("_attention_out", q, k, v), expected_shape=(2, 4, 4),
            label="the example above (q, k, v of shape (2, 4, 4)): out")
    _forward_checks(t, "the example above, no mask", q, k, v)
    _forward_checks(t, "the example above with the causal mask (4, 4)", q, k, v, _causal(4), what=("weights",))
    with t.hidden():
        rng = np.random.default_rng(90901)
        q, k, v = rng.normal(size=(3, 3, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 6))
        pad = ref.padding_mask(np.array([5, 2, 4]), 5)
        _forward_checks(t, "3 queries over 5 keys, d=4, values of width 6, padding mask (3, 1, 5)", q, k, v, pad)
        q, k, v = (rng.normal(size=(1, 6, 6)) for _ in range(3))
        _forward_checks(t, "a batch of one, T=6, d=6, causal mask", q, k, v, _causal(6), what=("out",))
        q, k, v = (rng.normal(size=(2, 3, 4)) for _ in range(3))
        empty = np.ones((2, 3, 3), dtype=bool)
        empty[0, 1] = False                                   # query 1 of example 0 may attend nowhere
        _forward_checks(t, "query 1 of example 0 fully masked (its weights and output must be 0)",
                        q, k, v, empty)
        q, k, v = (rng.normal(size=(2, 5, 16)) for _ in range(3))
        _forward_checks(t, "d=16, no mask", q, k, v, what=("weights",))
        _forward_checks(t, "scores of several hundred (q × 60): the softmax must stay finite",
                        60 * q, k, v, what=("weights",))
        q, k, v = (rng.normal(size=(2, 2, 3, 4)) for _ in range(3))
        _forward_checks(t, "a head axis, q, k, v of shape (N, h, T, d) = (2, 2, 3, 4)", q, k, v, what=("out",))


# ----------------------------------------------------------------------------------------------
# Part 2 · attention_backward
# ----------------------------------------------------------------------------------------------
_BACKWARD_PRELUDE = '''
def _attention_grad(i, dout, q, k, v, weights):
    # dq (i=0), dk (i=1) or dv (i=2) of the student's attention_backward, given the forward's cache
    return attention_backward(dout, (q, k, v, weights))[i]
'''


def _centred(f, x, h=1e-6):
    """Centred differences (f(x + h e_i) − f(x − h e_i)) / 2h of a scalar function, entry by entry."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def _numeric_grads(dout, q, k, v, mask=None):
    """dL/dq, dL/dk, dL/dv of L = Σ dout ⊙ out(q, k, v) by centred differences of the library's
    forward pass."""
    def loss(a, b, c):
        return float(np.sum(dout * ref.scaled_dot_product(a, b, c, mask)[0]))
    return (_centred(lambda x: loss(x, k, v), q), _centred(lambda x: loss(q, x, v), k),
            _centred(lambda x: loss(q, k, x), v))


def _backward_variant(dout, q, k, v, w, scale=True, softmax_sum=True, transpose_ds=True,
                      transpose_w=True, sign=1.0):
    """The backward pass as written, or with one classic mistake: (dq, dk, dv)."""
    s = 1 / np.sqrt(q.shape[-1]) if scale else 1.0
    dv = (np.swapaxes(w, -1, -2) if transpose_w else w) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
    ds = w * (dw - (dw * w).sum(axis=-1, keepdims=True)) if softmax_sum else w * dw
    dq = s * ds @ k
    dk = s * (np.swapaxes(ds, -1, -2) if transpose_ds else ds) @ q
    return sign * dq, sign * dk, sign * dv


_BACKWARD_MISTAKES = [
    (dict(scale=False), "the scores were multiplied by s = 1/√d in the forward pass, so dQ and dK "
                        "carry that factor too: dQ = s · dS K, dK = s · dSᵀ Q."),
    (dict(softmax_sum=False), "the softmax's backward is dS = W ⊙ (dW − Σ_j dW_j W_j), row by row: "
                              "the sum term is missing (W ⊙ dW alone treats each weight as if it "
                              "did not depend on the other scores of its row)."),
    (dict(transpose_ds=False), "dK = s · dSᵀ Q: transpose dS (its rows are the queries, dK's rows "
                               "are the keys)."),
    (dict(transpose_w=False), "dV = Wᵀ G: transpose the weights (their rows are the queries, dV's "
                              "rows are the keys)."),
    (dict(sign=-1.0), "the sign is flipped."),
]


def _backward_hints(i, dout, q, k, v, w):
    hints = [(lambda *a, kw=kw: _backward_variant(*a, **kw)[i], text) for kw, text in _BACKWARD_MISTAKES]
    return hint_values(hints, dout, q, k, v, w)


_NAMES = ("dq", "dk", "dv")


def _backward_checks(t, label, dout, q, k, v, mask=None, against="differences"):
    """dq, dk, dv of the student's backward, given the library's forward cache, against centred
    differences of the forward pass or against the library's own backward pass."""
    w = ref.scaled_dot_product(q, k, v, mask)[1]
    if against == "differences":
        expected, rtol, atol = _numeric_grads(dout, q, k, v, mask), 1e-5, 1e-7
        how = "vs centred differences"
    else:
        expected, rtol, atol = ref.scaled_dot_product_backward(dout, (q, k, v, w)), 1e-7, 1e-10
        how = "vs the course's reference"
    for i, name in enumerate(_NAMES):
        t.values(call("_attention_grad", i, dout, q, k, v, w), expected=expected[i], rtol=rtol, atol=atol,
                 hints=_distinct(_backward_hints(i, dout, q, k, v, w), expected[i]), label=f"{label}: {name} {how}")


@assignment.test("test_attention_backward", name="attention_backward", points=7, prelude=_BACKWARD_PRELUDE)
def _(t):
    q, k, v = _demo()
    dout = np.round(np.random.default_rng(19).normal(size=(2, 4, 4)), 1)
    _backward_checks(t, "the example above, no mask", dout, q, k, v)
    with t.hidden():
        rng = np.random.default_rng(90902)
        q, k, v = rng.normal(size=(3, 3, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
        pad = ref.padding_mask(np.array([5, 2, 4]), 5)
        _backward_checks(t, "3 queries over 5 keys, d=4, values of width 2, padding mask (3, 1, 5)",
                         rng.normal(size=(3, 3, 2)), q, k, v, pad)
        q, k, v = (rng.normal(size=(1, 6, 8)) for _ in range(3))
        _backward_checks(t, "a batch of one, T=6, d=8, causal mask", rng.normal(size=(1, 6, 8)), q, k, v,
                         _causal(6), against="reference")
        q, k, v = (rng.normal(size=(2, 3, 4)) for _ in range(3))
        empty = np.ones((2, 3, 3), dtype=bool)
        empty[1, 0] = False                                   # query 0 of example 1 may attend nowhere
        _backward_checks(t, "query 0 of example 1 fully masked (no gradient flows through it)",
                         rng.normal(size=(2, 3, 4)), q, k, v, empty, against="reference")


# ----------------------------------------------------------------------------------------------
# Part 3 · split_heads and multihead_forward
# ----------------------------------------------------------------------------------------------
def _split_no_transpose(x, h):
    N, T, D = x.shape
    return x.reshape(N, h, T, D // h)


def _split_interleaved(x, h):
    N, T, D = x.shape
    return x.reshape(N, T, D // h, h).transpose(0, 3, 1, 2)


_SPLIT_HINTS = [
    (_split_no_transpose, "the heads are mixed up: x.reshape(N, h, T, D // h) cuts the flat numbers "
                          "of each example in order, across the time steps. Reshape to (N, T, h, D // h) "
                          "first (each row's columns cut into h blocks), then move the head axis forward."),
    (_split_interleaved, "the heads are mixed up: head i must take the i-th BLOCK of D/h adjacent columns "
                         "(columns i·d … (i+1)·d − 1), not every h-th column."),
]


def _split_check(t, label, x, h):
    expected = ref.split_heads(x, h)
    t.values(call("split_heads", x, h), expected=expected, rtol=0, atol=0,
             hints=_distinct(hint_values(_SPLIT_HINTS, x, h), expected), label=label)


@assignment.test("test_split_heads", name="split_heads", points=2)
def _(t):
    x = np.arange(24.0).reshape(2, 3, 4)
    t.shape(call("split_heads", x, 2), expected_shape=(2, 2, 3, 2))
    _split_check(t, "x = np.arange(24.0).reshape(2, 3, 4), h=2", x, 2)
    with t.hidden():
        rng = np.random.default_rng(90903)
        _split_check(t, "a batch of one, T=5, D=12, h=3", rng.normal(size=(1, 5, 12)), 3)
        _split_check(t, "N=3, T=2, D=8, h=4", rng.normal(size=(3, 2, 8)), 4)
        _split_check(t, "h=1: one head holds every column", rng.normal(size=(2, 3, 5)), 1)
        _split_check(t, "h=D: heads of width 1", rng.normal(size=(2, 4, 3)), 3)


def _params(rng, D):
    return {f"{w}_{p}": (rng.normal(0, 1 / np.sqrt(D), size=(D, D)) if w == "W" else rng.normal(0, 0.1, size=D))
            for p in "qkvo" for w in "Wb"}


def _reference_mha(x, params, num_heads, mask=None):
    layer = MultiHeadAttention(num_heads, d_model=x.shape[-1])
    for name, value in params.items():
        layer.params[name][...] = value
    return layer.forward(np.array(x, dtype=float), mask=mask)


def _mha_variant(x, params, num_heads, mask=None, split=ref.split_heads, width="head", out_proj=True,
                 use_mask=True):
    """Multi-head attention as written, or with one classic mistake."""
    p, h = params, num_heads
    if mask is not None and np.ndim(mask) == 3:
        mask = np.asarray(mask)[:, None]
    Q, K, V = (split(x @ p[f"W_{n}"] + p[f"b_{n}"], h) for n in "qkv")
    d = Q.shape[-1] if width == "head" else x.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)
    weights = ref.masked_softmax(scores, mask if use_mask else None)
    concat = ref.merge_heads(weights @ V)
    return concat @ p["W_o"] + p["b_o"] if out_proj else concat


_MHA_MISTAKES = [
    (dict(split=_split_no_transpose), "the heads are mixed up when splitting: reshape (N, T, D) to "
                                      "(N, T, h, D // h), then transpose to (N, h, T, D // h)."),
    (dict(split=_split_interleaved), "the heads are mixed up: head i takes a block of D/h adjacent "
                                     "columns, not every h-th column."),
    (dict(width="model"), "each head scales its scores by 1/√d with d = D/h, the width of ONE head "
                          "(q.shape[-1] of the split Q), not by 1/√D."),
    (dict(out_proj=False), "the output projection is missing: out = concat(heads) W_o + b_o."),
    (dict(use_mask=False), "the mask is ignored: give it to every head (a 3-D mask needs a head axis, "
                           "mask[:, None])."),
]


def _mha_check(t, label, x, params, h, mask=None):
    kwargs = {} if mask is None else {"mask": mask}
    hints = [(lambda *a, kw=kw, **k: _mha_variant(*a, **kw, **k), text) for kw, text in _MHA_MISTAKES
             if mask is not None or "use_mask" not in kw]
    expected = _reference_mha(x, params, h, mask)
    t.values(call("multihead_forward", x, params, h, **kwargs), expected=expected, rtol=1e-6, atol=1e-9,
             hints=_distinct(hint_values(hints, x, params, h, **kwargs), expected), label=label)


def _mha_demo():
    rng = np.random.default_rng(29)
    return np.round(rng.normal(size=(2, 4, 6)), 1), _params(rng, 6)


@assignment.test("test_multihead_forward", name="multihead_forward", points=5)
def _(t):
    x, params = _mha_demo()
    t.shape(call("multihead_forward", x, params, 2), expected_shape=(2, 4, 6))
    _mha_check(t, "the example above: x (2, 4, 6), 2 heads, no mask", x, params, 2)
    _mha_check(t, "the example above with the causal mask (4, 4)", x, params, 2, _causal(4))
    with t.hidden():
        rng = np.random.default_rng(90904)
        _mha_check(t, "N=3, T=5, D=8, 4 heads, causal mask", rng.normal(size=(3, 5, 8)), _params(rng, 8), 4,
                   _causal(5))
        _mha_check(t, "a batch of one, T=4, D=6, 3 heads, padding mask (1, 1, 4)", rng.normal(size=(1, 4, 6)),
                   _params(rng, 6), 3, ref.padding_mask(np.array([2]), 4))
        _mha_check(t, "N=2, T=3, D=4, one head", rng.normal(size=(2, 3, 4)), _params(rng, 4), 1)
        _mha_check(t, "N=2, T=6, D=12, 3 heads, padding mask (2, 1, 6)", rng.normal(size=(2, 6, 12)),
                   _params(rng, 12), 3, ref.padding_mask(np.array([6, 3]), 6))


# The two ways of computing the gradients agree on the checks' inputs (a guard on this file).
def _self_test():
    q, k, v = _demo()
    dout = np.random.default_rng(19).normal(size=(2, 4, 4))
    w = ref.scaled_dot_product(q, k, v, _causal(4))[1]
    for a, b in zip(_numeric_grads(dout, q, k, v, _causal(4)), ref.scaled_dot_product_backward(dout, (q, k, v, w))):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-7), "finite differences and the library's backward differ"


_self_test()
