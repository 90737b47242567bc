"""The checks of exercise 02 (the perceptron): 16 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

Expected values come from the course's reference perceptron (``nnlib.classic``), computed here,
in the judge; the student's kernel only evaluates the probes. Where a test compares several
returned values at once, a prelude helper (sent to the kernel) calls the student's function and
lays out what it returned as one array; it computes nothing of the answer itself.
"""
import numpy as np

from coursetools.judge import Assignment, call
from nnlib import classic as ref

# The notebook's non-answer cells use no part of the course library (numpy only), and the whole
# exercise is to write the perceptron: nothing of nnlib is available to answers while graded.
assignment = Assignment("ex02_perceptron", library=())


# ----------------------------------------------------------------------------------------------
# Part 1 · perceptron_output
# ----------------------------------------------------------------------------------------------
def _output_reference(X, w, b):
    """y_n = 1 if w·X[n] + b ≥ 0 else 0; X (n, m), w (m,), b float → (n,)."""
    fields = np.asarray(X, float).dot(np.asarray(w, float)) + b
    return np.where(fields >= 0, 1.0, 0.0)


_OUTPUT_HINTS = [
    (lambda X, w, b: np.where(np.asarray(X, float).dot(w) + b > 0, 1.0, 0.0),
     "a point exactly on the boundary (v = 0) must give 1: use ≥ 0, not > 0."),
    (lambda X, w, b: np.where(np.asarray(X, float).dot(w) >= 0, 1.0, 0.0),
     "the bias b is missing from v = w·x + b."),
]


@assignment.test("test_perceptron_output", name="perceptron_output", points=2)
def _(t):
    X, w = np.array([[1, -1, -1], [1, 1, 1], [0, 0, 0]]), np.array([0.5, -1, -0.5])
    t.shape(call("perceptron_output", X, w, 0.5), expected_shape=_output_reference(X, w, 0.5).shape)
    t.values(call("perceptron_output", X, w, 0.5), expected=_output_reference(X, w, 0.5),
             hints=_OUTPUT_HINTS)
    X, w = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    t.values(call("perceptron_output", X, w, -1.0), expected=_output_reference(X, w, -1.0),
             hints=_OUTPUT_HINTS)
    with t.hidden():
        rng = np.random.default_rng(20201)
        X = rng.integers(-3, 4, size=(9, 4)).astype(float)
        w = rng.normal(size=4)
        t.values(call("perceptron_output", X, w, 0.3), expected=_output_reference(X, w, 0.3),
                 hints=_OUTPUT_HINTS, label="a random batch of 9 inputs")
        X, w = np.array([[1.0, 1.0]]), np.array([0.5, 0.5])
        t.values(call("perceptron_output", X, w, -1.0), expected=_output_reference(X, w, -1.0),
                 hints=_OUTPUT_HINTS, label="one input lying exactly on the boundary (v = 0)", weak=True)
        X, w = np.zeros((3, 2)), np.array([2.0, -3.0])
        t.values(call("perceptron_output", X, w, -0.5), expected=_output_reference(X, w, -0.5),
                 hints=_OUTPUT_HINTS, label="zeros with a negative bias", weak=True)


# ----------------------------------------------------------------------------------------------
# Part 2 · perceptron_step
# ----------------------------------------------------------------------------------------------
def _step_reference(x, d, w, b, eta=1.0):
    """[w_new..., b_new] of one step, from one epoch of the course's perceptron on one example:
    y = [w·x + b ≥ 0], e = d − y, w_new = w + η e x, b_new = b + η e; x, w (m,) → (m + 1,)."""
    run = ref.perceptron_train(np.array([x], dtype=float), np.array([d], dtype=float),
                               np.asarray(w, float), b, eta, max_epochs=1)
    return np.append(run.trace[0].w_after, run.trace[0].b_after)


def _step_flipped(x, d, w, b, eta=1.0):
    """The step with the correction applied with the wrong sign: (m + 1,)."""
    return 2 * np.append(np.asarray(w, float), b) - _step_reference(x, d, w, b, eta)


