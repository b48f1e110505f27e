"""Optimisers: each a small class that holds its own state and updates parameters in place.

``opt.step(params, grads)`` takes two mappings with matching keys (``W1, b1, ...``) and arrays of
matching shapes, and changes the arrays of ``params`` in place; ``grads`` are left as they are. Every
hyper-parameter is checked whenever it is set, at construction or later (``opt.lr = -1`` and
``opt.beta = 2.0`` raise). ``state_dict()`` / ``load_state_dict()`` copy the running state (momentum
buffers, Adam's step count) out and back in, e.g. to undo the steps of a diverged epoch (``fit`` does);
a state of another optimiser or another model is refused with one clear error.
"""

from __future__ import annotations

import copy

import numpy as np

from .inputs import fraction, positive_float, positive_int

__all__ = ["Optimizer", "SGD", "Momentum", "RMSProp", "Adam", "AdamW", "cosine_schedule", "step_schedule"]


class Checked:
    """A hyper-parameter checked whenever it is set: ``beta = Checked(fraction)`` runs
    ``fraction(value, "beta")`` on ``opt.beta = value``, in ``__init__`` and after it."""

    def __init__(self, check):
        self.check = check

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else obj.__dict__[self.name]

    def __set__(self, obj, value):
        obj.__dict__[self.name] = self.check(value, self.name)


def _form(value, name):
    if value not in ("ema", "classical"):
        raise ValueError(f"{name} must be 'ema' or 'classical', got {value!r}")
    return value


class Optimizer:
    """Base class: the learning rate, per-parameter buffers, and their state dict.

    Subclasses implement ``_update(key, p, g)`` as the formulas of the notebooks, one line each; the
    parameter ``p`` changes in place (``p -= ...``), and so does each running buffer (``v[...] = ...``), which
    ``_buffer(name, key, like)`` gives, zero-started and kept between steps (it is part of the state).

    ``step`` calls ``_update_fast``, which is ``_update`` unless a subclass writes the same operations, in
    the same order, into work arrays kept between steps (``_scratch``) instead of new ones: Adam and RMSProp,
    whose formulas make several new arrays per parameter and step (``tests/test_optim.py`` checks that both
    forms give the same bits).
    """

    hyper = ()  # names of the hyper-parameters besides lr, for repr
    buffers = ()  # names of the running buffers kept per parameter (the state)

    def __init__(self, lr: float):
        self.lr = lr
        self._buffers: dict = {}
        self._work: dict = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = positive_float(value, "learning rate")

    def _buffer(self, name, key, like):
        store = self._buffers.setdefault(name, {})
        buf = store.get(key)
        if buf is None:
            buf = store[key] = np.zeros_like(like)
        elif buf.shape != like.shape:
            raise ValueError(
                f"this {type(self).__name__}'s state for {key!r} has shape {buf.shape}, but the parameter has shape "
                f"{like.shape}: the state belongs to another model. An optimiser keeps state per parameter: "
                f"make a new one for another model."
            )
        return buf

    def _scratch(self, name, key, like):
        """A work array like ``like``, kept between steps but not part of the state."""
        work = self._work.get((name, key))
        if work is None or work.shape != like.shape or work.dtype != like.dtype:
            work = self._work[name, key] = np.empty_like(like)
        return work

    def _update(self, key, p, g):
        """One step for parameter ``key``: the formulas, in place on ``p`` and the buffers."""
        raise NotImplementedError

    def _update_fast(self, key, p, g):
        """``_update``, operation for operation, without new arrays (by default ``_update`` itself)."""
        self._update(key, p, g)

    def step(self, params, grads):
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
        for key in params:
            if np.shape(grads[key]) != np.shape(params[key]):
                raise ValueError(
                    f"the gradient for {key!r} has shape {np.shape(grads[key])}, but the parameter "
                    f"has shape {np.shape(params[key])}: a gradient has its parameter's shape"
                )
        for name, store in self._buffers.items():  # a loaded state must belong to these parameters
            if store and store.keys() != params.keys():
                raise ValueError(
                    f"this {type(self).__name__}'s state holds {name!r} for {sorted(store)}, but the "
                    f"parameters are {sorted(params)}: the state belongs to another model"
                )
        self._count_step()
        for key in params:
            self._update_fast(key, params[key], grads[key])

    def _count_step(self):
        """Called once per step, after the inputs were checked (Adam counts its steps here)."""

    def state_dict(self) -> dict:
        """A deep copy of the running state: ``{"kind": "Momentum", "buffers": {name: {key: array}}, ...}``."""
        return {"kind": type(self).__name__, "buffers": copy.deepcopy(self._buffers)}

    def load_state_dict(self, state: dict):
        """Replace the running state with a deep copy of ``state`` (from ``state_dict()`` of an optimiser
        of the same kind). Another kind's state, or one of another model, is refused."""
        name = type(self).__name__
        if not isinstance(state, dict) or state.get("kind") != name:
            got = state.get("kind", "no 'kind'") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"load_state_dict needs the state_dict() of a {name}, got {got!r}")
        buffers = state.get("buffers")
        if (
            not isinstance(buffers, dict)
            or not set(buffers) <= set(self.buffers)
            or not all(
                isinstance(store, dict) and all(isinstance(a, np.ndarray) for a in store.values())
                for store in buffers.values()
            )
        ):
            raise ValueError(
                f"a {name}'s state holds arrays under the buffer names {list(self.buffers)}, "
                f"got {buffers if not isinstance(buffers, dict) else sorted(buffers)!r}"
            )
        keys = [set(store) for store in buffers.values()]
        if any(k != keys[0] for k in keys):
            raise ValueError(f"this {name} state's buffers cover different parameters: {[sorted(k) for k in keys]}")
        for store in buffers.values():
            for key, a in store.items():
                shape = self._shape_of(key)
                if shape is not None and a.shape != shape:
                    raise ValueError(
                        f"this {name} state holds {key!r} with shape {a.shape}, but this optimiser's "
                        f"{key!r} has shape {shape}: the state belongs to another model"
                    )
        self._buffers = copy.deepcopy(buffers)

    def _shape_of(self, key):
        """The shape this optimiser already keeps for parameter ``key``, or None."""
        return next((store[key].shape for store in self._buffers.values() if key in store), None)

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("lr", *self.hyper))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent: ``p -= lr * g``."""

    def _update(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum, in one of two forms.

    ``form='ema'`` (as in the project write-up "Neural Network from Scratch"):
    ``v = beta * v + (1 - beta) * g``, ``p -= lr * v``.
    ``v`` is an exponential moving average of the gradients.
    ``form='classical'`` (Polyak's heavy ball, as in PyTorch): ``v = beta * v + g``, ``p -= lr * v``.
    The two differ only by the scale of v: classical with lr equals EMA with lr / (1 - beta).
    """

    hyper = ("beta", "form")
    buffers = ("v",)
    beta = Checked(fraction)
    form = Checked(_form)

    def __init__(self, lr: float, beta: float = 0.9, form: str = "ema"):
        super().__init__(lr)
        self.beta, self.form = beta, form

    def _update(self, key, p, g):
        v = self._buffer("v", key, p)
        if self.form == "ema":
            v[...] = self.beta * v + (1 - self.beta) * g
        else:
            v[...] = self.beta * v + g
        p -= self.lr * v


