"""The two teaching forms of a network, as finished pieces.

1. ``PerExampleNetwork``: the sigmoid/softmax network of notebook 04, trained
   the way the blog post "Coding a Neural Network from scratch" does it: one example at a time, each weight
   gradient an outer product ``np.outer(a_prev, dz)``, summed over the batch.
   Slow on purpose: it is the loop you can read line by line.
2. ``mlp(sizes)``: the vectorised network of notebook 05, for any depth, e.g.
   ``mlp([784, 256, 128, 64, 10])``; a whole batch moves through each layer as
   one matrix product. It is a :class:`~nnlib.layers.Model`, nnlib's fast path.

Both store parameters in a dict ``W1, b1, W2, b2, ...`` with ``W_l`` of shape
(n_{l-1}, n_l) and ``b_l`` of shape (n_l,), drawn in the same order, so the same
seed gives both networks the same starting point.
"""

from __future__ import annotations

import numpy as np

from .functional import sigmoid, softmax
from .init import as_rng, init_layer
from .inputs import as_features, as_targets
from .layers import BatchNorm, Dropout, Linear, Model, ReLU, Sigmoid, SoftmaxCrossEntropy
from .losses import cross_entropy_with_logits

__all__ = ["init_params", "forward_example", "backward_example", "PerExampleNetwork", "mlp"]

HIDDEN = {"relu": ReLU, "sigmoid": Sigmoid}


def _check_sizes(sizes) -> list:
    try:
        sizes = list(sizes)
    except TypeError:
        raise ValueError(f"sizes must be a list of layer widths like [784, 100, 10], got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    for i, n in enumerate(sizes):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"every size must be a positive whole number; got {n!r} at position {i} of {sizes}")
    return [int(n) for n in sizes]


def init_params(sizes, init="uniform", rng=0, dtype=np.float64) -> dict:
    """Parameters ``{'W1': (n0, n1), 'b1': (n1,), ...}`` for layer sizes like [784, 16, 16, 10]."""
    sizes = _check_sizes(sizes)
    rng = as_rng(rng)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"], params[f"b{l}"] = init_layer(init, n_in, n_out, rng, dtype=dtype)
    return params


def _depth(params) -> int:
    return sum(1 for k in params if k.startswith("W"))


def forward_example(params, x):
    """One example x (n0,) through sigmoid hidden layers and a softmax output.

    Returns ``(a_out, cache)`` with ``cache = [a0, z1, a1, ..., zL, aL]``.
    """
    a, cache = x, [x]
    L = _depth(params)
    for l in range(1, L + 1):
        z = a @ params[f"W{l}"] + params[f"b{l}"]
        a = softmax(z) if l == L else sigmoid(z)
        cache += [z, a]
    return a, cache


def backward_example(params, cache, y):
    """Gradients of the cross-entropy of one example, with one-hot target y (C,).

    At the softmax output dz = a - y; going back, dz_{l} = (W_{l+1} dz_{l+1}) * a_l (1 - a_l);
    each dW_l = outer(a_{l-1}, dz_l) and db_l = dz_l.
    """
    L = _depth(params)
    grads = {}
    dz = cache[-1] - y
    for l in range(L, 0, -1):
        a_prev = cache[2 * l - 2]
        grads[f"W{l}"] = np.outer(a_prev, dz)
        grads[f"b{l}"] = dz
        if l > 1:
            dz = (params[f"W{l}"] @ dz) * a_prev * (1 - a_prev)
    return grads


class PerExampleNetwork:
    """Sigmoid hidden layers, softmax output, backprop one example at a time.

    ``loss_and_grads(X, Y)`` loops over the rows of X, adds up each example's
    gradients and divides by N: the same numbers as the vectorised network,
    computed the slow, readable way.
    """

    def __init__(self, sizes=(784, 16, 16, 10), init="uniform", rng=0, dtype=np.float64):
        self.sizes = _check_sizes(sizes)
        self.params = init_params(self.sizes, init, rng, dtype)
        self.n_in, self.n_out = self.sizes[0], self.sizes[-1]
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"PerExampleNetwork(sizes={self.sizes})"

    def check_input(self, X, name: str = "X"):
        """X (N, n_in) of floats, cast to the network's dtype (see ``nnlib.inputs.as_features``)."""
        return as_features(X, self.n_in, self.dtype, name)

    def check_targets(self, Y, n: int, name: str = "X"):
        """Labels (n,) or one-hot rows (n, n_out) as ``(Y one-hot, labels)``."""
        return as_targets(Y, n, self.n_out, self.dtype, name)

    def predict_proba(self, X):
        X = self.check_input(X)
        return np.array([forward_example(self.params, x)[0] for x in X]).reshape(len(X), self.n_out)

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)

    def _run(self, X, Y, grads: bool):
        if grads:
            total = {k: np.zeros_like(v) for k, v in self.params.items()}
        outputs = np.empty((len(X), self.n_out), dtype=self.dtype)
        logits = np.empty_like(outputs)
        for i, (x, y) in enumerate(zip(X, Y)):
            outputs[i], cache = forward_example(self.params, x)
            logits[i] = cache[-2]
            if grads:
                for k, g in backward_example(self.params, cache, y).items():
                    total[k] += g
        loss = cross_entropy_with_logits(logits, Y)  # the loss every nnlib model reports
        if not grads:
            return loss, outputs
        for g in total.values():
            g /= len(X)
        return loss, total, outputs

    def loss_and_grads(self, X, Y, validate: bool = True):
        """Returns ``(mean loss, mean gradients keyed like params, outputs (N, C))``; Y labels or one-hot."""
        if validate:
            X = self.check_input(X)
            Y, _ = self.check_targets(Y, len(X))
        return self._run(X, Y, grads=True)

    def loss_and_output(self, X, Y, validate: bool = True):
        """``(mean loss, outputs (N, C))``, without gradients."""
        if validate:
            X = self.check_input(X)
            Y, _ = self.check_targets(Y, len(X))
        return self._run(X, Y, grads=False)


def mlp(
    sizes,
    hidden="relu",
    output="softmax",
    init="he",
    rng=0,
    dtype=np.float32,
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> Model:
    """A fully connected network for layer sizes like [784, 256, 128, 64, 10].

    ``hidden``: 'relu' or 'sigmoid' between layers. ``output``: 'softmax'
    (trained with cross-entropy) or 'sigmoid' (trained with squared error).
    ``dropout``: if > 0, a Dropout layer with this probability after every hidden activation.
    ``batchnorm``: a BatchNorm layer between every hidden Linear layer and its activation
    (its parameters are then named W1, b1, gamma2, beta2, W3, b3, ...).
    """
    sizes = _check_sizes(sizes)
    if hidden not in HIDDEN:
        raise ValueError(f"hidden must be one of {sorted(HIDDEN)}, got {hidden!r}")
    if output not in ("softmax", "sigmoid"):
        raise ValueError(f"output must be 'softmax' or 'sigmoid', got {output!r}")
    rng = as_rng(rng)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if l < len(sizes) - 1:
            if batchnorm:
                layers.append(BatchNorm(n_out, dtype=dtype))
            layers.append(HIDDEN[hidden]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    layers.append(SoftmaxCrossEntropy() if output == "softmax" else Sigmoid())
    return Model(layers)
