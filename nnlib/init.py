"""Weight initialisation schemes, for a weight array of any shape.

Each scheme scales its random numbers by the fan-in (inputs that feed one output unit) and/or the
fan-out (outputs one input unit feeds), which the layer states, because they depend on its layout:

=====================  ========================  =============  ==================
layer                  weight shape              fan_in         fan_out
=====================  ========================  =============  ==================
Linear                 (n_in, n_out)             n_in           n_out
Conv2D                 (F, C, kh, kw)            C * kh * kw    F * kh * kw
=====================  ========================  =============  ==================

The general forms draw one weight array of any ``shape``::

    he_normal(shape, fan_in, rng, dtype=np.float32)              # N(0, 2 / fan_in)
    xavier_normal(shape, fan_in, fan_out, rng, dtype=np.float32) # N(0, 2 / (fan_in + fan_out))
    uniform_array(shape, rng, dtype=np.float32, low=-0.5, high=0.5)
    W, b = init_weights(scheme, shape, rng, fan_in=..., fan_out=..., n_bias=..., dtype=...)  # what layers use

and the 2-D teaching forms of notebook 06, ``he(n_in, n_out, rng) -> (W (n_in, n_out), b (n_out,))``
(likewise ``xavier`` and ``uniform``, and ``init_layer(scheme, n_in, n_out, rng)``), are these with
``shape = (n_in, n_out)``: the same seed gives the same numbers either way. Every array is drawn
from an explicit ``np.random.Generator`` (or an int seed) so that every run can be repeated; biases
are zeros, except for 'uniform', which draws them after the weights.
"""

from __future__ import annotations


import numpy as np

__all__ = [
    "as_rng",
    "he_normal",
    "xavier_normal",
    "uniform_array",
    "init_weights",
    "uniform",
    "he",
    "xavier",
    "init_layer",
    "SCHEMES",
]


def as_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a Generator, else ``np.random.default_rng(rng)`` (an int seed)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise ValueError(
            "pass a seed or an np.random.Generator, e.g. rng=np.random.default_rng(0): "
            "every random thing in this course is seeded"
        )
    return np.random.default_rng(rng)


def _shape(shape) -> tuple:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in shape):
        raise ValueError(f"a weight shape must be a tuple of positive whole numbers, got {shape!r}")
    return tuple(int(n) for n in shape)


def _fan(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive whole number (the units feeding one output), got {value!r}")
    return int(value)


def he_normal(shape, fan_in: int, rng, dtype=np.float32) -> np.ndarray:
    """He (Kaiming) normal weights of ``shape``: N(0, 2 / fan_in). Keeps ReLU activations' variance steady."""
    shape, fan_in = _shape(shape), _fan(fan_in, "fan_in")
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def xavier_normal(shape, fan_in: int, fan_out: int, rng, dtype=np.float32) -> np.ndarray:
    """Xavier (Glorot) normal weights of ``shape``: N(0, 2 / (fan_in + fan_out)). Suited to sigmoid and tanh."""
    shape, fan_in, fan_out = _shape(shape), _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def uniform_array(shape, rng, dtype=np.float32, low=-0.5, high=0.5) -> np.ndarray:
    """Numbers uniform in [low, high) of ``shape`` (the blog post's ``rand - 0.5``); no fan at all."""
    return as_rng(rng).uniform(low, high, size=_shape(shape)).astype(dtype)


def init_weights(scheme: str, shape, rng, *, fan_in: int, fan_out: int, n_bias: int, dtype=np.float32):
    """``(W, b)`` for one layer: W of ``shape`` drawn with ``scheme`` ('he', 'xavier' or 'uniform') and b (n_bias,).

    ``fan_in`` / ``fan_out`` as the layer counts them (a conv weight (F, C, kh, kw): C*kh*kw and
    F*kh*kw). b is zeros, except for 'uniform', which draws it after W.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    rng, n_bias = as_rng(rng), _fan(n_bias, "n_bias")
    if scheme == "uniform":
        W = uniform_array(shape, rng, dtype)
        return W, uniform_array(n_bias, rng, dtype)
    W = he_normal(shape, fan_in, rng, dtype) if scheme == "he" else xavier_normal(shape, fan_in, fan_out, rng, dtype)
    return W, np.zeros(n_bias, dtype=dtype)


# ---- the 2-D teaching forms (notebook 06): W (n_in, n_out), b (n_out,) ---------------------------------------


def uniform(n_in, n_out, rng, dtype=np.float32, low=-0.5, high=0.5):
    """Weights and biases uniform in [low, high), as in the blog post "Coding a Neural Network from scratch"
    (``rand - 0.5``)."""
    rng = as_rng(rng)
    W = uniform_array((n_in, n_out), rng, dtype, low, high)
    return W, uniform_array(n_out, rng, dtype, low, high)


def he(n_in, n_out, rng, dtype=np.float32):
    """He (Kaiming) normal: W (n_in, n_out) ~ N(0, 2 / n_in), b (n_out,) = 0. Keeps ReLU activations steady."""
    return init_weights("he", (n_in, n_out), rng, fan_in=n_in, fan_out=n_out, n_bias=n_out, dtype=dtype)


def xavier(n_in, n_out, rng, dtype=np.float32):
    """Xavier (Glorot) normal: W (n_in, n_out) ~ N(0, 2 / (n_in + n_out)), b (n_out,) = 0. Suits sigmoid, tanh."""
    return init_weights("xavier", (n_in, n_out), rng, fan_in=n_in, fan_out=n_out, n_bias=n_out, dtype=dtype)


SCHEMES = {"uniform": uniform, "he": he, "xavier": xavier}


def init_layer(scheme, n_in, n_out, rng, dtype=np.float32):
    """Initialise one fully connected layer, ``(W (n_in, n_out), b (n_out,))``, with the scheme named ``scheme``."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    return init_weights(scheme, (n_in, n_out), rng, fan_in=n_in, fan_out=n_out, n_bias=n_out, dtype=dtype)
