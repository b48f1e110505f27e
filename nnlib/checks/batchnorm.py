"""Self-checks for notebook 13's pieces: batch normalisation's forward pass (training mode) and its backward pass.

Both work on a batch ``X (N, D)``, one example per row, with one ``gamma`` and one ``beta`` of shape ``(D,)`` per
feature. Every case runs on float64 inputs the learner does not see, with columns of very different means and
spreads, and ``N != D`` (so that a sum over the wrong axis shows in the shape) except in one square case (where a
per-row mean without ``keepdims`` broadcasts silently instead of raising). The backward pass is compared with float64
numerical gradients of ``sum(out * dout)`` for a **random** upstream gradient ``dout``: with ``dout`` all ones the
right ``dX`` is exactly zero (``sum(out)`` does not depend on X through the normalisation), and so is a ``dX`` that
forgot the variance path, which would pass. When a result differs, the check tests it against the typical wrong
versions to say which one it is.

| check | piece | signature checked |
|---|---|---|
| ``check_batchnorm_forward`` | 13 | ``batchnorm_forward(X, gamma, beta, eps=1e-5) -> (out, cache)``, batch statistics |
| ``check_batchnorm_backward`` | 13 | ``batchnorm_backward(dout, cache) -> (dX, dgamma, dbeta)``, with the learner's forward |
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient
from ._core import CheckResult, _Fail, _close, _items, _pair, _run, _theirs, _what

__all__ = ["check_batchnorm_forward", "check_batchnorm_backward"]

_TOL = 1e-6  # error (relative to the largest entry) that a correct float64 backward pass stays far below


_COMPACT = (
    "(with dxhat = dout * gamma and sums over axis=0) dX = (1 / (N * sigma)) * (N*dxhat - sum(dxhat) - "
    "x_hat * sum(dxhat * x_hat))"
)


def _error(got, want) -> float:
    """max |got - want| / max |want|: relative to the gradient's size, so that entries near 0 (where elementwise
    relative errors of numerical gradients are large) do not fail a correct answer."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12)) if got.shape == want.shape else np.inf


# -- references (float64) ---------------------------------------------------------------------------


def _forward(X, gamma, beta, eps=1e-5, axis=0, ddof=0, eps_outside=False, divide=True, keepdims=True):
    """Batch norm's training-mode output, and the wrong versions the hints name (by their keywords)."""
    X = np.asarray(X, np.float64)
    mu = X.mean(axis=axis, keepdims=keepdims)
    var = X.var(axis=axis, ddof=ddof, keepdims=keepdims)
    sigma = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    xhat = (X - mu) / sigma if divide else X - mu
    return gamma * xhat + beta


