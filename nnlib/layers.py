"""Layers with a forward pass that returns a cache and a backward pass that takes it, and the ``Model`` that chains them.

The layer contract (as in cs231n's ``layers.py``); a new layer is one class that follows it, plus
its entry in ``LAYER_TYPES`` so that saved models can be loaded::

    out, cache = layer.forward(X, training=False)      # X (N, d_in) -> out (N, d_out)
    dX = layer.backward(dout, cache, need_dX=True)     # dout (N, d_out) -> dX (N, d_in), or None

- ``forward`` takes ``training``: True while the model trains (dropout drops, batch norm uses the
  batch's statistics and updates its running ones), False for predictions.
- ``backward`` never changes its arguments. It stores the gradients of the loss with respect to
  the layer's parameters in ``layer.grads`` (same keys as ``layer.params``). With
  ``need_dX=False`` it may skip dX and return None: the model asks this of its first layer with
  parameters, whose dX nobody uses (for a Linear layer it is the largest matrix product of a step).
- ``params``: dict of the trained arrays (empty for a layer without parameters); optimisers
  update them in place. ``state``: dict of arrays that are saved with the model but not trained
  (batch norm's running statistics); empty for most layers.
- ``spec()``: a JSON-able dict ``{"type": ..., **constructor arguments}`` that rebuilds the layer.
- optional: ``n_in`` / ``n_out`` (ints) for layers that fix their input / output width; ``seeded``
  and ``reset(rng)`` for layers that draw random numbers (a :class:`Model` hands its generator to
  every layer created without its own ``rng``); a layer that draws random numbers while training
  keeps its generator in ``rng`` (gradient checks rewind it so that every evaluation draws the
  same masks).

A :class:`Model` chains layers and names every array by the layer's position among the layers
that have any: ``W1, b1, W2, b2, ...`` for an mlp, ``W1, b1, gamma2, beta2, W3, b3`` with a
batch-norm layer after the first Linear one.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np

from .functional import sigmoid
from .init import as_rng, init_layer
from .inputs import as_features, as_targets, fraction, positive_float, positive_int
from .losses import (MeanSquaredError, cross_entropy_from_log_probs, log_softmax, mean_squared_error,
                     softmax_cross_entropy_grad)

__all__ = ["Layer", "Linear", "ReLU", "Sigmoid", "Dropout", "BatchNorm", "SoftmaxCrossEntropy",
           "MeanSquaredError", "Model", "LAYER_TYPES", "ArrayView"]


class Layer:
    """Base class: a layer without parameters or state. Subclasses override ``forward`` and ``backward``."""

    n_in = n_out = None      # widths, for layers that fix them
    seeded = True            # nothing random to seed
    is_loss = False

    def __init__(self):
        self.params, self.grads, self.state = {}, {}, {}

    def reset(self, rng):
        """Draw whatever the layer draws at random from ``rng`` (nothing, here)."""

    def forward(self, X, training: bool = False):
        raise NotImplementedError

    def backward(self, dout, cache, need_dX: bool = True):
        raise NotImplementedError

    def spec(self) -> dict:
        """A JSON-able description from which the layer can be rebuilt."""
        return {"type": type(self).__name__}

    @classmethod
    def from_spec(cls, spec: dict, dtype=np.float32):
        """Rebuild a layer from ``spec()`` (without "type"); layers that take a ``dtype`` get ``dtype``."""
        kwargs = dict(spec)
        if "dtype" in inspect.signature(cls).parameters:
            kwargs["dtype"] = dtype
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise ValueError(f"cannot build {cls.__name__} from {spec}: {err}") from None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Affine layer ``Z = X @ W + b`` with W (n_in, n_out) and b (n_out,)."""

    def __init__(self, n_in: int, n_out: int, init: str = "he", rng=None, dtype=np.float32):
        super().__init__()
        self.n_in, self.n_out = positive_int(n_in, "n_in"), positive_int(n_out, "n_out")
        self.init, self.dtype = init, np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(f"dtype must be a float type, got {self.dtype}")
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

    def forward(self, X, training: bool = False):
        """X (N, n_in) -> Z (N, n_out); the cache is X."""
        Z = X @ self.params["W"]
        Z += self.params["b"]
        return Z, X

    def backward(self, dZ, cache, need_dX: bool = True):
        """dZ (N, n_out) -> dX (N, n_in); stores dW = X.T @ dZ (n_in, n_out) and db = sum of dZ over rows (n_out,)."""
        X = cache
        self.grads = {"W": X.T @ dZ, "b": dZ.sum(axis=0)}
        return dZ @ self.params["W"].T if need_dX else None


