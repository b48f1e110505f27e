"""Self-checks for notebook 14's pieces: convolution forward (a loop, then im2col), its backward pass, max pooling.

Every piece works on images as ``(N, C, H, W)`` (examples, channels, rows, columns) and filters as
``W (F, C, kh, kw)`` with a bias ``b (F,)``; an output is ``(N, F, H_out, W_out)`` with
``H_out = (H + 2 * pad - kh) // stride + 1``. Each check compares the learner's result with a float64
reference on small inputs the learner does not see and, when it differs, tests the result against the
typical wrong versions (a flipped kernel, a forgotten bias, wrong padding, the wrong reshape order, dX
that overwrites where windows overlap, dW of one example only) to say which one it is.

| check | piece | signature checked |
|---|---|---|
| ``check_conv_forward`` | 11 | ``conv_forward(X, W, b, stride=1, pad=0) -> out (N, F, H_out, W_out)`` |
| ``check_im2col`` | 11 | ``im2col(X, kh, kw, stride=1, pad=0) -> cols (N * H_out * W_out, C * kh * kw)`` |
| ``check_conv_backward`` | 11 | ``conv_backward(dout, X, W, stride=1, pad=0) -> (dX, dW, db)`` |
| ``check_maxpool`` | 11 | ``maxpool_forward(X, size=2) -> out``, ``maxpool_backward(dout, X, size=2) -> dX`` |
"""

from __future__ import annotations

import numpy as np

from ..conv import conv_output_size, pad_images
from ._core import CheckResult, _Fail, _close, _items, _rel, _run, _theirs, _what

__all__ = ["check_conv_forward", "check_im2col", "check_conv_backward", "check_maxpool"]


# -- references (float64, plain loops: slow, obviously right) --------------------------------------


def _conv(X, W, b, stride=1, pad=0):
    """Cross-correlation, as every deep-learning library computes it: no flip."""
    X, W = np.asarray(X, np.float64), np.asarray(W, np.float64)
    Xp = pad_images(X, pad)
    N, C, H, Wd = X.shape
    F, _, kh, kw = W.shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(Wd, kw, stride, pad)
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = Xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3]))
    return out + np.asarray(b, np.float64)[None, :, None, None]


def _im2col(X, kh, kw, stride=1, pad=0, order=(0, 2, 3, 1, 4, 5)):
    """Rows: (example, output row, output column); columns: (channel, kernel row, kernel column)."""
    Xp = pad_images(np.asarray(X, np.float64), pad)
    N, C, H, Wd = X.shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(Wd, kw, stride, pad)
    patches = np.empty((N, C, Ho, Wo, kh, kw))
    for i in range(Ho):
        for j in range(Wo):
            patches[:, :, i, j] = Xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
    p = patches.transpose(order)
    return p.reshape(p.shape[0] * p.shape[1] * p.shape[2], -1)


def _conv_backward(dout, X, W, stride=1, pad=0, overwrite=False):
    """(dX, dW, db) of ``sum(conv(X, W, b) * dout)``; ``overwrite``: the wrong dX that assigns instead of adding."""
    dout, X, W = (np.asarray(a, np.float64) for a in (dout, X, W))
    Xp = pad_images(X, pad)
    N, C, H, Wd = X.shape
    F, _, kh, kw = W.shape
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            d = dout[:, :, i, j]
            dW += np.tensordot(d, Xp[:, :, rows, cols], axes=([0], [0]))
            contribution = np.tensordot(d, W, axes=([1], [0]))
            if overwrite:
                dXp[:, :, rows, cols] = contribution
            else:
                dXp[:, :, rows, cols] += contribution
    dX = dXp[:, :, pad : pad + H, pad : pad + Wd]
    return dX, dW, dout.sum(axis=(0, 2, 3))


def _coverage(shape, kh, kw, stride, pad):
    """How many windows cover each input pixel (N, C, H, W)."""
    N, C, H, Wd = shape
    Ho, Wo = conv_output_size(H, kh, stride, pad), conv_output_size(Wd, kw, stride, pad)
    count = np.zeros((H + 2 * pad, Wd + 2 * pad))
    for i in range(Ho):
        for j in range(Wo):
            count[i * stride : i * stride + kh, j * stride : j * stride + kw] += 1
    return count[pad : pad + H, pad : pad + Wd]


def _array(out, what):
    if not isinstance(out, np.ndarray):
        raise _Fail(f"{what} must be a NumPy array; yours returned {_what(out)}.")
    return out


