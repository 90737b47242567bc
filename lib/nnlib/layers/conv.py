"""Convolution, pooling and flattening for images of shape (N, C, H, W) (lecture 19).

The convolution is computed the im2col way: every receptive field (a C×k×k patch) of an image
becomes one column of a matrix, so the layer is one matrix product per image, done by a single
batched ``@``. Loops run only over the k×k kernel offsets, never over examples or output pixels.
Everything stays in the (N, channels, H, W) layout, so no layer has to transpose its input.
"""
from __future__ import annotations

import numpy as np

from nnlib.initializers import initialize
from nnlib.layers.base import Layer

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "im2col", "col2im"]


def _pair(v, what):
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    v = tuple(int(a) for a in v)
    if len(v) != 2 or min(v) < 1:
        raise ValueError(f"{what} must be a positive int or a pair of them, got {v}")
    return v


def _out_size(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def im2col(x, kh, kw, stride=1, padding=0):
    """Receptive fields as columns, one matrix per image (lecture 19).

    Shapes: x (N, C, H, W) → cols (N, C·kh·kw, Ho·Wo), with Ho = (H + 2p − kh)//s + 1 (and Wo
    alike). Column i·Wo + j of cols[n] holds the patch whose top-left corner is (i·s, j·s) in
    the zero-padded image n, flattened in (C, kh, kw) order, so that
    conv(x)[n] = W_flat @ cols[n] with W_flat = W.reshape(F, C·kh·kw).
    Filled by one strided copy per kernel offset (u, v): row block (·, u, v) of cols is
    x_pad[:, :, u::s, v::s] (kh·kw copies in all).
    """
    N, C, H, W = x.shape
    Ho, Wo = _out_size(H, kh, stride, padding), _out_size(W, kw, stride, padding)
    if padding:
        xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=x.dtype)
        xp[:, :, padding:padding + H, padding:padding + W] = x
    else:
        xp = x
    cols = np.empty((N, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[:, :, u:u + stride * Ho:stride, v:v + stride * Wo:stride]
    return cols.reshape(N, C * kh * kw, Ho * Wo)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of ``im2col`` (lecture 19): add every column back onto the patch it came from.

    Shapes: cols (N, C·kh·kw, Ho·Wo) → (N, C, H, W). Overlapping patches add up, which is
    exactly what the gradient of a convolution needs. Loops over the kh·kw offsets only.
    """
    N, C, H, W = x_shape
    Ho, Wo = _out_size(H, kh, stride, padding), _out_size(W, kw, stride, padding)
    c = cols.reshape(N, C, kh, kw, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for u in range(kh):
        for v in range(kw):
            xp[:, :, u:u + stride * Ho:stride, v:v + stride * Wo:stride] += c[:, :, u, v]
    if padding:
        xp = xp[:, :, padding:padding + H, padding:padding + W]
    return xp


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library) (lecture 19).

    out[n, f, i, j] = b_f + Σ_{c, u, v} W[f, c, u, v] · x_pad[n, c, i·s + u, j·s + v]

    Shapes: x (N, C, H, W) → out (N, filters, Ho, Wo), Ho = (H + 2·padding − kh)//stride + 1;
    W (filters, C, kh, kw), b (filters,). With cols = im2col(x) (N, C·kh·kw, Ho·Wo) and
    W_flat = W.reshape(filters, C·kh·kw) the forward pass is out[n] = W_flat cols[n] + b, one
    matrix product per image. Backward, with G[n] = dL/d(out)[n] as a (filters, Ho·Wo) matrix:
    dW = Σ_n G[n] cols[n]ᵀ, db = Σ_{n, pixels} G, dx = col2im(W_flatᵀ G[n] for every n).
    ``padding`` is the number of zero rows/columns added on each side; ``l2`` penalises W.
    """

    regularized = ("W",)

    def __init__(self, filters, kernel_size, stride=1, padding=0, init="he_normal", l2=0.0,
                 seed=None, name=None):
        super().__init__(name)
        if not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive integer, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "Conv2D: kernel_size")
        if not isinstance(stride, (int, np.integer)) or stride < 1:
            raise ValueError(f"Conv2D: stride must be a positive integer, got {stride!r}")
        if not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"Conv2D: padding must be an integer >= 0, got {padding!r}")
        self.stride, self.padding = int(stride), int(padding)
        self.init, self.l2, self.seed = init, float(l2), seed

    def build(self, input_shape, dtype=np.float64):
        """W (filters, C, kh, kw) from the initializer (fan_in = C·kh·kw), b = 0."""
        if len(input_shape) != 3:
            raise ValueError(f"Conv2D expects images (N, C, H, W); got examples of shape "
                             f"{tuple(input_shape)}")
        C = int(input_shape[0])
        kh, kw = self.kernel_size
        rng = np.random.default_rng(self.seed)
        flat = initialize(self.init, (C * kh * kw, self.filters), rng, dtype)   # (fan_in, fan_out)
        self.params = {"W": np.ascontiguousarray(flat.T.reshape(self.filters, C, kh, kw)),
                       "b": np.zeros(self.filters, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        super().build(input_shape, dtype)

    def compute_output_shape(self, input_shape):
        C, H, W = input_shape
        kh, kw = self.kernel_size
        Ho, Wo = (_out_size(H, kh, self.stride, self.padding),
                  _out_size(W, kw, self.stride, self.padding))
        if Ho < 1 or Wo < 1:
            raise ValueError(f"Conv2D: a {kh}×{kw} kernel with padding {self.padding} does not "
                             f"fit images of size {H}×{W}")
        return (self.filters, Ho, Wo)

    def forward(self, x, training=True):
        """out[n] = W_flat @ im2col(x)[n] + b for every image n, in one batched product."""
        if x.ndim != 4:
            raise ValueError(f"Conv2D expects images (N, C, H, W), got shape {x.shape}")
        if not self.built:
            self.ensure_built(x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float64)
        N = x.shape[0]
        _, Ho, Wo = self.compute_output_shape(x.shape[1:])
        kh, kw = self.kernel_size
        cols = im2col(x, kh, kw, self.stride, self.padding)      # (N, C·kh·kw, Ho·Wo)
        out = self.params["W"].reshape(self.filters, -1) @ cols  # (N, F, Ho·Wo), no transpose
        out += self.params["b"][:, None]
        self._cache = (x.shape, cols)
        return out.reshape(N, self.filters, Ho, Wo)

    def backward(self, grad_out, input_grad=True):
        """dW = Σ_n G[n] cols[n]ᵀ, db = Σ G, and dx = col2im(W_flatᵀ G) unless not wanted.

        Shapes: grad_out (N, filters, Ho, Wo) → dx (N, C, H, W). Fills ``grads["W"]`` and
        ``grads["b"]``. With ``input_grad=False`` (the caller has no use for dL/dx, e.g. the
        layer reads the model's input) the col2im step is skipped and None is returned.
        """
        x_shape, cols = self._cache
        N = grad_out.shape[0]
        G = grad_out.reshape(N, self.filters, -1)                # (N, F, Ho·Wo)
        W_flat = self.params["W"].reshape(self.filters, -1)      # (F, C·kh·kw)
        self.grads["W"] = (G @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.params["W"].shape)
        self.grads["b"] = G.sum(axis=(0, 2))
        if not input_grad:
            return None
        kh, kw = self.kernel_size
        return col2im(W_flat.T @ G, x_shape, kh, kw, self.stride, self.padding)


class _Pool2D(Layer):
    """Non-overlapping pooling over size×size windows (stride = size); ragged edges are dropped."""

    def __init__(self, size=2, name=None):
        super().__init__(name)
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{type(self).__name__}: size must be a positive integer, "
                             f"got {size!r}")
        self.size = int(size)

    def compute_output_shape(self, input_shape):
        C, H, W = input_shape
        if H < self.size or W < self.size:
            raise ValueError(f"{type(self).__name__}: window {self.size}×{self.size} is larger "
                             f"than the image {H}×{W}")
        return (C, H // self.size, W // self.size)

    def _windows(self, x):
        """(N, C, Ho, Wo, size·size) view-like array of the pooling windows."""
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects (N, C, H, W), got shape {x.shape}")
        N, C, H, W = x.shape
        s = self.size
        Ho, Wo = H // s, W // s
        xr = x[:, :, :Ho * s, :Wo * s].reshape(N, C, Ho, s, Wo, s)
        return xr.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho, Wo, s * s)

    def _unwindow(self, g_win, x_shape):
        """Inverse of ``_windows`` for gradients: (N, C, Ho, Wo, s·s) → (N, C, H, W), 0 at edges."""
        N, C, H, W = x_shape
        s = self.size
        Ho, Wo = H // s, W // s
        g = g_win.reshape(N, C, Ho, Wo, s, s).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho * s,
                                                                                 Wo * s)
        if (Ho * s, Wo * s) == (H, W):
            return g
        dx = np.zeros(x_shape, dtype=g.dtype)
        dx[:, :, :Ho * s, :Wo * s] = g
        return dx


