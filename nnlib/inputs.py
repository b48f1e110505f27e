"""One check for everything a user hands to nnlib: features X, labels y, targets Y, and sizes.

Every function either returns the input as an array fit for use, or raises a ``ValueError`` (or
``TypeError``) that says what is wrong and what to do; none of them changes its argument.

- :func:`as_features`: X (N, *shape) of floats (any per-example shape: (N, 784), (N, 1, 28, 28)), N >= 1,
  finite, cast to the model's dtype
- :func:`as_labels`: y (N,) of whole numbers in 0..C-1, as int64
- :func:`as_targets`: labels (N,) or one-hot rows (N, C) -> one-hot Y (N, C) of the model's dtype, and labels y (N,)
- :func:`positive_int`, :func:`positive_float`: settings such as batch sizes and learning rates

Used by ``Model``, ``PerExampleNetwork``, ``fit``, ``evaluate``, the metrics and the widgets alike.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["as_features", "as_labels", "as_targets", "positive_int", "positive_float"]

# One-hot rows (and soft targets) must sum to 1 within this tolerance.
ROW_SUM_TOL = 1e-4


def _where(mask) -> str:
    rows = np.flatnonzero(mask.reshape(len(mask), -1).any(axis=1) if mask.ndim > 1 else mask)
    return f"rows {rows[:5].tolist()}" + (" ..." if len(rows) > 5 else "")


def _shape_str(shape) -> str:
    return "(N, " + ", ".join(str(n) for n in shape) + ")"


def as_features(X, shape=None, dtype=None, name: str = "X") -> np.ndarray:
    """X as a float array of shape (N, *shape) with N >= 1 and no NaN or infinity, cast to ``dtype``.

    ``shape`` is the per-example shape, without N: ``(784,)`` (or the int 784) for an mlp,
    ``(1, 28, 28)`` for a convolutional network, or None for any shape (X must then still have an
    example axis first, ndim >= 2). Raises ValueError for the wrong shape (saying which shape was
    expected and which came, and suggesting ``X.T`` or a reshape when they would fit), for no rows,
    for integer pixels (suggesting to divide by 255) and for NaN or infinite values.
    """
    X = np.asarray(X)
    if shape is not None:
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
        if X.shape[1:] != shape or X.ndim < 2:
            if X.ndim == 2 and len(shape) == 1 and X.shape[0] == shape[0]:
                hint = " (examples are rows: did you mean X.T?)"
            elif X.shape == shape:
                hint = f" (one example? pass {name}[None], a batch of one)"
            elif X.ndim >= 2 and math.prod(X.shape[1:]) == math.prod(shape):
                hint = (
                    f" (the same values per example: did you mean "
                    f"{name}.reshape(len({name}), {', '.join(map(str, shape))})?)"
                )
            else:
                hint = ""
            raise ValueError(f"{name} must have shape {_shape_str(shape)}, got {X.shape}{hint}")
    elif X.ndim < 2:
        raise ValueError(f"{name} must have examples first, shape (N, ...), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows (shape {X.shape}): pass at least one example")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"{name} must hold floats (scaled pixels), got dtype {X.dtype}; "
            f"load it with load_mnist(normalize=True) or divide by 255"
        )
    # A sum is NaN or infinite whenever one of its terms is, and costs one fast pass; the exact
    # (slower) elementwise test only runs to say where the bad values are (or if the sum overflowed).
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf, or an overflow: handled below
        total = X.sum()
    if not np.isfinite(total):
        bad = ~np.isfinite(X)
        if bad.any():
            raise ValueError(
                f"{name} contains NaN or infinite values ({int(bad.sum())} of them, in "
                f"{_where(bad)}); remove or repair those examples first"
            )
    return X if dtype is None else X.astype(dtype, copy=False)


def as_labels(y, num_classes: int | None = None, name: str = "labels") -> np.ndarray:
    """Check that ``y`` is a vector of whole-number class labels (in 0..num_classes-1); return it as int64."""
    y = np.asarray(y)
    if y.ndim != 1:
        hint = (
            " (a column of labels? pass y.ravel())"
            if y.ndim == 2 and y.shape[1] == 1
            else " (one-hot rows? pass Y.argmax(axis=1))"
            if y.ndim == 2
            else ""
        )
        raise ValueError(f"{name} must have shape (N,), got shape {y.shape}{hint}")
    if y.dtype == bool or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"{name} must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(
                f"{name} must be whole numbers; found {y[bad][:5].tolist()} "
                f"at positions {np.flatnonzero(bad)[:5].tolist()}"
            )
    if num_classes is not None and y.size:
        bad = (y < 0) | (y >= num_classes)
        if bad.any():
            raise ValueError(
                f"{name} must lie in 0..{num_classes - 1}; found {y[bad][:5].tolist()} "
                f"at positions {np.flatnonzero(bad)[:5].tolist()}"
            )
    return y.astype(np.int64)


def as_targets(Y, n: int, num_classes: int, dtype=np.float32, name: str = "X") -> tuple:
    """Targets for ``n`` examples of ``num_classes`` classes, as ``(Y one-hot (n, C) of dtype, y labels (n,))``.

    ``Y`` may be labels (n,) (whole numbers in 0..C-1) or rows (n, C) that are non-negative and sum
    to 1 (one-hot, or soft targets; their labels are the argmax). ``name`` names the features the
    targets belong to, for the error messages.
    """
    Y = np.asarray(Y)
    shape_msg = (
        f"targets for {name} must be labels (N,) or one-hot (N, {num_classes}) with N = {n}; got shape {Y.shape}"
    )
    if Y.ndim == 1:
        if len(Y) != n:
            raise ValueError(shape_msg)
        y = as_labels(Y, num_classes, name=f"labels for {name}")
        onehot = np.zeros((n, num_classes), dtype=dtype)
        onehot[np.arange(n), y] = 1
        return onehot, y
    if Y.shape != (n, num_classes):
        raise ValueError(shape_msg)
    if Y.dtype == bool or not (np.issubdtype(Y.dtype, np.integer) or np.issubdtype(Y.dtype, np.floating)):
        raise ValueError(f"one-hot targets for {name} must be numbers, got dtype {Y.dtype}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(Y) | (Y < 0)
    if bad.any():
        raise ValueError(f"one-hot targets for {name} must be finite and >= 0; bad values in {_where(bad)}")
    sums = Y.sum(axis=1, dtype=np.float64)
    bad = np.abs(sums - 1) > ROW_SUM_TOL
    if bad.any():
        raise ValueError(
            f"one-hot targets for {name} must have rows summing to 1; {_where(bad)} sum to "
            f"{sums[bad][:5].tolist()}. Pass labels (N,) or nnlib.one_hot(labels, {num_classes})"
        )
    return Y.astype(dtype, copy=False), Y.argmax(axis=1)


def positive_int(value, name: str, allow_none: bool = False):
    """``value`` as an int >= 1 (or None if allowed); ValueError otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{extra}, got {value!r}")
    return int(value)


def positive_float(value, name: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``); ValueError otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else 'positive'} and finite, got {value!r}")
    return v


def fraction(value, name: str) -> float:
    """``value`` as a float in [0, 1); ValueError otherwise (for betas, rho, momentum, dropout)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not 0 <= v < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return v