def _case(rng, N=2, C=3, H=7, Wd=6, F=4, kh=3, kw=3):
    """Inputs with no symmetry that could hide a mistake: F differs from H_out and W_out, H from W, kh from C."""
    return rng.normal(size=(N, C, H, Wd)), rng.normal(size=(F, C, kh, kw)), rng.normal(size=F)


# -- forward ----------------------------------------------------------------------------------------


def _forward_hint(out, X, W, b, stride, pad) -> str:
    """Which typical mistake ``out`` is (its shape is already right), else a general hint."""
    ref = _conv(X, W, b, stride, pad)
    N, F, Ho, Wo = ref.shape
    if _close(out, _conv(X, W[:, :, ::-1, ::-1], b, stride, pad)):
        return (
            "your output is the convolution with the kernel flipped (rows and columns reversed), the "
            "textbook 'true' convolution. A convolutional layer computes cross-correlation: out[n, f, i, j] "
            "= sum over c, a, b' of X[n, c, i*stride + a, j*stride + b'] * W[f, c, a, b'] + b[f], with no flip."
        )
    if _close(out, ref - b[None, :, None, None]):
        return "you forgot the bias: add b[f] to every position of output channel f (b[None, :, None, None])."
    if _close(out, ref.transpose(0, 2, 3, 1).reshape(N, F, Ho, Wo)):
        return (
            "the right numbers in the wrong places: cols @ W_row.T has one row per (example, output row, output "
            "column) and one column per filter, so reshape it to (N, H_out, W_out, F) first, then "
            "transpose(0, 3, 1, 2) to (N, F, H_out, W_out). Reshaping straight to (N, F, H_out, W_out) mixes "
            "positions and filters."
        )
    if _close(out, _conv(X, W.transpose(0, 1, 3, 2), b, stride, pad)) and W.shape[2] == W.shape[3]:
        return "your kernel is transposed: W[f, c, a, b'] multiplies the pixel a rows down and b' columns right."
    if pad and not _close(out, ref):
        return (
            "with padding, pad X with zeros by pad pixels on each of the four sides of every image, then slide "
            "the window over the padded image: np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
        )
    return (
        "your values differ from the sliding dot product out[n, f, i, j] = sum over c, a, b' of "
        "X[n, c, i*stride + a, j*stride + b'] * W[f, c, a, b'] + b[f]: every output sums over all input "
        "channels and the whole kh x kw window. Try it on a 1x1x3x3 image and a 1x1x2x2 kernel by hand."
    )


_SHAPES = (
    "check the shapes step by step on the example in the text: X (N, C, H, W), W (F, C, kh, kw), b (F,), "
    "padded X (N, C, H + 2*pad, W + 2*pad), out (N, F, H_out, W_out); pad only the last two axes."
)


def check_conv_forward(conv_forward) -> CheckResult:
    """``conv_forward(X, W, b, stride=1, pad=0) -> out``: a convolutional layer's forward pass (any method)."""
    conv_forward = _theirs(conv_forward, lambda out: _array(out, "conv_forward's output"))
    rng = np.random.default_rng(11)
    X, W, b = _case(rng)

    def compare(stride, pad, X=X, W=W, b=b):
        out = conv_forward(X, W, b, stride=stride, pad=pad)
        ref = _conv(X, W, b, stride, pad)
        if np.shape(out) != ref.shape:
            N, C, H, Wd = X.shape
            kh = W.shape[2]
            formula = (
                f"H_out = (H + 2*pad - kh) // stride + 1 = ({H} + 2*{pad} - {kh}) // {stride} + 1 = "
                f"{ref.shape[2]} for this input"
            )
            if pad and np.shape(out) == _conv(X, W, b, stride, 0).shape:
                raise _Fail(
                    f"your output has shape {np.shape(out)}, the shape without padding; expected {ref.shape}. "
                    f"Pad the two spatial axes first: np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
                )
            one_side = (
                N,
                W.shape[0],
                conv_output_size(H - pad, kh, stride, pad),
                conv_output_size(Wd - pad, W.shape[3], stride, pad),
            )
            if pad and np.shape(out) == one_side:
                raise _Fail(
                    f"your output has shape {np.shape(out)}; expected {ref.shape}: pad adds pad pixels on "
                    f"each side, so H grows by 2 * pad: np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
                )
            if np.shape(out)[:1] == (N + 2 * pad,) and pad:
                raise _Fail(
                    f"your output has shape {np.shape(out)}: np.pad(X, pad) pads every axis, examples and "
                    f"channels too. Pad only the two spatial axes: ((0, 0), (0, 0), (pad, pad), (pad, pad))."
                )
            if stride > 1 and np.shape(out) == _conv(X, W, b, 1, pad).shape:
                raise _Fail(
                    f"your output has shape {np.shape(out)}, the shape at stride 1; expected {ref.shape}. "
                    f"At stride s the window moves s pixels: output (i, j) reads the window at (i*s, j*s)."
                )
            raise _Fail(
                f"your output has shape {np.shape(out)}; expected (N, F, H_out, W_out) = {ref.shape}, with {formula}."
            )
        if not _close(out, ref):
            raise _Fail(_forward_hint(out, X, W, b, stride, pad))

    def one_channel():
        compare(1, 0, X[:, :1], W[:, :1], np.zeros(len(W)))

    return _run(
        "conv_forward",
        [
            ("one input channel, no bias, stride 1, no padding", one_channel),
            ("three input channels and a bias", lambda: compare(1, 0)),
            ("padding 1", lambda: compare(1, 1)),
            ("stride 2", lambda: compare(2, 0)),
            ("stride 2 and padding 2", lambda: compare(2, 2)),
        ],
        hint_on_error=_SHAPES,
    )


