"""The losses against PyTorch, an independent reference, in float64: each loss's value and its
``*_grad`` (against torch's autograd), with and without class weights.

The reduction conventions (nnlib.losses' module docstring) and how they are mapped:

* ``mse`` is the mean over all entries: torch's ``reduction="mean"``.
* The cross-entropies sum over the outputs of an example and average over the N examples, with
  weights as in Keras: L = (1/N) Σ_i c_i loss_i. In torch that is ``reduction="sum"`` divided by
  N, with torch's per-entry ``weight`` equal to c. Torch's own weighted ``"mean"`` divides by
  Σ_i c_i instead; ``test_weighted_mean_differs_from_torchs_weighted_mean`` pins that difference.
* Weighted soft targets: nnlib weighs example i by c_i = Σ_k y_ik w_k, torch weighs each term
  y_ik log p_ik by w_k; the two agree for one-hot targets, so weights are compared with hard
  labels and soft targets without weights.

Probabilities stay in [0.02, 0.98], away from nnlib's clipping (1e-12) and torch's clamp of
log at −100. PyTorch is NOT a course dependency: these tests are skipped when it is not
installed (pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, leaf, torch_or_skip

torch = torch_or_skip("the losses")
F = torch.nn.functional

from nnlib import losses  # noqa: E402

N, K = 6, 4
WEIGHTS = {0: 0.5, 1: 3.0, 3: 2.0}                     # class 2 is missing: it weighs 1


def torch_loss_and_grad(fn, pred):
    """fn(t) as a float and its gradient with respect to t = pred."""
    t = leaf(pred)
    loss = fn(t)
    loss.backward()
    return loss.item(), t.grad


def class_weight_vector():
    w = np.ones(K)
    for c, value in WEIGHTS.items():
        w[c] = value
    return w


def test_mse_matches_torch_mean_over_all_entries():
    rng = np.random.default_rng(0)
    y_pred, y = rng.standard_normal((N, 3)), rng.standard_normal((N, 3))
    loss, grad = torch_loss_and_grad(
        lambda t: F.mse_loss(t, torch.from_numpy(y), reduction="mean"), y_pred)
    close(losses.mse(y_pred, y), loss)
    close(losses.mse_grad(y_pred, y), grad)


def _binary_case(shape, soft):
    rng = np.random.default_rng(sum(shape) + soft)
    p = rng.uniform(0.02, 0.98, shape)
    z = rng.normal(0, 3, shape)
    y = rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(float)
    return p, z, y


def _binary_torch_weight(y, weighted):
    """(torch's per-entry weight y·w1 + (1 − y)·w0, nnlib's {0: w0, 1: w1}),."""
    if not weighted:
        return None, None
    w0, w1 = 0.4, 5.0
    return torch.from_numpy(y * w1 + (1 - y) * w0), {0: w0, 1: w1}


BINARY = [((N,), False, False), ((N, 1), False, False), ((N, 3), False, False),
          ((N, 3), True, False), ((N, 1), False, True), ((N, 3), False, True),
          ((N, 3), True, True)]


@pytest.mark.parametrize("shape,soft,weighted", BINARY)
def test_binary_cross_entropy_of_probabilities_matches_torch(shape, soft, weighted):
    p, _, y = _binary_case(shape, soft)
    tw, cw = _binary_torch_weight(y, weighted)
    loss, grad = torch_loss_and_grad(
        lambda t: F.binary_cross_entropy(t, torch.from_numpy(y), weight=tw, reduction="sum")
        / shape[0], p)
    close(losses.binary_cross_entropy(p, y, class_weight=cw), loss)
    close(losses.binary_cross_entropy_grad(p, y, class_weight=cw), grad)


@pytest.mark.parametrize("shape,soft,weighted", BINARY)
def test_binary_cross_entropy_from_logits_matches_torch(shape, soft, weighted):
    _, z, y = _binary_case(shape, soft)
    tw, cw = _binary_torch_weight(y, weighted)
    loss, grad = torch_loss_and_grad(
        lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(y), weight=tw,
                                                     reduction="sum") / shape[0], z)
    close(losses.binary_cross_entropy_with_logits(z, y, class_weight=cw), loss)
    close(losses.binary_cross_entropy_with_logits_grad(z, y, class_weight=cw), grad)


def _categorical_case(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, (N, K))
    z[0, 1] += 60.0                                       # one very confident example
    p = rng.dirichlet(np.ones(K), N) * 0.9 + 0.1 / K      # rows sum to 1, entries >= 0.025
    labels = rng.integers(0, K, N)
    labels[:K] = np.arange(K)                             # every class occurs
    return z, p, labels, np.eye(K)[labels]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", ["labels", "one_hot"])
def test_categorical_cross_entropy_of_probabilities_matches_torch(target, weighted):
    _, p, labels, Y = _categorical_case()
    y = labels if target == "labels" else Y
    cw = WEIGHTS if weighted else None
    tw = torch.from_numpy(class_weight_vector()) if weighted else None
    loss, grad = torch_loss_and_grad(
        lambda t: F.nll_loss(torch.log(t), torch.from_numpy(labels), weight=tw, reduction="sum")
        / N, p)
    close(losses.categorical_cross_entropy(p, y, class_weight=cw), loss)
    close(losses.categorical_cross_entropy_grad(p, y, class_weight=cw), grad)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", ["labels", "one_hot"])
def test_categorical_cross_entropy_from_logits_matches_torch(target, weighted):
    z, _, labels, Y = _categorical_case()
    y = labels if target == "labels" else Y
    cw = WEIGHTS if weighted else None
    tw = torch.from_numpy(class_weight_vector()) if weighted else None
    loss, grad = torch_loss_and_grad(
        lambda t: F.cross_entropy(t, torch.from_numpy(labels), weight=tw, reduction="sum") / N, z)
    close(losses.categorical_cross_entropy_from_logits(z, y, class_weight=cw), loss)
    close(losses.categorical_cross_entropy_from_logits_grad(z, y, class_weight=cw), grad)
    fused_loss, fused_grad = losses.softmax_cross_entropy(z, y, class_weight=cw)
    close(fused_loss, loss)
    close(fused_grad, grad)


def test_categorical_cross_entropy_with_soft_targets_matches_torch():
    z, p, _, _ = _categorical_case(seed=3)
    Y = np.random.default_rng(4).dirichlet(np.ones(K), N)          # soft targets, rows sum to 1
    loss, grad = torch_loss_and_grad(
        lambda t: F.cross_entropy(t, torch.from_numpy(Y), reduction="sum") / N, z)
    close(losses.categorical_cross_entropy_from_logits(z, Y), loss)
    close(losses.categorical_cross_entropy_from_logits_grad(z, Y), grad)
    loss, grad = torch_loss_and_grad(lambda t: -(torch.from_numpy(Y) * torch.log(t)).sum() / N, p)
    close(losses.categorical_cross_entropy(p, Y), loss)
    close(losses.categorical_cross_entropy_grad(p, Y), grad)


def test_weighted_mean_differs_from_torchs_weighted_mean():
    """nnlib divides the weighted sum by N (Keras); torch's weighted "mean" by Σ_i c_i."""
    z, _, labels, _ = _categorical_case()
    w = class_weight_vector()
    ours = losses.categorical_cross_entropy_from_logits(z, labels, class_weight=WEIGHTS)
    theirs = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(labels),
                             weight=torch.from_numpy(w), reduction="mean").item()
    assert not np.isclose(ours, theirs, rtol=1e-3)
    close(ours, theirs * w[labels].sum() / N)
