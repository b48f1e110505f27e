"""Checks of the first functions a learner writes: one-hot (notebook 02), sigmoid, softmax and cross-entropy (02)."""

from __future__ import annotations

import numpy as np

from ..functional import sigmoid as _sigmoid, softmax as _softmax  # the references the checks compare with
import warnings

from ._core import CheckResult, _close, _Fail, _number, _Raised, _run, _shape, _theirs


def _over_rows(Z):
    """exp(Z) / its row sums, with nothing subtracted (the checks' model of a learner's normalisation)."""
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def check_one_hot(one_hot) -> CheckResult:
    """``one_hot(y, num_classes=10)``: rows are examples, a single 1 in column ``y[i]``, floats."""
    one_hot = _theirs(one_hot)
    y = np.array([3, 0, 9, 3, 7])

    def shape():
        _shape(one_hot(y), (5, 10), "Rows are examples: one row per label, one column per class.")

    def ones_in_place():
        Y = np.asarray(one_hot(y))
        if not np.isin(Y, (0, 1)).all() or not (Y.sum(axis=1) == 1).all():
            raise _Fail("each row must hold exactly one 1 and nine 0s.")
        if not (Y.argmax(axis=1) == y).all():
            raise _Fail(
                f"row i must have its 1 in column y[i]; for y = {y.tolist()} yours are in columns "
                f"{Y.argmax(axis=1).tolist()}."
            )

    def floats():
        if not np.issubdtype(np.asarray(one_hot(y)).dtype, np.floating):
            raise _Fail(
                "return floats (e.g. np.zeros(..., dtype=np.float32)): Y is subtracted from "
                "probabilities, and integer arrays would round."
            )

    def num_classes():
        _shape(one_hot(np.array([1, 2]), num_classes=3), (2, 3), "")

    def out_of_range():
        for bad in (np.array([-1]), np.array([10])):  # -1 first: no check at all gets the -1 hint
            try:
                one_hot(bad)
            except _Raised as raised:
                if isinstance(raised.error, IndexError) and bad[0] == 10:
                    raise _Fail(
                        "one_hot([10]) failed with an IndexError from the indexing, not with your own check: "
                        "10 is out of range too, since the valid labels are 0 to num_classes - 1. Check "
                        "y >= num_classes (not y > num_classes) and raise a ValueError."
                    ) from None
                if isinstance(raised.error, (ValueError, IndexError)):
                    continue
                raise
            raise _Fail(
                f"one_hot({bad.tolist()}) gave no error. A label of -1 silently becomes class 9 with "
                "np.eye(10)[y]: check that 0 <= y < num_classes and raise a ValueError."
            )

    def hint_on_error(error):
        if "truth value of an array" in str(error):
            return (
                "`if y < 0 or y >= num_classes:` asks one question of a whole array: ask whether any label is out "
                "of range, `if np.any(y < 0) or np.any(y >= num_classes):`."
            )
        return ""

    return _run(
        "one_hot",
        [
            ("shape (N, 10)", shape),
            ("a single 1 in column y[i]", ones_in_place),
            ("float output", floats),
            ("num_classes=3", num_classes),
            ("labels 10 and -1 are errors", out_of_range),
        ],
        hint_on_error,
    )


def check_sigmoid(sigmoid) -> CheckResult:
    """``sigmoid(Z)``: elementwise 1 / (1 + exp(-Z)), any shape, no overflow for |Z| = 1000."""
    sigmoid = _theirs(sigmoid)
    Z = np.linspace(-8, 8, 17).reshape(1, 17)

    def values():
        out = sigmoid(Z)
        if np.shape(out) != Z.shape:
            raise _Fail(f"sigmoid must keep the shape of its input: got {np.shape(out)} for {Z.shape}.")
        if _close(out, 1 - _sigmoid(Z)):
            raise _Fail(
                "your values are 1 - sigmoid(z). Either a sign: the formula is 1 / (1 + exp(-z)), with a "
                "minus sign; or the two formulas swapped: with E = exp(-|z|), 1 / (1 + E) is for z >= 0 "
                "and E / (1 + E) for z < 0 (np.where(Z >= 0, first, second))."
            )
        if not _close(out, _sigmoid(Z)):
            raise _Fail("your values differ from 1 / (1 + exp(-z)); try z = 0 (0.5) and z = 2 (0.881).")

    def extremes():
        out = np.asarray(sigmoid(np.array([-1000.0, 0.0, 1000.0])), dtype=np.float64)
        if not np.isfinite(out).all() or not _close(out, [0.0, 0.5, 1.0]):
            raise _Fail(f"sigmoid([-1000, 0, 1000]) gave {out}; expected [0, 0.5, 1] with no warning.")

    return _run("sigmoid", [("values on [-8, 8]", values), ("z = -1000 and 1000 without overflow", extremes)])


