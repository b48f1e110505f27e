"""Layers with a forward pass that returns a cache and a backward pass that takes it; the ``Model`` that chains them.

Every array is examples first: X is (N, ...) with any per-example shape, (N, 784) for an mlp,
(N, C, H, W) for a convolutional layer. A new layer is one class, a subclass of :class:`Layer`;
defining it registers it in ``LAYER_TYPES`` under its class name (a class defined again, say in a
notebook cell, replaces the old entry), so that models holding it save and load. The contract
(as in cs231n's ``layers.py``)::

    out, cache = layer.forward(X, training=False)      # X (N, *in_shape) -> out (N, *out_shape)
    dX = layer.backward(dout, cache)                   # dout (N, *out_shape) -> dX (N, *in_shape)
    dX = layer.backward(dout, cache, need_dX=False)    # optional form: may return None
    out_shape = layer.output_shape(in_shape)           # per-example shapes, without N: (784,) -> (30,)

- ``forward`` takes ``training``: True while the model trains (dropout drops, batch norm uses the
  batch's statistics and updates its running ones), False for predictions. The cache is anything
  ``backward`` needs.
- ``backward`` never changes its arguments. It stores the gradients of the loss with respect to
  the layer's parameters in ``layer.grads`` (same keys and shapes as ``layer.params``) and returns
  dX, the gradient with respect to its input. If its signature has a ``need_dX`` argument, a
  :class:`Model` passes ``need_dX=False`` to its first layer with parameters, whose dX nobody uses,
  and the layer may skip dX and return None (for a Linear layer it saves the largest matrix product
  of a step); a ``backward(dout, cache)`` without it is called that way.
- ``output_shape(in_shape)``: the per-example shape of the output (a tuple, no N) for input of
  per-example shape ``in_shape``, or a ValueError naming the layer and both shapes if the layer
  cannot take it. The default returns ``in_shape`` unchanged (activations, dropout), except for a
  layer that sets the widths ``n_in`` / ``n_out``: it takes ``(n_in,)`` and gives ``(n_out,)``.
  ``input_shape``: the per-example input shape the layer fixes, or None (default: ``(n_in,)`` if
  ``n_in`` is set); a Model's first layer fixes the model's input shape through it.
- ``params``: dict of the trained arrays (empty for a layer without parameters); optimisers
  update them in place. ``grads``: dict, same keys, set by ``backward``. ``state``: dict of arrays
  that are saved with the model but not trained (batch norm's running statistics); empty for most.
  ``Layer.__init__`` makes all three empty dicts.
- ``spec()``: a JSON-able dict ``{"type": class name, **constructor arguments}`` that rebuilds the
  layer through ``from_spec`` (the default gives ``{"type": ...}`` alone, for layers without arguments).
- ``dtype``: the float type the layer was asked for (``dtype=np.float64``), or None to adopt the
  model's; a Model casts the arrays of every layer that did not ask for one to the model's dtype
  (``set_dtype``). Layers that create arrays take ``dtype=None`` and create them float32 until then.
- random numbers: a layer that draws its initial parameters sets ``seeded = False`` when created
  without its own ``rng`` and draws them in ``reset(rng)`` (with ``nnlib.init.init_weights(scheme,
  shape, rng, fan_in=..., fan_out=..., n_bias=..., dtype=...)``, as Linear and Conv2D do); a Model
  first sets every layer's dtype, then calls ``reset`` with its own generator on every such layer,
  in order. A layer that draws random numbers while training keeps
  its generator in ``rng`` (gradient checks rewind it so that every evaluation draws the same masks).
- a loss layer (:class:`LossLayer`) may be a model's last layer: see there. Without one, a model
  trains on mean squared error of its output (an implicit :class:`MeanSquaredError` loss layer).

A :class:`Model` chains layers and names every array by the layer's position among the layers
that have any: ``W1, b1, W2, b2, ...`` for an mlp, ``W1, b1, gamma2, beta2, W3, b3`` with a
batch-norm layer after the first Linear one.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping

import numpy as np

from .functional import sigmoid
from .init import as_rng, init_weights
from .inputs import as_features, as_targets, fraction, positive_float, positive_int
from .losses import cross_entropy_from_log_probs, log_softmax, mean_squared_error, softmax_cross_entropy_grad

__all__ = [
    "Layer",
    "LossLayer",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Dropout",
    "BatchNorm",
    "SoftmaxCrossEntropy",
    "MeanSquaredError",
    "Model",
    "LAYER_TYPES",
    "ArrayView",
]


LAYER_TYPES: dict = {}
"""Every layer class by name, filled in by defining a subclass of :class:`Layer` (``Model.from_spec`` and
``load_model`` build layers from it)."""


def _float_dtype(dtype, what: str = "dtype"):
    """``dtype`` as a NumPy float dtype, or None for None."""
    if dtype is None:
        return None
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"{what} must be a float type, got {dtype}")
    return dtype


def _shape(shape) -> tuple:
    return tuple(int(n) for n in shape)


class Layer:
    """Base class: a layer without parameters or state. Subclasses override ``forward`` and ``backward``.

    Defining a subclass registers it in ``LAYER_TYPES`` by its class name (``class Base(Layer, register=False)``
    leaves out a base class that is never built itself).
    """

    n_in = n_out = None  # widths, for layers that fix them
    seeded = True  # nothing random to seed
    is_loss = False
    dtype = None  # None: the model's dtype

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register:
            LAYER_TYPES[cls.__name__] = cls

    def __init__(self):
        self.params, self.grads, self.state = {}, {}, {}

    def reset(self, rng):
        """Draw whatever the layer draws at random from ``rng`` (nothing, here)."""

    @property
    def input_shape(self):
        """The per-example input shape this layer fixes, ``(n_in,)``, or None if it takes any."""
        return None if self.n_in is None else (self.n_in,)

    def output_shape(self, in_shape: tuple) -> tuple:
        """Per-example output shape for per-example input shape ``in_shape`` (no N).

        Default: the same shape; a layer with widths ``n_in`` / ``n_out`` takes ``(n_in,)`` and gives ``(n_out,)``.
        """
        in_shape = _shape(in_shape)
        if self.n_in is not None and in_shape != (self.n_in,):
            raise ValueError(f"{self!r} takes inputs of shape ({self.n_in},) per example, got {in_shape}")
        return in_shape if self.n_out is None else (self.n_out,)

    def set_dtype(self, dtype):
        """Make this layer's arrays of float type ``dtype`` (a Model calls it; values are cast, not redrawn).

        A layer with arrays then holds ``dtype`` in ``self.dtype`` (and draws in it on ``reset``); one
        without any (ReLU) keeps asking for none, so it can join a model of any dtype.
        """
        dtype = _float_dtype(dtype)
        for arrays in (self.params, self.state, self.grads):
            for key, value in arrays.items():
                if isinstance(value, np.ndarray) and value.dtype != dtype:
                    arrays[key] = value.astype(dtype)
        if self.params or self.state or self.dtype is not None:
            self.dtype = dtype

    def forward(self, X, training: bool = False):
        raise NotImplementedError

    def backward(self, dout, cache, need_dX: bool = True):
        raise NotImplementedError

    def spec(self) -> dict:
        """A JSON-able description from which the layer can be rebuilt."""
        return {"type": type(self).__name__}

    @classmethod
    def from_spec(cls, spec: dict, dtype=None):
        """Rebuild a layer from ``spec()`` (without "type"); layers that take a ``dtype`` get ``dtype``."""
        kwargs = dict(spec)
        if dtype is not None and "dtype" in inspect.signature(cls).parameters:
            kwargs["dtype"] = dtype
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise ValueError(f"cannot build {cls.__name__} from {spec}: {err}") from None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Affine layer ``Z = X @ W + b`` with W (n_in, n_out) and b (n_out,); X (N, n_in) -> Z (N, n_out).

    ``init``: 'he', 'xavier' or 'uniform' (:mod:`nnlib.init`). ``dtype``: None adopts the model's
    (float32 on its own).
    """

    def __init__(self, n_in: int, n_out: int, init: str = "he", rng=None, dtype=None):
        super().__init__()
        self.n_in, self.n_out = positive_int(n_in, "n_in"), positive_int(n_out, "n_out")
        self.init, self.dtype = init, _float_dtype(dtype)
        # Without an rng the layer starts from seed 0, and a Model it joins
        # re-draws it from the model's own generator so that layers differ.
        self.seeded = rng is not None
        self.reset(0 if rng is None else rng)

    def reset(self, rng):
        """Draw fresh parameters with this layer's init scheme."""
        W, b = init_weights(
            self.init,
            (self.n_in, self.n_out),
            rng,
            fan_in=self.n_in,
            fan_out=self.n_out,
            n_bias=self.n_out,
            dtype=self.dtype or np.float32,
        )
        self.params = {"W": W, "b": b}

    def output_shape(self, in_shape: tuple) -> tuple:
        """(n_in,) -> (n_out,); any other input shape is a ValueError naming the layer and both shapes."""
        in_shape = _shape(in_shape)
        if in_shape != (self.n_in,):
            hint = (
                f" (it takes flat vectors: a Flatten() layer before it gives ({math.prod(in_shape)},))"
                if len(in_shape) > 1
                else ""
            )
            raise ValueError(f"{self!r} takes inputs of shape ({self.n_in},) per example, got {in_shape}{hint}")
        return (self.n_out,)

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

    def __init__(self, n: int, momentum: float = 0.9, eps: float = 1e-5, dtype=None):
        super().__init__()
        self.n_in = positive_int(n, "n")
        self.momentum = fraction(momentum, "momentum")
        self.eps = positive_float(eps, "eps")
        self.dtype = _float_dtype(dtype)
        dtype = self.dtype or np.float32
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
        if not batch_stats:  # running statistics are constants
            return dxhat * inv_std
        # mu and var depend on every row: dX = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std
        dX = dxhat - dxhat.mean(axis=0)
        dX -= xhat * (dxhat * xhat).mean(axis=0)
        dX *= inv_std
        return dX


