"""Checks of backpropagation by hand: per example (notebook 04) and vectorised for any depth (04)."""

from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient
from ._core import CheckResult, _Fail, _grad_hint, _grads, _pair, _Raised, _rel, _run, _shape, _theirs


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

    def backward():
        a3, cache = forward_example(params, x)
        try:
            return backward_example(params, cache, y)
        except _Raised as raised:
            error = raised.error
            if isinstance(error, ValueError) and ("mismatch" in str(error) or "not aligned" in str(error)):
                raise _Fail(
                    f"backward_example raised ValueError: {error}. Our W has shape (n_in, n_out) (z = a @ W "
                    f"+ b), the transpose of the column convention z = W a + b (Nielsen's), so the delta "
                    f"passed back is W @ delta, not W.T @ delta; and dW = np.outer(a_prev, delta)."
                ) from None
            raise

    def shapes():
        grads = backward()
        missing = sorted(set(params) - set(grads))
        if missing:
            raise _Fail(f"your gradients lack {missing}: return one per parameter, keyed like params.")
        for k in params:
            if np.shape(grads[k]) != params[k].shape:
                raise _Fail(_grad_hint(k, grads[k], params[k], example=True))

    def numerical():
        grads = backward()
        for k in ["W3", "b3", "W2", "b2", "W1", "b1"]:
            ref = numerical_gradient(loss, params[k])
            if _rel(grads[k], ref) > 1e-5:
                raise _Fail(
                    _grad_hint(k, grads[k], ref, example=True)
                    if k.startswith("W")
                    else f"d{k} differs from the numerical gradient: d{k} is the layer's delta itself "
                    f"(a bias's input is 1)."
                )

    return _run(
        "backward_example",
        [
            ("one gradient per parameter, with its shape", shapes),
            ("every gradient against a numerical gradient", numerical),
        ],
    )


def check_forward_backward(forward, backward) -> CheckResult:
    """Vectorised backprop for any depth (04), against a numerical gradient, on batches of several rows.

    ``forward(params, X, hidden="relu") -> (P, cache)`` for a network with a softmax output and
    ``backward(params, cache, Y, hidden="relu") -> grads`` for the mean cross-entropy over the batch; the
    four-layer case runs ``hidden="sigmoid"`` too.
    """
    forward = _theirs(forward, lambda out: _pair(out, "forward must return a pair (P, cache)"))
    backward = _theirs(backward, lambda out: _grads(out, "backward"))

    rng = np.random.default_rng(4)
    sizes, N = [5, 4, 3, 2], 4  # no square W: dW = dZ.T @ A_prev has the wrong shape, dZ @ W fails

    def make(sizes):
        params = {}
        for l, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{l}"] = rng.normal(size=(m, n)) * np.sqrt(2 / m)
            params[f"b{l}"] = rng.normal(size=n) * 0.1
        return params

    params = make(sizes)
    X, Y = rng.normal(size=(N, 5)), np.eye(2)[[0, 1, 1, 0]]

    hidden = "relu"  # the depth case runs the sigmoid network too

    def which():  # the default, ReLU, is not passed: hidden= only where it matters
        return {} if hidden == "relu" else {"hidden": hidden}

    def loss():
        P, _ = forward(params, X, **which())
        return -float(np.sum(Y * np.log(P))) / N

    def forward_shape():
        P, _ = forward(params, X)
        _shape(P, (N, 2), "Rows are examples: X is (N, n_in) and X @ W1 is (N, n_1).")
        if not np.allclose(np.sum(P, axis=1), 1):
            raise _Fail("the output rows must sum to 1: apply softmax to the last layer only, row-wise.")

    def numerical():
        P, cache = forward(params, X, **which())
        try:
            grads = backward(params, cache, Y, **which())
        except _Raised as raised:
            error = raised.error
            if isinstance(error, ValueError) and ("mismatch" in str(error) or "not aligned" in str(error)):
                raise _Fail(
                    f"backward raised ValueError: {error}. The gradient passed back is dZ @ W.T (W's "
                    f"transpose), of shape (N, units of the layer below), and dW = A_prev.T @ dZ."
                ) from None
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
        nonlocal params, hidden
        saved, params = params, make([5, 4, 4, 4, 2])  # square layers: W for W.T gives wrong values
        try:
            numerical()
            hidden = "sigmoid"  # relu'(A) = relu'(Z): only sigmoid tells them apart
            try:
                numerical()
            except _Raised as raised:
                if isinstance(raised.error, TypeError) and "hidden" in str(raised.error):
                    raise _Fail(
                        "forward and backward take the activation's name as a last argument, "
                        'hidden="relu" by default, and this case runs them with hidden="sigmoid".'
                    ) from None
                raise
            except _Fail:
                raise _Fail(
                    "your ReLU gradients are right but those of hidden='sigmoid' are not: in backward use "
                    "g' = ACTIVATIONS[hidden][1] (not ReLU's whatever hidden is), evaluated at the layer's "
                    "pre-activation Z from the cache, not at its output A."
                ) from None
        finally:
            params, hidden = saved, "relu"

    return _run(
        "forward/backward",
        [
            ("output shape and softmax rows", forward_shape),
            ("every gradient against a numerical gradient", numerical),
            ("a deeper network (4 layers), ReLU and sigmoid", depth),
        ],
    )
