"""The checks of exercise 05 (training a network end to end): 20 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

Gradients and training steps are judged against centred finite differences of the loss, computed
here with the course library. The graded outcome (test_trained_network) trains the student's
network once with their ``train`` and ``SETTINGS``, timed in their kernel; its predictions on the
validation set and on 2000 new spiral points (drawn here, never shown) are scored here, so the
accuracy that counts is never computed in the student's kernel.
"""

import hashlib

import numpy as np

from coursetools.judge import DEFAULT_LIBRARY, Assignment, Probe, call, probe, hint_values
from nnlib import data
from nnlib.gradcheck import numerical_gradient
from selfcheck.compare import describe

# The notebook's own cells use nnlib.data (the spirals, train_val_split), nnlib.plotting and
# nnlib.style, and the student may use nnlib.data (one_hot): the default parts. Layers, models,
# losses, optimizers and gradient checking are the student's to write.
assignment = Assignment("ex05_training", library=DEFAULT_LIBRARY, prelude="import numpy as np")

TIME_LIMIT = 30.0   # seconds for train(X_train, y_train, **SETTINGS)




def init_params(sizes, rng):
    """He-initialised parameters for layer sizes [D, n_1, ..., K], as the notebook's given cell."""
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(2.0 / sizes[l - 1]), size=(sizes[l - 1], sizes[l]))
        params[f"b{l}"] = np.zeros(sizes[l])
    return params


def _scores(params, X, relu_hidden=True, relu_output=False):
    """The output scores Z_L of the MLP (variants for the hints)."""
    n_layers = len(params) // 2
    a = np.asarray(X, dtype=float)
    for k in range(1, n_layers + 1):
        a = a @ params["W" + str(k)] + params["b" + str(k)]
        if (k < n_layers and relu_hidden) or relu_output:
            a = a * (a > 0)
    return a


def _loss_of(params, X, y):
    """Mean cross-entropy −(1/N) Σ log P[n, y_n], by log-sum-exp."""
    a = _scores(params, X)
    a = a - np.max(a, axis=-1, keepdims=True)
    logp = a - np.log(np.sum(np.exp(a), axis=-1, keepdims=True))
    return -np.sum(logp[np.arange(len(y)), y]) / len(y)


# ----------------------------------------------------------------------------------------------
# minibatches: the probes call it with a generator made from a seed (a generator is not data).
# ----------------------------------------------------------------------------------------------
_PRELUDE_MINIBATCHES = '''
def _epoch(X, y, batch_size, seed):
    return minibatches(X, y, batch_size, np.random.default_rng(seed))

def _labels_in_order(X, y, batch_size, seed):
    return np.concatenate([yb for _, yb in _epoch(X, y, batch_size, seed)])

def _batch_sizes(X, y, batch_size, seed):
    return np.array([len(yb) for _, yb in _epoch(X, y, batch_size, seed)])

def _pairs_kept(X, y, batch_size, seed):
    # 1.0 for every batch whose rows still sit beside their own labels (X row n holds 2n, 2n + 1)
    return np.array([float(np.all(Xb[:, 0] == 2 * yb)) for Xb, yb in _epoch(X, y, batch_size, seed)])

def _two_epochs(X, y, batch_size, seed):
    gen = np.random.default_rng(seed)
    first = np.concatenate([yb for _, yb in minibatches(X, y, batch_size, gen)])
    second = np.concatenate([yb for _, yb in minibatches(X, y, batch_size, gen)])
    return np.concatenate([first, second])
'''


def _mb(helper, X, y, batch_size, seed):
    return probe(f"{helper}(X, y, batch_size, seed)", X=X, y=y, batch_size=batch_size, seed=seed)


