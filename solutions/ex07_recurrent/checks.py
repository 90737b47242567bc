"""The checks of exercise 07 (recurrent networks): 14 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

The expected values come from the course library (``nnlib.layers``' RNNCell, RNN and LSTMCell,
``nnlib.optimizers``' clipping), which runs here, in the judge; while a submission is graded the
library's implementations are not available to it (``library=()``: the notebook uses no part of
``nnlib`` outside its answers).
"""
import numpy as np

from coursetools.judge import Assignment, call, probe
from nnlib import optimizers as ref
from nnlib.layers import RNN, LSTMCell, RNNCell

assignment = Assignment("ex07_recurrent", library=())


def _cell(kind, Wx, Wh, b):
    cell = kind(Wh.shape[0], input_dim=Wx.shape[0])
    cell.params["Wx"][...] = Wx
    cell.params["Wh"][...] = Wh
    cell.params["b"][...] = b
    return cell


def _demo():
    rng = np.random.default_rng(7)
    Wx = rng.normal(0, 0.8, size=(2, 3))
    Wh = rng.normal(0, 0.8, size=(3, 3))
    return Wx, Wh, np.array([0.1, -0.2, 0.0])


def _values(func, *args):
    """``func(*args)``, or None when it fails (a hint that cannot be computed is left out)."""
    try:
        with np.errstate(all="ignore"):
            return func(*args)
    except Exception:
        return None


def _hint_values(hints, *args):
    """[(the value each mistake gives on ``args``, its hint)]."""
    out = [(_values(wrong, *args), text) for wrong, text in hints]
    return [(value, text) for value, text in out if value is not None]


# ----------------------------------------------------------------------------------------------
# Part 1 and 2: the simple RNN
# ----------------------------------------------------------------------------------------------
def _reference_rnn_step(x_t, h_prev, Wx, Wh, b):
    return _cell(RNNCell, Wx, Wh, b).step(np.array(x_t, dtype=float), np.array(h_prev, dtype=float))


_RNN_STEP_HINTS = [
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
     "Wh is transposed: with rows as examples the step is h_prev @ Wh."),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh), "the bias b is missing."),
    (lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b, "tanh is missing: h_t = tanh(x_t Wx + h_prev Wh + b)."),
    (lambda x, h, Wx, Wh, b: 1 / (1 + np.exp(-(x @ Wx + h @ Wh + b))), "use tanh, not the sigmoid."),
    (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b), "the previous hidden state is ignored: add h_prev @ Wh."),
]


def _rnn_step_check(t, label, *args):
    t.values(call("rnn_step", *args), expected=_reference_rnn_step(*args), hints=_RNN_STEP_HINTS, label=label)


@assignment.test("test_rnn_step", name="rnn_step", points=3)
def _(t):
    Wx, Wh, b = _demo()
    x = np.array([[1.0, 0.5], [-1.0, 0.0]])
    h = np.array([[0.2, -0.1, 0.4], [0.0, 0.3, -0.5]])
    t.shape(call("rnn_step", x, h, Wx, Wh, b), expected_shape=(2, 3))
    _rnn_step_check(t, "the example above (N=2, D=2, H=3)", x, h, Wx, Wh, b)
    with t.hidden():
        rng = np.random.default_rng(70701)
        Wx, Wh, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)
        _rnn_step_check(t, "N=6, D=4, H=5", rng.normal(size=(6, 4)), rng.normal(size=(6, 5)), Wx, Wh, b)
        _rnn_step_check(t, "a batch of one", rng.normal(size=(1, 4)), rng.normal(size=(1, 5)), Wx, Wh, b)
        _rnn_step_check(t, "inputs × 500 (tanh saturates at ±1)", rng.normal(size=(3, 4)) * 500,
                        np.zeros((3, 5)), Wx, Wh, b)


def _reference_rnn_forward(X, h0, Wx, Wh, b):
    layer = RNN(Wh.shape[0], return_sequences=True, input_dim=Wx.shape[0])
    layer.params["Wx"][...] = Wx
    layer.params["Wh"][...] = Wh
    layer.params["b"][...] = b
    layer.initial_state = np.array(h0, dtype=float)
    return layer.forward(np.array(X, dtype=float))


def _stuck_at_h0(X, h0, Wx, Wh, b):
    return np.stack([np.tanh(X[:, t] @ Wx + h0 @ Wh + b) for t in range(X.shape[1])], axis=1)


_RNN_FORWARD_HINTS = [
    (_stuck_at_h0, "every step starts from h0: feed the hidden state you just computed into the next step."),
]


def _rnn_forward_check(t, label, *args):
    t.values(call("rnn_forward", *args), expected=_reference_rnn_forward(*args), hints=_RNN_FORWARD_HINTS,
             label=label)


