"""The checks of exercise 01 (neurons and activation functions): 20 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.
"""
import numpy as np

from coursetools.judge import Assignment, call, probe
from nnlib import activations as ref

# Every cell of the solution runs in under 0.1 s in the grading sandbox, even on a loaded machine
# (load average 9: the slowest took 0.04 s), so a cell still running after 5 s is a hang.
assignment = Assignment("ex01_neurons", cell_seconds=5)


def _mcp(X, w, theta):
    return (np.asarray(X, float) @ np.asarray(w, float) >= theta).astype(float)


@assignment.test("test_mcp_unit", name="mcp_unit", points=3)
def _(t):
    table, w = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([1, 1])
    t.shape(call("mcp_unit", table, w, 2), expected_shape=(4,))
    t.values(call("mcp_unit", table, w, 2), expected=_mcp(table, w, 2), weight=2, hints=[
        (lambda X, w, th: (np.asarray(X, float) @ w > th).astype(float),
         "a unit that reaches the threshold exactly (v = θ) fires: use ≥, not >."),
    ])
    with t.hidden():
        rng = np.random.default_rng(20101)
        X, w = rng.integers(-3, 4, size=(7, 5)).astype(float), rng.normal(size=5)
        t.values(call("mcp_unit", X, w, 0.25), expected=_mcp(X, w, 0.25), weight=2)
        X, w = np.array([[2.0, -1.0, 0.5]]), np.array([0.5, 1.0, 2.0])
        # (all fire: an answer of ones passes these two, so they count beside the others only)
        t.values(call("mcp_unit", X, w, 1.0), expected=_mcp(X, w, 1.0), label="a batch of one row",
                 weak=True)
        t.values(call("mcp_unit", np.zeros((3, 4)), np.ones(4), 0.0), expected=np.ones(3),
                 label="zeros with θ = 0", weak=True)


@assignment.test("test_gates", name="logic gates", points=3)
def _(t):
    rows = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    t.values(probe("and_gate(X)", X=rows), expected=np.array([0., 0., 0., 1.]),
             label="and_gate on the truth table")
    t.values(probe("or_gate(X)", X=rows), expected=np.array([0., 1., 1., 1.]),
             label="or_gate on the truth table")
    t.values(probe("not_gate(X)", X=np.array([[0], [1]])), expected=np.array([1., 0.]),
             label="not_gate on [[0], [1]]")
    with t.hidden():
        order = np.array([3, 1, 1, 0, 2])
        t.values(probe("and_gate(X)", X=rows[order]), expected=np.array([1., 0., 0., 0., 0.]),
                 label="and_gate on rows in another order")
        t.values(probe("or_gate(X)", X=rows[order]), expected=np.array([1., 1., 1., 0., 1.]),
                 label="or_gate on rows in another order")
        t.values(probe("not_gate(X)", X=np.array([[0]])), expected=np.array([1.]),
                 label="not_gate on a batch of one", weak=True)


@assignment.test("test_sigmoid", name="sigmoid", points=3)
def _(t):
    t.shape(call("sigmoid", np.zeros((2, 3))), expected_shape=(2, 3))
    v = np.array([-2.0, 0.0, 2.0])
    t.values(call("sigmoid", v), expected=ref.sigmoid(v))
    v = np.array([-1.0, 0.5])
    t.values(call("sigmoid", v, 3.0), expected=ref.sigmoid(v, 3.0), hints=[
        (lambda v, a=1.0: 1 / (1 + np.exp(-v)), "the slope a is ignored: multiply v by a."),
    ])
    with t.hidden():
        rng = np.random.default_rng(30101)
        v = rng.normal(0, 4, size=(5, 4))
        t.values(call("sigmoid", v), expected=ref.sigmoid(v))
        v = np.array([-1000.0, -50.0, 50.0, 1000.0])
        t.values(call("sigmoid", v), expected=ref.sigmoid(v),
                 label="v = [-1000, -50, 50, 1000] (overflow lurks)",
                 hints=[(lambda v, a=1.0: 1 / (1 + np.exp(-a * v)),
                         "exp overflows for large negative v: use the stable form.")])
        v = rng.normal(size=(1, 3))
        t.values(call("sigmoid", v, 0.5), expected=ref.sigmoid(v, 0.5),
                 label="a batch of one row with a = 0.5")
        t.values(call("sigmoid", np.zeros(4)), expected=np.full(4, 0.5), label="zeros", weak=True)