def check_softmax(softmax) -> CheckResult:
    """``softmax(Z)``: row-wise on (N, C), rows sum to 1, no overflow for logits of 1000."""
    softmax = _theirs(softmax)
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(4, 3)) * 3

    def shape():
        _shape(softmax(Z), Z.shape, "")

    def rows_sum_to_1():
        P = np.asarray(softmax(Z), dtype=np.float64)
        if np.allclose(P.sum(axis=0), 1) and not np.allclose(P.sum(axis=1), 1):
            raise _Fail(
                "your rows do not sum to 1 but your columns do: sum over axis=1 (one row per example), keepdims=True."
            )
        if not np.allclose(P.sum(axis=1), 1):
            raise _Fail("each row of P must sum to 1: divide exp(Z) by its row's sum (axis=1, keepdims=True).")

    def values():
        P = softmax(Z)
        if _close(P, _over_rows(Z - Z.max(axis=0, keepdims=True))):
            raise _Fail(
                "you subtract each column's maximum (axis=0): subtract each row's own maximum instead, "
                "Z.max(axis=1, keepdims=True). A number subtracted from a whole row leaves its probabilities "
                "as they are; a different number for each entry of a row changes them."
            )
        if not _close(P, _softmax(Z)):
            raise _Fail(
                "your probabilities differ from exp(z_k) / sum_j exp(z_j) for the same row: take the maximum "
                "you subtract and the sum you divide by over axis=1 (each row, keepdims=True), and add "
                "nothing inside or outside the exp."
            )

    def large_logits():
        big = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 990.0], [1.0, 0.0, -5.0]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            P = np.asarray(softmax(big), dtype=np.float64)
        with np.errstate(all="ignore"):
            global_max = _over_rows(big - big.max())
        if np.isfinite(P[:2]).all() and np.isnan(P[2]).all() and np.isnan(global_max[2]).all():
            raise _Fail(
                "the row [1, 0, -5] came out as nan: you subtract the maximum of the whole array (1000), so "
                "every exp in that row underflows to 0 and you divide 0 by 0. Subtract each row's own maximum, "
                "Z.max(axis=1, keepdims=True)."
            )
        if not np.isfinite(P).all() or not _close(P, _softmax(big)):
            raise _Fail(
                "your softmax overflows for logits of 1000: subtract each row's maximum first "
                "(Z - Z.max(axis=1, keepdims=True)); the result does not change."
            )

    def one_row():
        _shape(softmax(Z[:1]), (1, 3), "")

    return _run(
        "softmax",
        [
            ("shape (N, C)", shape),
            ("each row sums to 1", rows_sum_to_1),
            ("values", values),
            ("logits of 1000", large_logits),
            ("a single row", one_row),
        ],
    )


def check_cross_entropy(cross_entropy) -> CheckResult:
    """``cross_entropy(P, Y)``: mean over rows of -sum(Y * log P); finite when P has zeros where Y = 0."""
    cross_entropy = _theirs(cross_entropy, lambda out: _number(out, "return one number, the mean over the rows"))
    rng = np.random.default_rng(2)
    P = _softmax(rng.normal(size=(5, 4)))
    Y = np.eye(4)[[0, 3, 1, 1, 2]]
    expected = -np.log(P[np.arange(5), [0, 3, 1, 1, 2]]).mean()

    def value():
        got = cross_entropy(P, Y)
        if np.isclose(got, -expected):
            raise _Fail("your loss is negative: cross-entropy is -sum(Y * log P); the minus sign makes it >= 0.")
        if np.isclose(got, expected / 4):
            raise _Fail(
                "your loss is 4 times too small for 4 classes: np.mean(Y * np.log(P)) divides by N * C, the "
                "number of entries. Sum over the classes (axis=1), then take the mean over the N rows."
            )
        if np.isclose(got, expected * 5):
            raise _Fail(
                "your loss is 5 times too large for 5 rows: divide by the number of examples N "
                "(the mean over rows, not the sum)."
            )
        if not np.isclose(got, expected, rtol=1e-6):
            raise _Fail(f"expected {expected:.6f} for this batch, got {got:.6f}: only each row's true class counts.")

    def zeros_elsewhere():
        P0 = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
        Y0 = np.eye(3)[[0, 1]]
        got = cross_entropy(P0, Y0)
        if not np.isfinite(got) or not np.isclose(got, np.log(2) / 2, rtol=1e-4):
            raise _Fail(
                f"for P = {P0.tolist()} the loss is log(2)/2 = 0.3466; you got {got}. A probability of 0 "
                "where Y = 0 gives 0 * log(0) = nan: clip P to [1e-12, 1] before the log."
            )

    return _run(
        "cross_entropy",
        [("the mean loss of a batch", value), ("probabilities of exactly 0 where Y = 0", zeros_elsewhere)],
    )
