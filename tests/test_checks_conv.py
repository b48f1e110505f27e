"""nnlib.checks' convolution checks (notebook 14): each passes on a correct piece (the notebook's solutions,
written again here) and fails on each typical wrong version with the hint meant for it; a stub is reported as
not implemented yet, and the checks' own loop references agree with numerical gradients."""

import inspect

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nnlib import checks
from nnlib.checks import conv as conv_checks
from nnlib.gradcheck import numerical_gradient, rel_error

from checking import fails, passes, stub, verdict  # tests/checking.py
from conv_reference import conv_naive, pad_  # tests/conv_reference.py


# -- the right answers (as in the notebook) ------------------------------------------------------------


def im2col(X, kh, kw, stride=1, pad=0, order=(0, 1, 2, 3, 4, 5), step=None):
    Xp = pad_(X, pad)
    N, C, height, width = Xp.shape
    H_out, W_out = (height - kh) // stride + 1, (width - kw) // stride + 1
    sN, sC, sH, sW = Xp.strides
    step = stride if step is None else step
    windows = as_strided(
        Xp, shape=(N, H_out, W_out, C, kh, kw), strides=(sN, sH * step, sW * step, sC, sH, sW), writeable=False
    )
    windows = windows.transpose(order)
    return windows.reshape(N * H_out * W_out, C * kh * kw)


def conv_forward(X, W, b, stride=1, pad=0, reshape_straight=False):
    N, C, height, width = X.shape
    F, _, kh, kw = W.shape
    H_out, W_out = (height + 2 * pad - kh) // stride + 1, (width + 2 * pad - kw) // stride + 1
    out = im2col(X, kh, kw, stride, pad) @ W.reshape(F, -1).T + b
    if reshape_straight:
        return out.reshape(N, F, H_out, W_out)
    return out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)


def conv_backward(
    dout,
    X,
    W,
    stride=1,
    pad=0,
    overwrite=False,
    flip=False,
    one_example=False,
    mean=False,
    db_mean=False,
    keep_padding=False,
):
    N, C, height, width = X.shape
    F, _, kh, kw = W.shape
    _, _, H_out, W_out = dout.shape
    K = W[:, :, ::-1, ::-1] if flip else W
    cols = im2col(X, kh, kw, stride, pad)
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    db = dout_rows.mean(axis=0) if db_mean else dout_rows.sum(axis=0)
    rows = slice(0, H_out * W_out) if one_example else slice(None)
    dW = (dout_rows[rows].T @ cols[rows]).reshape(W.shape) / (N if mean else 1)
    dcols = (dout_rows @ K.reshape(F, -1)).reshape(N, H_out, W_out, C, kh, kw)
    dXp = np.zeros((N, C, height + 2 * pad, width + 2 * pad))
    for a in range(kh):
        for c in range(kw):
            part = dcols[:, :, :, :, a, c].transpose(0, 3, 1, 2)
            target = (
                slice(None),
                slice(None),
                slice(a, a + stride * H_out, stride),
                slice(c, c + stride * W_out, stride),
            )
            if overwrite:
                dXp[target] = part
            else:
                dXp[target] += part
    if keep_padding:
        return dXp, dW, db
    return dXp[:, :, pad : pad + height, pad : pad + width], dW, db