@assignment.test("test_minibatches", name="minibatches", points=3, prelude=_PRELUDE_MINIBATCHES)
def _(t):
    X10, y10 = np.arange(20.0).reshape(10, 2), np.arange(10)
    t.values(_mb("_batch_sizes", X10, y10, 4, 0), expected=np.array([4, 4, 2]),
             label="10 examples, batch_size=4: batch sizes",
             hints=[(np.array([4, 4]), "the last, smaller batch is missing: keep the 2 examples left over.")])
    t.values(_mb("_labels_in_order", X10, y10, 4, 0), expected=np.random.default_rng(0).permutation(10),
             label="10 examples, batch_size=4, seed 0: labels in the order they come",
             hints=[(np.arange(10), "the examples come in their original order: shuffle them.")])
    t.values(_mb("_pairs_kept", X10, y10, 4, 0), expected=np.ones(3),
             label="10 examples, batch_size=4: does each row keep its label?",
             hints=[(np.zeros(3), "X and y were put in different orders: index both with the same permutation.")])
    with t.hidden():
        X37, y37 = np.arange(74.0).reshape(37, 2), np.arange(37)
        t.values(_mb("_labels_in_order", X37, y37, 8, 5), expected=np.random.default_rng(5).permutation(37),
                 label="37 examples, batch_size=8, seed 5: labels in order")
        t.values(probe("np.sort(_labels_in_order(X, y, batch_size, seed))", X=X37, y=y37, batch_size=8, seed=5),
                 expected=np.arange(37), label="37 examples: each exactly once per epoch")
        t.values(_mb("_batch_sizes", X37, y37, 8, 5), expected=np.array([8, 8, 8, 8, 5]),
                 label="37 examples, batch_size=8: batch sizes")
        t.values(_mb("_batch_sizes", X37, y37, 64, 5), expected=np.array([37]), label="batch_size larger than N: one batch")
        t.values(_mb("_batch_sizes", X37, y37, 1, 5), expected=np.ones(37), label="batch_size=1 (online learning)")
        t.values(_mb("_pairs_kept", X37, y37, 8, 5), expected=np.ones(5), label="37 examples: rows keep their labels")
        r = np.random.default_rng(9)
        t.values(_mb("_two_epochs", X37, y37, 8, 9), expected=np.concatenate([r.permutation(37), r.permutation(37)]),
                 label="two epochs from one generator: a new order in the second",
                 hints=[(np.tile(np.random.default_rng(9).permutation(37), 2),
                         "every epoch has the same order: use the generator passed in (rng), do not make a new one.")])


# ----------------------------------------------------------------------------------------------
# forward
# ----------------------------------------------------------------------------------------------
def _softmax_rows(a, stable=True):
    if stable:
        a = a - np.max(a, axis=-1, keepdims=True)
    return np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True)


def _reference_probs(params, X):
    return _softmax_rows(_scores(params, X))


_HINTS_FORWARD = [
    (lambda params, X: _softmax_rows(_scores(params, X), stable=False),
     "softmax overflows for large scores: subtract each row's maximum before np.exp."),
    (lambda params, X: _softmax_rows(_scores(params, X, relu_hidden=False), stable=False),
     "the hidden layers have no ReLU: apply max(0, Z) after every layer but the last."),
    (lambda params, X: _softmax_rows(_scores(params, X, relu_output=True), stable=False),
     "the ReLU is applied to the output scores too: the last layer goes straight into the softmax."),
]


def _forward_probe(params, X):
    """forward(params, X)[0], shown as the call forward(params, X)."""
    return Probe("forward(params, X)[0]", {"params": params, "X": X}, f"forward({describe(params)}, {describe(X)})")


