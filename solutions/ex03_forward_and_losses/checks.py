"""The checks of exercise 03 (forward pass and loss functions): 18 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

Expected values come from reference code here and from the course library (``nnlib.activations``,
``nnlib.losses``), computed in the judge; the student's kernel only evaluates the probes.
"""
import numpy as np

from coursetools.judge import Assignment, call
from nnlib import activations as act
from nnlib import losses

# The notebook's non-answer cells use no part of the course library: the sigmoid and softmax the
# answers may use are given in the notebook itself. Nothing of nnlib is available while graded.
assignment = Assignment("ex03_forward_and_losses", library=())


# ----------------------------------------------------------------------------------------------
# Part 1 · dense_forward
# ----------------------------------------------------------------------------------------------
def _dense_reference(X, W, b):
    """A = X W + b: X (N, n_in), W (n_in, n_out), b (n_out,) → (N, n_out)."""
    return np.dot(np.asarray(X, float), np.asarray(W, float)) + np.asarray(b, float)


_DENSE_HINTS = [
    (lambda X, W, b: np.dot(np.asarray(X, float), np.asarray(W, float)),
     "the bias b is missing: add it to every row."),
    (lambda X, W, b: np.dot(np.asarray(X, float), np.asarray(W, float).T) + b,
     "you used the transpose of W: with W of shape (n_in, n_out) the product is X @ W."),
]


@assignment.test("test_dense_forward", name="dense_forward", points=3)
def _(t):
    def dense(X, W, b, label=None):
        t.values(call("dense_forward", X, W, b), expected=_dense_reference(X, W, b),
                 hints=_DENSE_HINTS, label=label)

    X, W, b = np.ones((4, 3)), np.ones((3, 2)), np.zeros(2)
    t.shape(call("dense_forward", X, W, b), expected_shape=_dense_reference(X, W, b).shape,
            label="X (4, 3), W (3, 2), b (2,)")
    dense(np.array([[2.0, 3.0]]), np.array([[0.11, 0.12], [0.21, 0.08]]), np.zeros(2),
          "the notes' [2 3] example")
    dense(np.array([[1.0, -2.0], [0.5, 3.0], [0.0, 1.0]]), np.array([[1.0, 2.0], [-1.0, 0.5]]),
          np.array([0.3, -0.7]))
    with t.hidden():
        rng = np.random.default_rng(30301)
        X = rng.normal(size=(6, 4))
        W = rng.normal(size=(4, 3))
        dense(X, W, rng.normal(size=3), "random X (6, 4), W (4, 3), b (3,)")
        X = rng.normal(size=(1, 5))
        W = rng.normal(size=(5, 5))
        dense(X, W, rng.normal(size=5), "a batch of one, W (5, 5)")
        dense(np.zeros((3, 2)), rng.normal(size=(2, 4)), np.array([1.0, -2.0, 3.0, 0.5]),
              "X all zeros (the output is the bias on every row)")
        X = rng.normal(size=(2, 3)) * 1e6
        dense(X, rng.normal(size=(3, 1)), np.array([-4.0]), "large inputs (about 1e6), one neuron")


# ----------------------------------------------------------------------------------------------
# Part 2 · forward_2layer
# ----------------------------------------------------------------------------------------------
def _forward_reference(X, W1, b1, W2, b2, hidden="sigmoid", output="linear"):
    """Ŷ = O(g(X W1 + b1) W2 + b2) with the library's sigmoid and softmax: (N, n_out)."""
    pick = {"linear": lambda a: a, "sigmoid": act.sigmoid, "softmax": act.softmax}
    hidden_out = pick[hidden](np.dot(np.asarray(X, float), W1) + b1)
    return pick[output](np.dot(hidden_out, W2) + b2)


