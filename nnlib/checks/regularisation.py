"""Self-check for notebook 11's piece: inverted dropout, forward and backward.

``dropout_forward(A, p, rng) -> (out, mask)`` zeroes each entry of A with probability ``p`` and scales the rest by
``1 / (1 - p)``: ``mask = keep / (1 - p)`` and ``out = A * mask``, of A's shape and dtype, A left as it is.
``dropout_backward(dout, mask) -> dA`` is ``dout * mask``. Every case is deterministic: the statistical ones (the
fraction dropped, the scale of what is kept) run on 60,000 entries drawn from fixed seeds, where the measured fraction
lies within 0.01 of ``p`` (more than five standard deviations), and the rest are exact relations (``out == A * mask``,
zeros exactly where the mask is 0). When a case fails, the check tests the result against the typical wrong versions
(no rescaling, scaling by ``1 - p``, keeping with probability ``p``, a float64 mask, ...) to say which one it is.

| check | piece | signature checked |
|---|---|---|
| ``check_dropout`` | 11 | ``dropout_forward(A, p, rng) -> (out, mask)``, ``dropout_backward(dout, mask) -> dA`` |
"""

from __future__ import annotations

import numpy as np

from ._core import CheckResult, _draws_from_rng, _Fail, _pair, _run, _theirs, _what

__all__ = ["check_dropout"]

_SHAPE = (300, 200)  # 60,000 entries: the fraction dropped has a standard deviation below 0.002
_SLACK = 0.01  # how far the measured fraction may lie from p


def _activations(dtype=np.float32, seed=3):
    """Positive activations (none is 0, so a zero in the output can only come from the mask)."""
    return (np.random.default_rng(seed).random(_SHAPE) + 0.5).astype(dtype)


def _unique(values) -> np.ndarray:
    """The distinct values among ``values``, merged where they agree to 1e-5 (float32 rounding)."""
    return np.unique(np.asarray(values, np.float64).round(5))


