"""Checks of notebook 01's pieces: the loss and gradient of logistic regression, and one gradient-descent step.

``check_loss_and_grad`` compares the learner's gradient with a central-difference gradient of the reference loss,
computed in float64 on small random inputs (never MNIST), so its verdict is the same on every machine. When they
differ, the learner's result is compared with the typical wrong versions (sign, 1/N, X instead of X.T, the squared
error's gradient, ...) to name the probable mistake.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ..functional import sigmoid as _sigmoid  # the reference the check compares with
from ._core import CheckResult, _Fail, _items, _number, _run, _yours

_CLIP = 1e-7  # the reference clips p to [1e-7, 1 - 1e-7]: representable in float32 as well


def _loss(w, b, X, y):
    p = np.clip(_sigmoid(X @ w + b), _CLIP, 1 - _CLIP)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _problem(N=7, D=5, seed=3):
    """A small float64 problem: X (N, D), y in {0, 1} with both classes, w (D,), b, every |z| below 3."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0][:N], dtype=np.float64)
    w = rng.normal(size=D) * 0.4
    return X, y, w, 0.3


def _triple(out):
    return _items(out, 3, "loss_and_grad must return three things, (loss, dw, db)")


def check_loss_and_grad(loss_and_grad) -> CheckResult:
    """``loss_and_grad(w, b, X, y) -> (loss, dw, db)``: mean binary cross-entropy of p = sigmoid(X @ w + b), and its
    gradients dw = X.T @ (p - y) / N (shape (D,)) and db = mean(p - y), against a float64 numerical gradient."""

    def call(w, b, X, y):
        loss, dw, db = _triple(_yours(loss_and_grad, w.copy(), b, X.copy(), y.copy()))
        return loss, dw, db

    X, y, w, b = _problem()
    N, D = X.shape
    p = _sigmoid(X @ w + b)

    def loss_value():
        loss, _, _ = call(w, b, X, y)
        loss = _number(loss, "the loss must be one number, the mean over the examples")
        ref = _loss(w, b, X, y)
        if np.isclose(loss, ref * N, rtol=1e-6):
            raise _Fail(
                f"your loss is {N} times too large for {N} examples: it must be the mean over the examples "
                f"(np.mean, or the sum divided by N), not the sum."
            )
        if np.isclose(loss, -ref, rtol=1e-6):
            raise _Fail(
                "your loss is negative: the cross-entropy is -mean(y log p + (1 - y) log(1 - p)); the minus "
                "sign makes it positive."
            )
        if np.isclose(loss, np.mean((p - y) ** 2), rtol=1e-6) or np.isclose(loss, np.mean((p - y) ** 2) / 2, rtol=1e-6):
            raise _Fail(
                "your loss is the squared error mean((p - y)**2): this model is trained on the binary "
                "cross-entropy, -mean(y log p + (1 - y) log(1 - p))."
            )
        if not np.isclose(loss, ref, rtol=1e-6):
            raise _Fail(
                f"expected a loss of {ref:.6f} on this small batch, got {loss:.6f}. Check p = sigmoid(X @ w + b) "
                f"and both terms, y * log(p) and (1 - y) * log(1 - p)."
            )

    def shapes():
        _, dw, db = call(w, b, X, y)
        shape = np.shape(dw)
        if shape == (N,):
            raise _Fail(
                f"dw has shape {shape}, one number per example; it must have w's shape ({D},). The sum over "
                f"the examples is in the matrix product: dw = X.T @ (p - y) / N."
            )
        if shape in ((D, 1), (1, D)):
            raise _Fail(
                f"dw has shape {shape}; w has shape ({D},). Keep p - y one-dimensional, (N,), so that "
                f"X.T @ (p - y) has shape ({D},)."
            )
        if shape != (D,):
            raise _Fail(f"dw has shape {shape}; it must have w's shape ({D},): dw = X.T @ (p - y) / N.")
        if np.ndim(db) != 0:
            if np.shape(db) == (N,):
                raise _Fail(
                    f"db has shape {np.shape(db)}, one number per example: b is one number, so db is one "
                    f"number too, the mean of p - y over the examples."
                )
            raise _Fail(f"db must be one number (b is one number); yours has shape {np.shape(db)}.")

    def gradient():
        _, dw, db = call(w, b, X, y)
        dw, db = np.asarray(dw, dtype=np.float64), float(db)
        wv, bv = w.copy(), np.array([b])
        num_w = numerical_gradient(lambda: _loss(wv, bv[0], X, y), wv)
        num_b = numerical_gradient(lambda: _loss(wv, bv[0], X, y), bv)[0]
        ok_w, ok_b = rel_error(dw, num_w) < 1e-6, rel_error(db, num_b) < 1e-6
        if ok_w and ok_b:
            return
        err, ref_w, ref_db = p - y, X.T @ (p - y) / N, float(np.mean(p - y))
        close = lambda a, r: np.allclose(a, r, rtol=1e-5, atol=1e-12)
        sign = (
            "your {} has the wrong sign: the error is p - y, the prediction minus the target, not y - p. "
            "dw = X.T @ (p - y) / N and db = mean(p - y)."
        )
        if not ok_w:
            if close(dw, -ref_w):
                raise _Fail(sign.format("dw"))
            if close(dw, ref_w * N):
                raise _Fail(
                    f"dw is {N} times too large on {N} examples: the loss is a mean, so divide X.T @ (p - y) by N."
                )
            if close(dw, ref_w / N):
                raise _Fail(f"dw is {N} times too small: divide X.T @ (p - y) by N once, not twice.")
            for factor in (1.0, 2.0, 0.5):
                if close(dw, factor * X.T @ (err * p * (1 - p)) / N):
                    raise _Fail(
                        "your dw has an extra factor p * (1 - p): that is the gradient of the squared error. "
                        "With the cross-entropy that factor cancels against the derivative of the log: "
                        "dL/dz = p - y, so dw = X.T @ (p - y) / N."
                    )
            raise _Fail(
                f"dw differs from the numerical gradient (rel_error {rel_error(dw, num_w):.1e}; a correct one "
                f"is below 1e-6). It is dw = X.T @ (p - y) / N: X.T, the transpose, sums each pixel's "
                f"column times the errors p - y."
            )
        if np.isclose(db, -ref_db, rtol=1e-5):
            raise _Fail(sign.format("db"))
        if np.isclose(db, ref_db * N, rtol=1e-5):
            raise _Fail(f"db is {N} times too large: it is the mean of p - y over the examples, not the sum.")
        if np.isclose(db, ref_db / N, rtol=1e-5):
            raise _Fail(f"db is {N} times too small: it is the mean of p - y, sum(p - y) / N, divided once.")
        raise _Fail(
            f"db differs from the numerical gradient ({db:.6g}, numerically {num_b:.6g}): db = mean(p - y), "
            f"the average error (b's input is 1 for every example)."
        )

    def square_transposed():
        """With N == D, X @ (p - y) runs without an error but is the wrong product."""
        Xs, ys, ws, bs = _problem(N=5, D=5, seed=4)
        ps = _sigmoid(Xs @ ws + bs)
        _, dw, _ = call(ws, bs, Xs, ys)
        ref = Xs.T @ (ps - ys) / 5
        if np.allclose(np.asarray(dw, dtype=np.float64), Xs @ (ps - ys) / 5, rtol=1e-5):
            raise _Fail(
                "dw is X @ (p - y) / N, which runs only because this X is square: it must be X.T @ (p - y) / N, "
                "X's transpose, so that each pixel's column of X meets the errors."
            )
        if not np.allclose(np.asarray(dw, dtype=np.float64), ref, rtol=1e-5):
            raise _Fail("dw is wrong on a batch of 5 examples with 5 pixels; it must be X.T @ (p - y) / N.")

    def saturated():
        """p of exactly 0 and 1 (|z| = 50): log(0) must not happen, in float64 and in float32."""
        Xs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
        ys = np.array([0.0, 1.0, 1.0, 0.0])
        ws = np.array([50.0, -50.0])
        for dtype in (np.float64, np.float32):
            try:
                loss, dw, db = _triple(
                    _yours(loss_and_grad, ws.astype(dtype), dtype(0.0), Xs.astype(dtype), ys.astype(dtype))
                )
                loss = _number(loss, "the loss must be one number, the mean over the examples")
            except RuntimeWarning as warning:
                if "overflow" in str(warning):
                    raise
                raise _Fail(_clip_hint(dtype)) from None
            if not np.isfinite(loss):
                raise _Fail(_clip_hint(dtype))
            if not (np.all(np.isfinite(np.asarray(dw, dtype=np.float64))) and np.isfinite(float(db))):
                raise _Fail(
                    "your gradient is not finite when some p are exactly 0 or 1: compute it from p - y, "
                    "with p itself (not the clipped p in a division)."
                )

    return _run(
        "loss_and_grad",
        [
            ("the loss on a batch of 7 examples", loss_value),
            ("the shapes of dw and db", shapes),
            ("dw and db against a numerical gradient (float64)", gradient),
            ("a square X (N = D = 5)", square_transposed),
            ("p of exactly 0 and 1, in float64 and float32", saturated),
        ],
        hint_on_error="check the shapes: X is (N, D), w is (D,), p and y are (N,); dw = X.T @ (p - y) / N has "
        "w's shape (X @ (p - y) works only when N == D).",
    )