class LossLayer(Layer, register=False):
    """Base class of a loss layer, which may only be a model's last layer.

    Besides the layer contract (``forward``, ``backward``: here the gradient of ``sum(out * dout)``
    with respect to its input, as for any layer) a loss layer has::

        loss = layer.loss(out, Y, cache)              # mean loss (float) of its output out (N, C) against Y (N, C)
        loss, dX = layer.loss_grad(out, Y, cache)     # ... and its gradient with respect to the layer's input

    ``Y`` is the one-hot (or soft) targets, of the model's dtype. A :class:`Model` computes the loss
    and starts backpropagation with ``loss_grad`` of its loss layer, ``model.loss_fn``: its last
    layer if that is a loss layer, else a :class:`MeanSquaredError` of its output.
    """

    is_loss = True

    def loss(self, out, Y, cache) -> float:
        raise NotImplementedError

    def loss_grad(self, out, Y, cache):
        raise NotImplementedError


class SoftmaxCrossEntropy(LossLayer):
    """Softmax output fused with the categorical cross-entropy loss (computed by :mod:`nnlib.losses`).

    ``forward`` turns logits Z (N, C) into probabilities P (N, C).
    ``loss_grad(P, Y, cache)`` gives the mean loss and its gradient with
    respect to Z, which simplifies to ``(P - Y) / N``.
    """

    def output_shape(self, in_shape: tuple) -> tuple:
        """(C,) -> (C,): softmax over the last axis of logits (N, C)."""
        in_shape = _shape(in_shape)
        if len(in_shape) != 1:
            raise ValueError(
                f"{self!r} takes logits of shape (C,) per example, got {in_shape} "
                f"(add a Flatten() and a Linear layer before it)"
            )
        return in_shape

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

    def backward(self, dP, cache):
        """dP (N, C) -> dZ = P * (dP - sum(dP * P, axis=1)): the softmax's own Jacobian, for any upstream gradient."""
        P = np.exp(cache)
        return P * (dP - (dP * P).sum(axis=-1, keepdims=True))


