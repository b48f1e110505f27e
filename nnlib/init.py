"""Weight initialisation schemes.

Every scheme returns ``(W, b)`` for a layer mapping ``n_in`` to ``n_out`` units,
``W`` of shape (n_in, n_out) and ``b`` of shape (n_out,), drawn from an explicit
``np.random.Generator`` so that every run can be repeated.
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_rng", "uniform", "he", "xavier", "init_layer", "SCHEMES"]


def as_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a Generator, else ``np.random.default_rng(rng)`` (an int seed)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise ValueError("pass a seed or an np.random.Generator, e.g. rng=np.random.default_rng(0): "
                         "every random thing in this course is seeded")
    return np.random.default_rng(rng)


def uniform(n_in, n_out, rng, dtype=np.float32, low=-0.5, high=0.5):
    """Weights and biases uniform in [low, high), as in the blog post "Coding a Neural Network from scratch"
    (``rand - 0.5``)."""
    rng = as_rng(rng)
    W = rng.uniform(low, high, size=(n_in, n_out)).astype(dtype)
    b = rng.uniform(low, high, size=n_out).astype(dtype)
    return W, b


def he(n_in, n_out, rng, dtype=np.float32):
    """He (Kaiming) normal: W ~ N(0, 2 / n_in), b = 0. Keeps ReLU activations' variance steady."""
    rng = as_rng(rng)
    W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)
    return W, np.zeros(n_out, dtype=dtype)


def xavier(n_in, n_out, rng, dtype=np.float32):
    """Xavier (Glorot) normal: W ~ N(0, 2 / (n_in + n_out)), b = 0. Suited to sigmoid and tanh."""
    rng = as_rng(rng)
    W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out))).astype(dtype)
    return W, np.zeros(n_out, dtype=dtype)


SCHEMES = {"uniform": uniform, "he": he, "xavier": xavier}


def init_layer(scheme, n_in, n_out, rng, dtype=np.float32):
    """Initialise one layer with the scheme named ``scheme`` ('uniform', 'he' or 'xavier')."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
    return SCHEMES[scheme](n_in, n_out, rng, dtype=dtype)
