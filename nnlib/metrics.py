"""Evaluation beyond accuracy: the confusion matrix and what it tells per class."""

from __future__ import annotations

import numpy as np

from .inputs import as_labels, positive_int

__all__ = ["confusion_matrix", "per_class_accuracy", "most_confident_mistakes"]


def confusion_matrix(y_true, y_pred, num_classes: int = 10) -> np.ndarray:
    """Counts C (num_classes, num_classes): C[i, j] = examples of class i predicted as j."""
    num_classes = positive_int(num_classes, "num_classes")
    y_true = as_labels(y_true, num_classes, name="y_true")
    y_pred = as_labels(y_pred, num_classes, name="y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be label vectors of one length; got {y_true.shape} and {y_pred.shape}"
        )
    C = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def per_class_accuracy(C) -> np.ndarray:
    """Fraction of each class predicted correctly (the recall), from a confusion matrix."""
    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(
            f"C must be a square confusion matrix (num_classes, num_classes), got shape {C.shape}; "
            f"make one with confusion_matrix(y_true, y_pred)"
        )
    return np.diag(C) / np.maximum(C.sum(axis=1), 1)


def most_confident_mistakes(P, y, k: int = 10) -> np.ndarray:
    """Indices of the k wrong predictions made with the highest probability, most confident first."""
    k = positive_int(k, "k")
    P = np.asarray(P)
    if P.ndim != 2 or not np.issubdtype(P.dtype, np.floating):
        raise ValueError(f"P must be probabilities (N, C), got shape {P.shape} and dtype {P.dtype}")
    y = as_labels(y, P.shape[1], name="y")
    if len(y) != len(P):
        raise ValueError(f"{len(P)} rows of probabilities but {len(y)} labels")
    pred = P.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(-P[wrong, pred[wrong]], kind="stable")][:k]