class MeanSquaredError(LossLayer):
    """Mean squared error ``sum((A - Y)**2) / (2 N)`` of the model's output A (N, C) (:mod:`nnlib.losses`).

    As a layer it is the identity. A model whose last layer is not a loss layer trains on it
    (``model.loss_fn``); ``MeanSquaredError()(A, Y)`` gives ``(loss, (A - Y) / N)``.
    """

    def forward(self, A, training: bool = False):
        """A (N, C) -> A itself; no cache."""
        return A, None

    def backward(self, dout, cache):
        return dout

    def loss(self, A, Y, cache=None) -> float:
        return mean_squared_error(A, Y)[0]

    def loss_grad(self, A, Y, cache=None):
        """``(loss, dA)`` with dA = (A - Y) / N."""
        return mean_squared_error(A, Y)

    def __call__(self, A, Y):
        return mean_squared_error(A, Y)


class ArrayView(Mapping):
    """A read-only mapping of names to a model's own arrays (``model.params``, ``model.state``).

    The values are the live arrays: change them in place (``model.params["W1"][...] = W`` or an
    optimiser's step, or ``params[k] -= lr * g``, which hands the same array back) and the model changes.
    Assigning another array to a key would only rebind a name in a throw-away dict, so it raises instead;
    use ``model.set_params`` to replace several at once.
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
        if key in self._arrays and value is self._arrays[key]:
            return  # `params[k] -= step` changed the array in place and hands the same array back: nothing to do
        raise TypeError(
            f"model.{self._what} is read-only (its values are the model's own arrays): change one in "
            f"place, model.{self._what}[{key!r}][...] = new_values, or use model.set_params({{...}})"
        )

    def __delitem__(self, key):
        self.__setitem__(key, None)

    def copy(self) -> dict:
        """A plain dict of the same arrays (not copies of them)."""
        return dict(self._arrays)

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: array{v.shape} {v.dtype}" for k, v in self._arrays.items()) + "}"


def _takes_need_dX(layer) -> bool:
    """Whether ``layer.backward`` accepts a ``need_dX`` argument (by name or through ``**kwargs``)."""
    try:
        params = inspect.signature(layer.backward).parameters
    except (TypeError, ValueError):
        return False
    return "need_dX" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class Model:
    """A network built from a list of layers, e.g.::

        Model([Linear(784, 30), ReLU(), Linear(30, 10), SoftmaxCrossEntropy()])
        Model([Conv2D(1, 8, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Linear(8 * 14 * 14, 10),
               SoftmaxCrossEntropy()])

    Shapes: the model chains per-example shapes through every layer's ``output_shape``. Its input
    shape ``input_shape`` is the one its first layer fixes (a Linear layer: ``(n_in,)``), else the
    ``input_shape`` argument (e.g. ``(1, 28, 28)``), else the shape of the first X it is given
    (``check_input``, ``fit`` and ``forward`` call it). A layer that cannot take what the layer
    before it gives is a ValueError naming both layers, their positions and the shapes.
    ``n_in`` / ``n_out``: the number of input / output values per example (784 and 10 for an
    mlp([784, 30, 10])), None while the input shape is not known; ``sizes`` lists the widths.

    Loss: ``loss_fn`` is the model's loss layer (:class:`LossLayer`): its last layer if that is one
    (``SoftmaxCrossEntropy``: cross-entropy), else a :class:`MeanSquaredError` of its output. Its
    ``loss_grad`` gives the loss and the gradient with respect to the output of the layers before it
    (the logits), where backpropagation starts.

    dtype: the one float type of all the model's arrays: ``dtype`` if given, else the one its
    layers ask for (``Linear(6, 5, dtype=np.float64)``), else float32. Layers that ask for none
    adopt it; two layers that ask for different ones are an error.

    ``params`` (read-only mapping of the live arrays) and ``grads`` (dict) have matching keys
    ``W1, b1, W2, ...``, numbered by the layer's position among the layers with parameters;
    ``state`` holds the non-trained arrays (batch norm's ``running_mean2``, ...).
    Layers created without their own ``rng`` are initialised, in order, from the generator
    ``rng`` (a seed or ``np.random.Generator``).
    """

    def __init__(self, layers, rng=0, dtype=None, input_shape=None):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Model needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i}, {layer!r}, is not an nnlib layer (a subclass of nnlib.layers.Layer)")
            if isinstance(layer, LossLayer) and i < len(self.layers) - 1:
                raise ValueError(f"layer {i}, {type(layer).__name__}, is a loss layer: it must be the last layer")
        last = self.layers[-1]
        self.loss_fn = last if isinstance(last, LossLayer) else MeanSquaredError()
        self._body = self.layers[:-1] if last is self.loss_fn else self.layers  # backpropagated by backward
        self.dtype = self._choose_dtype(dtype)
        for layer in self.layers:
            layer.set_dtype(self.dtype)
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
        odd = {k: str(v.dtype) for k, v in {**self._params(), **self._state()}.items() if v.dtype != self.dtype}
        if odd:
            raise ValueError(
                f"all of a model's arrays must share one dtype, {self.dtype}, but {odd} are not: their "
                f"layer's set_dtype({self.dtype}) did not cast them"
            )
        self._first = (
            min(i for i, layer in enumerate(self._body) if layer.params)
            if any(layer.params for layer in self._body)
            else len(self._body)
        )
        self._need_dX = [_takes_need_dX(layer) for layer in self._body]
        shape = self.layers[0].input_shape if input_shape is None else input_shape
        if (
            input_shape is not None
            and self.layers[0].input_shape is not None
            and _shape(input_shape) != _shape(self.layers[0].input_shape)
        ):
            raise ValueError(
                f"input_shape={_shape(input_shape)} but the first layer, {self.layers[0]!r}, takes "
                f"{_shape(self.layers[0].input_shape)} per example"
            )
        self.input_shape = self.shapes = None
        if shape is not None:
            self._set_input_shape(shape)

    def _choose_dtype(self, dtype):
        """The model's dtype: ``dtype``, else the one its layers ask for, else float32; conflicts are errors."""
        asked = [
            (i, layer, _float_dtype(layer.dtype))
            for i, layer in enumerate(self.layers)
            if getattr(layer, "dtype", None) is not None
        ]
        chosen = _float_dtype(dtype, "the model's dtype")
        for i, layer, d in asked:
            if chosen is None:
                chosen, first = d, (i, layer)
            elif d != chosen:
                source = (
                    f"dtype={chosen}" if dtype is not None else f"layer {first[0]} ({first[1]!r}) asks for {chosen}"
                )
                raise ValueError(
                    f"all of a model's arrays must share one dtype: {source}, but layer {i} ({layer!r}) "
                    f"asks for {d}; pass the same dtype= to those layers, or leave it out to adopt the "
                    f"model's"
                )
        return chosen or np.dtype(np.float32)

    def _set_input_shape(self, shape):
        """Chain the per-example ``shape`` through every layer; a ValueError names the layer that cannot take it."""
        shape = _shape(shape)
        shapes, prev = [shape], None
        for i, layer in enumerate(self.layers):
            try:
                out = _shape(layer.output_shape(shape))
            except ValueError as err:
                source = "the model's input" if prev is None else f"layer {i - 1}, {prev!r},"
                raise ValueError(
                    f"layer shapes do not chain: layer {i}, {layer!r}, cannot take {source} of shape "
                    f"{shape} per example: {err}"
                ) from None
            shapes.append(out)
            shape, prev = out, layer
        self.input_shape, self.shapes = shapes[0], shapes

    @property
    def n_in(self):
        """Input values per example (784 for an mlp on MNIST), or None while the input shape is unknown."""
        return None if self.input_shape is None else math.prod(self.input_shape)

    @property
    def n_out(self):
        """Output values per example (the number of classes), or None while the input shape is unknown."""
        return None if self.shapes is None else math.prod(self.shapes[-1])

    @property
    def output_shape(self):
        """Per-example output shape, e.g. (10,), or None while the input shape is unknown."""
        return None if self.shapes is None else self.shapes[-1]

    def __repr__(self):
        return "Model([" + ", ".join(repr(layer) for layer in self.layers) + "])"

    # ---- the arrays -------------------------------------------------------------------------
    def _params(self) -> dict:
        return {k + n: v for n, layer in self._numbered for k, v in layer.params.items()}

    def _state(self) -> dict:
        return {k + n: v for n, layer in self._numbered for k, v in layer.state.items()}

    @property
    def sizes(self) -> list:
        """Units per layer of units, e.g. [784, 30, 10]: the input values per example, then every ``n_out``
        of a layer that sets one (batch norm and activations keep the width)."""
        first = (
            self.n_in
            if self.n_in is not None
            else next((layer.n_in for layer in self.layers if layer.n_in is not None), None)
        )
        return ([] if first is None else [first]) + [layer.n_out for layer in self.layers if layer.n_out is not None]

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
        """X as an array (N, *input_shape) of the model's dtype, or a ValueError that says what is wrong.

        A model whose input shape is not fixed yet takes it from this X (and checks that its layers chain).
        """
        if self.input_shape is None:
            X = as_features(X, None, self.dtype, name)
            self._set_input_shape(X.shape[1:])
            return X
        return as_features(X, self.input_shape, self.dtype, name)

    def check_targets(self, Y, n: int, name: str = "X"):
        """Labels (n,) or one-hot rows (n, n_out) as ``(Y one-hot of the model's dtype, labels)``."""
        if self.shapes is None:
            raise ValueError("the model does not know its input shape yet: give it input_shape=... or pass X first")
        if len(self.output_shape) != 1:
            raise ValueError(
                f"the model's output has shape {self.output_shape} per example, not (C,) class scores: "
                f"end it with Flatten() and Linear(..., C)"
            )
        return as_targets(Y, n, self.n_out, self.dtype, name)

    def _forward(self, X, training):
        caches = []
        for layer in self.layers:
            X, cache = layer.forward(X, training)
            caches.append(cache)
        return X, caches

    def forward(self, X, training: bool = False):
        """X (N, *input_shape) -> output (N, *output_shape) and the list of every layer's cache.

        ``training`` is passed to every layer: ``loss_and_grads`` sets it (dropout on, batch norm
        on batch statistics), predictions do not.
        """
        return self._forward(self.check_input(X), training)

    def predict_proba(self, X, batch_size: int = 1000):
        """Output of the network (probabilities for a softmax model) (N, n_out), computed ``batch_size`` rows
        at a time (small chunks keep a convolutional network's im2col columns small; see ``nnlib.evaluate``)."""
        batch_size = positive_int(batch_size, "batch_size")
        X = self.check_input(X)
        return np.concatenate([self._forward(X[i : i + batch_size], False)[0] for i in range(0, len(X), batch_size)])

    def predict(self, X, batch_size: int = 1000):
        """Predicted class labels (N,)."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def backward(self, d, caches) -> dict:
        """Backpropagate ``d`` through the network; returns the gradients keyed like ``params``.

        ``d`` (N, ...) is the gradient of the loss with respect to the input of the loss layer
        ``loss_fn`` (the logits Z before a ``SoftmaxCrossEntropy``; the model's output when the loss
        is an implicit ``MeanSquaredError``), as ``loss_fn.loss_grad`` gives it. ``caches`` come
        from ``forward``. Layers before the first one with parameters are skipped, and that one is
        told ``need_dX=False`` if its ``backward`` takes the argument.
        """
        for i in range(len(self._body) - 1, self._first - 1, -1):
            layer = self._body[i]
            if self._need_dX[i]:
                d = layer.backward(d, caches[i], need_dX=i > self._first)
            else:
                d = layer.backward(d, caches[i])
        return self.grads

    def input_gradient(self, d, caches):
        """``backward`` through every layer down to the input: returns dX (N, *input_shape), the gradient with
        respect to the examples themselves (a saliency map: :func:`nnlib.drawing.saliency`). ``d`` as for
        ``backward``; ``caches`` from ``forward(X)``, which predicts (dropout off, batch norm on its running
        statistics): caches of a training pass would backpropagate through the batch's own statistics. The
        gradients of the last ``backward`` (``grads``) are left as they were.
        """
        kept = [dict(layer.grads) for layer in self._body]
        try:
            for layer, cache in zip(reversed(self._body), reversed(caches[: len(self._body)])):
                d = layer.backward(d, cache)  # need_dX defaults to True
        finally:
            for layer, grads in zip(self._body, kept):
                layer.grads = grads
        return d

    def _loss(self, out, Y, caches, grad: bool):
        cache = caches[-1] if self.loss_fn is self.layers[-1] else None
        return self.loss_fn.loss_grad(out, Y, cache) if grad else (self.loss_fn.loss(out, Y, cache), None)

    def loss_and_grads(self, X, Y, validate: bool = True):
        """Forward (training) and backward pass on a batch.

        X (N, *input_shape), Y labels (N,) or one-hot (N, n_out). Returns ``(loss, grads, output)``;
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
    def from_spec(cls, spec: list, rng=0, dtype=np.float32, input_shape=None):
        """Rebuild a model (with fresh parameters) from ``Model.spec()``."""
        layers = []
        for item in spec:
            item = dict(item)
            kind = item.pop("type", None)
            if kind not in LAYER_TYPES:
                raise ValueError(f"unknown layer type {kind!r}; known: {sorted(LAYER_TYPES)}")
            layers.append(LAYER_TYPES[kind].from_spec(item, dtype))
        return cls(layers, rng=rng, dtype=dtype, input_shape=input_shape)
