"""The plumbing every check shares: cases run one by one, the learner's errors told apart from the check's own,
the verdict printed, and the hints that more than one check gives.

A check is a list of cases, pairs ``(description, function of no arguments)``, handed to ``_run``. A case fails
by raising ``_Fail(hint)``. Every call into the learner's code goes through ``_yours`` (or a function wrapped by
``_theirs``), so that an error raised there becomes ``_Raised`` and is reported as "your code raised"; any other
error is a bug of the check and surfaces as itself.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from ..gradcheck import rel_error


class _Fail(Exception):
    def __init__(self, hint: str):
        super().__init__(hint)
        self.hint = hint


class _Raised(Exception):
    """An error raised inside the learner's code (``error``): the only kind reported as "your code raised"."""

    def __init__(self, error: Exception):
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


def _yours(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, a call into the learner's code: an error raised there becomes ``_Raised``.

    A stub's NotImplementedError, a NumPy warning and a failed case pass unchanged. The check's own code is
    never called through here, so an error in it surfaces as itself instead of being blamed on the learner.
    """
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, RuntimeWarning, _Fail, _Raised):
        raise
    except Exception as error:
        raise _Raised(error) from error


def _theirs(fn, result=None):
    """The learner's function ``fn`` with every call (and the iteration of an iterator it returns) through ``_yours``;
    ``result``, if given, checks what it returns (and raises ``_Fail`` if that is not of the right kind)."""

    def call(*args, **kwargs):
        out = _yours(fn, *args, **kwargs)
        if result is not None:
            out = result(out)
        return _each(out) if isinstance(out, Iterator) else out

    return call


def _each(items):
    """The items of the learner's iterator, each ``next`` (which runs a generator's body) through ``_yours``."""
    end = object()
    while (item := _yours(next, items, end)) is not end:
        yield item


def _what(out) -> str:
    """A learner's result as a hint names it: None, a tuple of 3 items, an array of shape (5,), a float."""
    if out is None:
        return "None"
    if isinstance(out, (tuple, list)):
        return f"a {type(out).__name__} of {len(out)} items"
    if isinstance(out, np.ndarray):
        return f"an array of shape {out.shape}"
    return f"a {type(out).__name__}"


def _items(out, n: int, must: str, yours: str = "returned"):
    """``out`` if it is a tuple or list of ``n`` items, else a failed case: "{must}; yours {yours} ..."."""
    if not (isinstance(out, (tuple, list)) and len(out) == n):
        raise _Fail(f"{must}; yours {yours} {_what(out)}.")
    return out


def _pair(out, must: str, yours: str = "returned"):
    """``out`` if it is a pair (a tuple or list of two), else a failed case: "{must}; yours {yours} ..."."""
    return _items(out, 2, must, yours)


def _grads(out, name: str):
    """``out`` if it is a dict (of gradients), else a failed case."""
    if not isinstance(out, Mapping):
        raise _Fail(f"{name} must return a dict of gradients keyed like params; yours returned {_what(out)}.")
    return out


def _number(out, must: str) -> float:
    """``out`` (a loss) as a float if it is one number, else a failed case: "{must}; yours returned ..."."""
    if np.ndim(out) == 0:
        try:
            return float(out)
        except (TypeError, ValueError):
            pass
    raise _Fail(f"{must}; yours returned {_what(out)}.")


class CheckResult:
    """What a check returns: true when every case passed (``bool(result)``, ``result.passed``), and the message it printed.

    In a notebook a check's value is not displayed (the printed line says it all), so a cell may end with the
    call, with or without ``;``; the same holds when nbval runs the cell.
    """

    def __init__(self, passed: bool, message: str):
        self.passed, self.message = passed, message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self):
        """Show nothing: the check has printed its message already."""


def _run(name: str, cases, hint_on_error="") -> CheckResult:
    """Run ``cases`` (pairs of a description and a function of no arguments), print the verdict and return it.

    ``hint_on_error`` is the hint when the learner's code raises: a string, or a function of the error that
    returns one ("" for the generic hint).

    An error raised in the learner's code (a ``_Raised``) is reported with its case; any other error is the check's
    own and is raised as it is, not blamed on the learner.
    """
    for passed, (what, case) in enumerate(cases):  # noqa: B007 (``passed`` counts the cases, read after the loop)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # overflow, 0 * log(0), ...
                case()
        except NotImplementedError:
            return _verdict(
                False,
                f"{name}: not implemented yet. Replace `raise NotImplementedError()` with your "
                f"code, run that cell, then this check again.",
            )
        except _Fail as failure:
            return _verdict(False, f'{name}: failed on "{what}".\n  Hint: {failure.hint}')
        except RuntimeWarning as warning:
            return _verdict(
                False, f'{name}: failed on "{what}": NumPy warned "{warning}".\n  Hint: {_warning_hint(name, warning)}'
            )
        except _Raised as raised:  # the learner's code raised: say where, without a deep traceback
            error = raised.error
            hint = hint_on_error(error) if callable(hint_on_error) else hint_on_error
            return _verdict(
                False,
                f'{name}: failed on "{what}": your code raised {type(error).__name__}: {error}\n'
                f"  Hint: {hint or 'run your function on a small input yourself and compare with the math above.'}",
            )
    return _verdict(True, f"{name}: {passed + 1} checks passed")


def _verdict(passed: bool, message: str) -> CheckResult:
    print(message)
    return CheckResult(passed, message)


