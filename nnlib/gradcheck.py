"""Numerical gradient checking, as in cs231n's ``gradient_check.py``.

``gradcheck_layer(layer, X, dout)`` and ``gradcheck_model(model, X, Y)`` return the relative errors, a dict
keyed by array, for you to judge; ``nnlib.checks.check_layer(LayerClass, ...)`` (a learner's self-check)
prints a verdict with a hint instead.

Use float64. With central differences and h = 1e-5, a correct gradient gives a
relative error below about 1e-7; 1e-7 to 1e-5 deserves a look (kinks such as
ReLU at 0 can cause it); above 1e-4 the gradient is almost certainly wrong.
"""

from __future__ import annotations

import numpy as np

from .inputs import positive_int

__all__ = ["rel_error", "numerical_gradient", "gradcheck_layer", "gradcheck_model"]


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise: 0 for identical arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def numerical_gradient(f, x, h: float = 1e-5, indices=None):
    """Central-difference gradient of the scalar function ``f()`` with respect to array ``x``.

    ``x`` is nudged in place (and restored, even when ``f`` raises), so ``f`` must read it. With
    ``indices`` (a list of index tuples) only those entries are computed; the
    rest of the result is NaN.
    """
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks need float64 arrays, got {x.dtype}")
    grad = np.full_like(x, np.nan) if indices is not None else np.zeros_like(x)
    it = indices if indices is not None else np.ndindex(*x.shape)
    for idx in it:
        old = x[idx]
        try:
            x[idx] = old + h
            f_plus = f()
            x[idx] = old - h
            f_minus = f()
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def _frozen(layers):
    """``(rewind, restore)``: rewind puts every layer's random generator back where it was now (so each
    evaluation draws the same dropout masks); restore also puts back every layer's state (running
    statistics that each training-mode evaluation would otherwise move)."""
    gens = {
        id(g): (g, g.bit_generator.state)
        for layer in layers
        for g in [getattr(layer, "rng", None)]
        if isinstance(g, np.random.Generator)
    }
    states = [(v, v.copy()) for layer in layers for v in getattr(layer, "state", {}).values()]

    def rewind():
        for g, st in gens.values():
            g.bit_generator.state = st

    def restore():
        rewind()
        for v, saved in states:
            v[...] = saved

    return rewind, restore


def gradcheck_layer(layer, X, dout, h: float = 1e-5, training: bool = False) -> dict:
    """Compare a layer's backward pass with numerical gradients of ``sum(forward(X, training) * dout)``.

    Returns relative errors ``{'X': ..., 'W': ..., ...}`` for the input and every parameter.
    With ``training=True`` (dropout's masks, batch norm's batch statistics) the layer's generator
    is rewound before every evaluation, so all of them see the same masks, and its state is put
    back afterwards.
    """
    X = np.array(X, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    rewind, restore = _frozen([layer])

    def f():
        rewind()
        return float((layer.forward(X, training)[0] * dout).sum())

    try:
        rewind()
        out, cache = layer.forward(X, training)
        dX = layer.backward(dout, cache)
        grads = {k: v.copy() for k, v in layer.grads.items()}
        errors = {"X": rel_error(dX, numerical_gradient(f, X, h))}
        for name, p in layer.params.items():
            errors[name] = rel_error(grads[name], numerical_gradient(f, p, h))
    finally:
        restore()
    return errors


def gradcheck_model(model, X, Y, h: float = 1e-5, num_checks: int | None = None, rng=0) -> dict:
    """Relative error between ``model.loss_and_grads`` and numerical gradients, per parameter.

    With ``num_checks`` (a positive integer), only that many randomly chosen entries of each
    parameter are compared (for big layers). Random layers (dropout) draw the same masks at every
    evaluation (their generators are rewound before each), and the model's state (batch norm's
    running statistics) is put back afterwards.
    """
    num_checks = positive_int(num_checks, "num_checks", allow_none=True)  # 0 would compare nothing: a perfect 0.0
    rng = np.random.default_rng(rng)
    rewind, restore = _frozen(getattr(model, "layers", []))

    def loss():
        rewind()
        return model.loss_and_grads(X, Y)[0]

    errors = {}
    try:
        rewind()
        _, grads, _ = model.loss_and_grads(X, Y)
        grads = {k: v.copy() for k, v in grads.items()}
        for name, p in model.params.items():
            idx = None
            if num_checks is not None and p.size > num_checks:
                flat = rng.choice(p.size, size=num_checks, replace=False)
                idx = [np.unravel_index(i, p.shape) for i in flat]
            num = numerical_gradient(loss, p, h, idx)
            mask = ~np.isnan(num)
            errors[name] = rel_error(grads[name][mask], num[mask])
    finally:
        restore()
    return errors
