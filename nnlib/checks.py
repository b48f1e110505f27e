"""Self-checks for the pieces a learner writes, with a specific hint when one fails.

Each ``check_*`` function runs the learner's function (or class) on cases the learner does not see:
shapes, edge cases (logits of 1000, labels out of range, a last batch that is smaller), and a numerical
gradient check where there is a gradient. It prints one line, ``softmax: 5 checks passed``, or the case
that failed and a hint that says what is probably wrong::

    >>> nnlib.checks.check_softmax(my_softmax)
    softmax: failed on "each row sums to 1".
      Hint: your rows do not sum to 1 but your columns do: sum over axis=1 (one row per example), keepdims=True.

A function still stubbed with ``raise NotImplementedError()`` gets "not implemented yet", not a
traceback. Each check also returns a ``CheckResult``, true if every case passed, which a notebook does not
display (the printed line is the output).

| check | piece (notebook) | signature checked |
|---|---|---|
| ``check_one_hot`` | 01 | ``one_hot(y, num_classes=10) -> Y (N, num_classes)`` |
| ``check_sigmoid`` | 02 | ``sigmoid(Z) -> A``, elementwise |
| ``check_softmax`` | 02 | ``softmax(Z) -> P``, row-wise on ``(N, C)`` |
| ``check_cross_entropy`` | 02 | ``cross_entropy(P, Y) -> float``, the mean over rows |
| ``check_backward_example`` | 03 | ``backward_example(params, cache, y) -> grads`` for one image |
| ``check_forward_backward`` | 04 | ``forward(params, X) -> (A, cache)``, ``backward(params, cache, Y) -> grads`` |
| ``check_he`` | 05 | ``he(n_in, n_out, rng) -> (W, b)`` |
| ``check_minibatches`` | 06 | ``minibatches(X, Y, batch_size, rng)`` yields ``(X_batch, Y_batch)`` |
| ``check_train_epoch`` | 06 | ``train_epoch(model, X, Y, optimizer, batch_size, rng) -> float``, the epoch's mean loss |
| ``check_momentum`` | 07 | ``MyMomentum(lr, beta)`` with ``.step(params, grads)``, EMA form |
| ``check_layer`` | 09 | a layer class: ``forward(X, training) -> (out, cache)``, ``backward(dout, cache) -> dX``, ``.grads`` |
| ``check_adam`` | 10 | ``MyAdam(lr, beta1, beta2, eps)`` with ``.step(params, grads)`` |
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from .functional import sigmoid as _sigmoid, softmax as _softmax   # the references the checks compare with
from .gradcheck import _frozen, numerical_gradient, rel_error

__all__ = ["CheckResult", "check_one_hot", "check_sigmoid", "check_softmax", "check_cross_entropy", "check_backward_example",
           "check_forward_backward", "check_he", "check_minibatches", "check_train_epoch", "check_momentum",
           "check_layer", "check_adam"]


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


def _pair(out, must: str, yours: str = "returned"):
    """``out`` if it is a pair (a tuple or list of two), else a failed case: "{must}; yours {yours} ..."."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise _Fail(f"{must}; yours {yours} {_what(out)}.")
    return out


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


def _run(name: str, cases, hint_on_error: str = "") -> CheckResult:
    """Run ``cases`` (pairs of a description and a function of no arguments), print the verdict and return it.

    An error raised in the learner's code (a ``_Raised``) is reported with its case; any other error is the check's
    own and is raised as it is, not blamed on the learner.
    """
    for passed, (what, case) in enumerate(cases):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)     # overflow, 0 * log(0), ...
                case()
        except NotImplementedError:
            return _verdict(False, f"{name}: not implemented yet. Replace `raise NotImplementedError()` with your "
                                   f"code, run that cell, then this check again.")
        except _Fail as failure:
            return _verdict(False, f'{name}: failed on "{what}".\n  Hint: {failure.hint}')
        except RuntimeWarning as warning:
            return _verdict(False, f'{name}: failed on "{what}": NumPy warned "{warning}".\n'
                                   f'  Hint: {_warning_hint(name, warning)}')
        except _Raised as raised:    # the learner's code raised: say where, without a deep traceback
            error = raised.error
            return _verdict(False, f'{name}: failed on "{what}": your code raised {type(error).__name__}: {error}\n'
                                   f"  Hint: {hint_on_error or 'run your function on a small input yourself and compare with the math above.'}")
    return _verdict(True, f"{name}: {passed + 1} checks passed")


def _verdict(passed: bool, message: str) -> CheckResult:
    print(message)
    return CheckResult(passed, message)


def _warning_hint(name, warning) -> str:
    text = str(warning)
    if "overflow" in text:
        return {"sigmoid": "np.exp(-z) overflows for z = -1000: compute exp(-|z|), which is at most 1, and "
                           "use it in two formulas, one for z >= 0 and one for z < 0.",
                "softmax": "np.exp overflows for logits of 1000: subtract each row's maximum first "
                           "(Z - Z.max(axis=1, keepdims=True)); the result does not change."}.get(
            name, "a value grew too large: look for an exp of a large number.")
    if "divide by zero" in text or "invalid value" in text:
        return ("log(0) is -inf and 0 * log(0) is nan: clip the probabilities to [1e-12, 1] before the log "
                "(or take the log of the true class's probability only).")
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


