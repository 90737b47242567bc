"""The checks of exercise 04 (backpropagation): 20 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

Gradients are judged against centred finite differences of the loss, computed here with the
course library; the hints' values are what known mistakes give on the same inputs.
"""

import numpy as np

from coursetools.judge import DEFAULT_LIBRARY, Assignment, probe, hint_values
from nnlib import activations as act
from nnlib import gradcheck
from nnlib import losses

# The exercise's own cells use nothing of the course library beyond the defaults (figures, data
# sets, style); backpropagation, losses and gradient checking are the student's to write.
assignment = Assignment("ex04_backprop", library=DEFAULT_LIBRARY, prelude="import numpy as np")




# ----------------------------------------------------------------------------------------------
# backprop_222
# ----------------------------------------------------------------------------------------------
def _error_222(i, t, w, b):
    z = act.sigmoid
    hid = z(np.array([[w[0], w[1]], [w[2], w[3]]]) @ i + b[0])
    out = z(np.array([[w[4], w[5]], [w[6], w[7]]]) @ hid + b[1])
    return 0.5 * float(np.sum((t - out) ** 2))


def _numeric_222(i, t, w, b):
    w = np.array(w, dtype=float)
    return gradcheck.numerical_gradient(
        lambda: _error_222(np.asarray(i, float), np.asarray(t, float), w, np.asarray(b, float)), w, h=1e-6)


def _analytic_222(i, t, w, b, out_slope=True, paths=2, sign=1.0):   # variants for the hints
    z = act.sigmoid
    h = z(np.array([[w[0], w[1]], [w[2], w[3]]]) @ i + b[0])
    o = z(np.array([[w[4], w[5]], [w[6], w[7]]]) @ h + b[1])
    d_o = sign * (o - t) * (o * (1 - o) if out_slope else 1.0)
    back = np.array([[w[4], w[6]], [w[5], w[7]]]) @ d_o if paths == 2 else np.array([w[4], w[7]]) * d_o
    d_h = back * h * (1 - h)
    return np.concatenate([np.outer(d_h, i).ravel(), np.outer(d_o, h).ravel()])


_HINTS_222 = [
    (lambda *a: _analytic_222(*a, sign=-1.0), "the sign is flipped: ∂E/∂o = o − t (output minus target)."),
    (lambda *a: _analytic_222(*a, out_slope=False),
     "the output sigmoid's slope o(1 − o) is missing from δ_o = (o − t) o (1 − o)."),
    (lambda *a: _analytic_222(*a, paths=1),
     "each hidden neuron reaches E along two paths: ∂E/∂h1 = δ_o1 w5 + δ_o2 w7 (and ∂E/∂h2 = "
     "δ_o1 w6 + δ_o2 w8); the paths add up."),
]
_PARTS_222 = {"w5 … w8": (4, 8), "w1 … w4": (0, 4)}


def _check_222(t, args, label):
    """The output-layer gradients (w5 … w8) and the hidden-layer ones (w1 … w4), separately."""
    i, tt, w, b = args
    numeric = _numeric_222(*args)
    for name, (lo, hi) in _PARTS_222.items():
        hints = [(value[lo:hi], text) for value, text in hint_values(_HINTS_222, *args)]
        t.values(probe(f"np.asarray(backprop_222(i, t, w, b), dtype=float)[{lo}:{hi}]", i=i, t=tt, w=w, b=b),
                 expected=numeric[lo:hi], rtol=1e-5, atol=1e-9, label=f"{label}: dE/d{name}", hints=hints)


@assignment.test("test_backprop_222", name="backprop_222", points=5)
def _(t):
    _check_222(t, (np.array([0.05, 0.10]), np.array([0.01, 0.99]),
                   np.array([0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]), np.array([0.35, 0.60])),
               "the notes' example")
    with t.hidden():
        rng = np.random.default_rng(40401)
        for k in range(3):
            _check_222(t, (rng.uniform(-1, 1, 2), rng.uniform(0, 1, 2), rng.normal(0, 1, 8), rng.normal(0, 0.5, 2)),
                       f"random network {k + 1}")
        _check_222(t, (np.array([0.0, 0.0]), np.array([1.0, 0.0]), rng.normal(0, 1, 8), np.array([0.2, -0.3])),
                   "inputs all zero")


