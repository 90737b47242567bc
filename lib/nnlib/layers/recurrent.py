"""Recurrent layers: the RNN step, the LSTM step, and backpropagation through time (lecture 20).

Sequences have shape (N, T, D): N examples, T time steps, D features per step. A cell computes
one step for the whole batch; a sequence layer (``RNN``, ``LSTM``) runs its cell along the T
steps and, going backwards, carries dL/dh from step t to step t−1 (BPTT). ``truncate=k``
carries each gradient back at most k steps (truncated BPTT), and after every backward pass
``grad_norms[t] = ‖dL/dh_t‖`` (Frobenius norm over the batch) records how the gradient grows or
fades on its way back — the plot of exploding and vanishing gradients.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import sigmoid
from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["RNNCell", "LSTMCell", "RNN", "LSTM"]


def _orthogonal(shape, rng, dtype):
    """A random orthogonal matrix (QR of a Gaussian one): the usual start for W_hh."""
    q, r = np.linalg.qr(rng.standard_normal(shape))
    return (q * np.sign(np.diag(r))).astype(dtype)


_ACT = {  # name: (ψ, ψ' written with the output y = ψ(a))
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "relu": (lambda a: np.maximum(a, 0), lambda y: (y > 0).astype(y.dtype)),
    "sigmoid": (sigmoid, lambda y: y * (1 - y)),
    "linear": (lambda a: a, lambda y: np.ones_like(y)),
}


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

    def backward(self, grad_out):
        """dx_t; fills grads and ``grad_h_prev``."""
        x, h_prev, h = self._cache
        da, self.grad_h_prev = self._step_back(grad_out, h)
        self.grads = {"Wx": x.T @ da, "Wh": h_prev.T @ da, "b": da.sum(axis=0)}
        return da @ self.params["Wx"].T


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

    def _step(self, xw, h_prev, c_prev, z=None, h=None, c=None, tc=None):
        """(h_t, c_t, (gates, tanh c_t)) from xw = x_t Wx + b, h_{t−1} and c_{t−1}.

        ``z`` (N, 4H) receives the gates f, i, g, o side by side; ``h``, ``c``, ``tc`` (N, H)
        receive h_t, c_t and tanh(c_t). Each is allocated when None, so a sequence layer can
        pass slices of arrays it allocated once for all T steps.
        """
        H = self.units
        if z is None:
            z = np.empty_like(xw)
        np.matmul(h_prev, self.params["Wh"], out=z)
        z += xw                                                  # z = x_t Wx + b + h_{t−1} Wh
        g = np.tanh(z[:, 2 * H:3 * H])
        z[...] = sigmoid(z)                                      # f, i, o (and g, replaced next)
        z[:, 2 * H:3 * H] = g
        f, i, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        c = np.multiply(f, c_prev, out=c)
        c += i * g                                               # c_t = f ⊙ c_{t−1} + i ⊙ g
        tc = np.tanh(c, out=tc)
        h = np.multiply(o, tc, out=h)                            # h_t = o ⊙ tanh(c_t)
        return h, c, (z, tc)

    @staticmethod
    def _slopes(gates, tc):
        """(1 − tanh² c_t, 1 − gates, 1 − g²): the factors of the backward step that do not
        depend on the incoming gradient (for one step, or for all T steps at once)."""
        H = tc.shape[-1]
        g = gates[..., 2 * H:3 * H]
        return 1 - tc * tc, 1 - gates, 1 - g * g

    def _step_back(self, dh, dc, cache, c_prev, dz=None, slopes=None):
        """(dz, dh_{t−1}, dc_{t−1}) from dh_t, dc_t (the part coming from step t+1).

        dc_total = dc + dh ⊙ o ⊙ (1 − tanh² c_t);  dz_f = dc_total ⊙ c_{t−1} ⊙ f(1 − f),
        dz_i = dc_total ⊙ g ⊙ i(1 − i),  dz_g = dc_total ⊙ i ⊙ (1 − g²),  dz_o = dh ⊙ tanh c_t ⊙
        o(1 − o);  dh_{t−1} = dz Whᵀ,  dc_{t−1} = dc_total ⊙ f. ``dz`` (N, 4H) is filled when
        given; ``slopes`` is ``_slopes(gates, tc)`` when the caller computed it beforehand.
        """
        H = self.units
        gates, tc = cache
        dtanh, one_minus, dg = self._slopes(gates, tc) if slopes is None else slopes
        f, i, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        if dz is None:
            dz = np.empty_like(gates)
        dc_total = dh * o
        dc_total *= dtanh
        dc_total += dc
        np.multiply(dc_total, c_prev, out=dz[:, :H])
        np.multiply(dc_total, g, out=dz[:, H:2 * H])
        dz[:, :2 * H] *= gates[:, :2 * H]
        dz[:, :2 * H] *= one_minus[:, :2 * H]                  # f(1 − f), i(1 − i)
        np.multiply(dc_total, i, out=dz[:, 2 * H:3 * H])
        dz[:, 2 * H:3 * H] *= dg
        np.multiply(dh, tc, out=dz[:, 3 * H:])
        dz[:, 3 * H:] *= o
        dz[:, 3 * H:] *= one_minus[:, 3 * H:]
        dc_total *= f
        return dz, dz @ self.params["Wh"].T, dc_total

    def step(self, x_t, h_prev, c_prev):
        """(h_t, c_t) for one step. Shapes: (N, D), (N, H), (N, H) → (N, H), (N, H)."""
        h, c, _ = self._step(x_t @ self.params["Wx"] + self.params["b"], h_prev, c_prev)
        return h, c

    def forward(self, x, training=True):
        """One step from ``initial_state`` (h0, c0) (zeros if None): (N, D) → h_t (N, H)."""
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype)
        if self.initial_state is None:
            h_prev = c_prev = self._zeros(len(x), x.dtype)
        else:
            h_prev, c_prev = self.initial_state
        h, c, cache = self._step(x @ self.params["Wx"] + self.params["b"], h_prev, c_prev)
        self._cache = (x, h_prev, c_prev, cache)
        return h

    def backward(self, grad_out):
        """dx_t; fills grads, ``grad_h_prev`` and ``grad_c_prev`` (no gradient from c_t)."""
        x, h_prev, c_prev, cache = self._cache
        dz, self.grad_h_prev, self.grad_c_prev = self._step_back(
            grad_out, np.zeros_like(grad_out), cache, c_prev)
        self.grads = {"Wx": x.T @ dz, "Wh": h_prev.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.params["Wx"].T


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

    def _entry_grads(self, grad_out, shape):
        """dL/dh_t entering from the output, (N, T, H)."""
        if self.return_sequences:
            return grad_out
        G = np.zeros(shape, dtype=grad_out.dtype)
        G[:, -1] = grad_out
        return G

    def _spans(self, G):
        """(entry step, lowest step) pairs BPTT runs over: one sweep, or k steps per entry."""
        T = G.shape[1]
        if self.truncate is None:
            return [(T - 1, 0)]
        entries = [T - 1] if not self.return_sequences else range(T - 1, -1, -1)
        return [(t, max(0, t - self.truncate + 1)) for t in entries]


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
        """Unroll the cell over T steps."""
        self._check(x)
        N, T, D = x.shape
        cell, H = self.cell, self.units
        XW = x @ self.params["Wx"] + self.params["b"]                 # (N, T, H)
        hs = np.empty((N, T + 1, H), dtype=XW.dtype)                 # hs[:, t+1] = h_t
        hs[:, 0] = 0 if self.initial_state is None else self.initial_state
        for t in range(T):
            hs[:, t + 1] = cell._step(XW[:, t], hs[:, t])
        self._cache = (x, hs)
        return hs[:, 1:].copy() if self.return_sequences else hs[:, T].copy()

    def backward(self, grad_out):
        """BPTT; returns dL/dx (N, T, D), fills grads and ``grad_norms``."""
        x, hs = self._cache
        N, T, D = x.shape
        G = self._entry_grads(grad_out, (N, T, self.units))
        dA = np.zeros_like(G)
        dH = np.zeros_like(G)                                        # total dL/dh_t, for norms
        for top, low in self._spans(G):
            dh = np.zeros_like(G[:, 0])
            for t in range(top, low - 1, -1):
                dh = dh + G[:, t] if self.truncate is None or t == top else dh
                dH[:, t] += dh
                da, dh = self.cell._step_back(dh, hs[:, t + 1])
                dA[:, t] += da
        self.grad_norms = np.sqrt(np.sum(dH * dH, axis=(0, 2)))
        dA2 = dA.reshape(N * T, -1)
        self.grads["Wx"] = x.reshape(N * T, D).T @ dA2
        self.grads["Wh"] = hs[:, :T].reshape(N * T, -1).T @ dA2
        self.grads["b"] = dA2.sum(axis=0)
        self.cell.grads = self.grads
        return dA @ self.params["Wx"].T


class LSTM(_Sequence):
    """LSTM over a sequence (lecture 20), the ``LSTMCell`` step unrolled over T steps.

    Shapes: x (N, T, D) → (N, T, H) if ``return_sequences`` else h_T (N, H).
    ``initial_state`` is (h0, c0) (zeros when None). Backward (BPTT) carries both dL/dh_t and
    dL/dc_t from step t to t−1; the cell-state path c_{t−1} → c_t is multiplied only by the
    forget gate f_t, which is why the LSTM's gradient survives many more steps than the RNN's.
    ``truncate`` and ``grad_norms`` (‖dL/dh_t‖) as in ``RNN``.
    """

    def __init__(self, units, return_sequences=False, truncate=None, input_dim=None,
                 init="glorot_uniform", recurrent_init="orthogonal", seed=None, name=None):
        cell = LSTMCell(units, input_dim, init, recurrent_init, seed)
        super().__init__(cell, return_sequences, truncate, name)

    def forward(self, x, training=True):
        """Unroll the LSTM cell over T steps (every array allocated once, before the loop)."""
        self._check(x)
        N, T, D = x.shape
        cell, H = self.cell, self.units
        XW = x @ self.params["Wx"] + self.params["b"]                 # (N, T, 4H)
        hs = np.empty((N, T + 1, H), dtype=XW.dtype)
        cs = np.empty((N, T + 1, H), dtype=XW.dtype)
        if self.initial_state is None:
            hs[:, 0] = 0
            cs[:, 0] = 0
        else:
            hs[:, 0], cs[:, 0] = self.initial_state
        gates = np.empty((T, N, 4 * H), dtype=XW.dtype)               # gates[t] = (f, i, g, o)
        tcs = np.empty((T, N, H), dtype=XW.dtype)                     # tanh(c_t)
        for t in range(T):
            cell._step(XW[:, t], hs[:, t], cs[:, t], gates[t], hs[:, t + 1], cs[:, t + 1], tcs[t])
        self._cache = (x, hs, cs, gates, tcs)
        return hs[:, 1:].copy() if self.return_sequences else hs[:, T].copy()

    def backward(self, grad_out):
        """BPTT through h and c; returns dL/dx (N, T, D), fills grads and ``grad_norms``."""
        x, hs, cs, gates, tcs = self._cache
        N, T, D = x.shape
        H = self.units
        G = self._entry_grads(grad_out, (N, T, H))
        dZ = np.zeros((N, T, 4 * H), dtype=G.dtype)
        dH = np.zeros_like(G)
        dz = np.empty((N, 4 * H), dtype=G.dtype)
        dtanh, one_minus, dg = self.cell._slopes(gates, tcs)          # for all T steps at once
        for top, low in self._spans(G):
            dh = np.zeros_like(G[:, 0])
            dc = np.zeros_like(dh)
            for t in range(top, low - 1, -1):
                if self.truncate is None or t == top:
                    dh += G[:, t]
                dH[:, t] += dh
                _, dh, dc = self.cell._step_back(dh, dc, (gates[t], tcs[t]), cs[:, t], dz,
                                                 (dtanh[t], one_minus[t], dg[t]))
                dZ[:, t] += dz
        self.grad_norms = np.sqrt(np.sum(dH * dH, axis=(0, 2)))
        dZ2 = dZ.reshape(N * T, -1)
        self.grads["Wx"] = x.reshape(N * T, D).T @ dZ2
        self.grads["Wh"] = hs[:, :T].reshape(N * T, -1).T @ dZ2
        self.grads["b"] = dZ2.sum(axis=0)
        self.cell.grads = self.grads
        return dZ @ self.params["Wx"].T