# -- 01 -------------------------------------------------------------------------------------------

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
            raise _Fail(f"row i must have its 1 in column y[i]; for y = {y.tolist()} yours are in columns "
                        f"{Y.argmax(axis=1).tolist()}.")

    def floats():
        if not np.issubdtype(np.asarray(one_hot(y)).dtype, np.floating):
            raise _Fail("return floats (e.g. np.zeros(..., dtype=np.float32)): Y is subtracted from "
                        "probabilities, and integer arrays would round.")

    def num_classes():
        _shape(one_hot(np.array([1, 2]), num_classes=3), (2, 3), "")

    def out_of_range():
        for bad in (np.array([10]), np.array([-1])):
            try:
                one_hot(bad)
            except _Raised as raised:
                if isinstance(raised.error, (ValueError, IndexError)):
                    continue
                raise
            raise _Fail(f"one_hot({bad.tolist()}) gave no error. A label of -1 silently becomes class 9 with "
                        "np.eye(10)[y]: check that 0 <= y < num_classes and raise a ValueError.")

    return _run("one_hot", [("shape (N, 10)", shape), ("a single 1 in column y[i]", ones_in_place),
                            ("float output", floats), ("num_classes=3", num_classes),
                            ("labels 10 and -1 are errors", out_of_range)])


# -- 02 -------------------------------------------------------------------------------------------

def check_sigmoid(sigmoid) -> CheckResult:
    """``sigmoid(Z)``: elementwise 1 / (1 + exp(-Z)), any shape, no overflow for |Z| = 1000."""
    sigmoid = _theirs(sigmoid)
    Z = np.linspace(-8, 8, 17).reshape(1, 17)

    def values():
        out = sigmoid(Z)
        if np.shape(out) != Z.shape:
            raise _Fail(f"sigmoid must keep the shape of its input: got {np.shape(out)} for {Z.shape}.")
        if _close(out, 1 - _sigmoid(Z)):
            raise _Fail("your values are 1 - sigmoid(z): the formula is 1 / (1 + exp(-z)), with a minus sign.")
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
            raise _Fail("your rows do not sum to 1 but your columns do: sum over axis=1 (one row per example), "
                        "keepdims=True.")
        if not np.allclose(P.sum(axis=1), 1):
            raise _Fail("each row of P must sum to 1: divide exp(Z) by its row's sum (axis=1, keepdims=True).")

    def values():
        P = softmax(Z)
        if not _close(P, _softmax(Z)):
            raise _Fail("your probabilities differ from exp(z_k) / sum_j exp(z_j); an epsilon added inside or "
                        "outside the exp changes them.")

    def large_logits():
        big = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 990.0]])
        P = np.asarray(softmax(big), dtype=np.float64)
        if not np.isfinite(P).all() or not _close(P, _softmax(big)):
            raise _Fail("your softmax overflows for logits of 1000: subtract each row's maximum first "
                        "(Z - Z.max(axis=1, keepdims=True)); the result does not change.")

    def one_row():
        _shape(softmax(Z[:1]), (1, 3), "")

    return _run("softmax", [("shape (N, C)", shape), ("each row sums to 1", rows_sum_to_1),
                            ("values", values), ("logits of 1000", large_logits), ("a single row", one_row)])


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
        if np.isclose(got, expected * 5):
            raise _Fail("your loss is 5 times too large for 5 rows: divide by the number of examples N "
                        "(the mean over rows, not the sum).")
        if not np.isclose(got, expected, rtol=1e-6):
            raise _Fail(f"expected {expected:.6f} for this batch, got {got:.6f}: only each row's true class counts.")

    def zeros_elsewhere():
        P0 = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
        Y0 = np.eye(3)[[0, 1]]
        got = cross_entropy(P0, Y0)
        if not np.isfinite(got) or not np.isclose(got, np.log(2) / 2, rtol=1e-4):
            raise _Fail(f"for P = {P0.tolist()} the loss is log(2)/2 = 0.3466; you got {got}. A probability of 0 "
                        "where Y = 0 gives 0 * log(0) = nan: clip P to [1e-12, 1] before the log.")

    return _run("cross_entropy", [("the mean loss of a batch", value),
                                  ("probabilities of exactly 0 where Y = 0", zeros_elsewhere)])


# -- gradients (03, 04, 09) -----------------------------------------------------------------------

def _rel(a, b) -> float:
    """``rel_error``, or infinity when the shapes differ (a wrong shape is a failed check, not a crash)."""
    return rel_error(a, b) if np.shape(a) == np.shape(b) else np.inf


