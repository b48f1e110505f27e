"""Optimisers: each a small class that holds its own state and updates parameters in place.

``opt.step(params, grads)`` takes two dicts with matching keys (``W1, b1, ...``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["SGD", "Momentum", "RMSProp", "Adam", "cosine_schedule", "step_schedule"]


class Optimizer:
    def __init__(self, lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = float(lr)

    def _state(self, name, key, like):
        store = self.__dict__.setdefault(name, {})
        if key not in store:
            store[key] = np.zeros_like(like)
        return store[key]

    def step(self, params: dict, grads: dict):
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
        for key in params:
            self._update(key, params[key], grads[key])

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items() if not isinstance(v, dict))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    def _update(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum, in one of two forms.

    ``form='ema'`` (the source material's): ``v = beta * v + (1 - beta) * g``, ``p -= lr * v``.
    ``v`` is an exponential moving average of the gradients.
    ``form='classical'`` (Polyak's heavy ball, as in PyTorch): ``v = beta * v + g``, ``p -= lr * v``.
    The two differ only by the scale of v: classical with lr equals EMA with lr / (1 - beta).
    """

    def __init__(self, lr: float, beta: float = 0.9, form: str = "ema"):
        super().__init__(lr)
        if form not in ("ema", "classical"):
            raise ValueError(f"form must be 'ema' or 'classical', got {form!r}")
        if not 0 <= beta < 1:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        self.beta, self.form = float(beta), form

    def _update(self, key, p, g):
        v = self._state("v", key, p)
        v *= self.beta
        v += (1 - self.beta) * g if self.form == "ema" else g
        p -= self.lr * v


class RMSProp(Optimizer):
    """``s = rho * s + (1 - rho) * g**2``, ``p -= lr * g / (sqrt(s) + eps)``."""

    def __init__(self, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def _update(self, key, p, g):
        s = self._state("s", key, p)
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam: momentum (m) and RMSProp (s) together, each corrected for its start at zero."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        super().step(params, grads)

    def _update(self, key, p, g):
        m, s = self._state("m", key, p), self._state("s", key, p)
        m *= self.beta1
        m += (1 - self.beta1) * g
        s *= self.beta2
        s += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        s_hat = s / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)


def cosine_schedule(lr: float, epochs: int, warmup: int = 0, final: float = 0.0):
    """Learning rate for each epoch (1-based): linear warm-up for ``warmup`` epochs, then a
    half cosine from ``lr`` down to ``final`` at the last epoch. Pass it to ``fit(lr_schedule=...)``."""
    def schedule(epoch: int) -> float:
        if epoch <= warmup:
            return lr * epoch / (warmup + 1)
        t = (epoch - 1 - warmup) / max(1, epochs - 1 - warmup)
        return final + 0.5 * (lr - final) * (1 + np.cos(np.pi * min(t, 1.0)))
    return schedule


def step_schedule(lr: float, every: int, factor: float = 0.1):
    """``lr`` multiplied by ``factor`` every ``every`` epochs (1-based epochs)."""
    return lambda epoch: lr * factor ** ((epoch - 1) // every)