_STEP_HINTS = [
    (_step_flipped, "the correction goes the wrong way: the error is e = d − y (desired minus "
                    "output), and w ← w + η e x."),
    (lambda x, d, w, b, eta=1.0: np.concatenate([_step_reference(x, d, w, b, eta)[:-1], [b]]),
     "the bias must be corrected too: b ← b + η e."),
    (lambda x, d, w, b, eta=1.0: _step_reference(x, d, w, b, 1.0),
     "the learning rate η is ignored: multiply the correction by eta."),
]
# Each check compares the new weights followed by the new bias, as one array; and one check looks
# at the caller's array w after the call, which must not have changed.
_STEP_PRELUDE = '''
def _step_flat(x, d, w, b, eta=1.0):
    w_new, b_new = perceptron_step(x, d, w, b, eta)
    return np.concatenate([np.ravel(np.asarray(w_new, float)), [float(b_new)]])

def _weights_after_call(x, d, w, b, eta=1.0):
    perceptron_step(x, d, w, b, eta)
    return w
'''


@assignment.test("test_perceptron_step", name="perceptron_step", points=3, prelude=_STEP_PRELUDE)
def _(t):
    def step(x, d, w, b, eta, label):
        t.values(call("_step_flat", x, d, w, b, eta), expected=_step_reference(x, d, w, b, eta),
                 hints=_STEP_HINTS, label=label)

    step(np.array([1, -1, -1]), 0, np.array([0.5, -1, -0.5]), 0.5, 1.0,
         "the notes' first step: x = [1, -1, -1], d = 0, w = [0.5, -1, -0.5], b = 0.5, η = 1")
    step(np.array([2.0, 1.0]), 1, np.array([-1.0, 0.5]), 0.0, 0.25,
         "x = [2, 1], d = 1, w = [-1, 0.5], b = 0, η = 0.25")
    step(np.array([2.0, 1.0]), 1, np.array([1.0, 0.5]), 0.0, 0.25,
         "an example already classified right (nothing changes)")
    t.values(call("_weights_after_call", np.array([1.0, -1.0, -1.0]), 0, np.array([0.5, -1.0, -0.5]),
                  0.5, 1.0),
             expected=np.array([0.5, -1.0, -0.5]), weak=True,
             label="the weight array passed in must not change (return a new array instead)")
    with t.hidden():
        rng = np.random.default_rng(20202)
        x, w = rng.integers(-2, 3, size=5).astype(float), rng.normal(size=5)
        d = 1 - float(x @ w + 0.1 >= 0)                 # a misclassified example
        step(x, d, w, 0.1, 0.7, "a misclassified random example, η = 0.7")
        step(np.array([0.0, 0.0]), 0, np.array([3.0, -2.0]), 0.0, 0.5,
             "x = 0 on the boundary with d = 0 (only the bias can move)")
        step(np.array([-1.5]), 1, np.array([2.0]), 1.0, 2.0, "a single input, η = 2")


# ----------------------------------------------------------------------------------------------
# Part 3 · perceptron_train
# ----------------------------------------------------------------------------------------------
def _ref_run(X, d, w0, b0=0.0, eta=1.0, max_epochs=100):
    return ref.perceptron_train(np.asarray(X, float), np.asarray(d, float), w0, b0, eta, max_epochs)


def _ref_final(*args):
    """[w..., b] after training: (m + 1,)."""
    result = _ref_run(*args)
    return np.append(result.w, result.b)


def _ref_verdict(*args):
    """[converged (0/1), epochs run]: (2,)."""
    result = _ref_run(*args)
    return np.array([float(result.converged), float(result.epochs)])


def _ref_trace(*args):
    """One row per iteration: epoch, iteration, v, y, e, w after (m), b after: (k, m + 6)."""
    rows = [[s.epoch, s.iteration, s.v, s.y, s.e, *s.w_after, s.b_after] for s in _ref_run(*args).trace]
    return np.array(rows)


def _ref_trace_aliased(*args):
    """What a trace looks like when every row holds the same (final) weight array."""
    table = _ref_trace(*args)
    table[:, 5:-1] = table[-1, 5:-1]
    return table


_TRACE_HINTS = [(_ref_trace_aliased,
                 "every row of the trace holds the final weights: store w.copy(), not w itself "
                 "(an in-place update such as w += ... changes every stored reference).")]