_FORWARD_HINTS = [
    (lambda X, W1, b1, W2, b2, hidden="sigmoid", output="linear":
         _forward_reference(X, W1, b1, W2, b2, "linear", output),
     "the hidden activation is missing: apply g to X W1 + b1 before the second layer."),
    (lambda X, W1, b1, W2, b2, hidden="sigmoid", output="linear":
         _forward_reference(X, W1, b1, W2, b2, hidden, "linear"),
     "the output activation is missing: apply O (sigmoid or softmax) to H W2 + b2."),
    (lambda X, W1, b1, W2, b2, hidden="sigmoid", output="linear":
         _forward_reference(X, W1, 0 * b1, W2, 0 * b2, hidden, output),
     "the biases are missing."),
]


@assignment.test("test_forward_2layer", name="forward_2layer", points=3)
def _(t):
    def forward(args, label):
        t.values(call("forward_2layer", *args), expected=_forward_reference(*args),
                 hints=_FORWARD_HINTS, label=label)

    forward((np.array([[2.0, 3.0]]), np.array([[0.11, 0.12], [0.21, 0.08]]), np.zeros(2),
             np.array([[0.14], [0.15]]), np.zeros(1), "linear", "linear"),
            "the notes' [2 3] example, no activations")
    forward((np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([[0.4, -0.6, 0.2], [0.3, 0.8, -0.5]]),
             np.array([0.1, 0.0, -0.1]), np.array([[0.7], [-0.2], [0.5]]), np.array([0.2]),
             "sigmoid", "sigmoid"),
            "2 examples, 2-3-1, sigmoid hidden and output")
    with t.hidden():
        rng = np.random.default_rng(30302)
        net = (rng.normal(size=(5, 4)), rng.normal(size=(4, 6)), rng.normal(size=6),
               rng.normal(size=(6, 3)), rng.normal(size=3))
        forward(net + ("sigmoid", "softmax"), "a random 4-6-3 network, softmax output")
        forward(net + ("sigmoid", "linear"), "a random 4-6-3 network, linear output")
        forward((net[0][:1],) + net[1:] + ("sigmoid", "softmax"), "a batch of one, softmax output")
        forward((rng.normal(size=(3, 4)) * 300,) + net[1:] + ("sigmoid", "softmax"),
                "large inputs (about 300), softmax output")


# ----------------------------------------------------------------------------------------------
# Part 3 · mse
# ----------------------------------------------------------------------------------------------
_MSE_HINTS = [
    (lambda p, y: float(np.sum((np.asarray(p, float) - y) ** 2)),
     "you summed the squared errors: MSE is their mean (divide by the number of entries)."),
    (lambda p, y: float(0.5 * np.mean((np.asarray(p, float) - y) ** 2)),
     "no factor ½ here: that belongs to the sum-of-squares error E = ½ Σ e² of lecture 05."),
    (lambda p, y: float(np.sum((np.asarray(p, float) - y) ** 2) / len(p)),
     "you divided by the number of examples N only: MSE averages over all N·K entries."),
]


@assignment.test("test_mse", name="mse", points=2)
def _(t):
    def mse(p, y, label=None, hints=_MSE_HINTS, weak=False):
        t.values(call("mse", p, y), expected=losses.mse(p, y), hints=hints, label=label, weak=weak)

    mse(np.array([2.5, 0.0, 2.0]), np.array([3.0, -0.5, 2.0]))
    mse(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 1.0]]))
    with t.hidden():
        rng = np.random.default_rng(30303)
        p = rng.normal(size=(6, 3))
        mse(p, rng.normal(size=(6, 3)), "random (6, 3) arrays")
        mse(np.array([[1.5, -2.0, 0.25]]), np.array([[0.5, 1.0, 0.25]]), "a batch of one")
        mse(np.ones((3, 2)), np.ones((3, 2)), "a perfect prediction (loss 0)", hints=(), weak=True)


# ----------------------------------------------------------------------------------------------
# Part 4 · binary_cross_entropy
# ----------------------------------------------------------------------------------------------
def _bce_reference(p, y, eps=1e-12):
    """−(1/N) Σ_n Σ_k [y ln p + (1 − y) ln(1 − p)], p clipped to [eps, 1 − eps]: a float."""
    return losses.binary_cross_entropy(np.asarray(p, float), np.asarray(y, float), eps=eps)


