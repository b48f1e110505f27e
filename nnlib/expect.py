"""Checking a measured result against what the course expects, with a band measured over seeds and machines.

Float32 training is chaotic: the same notebook gives slightly different losses and accuracies on
another CPU, BLAS kernel or thread count, and after thousands of steps another kernel moves a result
about as far as another random seed does. So a notebook does not compare such a *measurement* digit
for digit; it states the band it expects and checks the result in plain sight::

    >>> expect_near("test accuracy", 0.9803, 0.980, 0.005, percent=True)
    test accuracy 98.03% (expected 98.0% ± 0.5): ok
    >>> expect_below("rel_error dW1", 3.1e-8, 1e-6)
    rel_error dW1 3.1e-08 (expected below 1e-06): ok

Each call prints one line and returns nothing, so a check at the end of a cell echoes no value. The
bands come from ``notebooks/spread.py``: each covers what was measured over at least five seeds and
several BLAS kernels (the table ``notebooks/spread.csv``, which a test compares with the notebooks).

What happens outside the band depends on who is running:

- **a learner** (a notebook run by hand, the default): the line says ``outside``, a warning below it
  gives the value, the band and the possible reasons (a changed seed or setting, a machine unlike those
  measured, or a bug), and the notebook goes on. Experimenting is never punished;
- **a regression run** (``pytest``, and so ``pytest --nbval`` and CI: the project's ``conftest.py`` sets
  ``NNLIB_STRICT_CHECKS=1``, which the notebooks' kernels inherit): :class:`ExpectationFailed` (an
  ``AssertionError``) fails the cell.
"""

from __future__ import annotations

import json
import math
import os
import sys

__all__ = ["ExpectationFailed", "expect_near", "expect_below", "expect_between", "strict"]

STRICT_VAR = "NNLIB_STRICT_CHECKS"


class ExpectationFailed(AssertionError):
    """A measured result fell outside the band the course expects (raised in a regression run)."""


def strict() -> bool:
    """True in a regression run (``NNLIB_STRICT_CHECKS=1``, set by the project's pytest configuration):
    a result outside its band then raises instead of warning."""
    return os.environ.get(STRICT_VAR, "") == "1"


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


_REASONS = """\
The band covers what was measured for this notebook as written, over at least five seeds and several
BLAS kernels (notebooks/spread.csv). A result outside it means one of:
  - a seed, a setting, the data or the code above was changed: then this is simply that experiment's result;
  - this machine rounds float32 differently from every machine measured: if you changed nothing, re-run
    the notebook from the top, and if it stays outside, tell the course's maintainers (the band is too narrow);
  - a bug in code that was edited."""


def _report(label, value, expected_text, ok, shown, low, high):
    line = f"{label} {shown} ({expected_text})"
    log = os.environ.get("NNLIB_EXPECT_LOG")  # notebooks/spread.py collects results over seeds and machines
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "label": label,
                        "value": float(value),
                        "expected": expected_text,
                        "low": low,
                        "high": high,
                        "ok": bool(ok),
                    }
                )
                + "\n"
            )
    if ok:
        print(f"{line}: ok")
    elif strict():
        raise ExpectationFailed(
            f"{line}: outside.\n{_REASONS}\nThis is a regression run ({STRICT_VAR}=1, "
            f"as under pytest), so the check fails."
        )
    else:
        print(f"{line}: outside (see the warning below)")
        print(
            f"Warning: {label} = {shown} is outside its band ({expected_text}). The notebook goes on.\n"
            f"{_REASONS}\nUnder pytest --nbval (a regression run) this check fails.",
            file=sys.stderr,
        )


def expect_near(label: str, value, expected, tol, *, percent: bool = False):
    """Check that ``value`` lies within ``expected ± tol`` and print one line (outside: see the module).

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
    _report(label, v, expected_text, abs(v - e) <= t, shown, e - t, e + t)


def expect_between(label: str, value, low, high, *, percent: bool = False):
    """Check that ``low <= value <= high`` and print one line (outside: see the module). NaN never passes."""
    v, lo, hi = _number("value", value), _number("low", low), _number("high", high)
    if not lo <= hi:
        raise ValueError(f"low must not exceed high, got {low!r} and {high!r}")
    if percent:
        d = max(_decimals(lo * 100), _decimals(hi * 100))
        expected_text, shown = f"expected {lo * 100:.{d}f}% to {hi * 100:.{d}f}%", _fmt(v, True, max(2, d))
    else:
        expected_text, shown = f"expected {lo:g} to {hi:g}", f"{v:.4g}"
    _report(label, v, expected_text, lo <= v <= hi, shown, lo, hi)


def expect_below(label: str, value, limit, *, percent: bool = False):
    """Check that ``value < limit`` (an error or a difference that must be small); NaN never passes.

    ``expect_below("rel_error dW1", 3.1e-8, 1e-6)`` prints ``rel_error dW1 3.1e-08 (expected below 1e-06): ok``;
    with ``percent=True`` fractions show as percentages: ``expect_below("accuracy", 0.15, 0.3, percent=True)``
    prints ``accuracy 15.00% (expected below 30%): ok``.
    """
    v, lim = _number("value", value), _number("limit", limit)
    if percent:
        expected_text, shown = f"expected below {lim * 100:g}%", _fmt(v, True, 2)
    else:
        expected_text, shown = f"expected below {lim:.0e}", f"{v:.1e}"
    _report(label, v, expected_text, v < lim, shown, -math.inf, lim)
