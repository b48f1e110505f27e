"""Layers with a forward pass that returns a cache and a backward pass that takes it.

Every layer follows one contract (as in cs231n's ``layers.py``)::

    out, cache = layer.forward(X)        # X (N, d_in) -> out (N, d_out)
    dX = layer.backward(dout, cache)     # dout (N, d_out) -> dX (N, d_in)

``backward`` never changes its arguments; a layer with parameters also stores
the gradients of the loss in ``layer.grads`` (same keys as ``layer.params``).
A :class:`Model` chains layers and names their parameters ``W1, b1, W2, ...``.
"""
from __future__ import annotations

import numpy as np

from .functional import log_softmax, sigmoid
from .init import as_rng, init_layer

__all__ = ["Linear", "ReLU", "Sigmoid", "Dropout", "SoftmaxCrossEntropy", "MeanSquaredError", "Model", "LAYER_TYPES"]


def check_input(X, n_in: int) -> np.ndarray:
    """X as an array of shape (N, n_in), or a ValueError that says what is wrong (and suggests X.T)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n_in:
        hint = " (examples are rows: did you mean X.T?)" if X.ndim == 2 and X.shape[0] == n_in else ""
        raise ValueError(f"X must have shape (N, {n_in}), got {X.shape}{hint}")
    return X


class Layer:
    """Base class: a layer without parameters."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def spec(self) -> dict:
        """A JSON-able description from which the layer can be rebuilt."""
        return {"type": type(self).__name__}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Affine layer ``Z = X @ W + b`` with W (n_in, n_out) and b (n_out,)."""

    def __init__(self, n_in: int, n_out: int, init: str = "he", rng=None, dtype=np.float32):
        super().__init__()
        self.n_in, self.n_out, self.init, self.dtype = int(n_in), int(n_out), init, dtype
        # Without an rng the layer starts from seed 0, and a Model it joins
        # re-draws it from the model's own generator so that layers differ.
        self.seeded = rng is not None
        self.reset(0 if rng is None else rng)

    def reset(self, rng):
        """Draw fresh parameters with this layer's init scheme."""
        W, b = init_layer(self.init, self.n_in, self.n_out, rng, dtype=self.dtype)
        self.params = {"W": W, "b": b}

    def spec(self):
        return {"type": "Linear", "n_in": self.n_in, "n_out": self.n_out, "init": self.init}

    def forward(self, X):
        """X (N, n_in) -> Z (N, n_out); the cache is X."""
        return X @ self.params["W"] + self.params["b"], X

    def backward(self, dZ, cache, need_dX: bool = True):
        """dZ (N, n_out) -> dX (N, n_in); stores dW = X.T @ dZ and db = sum of dZ over rows.

        The first layer of a model has no use for dX, so the model passes
        ``need_dX=False`` and saves the largest matrix product of the step.
        """
        X = cache
        self.grads = {"W": X.T @ dZ, "b": dZ.sum(axis=0)}
        return dZ @ self.params["W"].T if need_dX else None


class ReLU(Layer):
    """``A = max(Z, 0)``; the gradient passes where Z > 0 and is zero elsewhere."""

    def forward(self, Z):
        A = np.maximum(Z, 0)
        return A, A

    def backward(self, dA, cache):
        return np.where(cache > 0, dA, 0).astype(dA.dtype, copy=False)


class Sigmoid(Layer):
    """``A = 1 / (1 + exp(-Z))``; its derivative is A * (1 - A)."""

    def forward(self, Z):
        A = sigmoid(Z)
        return A, A

    def backward(self, dA, cache):
        A = cache
        return dA * A * (1 - A)


class Dropout(Layer):
    """Inverted dropout: while training, zero each unit with probability ``p`` and scale the rest by 1/(1-p).

    ``forward(A, training=True)`` draws a fresh mask from the layer's generator and caches it;
    with ``training=False`` (prediction) it is the identity, so nothing needs rescaling at test time.
    """

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self.seeded = rng is not None
        self.rng = as_rng(0 if rng is None else rng)

    def spec(self):
        return {"type": "Dropout", "p": self.p}

    def forward(self, A, training: bool = False):
        if not training or self.p == 0:
            return A, None
        mask = (self.rng.random(A.shape, dtype=np.float32) >= self.p).astype(A.dtype) / (1 - self.p)
        return A * mask, mask

    def backward(self, dA, cache):
        return dA if cache is None else dA * cache


class SoftmaxCrossEntropy(Layer):
    """Softmax output fused with the categorical cross-entropy loss.

    ``forward`` turns logits Z (N, C) into probabilities P (N, C).
    ``loss_grad(P, Y, cache)`` gives the mean loss and its gradient with
    respect to Z, which simplifies to ``(P - Y) / N``.
    """

    is_loss = True

    def forward(self, Z):
        """Z (N, C) -> P (N, C); the cache is log P, computed stably from Z."""
        logP = log_softmax(Z)
        return np.exp(logP), logP

    def loss_grad(self, P, Y, cache):
        """Mean cross-entropy and its gradient with respect to the logits, (P - Y) / N."""
        logP = cache
        N = logP.shape[0]
        loss = -float((Y * logP).sum()) / N
        return loss, (P - Y) / N


class MeanSquaredError:
    """Loss ``sum((A - Y)**2) / (2 N)``, used when a model's last layer is not a loss layer."""

    def __call__(self, A, Y):
        D = A - Y
        N = A.shape[0]
        return float((D * D).sum()) / (2 * N), D / N


LAYER_TYPES = {cls.__name__: cls for cls in (Linear, ReLU, Sigmoid, Dropout, SoftmaxCrossEntropy)}