def _grad_hint(key, mine, ref, N=None, example=False) -> str:
    """The hint for a gradient that differs from the numerical one; ``example``: worded for one example (03)."""
    mine, ref = np.asarray(mine, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if mine.shape != ref.shape:
        if mine.shape == ref.shape[::-1]:
            return (f"d{key} has shape {mine.shape}, the transpose of {key}'s {ref.shape}: a gradient has its "
                    f"parameter's shape. For dW write "
                    + ("np.outer(a_prev, delta), not np.outer(delta, a_prev)." if example else
                       "A_prev.T @ dZ, not dZ.T @ A_prev."))
        return f"d{key} has shape {mine.shape} but {key} has shape {ref.shape}: a gradient has its parameter's shape."
    if N and np.allclose(mine, ref * N, rtol=1e-4, atol=1e-10):
        return f"d{key} is {N} times too large: the loss is a mean over the batch, so dW should be divided by N."
    if N and np.allclose(mine, ref / N, rtol=1e-4, atol=1e-10):
        return f"d{key} is {N} times too small: divide by N once (dZ of the output), not again in every layer."
    if np.allclose(mine, -ref, rtol=1e-4, atol=1e-10):
        return f"d{key} has the wrong sign: the output layer's dZ is P - Y, not Y - P."
    passed = ("W @ delta (W maps a layer's input to its output, so going back it is W, not W.T, for a "
              "column of deltas), times the sigmoid's derivative a * (1 - a)" if example else
              "dZ @ W.T (W's transpose), times the activation's derivative at that layer's Z")
    return (f"d{key} differs from the numerical gradient (relative error {_rel(mine, ref):.1e}; a correct one is "
            f"below 1e-6). Check the chain rule one layer at a time, starting from the output: the gradient "
            f"passed back is {passed}.")


def check_backward_example(forward_example, backward_example) -> CheckResult:
    """Per-example backprop of a sigmoid/sigmoid/softmax network (03), against a numerical gradient.

    ``forward_example(params, x) -> (a3, cache)``; ``backward_example(params, cache, y) -> grads`` with y
    the one-hot label (10,) and grads keyed like params (W1, b1, ..., b3), for the loss -sum(y log a3).
    """
    forward_example = _theirs(forward_example, lambda out: _pair(out, "forward_example must return a pair (a3, cache)"))
    backward_example = _theirs(backward_example, lambda out: _grads(out, "backward_example"))

    rng = np.random.default_rng(3)
    sizes = [6, 5, 4, 3]
    params = {}
    for l, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"], params[f"b{l}"] = rng.uniform(-0.5, 0.5, (m, n)), rng.uniform(-0.5, 0.5, n)
    x, y = rng.random(6), np.eye(3)[1]

    def loss():
        a3, _ = forward_example(params, x)
        return -float(np.sum(y * np.log(a3)))

    def shapes():
        a3, cache = forward_example(params, x)
        grads = backward_example(params, cache, y)
        missing = sorted(set(params) - set(grads))
        if missing:
            raise _Fail(f"your gradients lack {missing}: return one per parameter, keyed like params.")
        for k in params:
            if np.shape(grads[k]) != params[k].shape:
                raise _Fail(_grad_hint(k, grads[k], params[k], example=True))

    def numerical():
        a3, cache = forward_example(params, x)
        grads = backward_example(params, cache, y)
        for k in ["W3", "b3", "W2", "b2", "W1", "b1"]:
            ref = numerical_gradient(loss, params[k])
            if _rel(grads[k], ref) > 1e-5:
                raise _Fail(_grad_hint(k, grads[k], ref, example=True) if k.startswith("W") else
                            f"d{k} differs from the numerical gradient: d{k} is the layer's delta itself "
                            f"(a bias's input is 1).")

    return _run("backward_example", [("one gradient per parameter, with its shape", shapes),
                                     ("every gradient against a numerical gradient", numerical)])


def check_forward_backward(forward, backward) -> CheckResult:
    """Vectorised backprop for any depth (04), against a numerical gradient, on batches of several rows.

    ``forward(params, X) -> (P, cache)`` for a ReLU network with a softmax output and
    ``backward(params, cache, Y) -> grads`` for the mean cross-entropy over the batch.
    """
    forward = _theirs(forward, lambda out: _pair(out, "forward must return a pair (P, cache)"))
    backward = _theirs(backward, lambda out: _grads(out, "backward"))

    rng = np.random.default_rng(4)
    sizes, N = [5, 4, 3, 2], 4      # no square W: dW = dZ.T @ A_prev has the wrong shape, dZ @ W fails

    def make(sizes):
        params = {}
        for l, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{l}"] = rng.normal(size=(m, n)) * np.sqrt(2 / m)
            params[f"b{l}"] = rng.normal(size=n) * 0.1
        return params

    params = make(sizes)
    X, Y = rng.normal(size=(N, 5)), np.eye(2)[[0, 1, 1, 0]]

    def loss():
        P, _ = forward(params, X)
        return -float(np.sum(Y * np.log(P))) / N

    def forward_shape():
        P, _ = forward(params, X)
        _shape(P, (N, 2), "Rows are examples: X is (N, n_in) and X @ W1 is (N, n_1).")
        if not np.allclose(np.sum(P, axis=1), 1):
            raise _Fail("the output rows must sum to 1: apply softmax to the last layer only, row-wise.")

    def numerical():
        P, cache = forward(params, X)
        try:
            grads = backward(params, cache, Y)
        except _Raised as raised:
            error = raised.error
            if isinstance(error, ValueError) and ("mismatch" in str(error) or "not aligned" in str(error)):
                raise _Fail(f"backward raised ValueError: {error}. The gradient passed back is dZ @ W.T (W's "
                            f"transpose), of shape (N, units of the layer below), and dW = A_prev.T @ dZ.") from None
            raise
        for k in sorted(params, key=lambda k: (-int(k[1:]), k)):
            if k not in grads:
                raise _Fail(f"your gradients lack {k}: return one per parameter, keyed like params.")
            ref = numerical_gradient(loss, params[k])
            if _rel(grads[k], ref) > 1e-5:
                hint = _grad_hint(k, grads[k], ref, N)
                if k.startswith("b") and np.shape(grads[k]) != params[k].shape:
                    hint = f"d{k} must have shape {params[k].shape}: sum dZ over the rows (axis=0)."
                raise _Fail(hint)

    def depth():
        nonlocal params
        saved, params = params, make([5, 4, 4, 4, 2])        # square layers: W for W.T gives wrong values
        try:
            numerical()
        finally:
            params = saved

    return _run("forward/backward", [("output shape and softmax rows", forward_shape),
                                     ("every gradient against a numerical gradient", numerical),
                                     ("a deeper network (4 layers)", depth)])


# -- 05 -------------------------------------------------------------------------------------------

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
        for wrong, hint in ((np.sqrt(1 / 784), "Use sqrt(2 / n_in): ReLU zeroes about half its inputs, and the 2 "
                                               "makes up for it (sqrt(1 / n_in) is LeCun's rule)."),
                            (np.sqrt(2 / 200), "Divide by the fan-in n_in (inputs per neuron), not by n_out."),
                            (2 / 784, "The standard deviation is sqrt(2 / n_in); you used the variance 2 / n_in as "
                                      "the scale."),
                            (np.sqrt(2 / 784 / 3), "Draw from a normal distribution (rng.standard_normal); a "
                                                   "uniform(-s, s) has standard deviation s / sqrt(3).")):
            if abs(std - wrong) < 0.03 * wrong and abs(std - target) > 0.03 * target:
                raise _Fail(f"the standard deviation of W is {std:.4f}; expected sqrt(2 / 784) = {target:.4f}. "
                            + hint)
        if abs(std - target) > 0.03 * target or abs(float(np.mean(W))) > 0.003:
            raise _Fail(f"W should have mean 0 and standard deviation sqrt(2 / n_in) = {target:.4f}; yours "
                        f"{float(np.mean(W)):.4f} and {std:.4f}.")

    def uses_rng():
        W1, _ = he(20, 10, np.random.default_rng(5))
        W2, _ = he(20, 10, np.random.default_rng(5))
        W3, _ = he(20, 10, np.random.default_rng(6))
        if not np.array_equal(W1, W2) or np.array_equal(W1, W3):
            raise _Fail("draw from the rng you are given (rng.standard_normal(...)), not from np.random or a "
                        "new generator, so the same seed gives the same weights.")

    return _run("he", [("shapes of W and b", shapes), ("mean 0, std sqrt(2 / n_in)", spread),
                       ("draws from the given rng", uses_rng)])


# -- 06 -------------------------------------------------------------------------------------------

def check_minibatches(minibatches) -> CheckResult:
    """``minibatches(X, Y, batch_size, rng)``: one shuffled epoch, every row once, X and Y rows together."""
    minibatches = _theirs(minibatches)
    N = 10
    X = np.arange(N * 2, dtype=np.float64).reshape(N, 2)
    Y = np.eye(N)

    def batches(seed, size=4):
        out = []
        for batch in minibatches(X, Y, size, np.random.default_rng(seed)):
            a, b = _pair(batch, "minibatches must yield pairs (X_batch, Y_batch)", "yielded")
            out.append((np.asarray(a), np.asarray(b)))
        return out

    def sizes():
        got = [len(a) for a, _ in batches(0)]
        if got == [4, 4]:
            raise _Fail("the last 2 rows are missing: keep the final, smaller batch (10 rows in batches of 4 "
                        "are 4, 4 and 2).")
        if got != [4, 4, 2]:
            raise _Fail(f"10 rows in batches of 4 should give batches of 4, 4 and 2 rows; yours have {got}.")

    def every_row_once():
        rows = np.concatenate([a[:, 0] for a, _ in batches(0)]) // 2
        if sorted(rows.tolist()) != list(range(N)):
            raise _Fail("each row must appear exactly once per epoch: index the rows with one permutation "
                        "(rng.permutation(N)), not with random draws that can repeat.")

    def paired():
        for a, b in batches(0):
            if not np.array_equal(a[:, 0] // 2, b.argmax(axis=1)):
                raise _Fail("X and Y rows no longer match: shuffle both with the same permutation.")

    def shuffled():
        orders = [np.concatenate([a[:, 0] for a, _ in batches(seed)]).tolist() for seed in (0, 1)]
        if orders[0] == sorted(orders[0]):
            raise _Fail("the rows come in their original order: shuffle them with rng.permutation(N) each epoch.")
        if orders[0] == orders[1]:
            raise _Fail("two different rngs gave the same order: draw the permutation from the rng you are given.")

    return _run("minibatches", [("batch sizes 4, 4, 2", sizes), ("every row exactly once", every_row_once),
                                ("X and Y rows stay together", paired), ("shuffled with the given rng", shuffled)])


def check_train_epoch(train_epoch) -> CheckResult:
    """``train_epoch(model, X, Y, optimizer, batch_size, rng) -> float``: one epoch of mini-batch training.

    Runs the learner's loop on a tiny float64 ``nnlib.mlp([4, 3, 10])`` and 10 examples (each its own class),
    watching every call of ``model.loss_and_grads`` (the rows it sees, the loss it returns) and of
    ``optimizer.step`` (plain SGD underneath). Expected: one step per batch, ceil(N / batch_size) of them,
    the last batch smaller; every row once per epoch, in a new order drawn from ``rng``; the parameters of
    ``model.params`` changed in place by ``optimizer.step``; and the returned loss is the epoch's mean, each
    batch's loss weighted by its number of rows.
    """
    from .networks import mlp      # here, not at the top: nnlib imports this module before its networks
    from .optim import SGD

    train_epoch = _theirs(train_epoch)

    N, size, lr = 10, 4, 0.5
    ids = np.arange(N)
    X = np.column_stack([ids / 8, np.random.default_rng(9).normal(size=(N, 3))])   # column 0 names the row
    Y = np.eye(N)[ids]                                                     # and so does its class

    class Watched:
        """The model's loss_and_grads and an optimiser's step, each call recorded."""

        def __init__(self):
            self.model = mlp([4, 3, N], rng=0, dtype=np.float64)
            self.live = dict(self.model.params)
            self.calls, self.steps, self.lr = [], [], lr
            real = self.model.loss_and_grads

            def loss_and_grads(Xb, Yb, *args, **kwargs):
                loss, grads, out = real(Xb, Yb, *args, **kwargs)
                rows = np.rint(np.asarray(Xb)[:, 0] * 8).astype(int).tolist()
                paired = np.array_equal(np.asarray(Yb).argmax(axis=1), Y[rows].argmax(axis=1))
                self.calls.append((rows, float(loss), {k: np.array(g) for k, g in grads.items()}, paired))
                return loss, grads, out

            self.model.loss_and_grads = loss_and_grads
            self._sgd = SGD(lr)

        def step(self, params, grads):
            live = all(k in params and params[k] is p for k, p in self.live.items())
            self.steps.append((live, {k: np.array(g) for k, g in grads.items()}, len(self.calls)))
            self._sgd.step(params, grads)

        def rows(self):
            return [r for rows, *_ in self.calls for r in rows]

    def epoch(batch_size=size, seed=0):
        w = Watched()
        w.loss = train_epoch(w.model, X, Y, w, batch_size, np.random.default_rng(seed))
        return w

    def steps():
        w = epoch()
        n, sizes = len(w.steps), [len(rows) for rows, *_ in w.calls]
        if n == 0:
            raise _Fail("optimizer.step was never called: after each batch's loss_and_grads, call "
                        "optimizer.step(model.params, grads), which updates the parameters in place.")
        if n == 2 and sorted(sizes) == [4, 4]:
            raise _Fail("2 steps for 10 rows in batches of 4: the last, smaller batch (2 rows) was dropped. Take "
                        "a step on every batch that minibatches yields: 4, 4 and then 2 rows.")
        if n == 1 and len(w.calls) > 1:
            raise _Fail(f"one step for {len(w.calls)} batches: call optimizer.step inside the loop, once per "
                        f"batch, not once after it.")
        if sizes == [N]:
            raise _Fail(f"one batch of all {N} rows: pass batch_size (here 4) on to minibatches.")
        if len(w.calls) != n:
            raise _Fail(f"model.loss_and_grads was called {len(w.calls)} times and optimizer.step {n} times: "
                        f"one of each per batch (the loss comes with the gradients).")
        if n != 3 or sorted(sizes) != [2, 4, 4]:
            raise _Fail(f"10 rows in batches of 4 take ceil(10 / 4) = 3 steps, on batches of 4, 4 and 2 rows; "
                        f"yours took {n} steps, on batches of {sizes} rows.")

    def every_row_once():
        w = epoch()
        seen = sorted(w.rows())
        if seen != list(range(N)):
            missing = sorted(set(range(N)) - set(seen))
            repeated = sorted({r for r in seen if seen.count(r) > 1})
            if missing and repeated:
                raise _Fail(f"rows {repeated} were used more than once and rows {missing} never: take every batch "
                            f"of the epoch from one call of minibatches(X, Y, batch_size, rng), which uses one "
                            f"permutation of the rows.")
            if missing:
                raise _Fail(f"rows {missing} were never used in the epoch: loop over all the batches.")
            raise _Fail(f"rows {repeated} were used more than once in one epoch: one pass over the batches of "
                        f"one minibatches(...) call is one epoch.")
        if not all(paired for *_, paired in w.calls):
            raise _Fail("the rows of Xb and Yb no longer match: take both from the same batch, "
                        "for Xb, Yb in minibatches(X, Y, batch_size, rng).")

    def shuffled():
        order = epoch().rows()
        if order == sorted(order):
            raise _Fail("the rows come in their original order: let minibatches shuffle them, with the rng "
                        "you are given, at every epoch.")
        if order == epoch(seed=1).rows():
            raise _Fail("two different rngs gave the same order: pass the rng you are given to minibatches.")
        w, rng = Watched(), np.random.default_rng(0)
        train_epoch(w.model, X, Y, w, size, rng)
        first = w.rows()
        train_epoch(w.model, X, Y, w, size, rng)
        if w.rows()[N:] == first:
            raise _Fail("two epochs with the same rng saw the rows in the same order: pass that rng itself to "
                        "minibatches, so that each epoch draws a new permutation (a fixed seed such as "
                        "np.random.default_rng(0) inside train_epoch repeats the order).")

    def in_place():
        w = epoch()
        if not all(live for live, *_ in w.steps):
            raise _Fail("optimizer.step got other arrays than the model's: pass model.params itself, whose "
                        "arrays the step changes in place (a copy would leave the model as it was).")
        for live, grads, calls in w.steps:
            last = w.calls[calls - 1][2] if calls else {}
            if set(grads) != set(last) or not all(_close(grads[k], last[k], rtol=1e-12, atol=0) for k in last):
                raise _Fail("optimizer.step must get the gradients that model.loss_and_grads has just returned "
                            "for this batch, unchanged.")
        replay = mlp([4, 3, N], rng=0, dtype=np.float64)
        sgd = SGD(lr)
        for rows, *_ in w.calls:
            _, grads, _ = replay.loss_and_grads(X[rows], Y[rows])
            sgd.step(replay.params, grads)
        for k, p in replay.params.items():
            if not _close(w.model.params[k], p, rtol=1e-9, atol=1e-12):
                raise _Fail(f"after the epoch {k} differs from the same batches stepped one after the other: "
                            f"call loss_and_grads on the current parameters, then step, batch after batch.")

    def weighted_loss():
        w = epoch()
        got = w.loss
        if got is None:
            raise _Fail("train_epoch returned None: return the epoch's mean loss, a float.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise _Fail(f"return one number, the epoch's mean loss; yours is {type(got).__name__} "
                        f"{np.shape(got)}.") from None
        losses = np.array([loss for _, loss, *_ in w.calls])
        sizes = np.array([len(rows) for rows, *_ in w.calls])
        expected = float(losses @ sizes) / N

        def near(value):
            return np.isclose(got, value, rtol=1e-9, atol=0)

        if near(expected):
            return
        if near(losses.mean()):
            raise _Fail(f"you returned the plain mean of the {len(losses)} batch losses, so the last batch, with "
                        f"only {sizes[-1]} rows, counts as much as one of {size}. Weight each batch's loss by its "
                        f"number of rows: the sum of loss * len(Xb), divided by N.")
        if near(losses @ sizes):
            raise _Fail(f"divide the sum of loss * len(Xb) by N (the {N} examples), to get a mean per example.")
        if near(losses.sum()):
            raise _Fail("you summed the batch losses, each already a mean over its batch: weight each by its "
                        "number of rows and divide by N.")
        if near(losses[-1]):
            raise _Fail("you returned the last batch's loss: return the mean over the whole epoch, each batch's "
                        "loss weighted by its number of rows.")
        raise _Fail(f"expected {expected:.6f} (the batch losses weighted by their rows, divided by N = {N}); "
                    f"got {got:.6f}. Add up loss * len(Xb) with the loss loss_and_grads returned for each batch.")

    def full_batch():
        ref = mlp([4, 3, N], rng=0, dtype=np.float64)
        loss, grads, _ = ref.loss_and_grads(X, Y)
        SGD(lr).step(ref.params, grads)
        for batch_size in (N, N + 6):
            w = epoch(batch_size)
            if len(w.steps) != 1:
                raise _Fail(f"with batch_size={batch_size} >= N = {N} the whole set is one batch: one epoch is "
                            f"one step; yours took {len(w.steps)}.")
            for k, p in ref.params.items():
                if not _close(w.model.params[k], p, rtol=1e-9, atol=1e-12):
                    raise _Fail(f"with batch_size={batch_size} >= N one epoch is one full-batch gradient step, "
                                f"but your {k} differs from it.")
            if w.loss is None or not np.isclose(float(w.loss), loss, rtol=1e-9, atol=0):
                raise _Fail(f"with batch_size={batch_size} >= N the epoch's loss is the full-batch loss "
                            f"{loss:.6f}; yours is {w.loss}.")

    return _run("train_epoch", [("one step per batch: 10 rows in batches of 4 are 3 steps", steps),
                                ("every row once per epoch, X and Y rows together", every_row_once),
                                ("shuffled with the given rng, a new order every epoch", shuffled),
                                ("model.params changed in place by optimizer.step", in_place),
                                ("the epoch's loss, batch losses weighted by their sizes", weighted_loss),
                                ("batch_size >= N is one full-batch step", full_batch)],
                hint_on_error="call model.loss_and_grads(Xb, Yb) and optimizer.step(model.params, grads) for each "
                              "batch of minibatches(X, Y, batch_size, rng); run your loop on a small X yourself.")


# -- 07 and 10: optimisers ------------------------------------------------------------------------

def _trajectory(make, steps, shapes=((3, 2), (2,))):
    rng = np.random.default_rng(7)
    params = {f"p{i}": np.ones(s) for i, s in enumerate(shapes)}
    grads = [{k: rng.normal(size=v.shape) * rng.choice([1e-3, 1.0, 50.0]) for k, v in params.items()}
             for _ in range(steps)]
    opt = _yours(make)
    out = []
    for g in grads:
        _yours(lambda: opt.step(params, {k: v.copy() for k, v in g.items()}))
        out.append({k: v.copy() for k, v in params.items()})
    return out, grads


def _in_place(make):
    """One step must change the arrays of ``params`` themselves, not put new arrays into the dict."""
    params = {"p0": np.ones((3, 2)), "p1": np.ones(2)}
    own = dict(params)
    _yours(lambda: make().step(params, {k: np.full(v.shape, 0.5) for k, v in params.items()}))
    for k, array in own.items():
        if params[k] is not array or np.all(array == 1):
            raise _Fail(f"the array params[{k!r}] itself must change: update it in place (p -= lr * ..., or "
                        f"p[...] = ...). Putting a new array into the dict leaves the model's own arrays as they "
                        f"were (and nnlib's model.params is read-only).")


def check_momentum(Momentum) -> CheckResult:
    """``Momentum(lr, beta)`` with ``step(params, grads)`` in place: v = beta v + (1 - beta) g; p -= lr v."""
    lr, beta = 0.1, 0.8

    def reference(grads):
        p, v, out = {k: np.ones(g.shape) for k, g in grads[0].items()}, {}, []
        for g in grads:
            for k in p:
                v[k] = beta * v.get(k, 0) + (1 - beta) * g[k]
                p[k] = p[k] - lr * v[k]
            out.append({k: x.copy() for k, x in p.items()})
        return out

    def first_step():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 1)
        ref = reference(grads)
        for k in ref[0]:
            if _close(got[0][k], 1 - lr * grads[0][k]):
                raise _Fail("your first step is lr * g: the EMA form starts v at 0, so v = (1 - beta) g after one "
                            "step (or did you use the classical form v = beta v + g?).")
            if not _close(got[0][k], ref[0][k]):
                raise _Fail("after one step p should be p - lr * (1 - beta) * g, since v starts at zero.")

    def remembers():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 6)
        ref = reference(grads)
        for t, (a, b) in enumerate(zip(got, ref), start=1):
            for k in a:
                if not _close(a[k], b[k]):
                    raise _Fail(f"step {t} differs: keep one v per parameter between steps (e.g. a dict keyed like "
                                f"params, in self), and update it as v = beta * v + (1 - beta) * g.")

    def separate():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 3, shapes=((2, 2), (2, 2)))
        ref = reference(grads)
        if not all(_close(got[-1][k], ref[-1][k]) for k in ref[-1]):
            raise _Fail("two parameters of the same shape share one velocity: keep a separate v for each key.")

    return _run("momentum", [("the first step", first_step), ("six steps (v is kept)", remembers),
                             ("one velocity per parameter", separate),
                             ("the parameters change in place", lambda: _in_place(lambda: Momentum(lr, beta)))])