def _bce_with(scale=1.0, eps=None, sign=1.0, per="example"):
    """The loss as a recognisable mistake computes it (another log, no clipping, no minus sign,
    summed over the batch, averaged over every entry)."""
    def wrong(p, y, eps_student=1e-12):
        p = np.asarray(p, float)
        loss = losses.binary_cross_entropy(p, np.asarray(y, float), eps=eps_student if eps is None else eps)
        return sign * scale * loss * {"example": 1, "none": p.shape[0], "entry": p.shape[0] / p.size}[per]
    return wrong


_BCE_HINTS = [
    (_bce_with(scale=1 / np.log(10)), "you used log10: cross-entropy uses the natural logarithm, np.log."),
    (_bce_with(eps=0.0), "p = 0 or 1 makes log(0) = −inf: clip p to [eps, 1 − eps] first."),
    (_bce_with(sign=-1.0), "the minus sign is missing: a loss is never negative."),
    (_bce_with(per="none"), "you summed over the batch: divide by the number of examples N."),
    (_bce_with(per="entry"), "you averaged over all entries: sum over the K outputs of an "
                             "example, average over the N examples only."),
]


@assignment.test("test_binary_cross_entropy", name="binary_cross_entropy", points=3)
def _(t):
    def bce(p, y, label=None):
        t.values(call("binary_cross_entropy", p, y), expected=_bce_reference(p, y),
                 hints=_BCE_HINTS, label=label)

    bce(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 1]))
    bce(np.array([0.0, 1.0, 0.5]), np.array([0, 1, 1]),
        "p = [0, 1, 0.5], y = [0, 1, 1] (confident and right: clip!)")
    with t.hidden():
        rng = np.random.default_rng(30304)
        p = rng.uniform(0.01, 0.99, size=(7, 3))
        bce(p, rng.integers(0, 2, size=(7, 3)), "7 examples with 3 yes/no outputs each")
        bce(np.array([1.0]), np.array([0]), "a batch of one, p = 1 but y = 0 (confident and wrong)")
        bce(np.array([0.25, 0.75, 0.5, 0.9]), np.array([0, 1, 0, 1]))


# ----------------------------------------------------------------------------------------------
# Part 5 · categorical_cross_entropy
# ----------------------------------------------------------------------------------------------
def _cce_reference(p, y, eps=1e-12):
    """−(1/N) Σ_n Σ_k y_nk ln p_nk, p clipped to [eps, 1], y one-hot (N, K) or labels (N,)."""
    return losses.categorical_cross_entropy(np.asarray(p, float), np.asarray(y), eps=eps)


_CCE_HINTS = [
    (lambda p, y, eps=1e-12: _cce_reference(p, y, eps) / np.log(10),
     "you used log10: cross-entropy uses the natural logarithm, np.log."),
    (lambda p, y, eps=1e-12: _cce_reference(p, y, eps) * len(p),
     "you summed over the batch: divide by the number of examples N."),
    (lambda p, y, eps=1e-12: _cce_reference(p, y, eps) / np.shape(p)[1],
     "you averaged over all N·K entries: sum over the classes, then average over the N examples."),
    (lambda p, y, eps=1e-12: _cce_reference(p, y, 0.0),
     "p = 0 for the true class makes log(0) = −inf: clip p to [eps, 1] first."),
]


@assignment.test("test_categorical_cross_entropy", name="categorical_cross_entropy", points=4)
def _(t):
    def cce(p, y, label):
        t.values(call("categorical_cross_entropy", p, y), expected=_cce_reference(p, y),
                 hints=_CCE_HINTS, label=label)

    p = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    cce(p, np.array([[0, 0, 1], [1, 0, 0]]), "one-hot labels")
    cce(p, np.array([2, 0]), "integer labels [2, 0]")
    with t.hidden():
        rng = np.random.default_rng(30305)
        logits = rng.normal(0, 2, size=(6, 4))
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        labels = rng.integers(0, 4, size=6)
        cce(p, np.eye(4)[labels], "6 random examples, 4 classes, one-hot")
        cce(p, labels, "6 random examples, 4 classes, integer labels")
        cce(np.array([[0.0, 1.0]]), np.array([0]),
            "a batch of one, integer label 0 but p = [0, 1] (confident and wrong)")
        cce(np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.25]]), np.array([[0, 1, 0], [0, 0, 1]]),
            "one-hot labels with zeros in p for the wrong classes")