class Model:
    """A network built from a list of layers, e.g.::

        Model([Linear(784, 30), ReLU(), Linear(30, 10), SoftmaxCrossEntropy()])

    If the last layer is ``SoftmaxCrossEntropy`` the model trains on
    cross-entropy; otherwise on mean squared error of its output.
    ``params`` and ``grads`` are dicts with matching keys ``W1, b1, W2, ...``.
    Linear layers created without their own ``rng`` are initialised, in order,
    from the generator ``rng`` (a seed or ``np.random.Generator``).
    """

    def __init__(self, layers, rng=0):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Model needs at least one layer")
        linears = [layer for layer in self.layers if isinstance(layer, Linear)]
        if not linears:
            raise ValueError("a Model needs at least one Linear layer")
        for a, b in zip(linears, linears[1:]):
            if a.n_out != b.n_in:
                raise ValueError(f"layer sizes do not chain: {a!r} gives {a.n_out} units but {b!r} takes {b.n_in}")
        for layer in self.layers[:-1]:
            if getattr(layer, "is_loss", False):
                raise ValueError(f"{type(layer).__name__} must be the last layer")
        gen = as_rng(rng)
        for layer in self.layers:
            if isinstance(layer, Linear) and not layer.seeded:
                layer.reset(gen)
            elif isinstance(layer, Dropout) and not layer.seeded:
                layer.rng = gen
        self.n_in, self.n_out = linears[0].n_in, linears[-1].n_out
        self._named = [(str(i), layer) for i, layer in enumerate(linears, start=1)]
        self.loss_fn = None if getattr(self.layers[-1], "is_loss", False) else MeanSquaredError()

    def __repr__(self):
        return "Model([" + ", ".join(repr(layer) for layer in self.layers) + "])"

    @property
    def sizes(self) -> list:
        """Units per layer, e.g. [784, 30, 10]."""
        return [self.n_in] + [layer.n_out for _, layer in self._named]

    @property
    def params(self) -> dict:
        """The parameter arrays themselves (not copies), keyed W1, b1, W2, ..."""
        return {k + i: v for i, layer in self._named for k, v in layer.params.items()}

    @property
    def grads(self) -> dict:
        """Gradients from the last backward pass, keyed like ``params``."""
        return {k + i: v for i, layer in self._named for k, v in layer.grads.items()}

    def set_params(self, params: dict):
        """Copy arrays from ``params`` into the model, checking every key and shape."""
        own = self.params
        if set(params) != set(own):
            raise ValueError(f"parameter names differ: model has {sorted(own)}, given {sorted(params)}")
        for key, value in params.items():
            value = np.asarray(value)
            if value.shape != own[key].shape:
                raise ValueError(f"{key}: model expects shape {own[key].shape}, given {value.shape}")
            own[key][...] = value

    def spec(self) -> list:
        return [layer.spec() for layer in self.layers]

    def check_input(self, X):
        return check_input(X, self.n_in)

    def forward(self, X, training: bool = False):
        """X (N, n_in) -> output (N, n_out) and the list of every layer's cache.

        ``training=True`` switches dropout on; ``loss_and_grads`` uses it, predictions do not.
        """
        A, caches = self.check_input(X), []
        for layer in self.layers:
            A, cache = layer.forward(A, training) if isinstance(layer, Dropout) else layer.forward(A)
            caches.append(cache)
        return A, caches

    def predict_proba(self, X, batch_size: int = 10000):
        """Output of the network (probabilities for a softmax model), computed in chunks."""
        X = self.check_input(X)
        return np.concatenate([self.forward(X[i:i + batch_size])[0] for i in range(0, len(X), batch_size)]) \
            if len(X) else np.zeros((0, self.n_out), dtype=self.params["W1"].dtype)

    def predict(self, X):
        """Predicted class labels (N,)."""
        return self.predict_proba(X).argmax(axis=1)

    def backward(self, d, caches) -> dict:
        """Backpropagate ``d`` through the network; returns the gradients keyed like ``params``.

        ``d`` (N, n_out) is the gradient of the loss with respect to the logits
        Z if the last layer is ``SoftmaxCrossEntropy``, else with respect to the
        model's output. ``caches`` come from ``forward``.
        """
        stack = list(zip(self.layers, caches))
        if self.loss_fn is None:
            stack = stack[:-1]
        for i in range(len(stack) - 1, -1, -1):
            layer, cache = stack[i]
            if isinstance(layer, Linear):
                d = layer.backward(d, cache, need_dX=i > 0)
            else:
                d = layer.backward(d, cache)
        return self.grads

    def loss_and_grads(self, X, Y):
        """Forward and backward pass on a batch.

        X (N, n_in), Y one-hot (N, n_out). Returns ``(loss, grads, output)``;
        ``grads`` is keyed like ``params``.
        """
        out, caches = self.forward(X, training=True)
        Y = np.asarray(Y)
        if Y.shape != out.shape:
            raise ValueError(f"Y must be one-hot with shape {out.shape}, got {Y.shape}")
        if self.loss_fn is None:
            loss, d = self.layers[-1].loss_grad(out, Y, caches[-1])
        else:
            loss, d = self.loss_fn(out, Y)
        return loss, self.backward(d, caches), out

    @classmethod
    def from_spec(cls, spec: list, rng=0, dtype=np.float32):
        """Rebuild a model (with fresh parameters) from ``Model.spec()``."""
        layers = []
        for item in spec:
            item = dict(item)
            kind = item.pop("type", None)
            if kind not in LAYER_TYPES:
                raise ValueError(f"unknown layer type {kind!r}; known: {sorted(LAYER_TYPES)}")
            layers.append(LAYER_TYPES[kind](**item, dtype=dtype) if kind == "Linear" else LAYER_TYPES[kind](**item))
        return cls(layers, rng=rng)