def check_adam(Adam) -> CheckResult:
    """``Adam(lr, beta1, beta2, eps)`` with ``step(params, grads)``: moments, bias correction with t, in place."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8

    def reference(grads, correct=True):
        p, m, s, out = {k: np.ones(g.shape) for k, g in grads[0].items()}, {}, {}, []
        for t, g in enumerate(grads, start=1):
            for k in p:
                m[k] = b1 * m.get(k, 0) + (1 - b1) * g[k]
                s[k] = b2 * s.get(k, 0) + (1 - b2) * g[k] ** 2
                mh, sh = (m[k] / (1 - b1 ** t), s[k] / (1 - b2 ** t)) if correct else (m[k], s[k])
                p[k] = p[k] - lr * mh / (np.sqrt(sh) + eps)
            out.append({k: x.copy() for k, x in p.items()})
        return out

    def first_step():
        got, grads = _trajectory(lambda: Adam(lr, b1, b2, eps), 1)
        for k, g in grads[0].items():
            expected = 1 - lr * np.sign(g)
            if _close(got[0][k], 1 + lr * np.sign(g)):
                raise _Fail("your step goes uphill: p -= lr * m_hat / (sqrt(s_hat) + eps).")
            if not _close(got[0][k], expected, rtol=1e-5):
                uncorrected = reference(grads, correct=False)[0][k]
                if _close(got[0][k], uncorrected):
                    raise _Fail("your first step is about 3 times lr, where Adam's is lr: without bias correction m "
                                "and s start near 0, and s (1 - beta2 = 0.001 of g**2) far more so than m (0.1 of g), "
                                "so m / sqrt(s) is about 0.1 / 0.032. Divide m by (1 - beta1**t) and s by "
                                "(1 - beta2**t), t counted from 1.")
                raise _Fail("Adam's first step moves every parameter by lr against the sign of its gradient "
                            "(m_hat / sqrt(s_hat) = g / |g|); yours does not.")

    def later_steps():
        got, grads = _trajectory(lambda: Adam(lr, b1, b2, eps), 8)
        ref = reference(grads)
        for t, (a, b) in enumerate(zip(got, ref), start=1):
            for k in a:
                if not _close(a[k], b[k], rtol=1e-6):
                    raise _Fail(f"step {t} differs: keep m, s (one per parameter) and the step count t between "
                                f"steps; t grows by one per step() call, and the bias corrections use it.")

    return _run("adam", [("the first step (bias correction)", first_step),
                         ("eight steps (m, s and t are kept)", later_steps),
                         ("the parameters change in place", lambda: _in_place(lambda: Adam(lr, b1, b2, eps)))])


# -- 09 -------------------------------------------------------------------------------------------

def check_layer(layer_class, *args, **kwargs) -> CheckResult:
    """A layer class with nnlib's contract, checked against numerical gradients in float64.

    ``layer = layer_class(*args, **kwargs)``; ``layer.forward(X, training) -> (out, cache)``;
    ``layer.backward(dout, cache) -> dX`` that also fills ``layer.grads`` (keyed like ``layer.params``).
    Parameters are cast to float64 for the check. A layer that draws random numbers (dropout) keeps its
    generator in ``layer.rng``, which is rewound before every forward pass, so all of them draw the same mask.
    A loss layer (``is_loss``, like ``SoftmaxCrossEntropy``) has no backward: its
    ``loss_grad(out, Y, cache) -> (loss, dZ)`` is checked against the numerical gradient of that loss instead.
    """
    rng = np.random.default_rng(8)

    def make():
        layer = _yours(layer_class, *args, **kwargs)
        layer.params = {k: np.asarray(v, dtype=np.float64).copy() for k, v in getattr(layer, "params", {}).items()}
        return layer

    def n_in(layer):
        W, n = layer.params.get("W"), getattr(layer, "n_in", None)
        return W.shape[0] if W is not None else n if isinstance(n, int) else 6

    def inputs(layer):
        X = rng.normal(size=(4, n_in(layer)))
        X[np.abs(X) < 0.05] = 0.1          # away from ReLU's kink at 0
        return X

    def frozen(layer):
        """The learner's forward in training mode, its generator (if any) rewound before each call."""
        rewind, _ = _frozen([layer])

        def forward(X):
            rewind()
            return _yours(lambda: layer.forward(X, True))

        return forward

    def forward_shape():
        layer = make()
        out = frozen(layer)(inputs(layer))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise _Fail("forward returns a pair (out, cache): the cache is what backward will need.")

    def gradients():
        layer = make()
        forward, X = frozen(layer), inputs(layer)
        out, cache = forward(X)
        dout = rng.normal(size=np.shape(out))
        try:
            dX = _yours(lambda: layer.backward(dout, cache))
        except _Raised as raised:
            error = raised.error
            if isinstance(error, ValueError) and "W" in layer.params and ("mismatch" in str(error)
                                                                           or "not aligned" in str(error)):
                raise _Fail(f"backward raised ValueError: {error}. dX = dout @ W.T has shape (N, n_in): check "
                            f"for W where W.T belongs (and for X where X.T belongs in dW = X.T @ dout).") from None
            raise

        def f():
            return float(np.sum(forward(X)[0] * dout))

        ref = numerical_gradient(f, X)
        if np.shape(dX) != X.shape:
            raise _Fail(f"dX has shape {np.shape(dX)} but X has {X.shape}: for a linear layer dX = dout @ W.T.")
        if _rel(dX, ref) > 1e-5:
            if type(layer).__name__.lower().startswith("relu") or not layer.params:
                raise _Fail("dX differs from the numerical gradient: the gradient passes where the input Z > 0 "
                            "(keep Z, or A, in the cache) and is 0 elsewhere.")
            W = layer.params.get("W")
            if W is not None and W.shape[0] == W.shape[1] and _close(dX, dout @ W):
                raise _Fail("dX = dout @ W.T: you used W where its transpose belongs.")
            raise _Fail(_grad_hint("X", dX, ref))
        grads = getattr(layer, "grads", {})
        for k, p in layer.params.items():
            if k not in grads:
                raise _Fail(f"backward must store the gradient of {k} in self.grads['{k}'].")
            num = numerical_gradient(f, p)
            if _rel(grads[k], num) > 1e-5:
                raise _Fail(_grad_hint(k, grads[k], num) if np.shape(grads[k]) != p.shape or k == "W" else
                            f"d{k} differs from the numerical gradient: db is dout summed over the rows (axis=0).")

    def loss_gradient():
        layer = make()
        forward, Z = frozen(layer), inputs(layer)
        Y = np.eye(Z.shape[1])[rng.integers(0, Z.shape[1], len(Z))]

        def loss_grad():
            out, cache = forward(Z)
            return _pair(_yours(lambda: layer.loss_grad(out, Y, cache)), "loss_grad must return a pair (loss, dZ)")

        dZ = loss_grad()[1]
        ref = numerical_gradient(lambda: _number(loss_grad()[0], "loss_grad must return the loss as one number"), Z)
        if _rel(dZ, ref) > 1e-5:
            raise _Fail(_grad_hint("Z", dZ, ref) if np.shape(dZ) != Z.shape else
                        "dZ differs from the numerical gradient of the loss: for softmax with cross-entropy (the "
                        "mean over the rows) it is (P - Y) / N.")

    if getattr(layer_class, "is_loss", False):
        return _run(f"{getattr(layer_class, '__name__', 'layer')}",
                    [("forward returns (out, cache)", forward_shape),
                     ("loss_grad's dZ against a numerical gradient of the loss", loss_gradient)])
    return _run(f"{getattr(layer_class, '__name__', 'layer')}",
                [("forward returns (out, cache)", forward_shape),
                 ("dX and every parameter's gradient against a numerical gradient", gradients)])