def check_dropout(dropout_forward, dropout_backward) -> CheckResult:
    """``dropout_forward(A, p, rng) -> (out, mask)`` (inverted dropout: ``mask = keep / (1 - p)``, ``keep`` true with
    probability ``1 - p``, ``out = A * mask`` of A's dtype, A unchanged) and ``dropout_backward(dout, mask) -> dout *
    mask``."""
    forward = _theirs(dropout_forward, lambda out: _pair(out, "dropout_forward must return a pair (out, mask)"))
    backward = _theirs(dropout_backward)

    def run(p=0.3, dtype=np.float32, seed=5, rng=None):
        A = _activations(dtype)
        before = A.copy()
        out, mask = forward(A, p, np.random.default_rng(seed) if rng is None else rng)
        return A, before, out, mask

    def shapes():
        A, _, out, mask = run()
        if not isinstance(out, np.ndarray):
            raise _Fail(f"out must be a NumPy array of A's shape; yours is {_what(out)}.")
        if out.shape != A.shape:
            raise _Fail(
                f"out has shape {out.shape}; expected A's shape {A.shape}: dropout zeroes entries, it does "
                f"not change the shape. Draw the random numbers with rng.random(A.shape)."
            )

    def unchanged():
        A, before, out, mask = run()
        if not np.array_equal(A, before):
            raise _Fail(
                "your function changed A itself (A *= mask, or A[...] = ...): the layer before needs its "
                "activations as they were, and a caller's array must not change. Return a new array: "
                "out = A * mask."
            )

    def dtype():
        A, _, out, mask = run()
        if out.dtype != A.dtype:
            why = (
                f" Your mask is {mask.dtype}: rng.random draws float64 unless told otherwise, and float32 * float64 "
                f"is float64."
                if isinstance(mask, np.ndarray) and mask.dtype != A.dtype
                else ""
            )
            raise _Fail(
                f"for float32 activations out is {out.dtype}; it must keep A's dtype (float32), or every "
                f"later layer works in float64, twice the memory and slower.{why} Make the mask of A's dtype: "
                f"(rng.random(A.shape, dtype=np.float32) >= p).astype(A.dtype) / (1 - p)."
            )

    def fraction(p=0.3, dtype=np.float32, seed=5):
        A, _, out, mask = run(p, dtype, seed)
        dropped = float(np.mean(np.asarray(out) == 0))
        if abs(dropped - p) <= _SLACK:
            return A, out, mask
        if abs(dropped - (1 - p)) <= _SLACK:
            raise _Fail(
                f"with p = {p} your output has {dropped:.1%} of its entries at zero, about 1 - p: you keep each "
                f"unit with probability p and drop it with 1 - p. p is the probability of DROPPING a unit: "
                f"keep = rng.random(A.shape) >= p (true with probability 1 - p)."
            )
        if dropped == 0:
            raise _Fail(
                f"with p = {p} none of your output's entries is zero: nothing was dropped. Zero each entry "
                f"with probability p: keep = rng.random(A.shape) >= p, out = A * keep / (1 - p)."
            )
        raise _Fail(
            f"with p = {p} your output has {dropped:.1%} of its entries at zero; about {p:.0%} should be "
            f"(each entry dropped with probability p): keep = rng.random(A.shape) >= p."
        )

    def scale(p=0.3, dtype=np.float32, seed=5):
        A, out, mask = fraction(p, dtype, seed)
        kept = np.asarray(out) != 0
        ratio = _unique(np.asarray(out, np.float64)[kept] / A[kept])
        want = 1 / (1 - p)
        if len(ratio) == 1 and np.isclose(ratio[0], want, rtol=1e-5):
            return A, out, mask
        mean = float(np.mean(out, dtype=np.float64) / np.mean(A, dtype=np.float64))
        if len(ratio) == 1 and np.isclose(ratio[0], 1.0):
            raise _Fail(
                f"the entries you keep are A's own values, not rescaled: the output's mean is then only "
                f"{mean:.2f} of A's (about 1 - p = {1 - p:.2f}), so the next layer sees smaller inputs in "
                f"training than at prediction, where nothing is dropped. Divide the kept ones by (1 - p): "
                f"mask = keep / (1 - p)."
            )
        if len(ratio) == 1 and np.isclose(ratio[0], 1 - p, rtol=1e-4):
            raise _Fail(
                f"the entries you keep are multiplied by (1 - p) = {1 - p:.2f}: divide by (1 - p) instead, "
                f"mask = keep / (1 - p). Then the output's mean equals A's (yours is {mean:.2f} of it)."
            )
        if len(ratio) == 1 and np.isclose(ratio[0], 1 / p, rtol=1e-4):
            raise _Fail(
                f"the entries you keep are divided by p: divide by (1 - p), the probability of KEEPING a unit, "
                f"so that the output's mean equals A's (yours is {mean:.2f} of it)."
            )
        raise _Fail(
            f"each entry you keep should be A's value times 1 / (1 - p) = {want:.4g}; yours are A's times "
            f"{', '.join(f'{r:.4g}' for r in ratio[:3])}{' ...' if len(ratio) > 3 else ''} (output mean "
            f"{mean:.2f} of A's). Use one factor for all: out = A * keep / (1 - p)."
        )

    def saved():
        A, out, mask = scale()
        if mask is None:
            raise _Fail(
                "your mask is None: return the mask you multiplied by, (out, mask), so that the backward pass "
                "can use the same one."
            )
        if not isinstance(mask, np.ndarray) or mask.shape != A.shape:
            raise _Fail(f"the mask must be an array of A's shape {A.shape}; yours is {_what(mask)}.")
        if np.allclose(np.asarray(A, np.float64) * mask, out, rtol=1e-6, atol=0):
            return A, out, mask
        values = _unique(mask)
        if mask.dtype == bool or (len(values) <= 2 and set(values) <= {0.0, 1.0}):
            raise _Fail(
                "your mask holds 0 and 1 (which units are kept) but out is rescaled, so out != A * mask and "
                "dout * mask would miss the 1 / (1 - p). Return the mask out was made with: "
                "mask = keep / (1 - p), out = A * mask."
            )
        raise _Fail(
            "out must equal A * mask, with the mask you return (0 for a dropped unit, 1 / (1 - p) for a kept "
            "one); yours differ. Return the mask itself, not the random numbers it was made from."
        )

    def other_p():
        for p, dtype in ((0.8, np.float64), (0.0, np.float32)):
            A, out, mask = scale(p, dtype, seed=11)
            if out.dtype != A.dtype:
                raise _Fail(
                    f"for {np.dtype(dtype).name} activations out is {out.dtype}: keep A's dtype, "
                    f"mask = (...).astype(A.dtype) / (1 - p), not a fixed float32 or float64."
                )

    def generator():
        _draws_from_rng(lambda rng: run(rng=rng)[2], "masks", "the random numbers (rng.random(A.shape))")

    def fresh():
        rng = np.random.default_rng(5)
        _, _, out1, _ = run(rng=rng)
        _, _, out2, _ = run(rng=rng)
        if np.array_equal(out1, out2):
            raise _Fail(
                "two calls with the same generator gave the same mask: draw a new mask at every call "
                "(rng.random(A.shape) inside the function), so that each step trains a different thinned "
                "network."
            )

    def backward_case():
        A, out, mask = saved()
        dout = np.random.default_rng(8).normal(size=A.shape).astype(np.float32)
        before = (dout.copy(), mask.copy())
        dA = backward(dout, mask)
        if not isinstance(dA, np.ndarray) or dA.shape != A.shape:
            raise _Fail(
                f"dropout_backward must return dA, an array of dout's shape {A.shape}; yours returned {_what(dA)}."
            )
        if not (np.array_equal(dout, before[0]) and np.array_equal(mask, before[1])):
            raise _Fail("dropout_backward changed dout or mask in place: return a new array, dA = dout * mask.")
        want = dout * mask
        if np.allclose(dA, want, rtol=1e-6, atol=1e-7):
            if dA.dtype != dout.dtype:
                raise _Fail(
                    f"dA is {dA.dtype} for float32 dout: keep dout's dtype (dA = dout * mask with the "
                    f"forward pass's mask)."
                )
            return
        if np.array_equal(dA, dout):
            raise _Fail(
                "dA equals dout: the backward pass must multiply by the mask, dA = dout * mask. A dropped unit "
                "did not change the output, so its gradient is 0; a kept one was scaled by 1 / (1 - p), and so "
                "is its gradient."
            )
        if np.allclose(dA, dout * (mask != 0), rtol=1e-6, atol=1e-7):
            raise _Fail(
                "dA is dout where a unit was kept, but without the 1 / (1 - p): multiply by the mask itself, "
                "dA = dout * mask (the forward pass scaled the kept units, so their gradients scale too)."
            )
        if not np.array_equal(dA == 0, mask == 0):
            raise _Fail(
                "dA's zeros are not where the mask's zeros are: use the mask saved by the forward pass, not a "
                "new random one. The units dropped in the forward pass, and only those, get zero gradient."
            )
        raise _Fail("dA should be dout * mask, with the mask the forward pass returned; yours differs.")

    return _run(
        "dropout",
        [
            ("returns (out, mask), out of A's shape", shapes),
            ("A is left unchanged", unchanged),
            ("out keeps A's dtype (float32)", dtype),
            ("a fraction p of the entries is dropped (p = 0.3)", fraction),
            ("the kept entries are scaled by 1 / (1 - p)", scale),
            ("out == A * mask, the mask returned", saved),
            ("p = 0.8 on float64 activations, and p = 0", other_p),
            ("the random numbers come from rng", generator),
            ("a new mask at every call", fresh),
            ("dropout_backward(dout, mask) == dout * mask", backward_case),
        ],
        hint_on_error="run dropout_forward(A, 0.5, np.random.default_rng(0)) on A = np.ones((3, 4), np.float32) "
        "yourself and look at out and mask.",
    )
