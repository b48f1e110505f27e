"""Checking a measured result against what the course expects, with a stated tolerance.

Float32 training is chaotic: the same notebook gives slightly different losses and accuracies on
another CPU, BLAS kernel or thread count. So a notebook does not compare such a *measurement* digit
for digit; it states what it expects and how far a result may stray, and checks it in plain sight::

    >>> expect_near("test accuracy", 0.9803, 0.980, 0.005, percent=True)
    test accuracy 98.03% (expected 98.0% ± 0.5): ok
    >>> expect_below("rel_error dW1", 3.1e-8, 1e-6)
    rel_error dW1 3.1e-08 (expected below 1e-06): ok

Each call prints one line and returns the value; a result outside raises :class:`ExpectationFailed`
(an ``AssertionError``) that says what was expected and what came out. The tolerances in the
notebooks come from measured spreads (several seeds, thread counts and BLAS kernels), not guesses.
"""
from __future__ import annotations

import json
import math
import os

__all__ = ["ExpectationFailed", "expect_near", "expect_below", "expect_between"]


class ExpectationFailed(AssertionError):
    """A measured result fell outside the range the course expects."""


def _number(name, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    return number


def _fmt(value: float, percent: bool, digits: int) -> str:
    return f"{value * 100:.{digits}f}%" if percent else f"{value:.{digits}g}"


def _decimals(x: float) -> int:
    """Decimals needed to print ``x`` as written (0.5 -> 1, 0.25 -> 2, 3.0 -> 0)."""
    for d in range(7):
        if abs(round(x, d) - x) < 1e-9 * max(1.0, abs(x)):
            return d
    return 6


def _report(label, value, expected_text, ok, shown):
    line = f"{label} {shown} ({expected_text})"
    log = os.environ.get("NNLIB_EXPECT_LOG")   # notebooks/spread.py collects results across machines
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"label": label, "value": float(value), "expected": expected_text, "ok": ok}) + "\n")
    if not ok:
        raise ExpectationFailed(
            f"{line}: outside. A result this far off is not float rounding between machines: something in "
            f"the code, the data or the settings changed. Re-run the notebook from the top; if it persists, "
            f"compare your changes with the text above.")
    print(f"{line}: ok")
    return value


def expect_near(label: str, value, expected, tol, *, percent: bool = False):
    """Check that ``value`` lies within ``expected ± tol``; print one line, or raise ExpectationFailed.

    ``percent=True`` shows fractions as percentages: ``expect_near("test accuracy", 0.9803, 0.98, 0.005,
    percent=True)`` prints ``test accuracy 98.03% (expected 98.0% ± 0.5): ok``. NaN never passes.
    """
    v, e, t = _number("value", value), _number("expected", expected), _number("tol", tol)
    if not (t >= 0 and math.isfinite(t) and math.isfinite(e)):
        raise ValueError(f"expected and tol must be finite numbers with tol >= 0, got {expected!r} ± {tol!r}")
    scale = 100 if percent else 1
    d = max(_decimals(e * scale), _decimals(t * scale))
    if percent:
        expected_text = f"expected {e * 100:.{d}f}% ± {t * 100:.{d}f}"
        shown = _fmt(v, True, max(2, d))
    else:
        expected_text = f"expected {e:.{d}f} ± {t:.{d}f}"
        shown = f"{v:.{max(4, d + 1)}f}" if math.isfinite(v) else str(v)
    return _report(label, value, expected_text, abs(v - e) <= t, shown)


def expect_between(label: str, value, low, high, *, percent: bool = False):
    """Check that ``low <= value <= high``; print one line, or raise ExpectationFailed. NaN never passes."""
    v, lo, hi = _number("value", value), _number("low", low), _number("high", high)
    if not lo <= hi:
        raise ValueError(f"low must not exceed high, got {low!r} and {high!r}")
    if percent:
        d = max(_decimals(lo * 100), _decimals(hi * 100))
        expected_text, shown = f"expected {lo * 100:.{d}f}% to {hi * 100:.{d}f}%", _fmt(v, True, max(2, d))
    else:
        expected_text, shown = f"expected {lo:g} to {hi:g}", f"{v:.4g}"
    return _report(label, value, expected_text, lo <= v <= hi, shown)


def expect_below(label: str, value, limit):
    """Check that ``value < limit`` (an error or a difference that must be small); NaN never passes.

    ``expect_below("rel_error dW1", 3.1e-8, 1e-6)`` prints ``rel_error dW1 3.1e-08 (expected below 1e-06): ok``.
    """
    v, lim = _number("value", value), _number("limit", limit)
    return _report(label, value, f"expected below {lim:.0e}", v < lim, f"{v:.1e}")
