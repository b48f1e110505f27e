"""The losses, in one place: what training minimises and what evaluation reports are the same numbers.

Both take the network's output for a batch and one-hot targets Y (N, C) (rows summing to 1) and
return the *mean* loss over the N rows:

- softmax cross-entropy, ``-sum(Y * log softmax(Z)) / N``, always computed from the logits Z
  through a stable log-softmax, so a confident wrong answer gives its true (large) loss, never a
  clipped one;
- mean squared error, ``sum((A - Y)**2) / (2 N)``, for networks whose output is not a softmax.

``Model.loss_and_grads``, ``fit`` and ``evaluate`` all use these functions, through the loss layers
``SoftmaxCrossEntropy`` and ``MeanSquaredError`` of :mod:`nnlib.layers`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "log_softmax",
    "cross_entropy_from_log_probs",
    "cross_entropy_with_logits",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "mean_squared_error",
    "MeanSquaredError",  # noqa: F822 (module __getattr__ below: the old name of a layer now in nnlib.layers)
]


def log_softmax(Z):
    """Row-wise log of the softmax of Z (N, C), computed stably: Z - max - log(sum(exp(Z - max)))."""
    Z = np.asarray(Z)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def _check(A, Y):
    A, Y = np.asarray(A), np.asarray(Y)
    if A.shape != Y.shape or A.ndim != 2:
        raise ValueError(f"predictions and one-hot targets must both have shape (N, C); got {A.shape} and {Y.shape}")
    if A.shape[0] == 0:
        raise ValueError("the loss of no examples is undefined: pass at least one row")
    return A, Y


def cross_entropy_from_log_probs(logP, Y) -> float:
    """Mean cross-entropy ``-sum(Y * logP) / N`` from log-probabilities logP (N, C)."""
    logP, Y = _check(logP, Y)
    return -float((Y * logP).sum()) / logP.shape[0]


def cross_entropy_with_logits(Z, Y) -> float:
    """Mean softmax cross-entropy of logits Z (N, C) against targets Y (N, C), without the gradient."""
    return cross_entropy_from_log_probs(log_softmax(Z), Y)


def softmax_cross_entropy(Z, Y):
    """Fused softmax + cross-entropy on logits Z (N, C).

    Returns ``(loss, P, dZ)``: the mean loss, the probabilities P (N, C) and the gradient of the
    mean loss with respect to Z, which simplifies to ``(P - Y) / N``.
    """
    Z, Y = _check(Z, Y)
    logP = log_softmax(Z)
    P = np.exp(logP)
    return cross_entropy_from_log_probs(logP, Y), P, softmax_cross_entropy_grad(P, Y)


def softmax_cross_entropy_grad(P, Y):
    """Gradient ``(P - Y) / N`` of the mean softmax cross-entropy with respect to the logits."""
    dZ = P - Y
    dZ /= P.shape[0]
    return dZ


def mean_squared_error(A, Y):
    """``(loss, dA)``: the loss ``sum((A - Y)**2) / (2 N)`` of outputs A (N, C) and its gradient ``(A - Y) / N``."""
    A, Y = _check(A, Y)
    D = A - Y
    N = A.shape[0]
    loss = float((D * D).sum()) / (2 * N)
    D /= N
    return loss, D


def __getattr__(name):
    # MeanSquaredError is a loss layer now (nnlib.layers, which imports this module); the old name still works.
    if name == "MeanSquaredError":
        from .layers import MeanSquaredError

        return MeanSquaredError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