@assignment.test("test_forward", name="forward", points=3)
def _(t):
    p, X = init_params([2, 3, 3], np.random.default_rng(1)), np.array([[0.5, -1.2], [1.0, 0.3]])
    t.shape(_forward_probe(p, X), expected_shape=(2, 3))
    t.values(_forward_probe(p, X), expected=_reference_probs(p, X), hints=hint_values(_HINTS_FORWARD, p, X),
             label="the 2-3-3 example")
    with t.hidden():
        rng = np.random.default_rng(50501)
        deep = init_params([4, 6, 5, 3], rng)
        for k in deep:
            if k.startswith("b"):
                deep[k] = rng.normal(size=deep[k].shape)
        for params, X, label in ((deep, rng.normal(size=(7, 4)), "a 4-6-5-3 network, 7 examples, nonzero biases"),
                                 (deep, rng.normal(size=(1, 4)), "a batch of one example")):
            t.values(_forward_probe(params, X), expected=_reference_probs(params, X),
                     hints=hint_values(_HINTS_FORWARD, params, X), label=label)
        big = {k: v * 40 for k, v in deep.items()}
        X = rng.normal(size=(5, 4))
        t.values(_forward_probe(big, X), expected=_reference_probs(big, X), hints=hint_values(_HINTS_FORWARD, big, X),
                 label="weights × 40: scores in the thousands (overflow lurks)")


# ----------------------------------------------------------------------------------------------
# loss_and_grads
# ----------------------------------------------------------------------------------------------
def _finite_differences(params, X, y):
    copy = {k: v.copy() for k, v in params.items()}
    return {k: numerical_gradient(lambda: _loss_of(copy, X, y), copy[k]) for k in copy}


_HINTS_GRADIENT = [
    (lambda params, X, y, key: -_finite_differences(params, X, y)[key],
     "the sign is flipped: dJ/dZ_L = (P − Y)/N, not (Y − P)/N."),
    (lambda params, X, y, key: len(y) * _finite_differences(params, X, y)[key],
     "N times too large: the loss is a mean, so divide dJ/dZ_L by the batch size N."),
]


def _check_gradients(t, params, X, y, what, hints=()):
    numeric = _finite_differences(params, X, y)
    for key in params:
        t.values(probe("loss_and_grads(params, X, y)[1][key]", params=params, X=X, y=y, key=key),
                 expected=numeric[key], rtol=1e-4, atol=1e-7, hints=hint_values(hints, params, X, y, key),
                 label=f"{what}: grads[{key!r}] against finite differences")


def _loss_probe(params, X, y):
    return probe("loss_and_grads(params, X, y)[0]", params=params, X=X, y=y)


@assignment.test("test_loss_and_grads", name="loss_and_grads", points=4)
def _(t):
    p = init_params([2, 3, 3], np.random.default_rng(1))
    Xs, ys = np.array([[0.5, -1.2], [1.0, 0.3]]), np.array([1, 2])
    t.values(_loss_probe(p, Xs, ys), expected=_loss_of(p, Xs, ys), label="loss of the 2-3-3 example", hints=hint_values([
        (lambda params, X, y: _loss_of(params, X, y) * len(y), "the loss is the MEAN over the batch, not the sum."),
        (lambda params, X, y: _loss_of(params, X, y) / np.log(10), "use the natural log (np.log), not log10."),
    ], p, Xs, ys))
    _check_gradients(t, p, Xs, ys, "the 2-3-3 example", _HINTS_GRADIENT)
    with t.hidden():
        rng = np.random.default_rng(50502)
        deep = init_params([3, 5, 4, 4], rng)
        for k in deep:
            if k.startswith("b"):
                deep[k] = 0.3 * rng.normal(size=deep[k].shape)
        Xd, yd = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
        t.values(_loss_probe(deep, Xd, yd), expected=_loss_of(deep, Xd, yd), label="loss of a 3-5-4-4 network")
        _check_gradients(t, deep, Xd, yd, "a 3-5-4-4 network, 6 examples", _HINTS_GRADIENT)
        _check_gradients(t, deep, Xd[:1], yd[:1], "a batch of one")


# ----------------------------------------------------------------------------------------------
# train_step
# ----------------------------------------------------------------------------------------------
def _reference_step(params, X, y, lr, sign=-1.0):
    new = {k: v.copy() for k, v in params.items()}
    for k in sorted(new):
        g = numerical_gradient(lambda: _loss_of(params, X, y), params[k])
        new[k] = new[k] + sign * lr * g
    return np.concatenate([new[k].ravel() for k in sorted(new)])


