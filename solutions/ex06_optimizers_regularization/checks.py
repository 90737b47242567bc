"""The checks of exercise 06 (optimizers and regularization): 18 points.

Read by the grader and by ``make generate`` (which writes the visible checks, with their expected
values, to visible_checks.json for the students). nbgrader never copies this file to students.

The expected values come from the course library (``nnlib.optimizers``, ``nnlib.layers``), which
runs here, in the judge; while a submission is graded the library's implementations are not
available to it (``library=()``: the notebook uses no part of ``nnlib`` outside its answers).
"""
import numpy as np

from coursetools.judge import Assignment, call, probe
from nnlib import optimizers as ref
from nnlib.layers import BatchNorm, Dropout
from selfcheck.compare import describe

assignment = Assignment("ex06_optimizers_regularization", library=())


def _shown(*args, **kwargs):
    """How a call with these arguments is shown: the function's arguments, as a label."""
    return ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])


# ----------------------------------------------------------------------------------------------
# Optimizers: the weights after each of three steps, the state passed from step to step
# ----------------------------------------------------------------------------------------------
_STEPS_PRELUDE = '''
import numpy as _np

def _three_steps(update, w, grads, **hyper):
    # w after each step of the student's update, the state passed from step to step
    state, after = None, []
    for g in grads:
        w, state = update(w, g, state, **hyper)
        after.append(_np.array(w, dtype=float))
    return _np.stack(after)
'''


def _steps(update, w, grads, hyper):
    """The probe: the student's ``update`` over three steps from ``w`` (weights after each)."""
    return probe(f"_three_steps({update}, w, grads, **hyper)", w=w, grads=list(grads), hyper=dict(hyper))


def _library_steps(name, w, grads, **hyper):
    optimizer = ref.get(name, **hyper)
    w, after = np.array(w, dtype=float), []
    for g in grads:
        optimizer.step([w], [np.array(g, dtype=float)])
        after.append(w.copy())
    return np.stack(after)


def _hint_steps(rule, w, grads):
    # what a mistaken rule gives: rule(w, g, memory, t) -> (w, memory)
    memory, after = {}, []
    for t, g in enumerate(grads, start=1):
        w, memory = rule(np.array(w, dtype=float), g, memory, t)
        after.append(w)
    return np.stack(after)


def _hints(rules, w, grads):
    """[(the value a mistaken rule gives on these inputs, its hint)] (rules that fail are left out)."""
    out = []
    for rule, text in rules:
        try:
            with np.errstate(all="ignore"):
                out.append((_hint_steps(rule, w, grads), text))
        except Exception:
            continue
    return out


_DEMO_W = np.array([1.0, -2.0, 0.5])
_DEMO_GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.4, -0.5, -1.0]), np.array([0.1, 0.2, 0.3])]


def _momentum_rules(lr, beta):
    def averaged(w, g, m, t):
        m["v"] = beta * m.get("v", 0) + (1 - beta) * g
        return w - lr * m["v"], m

    def no_decay(w, g, m, t):
        m["v"] = m.get("v", 0) - lr * g
        return w + m["v"], m

    def no_memory(w, g, m, t):
        return w - lr * g, m

    def flipped(w, g, m, t):
        m["v"] = beta * m.get("v", 0) - lr * g
        return w - m["v"], m
    return [
        (averaged, "you averaged the gradients, v = βv + (1 − β)g, as Adam's first moment does; "
                   "momentum sums the steps: v ← βv − η g."),
        (no_decay, "the old velocity must fade: multiply it by β."),
        (no_memory, "each step ignores the previous ones: keep v in the state you return and use it "
                    "at the next step."),
        (flipped, "the step goes the wrong way: w ← w + v with v ← βv − η g."),
    ]


def _steps_check(t, update, name, w, grads, hyper, rules=None, label=None, weak=False):
    hints = _hints(rules, w, grads) if rules else ()
    t.values(_steps(update, w, grads, hyper), expected=_library_steps(name, w, grads, **hyper),
             hints=hints, label=label, weak=weak)


