"""The grading round trip of ex09_attention, through nbgrader, on a copy of the course.

Submissions: the solution (20 of 20), the untouched student notebook (0), one submission per
classic mistake (the √d scaling missing, the softmax over the wrong axis, the mask applied after
the softmax, masked scores set to 0 instead of −inf, K not transposed, the heads mixed up when
splitting, the output projection missing; with the backward pass's own mistakes beside them),
each with its exact per-cell score and its hint, answers that hard-code the visible expected
outputs (no hidden points), and an answer that calls the course library's own attention (0 for
it and for the multi-head layer built on it: the library's implementations are not available
while graded).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _grading import assert_designed, assert_full_marks, assert_untouched_scores_zero, class_of, grade_all, output_text, \
    replace_answers
from selfcheck import codec

A = "ex09_attention"
ROOT = Path(__file__).resolve().parents[1]
TOTAL = 20
POINTS = {"test_attention_forward": 6, "test_attention_backward": 7, "test_split_heads": 2,
          "test_multihead_forward": 5}


# ----------------------------------------------------------------------------------------------
# Submissions with planted mistakes, written the way a student would write them
# ----------------------------------------------------------------------------------------------
def _forward(kt="np.swapaxes(k, -1, -2)", scale="/ np.sqrt(q.shape[-1])", fill="-np.inf", axis="-1", after=""):
    """attention_forward, right by default; each argument plants one mistake."""
    return f'''
def attention_forward(q, k, v, mask=None):
    scores = q @ {kt} {scale}
    if mask is not None:
        scores = np.where(mask, scores, {fill})
    top = scores.max(axis={axis}, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scores - top)
    total = e.sum(axis={axis}, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    {after}return weights @ v, weights
'''


def _backward(s="1.0 / np.sqrt(q.shape[-1])", wt="np.swapaxes(weights, -1, -2)",
              row_sum=" - (dweights * weights).sum(axis=-1, keepdims=True)", dst="np.swapaxes(dscores, -1, -2)"):
    """attention_backward, right by default; each argument plants one mistake."""
    return f'''
def attention_backward(dout, cache):
    q, k, v, weights = cache
    s = {s}
    dv = {wt} @ dout
    dweights = dout @ np.swapaxes(v, -1, -2)
    dscores = s * weights * (dweights{row_sum})
    dq = dscores @ k
    dk = {dst} @ q
    return dq, dk, dv
'''


_MIXED_SPLIT = '''
def split_heads(x, h):
    N, T, D = x.shape
    return x.reshape(N, h, T, D // h)
'''

_NO_OUTPUT_PROJECTION = '''
def multihead_forward(x, params, num_heads, mask=None):
    N, T, D = x.shape
    Q, K, V = (split_heads(x @ params[f"W_{n}"] + params[f"b_{n}"], num_heads) for n in "qkv")
    if mask is not None and np.ndim(mask) == 3:
        mask = mask[:, None]
    heads, _ = attention_forward(Q, K, V, mask)
    return heads.transpose(0, 2, 1, 3).reshape(N, T, D)
'''

# student: ({answer cell: source}, {test cell: score}, {test cell: hint shown})
MISTAKES = {
    "no_scaling": (
        {"attention_forward": _forward(scale=""), "attention_backward": _backward(s="1.0")},
        {"test_attention_forward": 0.5,      # 1 of 12: the shape
         "test_attention_backward": 2.33,    # 4 of 12: dv, which does not depend on the scale
         "test_split_heads": 2, "test_multihead_forward": 0.71},   # 1 of 7: the shape (uses the forward)
        {"test_attention_forward": "the scores are not scaled: divide Q Kᵀ by √d",
         "test_attention_backward": "the scores were multiplied by s = 1/√d in the forward pass"}),
    "softmax_axis": (
        {"attention_forward": _forward(axis="-2"), "attention_backward": _backward(row_sum="")},
        {"test_attention_forward": 0.5, "test_attention_backward": 2.33, "test_split_heads": 2,
         "test_multihead_forward": 0.71},
        {"test_attention_forward": "the softmax runs over the wrong axis",
         "test_attention_backward": "the sum term is missing"}),
    "mask_after_softmax": (
        {"attention_forward": _forward(fill="scores", after="weights = weights * mask if mask is not None "
                                                            "else weights\n    "),
         "attention_backward": _backward(dst="dscores")},
        {"test_attention_forward": 4.0,      # 8 of 12: every check without a mask (and the fully masked row)
         "test_attention_backward": 3.5,     # 6 of 12: dq and dv (dK fails)
         "test_split_heads": 2, "test_multihead_forward": 2.14},   # 3 of 7: the unmasked ones
        {"test_attention_forward": "the mask is applied after the softmax",
         "test_attention_backward": "dK = s · dSᵀ Q: transpose dS"}),
    "mask_with_zero": (
        {"attention_forward": _forward(fill="0.0")},
        {"test_attention_forward": 3.0,      # 6 of 12: the unmasked checks
         "test_attention_backward": 7, "test_split_heads": 2, "test_multihead_forward": 2.14},
        {"test_attention_forward": "a masked score set to 0 still gets a weight"}),
    "k_not_transposed": (
        {"attention_forward": _forward(kt="k")},
        {"test_attention_forward": 0.5,      # 1 of 12: the shape, where T_k = d
         "test_attention_backward": 7, "test_split_heads": 2, "test_multihead_forward": 0.0},
        {"test_attention_forward": "K is not transposed"}),
    "heads_mixed": (
        {"split_heads": _MIXED_SPLIT},
        {"test_attention_forward": 6, "test_attention_backward": 7,
         "test_split_heads": 0.67,           # 2 of 6: the shape, and h = 1 (nothing to mix up)
         "test_multihead_forward": 1.43},    # 2 of 7: the shape, and one head
        {"test_split_heads": "the heads are mixed up: x.reshape(N, h, T, D // h)",
         "test_multihead_forward": "the heads are mixed up when splitting"}),
    "no_output_projection": (
        {"attention_backward": _backward(wt="weights"), "multihead_forward": _NO_OUTPUT_PROJECTION},
        {"test_attention_forward": 6,
         "test_attention_backward": 3.5,     # 6 of 12: dq and dk
         "test_split_heads": 2, "test_multihead_forward": 0.71},
        {"test_attention_backward": "dV = Wᵀ G: transpose the weights",
         "test_multihead_forward": "the output projection is missing"}),
}


def _visible_expected(test_id):
    """The expected values of a test's visible checks, as the students' visible_checks.json has them."""
    plan = json.loads((ROOT / "solutions" / A / "visible_checks.json").read_text(encoding="utf-8"))
    return [codec.decode(c["expected"]) for c in plan["tests"][test_id]["cases"] if c["kind"] == "values"]


def _literal(a):
    return f"np.array({np.asarray(a).tolist()!r})"


def _hardcoded():
    """Answers that return the visible checks' expected values whatever the input (copied from
    the expected outputs)."""
    weights, out, _causal = _visible_expected("test_attention_forward")
    dq, dk, dv = _visible_expected("test_attention_backward")
    (split,) = _visible_expected("test_split_heads")
    mha, _masked = _visible_expected("test_multihead_forward")
    return {
        "attention_forward": f"def attention_forward(q, k, v, mask=None):\n"
                             f"    return {_literal(out)}, {_literal(weights)}\n",
        "attention_backward": f"def attention_backward(dout, cache):\n"
                              f"    return {_literal(dq)}, {_literal(dk)}, {_literal(dv)}\n",
        "split_heads": f"def split_heads(x, h):\n    return {_literal(split)}\n",
        "multihead_forward": f"def multihead_forward(x, params, num_heads, mask=None):\n"
                             f"    return {_literal(mha)}\n",
    }


HARDCODED_SCORES = {  # the visible checks only
    "test_attention_forward": 1.5,      # 3 of 12 (the visible causal-mask check fails too)
    "test_attention_backward": 1.75,    # 3 of 12
    "test_split_heads": 0.67,           # 2 of 6
    "test_multihead_forward": 1.43,     # 2 of 7 (the visible causal-mask check fails too)
}

LIBRARY = {
    "attention_forward": '''
from nnlib.layers.attention import scaled_dot_product


def attention_forward(q, k, v, mask=None):
    return scaled_dot_product(q, k, v, mask)
''',
}


@pytest.fixture(scope="module")
def graded(course_copy):
    submissions = class_of(hardcoded=_hardcoded(), library=LIBRARY)
    for student, (answers, _, _) in MISTAKES.items():
        submissions[student] = lambda released, perfect, answers=answers: replace_answers(perfect, answers)
    return course_copy, grade_all(course_copy, A, submissions)


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded[1], TOTAL, POINTS)


def test_untouched_student_notebook_scores_zero(graded):
    assert_untouched_scores_zero(graded[1])


@pytest.mark.parametrize("student", MISTAKES)
def test_each_classic_mistake_scores_the_designed_marks_with_its_hint(graded, student):
    _, scores, hints = MISTAKES[student]
    assert_designed(*graded, A, student, scores, hints)


def test_hardcoded_visible_answers_earn_no_hidden_points(graded):
    _, scores = graded
    assert scores["hardcoded"]["cells"] == pytest.approx(HARDCODED_SCORES)


def test_calling_the_library_earns_nothing_for_that_function(graded):
    root, scores = graded
    cells = scores["library"]["cells"]
    # the multi-head layer calls the student's attention_forward, so it earns nothing either
    assert cells == pytest.approx({**POINTS, "test_attention_forward": 0, "test_multihead_forward": 0})
    text = output_text(root, "library", A, "test_attention_forward")
    assert "it calls nnlib.layers.attention.scaled_dot_product" in text, text
    assert "not available while graded" in text, text
