"""Convolutional layers for images: ``Conv2D``, ``MaxPool2D`` and ``Flatten`` (notebook 14).

Every array is examples first, images as ``(N, C, H, W)``: examples, channels, rows, columns, as in
PyTorch. A convolutional layer's filters are ``W (F, C, kh, kw)`` with a bias ``b (F,)``, and its output is
``(N, F, H_out, W_out)`` with ``H_out = (H + 2 * padding - kh) // stride + 1`` (likewise ``W_out``).

The convolution is computed as deep-learning libraries compute it, as cross-correlation (no flip)::

    out[n, f, i, j] = b[f] + sum over c, a, e of  Xp[n, c, i * stride + a, j * stride + e] * W[f, c, a, e]

where ``Xp`` is X with ``padding`` zeros on each side of every image. Written as loops that is six nested
loops; here it is one matrix product per batch, through :func:`im2col`: copy every window of Xp into a
column of a matrix, so that ``out[n] = W_row @ cols[n]`` with ``W_row = W.reshape(F, C * kh * kw)``. The
backward pass is the same product turned around (:class:`Conv2D`), and :func:`col2im` adds the columns'
gradients back onto the pixels they came from.

The three classes are subclasses of :class:`nnlib.layers.Layer`: defining them registers them, so a
``Model`` that holds them saves and loads (importing this module is enough).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .init import init_weights
from .inputs import positive_int
from .layers import Layer, _float_dtype

__all__ = ["Conv2D", "MaxPool2D", "Flatten", "im2col", "col2im", "conv_output_size", "pad_images"]


# -- the pieces: sizes, padding, im2col, col2im ------------------------------------------------------


def conv_output_size(n: int, k: int, stride: int = 1, pad: int = 0) -> int:
    """How many positions a window of ``k`` pixels takes along ``n`` pixels padded by ``pad`` on each side,
    moving ``stride`` pixels at a time: ``(n + 2 * pad - k) // stride + 1`` (0 or less: the window does not fit)."""
    return (n + 2 * pad - k) // stride + 1


def pad_images(X, pad: int) -> np.ndarray:
    """X (N, C, H, W) with ``pad`` zeros on each side of every image: (N, C, H + 2*pad, W + 2*pad).

    The same as ``np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))``, written into a zero array
    (as fast for a small pad, and it reads as what it does). ``pad=0`` returns X itself.
    """
    if pad == 0:
        return X
    N, C, H, W = X.shape
    Xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=X.dtype)
    Xp[:, :, pad : pad + H, pad : pad + W] = X
    return Xp