class RMSProp(Optimizer):
    """``s = rho * s + (1 - rho) * g * g``, ``p -= lr * g / (sqrt(s) + eps)``."""

    hyper = ("rho", "eps")
    buffers = ("s",)
    rho = Checked(fraction)
    eps = Checked(positive_float)

    def __init__(self, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps

    def _update(self, key, p, g):
        s = self._buffer("s", key, p)
        s[...] = self.rho * s + (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def _update_fast(self, key, p, g):
        s, work = self._buffer("s", key, p), self._scratch("work", key, p)
        s *= self.rho  # s = rho * s + (1 - rho) * g * g
        s += np.multiply(np.multiply(g, 1 - self.rho, out=work), g, out=work)
        denominator = np.add(np.sqrt(s, out=work), self.eps, out=work)
        step = np.multiply(g, self.lr, out=self._scratch("step", key, p))  # p -= lr * g / (sqrt(s) + eps)
        p -= np.divide(step, denominator, out=step)


class Adam(Optimizer):
    """Adam: momentum (m) and RMSProp (s) together, each corrected for its start at zero.

    Step t (counted from 1), as notebook 12 writes it::

        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        p -= lr * m_hat / (sqrt(s_hat) + eps)
    """

    hyper = ("beta1", "beta2", "eps")
    buffers = ("m", "s")
    beta1, beta2 = Checked(fraction), Checked(fraction)
    eps = Checked(positive_float)

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0

    def _count_step(self):
        self.t += 1

    def state_dict(self) -> dict:
        return {**super().state_dict(), "t": self.t}

    def load_state_dict(self, state: dict):
        t = state.get("t") if isinstance(state, dict) else None
        if (
            isinstance(state, dict)
            and state.get("kind") == type(self).__name__
            and (isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0)
        ):
            raise ValueError(f"a {type(self).__name__}'s state holds its step count 't' (an integer >= 0), got {t!r}")
        super().load_state_dict(state)
        self.t = int(t)

    def _update(self, key, p, g):
        m, s = self._buffer("m", key, p), self._buffer("s", key, p)
        m[...] = self.beta1 * m + (1 - self.beta1) * g
        s[...] = self.beta2 * s + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**self.t)
        s_hat = s / (1 - self.beta2**self.t)
        p -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)

    def _update_fast(self, key, p, g):
        m, s = self._buffer("m", key, p), self._buffer("s", key, p)
        work, step = self._scratch("work", key, p), self._scratch("step", key, p)
        m *= self.beta1  # m = beta1 * m + (1 - beta1) * g
        m += np.multiply(g, 1 - self.beta1, out=work)
        s *= self.beta2  # s = beta2 * s + (1 - beta2) * g * g
        s += np.multiply(np.multiply(g, 1 - self.beta2, out=work), g, out=work)
        m_hat = np.divide(m, 1 - self.beta1**self.t, out=step)
        s_hat = np.divide(s, 1 - self.beta2**self.t, out=work)
        denominator = np.add(np.sqrt(s_hat, out=work), self.eps, out=work)
        p -= np.divide(np.multiply(m_hat, self.lr, out=step), denominator, out=step)  # lr * m_hat / (...)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    Each step first shrinks every weight matrix (each parameter with two or more dimensions; biases
    and batch norm's gamma/beta are left alone): ``W -= lr * weight_decay * W``, then takes Adam's
    step with the plain gradient. Unlike an L2 term added to the gradient (``fit(..., l2=...)``),
    the decay is not divided by Adam's ``sqrt(s_hat)``, so every weight decays at the same rate.
    """

    hyper = ("beta1", "beta2", "eps", "weight_decay")
    weight_decay = Checked(lambda value, name: positive_float(value, name, allow_zero=True))

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 1e-2
    ):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def _decay(self, p):
        if p.ndim >= 2 and self.weight_decay:
            p *= 1 - self.lr * self.weight_decay

    def _update(self, key, p, g):
        self._decay(p)
        super()._update(key, p, g)

    def _update_fast(self, key, p, g):
        self._decay(p)
        super()._update_fast(key, p, g)


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