# ----------------------------------------------------------------------------------------------
# train_222
# ----------------------------------------------------------------------------------------------
def _train_reference(i, t, w, b, eta=0.5, steps=1, stale=False):
    """Plain gradient descent; stale=True updates w5 … w8 first and uses them for the hidden layer."""
    def forward(w):
        h = act.sigmoid(np.array([[w[0], w[1]], [w[2], w[3]]]) @ i + b[0])
        return h, act.sigmoid(np.array([[w[4], w[5]], [w[6], w[7]]]) @ h + b[1])
    w = np.array(w, dtype=float)
    errors = [0.5 * float(np.sum((t - forward(w)[1]) ** 2))]
    for _ in range(steps):
        h, o = forward(w)
        d_o = (o - t) * o * (1 - o)
        new_out = w[4:] - eta * np.outer(d_o, h).ravel()
        back_w = new_out if stale else w[4:]
        d_h = (np.array([[back_w[0], back_w[2]], [back_w[1], back_w[3]]]) @ d_o) * h * (1 - h)
        w = np.concatenate([w[:4] - eta * np.outer(d_h, i).ravel(), new_out])
        errors.append(0.5 * float(np.sum((t - forward(w)[1]) ** 2)))
    return w, np.array(errors)


_HINTS_TRAIN = {
    0: [(lambda *a: _train_reference(*a, stale=True)[0],
         "the hidden-layer gradients were computed with the already updated w5 … w8: compute all "
         "eight gradients first, then update.")],
    1: [(lambda *a: _train_reference(*a)[1][1:], "the history must start with E before any step "
                                                "(steps + 1 values).")],
}


def _check_train(t, args, label):
    i, tt, w, b, eta, steps = args
    w_ref, e_ref = _train_reference(*args)
    for k, (what, expected) in enumerate((("final weights", w_ref), ("errors E_0 … E_steps", e_ref))):
        t.values(probe(f"np.asarray(train_222(i, t, w, b, eta, steps)[{k}], dtype=float)",
                       i=i, t=tt, w=w, b=b, eta=eta, steps=steps),
                 expected=expected, rtol=1e-6, atol=1e-12, label=f"{label}: {what}",
                 hints=hint_values(_HINTS_TRAIN[k], *args))


@assignment.test("test_train_222", name="train_222", points=2)
def _(t):
    _check_train(t, (np.array([0.05, 0.10]), np.array([0.01, 0.99]),
                     np.array([0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]), np.array([0.35, 0.60]), 0.5, 1),
                 "the notes' example, one step with η = 0.5")
    with t.hidden():
        rng = np.random.default_rng(40402)
        _check_train(t, (rng.uniform(-1, 1, 2), rng.uniform(0, 1, 2), rng.normal(0, 1.5, 8), rng.normal(0, 0.5, 2),
                         2.0, 5), "a random network, 5 steps with η = 2")
        _check_train(t, (np.array([0.5, -0.3]), np.array([0.9, 0.1]), rng.normal(0, 2, 8), np.array([0.1, -0.2]),
                         1.0, 3), "another random network, 3 steps with η = 1")


# ----------------------------------------------------------------------------------------------
# mlp_gradients
# ----------------------------------------------------------------------------------------------
def _mlp_loss(X, y, weights, biases):
    H = np.asarray(X, float)
    for W_l, b_l in zip(weights[:-1], biases[:-1]):
        H = act.sigmoid(H @ W_l + b_l)
    return losses.categorical_cross_entropy_from_logits(H @ weights[-1] + biases[-1], np.asarray(y))


def _flat(grad_weights, grad_biases):
    return np.concatenate([np.ravel(g) for pair in zip(grad_weights, grad_biases) for g in pair])


def _numeric_grads(X, y, weights, biases):
    weights = [np.array(W, float) for W in weights]
    biases = [np.array(b, float) for b in biases]
    grads = [gradcheck.numerical_gradient(lambda: _mlp_loss(X, y, weights, biases), p, h=1e-6)
             for pair in zip(weights, biases) for p in pair]
    return np.concatenate([g.ravel() for g in grads])