def _loss_expression(X, y, n_layers):
    """The loss of the parameters P on (X, y), as an expression the judge evaluates on the
    parameters a student's step left (numpy only: ReLU hidden layers, log-sum-exp cross-entropy)."""
    a = f"np.array({np.asarray(X, float).tolist()!r})"
    for k in range(1, n_layers + 1):
        a = f"({a}) @ P['W{k}'] + P['b{k}']"
        if k < n_layers:
            a = f"np.maximum({a}, 0.0)"
    picked = f"[np.arange({len(y)}), np.array({np.asarray(y).tolist()!r})]"
    shifted = "(lambda a: a - np.max(a, axis=-1, keepdims=True))"
    return (f"(lambda s: -np.mean((s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))){picked}))"
            f"({shifted}({a}))")


# The parameters after the student's step, flattened in a fixed order.
_PRELUDE_STEP = '''
def _after_one_step(params, X, y, lr):
    train_step(params, X, y, lr)
    return np.concatenate([np.ravel(params[k]) for k in sorted(params)])
'''


@assignment.test("test_train_step", name="train_step", points=2, prelude=_PRELUDE_STEP)
def _(t):
    p = init_params([2, 3, 3], np.random.default_rng(1))
    Xs, ys = np.array([[0.5, -1.2], [1.0, 0.3]]), np.array([1, 2])
    t.values(probe("_after_one_step(params, X, y, lr)", params=p, X=Xs, y=ys, lr=0.5),
             expected=_reference_step(p, Xs, ys, 0.5), rtol=1e-4, atol=1e-7,
             label="parameters after one step on the 2-3-3 example, lr=0.5",
             hints=hint_values([(lambda params, X, y, lr: _reference_step(params, X, y, lr, sign=+1.0),
                            "the parameters moved UP the gradient: subtract lr · gradient.")], p, Xs, ys, 0.5))
    t.values(probe("train_step(params, X, y, lr)", params=p, X=Xs, y=ys, lr=0.5), expected=_loss_of(p, Xs, ys),
             label="the returned loss (before the step)")
    with t.hidden():
        rng = np.random.default_rng(50503)
        deep = init_params([3, 8, 8, 4], rng)
        Xd, yd = rng.normal(size=(16, 3)), rng.integers(0, 4, size=16)
        t.values(probe("_after_one_step(params, X, y, lr)", params=deep, X=Xd, y=yd, lr=0.05),
                 expected=_reference_step(deep, Xd, yd, 0.05), rtol=1e-4, atol=1e-7,
                 label="a 3-8-8-4 network, 16 examples, lr=0.05")
        before = float(_loss_of(deep, Xd, yd))
        t.satisfies(probe("(train_step(params, X, y, lr=lr), params)[1]", params=deep, X=Xd, y=yd, lr=0.05),
                    f"(lambda P: {_loss_expression(Xd, yd, 3)} < {before!r})(r)",
                    message=f"the loss on this batch must be lower after the step than before it ({before:.6f}); "
                            f"received: the parameters after your step",
                    label="is the loss lower after one step?", like=deep, weak=True)


# ----------------------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------------------
def _reference_labels(params, X):
    return np.argmax(_scores(params, X), axis=-1)


@assignment.test("test_predict", name="predict", points=1)
def _(t):
    p, X = init_params([2, 3, 3], np.random.default_rng(1)), np.array([[0.5, -1.2], [2.0, 1.0]])
    t.values(call("predict", p, X), expected=_reference_labels(p, X), hints=[
        (lambda params, X: np.argmax(_reference_probs(params, X), axis=0),
         "argmax over the wrong axis: take it along each row (axis=1)."),
    ])
    with t.hidden():
        rng = np.random.default_rng(50504)
        deep = init_params([2, 16, 16, 5], rng)
        X = rng.normal(size=(40, 2))
        t.values(call("predict", deep, X), expected=_reference_labels(deep, X), label="a 2-16-16-5 network on 40 points")
        X = rng.normal(size=(1, 2))
        t.values(call("predict", deep, X), expected=_reference_labels(deep, X), label="a batch of one")


