"""Activations, their derivatives, one-hot encoding and the loss.

Conventions used everywhere in nnlib: examples are rows. ``X`` has shape
``(N, 784)``, pre-activations ``Z`` and activations ``A`` have shape
``(N, units)``, labels ``y`` have shape ``(N,)`` and one-hot targets ``Y``
have shape ``(N, classes)``.
"""

from __future__ import annotations

import numpy as np

from . import losses as _losses
from .inputs import as_labels
from .losses import log_softmax

__all__ = [
    "one_hot",
    "sigmoid",
    "sigmoid_grad",
    "relu",
    "relu_grad",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "softmax_cross_entropy",
    "accuracy",
]


def one_hot(y, num_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Encode labels ``y`` (N,) as one-hot rows ``Y`` (N, num_classes).

    Raises ValueError for labels that are not whole numbers, lie outside
    ``0..num_classes-1``, or do not form a vector.
    """
    y = as_labels(y, num_classes)
    Y = np.zeros((y.size, num_classes), dtype=dtype)
    Y[np.arange(y.size), y] = 1
    return Y


def sigmoid(Z):
    """Logistic function 1 / (1 + exp(-Z)), elementwise, without overflow.

    Computed as (1 + tanh(Z/2)) / 2, which is the same function but never
    evaluates exp of a large number.
    """
    Z = np.asarray(Z)
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def sigmoid_grad(Z):
    """Derivative of the sigmoid at ``Z``: s(Z) * (1 - s(Z))."""
    S = sigmoid(Z)
    return S * (1.0 - S)


def relu(Z):
    """max(Z, 0), elementwise."""
    return np.maximum(Z, 0)


def relu_grad(Z):
    """Derivative of ReLU at ``Z``: 1 where Z > 0, else 0 (we choose 0 at Z == 0)."""
    Z = np.asarray(Z)
    return (Z > 0).astype(Z.dtype)


def softmax(Z):
    """Row-wise softmax of logits ``Z`` (N, C) -> probabilities (N, C), rows sum to 1.

    Subtracting each row's maximum first leaves the result unchanged and keeps
    every exponent <= 0, so large logits cannot overflow.
    """
    Z = np.asarray(Z)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    E /= E.sum(axis=-1, keepdims=True)
    return E


def _check_targets(A, Y):
    A, Y = np.asarray(A), np.asarray(Y)
    if A.shape != Y.shape or A.ndim != 2:
        raise ValueError(f"predictions and one-hot targets must both have shape (N, C); got {A.shape} and {Y.shape}")
    return A, Y


def cross_entropy(P, Y) -> float:
    """Mean categorical cross-entropy -sum(Y * log P) / N of probabilities ``P`` (N, C).

    Probabilities are clipped at the smallest positive float of their dtype so
    that a confident wrong answer gives a large, finite loss.
    """
    P, Y = _check_targets(P, Y)
    tiny = np.finfo(P.dtype).tiny if np.issubdtype(P.dtype, np.floating) else 1e-300
    return float(-(Y * np.log(np.maximum(P, tiny))).sum() / P.shape[0])


def softmax_cross_entropy(Z, Y):
    """Fused softmax + cross-entropy on logits ``Z`` (N, C).

    Returns ``(loss, P, dZ)``: the mean loss, the probabilities and the
    gradient of the mean loss with respect to ``Z``, which is ``(P - Y) / N``.
    The same function as ``nnlib.losses.softmax_cross_entropy``, which models train with.
    """
    return _losses.softmax_cross_entropy(Z, Y)


def accuracy(P, y) -> float:
    """Fraction of rows of ``P`` (N, C) whose argmax equals the label.

    ``P`` may also be predicted labels (N,); ``y`` may be labels (N,) or one-hot (N, C).
    """
    P, y = np.asarray(P), np.asarray(y)
    if P.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise ValueError(
            f"accuracy needs probabilities (N, C) or predicted labels (N,), and labels (N,) or "
            f"one-hot rows (N, C); got shapes {P.shape} and {y.shape}"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        raise ValueError(f"labels of shape {y.shape} are one column, not one-hot rows: pass y.ravel()")
    if len(P) == 0:
        raise ValueError("the accuracy of no examples is undefined: pass at least one row")
    if P.ndim == 2 and y.ndim == 2 and P.shape[1] != y.shape[1]:
        raise ValueError(f"the predictions have {P.shape[1]} classes but the one-hot targets {y.shape[1]}")
    pred = P.argmax(axis=1) if P.ndim == 2 else P
    true = y.argmax(axis=1) if y.ndim == 2 else y
    if pred.shape != true.shape:
        raise ValueError(f"{pred.shape[0]} predictions but {true.shape[0]} labels")
    return float((pred == true).mean())
