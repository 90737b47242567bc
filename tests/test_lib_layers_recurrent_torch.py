"""RNN and LSTM (sequence layers and single-step cells) against PyTorch, an independent
reference, in float64: outputs, dL/dx and every weight gradient, with ``return_sequences`` on
and off and with a given initial state; for the cells also dL/dh_{t−1} (and dL/dc_{t−1}), which
the sequence layers do not expose.

Weight mapping: nnlib computes x Wx + h Wh + b with Wx (D, G·H), Wh (H, G·H) and one bias;
torch computes x W_ihᵀ + b_ih + h W_hhᵀ + b_hh. So W_ih = Wxᵀ, W_hh = Whᵀ, b_ih = b, b_hh = 0,
and dL/db is torch's b_ih gradient (equal to b_hh's). nnlib's LSTM blocks are in the order
forget, input, input node, output (f, i, g, o); torch's are (i, f, g, o): the first two blocks
of H rows are swapped (``GATES``). Truncated BPTT has no torch counterpart and is not compared.

PyTorch is NOT a course dependency: these tests are skipped when it is not installed
(pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, leaf, torch_or_skip

torch = torch_or_skip("the recurrent layers")

from nnlib.layers import LSTM, RNN, LSTMCell, RNNCell  # noqa: E402

N, T, D, H = 3, 6, 4, 5
GATES = [1, 0, 2, 3]        # torch's block k is nnlib's block GATES[k]: (i, f, g, o) ← (f, i, g, o)


def blocks_to_torch(a, gates):
    """Reorder the gate blocks along axis 0 (rows of H) from nnlib's order to torch's."""
    if gates == 1:
        return a
    parts = np.split(a, 4, axis=0)
    return np.concatenate([parts[k] for k in GATES], axis=0)


def torch_weights(params, gates):
    """{torch name: array} for nnlib's Wx, Wh, b (b_hh = 0)."""
    b = blocks_to_torch(params["b"], gates)
    return {"weight_ih": blocks_to_torch(params["Wx"].T, gates),
            "weight_hh": blocks_to_torch(params["Wh"].T, gates),
            "bias_ih": b, "bias_hh": np.zeros_like(b)}


def load(module, params, gates, suffix):
    with torch.no_grad():
        for name, value in torch_weights(params, gates).items():
            getattr(module, name + suffix).copy_(torch.from_numpy(np.ascontiguousarray(value)))


def compare_weight_grads(grads, module, gates, suffix):
    theirs = {name: getattr(module, name + suffix).grad for name in
              ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    close(blocks_to_torch(grads["Wx"].T, gates), theirs["weight_ih"])
    close(blocks_to_torch(grads["Wh"].T, gates), theirs["weight_hh"])
    close(blocks_to_torch(grads["b"], gates), theirs["bias_ih"])
    close(blocks_to_torch(grads["b"], gates), theirs["bias_hh"])


def randomize(params, rng):
    for p in params.values():
        p[...] = rng.normal(0, 0.6, p.shape)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_matches_torch(activation, return_sequences):
    rng = np.random.default_rng(len(activation) + return_sequences)
    layer = RNN(H, return_sequences=return_sequences, activation=activation, input_dim=D, seed=0)
    randomize(layer.params, rng)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    layer.initial_state = h0
    out = layer.forward(x)
    G = rng.standard_normal(out.shape)
    dx = layer.backward(G)
    rnn = torch.nn.RNN(D, H, nonlinearity=activation, batch_first=True, dtype=torch.float64)
    load(rnn, layer.params, 1, "_l0")
    tx = leaf(x)
    seq, h_last = rnn(tx, torch.from_numpy(h0[None]))
    tout = seq if return_sequences else h_last[0]
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)
    compare_weight_grads(layer.grads, rnn, 1, "_l0")


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("initial_state", [False, True])
def test_lstm_matches_torch_with_gate_blocks_reordered(initial_state, return_sequences):
    rng = np.random.default_rng(10 + 2 * initial_state + return_sequences)
    layer = LSTM(H, return_sequences=return_sequences, input_dim=D, seed=0)
    randomize(layer.params, rng)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) if initial_state else np.zeros((N, H))
    c0 = rng.standard_normal((N, H)) if initial_state else np.zeros((N, H))
    if initial_state:
        layer.initial_state = (h0, c0)
    out = layer.forward(x)
    G = rng.standard_normal(out.shape)
    dx = layer.backward(G)
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    load(lstm, layer.params, 4, "_l0")
    tx = leaf(x)
    seq, (h_last, _) = lstm(tx, (torch.from_numpy(h0[None]), torch.from_numpy(c0[None])))
    tout = seq if return_sequences else h_last[0]
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)
    compare_weight_grads(layer.grads, lstm, 4, "_l0")


def test_rnn_cell_step_matches_torch():
    rng = np.random.default_rng(20)
    cell = RNNCell(H, input_dim=D, seed=0)
    randomize(cell.params, rng)
    x, h0 = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    cell.initial_state = h0
    out = cell.forward(x)
    G = rng.standard_normal(out.shape)
    dx = cell.backward(G)
    tcell = torch.nn.RNNCell(D, H, dtype=torch.float64)
    load(tcell, cell.params, 1, "")
    tx, th0 = leaf(x), leaf(h0)
    tout = tcell(tx, th0)
    tout.backward(torch.from_numpy(G))
    close(out, tout)
    close(dx, tx.grad)
    close(cell.grad_h_prev, th0.grad)
    compare_weight_grads(cell.grads, tcell, 1, "")


def test_lstm_cell_step_matches_torch():
    rng = np.random.default_rng(21)
    cell = LSTMCell(H, input_dim=D, seed=0)
    randomize(cell.params, rng)
    x, h0, c0 = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))
    cell.initial_state = (h0, c0)
    out = cell.forward(x)
    G = rng.standard_normal(out.shape)
    dx = cell.backward(G)                                # dL/dh_t only; no gradient from c_t
    tcell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    load(tcell, cell.params, 4, "")
    tx, th0, tc0 = leaf(x), leaf(h0), leaf(c0)
    th, _ = tcell(tx, (th0, tc0))
    th.backward(torch.from_numpy(G))
    close(out, th)
    close(dx, tx.grad)
    close(cell.grad_h_prev, th0.grad)
    close(cell.grad_c_prev, tc0.grad)
    compare_weight_grads(cell.grads, tcell, 4, "")