# ----------------------------------------------------------------------------------------------
# The graded outcome: train once with the student's train and SETTINGS (timed), then predict.
#   1 point  training runs without errors within TIME_LIMIT seconds;
#   1 point  accuracy ≥ 0.90 on the validation set;
#   hidden:  accuracy on 2000 new points from the same distribution of the network train returned
#            (judged here, with the exercise's forward pass): 2 points for ≥ 0.75 and 3 more for
#            ≥ 0.90.
# Over the time limit every check fails: the test scores 0.
# ----------------------------------------------------------------------------------------------
# The kernel only trains, times and predicts. The network trained by the first check is kept on
# the student's train function for the checks after it (the first check always trains afresh).
# The judge counts the right labels itself; the kernel gets the true labels of the validation set
# only (public data), to show the accuracy beside the result, never those of the new points.
_PRELUDE_TRAINED = '''
import math as _math
import time as _time

def _trained(X, y):
    # the seconds rounded up to the millisecond, for a readable message (never below the time taken)
    start = _time.perf_counter()
    params = train(X, y, **globals().get("SETTINGS", {}))
    return params, _math.ceil((_time.perf_counter() - start) * 1000) / 1000

def _graded_training(X, y):
    try:
        vars(train).pop("_graded_network", None)
    except TypeError:
        pass
    params, seconds = _trained(X, y)
    try:
        train._graded_network = (params, seconds)
    except AttributeError:
        pass
    return seconds

def _graded_network(X_fit, y_fit):
    params, seconds = getattr(train, "_graded_network", None) or _trained(X_fit, y_fit)
    return {"seconds": seconds, "params": params}

def _graded_predictions(X_fit, y_fit, X, y=None):
    params, seconds = getattr(train, "_graded_network", None) or _trained(X_fit, y_fit)
    labels = np.asarray(predict(params, X))
    if y is None:
        return {"seconds": seconds, "labels": labels}
    shown = float(np.mean(labels == y)) if labels.shape == np.shape(y) else None
    return {"accuracy": shown, "seconds": seconds, "labels": labels}
'''


#: the networks the hidden accuracy checks accept: up to this many layers and parameters in all
#: (the forward pass on 2000 points then costs the grading process well under a second)
MAX_LAYERS, MAX_PARAMETERS = 8, 200_000