def maxpool_forward(X, size=2, mean=False):
    N, C, height, width = X.shape
    windows = X.reshape(N, C, height // size, size, width // size, size)
    return windows.mean(axis=(3, 5)) if mean else windows.max(axis=(3, 5))


def maxpool_backward(dout, X, size=2, how="max"):
    N, C, height, width = X.shape
    windows = X.reshape(N, C, height // size, size, width // size, size)
    mask = windows == windows.max(axis=(3, 5), keepdims=True)
    if how == "spread":
        mask = np.full(windows.shape, 1 / size**2)
    elif how == "everywhere":
        mask = np.ones(windows.shape)
    return (mask * dout[:, :, :, None, :, None]).reshape(X.shape)


# -- the checks' references are right --------------------------------------------------------------------


def test_the_references_agree_with_each_other_and_with_numerical_gradients():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    for stride, pad in [(1, 0), (1, 1), (2, 0), (2, 2)]:
        out = conv_checks._conv(X, W, b, stride, pad)
        np.testing.assert_allclose(out, conv_naive(X, W, b, stride, pad), rtol=1e-12)
        np.testing.assert_allclose(out, conv_forward(X, W, b, stride, pad), rtol=1e-12)
        np.testing.assert_allclose(conv_checks._im2col(X, 3, 2, stride, pad), im2col(X, 3, 2, stride, pad))
        dout = rng.normal(size=out.shape)
        dX, dW, db = conv_checks._conv_backward(dout, X, W, stride, pad)

        def f():
            return float(np.sum(conv_checks._conv(X, W, b, stride, pad) * dout))

        assert rel_error(dX, numerical_gradient(f, X)) < 1e-7
        assert rel_error(dW, numerical_gradient(f, W)) < 1e-7
        assert rel_error(db, numerical_gradient(f, b)) < 1e-7


def test_the_checks_are_reachable_from_nnlib_checks():
    for name in ["check_conv_forward", "check_im2col", "check_conv_backward", "check_maxpool"]:
        # nnlib.checks wraps each check to take strict= (nnlib.checks._core.strictable)
        assert inspect.unwrap(getattr(checks, name)) is getattr(conv_checks, name)


# -- conv_forward ---------------------------------------------------------------------------------------------


def test_conv_forward_passes_the_loop_and_the_im2col_versions(capsys):
    assert passes(capsys, checks.check_conv_forward, conv_naive).startswith("conv_forward: 5 checks passed")
    passes(capsys, checks.check_conv_forward, conv_forward)


def test_conv_forward_names_each_typical_mistake(capsys):
    check = checks.check_conv_forward
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_naive(X, W, b, stride, pad, flip=True),
        hint="kernel flipped",
    )
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_naive(X, W, b, stride, pad, bias=False),
        hint="you forgot the bias",
    )
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_forward(X, W, b, stride, pad, reshape_straight=True),
        hint="reshape it to (N, H_out, W_out, F) first",
    )
    fails(
        capsys, check, lambda X, W, b, stride=1, pad=0: conv_naive(X, W, b, stride, 0), hint="the shape without padding"
    )
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_naive(np.pad(X, ((0, 0), (0, 0), (pad, 0), (pad, 0))), W, b, stride, 0),
        hint="H grows by 2 * pad",
    )
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_naive(np.pad(X, pad), W, b, stride, 0),
        hint="pad only the last two axes",
    )
    fails(
        capsys,
        check,
        lambda X, W, b, stride=1, pad=0: conv_naive(
            np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=1.0), W, b, stride, 0
        ),
        hint="pad X with zeros",
    )
    fails(capsys, check, lambda X, W, b, stride=1, pad=0: conv_naive(X, W, b, 1, pad), hint="the shape at stride 1")
    fails(
        capsys, check, lambda X, W, b, stride=1, pad=0: conv_naive(X, W, b, stride, pad) * 2, hint="sliding dot product"
    )
    fails(capsys, check, lambda X, W, b, stride=1, pad=0: [[0.0]], hint="must be a NumPy array")
    out = verdict(capsys, check, stub)[1]
    assert "not implemented yet" in out


# -- im2col -------------------------------------------------------------------------------------------------