# ----------------------------------------------------------------------------------------------
# Part 6 · network_loss
# ----------------------------------------------------------------------------------------------
def _loss_reference(X, y, W1, b1, W2, b2, output="softmax", log=np.log, bias=1.0):
    """The loss of a sigmoid-hidden network: binary cross-entropy for output="sigmoid" (y of shape
    (N,)), categorical for "softmax" (y one-hot or labels), p clipped as in Parts 4 and 5. ``log``
    and ``bias`` (a factor on b1, b2) give the values of two known mistakes."""
    hidden_out = act.sigmoid(np.dot(np.asarray(X, float), W1) + bias * b1)
    scores = np.dot(hidden_out, W2) + bias * b2
    if output == "sigmoid":
        p = np.clip(act.sigmoid(scores), 1e-12, 1 - 1e-12)
        t = np.asarray(y, float).reshape(p.shape)
        return float(-np.sum(t * log(p) + (1 - t) * log(1 - p)) / len(p))
    p = np.clip(act.softmax(scores), 1e-12, 1)
    t = np.asarray(y)
    t = np.eye(p.shape[1])[t.astype(int)] if t.ndim == 1 else t
    return float(-np.sum(t * log(p)) / len(p))


_LOSS_HINTS = [
    (lambda *a: _loss_reference(*a, log=np.log10), "the loss was taken with log10: use the natural log."),
    (lambda *a: _loss_reference(*a, bias=0.0), "the biases are missing from the forward pass."),
]


@assignment.test("test_network_loss", name="network_loss", points=3)
def _(t):
    def loss(args, label):
        t.values(call("network_loss", *args), expected=_loss_reference(*args), hints=_LOSS_HINTS,
                 label=label)

    loss((np.array([[-0.6, -0.6, 0.2, 0.3]]), np.array([0]),
          np.array([[0.9, 0.2, 0.4, 0.3], [-0.5, 0.4, 0.3, 0.3], [0.1, 0.1, -0.1, 0.2],
                    [-0.2, 0.5, 0.5, 0.7]]).T,
          np.full(4, 0.5), np.array([[0.5], [0.8], [-0.6], [0.3]]), np.array([0.3]), "sigmoid"),
         "the notes' binary example")
    loss((np.array([[0.6, 0.4, 0.6, 0.1]]), np.array([[0, 0, 1]]),
          np.array([[0.1, 0.3, 0.8, -0.4], [-0.3, -0.2, 0.5, 0.5], [-0.3, 0.1, 0.5, 0.4],
                    [0.2, 0.5, -0.9, 0.7]]).T,
          np.zeros(4), np.array([[0.3, 0.8, -0.2, -0.4], [0.5, -0.2, -0.3, 0.5], [0.2, 0.1, 0.6, 0.6]]).T,
          np.zeros(3), "softmax"),
         "the notes' multi-class example")
    with t.hidden():
        rng = np.random.default_rng(30306)
        X = rng.normal(size=(5, 3))
        W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=4)
        y = rng.integers(0, 3, size=5)
        W2 = rng.normal(size=(4, 3))
        loss((X, y, W1, b1, W2, rng.normal(size=3), "softmax"),
             "a random 3-4-3 network, 5 examples, integer labels")
        y = rng.integers(0, 2, size=5)
        W2 = rng.normal(size=(4, 1))
        loss((X, y, W1, b1, W2, rng.normal(size=1), "sigmoid"), "a random 3-4-1 network, 5 examples, binary")
        W2 = rng.normal(size=(4, 1))
        loss((X[:1], np.array([1]), W1, b1, W2, rng.normal(size=1), "sigmoid"), "a batch of one, binary")
