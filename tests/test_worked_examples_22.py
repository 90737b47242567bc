"""Worked examples of lecture 22 (attention and transformers), recomputed independently.

The three-token look-up is recomputed with plain Python floats (math.exp, no numpy attention) and
compared with every number the lecture prints and with the numbers its text states; the other
facts the lecture states (Var(q·k) = d and the saturating softmax, the causal mask's first row,
the parameter counts, permutation equivariance, the sinusoidal values, the residual path keeping
the gradient, the recall data and the trained models' accuracies) are checked against the stored
outputs, and recomputed where that is cheap. nbval checks that the outputs are reproduced.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib.layers import LSTM, Dense, Embedding, MultiHeadAttention, PositionalEncoding, SequencePool
from nnlib.layers import Softmax, TransformerBlock
from nnlib.models import Sequential

LECTURE = Path(__file__).resolve().parents[1] / "lectures" / "22_attention_and_transformers.ipynb"
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"

Q = [[2.0, 0.0], [0.0, 1.0], [1.0, 2.0]]
K = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
V = [[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]]


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(LECTURE, as_version=4)


def cell_with(nb, fragment):
    """The one code cell whose source contains ``fragment``."""
    found = [c for c in nb.cells if c.cell_type == "code" and fragment in c.source]
    assert len(found) == 1, f"expected one code cell containing {fragment!r}, found {len(found)}"
    return found[0]


def stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def numbers(text):
    return [float(x) for x in re.findall(NUMBER, text)]


def bracket(text, label):
    """The numbers inside the first [...] after ``label`` in ``text``."""
    m = re.search(re.escape(label) + r"\s*\[([^\]]*)\]", text)
    assert m, f"{label!r} not found in the output:\n{text}"
    return numbers(m.group(1))


def attention_by_hand(q, keys, values):
    """Scores, exponentials, weights and output of one query, in plain floats."""
    d = len(q)
    raw = [sum(a * b for a, b in zip(q, k)) for k in keys]
    scores = [r / math.sqrt(d) for r in raw]
    exps = [math.exp(s) for s in scores]
    total = sum(exps)
    weights = [e / total for e in exps]
    out = [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(values[0]))]
    return raw, scores, exps, total, weights, out


def test_three_token_example_matches_every_printed_number(nb):
    text = stdout(cell_with(nb, "raw = Q @ K.T"))
    blocks = re.split(r"token \d: ", text)[1:]
    assert len(blocks) == 3
    for i, block in enumerate(blocks):
        raw, scores, exps, total, weights, out = attention_by_hand(Q[i], K, V)
        for label, expected in [("q·k =", raw), ("scores =", scores), ("exp =", exps),
                                ("weights =", weights), ("output =", out)]:
            printed = bracket(block, label)
            assert np.allclose(printed, expected, atol=6e-5), \
                f"token {i + 1}, {label} printed {printed}, recomputed {expected}"
        printed_sum = float(re.search(r"sum = (" + NUMBER + ")", block).group(1))
        assert abs(printed_sum - total) < 6e-5, f"token {i + 1}: sum {printed_sum} vs {total}"


def test_the_text_states_the_first_row_correctly(nb):
    raw, scores, exps, total, weights, out = attention_by_hand(Q[0], K, V)
    prose = next(c.source for c in nb.cells if c.cell_type == "markdown" and "Token 1's query" in c.source)
    stated = {"1.4142": scores[0], "4.1133": exps[0], "9.2265": total, "0.4458": weights[0],
              "0.1084": weights[1], "6.6871": out[0], "3.3129": out[1]}
    for shown, value in stated.items():
        assert shown in prose, f"the text no longer states {shown}"
        assert f"{value:.4f}" == shown, f"the text says {shown}, the value is {value:.6f}"


def test_library_agrees_and_equal_keys_give_the_average(nb):
    assert "same as by hand: True" in stdout(cell_with(nb, "O_lib, W_lib = scaled_dot_product"))
    text = stdout(cell_with(nb, "K_equal = np.ones"))
    _, _, _, _, weights, out = attention_by_hand(Q[0], [[1.0, 1.0]] * 3, V)
    assert np.allclose(weights, 1 / 3) and np.allclose(out, [5.0, 5.0])
    assert numbers(text.split("outputs:")[0]) == pytest.approx([0.3333] * 9, abs=1e-4)
    assert numbers(text.split("outputs:")[1]) == pytest.approx([5.0] * 8, abs=1e-9)


def test_score_variance_is_d_and_the_unscaled_softmax_saturates(nb):
    rows = re.findall(r"d = +(\d+): Var\(q·k\) = +(" + NUMBER + r") +mean largest weight: unscaled ("
                      + NUMBER + r"), scaled (" + NUMBER + ")", stdout(cell_with(nb, "var_qk, top_raw")))
    assert len(rows) == 9
    dims, var, raw, scaled = (np.array(col, dtype=float) for col in zip(*rows))
    assert np.all(np.abs(var / dims - 1) < 0.1), "Var(q·k) should be d within sampling noise"
    assert np.all(np.diff(raw) > 0) and raw[dims == 256][0] > 0.9 and raw[-1] > 0.9
    assert np.all((scaled > 0.3) & (scaled < 0.4)), "scaled, the largest weight should not depend on d"
    # independently: a larger sample with another seed
    r = np.random.default_rng(123)
    for d in (4, 64):
        q, k = r.standard_normal((50000, d)), r.standard_normal((50000, d))
        assert abs(np.var(np.sum(q * k, axis=1)) / d - 1) < 0.05


def test_causal_mask_first_row_and_row_sums(nb):
    text = stdout(cell_with(nb, "W_causal = masked_softmax"))
    weights = text.split("weights with the causal mask:")[1].split("row sums:")[0]
    rows = [numbers(line) for line in weights.strip().splitlines()]
    assert rows[0] == [1.0, 0.0, 0.0, 0.0, 0.0]
    for t, row in enumerate(rows):
        assert all(v == 0 for v in row[t + 1:]), f"row {t + 1} attends to the future: {row}"
        assert abs(sum(row) - 1) < 5e-4
    assert numbers(text.split("row sums:")[1]) == [1.0] * 5


@pytest.mark.parametrize("D", [8, 24])
def test_multi_head_parameters_do_not_depend_on_the_heads(D):
    counts = {sum(v.size for v in MultiHeadAttention(h, d_model=D, seed=0).params.values())
              for h in (1, 2, 4)}
    assert counts == {4 * (D * D + D)}


def test_multi_head_shapes_and_count_printed(nb):
    text = stdout(cell_with(nb, "Qs, Ks, Vs = split_heads"))
    assert "Q split into heads       (1, 2, 4, 4)" in text
    assert "same as MultiHeadAttention.forward: True" in text
    assert "= 288 = 288" in text


def test_attention_is_permutation_equivariant_until_positions_are_added():
    x = np.random.default_rng(7).normal(0, 1, (2, 5, 8))
    perm = np.array([3, 0, 4, 2, 1])
    mha = MultiHeadAttention(2, d_model=8, seed=1)
    assert np.abs(mha.forward(x[:, perm]) - mha.forward(x)[:, perm]).max() < 1e-12
    pe = PositionalEncoding()
    assert np.abs(mha.forward(pe.forward(x[:, perm])) - mha.forward(pe.forward(x))[:, perm]).max() > 0.1


def test_sinusoidal_values_printed(nb):
    text = stdout(cell_with(nb, "P = sinusoidal_encoding(50, 32)"))
    expected = [math.sin(1), math.cos(1), math.sin(10 ** -0.25), math.cos(10 ** -0.25)]
    assert np.allclose(bracket(text, "P[1, :4] ="), expected, atol=6e-5)
    assert float(re.search(r"largest \|difference\|: (" + NUMBER + ")", text).group(1)) > 0.1


def test_residual_path_keeps_the_gradient(nb):
    """Recomputed with explicit Jacobians, one example at a time."""
    r = np.random.default_rng(3)
    L, D = 12, 16
    Ws = r.normal(0, 0.5 / np.sqrt(D), (L, D, D))
    x0 = r.normal(0, 1, (32, D))
    ratios = {}
    for residual in (False, True):
        total_in, total_out = 0.0, 0.0
        grads_in = []
        for x in x0:
            J = np.eye(D)
            for W in Ws:
                f = np.tanh(x @ W)
                step = W * (1 - f ** 2)[None, :]          # d(tanh(x W))/dx, as (in, out)
                J = J @ (step + (np.eye(D) if residual else 0))
                x = x + f if residual else f
            grads_in.append(J @ np.ones(D))
        ratios[residual] = np.linalg.norm(grads_in) / np.linalg.norm(np.ones((32, D)))
    text = stdout(cell_with(nb, "norm_plain, norm_res = input_gradient_norms"))
    plain, res = numbers(text.split("without skips")[1])[:2]
    assert plain == pytest.approx(ratios[False], rel=1e-2) and plain < 1e-3
    assert res == pytest.approx(ratios[True], rel=1e-2) and res > 1


def test_block_parameter_count(nb):
    D, F = 24, 48
    expected = 2 * D + 4 * (D * D + D) + 2 * D + (D * F + F) + (F * D + D)
    block = TransformerBlock(2, d_ff=F, d_model=D, seed=0)
    assert sum(v.size for v in block.params.values()) == expected == 4872
    assert f"total: {expected}" in stdout(cell_with(nb, "block = TransformerBlock(2, d_ff=48"))


def test_recall_data_are_what_the_lecture_says(nb):
    ns = {"np": np}
    exec(cell_with(nb, "def recall_task").source.split("X_tr, y_tr = ")[0], ns)
    X, y = ns["recall_task"](500, seed=5)
    X = X.astype(int)
    assert X.shape == (500, 7) and X.min() >= 0 and X.max() < 88
    for row, label in zip(X, y):
        keys, values = row[:6] // 10, row[:6] % 10
        assert len(set(keys)) == 6 and row[6] >= 80
        asked = row[6] - 80
        assert asked in keys and values[list(keys).index(asked)] == label


def test_models_compare_as_the_text_says(nb):
    out = cell_with(nb, "def make_model").outputs
    table = "".join(o["data"]["text/markdown"] for o in out if "data" in o)
    rows = {m.group(1): (int(m.group(2)), float(m.group(3)), float(m.group(4))) for m in re.finditer(
        r"\| (transformer|LSTM) \| (\d+) \| (" + NUMBER + r") \| (" + NUMBER + r") \|", table)}
    transformer = Sequential([Embedding(88, 24), TransformerBlock(2, d_ff=48), SequencePool("last"),
                              Dense(10), Softmax()])
    lstm = Sequential([Embedding(88, 24), LSTM(24), Dense(10), Softmax()])
    for model in (transformer, lstm):
        model.predict(np.zeros((1, 7)))
    assert rows["transformer"][0] == transformer.count_params() == 7234
    assert rows["LSTM"][0] == lstm.count_params() == 7066
    assert abs(rows["transformer"][0] / rows["LSTM"][0] - 1) < 0.03          # "within 3%"
    assert rows["transformer"][2] > 0.95                                      # "almost every query"
    assert rows["LSTM"][2] < 1 / 3 and rows["LSTM"][1] < 0.5                  # "below a third ... below half"
    weights = numbers(stdout(cell_with(nb, "on_pair = weights_show")).split("head 0 / head 1:")[1])[:2]
    assert max(weights) > 0.5, "the query should put most of its weight on its pair in one head"