@assignment.test("test_momentum", name="momentum_update", points=3, prelude=_STEPS_PRELUDE)
def _(t):
    hyper = dict(lr=0.1, beta=0.9)
    t.shape(_steps("momentum_update", _DEMO_W, _DEMO_GRADS, hyper), expected_shape=(3, 3),
            label=_shown(_DEMO_W, _DEMO_GRADS, **hyper))
    _steps_check(t, "momentum_update", "momentum", _DEMO_W, _DEMO_GRADS, hyper, _momentum_rules(0.1, 0.9),
                 label="three steps from w = [1, -2, 0.5], lr=0.1, beta=0.9")
    with t.hidden():
        rng = np.random.default_rng(60601)
        W = rng.normal(size=(4, 5))
        G = [rng.normal(size=(4, 5)) for _ in range(3)]
        hyper = dict(lr=0.05, beta=0.8)
        _steps_check(t, "momentum_update", "momentum", W, G, hyper, _momentum_rules(0.05, 0.8),
                     label="three steps on a (4, 5) matrix, lr=0.05, beta=0.8")
        _steps_check(t, "momentum_update", "momentum", W, [np.zeros((4, 5))] * 3, hyper,
                     label="zero gradients: nothing moves", weak=True)
        _steps_check(t, "momentum_update", "momentum", W[:1, :2], [np.array([[1e6, -1e6]])] * 3,
                     dict(lr=0.01, beta=0.95), _momentum_rules(0.01, 0.95),
                     label="huge gradients (1e6), beta=0.95")


def _rmsprop_rules(lr, rho, eps=1e-8):
    def eps_inside(w, g, m, t):
        m["s"] = rho * m.get("s", 0) + (1 - rho) * g * g
        return w - lr * g / np.sqrt(m["s"] + eps), m

    def no_one_minus_rho(w, g, m, t):
        m["s"] = rho * m.get("s", 0) + g * g
        return w - lr * g / (np.sqrt(m["s"]) + eps), m

    def no_root(w, g, m, t):
        m["s"] = rho * m.get("s", 0) + (1 - rho) * g * g
        return w - lr * g / (m["s"] + eps), m

    def not_squared(w, g, m, t):
        m["s"] = rho * m.get("s", 0) + (1 - rho) * np.abs(g)
        return w - lr * g / (np.sqrt(m["s"]) + eps), m
    return [
        (eps_inside, "eps goes after the square root: √s + ε, not √(s + ε)."),
        (no_one_minus_rho, "the new squared gradient is weighted by (1 − ρ): s ← ρs + (1 − ρ)g²."),
        (no_root, "divide by the square ROOT of s (plus ε), not by s."),
        (not_squared, "average the SQUARED gradient g², not |g|."),
    ]


@assignment.test("test_rmsprop", name="rmsprop_update", points=3, prelude=_STEPS_PRELUDE)
def _(t):
    hyper = dict(lr=0.01, rho=0.9)
    t.shape(_steps("rmsprop_update", _DEMO_W, _DEMO_GRADS, hyper), expected_shape=(3, 3),
            label=_shown(_DEMO_W, _DEMO_GRADS, **hyper))
    _steps_check(t, "rmsprop_update", "rmsprop", _DEMO_W, _DEMO_GRADS, hyper, _rmsprop_rules(0.01, 0.9),
                 label="three steps from w = [1, -2, 0.5], lr=0.01, rho=0.9")
    with t.hidden():
        rng = np.random.default_rng(60602)
        W = rng.normal(size=(3, 4))
        G = [rng.normal(size=(3, 4)) for _ in range(3)]
        hyper = dict(lr=0.003, rho=0.99)
        _steps_check(t, "rmsprop_update", "rmsprop", W, G, hyper, _rmsprop_rules(0.003, 0.99),
                     label="three steps on a (3, 4) matrix, lr=0.003, rho=0.99")
        _steps_check(t, "rmsprop_update", "rmsprop", W, [1e-5 * g for g in G], hyper,
                     _rmsprop_rules(0.003, 0.99),
                     label="tiny gradients (about 1e-5), where the place of eps matters")
        _steps_check(t, "rmsprop_update", "rmsprop", W, [np.zeros((3, 4))] * 3, hyper,
                     label="zero gradients: nothing moves (no 0/0)", weak=True)


