"""The convolution straight from its formula, in loops over examples, filters and positions: the reference of
tests/test_conv.py (nnlib's Conv2D) and, with its wrong variants, of tests/test_checks_conv.py (notebook 14's
checks). Slow and obviously right."""

import numpy as np


def pad_(X, pad):
    return np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_naive(X, W, b, stride=1, pad=0, flip=False, bias=True):
    """out[n, f, i, j] = b[f] + sum over c, a, e of Xp[n, c, i*stride + a, j*stride + e] * W[f, c, a, e].

    ``flip=True`` (the kernel reversed, a true convolution) and ``bias=False`` are typical wrong answers."""
    Xp = pad_(X, pad)
    N, C, height, width = Xp.shape
    F, _, kh, kw = W.shape
    K = W[:, :, ::-1, ::-1] if flip else W
    H_out, W_out = (height - kh) // stride + 1, (width - kw) // stride + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = Xp[n, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                    out[n, f, i, j] = np.sum(window * K[f]) + (b[f] if bias else 0)
    return out