def im2col(X, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Every kh x kw window of the padded images as a column: X (N, C, H, W) -> cols (N, C*kh*kw, H_out*W_out).

    ``cols[n, (c, a, e), (i, j)] = Xp[n, c, i*stride + a, j*stride + e]``: for each example one matrix,
    one row per (channel, kernel row, kernel column), one column per output position (output row,
    output column), both in row-major order. So the convolution of example n is one matrix product,
    ``W.reshape(F, -1) @ cols[n]`` (F, H_out*W_out), which is already the output ``(F, H_out, W_out)``
    flattened; ``W_row @ cols`` does all examples at once.

    How: ``as_strided`` makes a view of the padded images with shape (N, C, kh, kw, H_out, W_out),
    in which moving one step along the axis of a output row moves ``stride`` rows in the image, and
    moving one step along a kernel row moves one row; the reshape copies it into the matrix (the only
    copy, and the largest array of a step). No loop in Python.

    The other common layout, one *row* per window (N*H_out*W_out, C*kh*kw), as notebook 14 writes it
    first, is ``cols.transpose(0, 2, 1).reshape(-1, C*kh*kw)``; the one here is faster for (N, C, H, W)
    images, since each copied run (a row of the output positions) is contiguous in the image.
    """
    N, C, H, W = X.shape
    H_out, W_out = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    if H_out < 1 or W_out < 1:
        raise ValueError(f"a {kh}x{kw} window does not fit in a {H}x{W} image padded by {pad}")
    Xp = np.ascontiguousarray(pad_images(X, pad))
    sN, sC, sH, sW = Xp.strides
    windows = as_strided(
        Xp, shape=(N, C, kh, kw, H_out, W_out), strides=(sN, sC, sH, sW, sH * stride, sW * stride), writeable=False
    )
    return windows.reshape(N, C * kh * kw, H_out * W_out)


def col2im(dcols, X_shape, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The gradient of :func:`im2col`: dcols (N, C*kh*kw, H_out*W_out) -> dX of ``X_shape`` (N, C, H, W).

    Each pixel was copied into every window that covers it, so its gradient is the *sum* of the
    gradients of all those copies: ``dXp[n, c, i*stride + a, j*stride + e] += dcols[n, (c, a, e), (i, j)]``.
    Where windows overlap (stride < kernel) a pixel gets several terms, so this must add, never assign.

    It loops over the kh*kw kernel offsets (9 for a 3x3 kernel), not over examples or positions: for
    one offset (a, e) the windows' pixels form a strided slice of the padded image, and the slices of
    one offset never overlap each other, so a plain ``+=`` on the slice is right (and fast, unlike
    ``np.add.at``). The padding's gradient is dropped: dX is the middle of dXp.
    """
    N, C, H, W = X_shape
    H_out, W_out = conv_output_size(H, kh, stride, pad), conv_output_size(W, kw, stride, pad)
    d = dcols.reshape(N, C, kh, kw, H_out, W_out)
    dXp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for a in range(kh):
        for e in range(kw):
            dXp[:, :, a : a + stride * H_out : stride, e : e + stride * W_out : stride] += d[:, :, a, e]
    return dXp[:, :, pad : pad + H, pad : pad + W] if pad else dXp


# -- checking what a layer is given ------------------------------------------------------------------


def _pair(value, name: str) -> tuple:
    """An int k as (k, k), or a pair (kh, kw) of positive ints, as a tuple."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return positive_int(value[0], name), positive_int(value[1], name)
    k = positive_int(value, name)
    return k, k


def _non_negative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _images(layer, X, channels=None):
    """X as (N, C, H, W) of a float type (and ``channels`` channels if given), or an error naming the layer."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{layer!r} takes a NumPy array of images (N, C, H, W), got {type(X).__name__}")
    if X.ndim != 4 or (channels is not None and X.shape[1] != channels):
        want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        hint = (
            " (MNIST as (N, 784) or (N, 28, 28): reshape it with X.reshape(-1, 1, 28, 28))" if X.ndim in (2, 3) else ""
        )
        raise ValueError(f"{layer!r} takes images of shape {want}, got {X.shape}{hint}")
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"{layer!r} takes float images, got dtype {X.dtype} (X.astype(np.float32))")
    return X


def _image_shape(layer, in_shape, channels=None) -> tuple:
    in_shape = tuple(int(n) for n in in_shape)
    if len(in_shape) != 3 or (channels is not None and in_shape[0] != channels):
        want = f"({channels}, H, W)" if channels is not None else "(C, H, W)"
        raise ValueError(f"{layer!r} takes images of shape {want} per example, got {in_shape}")
    return in_shape


# -- the layers ----------------------------------------------------------------------------------------


