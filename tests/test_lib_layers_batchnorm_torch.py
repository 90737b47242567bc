"""BatchNorm against PyTorch's batch_norm, an independent reference, in float64: training and
evaluation outputs, dL/dx, dγ and dβ, and the running statistics over several batches, for
(N, D), (N, T, D) and (N, C, H, W) inputs.

Conventions and how they are mapped:

* Feature axis: nnlib normalises (N, T, D) per last-axis feature, torch's (N, C, L) per axis 1,
  so torch gets the sequence transposed to (N, D, T).
* Momentum: nnlib's running ← m · running + (1 − m) · batch is torch's momentum 1 − m.
* Running variance: nnlib averages the biased batch variance (÷ n, documented), torch the
  unbiased one (÷ (n − 1)); the running means agree, and the running variances differ by
  d_k = m · d_{k−1} + (1 − m) · σ²_k / (n − 1), which the test computes and checks exactly.
* One value per feature while training: nnlib outputs β (documented), torch raises.

PyTorch is NOT a course dependency: these tests are skipped when it is not installed
(pip install torch==2.13.0 takes a CPU build). Agreement is required to a relative 1e-10.
"""
import numpy as np
import pytest
from _torch import close, leaf, torch_or_skip

torch = torch_or_skip("batch normalization")
F = torch.nn.functional

from nnlib.layers import BatchNorm  # noqa: E402

SHAPES = {"dense": (8, 5), "sequence": (4, 3, 5), "image": (3, 5, 4, 2)}


def to_torch_layout(a):
    """nnlib's (N, T, D) as torch's (N, D, T); other ranks unchanged (a numpy view)."""
    return a.transpose(0, 2, 1) if a.ndim == 3 else a


def reduced_axes(ndim):
    return {2: (0,), 3: (0, 1), 4: (0, 2, 3)}[ndim]


def layer_with_random_affine(shape, rng, momentum=0.9):
    layer = BatchNorm(momentum=momentum, eps=1e-3)
    layer.forward(np.zeros(shape), training=False)       # builds γ, β and the running stats
    layer.params["gamma"][...] = rng.uniform(0.5, 2, 5)
    layer.params["beta"][...] = rng.standard_normal(5)
    return layer


def compare_step(layer, x, G, training, running_mean, running_var, momentum):
    """One forward/backward of ``layer`` and of torch's batch_norm on the same arrays."""
    out = layer.forward(x, training=training)
    dx = layer.backward(G)
    tx, tg, tb = leaf(to_torch_layout(x)), leaf(layer.params["gamma"]), leaf(layer.params["beta"])
    tout = F.batch_norm(tx, running_mean, running_var, tg, tb, training=training,
                        momentum=1 - momentum, eps=1e-3)
    tout.backward(torch.from_numpy(np.ascontiguousarray(to_torch_layout(G))))
    close(to_torch_layout(out), tout)
    close(to_torch_layout(dx), tx.grad)
    close(layer.grads["gamma"], tg.grad)
    close(layer.grads["beta"], tb.grad)


@pytest.mark.parametrize("kind", SHAPES)
def test_training_steps_match_torch_with_running_statistics(kind):
    rng = np.random.default_rng(len(kind))
    shape, m = SHAPES[kind], 0.8
    layer = layer_with_random_affine(shape, rng, momentum=m)
    running_mean = torch.zeros(5, dtype=torch.float64)   # torch's fresh state, as nnlib's
    running_var = torch.ones(5, dtype=torch.float64)
    n = int(np.prod(shape)) // 5                          # values per feature
    var_gap = np.zeros(5)                                 # torch's running var − nnlib's
    for step in range(4):
        x = rng.normal(step, 1 + step, shape)
        G = rng.standard_normal(shape)
        compare_step(layer, x, G, True, running_mean, running_var, m)
        var_gap = m * var_gap + (1 - m) * x.var(axis=reduced_axes(x.ndim)) / (n - 1)
        close(layer.state["running_mean"], running_mean)
        close(layer.state["running_var"] + var_gap, running_var)
        assert np.all(var_gap > 1e-3)                     # the difference is real, not rounding


@pytest.mark.parametrize("kind", SHAPES)
def test_evaluation_mode_matches_torch_with_the_same_running_statistics(kind):
    rng = np.random.default_rng(10 + len(kind))
    shape = SHAPES[kind]
    layer = layer_with_random_affine(shape, rng)
    layer.state["running_mean"][...] = rng.standard_normal(5)
    layer.state["running_var"][...] = rng.uniform(0.2, 3, 5)
    running_mean = torch.tensor(layer.state["running_mean"])
    running_var = torch.tensor(layer.state["running_var"])
    x, G = rng.normal(1, 2, shape), rng.standard_normal(shape)
    compare_step(layer, x, G, False, running_mean, running_var, 0.9)
    close(layer.state["running_mean"], running_mean)     # evaluation leaves both unchanged
    close(layer.state["running_var"], running_var)


def test_one_value_per_feature_gives_beta_where_torch_raises():
    rng = np.random.default_rng(20)
    layer = layer_with_random_affine((1, 5), rng)
    x = rng.standard_normal((1, 5))
    close(layer.forward(x, training=True), layer.params["beta"][None])
    close(layer.backward(np.ones((1, 5))), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(torch.from_numpy(x), None, None, training=True)