def check_im2col(im2col) -> CheckResult:
    """``im2col(X, kh, kw, stride=1, pad=0) -> cols (N * H_out * W_out, C * kh * kw)``.

    Row ``(n * H_out + i) * W_out + j`` holds the window of example n at output position (i, j), flattened in
    the order of ``W[f].reshape(-1)``: channel, then kernel row, then kernel column.
    """
    im2col = _theirs(im2col, lambda out: _array(out, "im2col's result"))
    rng = np.random.default_rng(12)
    X = rng.normal(size=(2, 3, 5, 6))

    def compare(kh, kw, stride, pad):
        cols = im2col(X, kh, kw, stride=stride, pad=pad)
        ref = _im2col(X, kh, kw, stride, pad)
        if np.shape(cols) != ref.shape:
            if np.shape(cols) == ref.shape[::-1]:
                raise _Fail(
                    f"your result has shape {np.shape(cols)}, the transpose of {ref.shape}: here rows are "
                    f"windows (one per example and output position), columns are C * kh * kw pixels."
                )
            raise _Fail(
                f"your result has shape {np.shape(cols)}; expected (N * H_out * W_out, C * kh * kw) = "
                f"{ref.shape}, with H_out = (H + 2*pad - kh) // stride + 1."
            )
        if _close(cols, ref):
            return
        if _close(cols, _im2col(X, kh, kw, stride, pad, order=(0, 2, 3, 4, 5, 1))):
            raise _Fail(
                "your columns are in the order (kernel row, kernel column, channel); W[f].reshape(-1) runs "
                "over (channel, kernel row, kernel column). Transpose the windows to (N, H_out, W_out, C, kh, kw) "
                "before reshaping."
            )
        if _close(cols, _im2col(X, kh, kw, stride, pad, order=(2, 3, 0, 1, 4, 5))):
            raise _Fail(
                "your rows run over output positions first and examples second; the course's order is "
                "example, then output row, then output column: axes (N, H_out, W_out, C, kh, kw)."
            )
        if _close(np.sort(cols, axis=None), np.sort(ref, axis=None)):
            raise _Fail(
                "you have the right pixels, in the wrong places: a reshape does not move axes. Put the axes "
                "in the order (N, H_out, W_out, C, kh, kw) with transpose first, then reshape to "
                "(N * H_out * W_out, C * kh * kw)."
            )
        raise _Fail(
            "some windows hold the wrong pixels: window (i, j) starts at row i*stride and column "
            "j*stride of the padded image. With as_strided, the strides of the output-position axes are "
            "the row and column strides times stride, and those of the kernel axes are the plain row and "
            "column strides."
        )

    return _run(
        "im2col",
        [
            ("a 2x2 window, stride 1", lambda: compare(2, 2, 1, 0)),
            ("a 3x2 window (three channels: the column order)", lambda: compare(3, 2, 1, 0)),
            ("stride 2", lambda: compare(3, 3, 2, 0)),
            ("padding 1", lambda: compare(3, 3, 1, 1)),
        ],
    )


# -- backward ---------------------------------------------------------------------------------------