GRADING_VAR = "NNLIB_GRADING"


def grading() -> bool:
    """True where a failed check must raise: ``NNLIB_GRADING=1`` (set by teacher/nbgrader_config.py for autograding)."""
    return os.environ.get(GRADING_VAR, "").strip() not in ("", "0")


def strictable(check):
    """``check`` with a keyword ``strict``: a failed check (a stub included) raises ``AssertionError`` with its hint.

    ``strict=None`` (the default) follows ``NNLIB_GRADING``; a learner's notebook prints and goes on, a grader's run
    (nbgrader's autograde) fails the test cell, and ``check_softmax(softmax, strict=True)`` works in a script.
    ``assert check_softmax(softmax)`` works too: the result is true only when every case passed.
    """

    @functools.wraps(check)
    def run(*args, strict: bool | None = None, **kwargs):
        result = check(*args, **kwargs)
        if not result and (grading() if strict is None else strict):
            raise AssertionError(result.message)
        return result

    return run


def _warning_hint(name, warning) -> str:
    text = str(warning)
    if "overflow" in text:
        return {
            "sigmoid": "np.exp(-z) overflows for z = -1000: compute exp(-|z|), which is at most 1, and "
            "use it in two formulas, one for z >= 0 and one for z < 0.",
            "softmax": "np.exp overflows for logits of 1000: subtract each row's maximum first "
            "(Z - Z.max(axis=1, keepdims=True)); the result does not change.",
        }.get(name, "a value grew too large: look for an exp of a large number.")
    if "divide by zero" in text or "invalid value" in text:
        return (
            "log(0) is -inf and 0 * log(0) is nan: clip the probabilities to [1e-12, 1] before the log "
            "(or take the log of the true class's probability only)."
        )
    return "look at the line that warns and at the values it sees."


def _close(a, b, rtol=1e-6, atol=1e-8) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return a.shape == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol)


def _shape(out, expected, hint_transposed: str):
    shape = np.shape(out)
    if shape == tuple(reversed(expected)) and shape != tuple(expected):
        raise _Fail(f"your result has shape {shape}; expected {tuple(expected)}. {hint_transposed}")
    if shape != tuple(expected):
        raise _Fail(f"your result has shape {shape}; expected {tuple(expected)}.")


# -- randomness: draws from the generator passed in (lab 15, dropout) ----------------------------


def _draws_from_rng(draw, what: str, how: str):
    """Fail unless ``draw(rng)`` (an array) repeats for generators seeded alike and differs for other seeds.

    ``what`` names the draws in the plural ("weights", "masks", "orders"); ``how`` is the call that makes
    them from the generator, as a hint ("the permutation (rng.permutation(N))").
    """
    a, b, c = (draw(np.random.default_rng(seed)) for seed in (5, 5, 6))
    if not np.array_equal(a, b):
        raise _Fail(
            f"two calls with generators seeded alike gave different {what}: draw {how} from rng, the generator "
            "passed in, not from np.random, so that a seeded run can be repeated."
        )
    if np.array_equal(a, c):
        raise _Fail(
            f"generators with different seeds gave the same {what}: draw {how} from rng, the generator passed "
            "in, afresh at every call (not from np.random after np.random.seed, not from a generator seeded "
            "inside your function, not a draw kept from an earlier call)."
        )


# -- gradient hints (03, 04, 09) ----------------------------------------------------------------


def _rel(a, b) -> float:
    """``rel_error``, or infinity when the shapes differ (a wrong shape is a failed check, not a crash)."""
    return rel_error(a, b) if np.shape(a) == np.shape(b) else np.inf


def _grad_hint(key, mine, ref, N=None, example=False) -> str:
    """The hint for a gradient that differs from the numerical one; ``example``: worded for one example (03)."""
    mine, ref = np.asarray(mine, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if mine.shape != ref.shape:
        if mine.shape == ref.shape[::-1]:
            return (
                f"d{key} has shape {mine.shape}, the transpose of {key}'s {ref.shape}: a gradient has its "
                f"parameter's shape. For dW write "
                + (
                    "np.outer(a_prev, delta), not np.outer(delta, a_prev)."
                    if example
                    else "A_prev.T @ dZ, not dZ.T @ A_prev."
                )
            )
        return f"d{key} has shape {mine.shape} but {key} has shape {ref.shape}: a gradient has its parameter's shape."
    if N and np.allclose(mine, ref * N, rtol=1e-4, atol=1e-10):
        return f"d{key} is {N} times too large: the loss is a mean over the batch, so dW should be divided by N."
    if N and np.allclose(mine, ref / N, rtol=1e-4, atol=1e-10):
        return f"d{key} is {N} times too small: divide by N once (dZ of the output), not again in every layer."
    if np.allclose(mine, -ref, rtol=1e-4, atol=1e-10):
        return f"d{key} has the wrong sign: the output layer's dZ is P - Y, not Y - P."
    passed = (
        "W @ delta (W maps a layer's input to its output, so going back it is W, not W.T, for a "
        "column of deltas), times the sigmoid's derivative a * (1 - a)"
        if example
        else "dZ @ W.T (W's transpose), times the activation's derivative at that layer's Z"
    )
    return (
        f"d{key} differs from the numerical gradient (relative error {_rel(mine, ref):.1e}; a correct one is "
        f"below 1e-6). Check the chain rule one layer at a time, starting from the output: the gradient "
        f"passed back is {passed}."
    )