def _network_accuracy(r, X, y):
    """The accuracy on (X, y) of the network ``r['params']`` that the student's train returned,
    computed with the course's forward pass; 0.0 for anything but such a network trained within
    the time limit (every form and size checked before any product)."""
    if not isinstance(r, dict) or not isinstance(r.get("params"), dict):
        return 0.0
    seconds, params = r.get("seconds"), r["params"]
    if not isinstance(seconds, (int, float)) or not seconds <= TIME_LIMIT:
        return 0.0
    n = len(params) // 2
    if not 1 <= n <= MAX_LAYERS or sorted(params) != sorted([f"W{k}" for k in range(1, n + 1)]
                                                            + [f"b{k}" for k in range(1, n + 1)]):
        return 0.0
    width, total, network = X.shape[1], 0, {}
    for k in range(1, n + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        if not (isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.dtype.kind == "f"
                and b.dtype.kind == "f" and W.ndim == 2 and W.shape[0] == width
                and b.shape == (W.shape[1],)):
            return 0.0
        width, total = W.shape[1], total + W.size + b.size
        if total > MAX_PARAMETERS:
            return 0.0
        # in float64, with entries too small to matter set to 0: long doubles and subnormal
        # numbers make each product take minutes (no BLAS, or a slow path per multiply)
        for name, a in ((f"W{k}", W), (f"b{k}", b)):
            a = np.asarray(a, dtype=np.float64)
            network[name] = np.where(np.abs(a) < np.finfo(np.float64).tiny, 0.0, a)
    if width != int(np.max(y)) + 1:
        return 0.0
    key = hashlib.sha256(b"".join([network[k].tobytes() for k in sorted(network)]
                                  + [np.asarray(X).tobytes(), np.asarray(y).tobytes()])).hexdigest()
    if key not in _ACCURACIES:       # the same network, judged against both thresholds: once
        _ACCURACIES[key] = float(np.mean(_reference_labels(network, X) == y))
    return _ACCURACIES[key]


_ACCURACIES: dict = {}


def _network_message(threshold):
    return (f"the network your train returned must classify {threshold:.0%} or more of the new points "
            f"right (computed with the forward pass of the exercise: ReLU hidden layers, the class of "
            f"the largest score), and training must take at most {TIME_LIMIT:.0f} s (received: the "
            f"seconds training took, and the network)")


def _accuracy_test(y, threshold):
    # the shape first: labels of any other shape are wrong, and comparing them with y could
    # broadcast into an array far larger than either (run here, in the grading process)
    return (f"r['seconds'] <= {TIME_LIMIT!r} and np.shape(r['labels']) == ({len(y)},) and "
            f"np.mean(np.asarray(r['labels']) == np.array({np.asarray(y).tolist()!r})) >= {threshold!r}")


def _accuracy_message(threshold, shown=True):
    return (f"the accuracy must be {threshold:.2f} or more, and training must take at most {TIME_LIMIT:.0f} s "
            f"(received: {'the accuracy, ' if shown else ''}how many seconds training took, and the predicted "
            f"labels)")


@assignment.test("test_trained_network", name="train / predict", points=7, prelude=_PRELUDE_TRAINED)
def _(t):
    X, y = data.spirals(n_per_class=200, n_classes=5, noise=0.25, seed=0)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    t.satisfies(probe("_graded_training(X, y)", X=X_train, y=y_train), f"r <= {TIME_LIMIT!r}", weak=True,
                message=f"training took more than the limit of {TIME_LIMIT:.0f} s (received: the seconds it "
                        f"took), so this test scores 0. Use fewer epochs, a smaller network or larger batches, "
                        f"and vectorise your code (no loops over examples).",
                label="train(X_train, y_train, **SETTINGS)")
    fit = dict(X_fit=X_train, y_fit=y_train)
    t.satisfies(probe("_graded_predictions(X_fit, y_fit, X, y)", X=X_val, y=y_val, **fit),
                _accuracy_test(y_val, 0.90), message=_accuracy_message(0.90),
                label="accuracy on the validation set (0.90 or more needed)")
    with t.hidden():
        X_new, y_new = data.spirals(n_per_class=400, n_classes=5, noise=0.25, seed=730115)
        # in no particular order: the spirals come class by class, and a predict that answered
        # "0 for the first fifth, 1 for the next, …" would score without learning anything
        order = np.random.default_rng(730116).permutation(len(y_new))
        X_new, y_new = X_new[order], y_new[order]
        # the network train returned is judged here, with the course's forward pass (ReLU hidden
        # layers, as forward and predict must compute): a predict that knows the spirals' formula,
        # or one that looks its answers up in points it drew itself, answers without a network
        new = probe("_graded_network(X_fit, y_fit)", **fit)       # the new points stay here too
        for threshold, weight, what in ((0.75, 2, "partial credit"), (0.90, 3, "full marks")):
            t.judged(new, lambda r, threshold=threshold: _network_accuracy(r, X_new, y_new) >= threshold,
                     message=_network_message(threshold), weight=weight,
                     label=f"accuracy on 2000 new spiral points ({threshold:.2f} or more for {what})")
