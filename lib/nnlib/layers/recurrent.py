"""Recurrent layers: the RNN step, the LSTM step, and backpropagation through time (lecture 20).

Sequences have shape (N, T, D): N examples, T time steps, D features per step. A cell computes
one step for the whole batch; a sequence layer (``RNN``, ``LSTM``) runs its cell along the T
steps and, going backwards, carries dL/dh from step t to step t−1 (BPTT). ``truncate=k``
carries each gradient back at most k steps (truncated BPTT), and after every backward pass
``grad_norms[t] = ‖dL/dh_t‖`` (Frobenius norm over the batch) records how the gradient grows or
fades on its way back — the plot of exploding and vanishing gradients.

``backward(grad_out, input_grad=True)``: with ``input_grad=False`` (what a model passes to a
layer that reads the data) a layer fills its gradients but skips dL/dx = dz Wxᵀ and returns None.

One product per step. With the input, a constant 1 and the previous state side by side, and
the weights stacked to match,
    z_t = x_t Wx + b + h_{t−1} Wh = [x_t, 1, h_{t−1}] [Wx; b; Wh],
a step is one matrix product of a row block of N × (D+1+H) (``_stacked_inputs``) with the
(D+1+H) × G·H stack (G = 1 block for the RNN, 4 for the LSTM), and going back the weight
gradients of all T steps are one product after the loop:
    [dWx; db; dWh] = Σ_t [x_t, 1, h_{t−1}]ᵀ dz_t.
The arrays are time-major, (T, N, …), so that step t reads and writes contiguous blocks; step t
writes h_t straight into the h columns of row block t+1, where step t+1 reads it.
"""
from __future__ import annotations

import numpy as np

from nnlib import activations
from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["RNNCell", "LSTMCell", "RNN", "LSTM"]


def _orthogonal(shape, rng, dtype):
    """A random orthogonal matrix (QR of a Gaussian one): the usual start for W_hh."""
    q, r = np.linalg.qr(rng.standard_normal(shape))
    return (q * np.sign(np.diag(r))).astype(dtype)


_ACT = {  # name: (ψ, ψ' written with the output y = ψ(a)), both from nnlib.activations
    "tanh": (activations.tanh, activations.tanh_derivative_from_output),
    "relu": (activations.relu, activations.relu_derivative_from_output),
    "sigmoid": (activations.sigmoid, activations.sigmoid_derivative_from_output),
    "linear": (activations.linear, activations.linear_derivative),
}