def test_im2col_passes_and_names_each_typical_mistake(capsys):
    check = checks.check_im2col
    assert passes(capsys, check, im2col).startswith("im2col: 4 checks passed")
    fails(
        capsys,
        check,
        lambda X, kh, kw, stride=1, pad=0: im2col(X, kh, kw, stride, pad, order=(0, 1, 2, 4, 5, 3)),
        hint="in the order (kernel row, kernel column, channel)",
    )
    fails(
        capsys,
        check,
        lambda X, kh, kw, stride=1, pad=0: im2col(X, kh, kw, stride, pad, order=(1, 2, 0, 3, 4, 5)),
        hint="rows run over output positions first",
    )
    fails(capsys, check, lambda X, kh, kw, stride=1, pad=0: im2col(X, kh, kw, stride, pad).T, hint="the transpose of")

    def no_transpose(X, kh, kw, stride=1, pad=0):  # reshaped straight from (N, C, H_out, W_out, kh, kw)
        N, C = X.shape[:2]
        cols = im2col(X, kh, kw, stride, pad)
        windows = cols.reshape(N, -1, C, kh, kw).transpose(0, 2, 1, 3, 4)
        return np.ascontiguousarray(windows).reshape(cols.shape)

    fails(capsys, check, no_transpose, hint="a reshape does not move axes")
    fails(
        capsys,
        check,
        lambda X, kh, kw, stride=1, pad=0: im2col(X, kh, kw, stride, pad, step=1),
        hint="some windows hold the wrong pixels",
    )
    assert "not implemented yet" in verdict(capsys, check, stub)[1]


# -- conv_backward ------------------------------------------------------------------------------------------


def wrong(**kw):
    return lambda dout, X, W, stride=1, pad=0: conv_backward(dout, X, W, stride, pad, **kw)


def test_conv_backward_passes(capsys):
    assert passes(capsys, checks.check_conv_backward, conv_backward).startswith("conv_backward: 5 checks passed")


def test_conv_backward_names_each_typical_mistake(capsys):
    check = checks.check_conv_backward
    fails(capsys, check, wrong(overwrite=True), hint="add them up (+=), do not overwrite (=)")
    fails(capsys, check, wrong(one_example=True), hint="W is shared by every example in the batch")
    fails(capsys, check, wrong(mean=True), hint="dW is divided by the batch size")
    fails(capsys, check, wrong(flip=True), hint="dX used the kernel flipped")
    fails(capsys, check, wrong(db_mean=True), hint="db is a mean")
    fails(capsys, check, wrong(keep_padding=True), hint="cut the padding off")

    def no_bias(dout, X, W, stride=1, pad=0):
        dX, dW, _ = conv_backward(dout, X, W, stride, pad)
        return dX, dW, None

    fails(capsys, check, no_bias, hint="db has shape ()")

    def dW_flipped(dout, X, W, stride=1, pad=0):
        dX, dW, db = conv_backward(dout, X, W, stride, pad)
        return dX, dW[:, :, ::-1, ::-1], db

    fails(capsys, check, dW_flipped, hint="dW is flipped")
    fails(
        capsys,
        check,
        lambda dout, X, W, stride=1, pad=0: conv_backward(dout, X, W, stride, pad)[:2],
        hint="must return three arrays (dX, dW, db)",
    )
    assert "not implemented yet" in verdict(capsys, check, stub)[1]


# -- max pooling --------------------------------------------------------------------------------------------


def test_maxpool_passes_and_names_each_typical_mistake(capsys):
    check = checks.check_maxpool
    assert passes(capsys, check, maxpool_forward, maxpool_backward).startswith("maxpool: 4 checks passed")
    fails(
        capsys, check, lambda X, size=2: maxpool_forward(X, size, mean=True), maxpool_backward, hint="average pooling"
    )
    fails(
        capsys,
        check,
        maxpool_forward,
        lambda dout, X, size=2: maxpool_backward(dout, X, size, "spread"),
        hint="you spread each window's gradient evenly",
    )
    fails(
        capsys,
        check,
        maxpool_forward,
        lambda dout, X, size=2: maxpool_backward(dout, X, size, "everywhere"),
        hint="only the maximum changes the output",
    )
    fails(capsys, check, lambda X, size=2: X[:, :, ::size, ::size], maxpool_backward, hint="not each window's maximum")
    assert "not implemented yet" in verdict(capsys, check, stub, stub)[1]