class Conv2D(Layer):
    """2-D convolution (cross-correlation): X (N, C, H, W) -> out (N, F, H_out, W_out).

    ``Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0)``, PyTorch's order:
    C = in_channels, F = out_channels, ``kernel_size`` k (a k x k kernel) or a pair (kh, kw);
    ``padding`` zeros are added on each side of every image, and the window moves ``stride`` pixels
    at a time, so ``H_out = (H + 2 * padding - kh) // stride + 1`` (the rows left over when stride does
    not divide are not used, as in PyTorch).

    params: W (F, C, kh, kw), b (F,). ``init``: 'he' (the default: N(0, 2 / fan_in) with fan_in = C*kh*kw,
    the inputs that feed one output), 'xavier' or 'uniform' (:mod:`nnlib.init`). ``rng``: a seed or
    generator for the initial weights; without one a Model draws them from its own. ``dtype``: None
    adopts the model's (float32 on its own); ``np.float64`` for gradient checks.

    Forward, for all examples at once (``W_row = W.reshape(F, C*kh*kw)``)::

        cols = im2col(X, kh, kw, stride, padding)        # (N, C*kh*kw, H_out*W_out)
        out  = W_row @ cols + b[:, None]                 # (N, F, H_out*W_out) -> (N, F, H_out, W_out)

    Backward, from dout (N, F, H_out, W_out) as d (N, F, H_out*W_out)::

        dW    = sum over n of d[n] @ cols[n].T           # (F, C*kh*kw) -> (F, C, kh, kw)
        db    = sum of dout over n, i, j                 # (F,)
        dcols = W_row.T @ d                              # (N, C*kh*kw, H_out*W_out)
        dX    = col2im(dcols, X.shape, ...)              # (N, C, H, W)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride: int = 1,
        padding: int = 0,
        init: str = "he",
        rng=None,
        dtype=None,
    ):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = positive_int(stride, "stride")
        self.padding = _non_negative_int(padding, "padding")
        self.init, self.dtype = init, _float_dtype(dtype)
        # As for Linear: without an rng the layer starts from seed 0, and a Model re-draws it from its own generator.
        self.seeded = rng is not None
        self.reset(0 if rng is None else rng)

    def reset(self, rng):
        """Draw fresh parameters with this layer's init scheme (fan_in C*kh*kw, fan_out F*kh*kw)."""
        (kh, kw), C, F = self.kernel_size, self.in_channels, self.out_channels
        W, b = init_weights(
            self.init,
            (F, C, kh, kw),
            rng,
            fan_in=C * kh * kw,
            fan_out=F * kh * kw,
            n_bias=F,
            dtype=self.dtype or np.float32,
        )
        self.params = {"W": W, "b": b}

    def spec(self):
        kh, kw = self.kernel_size
        return {
            "type": "Conv2D",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": kh if kh == kw else [kh, kw],
            "stride": self.stride,
            "padding": self.padding,
            "init": self.init,
        }

    def output_shape(self, in_shape: tuple) -> tuple:
        """(C, H, W) -> (F, H_out, W_out); a ValueError if C differs or the kernel does not fit."""
        C, H, W = _image_shape(self, in_shape, self.in_channels)
        (kh, kw), s, p = self.kernel_size, self.stride, self.padding
        H_out, W_out = conv_output_size(H, kh, s, p), conv_output_size(W, kw, s, p)
        if H_out < 1 or W_out < 1:
            raise ValueError(f"{self!r}: a {kh}x{kw} kernel does not fit in a {H}x{W} image padded by {p}")
        return self.out_channels, H_out, W_out

    def forward(self, X, training: bool = False):
        """X (N, C, H, W) -> out (N, F, H_out, W_out); the cache is (X's shape, cols)."""
        X = _images(self, X, self.in_channels)
        W, b = self.params["W"], self.params["b"]
        if X.dtype != W.dtype:
            raise TypeError(
                f"{self!r} has {W.dtype} weights but X is {X.dtype}: cast X (X.astype(np.{W.dtype})), "
                f"or create the layer with dtype=np.{X.dtype}"
            )
        N = len(X)
        F, (kh, kw) = self.out_channels, self.kernel_size
        _, H_out, W_out = self.output_shape(X.shape[1:])
        cols = im2col(X, kh, kw, self.stride, self.padding)  # (N, C*kh*kw, H_out*W_out)
        out = W.reshape(F, -1) @ cols  # (N, F, H_out*W_out)
        out += b[:, None]
        return out.reshape(N, F, H_out, W_out), (X.shape, cols)

    def backward(self, dout, cache, need_dX: bool = True):
        """dout (N, F, H_out, W_out) -> dX (N, C, H, W) (None with ``need_dX=False``); stores dW and db."""
        X_shape, cols = cache
        W = self.params["W"]
        N, F = dout.shape[:2]
        d = dout.reshape(N, F, -1)  # (N, F, H_out*W_out)
        dW = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0)  # sum over n of d[n] @ cols[n].T: (F, C*kh*kw)
        self.grads = {"W": dW.reshape(W.shape), "b": d.sum(axis=(0, 2))}
        if not need_dX:
            return None
        dcols = W.reshape(F, -1).T @ d  # (N, C*kh*kw, H_out*W_out)
        return col2im(dcols, X_shape, *self.kernel_size, self.stride, self.padding)