def _adam_rules(lr, b1=0.9, b2=0.999, eps=1e-8):
    def no_correction(w, g, m, t):
        m["m"] = b1 * m.get("m", 0) + (1 - b1) * g
        m["v"] = b2 * m.get("v", 0) + (1 - b2) * g * g
        return w - lr * m["m"] / (np.sqrt(m["v"]) + eps), m

    def t_from_zero(w, g, m, t):
        m["m"] = b1 * m.get("m", 0) + (1 - b1) * g
        m["v"] = b2 * m.get("v", 0) + (1 - b2) * g * g
        with np.errstate(all="ignore"):
            return w - lr * (m["m"] / (1 - b1 ** (t - 1))) / (np.sqrt(m["v"] / (1 - b2 ** (t - 1))) + eps), m

    def eps_inside(w, g, m, t):
        m["m"] = b1 * m.get("m", 0) + (1 - b1) * g
        m["v"] = b2 * m.get("v", 0) + (1 - b2) * g * g
        return w - lr * (m["m"] / (1 - b1 ** t)) / np.sqrt(m["v"] / (1 - b2 ** t) + eps), m
    return [
        (no_correction, "the bias correction is missing: divide m by (1 − β1^t) and v by (1 − β2^t), "
                        "with t = 1 at the first step."),
        (t_from_zero, "t must be 1 at the first step (increase it before the bias correction), "
                      "or 1 − β^t is 0."),
        (eps_inside, "eps goes after the square root: √v̂ + ε."),
    ]


@assignment.test("test_adam", name="adam_update", points=4, prelude=_STEPS_PRELUDE)
def _(t):
    hyper = dict(lr=0.01)
    t.shape(_steps("adam_update", _DEMO_W, _DEMO_GRADS, hyper), expected_shape=(3, 3),
            label=_shown(_DEMO_W, _DEMO_GRADS, **hyper))
    _steps_check(t, "adam_update", "adam", _DEMO_W, _DEMO_GRADS, hyper, _adam_rules(0.01),
                 label="three steps from w = [1, -2, 0.5], lr=0.01")
    with t.hidden():
        rng = np.random.default_rng(60603)
        W = rng.normal(size=(5, 3))
        G = [rng.normal(size=(5, 3)) for _ in range(3)]
        _steps_check(t, "adam_update", "adam", W, G, dict(lr=0.02, beta1=0.8, beta2=0.99),
                     _adam_rules(0.02, 0.8, 0.99),
                     label="three steps on a (5, 3) matrix, lr=0.02, beta1=0.8, beta2=0.99")
        _steps_check(t, "adam_update", "adam", W, [1e-6 * g for g in G], dict(lr=0.02), _adam_rules(0.02),
                     label="tiny gradients (about 1e-6)")
        _steps_check(t, "adam_update", "adam", W[0], [1e4 * g[0] for g in G], dict(lr=0.001),
                     _adam_rules(0.001), label="large gradients (about 1e4): the step stays near lr")
        _steps_check(t, "adam_update", "adam", W, [np.zeros((5, 3))] * 3, dict(lr=0.02),
                     label="zero gradients: nothing moves (no 0/0)", weak=True)


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------
_DROPOUT_PRELUDE = '''
import numpy as _np

def _dropout_out(x, rate, seed, training=True):
    # the output of the student's dropout_forward with a generator seeded with seed
    return dropout_forward(x, rate, _np.random.default_rng(seed), training=training)[0]

def _dropout_share(x, rate, seed):
    # [fraction of the student's outputs that are 0, their mean]
    out = _np.asarray(_dropout_out(x, rate, seed), dtype=float)
    return _np.array([_np.mean(out == 0), _np.mean(out)])
'''