@assignment.test("test_sigmoid_derivative", name="sigmoid_derivative", points=2)
def _(t):
    t.derivative(call("sigmoid_derivative", np.array([-2.0, 0.0, 2.0])), ref.sigmoid)
    t.derivative(call("sigmoid_derivative", np.array([-1.0, 0.3]), 2.0), ref.sigmoid)
    with t.hidden():
        rng = np.random.default_rng(30102)
        t.derivative(call("sigmoid_derivative", rng.normal(0, 3, size=(4, 3)), 1.5), ref.sigmoid)
        v = np.array([-800.0, 0.0, 800.0])
        t.values(call("sigmoid_derivative", v), expected=ref.sigmoid_derivative(v),
                 label="v = [-800, 0, 800] (overflow lurks)")


@assignment.test("test_relu", name="relu / relu_derivative", points=2)
def _(t):
    v = np.array([-2.0, 0.0, 3.0])
    t.values(call("relu", v), expected=ref.relu(v), label="relu([-2, 0, 3])")
    t.values(call("relu_derivative", v), expected=ref.relu_derivative(v),
             label="relu_derivative([-2, 0, 3])",
             hints=[(lambda v: (v >= 0).astype(float), "at v = 0 the derivative is taken as 0 (use v > 0).")])
    with t.hidden():
        v = np.random.default_rng(40101).normal(size=(3, 5))
        t.values(call("relu", v), expected=ref.relu(v), label="relu on a random (3, 5) array")
        t.derivative(call("relu_derivative", v), ref.relu, label="relu_derivative by finite differences")


@assignment.test("test_leaky_relu", name="leaky_relu / leaky_relu_derivative", points=2)
def _(t):
    v = np.array([-2.0, 0.0, 3.0])
    t.values(call("leaky_relu", v), expected=ref.leaky_relu(v), label="leaky_relu([-2, 0, 3])")
    t.values(call("leaky_relu_derivative", v), expected=ref.leaky_relu_derivative(v),
             label="leaky_relu_derivative([-2, 0, 3])")
    with t.hidden():
        v = np.random.default_rng(40102).normal(size=(4, 2))
        t.values(call("leaky_relu", v, 0.2), expected=ref.leaky_relu(v, 0.2), label="leaky_relu with alpha = 0.2",
                 hints=[(lambda v, alpha=0.01: ref.leaky_relu(v, 0.01), "alpha is ignored: use the argument.")])
        t.derivative(call("leaky_relu_derivative", v, 0.2), ref.leaky_relu,
                     label="leaky_relu_derivative with alpha = 0.2, by finite differences")


@assignment.test("test_tanh_derivative", name="tanh_derivative", points=2)
def _(t):
    t.derivative(call("tanh_derivative", np.array([-1.0, 0.0, 0.5])), np.tanh)
    with t.hidden():
        t.derivative(call("tanh_derivative", np.random.default_rng(40103).normal(0, 2, size=(3, 3))), np.tanh)
        t.values(call("tanh_derivative", np.array([-30.0, 0.0, 30.0])), expected=np.array([0.0, 1.0, 0.0]),
                 atol=1e-12, label="v = [-30, 0, 30] (saturated at both ends)")


def _naive(v):
    return np.exp(v) / np.exp(v).sum(axis=-1, keepdims=True)


_SOFTMAX_HINTS = [
    (_naive, "the result is right for small scores but overflows for large ones: subtract the maximum first."),
    (lambda v: np.exp(v - np.max(v)) / np.exp(v - np.max(v)).sum(axis=0, keepdims=True),
     "you normalised along the first axis: each row (last axis) must sum to 1."),
    (lambda v: np.exp(v - np.max(v)) / np.exp(v - np.max(v)).sum(),
     "you divided by the sum over the whole array: each row (last axis) must sum to 1."),
]


@assignment.test("test_softmax", name="softmax", points=3)
def _(t):
    for v, label in ((np.array([3.0, 4.0, 10.0, 3.0]), None),
                     (np.array([[1.0, 2.0], [0.0, 0.0]]), None),
                     (np.array([1000.0, 1001.0]), "v = [1000, 1001] (overflow lurks)")):
        t.values(call("softmax", v), expected=ref.softmax(v), hints=_SOFTMAX_HINTS, label=label)
    with t.hidden():
        rng = np.random.default_rng(50101)
        v = rng.normal(0, 3, size=(4, 6))
        t.values(call("softmax", v), expected=ref.softmax(v), hints=_SOFTMAX_HINTS)
        v = rng.normal(0, 1, size=(1, 3)) * 800
        t.values(call("softmax", v), expected=ref.softmax(v), hints=_SOFTMAX_HINTS,
                 label="a batch of one row with scores near ±800")
        t.values(call("softmax", np.zeros((2, 5))), expected=np.full((2, 5), 0.2), hints=_SOFTMAX_HINTS,
                 label="zeros (every class equally likely)", weak=True)
