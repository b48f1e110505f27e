"""The check of a layer class with nnlib's contract (notebook 10), against numerical gradients.

The layer may take examples of any shape: rows (N, n_in), or images (N, C, H, W) for a convolution. The check
feeds it a batch of 4 examples of the layer's input shape: the argument ``input_shape`` if given, else the
layer's own ``input_shape`` (a tuple) or ``n_in`` (an int, or a tuple for a layer on images), else 6 features
(a layer such as ReLU takes any width).
It never reshapes anything itself, so an error in a forward or backward pass is the learner's.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import _frozen, numerical_gradient
from ._core import CheckResult, _close, _Fail, _grad_hint, _number, _pair, _Raised, _rel, _run, _yours

BATCH = 4  # examples per input batch
ANY_WIDTH = 6  # features for a layer that takes any width


def _example_shape(layer, input_shape) -> tuple:
    """The shape of one example the check feeds ``layer`` (see the module docstring)."""
    shape = input_shape
    if shape is None:
        shape = getattr(layer, "input_shape", None)
        shape = shape if isinstance(shape, tuple) else getattr(layer, "n_in", None)
    if shape is None:
        if getattr(layer, "params", None):
            raise _Fail(
                "the check needs your layer's input size: set self.n_in in __init__ (an int, or the "
                "shape of one example, such as (1, 28, 28)), or pass input_shape=... to check_layer."
            )
        return (ANY_WIDTH,)
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) and shape > 0:
        return (int(shape),)
    if isinstance(shape, tuple) and shape and all(isinstance(n, (int, np.integer)) and n > 0 for n in shape):
        return tuple(int(n) for n in shape)
    raise _Fail(
        f"n_in (or input_shape) must be a positive int or a tuple of them, the shape of one example; got {shape!r}."
    )


def _is_matrix_layer(layer) -> bool:
    """A layer whose weight W is a matrix (n_in, n_out) applied as X @ W, so that the hints about W.T fit."""
    W = layer.params.get("W")
    return W is not None and np.ndim(W) == 2


def check_layer(layer_class, *args, input_shape=None, **kwargs) -> CheckResult:
    """A layer class with nnlib's contract, checked against numerical gradients in float64.

    ``layer = layer_class(*args, **kwargs)``; ``layer.forward(X, training) -> (out, cache)``;
    ``layer.backward(dout, cache) -> dX`` that also fills ``layer.grads`` (keyed like ``layer.params``).
    X is a batch of 4 examples of shape ``input_shape`` (an int or a tuple such as (1, 8, 8)), by default the
    layer's own ``input_shape`` or ``n_in``. Parameters are cast to float64 for the check. A layer that draws random numbers
    (dropout) keeps its generator in ``layer.rng``, which is rewound before every forward pass, so all of them
    draw the same mask. A loss layer (``is_loss``, like ``SoftmaxCrossEntropy``) is checked through what a model
    uses of it, ``loss_grad(out, Y, cache) -> (loss, dZ)``, against the numerical gradient of that loss.
    """
    rng = np.random.default_rng(8)

    def make():
        layer = _yours(layer_class, *args, **kwargs)
        layer.params = {k: np.asarray(v, dtype=np.float64).copy() for k, v in getattr(layer, "params", {}).items()}
        return layer

    def inputs(layer):
        X = rng.normal(size=(BATCH, *_example_shape(layer, input_shape)))
        X[np.abs(X) < 0.05] = 0.1  # away from ReLU's kink at 0
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
        dX = _backward(layer, dout, cache)

        def f():
            return float(np.sum(forward(X)[0] * dout))

        ref = numerical_gradient(f, X)
        if np.shape(dX) != X.shape:
            raise _Fail(
                f"dX has shape {np.shape(dX)} but X has {X.shape}: dX has the shape of the layer's input"
                + (", dX = dout @ W.T." if _is_matrix_layer(layer) else ".")
            )
        if _rel(dX, ref) > 1e-5:
            raise _Fail(_dX_hint(layer, dX, ref, dout))
        grads = getattr(layer, "grads", {})
        for k, p in layer.params.items():
            if k not in grads:
                raise _Fail(f"backward must store the gradient of {k} in self.grads['{k}'].")
            num = numerical_gradient(f, p)
            if _rel(grads[k], num) > 1e-5:
                raise _Fail(_param_hint(layer, k, grads[k], num))

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
            raise _Fail(
                _grad_hint("Z", dZ, ref)
                if np.shape(dZ) != Z.shape
                else "dZ differs from the numerical gradient of the loss: for softmax with cross-entropy (the "
                "mean over the rows) it is (P - Y) / N."
            )

    name = getattr(layer_class, "__name__", "layer")
    if getattr(layer_class, "is_loss", False):
        return _run(
            name,
            [
                ("forward returns (out, cache)", forward_shape),
                ("loss_grad's dZ against a numerical gradient of the loss", loss_gradient),
            ],
        )
    return _run(
        name,
        [
            ("forward returns (out, cache)", forward_shape),
            ("dX and every parameter's gradient against a numerical gradient", gradients),
        ],
    )


def _backward(layer, dout, cache):
    """The learner's ``backward(dout, cache)``, with a hint for the usual shape error of a linear layer."""
    try:
        return _yours(lambda: layer.backward(dout, cache))
    except _Raised as raised:
        error = raised.error
        if (
            isinstance(error, ValueError)
            and _is_matrix_layer(layer)
            and ("mismatch" in str(error) or "not aligned" in str(error))
        ):
            raise _Fail(
                f"backward raised ValueError: {error}. dX = dout @ W.T has shape (N, n_in): check "
                f"for W where W.T belongs (and for X where X.T belongs in dW = X.T @ dout)."
            ) from None
        raise


def _dX_hint(layer, dX, ref, dout) -> str:
    """The hint for a dX of the right shape that differs from the numerical gradient."""
    if "relu" in type(layer).__name__.lower():
        return (
            "dX differs from the numerical gradient: the gradient passes where the input Z > 0 "
            "(keep Z, or A, in the cache) and is 0 elsewhere."
        )
    if _is_matrix_layer(layer):
        W = layer.params["W"]
        if W.shape[0] == W.shape[1] and dout.ndim == 2 and dout.shape[1] == W.shape[0] and _close(dX, dout @ W):
            return "dX = dout @ W.T: you used W where its transpose belongs."
        return _grad_hint("X", dX, ref)
    return (
        f"dX differs from the numerical gradient (relative error {_rel(dX, ref):.1e}; a correct one is below "
        f"1e-6): backward must return how sum(out * dout) changes with each entry of X. Work out one entry "
        f"by hand on a tiny input, and check that the cache holds what forward saw."
    )


def _param_hint(layer, k, grad, num) -> str:
    """The hint for a parameter's gradient that differs from the numerical one."""
    if np.shape(grad) != np.shape(num) or (k == "W" and _is_matrix_layer(layer)):
        return _grad_hint(k, grad, num)
    if k == "b" and _is_matrix_layer(layer):
        return f"d{k} differs from the numerical gradient: db is dout summed over the rows (axis=0)."
    return (
        f"d{k} differs from the numerical gradient (relative error {_rel(grad, num):.1e}): {k} touches every "
        f"example, so its gradient sums the contributions of all of them."
    )