def _library_out(x, rate, seed, training=True):
    return Dropout(rate, seed=seed).forward(np.array(x, dtype=float), training=training)


def _wrong(keep_rule, scale_rule):
    def out(x, rate, seed, training=True):
        u = np.random.default_rng(seed).random(np.shape(x))
        return x * keep_rule(u, rate) * scale_rule(rate)
    return out


_DROPOUT_HINTS = [
    (_wrong(lambda u, r: u < r, lambda r: 1 / r),
     "rate is the probability of DROPPING a unit, not of keeping it: keep where u >= rate, scale by 1/(1 − rate)."),
    (_wrong(lambda u, r: u >= 1 - r, lambda r: 1 / r),
     "rate is the probability of DROPPING a unit, not of keeping it: keep where u >= rate, scale by 1/(1 − rate)."),
    (_wrong(lambda u, r: u >= r, lambda r: 1.0),
     "the kept units must be scaled by 1/(1 − rate) (inverted dropout), so that the expected output equals x."),
    (_wrong(lambda u, r: u < r, lambda r: 1 / (1 - r)),
     "the kept and dropped units are swapped: keep a unit where u >= rate."),
    (lambda x, rate, seed, training=True: x * (1 - rate),
     "at test time dropout does nothing: return x unchanged (inverted dropout already scaled during training)."),
]


def _dropout_check(t, x, rate, seed, label, weak=False, **kw):
    t.values(call("_dropout_out", x, rate, seed, **kw), expected=_library_out(x, rate, seed, **kw),
             hints=_DROPOUT_HINTS, label=label, weak=weak)


@assignment.test("test_dropout_forward", name="dropout_forward", points=3, prelude=_DROPOUT_PRELUDE)
def _(t):
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    _dropout_check(t, x, 0.3, 0, "x = [1 … 6], rate=0.3, seed 0")
    _dropout_check(t, x, 0.3, 0, "the same at test time (training=False)", weak=True, training=False)
    t.values(call("_dropout_share", np.ones((200, 500)), 0.3, 1), expected=np.array([0.3, 1.0]), atol=0.01,
             label="x = ones((200, 500)), rate=0.3: [fraction dropped, mean output] should be about [0.3, 1.0]")
    with t.hidden():
        rng = np.random.default_rng(60604)
        _dropout_check(t, rng.normal(size=(8, 16)), 0.5, 17, "a (8, 16) batch, rate=0.5")
        _dropout_check(t, rng.normal(size=(3, 4, 5)), 0.1, 4, "a (3, 4, 5) array, rate=0.1")
        _dropout_check(t, rng.normal(size=(6, 7)), 0.0, 2, "rate=0: nothing is dropped", weak=True)
        _dropout_check(t, rng.normal(size=(1, 10)), 0.8, 3, "test time, rate=0.8", weak=True, training=False)


_BACKWARD_PRELUDE = '''
import numpy as _np

def _local_gradient(x, mask, dout):
    # d (dout · out) / d x of the student's backward, for the upstream gradient dout
    return dropout_backward(dout, mask)
'''


def _fixed_mask_dropout(rate, seed, shape):
    layer = Dropout(rate, seed=seed)
    layer.forward(np.zeros(shape))
    layer.hold_mask = True          # the same mask at every call: a fixed function of x
    return layer