class MaxPool2D(_Pool2D):
    """Max pooling (lecture 19): out[n, c, i, j] = max of the size×size window at (i·s, j·s).

    Shapes: (N, C, H, W) → (N, C, H//size, W//size). Backward: each window's gradient goes to
    the position of its maximum (the first one, in row-major order, if there is a tie), every
    other entry gets 0.

    Computed from the size² strided slices x[:, :, u::s, v::s] (one per offset (u, v) inside the
    window, each of the output's shape): out is their elementwise maximum, and the mask of
    offset k marks where slice k equals the maximum and no earlier slice did. Loops run over
    the size² offsets only, never over examples or pixels.
    """

    def _slices(self, a):
        """The size² strided slices of ``a`` (N, C, H, W), each (N, C, H//s, W//s), row-major."""
        s = self.size
        Ho, Wo = a.shape[2] // s, a.shape[3] // s
        return [a[:, :, u:u + Ho * s:s, v:v + Wo * s:s] for u in range(s) for v in range(s)]

    def forward(self, x, training=True):
        """Maximum over each window; remembers which offset held it (the first, on ties)."""
        if x.ndim != 4:
            raise ValueError(f"MaxPool2D expects (N, C, H, W), got shape {x.shape}")
        slices = self._slices(x)
        out = slices[0].copy()
        for sl in slices[1:]:
            np.maximum(out, sl, out=out)
        masks, taken = [], None
        for sl in slices:
            hit = sl == out
            if taken is None:
                taken = hit.copy()
            else:
                hit &= ~taken
                taken |= hit
            masks.append(hit)
        self._cache = (x.shape, masks)
        return out

    def backward(self, grad_out):
        """Route G to each window's first maximum: dx[slice k] = G · mask_k, 0 elsewhere."""
        x_shape, masks = self._cache
        s = self.size
        full = (x_shape[2] % s, x_shape[3] % s) == (0, 0)
        dx = (np.empty if full else np.zeros)(x_shape, dtype=grad_out.dtype)
        for part, mask in zip(self._slices(dx), masks):
            np.multiply(grad_out, mask, out=part)
        return dx


class AvgPool2D(_Pool2D):
    """Average pooling (lecture 19): out = mean of each size×size window.

    Shapes: (N, C, H, W) → (N, C, H//size, W//size). Backward: each window entry gets G/size².
    """

    def forward(self, x, training=True):
        """Mean over each window."""
        self._cache = x.shape
        return self._windows(x).mean(axis=-1)

    def backward(self, grad_out):
        """Spread G/size² evenly over each window."""
        s2 = self.size * self.size
        g_win = np.broadcast_to((grad_out / s2)[..., None], grad_out.shape + (s2,))
        return self._unwindow(np.ascontiguousarray(g_win), self._cache)


class Flatten(Layer):
    """Flatten every example to a vector (lecture 19): (N, d1, d2, ...) → (N, d1·d2·...)."""

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=True):
        """out = x.reshape(N, −1)."""
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        """dL/dx = G reshaped back to the input's shape."""
        return grad_out.reshape(self._cache)
