"""Optimisers: each a small class that holds its own state and updates parameters in place.

``opt.step(params, grads)`` takes two mappings with matching keys (``W1, b1, ...``) and changes
the arrays of ``params`` in place; ``grads`` are left as they are. Every hyper-parameter is
checked when it is set (``opt.lr = -1`` raises). ``state_dict()`` / ``load_state_dict()`` copy the
running state (momentum buffers, Adam's step count) out and back in, e.g. to undo the steps of
a diverged epoch (``fit`` does).
"""
from __future__ import annotations

import copy

import numpy as np

from .inputs import fraction, positive_float, positive_int

__all__ = ["Optimizer", "SGD", "Momentum", "RMSProp", "Adam", "AdamW", "cosine_schedule", "step_schedule"]


class Optimizer:
    """Base class: the learning rate, per-parameter buffers, and their state dict.

    Subclasses implement ``_update(key, p, g)``; ``_buffer(name, key, like)`` gives a zero-started
    buffer kept between steps (part of the state), ``_scratch(key, like)`` a work array that is not.
    """

    hyper = ()   # names of the hyper-parameters besides lr, for repr

    def __init__(self, lr: float):
        self.lr = lr
        self._buffers: dict = {}
        self._tmp: dict = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = positive_float(value, "learning rate")

    def _buffer(self, name, key, like):
        store = self._buffers.setdefault(name, {})
        buf = store.get(key)
        if buf is None or buf.shape != like.shape:
            buf = store[key] = np.zeros_like(like)
        return buf

    def _scratch(self, key, like):
        tmp = self._tmp.get(key)
        if tmp is None or tmp.shape != like.shape or tmp.dtype != like.dtype:
            tmp = self._tmp[key] = np.empty_like(like)
        return tmp

    def step(self, params, grads):
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
        for key in params:
            self._update(key, params[key], grads[key])

    def state_dict(self) -> dict:
        """A deep copy of the running state: ``{"buffers": {name: {key: array}}, ...}``."""
        return {"buffers": copy.deepcopy(self._buffers)}

    def load_state_dict(self, state: dict):
        """Replace the running state with a deep copy of ``state`` (from ``state_dict()``)."""
        self._buffers = copy.deepcopy(state["buffers"])

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("lr", *self.hyper))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    def _update(self, key, p, g):
        tmp = np.multiply(g, self.lr, out=self._scratch(key, p))
        p -= tmp


class Momentum(Optimizer):
    """Gradient descent with momentum, in one of two forms.

    ``form='ema'`` (as in the project write-up "Neural Network from Scratch"):
    ``v = beta * v + (1 - beta) * g``, ``p -= lr * v``.
    ``v`` is an exponential moving average of the gradients.
    ``form='classical'`` (Polyak's heavy ball, as in PyTorch): ``v = beta * v + g``, ``p -= lr * v``.
    The two differ only by the scale of v: classical with lr equals EMA with lr / (1 - beta).
    """

    hyper = ("beta", "form")

    def __init__(self, lr: float, beta: float = 0.9, form: str = "ema"):
        super().__init__(lr)
        if form not in ("ema", "classical"):
            raise ValueError(f"form must be 'ema' or 'classical', got {form!r}")
        self.beta, self.form = fraction(beta, "beta"), form

    def _update(self, key, p, g):
        # The arithmetic of ``v = beta * v + (1 - beta) * g; p -= lr * v``, operation for operation,
        # but into buffers kept between steps instead of new arrays each time.
        v, tmp = self._buffer("v", key, p), self._scratch(key, p)
        v *= self.beta
        if self.form == "ema":
            v += np.multiply(g, 1 - self.beta, out=tmp)
        else:
            v += g
        p -= np.multiply(v, self.lr, out=tmp)


class RMSProp(Optimizer):
    """``s = rho * s + (1 - rho) * g**2``, ``p -= lr * g / (sqrt(s) + eps)``."""

    hyper = ("rho", "eps")

    def __init__(self, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = fraction(rho, "rho"), positive_float(eps, "eps")

    def _update(self, key, p, g):
        s = self._buffer("s", key, p)
        tmp = self._scratch(key, p)
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        s *= self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam: momentum (m) and RMSProp (s) together, each corrected for its start at zero.

    Step t (counted from 1): ``m = beta1 m + (1 - beta1) g``, ``s = beta2 s + (1 - beta2) g**2``,
    ``p -= lr * (m / (1 - beta1**t)) / (sqrt(s / (1 - beta2**t)) + eps)``.
    """

    hyper = ("beta1", "beta2", "eps")

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2 = fraction(beta1, "beta1"), fraction(beta2, "beta2")
        self.eps = positive_float(eps, "eps")
        self.t = 0

    def step(self, params, grads):
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
        self.t += 1
        super().step(params, grads)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "t": self.t}

    def load_state_dict(self, state: dict):
        super().load_state_dict(state)
        self.t = int(state["t"])

    def _update(self, key, p, g):
        m, s = self._buffer("m", key, p), self._buffer("s", key, p)
        tmp = self._scratch(key, p)
        np.multiply(g, 1 - self.beta1, out=tmp)
        m *= self.beta1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        s *= self.beta2
        s += tmp
        # tmp = sqrt(s_hat) + eps; p -= lr * m_hat / tmp
        np.divide(s, 1 - self.beta2 ** self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - self.beta1 ** self.t)
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    Each step first shrinks every weight matrix (each parameter with two or more dimensions; biases
    and batch norm's gamma/beta are left alone): ``W -= lr * weight_decay * W``, then takes Adam's
    step with the plain gradient. Unlike an L2 term added to the gradient (``fit(..., l2=...)``),
    the decay is not divided by Adam's ``sqrt(s_hat)``, so every weight decays at the same rate.
    """

    hyper = ("beta1", "beta2", "eps", "weight_decay")

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, key, p, g):
        if p.ndim >= 2 and self.weight_decay:
            p *= 1 - self.lr * self.weight_decay
        super()._update(key, p, g)


def cosine_schedule(lr: float, epochs: int, warmup: int = 0, final: float = 0.0):
    """Learning rate for each epoch (1-based): linear warm-up for ``warmup`` epochs, then a half cosine
    from ``lr`` at epoch ``warmup + 1`` towards ``final``, which it would reach one epoch after the last,
    so that every epoch trains with a positive rate. Pass it to ``fit(lr_schedule=...)``::

        lr(e) = final + (lr - final) / 2 * (1 + cos(pi * (e - 1 - warmup) / (epochs - warmup)))
    """
    lr, final = positive_float(lr, "lr"), positive_float(final, "final", allow_zero=True)
    epochs = positive_int(epochs, "epochs")
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup < epochs:
        raise ValueError(f"warmup must be a whole number of epochs in 0..epochs-1, got {warmup!r}")

    def schedule(epoch: int) -> float:
        if epoch <= warmup:
            return lr * epoch / (warmup + 1)
        t = (epoch - 1 - warmup) / (epochs - warmup)
        return final + 0.5 * (lr - final) * (1 + np.cos(np.pi * min(t, 1.0)))
    return schedule


def step_schedule(lr: float, every: int, factor: float = 0.1):
    """``lr`` multiplied by ``factor`` every ``every`` epochs (1-based epochs)."""
    lr, factor = positive_float(lr, "lr"), positive_float(factor, "factor")
    every = positive_int(every, "every")
    return lambda epoch: lr * factor ** ((epoch - 1) // every)