@assignment.test("test_dropout_backward", name="dropout_backward", points=2, prelude=_BACKWARD_PRELUDE)
def _(t):
    layer = _fixed_mask_dropout(0.3, 0, (6,))
    # each entry's derivative, times an upstream gradient that is not all ones (with ones, the
    # mask handed back would pass)
    dout = np.array([0.5, -1.0, 2.0, 1.5, -0.25, 3.0])
    t.derivative(call("_local_gradient", np.arange(1.0, 7.0), layer.mask.copy(), dout),
                 lambda x, mask, dout: dout * layer.forward(x),
                 label="x = [1 … 6], rate=0.3, dout = [0.5, -1, 2, 1.5, -0.25, 3]: d (dout · out) / d x "
                       "by finite differences")
    t.values(call("dropout_backward", np.array([0.5, -1.0, 2.0]), np.array([1.25, 0.0, 1.25])),
             expected=np.array([0.625, 0.0, 2.5]), hints=[
                 (lambda dout, mask: dout * (mask > 0),
                  "the mask already holds 1/(1 − rate): multiply by the mask itself, not by mask > 0."),
                 (lambda dout, mask: np.where(mask > 0, dout / mask, 0.0),
                  "multiply by the mask, do not divide by it."),
             ], label="dout = [0.5, -1, 2], mask = [1.25, 0, 1.25]")
    with t.hidden():
        rng = np.random.default_rng(60605)
        layer = _fixed_mask_dropout(0.6, 9, (4, 5))
        t.derivative(call("_local_gradient", rng.normal(size=(4, 5)), layer.mask.copy(), rng.normal(size=(4, 5))),
                     lambda x, mask, dout: dout * layer.forward(x),
                     label="a (4, 5) input, rate=0.6, a random dout: d (dout · out) / d x by finite differences")
        dout = rng.normal(size=(4, 5))
        t.values(call("dropout_backward", dout, layer.mask.copy()), expected=dout * layer.mask,
                 label="a random (4, 5) upstream gradient, rate=0.6")


# ----------------------------------------------------------------------------------------------
# Batch normalization
# ----------------------------------------------------------------------------------------------
def _library_bn(x, gamma, beta, eps=1e-5):
    layer = BatchNorm(eps=eps)
    layer.build((x.shape[1],))
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    return layer.forward(np.array(x, dtype=float), training=True)


def _bn_variant(ddof=0, axis=0, eps_in=True, affine=True):
    def bn(x, gamma, beta, eps=1e-5):
        mu = np.mean(x, axis=axis, keepdims=True)
        sd = np.sqrt(np.var(x, axis=axis, ddof=ddof, keepdims=True) + (eps if eps_in else 0.0))
        with np.errstate(all="ignore"):
            z = (x - mu) / sd if eps_in else (x - mu) / (sd + eps)
        return gamma * z + beta if affine else z
    return bn


_BN_HINTS = [
    (_bn_variant(ddof=1), "the variance divides by N (ddof=0, numpy's default), not by N − 1."),
    (_bn_variant(axis=1), "you normalised each example (row); batch norm normalises each feature (column) "
                          "over the batch: axis=0."),
    (_bn_variant(affine=False), "γ and β are ignored: out = γ x̂ + β."),
    (_bn_variant(eps_in=False), "eps goes inside the square root: √(σ² + ε)."),
]


def _bn_check(t, x, gamma, beta, label, **kw):
    t.values(call("batchnorm_forward", x, gamma, beta, **kw), expected=_library_bn(x, gamma, beta, **kw),
             hints=_BN_HINTS, label=label)


@assignment.test("test_batchnorm", name="batchnorm_forward", points=3)
def _(t):
    x = np.array([[1.0, 8.0], [2.0, 2.0], [3.0, 2.0], [4.0, 4.0]])
    t.shape(call("batchnorm_forward", x, np.array([1.0, 2.0]), np.array([0.0, 2.0])), expected_shape=(4, 2))
    _bn_check(t, x, np.array([1.0, 2.0]), np.array([0.0, 2.0]), "the 4 × 2 example")
    with t.hidden():
        rng = np.random.default_rng(60606)
        X = rng.normal(3.0, 5.0, size=(16, 6))
        _bn_check(t, X, rng.normal(size=6), rng.normal(size=6), "a (16, 6) batch, random γ and β")
        C = rng.normal(size=(5, 3))
        C[:, 1] = 7.0
        _bn_check(t, C, np.ones(3), np.zeros(3), "a feature constant over the batch (σ² = 0)")
        _bn_check(t, X[:, :2] * 1e-3, np.ones(2), np.zeros(2),
                  "tiny values and eps=1e-3 (the eps argument is used)", eps=1e-3)
        _bn_check(t, rng.normal(size=(2, 4)), 2 * np.ones(4), np.ones(4), "a batch of two examples")