# The three parts of what perceptron_train returns, each laid out as one array.
_TRAIN_PRELUDE = '''
def _train_final(*args):
    w, b, converged, trace = perceptron_train(*args)
    return np.append(np.asarray(w, float), float(b))

def _train_verdict(*args):
    w, b, converged, trace = perceptron_train(*args)
    return np.array([float(bool(converged)), float(trace[-1]["epoch"]) if trace else 0.0])

def _train_trace(*args):
    w, b, converged, trace = perceptron_train(*args)
    return np.array([[t["epoch"], t["iteration"], t["v"], t["y"], t["e"], *np.ravel(t["w"]), t["b"]]
                     for t in trace])
'''
# (helper in the kernel, reference here, weight, hints)
_FINAL = ("_train_final", _ref_final, 1, ())
_VERDICT = ("_train_verdict", _ref_verdict, 1, ())
_TRACE = ("_train_trace", _ref_trace, 2, _TRACE_HINTS)


@assignment.test("test_perceptron_train", name="perceptron_train", points=4, prelude=_TRAIN_PRELUDE)
def _(t):
    def train(part, args, label):
        helper, reference, weight, hints = part
        t.values(call(helper, *args), expected=reference(*args), weight=weight, hints=hints,
                 label=label)

    notes = (np.array([[1, -1, -1], [1, 1, -1]]), np.array([0, 1]), np.array([0.5, -1, -0.5]), 0.5, 1.0)
    train(_FINAL, notes, "the notes' example (final w then b)")
    train(_VERDICT, notes, "the notes' example (converged, epochs run)")
    train(_TRACE, notes, "the notes' example (the trace, one row per iteration: epoch, iteration, "
                         "v, y, e, w after, b after)")
    with t.hidden():
        gate_and = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 0, 0, 1]),
                    np.array([0.0, 0.0]), 0.0, 0.5)
        rng = np.random.default_rng(20203)
        X = rng.normal(size=(8, 3))
        d = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 >= 0).astype(float)
        separable = (X, d, np.array([0.2, 0.1, -0.3]), -0.4, 0.3, 50)
        xor = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0]),
               np.array([0.0, 0.0]), 0.0, 1.0, 6)
        for part in (_FINAL, _VERDICT, _TRACE):
            train(part, gate_and, "the AND gate from zero weights, η = 0.5")
            train(part, separable, "8 random separable points in 3-D, η = 0.3")
            train(part, xor, "XOR with a budget of 6 epochs (never converges)")


# ----------------------------------------------------------------------------------------------
# Part 4 · epoch_table (the traces come from the course's perceptron: this grades epoch_table alone)
# ----------------------------------------------------------------------------------------------
def _trace_of(X, d, w0, b0, eta, max_epochs=100):
    """The course perceptron's trace as perceptron_train returns it: a list of dicts."""
    result = ref.perceptron_train(np.asarray(X, float), np.asarray(d, float), w0, b0, eta, max_epochs)
    return [{"epoch": s.epoch, "iteration": s.iteration, "v": s.v, "y": s.y, "e": s.e,
             "w": s.w_after.copy(), "b": s.b_after} for s in result.trace]


def _table_reference(trace):
    """[epoch, iteration, v, y, e, w..., b] per step: (k, m + 6)."""
    return np.array([[t["epoch"], t["iteration"], t["v"], t["y"], t["e"]] + list(t["w"]) + [t["b"]]
                     for t in trace])


@assignment.test("test_epoch_table", name="epoch_table", points=3)
def _(t):
    def table(trace, label):
        t.values(call("epoch_table", trace), expected=_table_reference(trace), label=label)

    notes = _trace_of(np.array([[1, -1, -1], [1, 1, -1]]), np.array([0, 1]), np.array([0.5, -1, -0.5]),
                      0.5, 1.0)
    t.shape(call("epoch_table", notes), expected_shape=_table_reference(notes).shape,
            label="the trace of the notes' example")
    table(notes, "the trace of the notes' example")
    with t.hidden():
        table(_trace_of(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 1]),
                        np.array([-1.0, 0.5]), 0.5, 0.5), "the OR gate (2 weights), η = 0.5")
        rng = np.random.default_rng(20204)
        X = rng.normal(size=(5, 4))
        table(_trace_of(X, (X[:, 0] > 0).astype(float), np.zeros(4), 0.0, 0.1),
              "5 random points in 4-D (4 weights)")
        table(_trace_of(np.array([[2.0]]), np.array([1]), np.array([1.0]), 0.0, 1.0),
              "a single example that is right from the start (one row)")


