"""Recurrent layers: the RNN step, the LSTM step, and backpropagation through time (lecture 20).

Sequences have shape (N, T, D): N examples, T time steps, D features per step. A cell computes
one step for the whole batch; a sequence layer (``RNN``, ``LSTM``) runs its cell along the T
steps and, going backwards, carries dL/dh from step t to step t−1 (BPTT). ``truncate=k``
carries each gradient back at most k steps (truncated BPTT), and after every backward pass
``grad_norms[t] = ‖dL/dh_t‖`` (Frobenius norm over the batch) records how the gradient grows or
fades on its way back — the plot of exploding and vanishing gradients.

``backward(grad_out, input_grad=True)``: with ``input_grad=False`` (what a model passes to a
layer that reads the data) a layer fills its gradients but skips dL/dx = dz Wxᵀ and returns None.

For speed the sequence layers keep their arrays time-major, (T, N, …), so that step t reads
and writes contiguous blocks, and do outside the time loop all that does not depend on the
previous step: x_t Wx + b for every step in one product before it, the weight gradients in one
product each after it. Inside the loop remain the products with Wh and the elementwise work.
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


def _split(a, blocks):
    """(…, G·H) → (G, …, H): the G column blocks of ``a`` (gates f, i, g, o for the LSTM)
    along a new first axis, a view. Each block of a C-contiguous array is then read as one
    contiguous piece per row, and ``f, i, g, o = _split(z, 4)`` unpacks the gates."""
    return np.moveaxis(a.reshape(a.shape[:-1] + (blocks, -1)), -2, 0)


def _join(b):
    """(G, …, H) → (…, G·H): the blocks side by side again, the inverse of ``_split`` (a copy)."""
    return np.concatenate(list(b), axis=-1)


class _Cell(Layer):
    """Shared construction of the cells: Wx (D, G·H), Wh (H, G·H), b (G·H,) for G gate blocks."""

    blocks = 1

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

    def _step(self, xw, h_prev):
        """h_t from xw = x_t Wx + b and h_{t−1}."""
        return _ACT[self.activation][0](xw + h_prev @ self.params["Wh"])

    def _step_back(self, dh, h):
        """da = dh · ψ'(a) (ψ' read from the output h) and dh_{t−1} = da Whᵀ."""
        da = dh * _ACT[self.activation][1](h)
        return da, da @ self.params["Wh"].T

    def step(self, x_t, h_prev):
        """h_t = ψ(x_t Wx + h_{t−1} Wh + b). Shapes: (N, D), (N, H) → (N, H)."""
        return self._step(x_t @ self.params["Wx"] + self.params["b"], h_prev)

    def forward(self, x, training=True):
        """One step from ``initial_state`` (zeros if None): (N, D) → (N, H)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype)
        h_prev = self._zeros(len(x), x.dtype) if self.initial_state is None else self.initial_state
        h = self.step(x, h_prev)
        self._cache = (x, h_prev, h)
        return h

    def backward(self, grad_out, input_grad=True):
        """dx_t (None when ``input_grad`` is False); fills grads and ``grad_h_prev``."""
        x, h_prev, h = self._cache
        da, self.grad_h_prev = self._step_back(grad_out, h)
        self.grads = {"Wx": x.T @ da, "Wh": h_prev.T @ da, "b": da.sum(axis=0)}
        return da @ self.params["Wx"].T if input_grad else None


