"""The optimizers against torch.optim and gradient clipping (by norm and by value) against
torch.nn.utils, an independent reference, in float64. The optimizers: two parameter arrays of
one quadratic loss, the same starting point, six steps, the parameters equal after every step.
Each side takes its gradient at its own current parameters (numpy's closed form for nnlib,
autograd for torch), so any drift would show and grow.

Hyperparameters are mapped as follows; every formula is the same up to rounding unless said:

* SGD: lr. Momentum: nnlib's v ← βv − ηg, w ← w + v is torch's b ← μb + g, w ← w − ηb with
  μ = β, v = −ηb (dampening 0). With a constant η they are the same rule.
* Nesterov: nnlib's v ← βv − ηg, w ← w + βv − ηg is torch's ``nesterov=True`` (w ← w − η(g + μb))
  under the same v = −ηb.
* AdaGrad: eps = 1e-8 passed to torch (its default is 1e-10); lr_decay 0, accumulator 0.
* RMSProp: α = ρ, ε added after the square root in both.
* Adam: torch writes the same bias-corrected step as η/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).
* Weight decay: nnlib's optimizers have none; the L2 penalty λ Σ W² belongs to the layers and
  the model adds 2λW to the gradient, which is torch's coupled ``weight_decay`` = 2λ on the
  weights only (a small network trained by both, ``test_training_a_small_network_...``).
* Momentum after a change of learning rate differs on purpose (documented in
  nnlib.optimizers.Optimizer): nnlib's velocity keeps the old η, torch's buffer is rescaled by
  the new one; ``test_momentum_after_a_learning_rate_change_differs_as_documented`` pins that.
* clip_by_norm scales by max_norm/‖g‖; torch's clip_grad_norm_ by max_norm/(‖g‖ + 1e-6).

PyTorch is NOT a course dependency: these tests are skipped when it is not installed
(pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, torch_or_skip

torch = torch_or_skip("the optimizers")
F = torch.nn.functional

from nnlib import optimizers as opt  # noqa: E402
from nnlib.layers import Activation, Dense  # noqa: E402
from nnlib.models import Sequential  # noqa: E402

STEPS = 6


class Quadratic:
    """L = ½ (w − c)ᵀ A (w − c) + Σ (u ⊙ s − r)²: w (4,) with a coupled curvature, u (2, 3)."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        M = rng.standard_normal((4, 4))
        self.A, self.c = M @ M.T + np.eye(4), rng.standard_normal(4)
        self.s, self.r = rng.uniform(0.5, 2, (2, 3)), rng.standard_normal((2, 3))
        self.start = [rng.standard_normal(4), rng.standard_normal((2, 3))]

    def grads(self, w, u):
        return [self.A @ (w - self.c), 2 * self.s * (u * self.s - self.r)]

    def torch_loss(self, w, u):
        A, c, s, r = (torch.from_numpy(a) for a in (self.A, self.c, self.s, self.r))
        return 0.5 * (w - c) @ A @ (w - c) + ((u * s - r) ** 2).sum()