class MaxPool2D(Layer):
    """Max pooling over size x size windows, stride = size: X (N, C, H, W) -> out (N, C, H // size, W // size).

    ``out[n, c, i, j] = max over a, e < size of X[n, c, i*size + a, j*size + e]``. When size does not divide
    H (or W), the last ``H % size`` rows (columns) are left out, as PyTorch does by default: they reach no
    output and get zero gradient. An image smaller than the window is an error.

    Backward: the gradient of a max flows to the input that was the max, and to nothing else in its
    window. If several inputs tie for the max, the first in the window in row-major order (top row
    first, then left to right) takes all of it, so the result does not depend on anything but X (and
    sums to the same as dout, as PyTorch's does).
    """

    def __init__(self, size: int = 2):
        super().__init__()
        self.size = positive_int(size, "size")

    def spec(self):
        return {"type": "MaxPool2D", "size": self.size}

    def output_shape(self, in_shape: tuple) -> tuple:
        """(C, H, W) -> (C, H // size, W // size); a ValueError if the window does not fit."""
        C, H, W = _image_shape(self, in_shape)
        if H < self.size or W < self.size:
            raise ValueError(f"{self!r}: a {self.size}x{self.size} window does not fit in a {H}x{W} image")
        return C, H // self.size, W // self.size

    def _windows(self, X):
        """The k*k strided slices of X, one per offset (a, e) in the window, in row-major order:
        slice (a, e)[n, c, i, j] = X[n, c, i*k + a, j*k + e], each (N, C, H_out, W_out)."""
        k = self.size
        H_out, W_out = X.shape[2] // k, X.shape[3] // k
        return [(np.s_[:, :, a : a + k * H_out : k, e : e + k * W_out : k]) for a in range(k) for e in range(k)]

    def forward(self, X, training: bool = False):
        """X (N, C, H, W) -> out (N, C, H_out, W_out); the cache is (X, out)."""
        X = _images(self, X)
        self.output_shape(X.shape[1:])
        first, *rest = self._windows(X)
        out = X[first].copy()
        for window in rest:
            np.maximum(out, X[window], out=out)
        return out, (X, out)

    def backward(self, dout, cache, need_dX: bool = True):
        """dout (N, C, H_out, W_out) -> dX (N, C, H, W): dout goes to each window's (first) max, zero elsewhere."""
        if not need_dX:
            return None
        X, out = cache
        dX = np.zeros_like(X, dtype=dout.dtype)
        free = np.ones(out.shape, dtype=bool)  # windows whose max has not been found yet
        for window in self._windows(X):
            is_max = X[window] == out
            is_max &= free  # a tie: an earlier offset already took it
            np.multiply(dout, is_max, out=dX[window])
            free &= ~is_max
        return dX


class Flatten(Layer):
    """Each example as one row: X (N, C, H, W) -> (N, C*H*W) (any (N, ...) -> (N, product of the rest)).

    The values are not moved, only re-read in row-major order (channel, then row, then column), so a
    ``Linear(C*H*W, ...)`` can follow. Backward reshapes the gradient back to X's shape.
    """

    def output_shape(self, in_shape: tuple) -> tuple:
        """(C, H, W) -> (C*H*W,)."""
        in_shape = tuple(int(n) for n in in_shape)
        return (math.prod(in_shape),)

    def forward(self, X, training: bool = False):
        """X (N, ...) -> (N, product of the rest); the cache is X's shape."""
        if not isinstance(X, np.ndarray) or X.ndim < 1:
            raise ValueError(f"{self!r} takes an array (N, ...), got {getattr(X, 'shape', type(X).__name__)}")
        return X.reshape(len(X), -1), X.shape

    def backward(self, dout, cache, need_dX: bool = True):
        """dout (N, C*H*W) -> dX (N, C, H, W)."""
        return dout.reshape(cache) if need_dX else None