def _analytic(X, y, weights, biases, per_example=True, sign=1.0, slope="h"):   # variants for hints
    H = [np.asarray(X, float)]
    for W_l, b_l in zip(weights[:-1], biases[:-1]):
        H.append(act.sigmoid(H[-1] @ W_l + b_l))
    P = act.softmax(H[-1] @ weights[-1] + biases[-1])
    G = sign * (P - np.eye(P.shape[1])[np.asarray(y)]) / (len(P) if per_example else 1)
    gw, gb = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        gw[l], gb[l] = H[l].T @ G, G.sum(axis=0)
        if l:
            s = act.sigmoid(H[l]) if slope == "sigma(h)" else H[l]
            G = (G @ weights[l].T) * (s * (1 - s) if slope != "none" else 1.0)
    return _flat(gw, gb)


_HINTS_MLP = [
    (lambda *a: _analytic(*a, per_example=False), "the gradient is N times too large: the loss is a "
     "mean over the batch, so the output gradient is (P − Y) / N."),
    (lambda *a: _analytic(*a, sign=-1.0), "the sign is flipped: the output gradient is P − Y, not Y − P."),
    (lambda *a: _analytic(*a, slope="sigma(h)"), "the sigmoid's slope is H(1 − H) where H is already the "
     "layer's output σ(A): you applied the sigmoid a second time."),
    (lambda *a: _analytic(*a, slope="none"), "the hidden layers' slope H(1 − H) is missing from G_{l−1}."),
]

# Flattens the student's gradients in the order W1, b1, W2, b2, … (no arithmetic on them).
_PRELUDE_MLP = '''
def _flat_gradients(result):
    loss, grad_weights, grad_biases = result
    return np.concatenate([np.ravel(g) for pair in zip(grad_weights, grad_biases) for g in pair])
'''


def _check_mlp(t, args, label, weight=2.0, loss=True):
    X, y, weights, biases = args
    inputs = dict(X=X, y=y, weights=weights, biases=biases)
    if loss:
        t.values(probe("float(mlp_gradients(X, y, weights, biases)[0])", **inputs),
                 expected=_mlp_loss(*args), label=f"{label}: loss", weight=1.0)
    t.values(probe("_flat_gradients(mlp_gradients(X, y, weights, biases))", **inputs),
             expected=_numeric_grads(*args), rtol=1e-5, atol=1e-8, weight=weight, hints=hint_values(_HINTS_MLP, *args),
             label=f"{label}: all gradients (W1, b1, W2, b2, …) vs finite differences")


def _network(rng, sizes, N, scale=0.5):
    weights = [rng.normal(0, scale, size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.1, size=n) for n in sizes[1:]]
    return rng.normal(size=(N, sizes[0])), rng.integers(0, sizes[-1], size=N), weights, biases


@assignment.test("test_mlp_gradients", name="mlp_gradients", points=8, prelude=_PRELUDE_MLP)
def _(t):
    rng = np.random.default_rng(4)
    demo = (rng.normal(size=(4, 2)), np.array([0, 1, 1, 0]),
            [rng.normal(0, 0.5, size=(2, 3)), rng.normal(0, 0.5, size=(3, 2))], [np.zeros(3), np.zeros(2)])
    _check_mlp(t, demo, "the 2-3-2 example above")
    _check_mlp(t, _network(np.random.default_rng(41), [3, 4, 3, 3], 5),
               "a 3-4-3-3 network (two hidden layers), 5 examples", loss=False)
    with t.hidden():
        rng = np.random.default_rng(40403)
        _check_mlp(t, _network(rng, [4, 5, 3], 6), "a random 4-5-3 network, 6 examples")
        _check_mlp(t, _network(rng, [2, 3, 3, 3, 2], 3),
                   "a random 2-3-3-3-2 network (three hidden layers), 3 examples", loss=False)
        _check_mlp(t, _network(rng, [3, 4, 4], 1), "a batch of one", weight=1.0, loss=False)
        X, y, W, b = _network(rng, [3, 4, 3], 4)
        W[-1] = W[-1] * 60                    # scores of several hundred: softmax saturates
        _check_mlp(t, (X, y, W, b), "scores of several hundred (a confident network)", weight=1.0)