def check_conv_backward(conv_backward) -> CheckResult:
    """``conv_backward(dout, X, W, stride=1, pad=0) -> (dX, dW, db)``, the gradients of ``sum(out * dout)``.

    Checked against a loop reference (itself checked against numerical gradients in the tests) on a batch of
    two images, at stride 1 and 2, with and without padding.
    """
    conv_backward = _theirs(
        conv_backward, lambda out: _items(out, 3, "conv_backward must return three arrays (dX, dW, db)")
    )
    rng = np.random.default_rng(13)
    X, W, _ = _case(rng)

    def grads(stride, pad):
        dout = rng.normal(size=_conv(X, W, np.zeros(len(W)), stride, pad).shape)
        return dout, conv_backward(dout, X, W, stride=stride, pad=pad), _conv_backward(dout, X, W, stride, pad)

    def db():
        dout, (_, _, got), (_, _, ref) = grads(1, 0)
        got = np.asarray(got, np.float64) if got is not None else None
        if got is None or got.shape != ref.shape:
            raise _Fail(
                f"db has shape {np.shape(got)}; it has b's shape ({len(ref)},): db[f] = dout[:, f].sum(), "
                f"dout.sum(axis=(0, 2, 3))."
            )
        if _close(got, ref / (dout.shape[0] * dout.shape[2] * dout.shape[3])) or _close(got, ref / dout.shape[0]):
            raise _Fail(
                "db is a mean; b[f] is added at every position of every example, so db[f] is the sum of "
                "dout[:, f] over examples, rows and columns: dout.sum(axis=(0, 2, 3))."
            )
        if not _close(got, ref):
            raise _Fail("db[f] is the sum of dout[:, f] over examples, rows and columns: dout.sum(axis=(0, 2, 3)).")

    def dW(stride, pad):
        dout, (_, got, _), (_, ref, _) = grads(stride, pad)
        if np.shape(got) != ref.shape:
            raise _Fail(f"dW has shape {np.shape(got)}; a gradient has its parameter's shape, W's {ref.shape}.")
        if _close(got, ref):
            return
        first = _conv_backward(dout[:1], X[:1], W, stride, pad)[1]
        if _close(got, first) or _close(got, _conv_backward(dout[-1:], X[-1:], W, stride, pad)[1]):
            raise _Fail(
                "dW holds one example's gradient: W is shared by every example in the batch, so dW sums "
                "the contributions of all of them (and of every output position)."
            )
        if _close(got, ref / len(X)):
            raise _Fail(
                "dW is divided by the batch size: dout already is the gradient of the mean loss (the 1/N "
                "is in it), so here dW is a plain sum over examples and positions."
            )
        if _close(got, ref[:, :, ::-1, ::-1]):
            raise _Fail(
                "dW is flipped: dW[f, c, a, b'] = sum over n, i, j of dout[n, f, i, j] * "
                "X_padded[n, c, i*stride + a, j*stride + b'], the window's pixel at the weight's own place."
            )
        raise _Fail(
            f"dW differs from the right gradient (relative error {_rel(got, ref):.1e}): dW[f] sums, over "
            f"examples and output positions, dout[n, f, i, j] times the window that made out[n, f, i, j]. "
            f"With im2col: dW = (dout_rows.T @ cols).reshape(W.shape)."
        )

    def dX(stride, pad):
        dout, (got, _, _), (ref, _, _) = grads(stride, pad)
        if np.shape(got) != ref.shape:
            padded = (X.shape[0], X.shape[1], X.shape[2] + 2 * pad, X.shape[3] + 2 * pad)
            if pad and np.shape(got) == padded:
                raise _Fail(
                    f"dX has the padded shape {padded}; X's is {X.shape}: cut the padding off, "
                    f"dX_padded[:, :, pad:-pad, pad:-pad]."
                )
            raise _Fail(f"dX has shape {np.shape(got)}; a gradient has its input's shape, X's {X.shape}.")
        if _close(got, ref):
            return
        got = np.asarray(got, np.float64)
        kh, kw = W.shape[2:]
        once = _coverage(X.shape, kh, kw, stride, pad) == 1
        single = np.broadcast_to(once, X.shape)
        if (
            single.any()
            and np.allclose(got[single], ref[single])
            or _close(got, _conv_backward(dout, X, W, stride, pad, overwrite=True)[0])
        ):
            raise _Fail(
                "dX is right where only one window covers a pixel and wrong where windows overlap: a pixel "
                "gets a share of the gradient from every window it is in, so add them up (+=), do not "
                "overwrite (=). In col2im, add each kernel offset's slice into dX."
            )
        if _close(got, _conv_backward(dout, X, W[:, :, ::-1, ::-1], stride, pad)[0]):
            raise _Fail(
                "dX used the kernel flipped: scatter dout[n, f, i, j] * W[f] back onto the window it came "
                "from, W's element (a, b') landing on pixel (i*stride + a, j*stride + b'), with no flip. "
                "(Written as a convolution of dout, it is the full convolution with the flipped kernel.)"
            )
        raise _Fail(
            f"dX differs from the right gradient (relative error {_rel(got, ref):.1e}): every window sends "
            f"dout[n, f, i, j] * W[f] back onto the pixels it read, summed over the filters f. With im2col: "
            f"dcols = dout_rows @ W_row, then col2im adds each row back onto its window."
        )

    return _run(
        "conv_backward",
        [
            ("db", db),
            ("dW, stride 1", lambda: dW(1, 0)),
            ("dX, stride 1 (windows overlap)", lambda: dX(1, 0)),
            ("dW and dX with padding 1", lambda: (dW(1, 1), dX(1, 1))),
            ("dW and dX at stride 2", lambda: (dW(2, 0), dX(2, 0))),
        ],
    )