def _backward(dout, X, gamma, eps=1e-5, mean_path=True, var_path=True, eps_in_sigma=True):
    """(dX, dgamma, dbeta) of ``sum(out * dout)``; the keywords drop the paths the hints name."""
    dout, X = np.asarray(dout, np.float64), np.asarray(X, np.float64)
    N = len(X)
    mu, var = X.mean(axis=0), X.var(axis=0)
    sigma = np.sqrt(var + eps)
    xhat = (X - mu) / sigma
    dxhat = dout * gamma
    s = sigma if eps_in_sigma else np.sqrt(var)
    dX = N * dxhat
    if mean_path:
        dX = dX - dxhat.sum(axis=0)
    if var_path:
        dX = dX - xhat * (dxhat * xhat).sum(axis=0)
    return dX / (N * s), (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _case(rng, N=8, D=5, tiny=False):
    """X (N, D) with columns of different means and spreads (column 0: std 0.003 if ``tiny``), gamma and beta."""
    scale = np.array([0.5, 2.0, 1.0, 4.0, 0.8, 1.5, 3.0][:D])
    if tiny:
        scale[0] = 0.003
    X = rng.normal(size=(N, D)) * scale + rng.normal(size=D) * 3
    gamma = rng.uniform(0.5, 2.0, size=D) * rng.choice([-1.0, 1.0], size=D)
    beta = rng.normal(size=D)
    return X, gamma, beta


def _numerical(X, gamma, beta, dout, eps=1e-5):
    """Float64 central differences of ``sum(out * dout)`` with respect to X, gamma and beta.

    Batch norm treats every column on its own, so a nudge of X[i, j] changes column j alone, and only that
    column's part of the sum is evaluated (less rounding); the nudge is 1e-5 times the column's spread (a fixed
    step would be coarse for a column of spread 0.003 and needlessly fine for one of spread 4).
    """
    X, gamma, beta = (np.array(a, dtype=np.float64) for a in (X, gamma, beta))
    dout = np.asarray(dout, np.float64)
    f = lambda: float((_forward(X, gamma, beta, eps) * dout).sum())
    dX = np.zeros_like(X)
    for j in range(X.shape[1]):
        column = X[:, j : j + 1].copy()
        f_j = lambda: float((_forward(column, gamma[j : j + 1], beta[j : j + 1], eps) * dout[:, j : j + 1]).sum())
        dX[:, j] = numerical_gradient(f_j, column, h=1e-5 * float(column.std()))[:, 0]
    return dX, numerical_gradient(f, gamma), numerical_gradient(f, beta)


# -- forward ----------------------------------------------------------------------------------------


def _forward_hint(out, X, gamma, beta, eps) -> str:
    """Which typical mistake ``out`` (of the right shape) is, else a general hint."""
    square = X.shape[0] == X.shape[1]  # only then does a per-row mean without keepdims broadcast at all
    if _close(out, _forward(X, gamma, beta, eps, axis=1)) or (
        square and _close(out, _forward(X, gamma, beta, eps, axis=1, keepdims=False))
    ):
        return (
            "you normalised each row (each example) over its features: axis=1. Batch norm normalises each "
            "column (each feature) over the examples of the batch: mu = X.mean(axis=0), var = X.var(axis=0), "
            "both of shape (D,)."
        )
    if _close(out, _forward(X, gamma, beta, eps, ddof=1)):
        return (
            "you used the unbiased variance (ddof=1, dividing by N - 1). Batch norm uses the batch's own, "
            "biased variance, the mean of (X - mu)**2 over the batch: X.var(axis=0), which divides by N."
        )
    if _close(out, _forward(X, beta, gamma, eps)):
        return "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)."
    if _close(out, _forward(X, gamma, beta, eps, divide=False)):
        return (
            "you subtracted the mean but did not divide by the standard deviation: x_hat = (X - mu) / "
            "np.sqrt(var + eps), so that every column has variance 1 before gamma scales it."
        )
    if _close(out, _forward(X, gamma, beta, eps, eps_outside=True)):
        return (
            "eps is outside the square root: divide by np.sqrt(var + eps), not np.sqrt(var) + eps. The two "
            "differ little for a column of spread 1 and a lot for a column of small spread."
        )
    if _close(out, _forward(X, gamma, beta, 1e-5)) and eps != 1e-5:
        return (
            f"your result is right for eps=1e-5, but this case passed eps={eps}: use the argument eps, not "
            f"the number 1e-5."
        )
    if _close(out, _forward(X, gamma, beta, 0.0)):
        return "your result has no eps: divide by np.sqrt(var + eps), with the argument eps."
    if _close(out, _forward(X, np.ones_like(gamma), np.zeros_like(beta), eps)):
        return "your result ignores gamma and beta: out = gamma * x_hat + beta."
    return (
        "your values differ from out = gamma * (X - mu) / np.sqrt(var + eps) + beta with mu = X.mean(axis=0) "
        "and var = X.var(axis=0). Compute x_hat first and check that its columns have mean 0 and std 1."
    )


def check_batchnorm_forward(batchnorm_forward) -> CheckResult:
    """``batchnorm_forward(X, gamma, beta, eps=1e-5) -> (out, cache)``: batch norm in training mode (the batch's own
    per-feature mean and biased variance), out of X's shape (N, D); the cache is whatever the backward pass needs."""
    forward = _theirs(batchnorm_forward, lambda out: _pair(out, "batchnorm_forward must return a pair (out, cache)"))
    rng = np.random.default_rng(21)

    def compare(X, gamma, beta, eps=None):
        kwargs = {} if eps is None else {"eps": eps}
        eps = 1e-5 if eps is None else eps
        try:
            out, _ = forward(X, gamma, beta, **kwargs)
        except RuntimeWarning as warning:
            if "divide" in str(warning) or "invalid" in str(warning):
                raise _Fail(
                    f'NumPy warned "{warning}": a column with one value in every row has variance 0, '
                    f"and (X - mu) / np.sqrt(var) is 0 / 0 there. That is what eps is for: divide by "
                    f"np.sqrt(var + eps)."
                ) from None
            raise
        ref = _forward(X, gamma, beta, eps)
        if not isinstance(out, np.ndarray):
            raise _Fail(f"out must be a NumPy array; yours is {_what(out)}.")
        if out.shape != ref.shape:
            if out.shape == ref.shape[::-1]:
                raise _Fail(
                    f"out has shape {out.shape}, the transpose of X's {X.shape}: out has X's shape, "
                    f"one row per example."
                )
            raise _Fail(
                f"out has shape {out.shape}; it must have X's shape {X.shape}. (mu and var have shape (D,) "
                f"= ({X.shape[1]},), one per feature, and broadcast over the rows.)"
            )
        if not _close(out, ref):
            raise _Fail(_forward_hint(out, X, gamma, beta, eps))

    def square():
        X, gamma, beta = _case(rng, N=5, D=5)  # square: a per-row mean would broadcast without an error
        compare(X, np.ones(5), np.zeros(5))

    def constant():
        X, gamma, beta = _case(rng)
        X[:, 2] = 7.0
        compare(X, gamma, beta)

    X, gamma, beta = _case(rng)
    Xt, gt, bt = _case(rng, tiny=True)
    return _run(
        "batchnorm_forward",
        [
            ("gamma = 1, beta = 0, a square batch (5 examples, 5 features)", square),
            (
                "gamma = 1, beta = 0: each column of out has mean 0 and std 1",
                lambda: compare(X, np.ones(5), np.zeros(5)),
            ),
            ("any gamma and beta", lambda: compare(X, gamma, beta)),
            ("a column with the same value in every row (variance 0)", constant),
            ("a column with a small spread (std 0.003), where eps matters", lambda: compare(Xt, gt, bt)),
            ("eps=0.5 passed as an argument", lambda: compare(X, gamma, beta, eps=0.5)),
        ],
        hint_on_error=(
            "mu = X.mean(axis=0) and var = X.var(axis=0) have shape (D,), one per feature (column), and "
            "broadcast over the N rows of X (N, D); gamma and beta have shape (D,) too."
        ),
    )


# -- backward ---------------------------------------------------------------------------------------


def _param_hint(name, got, ref, N, D) -> str:
    got = np.asarray(got, np.float64)
    if got.shape == (N,):
        return (
            f"d{name} has shape ({N},), one number per example: you summed over axis=1. {name} has one entry "
            f"per feature, shape ({D},), and every example contributes to it: sum over the rows, axis=0."
        )
    if got.shape in ((1, D), (D, 1)):
        return f"d{name} has shape {got.shape}; it must have {name}'s shape ({D},): sum over axis=0 without keepdims."
    if got.shape != ref.shape:
        return f"d{name} has shape {got.shape}; a gradient has its parameter's shape, ({D},)."
    if _close(got, ref / N):
        return (
            f"d{name} is a mean over the batch, {N} times too small: every example contributes its own term, so "
            f"sum over axis=0 (dout already holds the 1/N of the mean loss)."
        )
    return ""


def check_batchnorm_backward(batchnorm_backward, batchnorm_forward) -> CheckResult:
    """``batchnorm_backward(dout, cache) -> (dX, dgamma, dbeta)``, the gradients of ``sum(out * dout)``, where
    ``out, cache = batchnorm_forward(X, gamma, beta, eps)`` (the learner's own forward pass, checked first).

    Compared with float64 numerical gradients for a random upstream gradient ``dout``.
    """
    forward = _theirs(batchnorm_forward, lambda out: _pair(out, "batchnorm_forward must return a pair (out, cache)"))
    backward = _theirs(
        batchnorm_backward,
        lambda out: _items(out, 3, "batchnorm_backward must return three arrays (dX, dgamma, dbeta)"),
    )
    rng = np.random.default_rng(22)
    cases = {"plain": _case(rng), "tiny": _case(rng, tiny=True)}
    douts = {name: rng.normal(size=case[0].shape) for name, case in cases.items()}
    numerical = {name: _numerical(*case, douts[name]) for name, case in cases.items()}

    def run(name):
        X, gamma, beta = cases[name]
        out, cache = forward(X.copy(), gamma.copy(), beta.copy())
        if not (isinstance(out, np.ndarray) and _close(out, _forward(X, gamma, beta))):
            raise _Fail(
                "your batchnorm_forward does not give the right output on this batch, and the backward pass "
                "is checked on its cache: make check_batchnorm_forward pass first."
            )
        dX, dgamma, dbeta = backward(douts[name].copy(), cache)
        return (X, gamma, douts[name]), (dX, dgamma, dbeta), numerical[name]

    def param(index, key):
        (X, gamma, dout), mine, ref = run("plain")
        got, want = mine[index], ref[index]
        N, D = X.shape
        if got is None or _error(got, want) >= _TOL:
            hint = _param_hint(key, got, want, N, D)
            if not hint and key == "gamma":
                xhat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + 1e-5)
                if _close(got, dout.sum(axis=0)):
                    hint = "dgamma is the sum of dout alone: gamma multiplies x_hat, so dgamma = sum(dout * x_hat, axis=0)."
                elif _close(got, (dout * X).sum(axis=0)):
                    hint = "dgamma used X, not x_hat: gamma multiplies the normalised x_hat, so dgamma = sum(dout * x_hat, axis=0)."
                elif _close(got, (dout * xhat * gamma).sum(axis=0)):
                    hint = "dgamma has an extra factor gamma: out = gamma * x_hat + beta, so dgamma = sum(dout * x_hat, axis=0)."
            if not hint and key == "beta" and _close(got, np.zeros_like(want)):
                hint = "dbeta is zero: beta is added to every row, so dbeta = dout.sum(axis=0)."
            raise _Fail(
                hint
                or (
                    f"d{key} differs from the numerical gradient (largest difference {_error(got, want):.1e} "
                    f"of its largest entry); "
                    + ("dgamma = sum(dout * x_hat, axis=0)." if key == "gamma" else "dbeta = sum(dout, axis=0).")
                )
            )

    def dX(name):
        (X, gamma, dout), (got, _, _), (want, _, _) = run(name)
        if got is None or np.shape(got) != X.shape:
            raise _Fail(f"dX has shape {np.shape(got)}; a gradient has its input's shape, X's {X.shape}.")
        got = np.asarray(got, np.float64)
        if _error(got, want) < _TOL:
            return
        N = len(X)
        wrong = [
            (
                dict(mean_path=False, var_path=False),
                "your dX is only the direct term gamma / sigma * dout: it treats mu and sigma as constants. But every "
                "row of X moves the batch's mean and variance, which move every x_hat in the column; add the two "
                "paths through mu and through var: " + _COMPACT + ".",
            ),
            (
                dict(var_path=False),
                "your dX misses the path through the variance: the term - x_hat * sum(dxhat * x_hat, axis=0) inside "
                "the bracket. (With dout all ones this mistake is invisible: both dX are 0.)",
            ),
            (
                dict(mean_path=False),
                "your dX misses the path through the mean: the term - sum(dxhat, axis=0) inside the bracket of "
                + _COMPACT
                + ".",
            ),
            (
                dict(eps_in_sigma=False),
                "your dX divides by np.sqrt(var) without eps. The forward pass divided by sigma = np.sqrt(var + eps); "
                "the backward pass must use the same sigma (keep 1/sigma in the cache). It shows on this column of "
                "small spread.",
            ),
        ]
        for kwargs, hint in wrong:
            if _close(got, _backward(dout, X, gamma, **kwargs)[0]):
                raise _Fail(hint)
        if _close(got, want * N):
            raise _Fail(
                f"dX is {N} times too large: the compact form has a factor 1/N in front (the mean and the "
                f"variance are averages over the N rows)."
            )
        if _close(got, want / N):
            raise _Fail(
                f"dX is {N} times too small: the factor 1/N appears once, in front of the bracket; inside it "
                f"the direct term is N * dxhat."
            )
        if _close(got, _backward(dout, X, np.ones_like(gamma))[0]):
            raise _Fail("your dX leaves out gamma: the gradient reaching x_hat is dxhat = dout * gamma.")
        if _close(got, want * gamma):
            raise _Fail(
                "your dX has gamma twice: dxhat = dout * gamma already holds it, so the factor in front of "
                "the bracket is 1 / (N * sigma). (Written with dout instead: gamma / (N * sigma) * (N*dout "
                "- sum(dout) - x_hat * sum(dout * x_hat)).)"
            )
        raise _Fail(
            f"dX differs from the numerical gradient (largest difference {_error(got, want):.1e} of its "
            f"largest entry; a correct one is below {_TOL:.0e}). The compact form: {_COMPACT}."
        )

    return _run(
        "batchnorm_backward",
        [
            ("dbeta, a random upstream gradient", lambda: param(2, "beta")),
            ("dgamma, a random upstream gradient", lambda: param(1, "gamma")),
            ("dX against float64 numerical gradients, a random upstream gradient", lambda: dX("plain")),
            ("dX with a column of small spread (std 0.003), where eps matters", lambda: dX("tiny")),
        ],
        hint_on_error=(
            "the backward pass works per column: sums over axis=0 have shape (D,) and broadcast over the "
            "N rows. Keep in the cache what it needs (x_hat, gamma, 1/sigma)."
        ),
    )
