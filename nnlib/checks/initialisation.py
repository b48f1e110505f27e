"""The check of He initialisation (notebook 06)."""

from __future__ import annotations

import numpy as np

from ._core import CheckResult, _Fail, _pair, _run, _shape, _theirs


def check_he(he) -> CheckResult:
    """``he(n_in, n_out, rng) -> (W, b)``: W ~ N(0, 2 / n_in) of shape (n_in, n_out), b zeros."""
    he = _theirs(he, lambda out: _pair(out, "he must return a pair (W, b)"))

    def shapes():
        W, b = he(784, 200, np.random.default_rng(0))
        _shape(W, (784, 200), "W is (n_in, n_out): one row per input, so that X @ W works.")
        if np.shape(b) != (200,) or np.any(np.asarray(b) != 0):
            raise _Fail("b has one zero per output neuron: np.zeros(n_out).")

    def spread():
        W, _ = he(784, 200, np.random.default_rng(0))
        std, target = float(np.std(W)), np.sqrt(2 / 784)
        for wrong, hint in (
            (
                np.sqrt(1 / 784),
                "Use sqrt(2 / n_in): ReLU zeroes about half its inputs, and the 2 "
                "makes up for it (sqrt(1 / n_in) is LeCun's rule).",
            ),
            (np.sqrt(2 / 200), "Divide by the fan-in n_in (inputs per neuron), not by n_out."),
            (2 / 784, "The standard deviation is sqrt(2 / n_in); you used the variance 2 / n_in as the scale."),
            (
                np.sqrt(2 / 784 / 3),
                "Draw from a normal distribution (rng.standard_normal); a "
                "uniform(-s, s) has standard deviation s / sqrt(3).",
            ),
        ):
            if abs(std - wrong) < 0.03 * wrong and abs(std - target) > 0.03 * target:
                raise _Fail(f"the standard deviation of W is {std:.4f}; expected sqrt(2 / 784) = {target:.4f}. " + hint)
        if abs(std - target) > 0.03 * target or abs(float(np.mean(W))) > 0.003:
            raise _Fail(
                f"W should have mean 0 and standard deviation sqrt(2 / n_in) = {target:.4f}; yours "
                f"{float(np.mean(W)):.4f} and {std:.4f}."
            )

    def uses_rng():
        W1, _ = he(20, 10, np.random.default_rng(5))
        W2, _ = he(20, 10, np.random.default_rng(5))
        W3, _ = he(20, 10, np.random.default_rng(6))
        if not np.array_equal(W1, W2) or np.array_equal(W1, W3):
            raise _Fail(
                "draw from the rng you are given (rng.standard_normal(...)), not from np.random or a "
                "new generator, so the same seed gives the same weights."
            )

    return _run(
        "he",
        [("shapes of W and b", shapes), ("mean 0, std sqrt(2 / n_in)", spread), ("draws from the given rng", uses_rng)],
    )