class ReLU(Layer):
    """``A = max(Z, 0)``; the gradient passes where Z > 0 and is zero elsewhere."""

    def forward(self, Z, training: bool = False):
        """Z (N, d) -> A (N, d); the cache is A (A > 0 exactly where Z > 0)."""
        A = np.maximum(Z, 0)
        return A, A

    def backward(self, dA, cache, need_dX: bool = True):
        """dA (N, d) -> dZ = dA where Z > 0, else 0."""
        if not need_dX:
            return None
        dZ = np.multiply(dA, cache > 0, dtype=dA.dtype)
        return dZ


class Sigmoid(Layer):
    """``A = 1 / (1 + exp(-Z))``; its derivative is A * (1 - A)."""

    def forward(self, Z, training: bool = False):
        """Z (N, d) -> A (N, d); the cache is A."""
        A = sigmoid(Z)
        return A, A

    def backward(self, dA, cache, need_dX: bool = True):
        """dA (N, d) -> dZ = dA * A * (1 - A)."""
        if not need_dX:
            return None
        A = cache
        return dA * A * (1 - A)


class Dropout(Layer):
    """Inverted dropout: while training, zero each unit with probability ``p`` and scale the rest by 1/(1-p).

    ``forward(A, training=True)`` draws a fresh mask (N, d) from the layer's generator ``rng`` and
    caches it; with ``training=False`` (prediction) it is the identity, so nothing needs rescaling
    at test time.
    """

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        self.p = fraction(p, "dropout probability")
        self.seeded = rng is not None
        self.rng = as_rng(0 if rng is None else rng)

    def reset(self, rng):
        self.rng = as_rng(rng)

    def spec(self):
        return {"type": "Dropout", "p": self.p}

    def forward(self, A, training: bool = False):
        """A (N, d) -> A * mask (N, d) while training, else A itself; the cache is the mask (or None)."""
        if not training or self.p == 0:
            return A, None
        mask = (self.rng.random(A.shape, dtype=np.float32) >= self.p).astype(A.dtype) / (1 - self.p)
        return A * mask, mask

    def backward(self, dA, cache, need_dX: bool = True):
        if not need_dX:
            return None
        return dA if cache is None else dA * cache