# -- max pooling ------------------------------------------------------------------------------------


def _pool_windows(X, size):
    N, C, H, Wd = X.shape
    return np.asarray(X, np.float64)[:, :, : H // size * size, : Wd // size * size].reshape(
        N, C, H // size, size, Wd // size, size
    )


def check_maxpool(maxpool_forward, maxpool_backward) -> CheckResult:
    """``maxpool_forward(X, size=2) -> out (N, C, H // size, W // size)`` over non-overlapping size x size windows,
    and ``maxpool_backward(dout, X, size=2) -> dX``: each window's gradient goes to its maximum alone."""
    maxpool_forward = _theirs(maxpool_forward, lambda out: _array(out, "maxpool_forward's output"))
    maxpool_backward = _theirs(maxpool_backward, lambda out: _array(out, "maxpool_backward's dX"))
    rng = np.random.default_rng(14)
    X = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 10.0 - 3  # distinct values: no ties

    def forward(size):
        out = maxpool_forward(X, size=size)
        windows = _pool_windows(X, size)
        ref = windows.max(axis=(3, 5))
        if np.shape(out) != ref.shape:
            raise _Fail(
                f"your output has shape {np.shape(out)}; expected (N, C, H // size, W // size) = {ref.shape}: "
                f"one value per channel and window, windows of size x size that do not overlap."
            )
        if _close(out, windows.mean(axis=(3, 5))):
            raise _Fail("your output is each window's mean (average pooling); max pooling keeps its maximum.")
        if not _close(out, ref):
            raise _Fail(
                "your values are not each window's maximum: reshape to (N, C, H // size, size, W // size, "
                "size) and take max over axes 3 and 5, so each channel is pooled on its own."
            )

    def backward(size):
        out_shape = _pool_windows(X, size).max(axis=(3, 5)).shape
        dout = rng.normal(size=out_shape)
        got = maxpool_backward(dout, X, size=size)
        windows = _pool_windows(X, size)
        mask = windows == windows.max(axis=(3, 5), keepdims=True)
        ref = np.zeros(X.shape)
        ref_view = ref[:, :, : out_shape[2] * size, : out_shape[3] * size]
        ref_view[...] = (mask * dout[:, :, :, None, :, None]).reshape(ref_view.shape)
        if np.shape(got) != X.shape:
            raise _Fail(f"dX has shape {np.shape(got)}; a gradient has its input's shape, X's {X.shape}.")
        spread = np.broadcast_to(dout[:, :, :, None, :, None] / size**2, windows.shape).reshape(X.shape)
        if _close(got, spread):
            raise _Fail(
                "you spread each window's gradient evenly over it (that is average pooling's backward). The "
                "maximum alone decided the output, so it alone gets dout; the other pixels get 0."
            )
        everywhere = np.broadcast_to(dout[:, :, :, None, :, None], windows.shape).reshape(X.shape)
        if _close(got, everywhere):
            raise _Fail(
                "every pixel of a window got the window's dout; only the maximum changes the output, so only "
                "it gets dout (a mask: window == its max), the others 0."
            )
        if not _close(got, ref):
            raise _Fail(
                "dX must be dout at each window's maximum and 0 elsewhere: the mask windows == "
                "windows.max(axis=(3, 5), keepdims=True), times dout broadcast over the window."
            )

    return _run(
        "maxpool",
        [
            ("forward, 2x2 windows", lambda: forward(2)),
            ("forward, 3x3 windows", lambda: forward(3)),
            ("backward, 2x2 windows", lambda: backward(2)),
            ("backward, 3x3 windows", lambda: backward(3)),
        ],
    )