class LSTMCell(_Cell):
    """One step of a long short-term memory cell (lecture 20; notes 001, "LSTM").

    With z = x_t Wx + h_{t−1} Wh + b split into four blocks of H columns, in the order
    forget, input, input node, output:
        f = σ(z_f), i = σ(z_i), g = tanh(z_g), o = σ(z_o),
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).
    (The notes write c_t = c_{t−1} ⊙ f_t and leave out the + i ⊙ g term.)
    Shapes: x_t (N, D), h, c (N, H); Wx (D, 4H), Wh (H, 4H), b (4H,). The forget-gate bias
    starts at 1 so that the cell remembers by default.

    As a layer: ``forward(x_t)`` starts from ``initial_state`` = (h0, c0) (zeros when None);
    ``backward(dh)`` returns dx_t and stores ``grad_h_prev`` and ``grad_c_prev``.
    """

    blocks = 4

    def _bias(self, dtype):
        b = np.zeros(4 * self.units, dtype=dtype)
        b[:self.units] = 1.0
        return b

    def _activate(self, z):
        """z (4, N, H) ← (σ(z_f), σ(z_i), tanh(z_g), σ(z_o)) in place; returns z.

        σ through ``activations.sigmoid_in_place`` (one tanh, no new array; a gate of 1e-17
        comes out as 0), tanh for the input node g.
        """
        f_and_i, g, o = z[:2], z[2], z[3]
        activations.sigmoid_in_place(f_and_i)
        np.tanh(g, out=g)
        activations.sigmoid_in_place(o)
        return z

    def _step(self, z, h_prev, c_prev, h=None, c=None, tc=None, Wh=None):
        """One step in place: z (4, N, H) holds x_t Wx + b split into the blocks f, i, g, o
        (``_split``) on entry and the gates on return. Returns (h_t, c_t, tanh c_t) (N, H).

        ``h``, ``c``, ``tc`` receive h_t, c_t, tanh(c_t) and are allocated when None, so that a
        sequence layer can pass slices of arrays it allocated once for all T steps; ``Wh`` is
        ``_split(Wh, 4)`` (4, H, H), which a sequence layer also makes once.
        """
        if Wh is None:
            Wh = _split(self.params["Wh"], 4)
        z += h_prev @ Wh                                         # z = x_t Wx + b + h_{t−1} Wh
        f, i, g, o = self._activate(z)
        c = np.multiply(f, c_prev, out=c)
        c += i * g                                               # c_t = f ⊙ c_{t−1} + i ⊙ g
        tc = np.tanh(c, out=tc)
        h = np.multiply(o, tc, out=h)                            # h_t = o ⊙ tanh(c_t)
        return h, c, tc

    @staticmethod
    def _slopes(gates, tc, c_prev):
        """The factors of the backward step that do not depend on the incoming gradient.

        For one step (gates (4, N, H), tanh c_t and c_{t−1} (N, H)) or for all T steps at once
        (gates (4, T, N, H), the others (T, N, H)). Returns (h_to_c, c_to_z):
            h_to_c = o ⊙ (1 − tanh² c_t)                                         like tc
            c_to_z = (c_{t−1} ⊙ f(1−f), g ⊙ i(1−i), i ⊙ (1−g²), tanh c_t ⊙ o(1−o))  like gates
        so that dc_total = dc + dh ⊙ h_to_c and dz = (dc_total, dc_total, dc_total, dh) ⊙ c_to_z.
        """
        f, i, g, o = gates
        h_to_c = 1 - tc * tc
        h_to_c *= o
        c_to_z = 1 - gates
        c_to_z *= gates                                          # σ' = σ(1 − σ) for f, i, o
        k_f, k_i, k_g, k_o = c_to_z
        np.multiply(g, g, out=k_g)
        np.subtract(1, k_g, out=k_g)                             # tanh' = 1 − g² for g
        k_f *= c_prev
        k_i *= g
        k_g *= i
        k_o *= tc
        return h_to_c, c_to_z

    def _step_back(self, dh, dc, slopes, f, dz=None):
        """(dz, dc_{t−1}) from dh_t, dc_t (the part coming from step t+1) and ``_slopes``.

        dc_total = dc + dh ⊙ o ⊙ (1 − tanh² c_t);  dz_f = dc_total ⊙ c_{t−1} ⊙ f(1 − f),
        dz_i = dc_total ⊙ g ⊙ i(1 − i),  dz_g = dc_total ⊙ i ⊙ (1 − g²),  dz_o = dh ⊙ tanh c_t ⊙
        o(1 − o);  dc_{t−1} = dc_total ⊙ f. Shapes (N, H); dz (4, N, H), filled when given.
        dh_{t−1} = Σ_k dz_k Wh_kᵀ is left to the caller.
        """
        h_to_c, c_to_z = slopes
        if dz is None:
            dz = np.empty_like(c_to_z)
        dc_total = dh * h_to_c
        dc_total += dc                                           # through h_t and through c_{t+1}
        np.multiply(dc_total, c_to_z[:3], out=dz[:3])            # dz_f, dz_i, dz_g
        np.multiply(dh, c_to_z[3], out=dz[3])                    # dz_o
        dc_total *= f                                            # dc_{t−1}
        return dz, dc_total

    def step(self, x_t, h_prev, c_prev):
        """(h_t, c_t) for one step. Shapes: (N, D), (N, H), (N, H) → (N, H), (N, H)."""
        h, c, _ = self._step(_split(x_t @ self.params["Wx"] + self.params["b"], 4), h_prev, c_prev)
        return h, c

    def forward(self, x, training=True):
        """One step from ``initial_state`` (h0, c0) (zeros if None): (N, D) → h_t (N, H)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype)
        if self.initial_state is None:
            h_prev = c_prev = self._zeros(len(x), x.dtype)
        else:
            h_prev, c_prev = self.initial_state
        gates = _split(x @ self.params["Wx"] + self.params["b"], 4)
        h, c, tc = self._step(gates, h_prev, c_prev)
        self._cache = (x, h_prev, c_prev, gates, tc)
        return h

    def backward(self, grad_out, input_grad=True):
        """dx_t (None when ``input_grad`` is False); fills grads, ``grad_h_prev`` and
        ``grad_c_prev`` (no gradient from c_t)."""
        x, h_prev, c_prev, gates, tc = self._cache
        dz, self.grad_c_prev = self._step_back(grad_out, 0, self._slopes(gates, tc, c_prev),
                                               gates[0])
        dz = _join(dz)                                           # (N, 4H), the order of Wx, Wh
        self.grad_h_prev = dz @ self.params["Wh"].T
        self.grads = {"Wx": x.T @ dz, "Wh": h_prev.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.params["Wx"].T if input_grad else None


class _Sequence(Layer):
    """Run a cell along the time axis; BPTT (optionally truncated) in ``backward``."""

    cell_class = None

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

    def _input_products(self, x):
        """(X, XW) for all T steps at once, before the loop. X (T, N, D+1) is the input
        time-major with a constant 1 appended to every x_t, so that b is the last row of the
        weights [Wx; b] and one product gives XW = x_t Wx + b (and, going back, dWx and db).
        XW is split into the cell's G blocks, (G, T, N, H): XW[:, t] is step t's (G, N, H), each
        block contiguous."""
        N, T, D = x.shape
        X = np.ones((T, N, D + 1), dtype=x.dtype)
        X[..., :D] = np.swapaxes(x, 0, 1)
        Wb = np.concatenate([self.params["Wx"], self.params["b"][None]])   # (D+1, G·H)
        XW = X.reshape(T * N, D + 1) @ _split(Wb, self.cell.blocks)        # (G, T·N, H)
        return X, XW.reshape(-1, T, N, self.units)

    def _output(self, hs):
        """The layer's output from the states hs (T+1, N, H): all of h_1..h_T as (N, T, H), or
        the last one (N, H)."""
        if self.return_sequences:
            return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
        return hs[-1].copy()

    def _weight_grads(self, X, hs, dZ, input_grad):
        """After the backward loop, one product per block over the stacked (T·N, ·) arrays:
        [dWx; db] = Σ_t [x_t, 1]ᵀ dZ_t and dWh = Σ_t h_{t−1}ᵀ dZ_t, with X (T, N, D+1) from
        ``_input_products``, hs (T+1, N, H) and dZ (G, T, N, H), the gradient of the G blocks
        of z. Returns dL/dx = dZ Wxᵀ (N, T, D), or None when ``input_grad`` is False."""
        T, N, D1 = X.shape
        G = len(dZ)
        dZ2 = dZ.reshape(G, T * N, -1)
        dWb = _join(X.reshape(T * N, D1).T @ dZ2)                      # (D+1, G·H)
        self.grads["Wx"], self.grads["b"] = dWb[:-1], dWb[-1]
        self.grads["Wh"] = _join(hs[:T].reshape(T * N, -1).T @ dZ2)
        self.cell.grads = self.grads
        if not input_grad:
            return None
        Wx_T = np.swapaxes(_split(self.params["Wx"], G), 1, 2)       # (G, H, D): Wx_kᵀ
        dX = (dZ2 @ Wx_T).sum(axis=0).reshape(T, N, D1 - 1)
        return np.ascontiguousarray(dX.transpose(1, 0, 2))


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
        """Unroll the cell over T steps. Arrays are kept time-major: hs[t+1] = h_t (N, H)."""
        self._check(x)
        X, XW = self._input_products(x)                              # (T, N, D+1), (1, T, N, H)
        T, N, _ = X.shape
        hs = np.empty((T + 1, N, self.units), dtype=XW.dtype)
        hs[0] = 0 if self.initial_state is None else self.initial_state
        for t in range(T):
            hs[t + 1] = self.cell._step(XW[0, t], hs[t])
        self._cache = (X, hs)
        return self._output(hs)

    def backward(self, grad_out, input_grad=True):
        """BPTT; returns dL/dx (N, T, D), or None when ``input_grad`` is False (a first layer,
        whose input is the data, then saves the product dA Wxᵀ). Fills grads and
        ``grad_norms``."""
        X, hs = self._cache
        T = len(X)
        G = self._entry_grads(grad_out, T)
        dA = np.zeros_like(hs[1:])                                   # dL/da_t, (T, N, H)
        dH = np.zeros_like(dA)                                       # total dL/dh_t, for norms
        for top, low in self._spans(T):
            dh = np.zeros_like(dA[0])
            for t in range(top, low - 1, -1):
                if G[t] is not None and (self.truncate is None or t == top):
                    dh = dh + G[t]
                dH[t] += dh
                da, dh = self.cell._step_back(dh, hs[t + 1])
                dA[t] += da
        self.grad_norms = np.sqrt(np.sum(dH * dH, axis=(1, 2)))
        return self._weight_grads(X, hs, dA[None], input_grad)


class LSTM(_Sequence):
    """LSTM over a sequence (lecture 20), the ``LSTMCell`` step unrolled over T steps.

    Shapes: x (N, T, D) → (N, T, H) if ``return_sequences`` else h_T (N, H).
    ``initial_state`` is (h0, c0) (zeros when None). Backward (BPTT) carries both dL/dh_t and
    dL/dc_t from step t to t−1; the cell-state path c_{t−1} → c_t is multiplied only by the
    forget gate f_t, which is why the LSTM's gradient survives many more steps than the RNN's.
    ``truncate`` and ``grad_norms`` (‖dL/dh_t‖) as in ``RNN``.

    Only what depends on the previous step is inside the loops: x_t Wx + b for all steps is
    one product before the forward loop; the gate slopes are computed for all steps before the
    backward loop and the weight gradients in one product each after it. Inside, the gates are
    kept as four (N, H) blocks f, i, g, o (``_split``), so that every step works on contiguous
    arrays.
    """

    def __init__(self, units, return_sequences=False, truncate=None, input_dim=None,
                 init="glorot_uniform", recurrent_init="orthogonal", seed=None, name=None):
        cell = LSTMCell(units, input_dim, init, recurrent_init, seed)
        super().__init__(cell, return_sequences, truncate, name)

    def forward(self, x, training=True):
        """Unroll the LSTM cell over T steps (every array allocated once, before the loop).

        Arrays are time-major: hs[t+1] = h_t, cs[t+1] = c_t, tcs[t] = tanh c_t (N, H), and
        gates[:, t] = (f, i, g, o) (4, N, H), which starts as x_t Wx + b and is turned into the
        gates in place by the step.
        """
        self._check(x)
        X, gates = self._input_products(x)                           # (T, N, D+1), (4, T, N, H)
        T, N, _ = X.shape
        H = self.units
        hs = np.empty((T + 1, N, H), dtype=gates.dtype)
        cs = np.empty((T + 1, N, H), dtype=gates.dtype)
        if self.initial_state is None:
            hs[0] = 0
            cs[0] = 0
        else:
            hs[0], cs[0] = self.initial_state
        tcs = np.empty((T, N, H), dtype=gates.dtype)
        Wh = _split(self.params["Wh"], 4)                            # (4, H, H)
        for t in range(T):
            self.cell._step(gates[:, t], hs[t], cs[t], hs[t + 1], cs[t + 1], tcs[t], Wh)
        self._cache = (X, hs, cs, gates, tcs)
        return self._output(hs)

    def backward(self, grad_out, input_grad=True):
        """BPTT through h and c; returns dL/dx (N, T, D), or None when ``input_grad`` is False
        (a first layer, whose input is the data, then saves the product dZ Wxᵀ). Fills grads
        and ``grad_norms``.

        Per step only dz_t (elementwise) and dh_{t−1} = Σ_k dz_k Wh_kᵀ (k = f, i, g, o) are
        computed; the weight gradients are summed over all steps after the loop.
        """
        X, hs, cs, gates, tcs = self._cache
        T, N, _ = X.shape
        G = self._entry_grads(grad_out, T)
        h_to_c, c_to_z = self.cell._slopes(gates, tcs, cs[:T])      # for all T steps at once
        Wh_T = np.ascontiguousarray(np.swapaxes(_split(self.params["Wh"], 4), 1, 2))  # Wh_kᵀ
        dH = np.zeros_like(tcs)                                      # total dL/dh_t, for norms
        spans = self._spans(T)
        # dZ = dL/dz (4, T, N, H). The slopes of step t serve step t only, so its dz replaces
        # them in place; but truncated windows of a many-to-many layer visit a step more than
        # once, and then the visits' dz are added up in an array of their own.
        overlap = len(spans) > 1
        dZ = np.zeros_like(gates) if overlap else c_to_z
        dZ[:, :spans[-1][1]] = 0                                     # steps BPTT does not reach
        for top, low in spans:
            dh = np.zeros_like(dH[0])
            dc = np.zeros_like(dh)
            for t in range(top, low - 1, -1):
                if G[t] is not None and (self.truncate is None or t == top):
                    dh += G[t]
                dH[t] += dh
                slopes = (h_to_c[t], c_to_z[:, t])
                dz, dc = self.cell._step_back(dh, dc, slopes, gates[0, t],
                                              None if overlap else dZ[:, t])
                if overlap:
                    dZ[:, t] += dz
                dh = (dz @ Wh_T).sum(axis=0)                         # dh_{t−1} = Σ_k dz_k Wh_kᵀ
        self.grad_norms = np.sqrt(np.sum(dH * dH, axis=(1, 2)))
        return self._weight_grads(X, hs, dZ, input_grad)