class BatchNorm(Layer):
    """Batch normalisation over the features of (N, d) input: ``out = gamma * (X - mu) / sqrt(var + eps) + beta``.

    While training, mu and var (biased) are the batch's per-feature mean and variance, and the
    running statistics follow them: ``running = momentum * running + (1 - momentum) * batch``.
    For predictions (``training=False``) the running statistics take their place, so an example's
    output does not depend on the rest of its batch.

    params: gamma (d,) (starts at 1), beta (d,) (starts at 0).
    state: running_mean (d,) (starts at 0), running_var (d,) (starts at 1).
    """

    def __init__(self, n: int, momentum: float = 0.9, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        self.n_in = positive_int(n, "n")
        self.momentum = fraction(momentum, "momentum")
        self.eps = positive_float(eps, "eps")
        dtype = np.dtype(dtype)
        self.params = {"gamma": np.ones(n, dtype), "beta": np.zeros(n, dtype)}
        self.state = {"running_mean": np.zeros(n, dtype), "running_var": np.ones(n, dtype)}

    def spec(self):
        return {"type": "BatchNorm", "n": self.n_in, "momentum": self.momentum, "eps": self.eps}

    def forward(self, X, training: bool = False):
        """X (N, d) -> out (N, d); the cache is (xhat (N, d), 1/std (d,), whether batch statistics were used)."""
        if training:
            mu, var = X.mean(axis=0), X.var(axis=0)
            for name, batch in (("running_mean", mu), ("running_var", var)):
                run = self.state[name]
                run *= self.momentum
                run += (1 - self.momentum) * batch
        else:
            mu, var = self.state["running_mean"], self.state["running_var"]
        inv_std = 1 / np.sqrt(var + self.eps)
        xhat = (X - mu) * inv_std
        out = xhat * self.params["gamma"]
        out += self.params["beta"]
        return out, (xhat, inv_std, training)

    def backward(self, dout, cache, need_dX: bool = True):
        """dout (N, d) -> dX (N, d); stores dgamma = sum(dout * xhat) and dbeta = sum(dout) over rows."""
        xhat, inv_std, batch_stats = cache
        self.grads = {"gamma": (dout * xhat).sum(axis=0), "beta": dout.sum(axis=0)}
        if not need_dX:
            return None
        dxhat = dout * self.params["gamma"]
        if not batch_stats:                       # running statistics are constants
            return dxhat * inv_std
        # mu and var depend on every row: dX = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std
        dX = dxhat - dxhat.mean(axis=0)
        dX -= xhat * (dxhat * xhat).mean(axis=0)
        dX *= inv_std
        return dX


class SoftmaxCrossEntropy(Layer):
    """Softmax output fused with the categorical cross-entropy loss (computed by :mod:`nnlib.losses`).

    ``forward`` turns logits Z (N, C) into probabilities P (N, C).
    ``loss_grad(P, Y, cache)`` gives the mean loss and its gradient with
    respect to Z, which simplifies to ``(P - Y) / N``.
    """

    is_loss = True

    def forward(self, Z, training: bool = False):
        """Z (N, C) -> P (N, C); the cache is log P, computed stably from Z."""
        logP = log_softmax(Z)
        return np.exp(logP), logP

    def loss(self, P, Y, cache) -> float:
        """Mean cross-entropy, from the cached log-probabilities (never from clipped P)."""
        return cross_entropy_from_log_probs(cache, Y)

    def loss_grad(self, P, Y, cache):
        """Mean cross-entropy and its gradient with respect to the logits, (P - Y) / N."""
        return self.loss(P, Y, cache), softmax_cross_entropy_grad(P, Y)

    def backward(self, dout, cache, need_dX: bool = True):
        raise TypeError("SoftmaxCrossEntropy has no backward of its own: the model starts backpropagation "
                        "at the logits with loss_grad's (P - Y) / N")


LAYER_TYPES = {cls.__name__: cls for cls in (Linear, ReLU, Sigmoid, Dropout, BatchNorm, SoftmaxCrossEntropy)}


class ArrayView(Mapping):
    """A read-only mapping of names to a model's own arrays (``model.params``, ``model.state``).

    The values are the live arrays: change them in place (``model.params["W1"][...] = W`` or an
    optimiser's step) and the model changes. Assigning a key would only rebind a name in a
    throw-away dict, so it raises instead; use ``model.set_params`` to replace several at once.
    """

    def __init__(self, arrays: dict, what: str):
        self._arrays, self._what = arrays, what

    def __getitem__(self, key):
        try:
            return self._arrays[key]
        except KeyError:
            raise KeyError(f"{key!r}: the model has {self._what} {list(self._arrays)}") from None

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __setitem__(self, key, value):
        raise TypeError(f"model.{self._what} is read-only (its values are the model's own arrays): change one in "
                        f"place, model.{self._what}[{key!r}][...] = new_values, or use model.set_params({{...}})")

    def __delitem__(self, key):
        self.__setitem__(key, None)

    def copy(self) -> dict:
        """A plain dict of the same arrays (not copies of them)."""
        return dict(self._arrays)

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: array{v.shape} {v.dtype}" for k, v in self._arrays.items()) + "}"