CASES = {  # name: (nnlib optimizer, torch optimizer class, torch keyword arguments)
    "sgd": (lambda: opt.SGD(lr=0.05), torch.optim.SGD, {"lr": 0.05}),
    "momentum": (lambda: opt.Momentum(lr=0.05, beta=0.8), torch.optim.SGD,
                 {"lr": 0.05, "momentum": 0.8}),
    "nesterov": (lambda: opt.Nesterov(lr=0.05, beta=0.8), torch.optim.SGD,
                 {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    "adagrad": (lambda: opt.AdaGrad(lr=0.3, eps=1e-8), torch.optim.Adagrad,
                {"lr": 0.3, "eps": 1e-8}),
    "rmsprop": (lambda: opt.RMSProp(lr=0.02, rho=0.85, eps=1e-8), torch.optim.RMSprop,
                {"lr": 0.02, "alpha": 0.85, "eps": 1e-8}),
    "adam": (lambda: opt.Adam(lr=0.1, beta1=0.8, beta2=0.95, eps=1e-8), torch.optim.Adam,
             {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-8}),
}


def torch_setup(problem, torch_class, kwargs):
    tparams = [torch.tensor(p, requires_grad=True) for p in problem.start]
    return tparams, torch_class(tparams, **kwargs)


def torch_step(problem, tparams, optimizer):
    optimizer.zero_grad()
    problem.torch_loss(*tparams).backward()
    optimizer.step()


@pytest.mark.parametrize("name", CASES)
def test_optimizer_steps_match_torch(name):
    make, torch_class, kwargs = CASES[name]
    problem = Quadratic()
    params = [p.copy() for p in problem.start]
    ours = make()
    tparams, theirs = torch_setup(problem, torch_class, kwargs)
    for _ in range(STEPS):
        ours.step(params, problem.grads(*params))
        torch_step(problem, tparams, theirs)
        for p, t in zip(params, tparams):
            close(p, t)
    moved = [np.abs(p - p0).max() for p, p0 in zip(params, problem.start)]
    assert min(moved) > 1e-2                             # the steps did something


def test_momentum_after_a_learning_rate_change_differs_as_documented():
    """After η changes from η₀ to η₁, with v = −η₀ b the velocity both share until then:

    nnlib: w ← w + βv − η₁ g (the stored velocity keeps η₀);
    torch: w ← w − η₁(βb + g) = w + β(η₁/η₀)v − η₁ g (its buffer is rescaled by η₁).
    """
    problem = Quadratic(seed=1)
    params = [p.copy() for p in problem.start]
    ours = opt.Momentum(lr=0.05, beta=0.8)
    tparams, theirs = torch_setup(problem, torch.optim.SGD, {"lr": 0.05, "momentum": 0.8})
    for _ in range(3):
        ours.step(params, problem.grads(*params))
        torch_step(problem, tparams, theirs)
    for p, t in zip(params, tparams):
        close(p, t)
    ours.lr = 0.01
    for group in theirs.param_groups:
        group["lr"] = 0.01
    before = [p.copy() for p in params]
    velocity = [st["v"].copy() for st in ours.state]
    g = problem.grads(*params)
    ours.step(params, g)
    torch_step(problem, tparams, theirs)
    for p, w, v, gi, t in zip(params, before, velocity, g, tparams):
        close(p, w + 0.8 * v - 0.01 * gi)
        close(w + 0.8 * (0.01 / 0.05) * v - 0.01 * gi, t)
        assert not np.allclose(p, t.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_by_norm_matches_torch_up_to_its_documented_epsilon(max_norm):
    rng = np.random.default_rng(int(max_norm * 10))
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 2, 2))]
    clipped = opt.clip_by_norm(grads, max_norm)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tparams, grads):
        t.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(tparams, max_norm).item()
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    close(norm, total)
    # torch multiplies by min(1, max_norm / (norm + 1e-6)); nnlib by min(1, max_norm / norm)
    undo = (norm + 1e-6) / norm if norm > max_norm else 1.0
    for ours, g, t in zip(clipped, grads, tparams):
        close(ours, t.grad * undo)
    clipped_norm = np.sqrt(sum(np.sum(c * c) for c in clipped))
    close(clipped_norm, min(norm, max_norm))
    assert (norm > max_norm) == (max_norm < 100)          # both branches are exercised


NET_CASES = {  # name: (nnlib optimizer, torch optimizer class, torch keyword arguments)
    "momentum": (lambda: opt.Momentum(lr=0.1, beta=0.9), torch.optim.SGD,
                 {"lr": 0.1, "momentum": 0.9}),
    "adam": (lambda: opt.Adam(lr=0.02), torch.optim.Adam, {"lr": 0.02}),
}


@pytest.mark.parametrize("name", NET_CASES)
def test_training_a_small_network_with_l2_matches_torch_weight_decay(name):
    """A 3-4-2 tanh network, MSE, full batch, one epoch per step, compared after every epoch.

    nnlib's Dense(l2=λ) adds λ Σ W² to the loss, so 2λW to W's gradient and nothing to b's;
    torch's (coupled) ``weight_decay`` adds wd · w to the gradient: wd = 2λ on the weights,
    0 on the biases, as two parameter groups.
    """
    lam = 0.05
    rng = np.random.default_rng(30)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = Sequential([Dense(4, input_dim=3, l2=lam, seed=0), Activation("tanh"),
                        Dense(2, input_dim=4, l2=lam, seed=1)])
    for layer in (model.layers[0], model.layers[2]):
        layer.params["b"][...] = rng.normal(0, 0.5, layer.params["b"].shape)
    make, torch_class, kwargs = NET_CASES[name]
    model.compile(loss="mse", optimizer=make())
    W1, b1, W2, b2 = (torch.tensor(layer.params[k].T if k == "W" else layer.params[k],
                                   requires_grad=True)
                      for layer in (model.layers[0], model.layers[2]) for k in ("W", "b"))
    theirs = torch_class([{"params": [W1, W2], "weight_decay": 2 * lam},
                          {"params": [b1, b2], "weight_decay": 0.0}], **kwargs)
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(STEPS):
        model.fit(X, Y, epochs=1, batch_size=None, shuffle=False)
        theirs.zero_grad()
        out = F.linear(torch.tanh(F.linear(tX, W1, b1)), W2, b2)
        F.mse_loss(out, tY).backward()
        theirs.step()
        for layer, (tW, tb) in ((model.layers[0], (W1, b1)), (model.layers[2], (W2, b2))):
            close(layer.params["W"].T, tW)
            close(layer.params["b"], tb)


def test_clip_by_value_matches_torch():
    rng = np.random.default_rng(40)
    grads = [rng.normal(0, 2, (3, 4)), rng.normal(0, 2, 5)]
    clipped = opt.clip_by_value(grads, 1.5)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tparams, grads):
        t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(tparams, 1.5)
    for ours, g, t in zip(clipped, grads, tparams):
        close(ours, t.grad)
        assert np.abs(g).max() > 1.5                     # something was clipped