def _time_major(a):
    """(N, T, …) → a contiguous copy (T, N, …): a[t] is then one step's contiguous block."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


class _Cell(Layer):
    """Shared construction of the cells: Wx (D, G·H), Wh (H, G·H), b (G·H,) for G column blocks
    of H (the LSTM's gates). ``order`` is the order in which the step keeps the blocks (a
    permutation of the parameters' order; the LSTM's says why)."""

    blocks = 1
    order = (0,)

    def __init__(self, units, input_dim=None, init="glorot_uniform",
                 recurrent_init="orthogonal", seed=None, name=None):
        super().__init__(name)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"{type(self).__name__}: units must be a positive integer, "
                             f"got {units!r}")
        self.units, self.init, self.recurrent_init, self.seed = int(units), init, recurrent_init, seed
        self.initial_state = None
        if input_dim is not None:
            self.build((int(input_dim),))

    def build(self, input_shape, dtype=np.float64):
        D, H, G = int(input_shape[-1]), self.units, self.blocks
        rng = np.random.default_rng(self.seed)
        Wx = initialize(self.init, (D, G * H), rng, dtype)
        if self.recurrent_init == "orthogonal":
            Wh = np.concatenate([_orthogonal((H, H), rng, dtype) for _ in range(G)], axis=1)
        else:
            Wh = initialize(self.recurrent_init, (H, G * H), rng, dtype)
        self.params = {"Wx": Wx, "Wh": Wh, "b": self._bias(dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape, dtype)

    def _bias(self, dtype):
        return np.zeros(self.blocks * self.units, dtype=dtype)

    def _accepts(self, input_shape):
        return input_shape[-1] == self.params["Wx"].shape[0]

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def _zeros(self, N, dtype):
        return np.zeros((N, self.units), dtype=dtype)

    def _stacked_weights(self):
        """[Wx; b; Wh] (D+1+H, G·H) cut into its G column blocks, in the step's ``order``:
        (G, D+1+H, H), a new contiguous array. Block k of z_t is [x_t, 1, h_{t−1}] W[k]."""
        p = self.params
        W = np.concatenate([p["Wx"], p["b"][None], p["Wh"]])
        W = W.reshape(len(W), self.blocks, self.units).transpose(1, 0, 2)
        return np.ascontiguousarray(W[list(self.order)])

    def _set_grads(self, dW):
        """dW (G, D+1+H, H), the gradient of ``_stacked_weights`` (blocks in the step's order)
        → grads Wx (D, G·H), b (G·H,), Wh (H, G·H) in the parameters' order."""
        G, K, H = dW.shape
        D = K - 1 - H
        full = np.empty((K, G, H), dtype=dW.dtype)
        full[:, list(self.order)] = dW.transpose(1, 0, 2)
        full = full.reshape(K, G * H)
        self.grads.update(Wx=full[:D], b=full[D], Wh=full[D + 1:])

    def _input_grad(self, dZ, W):
        """dL/d(input) = Σ_k dz_k Wx_kᵀ for dZ (G, M, H) and the stacked weights W (G, D+1+H, H):
        (M, D)."""
        D = W.shape[1] - 1 - self.units
        return (dZ @ W[:, :D].transpose(0, 2, 1)).sum(axis=0)

    def _one_step_inputs(self, x_t, h_prev):
        """[x_t, 1, h_{t−1}] (N, D+1+H) for one step."""
        one = np.ones((len(x_t), 1), dtype=np.result_type(x_t, h_prev))
        return np.concatenate([x_t, one, h_prev], axis=1)


class RNNCell(_Cell):
    """One step of a simple (Elman) RNN (lecture 20):  h_t = ψ(x_t W_x + h_{t−1} W_h + b).

    Shapes: x_t (N, D), h_{t−1} (N, H) → h_t (N, H); Wx (D, H), Wh (H, H), b (H,). ψ is tanh
    by default (relu, sigmoid, linear also accepted). Backward, with a = pre-activation:
    da = dh · ψ'(a), dWx = x_tᵀ da, dWh = h_{t−1}ᵀ da, db = Σ da, dx_t = da Wxᵀ,
    dh_{t−1} = da Whᵀ — the factor Wh applied once per step is why gradients explode (‖Wh‖ > 1)
    or vanish (< 1) over many steps.

    As a layer: ``forward(x_t)`` uses ``initial_state`` (zeros when None) as h_{t−1};
    ``backward(dh)`` returns dx_t and stores dL/dh_{t−1} in ``grad_h_prev``.
    """

    def __init__(self, units, input_dim=None, activation="tanh", init="glorot_uniform",
                 recurrent_init="orthogonal", seed=None, name=None):
        if activation not in _ACT:
            raise ValueError(f"RNNCell: unknown activation {activation!r}; known: "
                             f"{', '.join(_ACT)}")
        self.activation = activation
        super().__init__(units, input_dim, init, recurrent_init, seed, name)

    def _step(self, a):
        """h_t = ψ(a) from the pre-activation a = [x_t, 1, h_{t−1}] [Wx; b; Wh] (N, H)."""
        return _ACT[self.activation][0](a)

    def _step_back(self, dh, h):
        """da = dh · ψ'(a) (ψ' read from the output h) and dh_{t−1} = da Whᵀ."""
        da = dh * _ACT[self.activation][1](h)
        return da, da @ self.params["Wh"].T

    def step(self, x_t, h_prev):
        """h_t = ψ(x_t Wx + h_{t−1} Wh + b). Shapes: (N, D), (N, H) → (N, H)."""
        return self._step(self._one_step_inputs(x_t, h_prev) @ self._stacked_weights()[0])

    def forward(self, x, training=True):
        """One step from ``initial_state`` (zeros if None): (N, D) → (N, H)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype)
        h_prev = self._zeros(len(x), x.dtype) if self.initial_state is None else self.initial_state
        xh = self._one_step_inputs(x, h_prev)
        h = self._step(xh @ self._stacked_weights()[0])
        self._cache = (xh, h)
        return h

    def backward(self, grad_out, input_grad=True):
        """dx_t (None when ``input_grad`` is False); fills grads and ``grad_h_prev``."""
        xh, h = self._cache
        da, self.grad_h_prev = self._step_back(grad_out, h)
        self._set_grads((xh.T @ da)[None])
        return self._input_grad(da[None], self._stacked_weights()) if input_grad else None


class LSTMCell(_Cell):
    """One step of a long short-term memory cell (lecture 20; notes 001, "LSTM").

    With z = x_t Wx + h_{t−1} Wh + b split into four blocks of H columns, in the order
    forget, input, input node, output:
        f = σ(z_f), i = σ(z_i), g = tanh(z_g), o = σ(z_o),
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).
    (The notes write c_t = c_{t−1} ⊙ f_t and leave out the + i ⊙ g term.)
    Shapes: x_t (N, D), h, c (N, H); Wx (D, 4H), Wh (H, 4H), b (4H,). The forget-gate bias
    starts at 1 so that the cell remembers by default.

    Inside, the step keeps the blocks in the order g, f, i, o (``order``): the three sigmoid
    gates side by side, so that one in-place sigmoid computes all three; and going back, the
    three blocks that dc multiplies (g, f, i) side by side too. The forward product uses the
    weights with the sign of the three sigmoid blocks flipped (``_step_weights``): it gives −z
    for them exactly, and σ(z) = 1/(1 + e^(−z)) starts from −z.

    As a layer: ``forward(x_t)`` starts from ``initial_state`` = (h0, c0) (zeros when None);
    ``backward(dh)`` returns dx_t and stores ``grad_h_prev`` and ``grad_c_prev``.
    """

    blocks = 4
    order = (2, 0, 1, 3)                     # g, f, i, o: positions of the parameters' blocks

    def _bias(self, dtype):
        b = np.zeros(4 * self.units, dtype=dtype)
        b[:self.units] = 1.0
        return b

    def _step_weights(self):
        """``_stacked_weights`` with the sign of the sigmoid blocks f, i, o flipped (a new array):
        [x_t, 1, h_{t−1}] times it is (z_g, −z_f, −z_i, −z_o), what ``_step`` takes."""
        W = self._stacked_weights()
        np.negative(W[1:], out=W[1:])
        return W

    @staticmethod
    def _step(z, c_prev, c=None, ig=None, tc=None, h=None):
        """One step in place: z (4, N, H) holds (z_g, −z_f, −z_i, −z_o) on entry (the product
        with ``_step_weights``) and the gates (g, f, i, o) on return. Returns (h_t, c_t, i ⊙ g,
        tanh c_t), each (N, H).

        ``c``, ``ig``, ``tc``, ``h`` receive c_t, i ⊙ g, tanh(c_t) and h_t and are allocated
        when None, so that a sequence layer can pass slices of arrays it allocated once for all
        T steps. The gates' sigmoid is ``activations.sigmoid_of_negated_in_place`` (a gate below
        about 1e-308, 1e-38 in float32, comes out as 0): run the step under
        ``np.errstate(over="ignore")``, as the cell does for one step and the LSTM once for all.
        """
        g, f, i, o = z
        np.tanh(g, out=g)                                        # g
        activations.sigmoid_of_negated_in_place(z[1:])           # f, i, o from −z
        c = np.multiply(f, c_prev, out=c)
        ig = np.multiply(i, g, out=ig)
        c += ig                                                  # c_t = f ⊙ c_{t−1} + i ⊙ g
        tc = np.tanh(c, out=tc)
        h = np.multiply(o, tc, out=h)                            # h_t = o ⊙ tanh(c_t)
        return h, c, ig, tc

    @staticmethod
    def _slopes(gates, c_prev, ig, tc):
        """The factors of the backward step that do not depend on the incoming gradient.

        For one step (gates (4, N, H) in the order g, f, i, o; c_{t−1}, i ⊙ g, tanh c_t (N, H))
        or for all T steps at once (gates (4, T, N, H), the others (T, N, H)).
        Returns (h_to_c like tc, c_to_z like gates, a new array):
            h_to_c = o ⊙ (1 − tanh² c_t)
            c_to_z = (i ⊙ (1 − g²), c_{t−1} ⊙ f(1 − f), g ⊙ i(1 − i), tanh c_t ⊙ o(1 − o))
        so that dc_total = dc + dh ⊙ h_to_c and dz = (dc_total, dc_total, dc_total, dh) ⊙
        c_to_z. The products reuse i ⊙ g from the forward step: i(1 − g²) = i − (i ⊙ g) ⊙ g
        and g ⊙ i(1 − i) = (i ⊙ g)(1 − i).
        """
        g, f, i, o = gates
        c_to_z = np.empty(gates.shape, dtype=gates.dtype)
        k_g, k_f, k_i, k_o = c_to_z
        np.subtract(1, gates[1:], out=c_to_z[1:])                # 1 − σ for f, i, o
        k_f *= f
        k_f *= c_prev
        k_i *= ig
        k_o *= o
        k_o *= tc
        np.multiply(ig, g, out=k_g)
        np.subtract(i, k_g, out=k_g)
        h_to_c = tc * tc
        np.subtract(1, h_to_c, out=h_to_c)
        h_to_c *= o
        return h_to_c, c_to_z

    @staticmethod
    def _step_back(dh, dc, h_to_c, dz, f):
        """One backward step in place: dz (4, N, H) holds the step's ``_slopes`` c_to_z on entry
        and dL/dz (blocks g, f, i, o) on return; dh = dL/dh_t, dc = dL/dc_t from step t+1.
        Returns dc_{t−1}:
            dc_total = dc + dh ⊙ o ⊙ (1 − tanh² c_t);  (dz_g, dz_f, dz_i) = dc_total ⊙ (k_g,
            k_f, k_i),  dz_o = dh ⊙ k_o;  dc_{t−1} = dc_total ⊙ f.
        dh_{t−1} = Σ_k dz_k Wh_kᵀ is left to the caller.
        """
        dc_total = dh * h_to_c
        dc_total += dc                                           # through h_t and through c_{t+1}
        dz_gfi, dz_o = dz[:3], dz[3]
        dz_gfi *= dc_total                                       # dz_g, dz_f, dz_i
        dz_o *= dh
        dc_total *= f                                            # dc_{t−1}
        return dc_total

    def _recurrent_weights_T(self):
        """Wh_kᵀ (4, H, H) for the blocks in the step's order: dh_{t−1} = Σ_k dz_k Wh_kᵀ."""
        H = self.units
        return np.ascontiguousarray(self._stacked_weights()[:, -H:].transpose(0, 2, 1))

    def step(self, x_t, h_prev, c_prev):
        """(h_t, c_t) for one step. Shapes: (N, D), (N, H), (N, H) → (N, H), (N, H)."""
        z = self._one_step_inputs(x_t, h_prev) @ self._step_weights()
        with np.errstate(over="ignore", under="ignore"):
            h, c, _, _ = self._step(z, c_prev)
        return h, c

    def forward(self, x, training=True):
        """One step from ``initial_state`` (h0, c0) (zeros if None): (N, D) → h_t (N, H)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype)
        if self.initial_state is None:
            h_prev = c_prev = self._zeros(len(x), x.dtype)
        else:
            h_prev, c_prev = self.initial_state
        xh = self._one_step_inputs(x, h_prev)
        gates = xh @ self._step_weights()
        with np.errstate(over="ignore", under="ignore"):
            h, c, ig, tc = self._step(gates, c_prev)
        self._cache = (xh, c_prev, gates, ig, tc)
        return h

    def backward(self, grad_out, input_grad=True):
        """dx_t (None when ``input_grad`` is False); fills grads, ``grad_h_prev`` and
        ``grad_c_prev`` (no gradient from c_t)."""
        xh, c_prev, gates, ig, tc = self._cache
        h_to_c, dz = self._slopes(gates, c_prev, ig, tc)
        self.grad_c_prev = self._step_back(grad_out, 0, h_to_c, dz, gates[1])
        self.grad_h_prev = (dz @ self._recurrent_weights_T()).sum(axis=0)
        self._set_grads(xh.T @ dz)
        return self._input_grad(dz, self._stacked_weights()) if input_grad else None


class _Sequence(Layer):
    """Run a cell along the time axis; BPTT (optionally truncated) in ``backward``."""

    def __init__(self, cell, return_sequences=False, truncate=None, name=None):
        super().__init__(name)
        if truncate is not None and (not isinstance(truncate, (int, np.integer)) or truncate < 1):
            raise ValueError(f"{type(self).__name__}: truncate must be None or a positive "
                             f"number of steps, got {truncate!r}")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.truncate = truncate
        self.grad_norms = None
        self.initial_state = None
        if cell.built:
            self._adopt(cell.input_shape)

    def _adopt(self, input_shape):
        self.params, self.grads = self.cell.params, self.cell.grads
        self.built, self.input_shape = True, None

    def build(self, input_shape, dtype=np.float64):
        if len(input_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects sequences (N, T, D); got examples "
                             f"of shape {tuple(input_shape)}")
        self.cell.build(input_shape[1:], dtype)
        self._adopt(input_shape)

    @property
    def units(self):
        return self.cell.units

    def compute_output_shape(self, input_shape):
        T = input_shape[0]
        return (T, self.units) if self.return_sequences else (self.units,)

    def _check(self, x):
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} expects sequences of shape (N, T, D), got "
                             f"{x.shape}")
        if not self.built:
            self.build(x.shape[1:], x.dtype)
        if x.shape[2] != self.params["Wx"].shape[0]:
            raise ValueError(f"{type(self).__name__} {self.name!r} was built for D = "
                             f"{self.params['Wx'].shape[0]} features per step, got {x.shape}")

    def _stacked_inputs(self, x, h0):
        """XH (T+1, N, D+1+H), time-major: XH[t] = [x_t, 1, h_{t−1}] for t < T, from x
        (N, T, D) and h0 = h_{−1} (N, H) (zeros when None). The h columns of XH[t+1] are left
        for step t to write h_t into; XH[T] holds h_T (its x columns are zeros)."""
        N, T, D = x.shape
        XH = np.empty((T + 1, N, D + 1 + self.units),
                      dtype=np.result_type(x.dtype, self.params["Wx"].dtype))
        XH[:T, :, :D] = np.swapaxes(x, 0, 1)
        XH[T, :, :D] = 0
        XH[:, :, D] = 1
        XH[0, :, D + 1:] = 0 if h0 is None else h0
        return XH

    def _states(self, XH):
        """h_0 … h_{T−1} (the layer's outputs h_t for t = 0..T−1) as a (T, N, H) view of XH."""
        return XH[1:, :, -self.units:]

    def _entry_grads(self, grad_out, T):
        """dL/dh_t entering from the output at each step t: a list of T arrays (N, H), with None
        where nothing enters (many-to-one: every step but the last)."""
        if self.return_sequences:
            return list(_time_major(grad_out))
        return [None] * (T - 1) + [grad_out]

    def _spans(self, T):
        """(entry step, lowest step) pairs BPTT runs over: one sweep, or k steps per entry."""
        if self.truncate is None:
            return [(T - 1, 0)]
        entries = [T - 1] if not self.return_sequences else range(T - 1, -1, -1)
        return [(t, max(0, t - self.truncate + 1)) for t in entries]

    def _output(self, XH):
        """The layer's output: all of h_0..h_{T−1} as (N, T, H), or the last one (N, H)."""
        hs = self._states(XH)
        if self.return_sequences:
            return np.ascontiguousarray(hs.transpose(1, 0, 2))
        return hs[-1].copy()

    def _weight_grads(self, XH, dZ, input_grad):
        """After the backward loop, one product per block over the stacked (T·N, ·) arrays:
        [dWx; db; dWh] = Σ_t [x_t, 1, h_{t−1}]ᵀ dz_t, with dZ (G, T, N, H) the gradient of the
        G blocks of z in the step's order. Returns dL/dx = Σ_k dZ_k Wx_kᵀ (N, T, D), or None
        when ``input_grad`` is False."""
        G, T, N, H = dZ.shape
        dZ2 = dZ.reshape(G, T * N, H)
        self.cell._set_grads(XH[:T].reshape(T * N, -1).T @ dZ2)
        if not input_grad:
            return None
        dX = self.cell._input_grad(dZ2, self.cell._stacked_weights())
        return np.ascontiguousarray(dX.reshape(T, N, -1).transpose(1, 0, 2))


class RNN(_Sequence):
    """Simple RNN over a sequence (lecture 20): h_t = ψ(x_t Wx + h_{t−1} Wh + b), h_{−1} = h0.

    Shapes: x (N, T, D) → (N, T, H) if ``return_sequences`` (many-to-many) else h_T (N, H)
    (many-to-one). Parameters as ``RNNCell`` (shared with ``self.cell``). ``initial_state``
    is h0 (zeros when None).

    Backward (BPTT): going from t = T−1 down to 0, dL/dh_t = G_t + (dL/da_{t+1}) Whᵀ;
    dL/da_t = dL/dh_t · ψ'(a_t); then dWx = Σ_t x_tᵀ da_t, dWh = Σ_t h_{t−1}ᵀ da_t,
    db = Σ_t da_t, dx_t = da_t Wxᵀ (the sums are done as one matrix product each).
    ``truncate=k``: the gradient entering at step t (at the last step only, unless
    ``return_sequences``) is carried back through k steps at most (t, t−1, …, t−k+1).
    ``grad_norms`` (T,) holds ‖dL/dh_t‖ after each backward.
    """

    def __init__(self, units, return_sequences=False, truncate=None, activation="tanh",
                 input_dim=None, init="glorot_uniform", recurrent_init="orthogonal", seed=None,
                 name=None):
        cell = RNNCell(units, input_dim, activation, init, recurrent_init, seed)
        super().__init__(cell, return_sequences, truncate, name)

    def forward(self, x, training=True):
        """Unroll the cell over T steps: h_t = ψ([x_t, 1, h_{t−1}] W), written into XH[t+1]."""
        self._check(x)
        XH = self._stacked_inputs(x, self.initial_state)
        W = self.cell._stacked_weights()[0]                           # (D+1+H, H)
        hs = self._states(XH)
        for t in range(x.shape[1]):
            hs[t] = self.cell._step(XH[t] @ W)
        self._cache = XH
        return self._output(XH)

    def backward(self, grad_out, input_grad=True):
        """BPTT; returns dL/dx (N, T, D), or None when ``input_grad`` is False (a first layer,
        whose input is the data, then saves the product dA Wxᵀ). Fills grads and
        ``grad_norms``."""
        XH = self._cache
        hs = self._states(XH)
        T = len(hs)
        G = self._entry_grads(grad_out, T)
        dA = np.zeros(hs.shape, dtype=hs.dtype)                      # dL/da_t, (T, N, H)
        dH = np.zeros_like(dA)                                       # total dL/dh_t, for norms
        for top, low in self._spans(T):
            dh = np.zeros_like(dA[0])
            for t in range(top, low - 1, -1):
                if G[t] is not None and (self.truncate is None or t == top):
                    dh = dh + G[t]
                dH[t] += dh
                da, dh = self.cell._step_back(dh, hs[t])
                dA[t] += da
        self.grad_norms = np.sqrt(np.sum(dH * dH, axis=(1, 2)))
        return self._weight_grads(XH, dA[None], input_grad)


class LSTM(_Sequence):
    """LSTM over a sequence (lecture 20), the ``LSTMCell`` step unrolled over T steps.

    Shapes: x (N, T, D) → (N, T, H) if ``return_sequences`` else h_T (N, H).
    ``initial_state`` is (h0, c0) (zeros when None). Backward (BPTT) carries both dL/dh_t and
    dL/dc_t from step t to t−1; the cell-state path c_{t−1} → c_t is multiplied only by the
    forget gate f_t, which is why the LSTM's gradient survives many more steps than the RNN's.
    ``truncate`` and ``grad_norms`` (‖dL/dh_t‖) as in ``RNN``.

    Per step, the forward pass is one product (all four gate blocks at once) and the cell's
    in-place step; the backward pass is the elementwise step and dh_{t−1} = Σ_k dz_k Wh_kᵀ.
    The gate slopes are computed for all steps before the backward loop and the weight
    gradients in one product after it.
    """

    def __init__(self, units, return_sequences=False, truncate=None, input_dim=None,
                 init="glorot_uniform", recurrent_init="orthogonal", seed=None, name=None):
        cell = LSTMCell(units, input_dim, init, recurrent_init, seed)
        super().__init__(cell, return_sequences, truncate, name)

    def forward(self, x, training=True):
        """Unroll the LSTM cell over T steps (every array allocated once, before the loop).

        Arrays are time-major: gates[t] = (g, f, i, o) (4, N, H), contiguous, which the product
        fills with step t's pre-activations and the step turns into the gates in place;
        cs[t+1] = c_t, igs[t] = i ⊙ g, tcs[t] = tanh c_t (N, H); h_t goes into XH[t+1].
        """
        self._check(x)
        N, T, _ = x.shape
        H = self.units
        h0, c0 = (None, None) if self.initial_state is None else self.initial_state
        XH = self._stacked_inputs(x, h0)
        W = self.cell._step_weights()                                # (4, D+1+H, H)
        gates = np.empty((T, 4, N, H), dtype=XH.dtype)
        cs = np.empty((T + 1, N, H), dtype=XH.dtype)
        cs[0] = 0 if c0 is None else c0
        igs = np.empty((T, N, H), dtype=XH.dtype)
        tcs = np.empty((T, N, H), dtype=XH.dtype)
        hs = self._states(XH)
        step = self.cell._step
        with np.errstate(over="ignore", under="ignore"):             # σ's e^(−z) → inf: σ = 0
            for xh, z, c_prev, c, ig, tc, h in zip(XH, gates, cs, cs[1:], igs, tcs, hs):
                np.matmul(xh, W, out=z)                              # (z_g, −z_f, −z_i, −z_o)
                step(z, c_prev, c, ig, tc, h)
        self._cache = (XH, gates, cs, igs, tcs)
        return self._output(XH)

    def backward(self, grad_out, input_grad=True):
        """BPTT through h and c; returns dL/dx (N, T, D), or None when ``input_grad`` is False
        (a first layer, whose input is the data, then saves the product dZ Wxᵀ). Fills grads
        and ``grad_norms``."""
        XH, gates, cs, igs, tcs = self._cache
        T = len(gates)
        gates = gates.transpose(1, 0, 2, 3)                          # (4, T, N, H)
        G = self._entry_grads(grad_out, T)
        h_to_c, c_to_z = self.cell._slopes(gates, cs[:T], igs, tcs)  # all T steps at once
        Wh_T = self.cell._recurrent_weights_T()                      # (4, H, H)
        dH = np.zeros_like(tcs)                                      # total dL/dh_t, for norms
        spans = self._spans(T)
        # dZ = dL/dz (4, T, N, H). The slopes of step t serve step t only, so its dz replaces
        # them in place; but truncated windows of a many-to-many layer visit a step more than
        # once, and then each visit works on a copy and the visits' dz are added up.
        overlap = len(spans) > 1
        dZ = np.zeros_like(c_to_z) if overlap else c_to_z
        dZ[:, :spans[-1][1]] = 0                                     # steps BPTT does not reach
        dh_blocks = np.empty_like(c_to_z[:, 0])                      # dz_k Wh_kᵀ, (4, N, H)
        # In one sweep dL/dh_t is summed straight into dH[t], where the norms read it; with
        # overlapping windows each visit has its own dh, added into dH[t].
        for top, low in spans:
            dh = np.zeros_like(dH[0]) if overlap else dH[top]
            dc = np.zeros_like(dH[0])
            for t in range(top, low - 1, -1):
                if G[t] is not None and (self.truncate is None or t == top):
                    dh += G[t]
                if overlap:
                    dH[t] += dh
                dz = c_to_z[:, t].copy() if overlap else dZ[:, t]
                dc = self.cell._step_back(dh, dc, h_to_c[t], dz, gates[1, t])
                if overlap:
                    dZ[:, t] += dz
                if t > low:                                          # dh_{t−1} = Σ_k dz_k Wh_kᵀ
                    dh = np.add.reduce(np.matmul(dz, Wh_T, out=dh_blocks), axis=0,
                                       out=dh if overlap else dH[t - 1])
        self.grad_norms = np.sqrt(np.einsum("tnh,tnh->t", dH, dH))
        return self._weight_grads(XH, dZ, input_grad)