@assignment.test("test_rnn_forward", name="rnn_forward", points=2)
def _(t):
    Wx, Wh, b = _demo()
    X = np.array([[[1.0, 0.5], [-1.0, 0.0], [0.5, 0.5]]])
    t.shape(call("rnn_forward", X, np.zeros((1, 3)), Wx, Wh, b), expected_shape=(1, 3, 3))
    _rnn_forward_check(t, "the example above (N=1, T=3)", X, np.zeros((1, 3)), Wx, Wh, b)
    with t.hidden():
        rng = np.random.default_rng(70702)
        Wx, Wh, b = rng.normal(size=(3, 4)), 0.5 * rng.normal(size=(4, 4)), rng.normal(size=4)
        _rnn_forward_check(t, "N=5, T=7, D=3, H=4, a nonzero h0",
                           rng.normal(size=(5, 7, 3)), rng.normal(size=(5, 4)), Wx, Wh, b)
        _rnn_forward_check(t, "a sequence of one step (T=1)",
                           rng.normal(size=(2, 1, 3)), rng.normal(size=(2, 4)), Wx, Wh, b)


# ----------------------------------------------------------------------------------------------
# Part 3: one LSTM step (h_t and c_t checked apart)
# ----------------------------------------------------------------------------------------------
def _reference_lstm(x, h, c, Wx, Wh, b, which):
    return _cell(LSTMCell, Wx, Wh, b).step(np.array(x, float), np.array(h, float), np.array(c, float))[which]


def _variant(order=(0, 1, 2, 3), g_act="tanh", tanh_c=True, add_ig=True):
    def step(x, h, c, Wx, Wh, b, which):
        H = h.shape[1]
        z = x @ Wx + h @ Wh + b
        blocks = [z[:, k * H:(k + 1) * H] for k in order]
        sig = lambda a: 0.5 * (1 + np.tanh(0.5 * a))  # noqa: E731
        f, i, o = sig(blocks[0]), sig(blocks[1]), sig(blocks[3])
        g = np.tanh(blocks[2]) if g_act == "tanh" else sig(blocks[2])
        c_new = f * c + i * g if add_ig else f * c
        h_new = o * np.tanh(c_new) if tanh_c else o * c_new
        return (h_new, c_new)[which]
    return step


_LSTM_HINTS = [
    (_variant(order=(1, 0, 2, 3)),
     "the forget and input gates are swapped: the blocks are [f | i | g | o], forget first."),
    (_variant(order=(1, 0, 3, 2)),
     "the gate order is wrong: the blocks are [f | i | g | o] (forget, input, candidate, output)."),
    (_variant(g_act="sigmoid"), "the candidate g uses tanh (values in −1 … 1), not the sigmoid."),
    (_variant(tanh_c=False), "h_t = o · tanh(c_t): the tanh of the cell state is missing."),
    (_variant(add_ig=False), "c_t = f · c_prev + i · g: the new content i · g is missing (the notes leave it out)."),
]


def _lstm_check(t, args, which, label):
    x, h, c, Wx, Wh, b = args
    t.values(probe("lstm_step(x_t, h_prev, c_prev, Wx, Wh, b)[which]",
                   x_t=x, h_prev=h, c_prev=c, Wx=Wx, Wh=Wh, b=b, which=which),
             expected=_reference_lstm(*args, which), hints=_hint_values(_LSTM_HINTS, *args, which), label=label)


@assignment.test("test_lstm_step", name="lstm_step", points=4)
def _(t):
    rng = np.random.default_rng(8)
    Wx, Wh, b = rng.normal(0, 0.8, size=(2, 8)), rng.normal(0, 0.8, size=(2, 8)), np.zeros(8)
    args = (np.array([[1.0, 0.5], [-1.0, 0.0]]), np.array([[0.1, -0.2], [0.0, 0.3]]),
            np.array([[0.5, 0.0], [-0.5, 1.0]]), Wx, Wh, b)
    _lstm_check(t, args, 0, "h_t in the example above")
    _lstm_check(t, args, 1, "c_t in the example above")
    with t.hidden():
        rng = np.random.default_rng(70703)
        Wx, Wh, b = rng.normal(size=(3, 16)), rng.normal(size=(4, 16)), rng.normal(size=16)
        args = (rng.normal(size=(5, 3)), rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), Wx, Wh, b)
        _lstm_check(t, args, 0, "h_t with N=5, D=3, H=4, random bias")
        _lstm_check(t, args, 1, "c_t with N=5, D=3, H=4, random bias")
        args = (rng.normal(size=(1, 3)), rng.normal(size=(1, 4)), rng.normal(size=(1, 4)), Wx, Wh, b)
        _lstm_check(t, args, 0, "h_t for a batch of one")
        args = (rng.normal(size=(2, 3)) * 1000, np.zeros((2, 4)), rng.normal(size=(2, 4)), Wx, Wh, b)
        _lstm_check(t, args, 0, "h_t with inputs × 1000 (the gates saturate; overflow lurks)")
        _lstm_check(t, args, 1, "c_t with inputs × 1000")