# ----------------------------------------------------------------------------------------------
# Part 5 · convergence_verdict
# ----------------------------------------------------------------------------------------------
def _verdict_reference(X, d, w0, b0=0.0, eta=1.0, max_epochs=100, only_previous=False):
    """[converged (0/1), epochs, cycle length]: (3,). The weights and bias after each epoch of the
    course's perceptron are compared with those after every earlier epoch (0: the start), or with
    the previous epoch's only (``only_previous``, a known mistake)."""
    X = np.asarray(X, float)
    result = ref.perceptron_train(X, np.asarray(d, float), w0, b0, eta, max_epochs)
    states, n = [tuple(np.asarray(w0, float).tolist()) + (float(b0),)], len(X)
    for k in range(1, result.epochs + 1):
        steps = result.trace[(k - 1) * n:k * n]
        if all(s.e == 0 for s in steps):
            return np.array([1.0, k, 0])
        state = tuple(steps[-1].w_after.tolist()) + (steps[-1].b_after,)
        earlier = states[-1:] if only_previous else states
        if state in earlier:
            return np.array([0.0, k, k - states.index(state)])
        states.append(state)
    return np.array([0.0, max_epochs, 0])


_VERDICT_HINTS = [(lambda *a: _verdict_reference(*a, only_previous=True),
                   "you compared the weights only with those of the previous epoch; a cycle can span "
                   "several epochs: compare with every earlier epoch's weights.")]
# Each check compares (converged, epochs, cycle_length) as one array of floats.
_VERDICT_PRELUDE = '''
def _verdict_array(*args):
    return np.array(convergence_verdict(*args), dtype=float)
'''


@assignment.test("test_convergence_verdict", name="convergence_verdict", points=4,
                 prelude=_VERDICT_PRELUDE)
def _(t):
    def verdict(args, label):
        t.values(call("_verdict_array", *args), expected=_verdict_reference(*args),
                 hints=_VERDICT_HINTS, label=label)

    gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    verdict((gate, np.array([0, 1, 1, 0]), np.zeros(2), 0.0, 1.0), "XOR from zero weights, η = 1")
    verdict((gate, np.array([0, 0, 0, 1]), np.zeros(2), 0.0, 1.0), "AND from zero weights, η = 1")
    with t.hidden():
        verdict((gate, np.array([0, 1, 1, 0]), np.array([0.5, -1.0]), 0.25, 0.5),
                "XOR from w = [0.5, -1], b = 0.25, η = 0.5")
        verdict((gate, np.array([1, 0, 0, 1]), np.array([1.0, 1.0]), -1.0, 1.0),
                "XNOR from w = [1, 1], b = -1")
        verdict((gate, np.array([0, 1, 1, 1]), np.array([-1.0, 0.5]), 0.5, 0.25),
                "OR from w = [-1, 0.5], b = 0.5, η = 0.25")
        verdict((np.array([[2, 0, 1], [-1, 1, 2], [1, -2, 0], [0, 1, -1], [2, 2, 2]]),
                 np.array([1, 0, 1, 1, 0]), np.zeros(3), 0.0, 1.0, 100),
                "5 separable points in 3-D, η = 1")
        verdict((gate, np.array([0, 0, 0, 1]), np.zeros(2), 0.0, 1.0, 3),
                "AND with a budget of only 3 epochs (undecided)")
        verdict((np.array([[-2, 2], [-2, 0], [-2, -1], [0, 0], [0, -2], [-2, -2], [-2, 1]]),
                 np.array([1, 1, 0, 1, 1, 0, 0]), np.zeros(2), 0.0, 1.0, 200),
                "7 points whose weights cycle over 2 epochs")