def _clip_hint(dtype) -> str:
    if dtype == np.float32:
        return (
            "in float32 your loss is inf or nan when p is exactly 1: 1 - 1e-12 rounds to 1.0 in float32 (its "
            "spacing near 1 is 6e-8), so clipping to 1 - 1e-12 leaves p at 1 and log(1 - p) = log(0). Clip to "
            "[1e-7, 1 - 1e-7] instead."
        )
    return (
        "your loss is inf or nan when a prediction is exactly 0 or 1 (log(0) = -inf, and 0 * log(0) = nan): "
        "clip p to [1e-7, 1 - 1e-7] before taking the logs (the gradient keeps the unclipped p)."
    )


def check_gd_step(gd_step) -> CheckResult:
    """``gd_step(w, b, dw, db, lr) -> (w, b)``: new arrays w - lr * dw and b - lr * db; the inputs stay unchanged."""
    rng = np.random.default_rng(5)
    w, dw = rng.normal(size=6), rng.normal(size=6)
    b, db, lr = 0.7, -1.3, 0.1

    def call(w_, b_, dw_, db_, lr_):
        out = _yours(gd_step, w_, b_, dw_, db_, lr_)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise _Fail(
                "gd_step must return the new pair (w, b); yours returned "
                + ("None: did you forget the return?" if out is None else f"a {type(out).__name__}.")
            )
        return out

    def values():
        new_w, new_b = call(w.copy(), b, dw.copy(), db, lr)
        new_w = np.asarray(new_w, dtype=np.float64)
        if new_w.shape != w.shape:
            raise _Fail(f"the new w has shape {new_w.shape}; it must keep w's shape {w.shape}.")
        close = lambda a, r: np.allclose(a, r, rtol=1e-10, atol=1e-12)
        if close(new_w, w + lr * dw):
            raise _Fail(
                "your step goes uphill: the gradient points to where the loss grows, so subtract it, w - lr * dw."
            )
        if close(new_w, w - dw):
            raise _Fail("your step forgets the learning rate: w - lr * dw, not w - dw.")
        if close(new_w, w - lr * lr * dw):
            raise _Fail("your step multiplies by lr twice (lr**2 * dw): multiply dw by lr once.")
        if not close(new_w, w - lr * dw):
            raise _Fail("the new w should be w - lr * dw.")
        new_b = _number(new_b, "the new b must be one number")
        if np.isclose(new_b, b):
            raise _Fail("b is not updated: return b - lr * db as well.")
        if np.isclose(new_b, b + lr * db):
            raise _Fail("your b moves uphill: b - lr * db, not b + lr * db.")
        if not np.isclose(new_b, b - lr * db, rtol=1e-10):
            raise _Fail("the new b should be b - lr * db.")

    def inputs_unchanged():
        w_in, dw_in = w.copy(), dw.copy()
        new_w, _ = call(w_in, b, dw_in, db, lr)
        if not np.array_equal(w_in, w) or new_w is w_in:
            raise _Fail(
                "your gd_step changed the caller's w in place (w -= lr * dw, or w[...] = ...): return a new "
                "array, w - lr * dw, and leave the inputs as they were (the training loop keeps the old w "
                "where it needs it)."
            )
        if not np.array_equal(dw_in, dw):
            raise _Fail("your gd_step changed dw in place (dw *= lr?): compute lr * dw as a new array.")

    def lr_used():
        new_w, new_b = call(w.copy(), b, dw.copy(), db, 0.5)
        if not np.allclose(np.asarray(new_w, dtype=np.float64), w - 0.5 * dw, rtol=1e-10):
            raise _Fail("with lr = 0.5 the new w is not w - 0.5 * dw: use the lr passed in, not a fixed number.")

    return _run(
        "gd_step",
        [
            ("one step, w and b", values),
            ("the inputs are not modified", inputs_unchanged),
            ("another learning rate", lr_used),
        ],
    )