# ----------------------------------------------------------------------------------------------
# numerical_gradient and gradient_check. A function f is written into the probe as a lambda; its
# arrays are the probe's inputs.
# ----------------------------------------------------------------------------------------------
def _numerical_reference(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    return gradcheck.numerical_gradient(lambda: f(x), x, h)


def _one_sided(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    base, out = f(x), np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        out[idx] = (f(x) - base) / h
        x[idx] -= h
    return out


_HINTS_NUMERICAL = [
    (_one_sided, "that is the one-sided difference (f(x + h) − f(x)) / h: use the centred "
                 "(f(x + h) − f(x − h)) / (2h), which is far more accurate."),
    (lambda f, x, h=1e-5: 2 * _numerical_reference(f, x, h),
     "the values are twice too large: divide f(x + h) − f(x − h) by 2h, not by h."),
]
_CUBE = "lambda x: float(np.sum(x ** 3))"


def _cube(x):
    return float(np.sum(x ** 3))


def _numerical_check(t, f, expr, inputs, x, *h, label, rtol):
    args = (f, x, *h)
    t.values(probe(expr, x=x, **inputs), expected=_numerical_reference(*args), rtol=rtol, atol=1e-9,
             hints=hint_values(_HINTS_NUMERICAL, *args), label=label)


@assignment.test("test_numerical_gradient", name="numerical_gradient", points=2)
def _(t):
    _numerical_check(t, _cube, f"numerical_gradient({_CUBE}, x)", {}, np.array([[1.0, -2.0], [0.5, 3.0]]),
                     label="f(x) = Σ x³ at x = [[1, -2], [0.5, 3]]", rtol=1e-7)
    # the caller's array x, after the call
    t.values(probe(f"(numerical_gradient({_CUBE}, x, 1e-5), x)[1]", x=np.array([1.0, -2.0, 0.5])),
             expected=np.array([1.0, -2.0, 0.5]), label="the array x passed in must be left unchanged", weak=True)
    with t.hidden():
        rng = np.random.default_rng(40404)
        A = rng.normal(size=(3, 4))
        _numerical_check(t, lambda w: float(np.sum(np.tanh(A @ w) ** 2)),
                         "numerical_gradient(lambda w: float(np.sum(np.tanh(A @ w) ** 2)), x)", {"A": A},
                         rng.normal(size=(4, 2)), label="f(W) = Σ tanh(A W)² for a random (4, 2) matrix W",
                         rtol=1e-6)
        _numerical_check(t, lambda v: float(np.exp(v[0]) * v[1]),
                         "numerical_gradient(lambda v: float(np.exp(v[0]) * v[1]), x, 1e-4)", {},
                         np.array([0.3, -1.2]), 1e-4, label="f(v) = exp(v0) v1 with h = 1e-4", rtol=1e-6)
        _numerical_check(t, lambda v: float(np.sum(v ** 3)), "numerical_gradient(lambda v: float(np.sum(v ** 3)), x)",
                         {}, rng.normal(size=(2, 2, 2)), label="a 3-D array x", rtol=1e-6)


def _check_reference(f, x, analytic, h=1e-5, tol=1e-6):
    x = np.array(x, dtype=float)
    error = gradcheck.rel_error(analytic, gradcheck.numerical_gradient(lambda: f(x), x, h))
    return np.array([float(error <= tol), error])


def _entrywise(f, x, analytic, h=1e-5, tol=1e-6):
    x = np.array(x, dtype=float)
    g, a = gradcheck.numerical_gradient(lambda: f(x), x, h), np.asarray(analytic, float)
    error = float(np.max(np.abs(a - g) / np.maximum(np.abs(a) + np.abs(g), 1e-12)))
    return np.array([float(error <= tol), error])


def _absolute(f, x, analytic, h=1e-5, tol=1e-6):
    x = np.array(x, dtype=float)
    error = float(np.max(np.abs(np.asarray(analytic, float) - gradcheck.numerical_gradient(lambda: f(x), x, h))))
    return np.array([float(error <= tol), error])


_HINTS_CHECK = [
    (_absolute, "that is the absolute error max |a − g|: divide it by max(|a| + |g|) to make it relative."),
    (_entrywise, "you divided entry by entry: divide the largest difference by the size of the whole "
                 "gradient, max(|a| + |g|), as in the formula."),
    (lambda *a, **k: _check_reference(*a, **k) * np.array([-1, 1]) + np.array([1, 0]),
     "passed must be True when the error is at most tol (error <= tol), False otherwise."),
]

# (passed, error) as the array [passed, error].
_PRELUDE_CHECK = '''
def _passed_error(result):
    passed, error = result
    return np.array([float(passed), float(error)])
'''


@assignment.test("test_gradient_check", name="gradient_check", points=3, prelude=_PRELUDE_CHECK)
def _(t):
    x0 = np.array([[1.0, -2.0], [0.5, 3.0]])
    for analytic, rtol, label, weak in ((3 * x0 ** 2, 1e-3, "Σ x³ with the right gradient 3x²", True),
                                        (-3 * x0 ** 2, 1e-2, "Σ x³ with the sign flipped", False),
                                        (2 * x0 ** 2, 1e-2, "Σ x³ with 2x² instead of 3x²", False)):
        t.values(probe(f"_passed_error(gradient_check({_CUBE}, x, analytic))", x=x0, analytic=analytic),
                 expected=_check_reference(_cube, x0, analytic), rtol=rtol, atol=1e-7, weak=weak,
                 hints=hint_values(_HINTS_CHECK, _cube, x0, analytic), label=label)
    # The hidden checks give the checker a wrong and then a right gradient for the same function,
    # one call each, and compare (passed, error): a checker must catch the one and pass the
    # other. No two pairs share a point x, and one gives only a wrong gradient: a checker that
    # remembers what it was given before (the visible checks give the right gradient first) and
    # takes it as the truth cannot answer them without finite differences.
    with t.hidden():
        rng = np.random.default_rng(40405)
        A, w0, w1 = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3)
        softplus = lambda w: float(np.sum(np.log1p(np.exp(A @ w))))     # Σ softplus(A w)
        softplus_gradient = lambda w: A.T @ (1 / (1 + np.exp(-(A @ w))))
        right = softplus_gradient(w0)
        nudged = right.copy()
        nudged[np.argmin(np.abs(right))] *= 1.1                         # its smallest entry 10 % off
        tiny = np.array([1e-9, -2e-9, 0.0])
        square = lambda v: float(np.sum(v ** 2))
        softplus_expr = "lambda w: float(np.sum(np.log1p(np.exp(A @ w))))"
        for f, f_expr, inputs, x, r, w, label, wrong_label in (
                (softplus, softplus_expr, {"A": A}, w0, right, nudged, "a softplus loss",
                 "its gradient with the smallest entry 10 % off"),
                (softplus, softplus_expr, {"A": A}, w1, softplus_gradient(w1), softplus_gradient(w1) / 5,
                 "a softplus loss at another point", "its gradient divided by 5"),
                (square, "lambda v: float(np.sum(v ** 2))", {}, tiny, 2 * tiny, -2 * tiny, "Σ v² near v = 0",
                 "the negative of the right (nearly zero) gradient")):
            # (a checker that always says "passed" passes the right gradients: weak checks)
            for analytic, what, weak in ((w, wrong_label, False), (r, "then the right gradient", True)):
                t.values(probe(f"_passed_error(gradient_check({f_expr}, x, analytic))", x=x, analytic=analytic,
                               **inputs),
                         expected=_check_reference(f, x, analytic), rtol=1e-2, atol=1e-7, weak=weak,
                         hints=hint_values(_HINTS_CHECK, f, x, analytic), label=f"{label}: {what}")
        x2 = rng.normal(size=(2, 3))
        t.values(probe("_passed_error(gradient_check(lambda v: float(np.sum(np.sin(v))), x, analytic))",
                       x=x2, analytic=-np.cos(x2)),
                 expected=_check_reference(lambda v: float(np.sum(np.sin(v))), x2, -np.cos(x2)), rtol=1e-2,
                 atol=1e-7, hints=hint_values(_HINTS_CHECK, lambda v: float(np.sum(np.sin(v))), x2, -np.cos(x2)),
                 label="Σ sin v with the sign of its gradient flipped (the only gradient given)")