class Model:
    """A network built from a list of layers, e.g.::

        Model([Linear(784, 30), ReLU(), Linear(30, 10), SoftmaxCrossEntropy()])

    If the last layer is a loss layer (``SoftmaxCrossEntropy``) the model trains on
    cross-entropy and ``loss_fn`` is None; otherwise on mean squared error of its output
    (``loss_fn`` is a ``MeanSquaredError``).
    ``params`` (read-only mapping of the live arrays) and ``grads`` (dict) have matching keys
    ``W1, b1, W2, ...``, numbered by the layer's position among the layers with parameters;
    ``state`` holds the non-trained arrays (batch norm's ``running_mean2``, ...).
    Layers created without their own ``rng`` are initialised, in order, from the generator
    ``rng`` (a seed or ``np.random.Generator``).
    """

    def __init__(self, layers, rng=0):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Model needs at least one layer")
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"{layer!r} is not an nnlib layer (a subclass of nnlib.layers.Layer)")
        for layer in self.layers[:-1]:
            if layer.is_loss:
                raise ValueError(f"{type(layer).__name__} must be the last layer")
        self.n_in = None
        width, prev, self._sizes = None, None, []
        for layer in self.layers:
            if layer.n_in is not None:
                if width is not None and width != layer.n_in:
                    raise ValueError(f"layer sizes do not chain: {prev!r} gives {width} units but "
                                     f"{layer!r} takes {layer.n_in}")
                if self.n_in is None:
                    self.n_in = layer.n_in
                    self._sizes.append(layer.n_in)
                width, prev = layer.n_in, layer
            if layer.n_out is not None:
                width, prev = layer.n_out, layer
                self._sizes.append(layer.n_out)
        if self.n_in is None:
            raise ValueError("a Model needs at least one layer of fixed width, such as Linear")
        self.n_out = width
        gen = as_rng(rng)
        for layer in self.layers:
            if not layer.seeded:
                layer.reset(gen)
        # (number, layer) for every layer that has parameters or state: W1, b1, gamma2, ...
        self._numbered, names = [], set()
        for layer in self.layers:
            if layer.params or layer.state:
                number = str(len(self._numbered) + 1)
                self._numbered.append((number, layer))
                for key in [*layer.params, *layer.state]:
                    if key + number in names:
                        raise ValueError(f"two arrays would both be called {key + number}")
                    names.add(key + number)
        if not any(layer.params for _, layer in self._numbered):
            raise ValueError("a Model needs at least one layer with parameters, such as Linear")
        dtypes = {k: v.dtype for k, v in {**self._params(), **self._state()}.items()}
        if len(set(dtypes.values())) > 1:
            raise ValueError(f"all of a model's arrays must share one dtype; got {dtypes}: "
                             f"pass the same dtype= to every layer")
        self.dtype = next(iter(dtypes.values()))
        self._first = min(i for i, layer in enumerate(self.layers) if layer.params)
        self.loss_fn = None if self.layers[-1].is_loss else MeanSquaredError()

    def __repr__(self):
        return "Model([" + ", ".join(repr(layer) for layer in self.layers) + "])"

    # ---- the arrays -------------------------------------------------------------------------
    def _params(self) -> dict:
        return {k + n: v for n, layer in self._numbered for k, v in layer.params.items()}

    def _state(self) -> dict:
        return {k + n: v for n, layer in self._numbered for k, v in layer.state.items()}

    @property
    def sizes(self) -> list:
        """Units per layer of units, e.g. [784, 30, 10] (batch norm and activations keep the width)."""
        return list(self._sizes)

    @property
    def params(self) -> ArrayView:
        """The parameter arrays themselves (not copies), keyed W1, b1, W2, ...; read-only mapping."""
        return ArrayView(self._params(), "params")

    @property
    def state(self) -> ArrayView:
        """Arrays saved with the model but not trained (e.g. ``running_mean2``); read-only mapping."""
        return ArrayView(self._state(), "state")

    @property
    def grads(self) -> dict:
        """Gradients from the last backward pass, keyed like ``params``."""
        return {k + n: v for n, layer in self._numbered for k, v in layer.grads.items()}

    def set_params(self, params: Mapping, state: Mapping | None = None):
        """Copy arrays from ``params`` (and ``state``, if given) into the model.

        Every name, shape and value is checked first (same names, same shapes, real numbers
        castable to the model's dtype, finite); only if all pass is anything copied, so a bad
        array leaves the model as it was.
        """
        checked = []
        for what, own, given in (("parameter", self._params(), params), ("state", self._state(), state)):
            if given is None:
                continue
            if set(given) != set(own):
                raise ValueError(f"{what} names differ: model has {sorted(own)}, given {sorted(given)}")
            for key, value in given.items():
                value = np.asarray(value)
                if value.shape != own[key].shape:
                    raise ValueError(f"{key}: model expects shape {own[key].shape}, given {value.shape}")
                if value.dtype == object or not np.can_cast(value.dtype, own[key].dtype, casting="same_kind"):
                    raise ValueError(f"{key}: cannot use dtype {value.dtype} for a {own[key].dtype} array")
                if not np.isfinite(value).all():
                    raise ValueError(f"{key} contains NaN or infinite values")
                checked.append((own[key], value))
        for target, value in checked:
            target[...] = value

    def spec(self) -> list:
        return [layer.spec() for layer in self.layers]

    # ---- forward and backward ------------------------------------------------------------------
    def check_input(self, X, name: str = "X"):
        """X as an array (N, n_in) of the model's dtype, or a ValueError that says what is wrong."""
        return as_features(X, self.n_in, self.dtype, name)

    def check_targets(self, Y, n: int, name: str = "X"):
        """Labels (n,) or one-hot rows (n, n_out) as ``(Y one-hot of the model's dtype, labels)``."""
        return as_targets(Y, n, self.n_out, self.dtype, name)

    def _forward(self, X, training):
        caches = []
        for layer in self.layers:
            X, cache = layer.forward(X, training)
            caches.append(cache)
        return X, caches

    def forward(self, X, training: bool = False):
        """X (N, n_in) -> output (N, n_out) and the list of every layer's cache.

        ``training`` is passed to every layer: ``loss_and_grads`` sets it (dropout on, batch norm
        on batch statistics), predictions do not.
        """
        return self._forward(self.check_input(X), training)

    def predict_proba(self, X, batch_size: int = 10000):
        """Output of the network (probabilities for a softmax model) (N, n_out), computed in chunks."""
        batch_size = positive_int(batch_size, "batch_size")
        X = self.check_input(X)
        return np.concatenate([self._forward(X[i:i + batch_size], False)[0] for i in range(0, len(X), batch_size)])

    def predict(self, X, batch_size: int = 10000):
        """Predicted class labels (N,)."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def backward(self, d, caches) -> dict:
        """Backpropagate ``d`` through the network; returns the gradients keyed like ``params``.

        ``d`` (N, n_out) is the gradient of the loss with respect to the logits
        Z if the last layer is a loss layer, else with respect to the model's
        output. ``caches`` come from ``forward``.
        """
        last = len(self.layers) - (1 if self.layers[-1].is_loss else 0)
        for i in range(last - 1, self._first - 1, -1):
            d = self.layers[i].backward(d, caches[i], need_dX=i > self._first)
        return self.grads

    def _loss(self, out, Y, caches, grad: bool):
        last = self.layers[-1]
        if last.is_loss:
            return last.loss_grad(out, Y, caches[-1]) if grad else (last.loss(out, Y, caches[-1]), None)
        return mean_squared_error(out, Y)

    def loss_and_grads(self, X, Y, validate: bool = True):
        """Forward (training) and backward pass on a batch.

        X (N, n_in), Y labels (N,) or one-hot (N, n_out). Returns ``(loss, grads, output)``;
        ``grads`` is keyed like ``params``. ``validate=False`` skips the input checks, for
        callers (``fit``) that have checked the whole data set once.
        """
        if validate:
            X = self.check_input(X)
            Y, _ = self.check_targets(Y, len(X))
        out, caches = self._forward(X, training=True)
        loss, d = self._loss(out, Y, caches, grad=True)
        return loss, self.backward(d, caches), out

    def loss_and_output(self, X, Y, validate: bool = True):
        """``(mean loss, output)`` on a batch for predictions (``training=False``), without gradients."""
        if validate:
            X = self.check_input(X)
            Y, _ = self.check_targets(Y, len(X))
        out, caches = self._forward(X, training=False)
        return self._loss(out, Y, caches, grad=False)[0], out

    @classmethod
    def from_spec(cls, spec: list, rng=0, dtype=np.float32):
        """Rebuild a model (with fresh parameters) from ``Model.spec()``."""
        layers = []
        for item in spec:
            item = dict(item)
            kind = item.pop("type", None)
            if kind not in LAYER_TYPES:
                raise ValueError(f"unknown layer type {kind!r}; known: {sorted(LAYER_TYPES)}")
            layers.append(LAYER_TYPES[kind].from_spec(item, dtype))
        return cls(layers, rng=rng)