# ----------------------------------------------------------------------------------------------
# Part 4: gradient clipping (a list of arrays is compared as one flat vector)
# ----------------------------------------------------------------------------------------------
_FLAT_PRELUDE = '''
import numpy as _np

def _flat(arrays):
    # the arrays of a list, one after the other, as one flat vector
    return _np.concatenate([_np.ravel(a) for a in arrays])
'''

_CLIP_NORM_PRELUDE = _FLAT_PRELUDE + '''
def _shapes_kept(grads, max_norm):
    # 1 for each array of the student's result shaped like its input, else 0
    return _np.array([_np.shape(g) == _np.shape(a) for g, a in zip(clip_by_norm(grads, max_norm), grads)], float)

def _inputs_untouched(grads, max_norm):
    # 1 for each input array the student's clip_by_norm left unchanged, then its result, flat
    before = [g.copy() for g in grads]
    clipped = _flat(clip_by_norm(grads, max_norm))
    return _np.concatenate([[float(_np.array_equal(a, b)) for a, b in zip(grads, before)], clipped])
'''


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def _per_array(grads, max_norm):
    return [g * min(1.0, max_norm / np.sqrt(np.sum(g * g))) for g in grads]


def _always(grads, max_norm):
    total = np.sqrt(sum(float(np.sum(a ** 2)) for a in grads))
    return [a * (max_norm / total) for a in grads]


_CLIP_NORM_HINTS = [
    (lambda grads, m: _flat(_per_array(grads, m)),
     "each array was clipped by its own norm: use ONE global norm over all the arrays together."),
    (lambda grads, m: _flat(_always(grads, m)),
     "gradients whose norm is already below max_norm must stay as they are: scale only when ‖g‖ > max_norm."),
]


def _clip_norm_check(t, grads, max_norm, label, weak=False):
    t.values(probe("_flat(clip_by_norm(grads, max_norm))", grads=grads, max_norm=max_norm),
             expected=_flat(ref.clip_by_norm(grads, max_norm)),
             hints=_hint_values(_CLIP_NORM_HINTS, grads, max_norm), label=label, weak=weak)


@assignment.test("test_clip_by_norm", name="clip_by_norm", points=3, prelude=_CLIP_NORM_PRELUDE)
def _(t):
    _clip_norm_check(t, [np.array([3.0, 4.0]), np.array([12.0])], 6.5, "[[3, 4], [12]] with max_norm=6.5")
    t.values(call("_shapes_kept", [np.ones((2, 3)), np.ones(4)], 1.0), expected=np.ones(2), weak=True,
             label="the shapes of the arrays are kept (1 = kept)")
    with t.hidden():
        rng = np.random.default_rng(70704)
        big = [50 * rng.normal(size=(4, 3)), 50 * rng.normal(size=(3, 3)), 50 * rng.normal(size=3)]
        _clip_norm_check(t, big, 5.0, "three large gradients (norm about 300), max_norm=5")
        small = [0.01 * rng.normal(size=(4, 3)), 0.01 * rng.normal(size=3)]
        _clip_norm_check(t, small, 5.0, "small gradients (norm below max_norm): unchanged", weak=True)
        _clip_norm_check(t, [np.zeros((2, 2))], 1.0, "all-zero gradients (no 0/0)", weak=True)
        t.values(call("_inputs_untouched", big, 5.0),
                 expected=np.concatenate([np.ones(3), _flat(ref.clip_by_norm(big, 5.0))]),
                 label="the input arrays are left unchanged (first 3 entries: 1 = unchanged; then the "
                       "clipped values)")


_CLIP_VALUE_HINTS = [
    (lambda grads, limit: _flat([np.minimum(g, limit) for g in grads]),
     "only the upper side is clipped: large NEGATIVE entries must become −limit too."),
    (lambda grads, limit: _flat([np.clip(g, 0, limit) for g in grads]),
     "the interval is [−limit, limit], not [0, limit]: negative entries within the limit stay as they are."),
]


def _clip_value_check(t, grads, limit, label, weak=False):
    t.values(probe("_flat(clip_by_value(grads, limit))", grads=grads, limit=limit),
             expected=_flat(ref.clip_by_value(grads, limit)),
             hints=_hint_values(_CLIP_VALUE_HINTS, grads, limit), label=label, weak=weak)


@assignment.test("test_clip_by_value", name="clip_by_value", points=2, prelude=_FLAT_PRELUDE)
def _(t):
    _clip_value_check(t, [np.array([3.0, 4.0]), np.array([12.0])], 5.0, "[[3, 4], [12]] with limit=5")
    _clip_value_check(t, [np.array([-7.0, 2.0]), np.array([[6.0, -1.0]])], 5.0,
                      "[[-7, 2], [[6, -1]]] with limit=5")
    with t.hidden():
        rng = np.random.default_rng(70705)
        _clip_value_check(t, [20 * rng.normal(size=(3, 4)), 20 * rng.normal(size=5)], 10.0,
                          "entries of both signs beyond ±10, limit=10")
        _clip_value_check(t, [rng.normal(size=(2, 2))], 100.0, "everything within the limit: unchanged",
                          weak=True)
