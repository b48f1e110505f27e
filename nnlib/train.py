"""One training loop for every network in nnlib.

A model is anything with ``params`` (dict), ``loss_and_grads(X, Y)`` returning
``(loss, grads, output)``, ``predict_proba(X)`` and ``n_in``/``n_out``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .data import minibatches
from .functional import accuracy, cross_entropy, one_hot
from .init import as_rng

__all__ = ["History", "TrainingDiverged", "fit", "evaluate"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite. ``history`` holds what was recorded until then."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch record of a training run: lists of equal length, one entry per epoch.

    ``loss`` and ``train_acc`` are averaged over the epoch's mini-batches, as
    they were seen during training; ``val_*`` are measured after each epoch.
    ``seconds`` is the wall time of each epoch's training steps.
    """

    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def to_frame(self):
        """The history as a pandas DataFrame indexed by epoch (1, 2, ...)."""
        import pandas as pd

        cols = {k: v for k, v in vars(self).items() if len(v) == self.epochs}
        return pd.DataFrame(cols, index=pd.RangeIndex(1, self.epochs + 1, name="epoch"))


def _targets(model, X, Y, name):
    try:
        X = model.check_input(X)
    except ValueError as err:
        raise ValueError(str(err) if name == "X" else f"{name}: {err}") from None
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name} must hold floats (scaled pixels), got dtype {X.dtype}; "
                         f"load it with load_mnist(normalize=True) or divide by 255")
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = one_hot(Y, model.n_out, dtype=X.dtype)
    if Y.shape != (X.shape[0], model.n_out):
        raise ValueError(f"targets for {name} must be labels (N,) or one-hot (N, {model.n_out}) "
                         f"with N = {X.shape[0]}; got shape {Y.shape}")
    return X, Y


def evaluate(model, X, Y) -> tuple:
    """``(loss, accuracy)`` of ``model`` on X (N, n_in) with labels (N,) or one-hot Y (N, C).

    The loss is cross-entropy for a softmax model and half the mean squared error otherwise.
    """
    X, Y = _targets(model, X, Y, "X")
    P = model.predict_proba(X)
    loss_fn = getattr(model, "loss_fn", None)
    loss = loss_fn(P, Y)[0] if loss_fn is not None else cross_entropy(P, Y)
    return loss, accuracy(P, Y)


def fit(model, X, Y, optimizer, epochs: int = 1, batch_size: int | None = None, rng=0,
        validation=None, verbose=True, print_every: int | None = None, callback=None,
        l2: float = 0.0, lr_schedule=None, augment=None) -> History:
    """Train ``model`` on X (N, n_in) with labels y (N,) or one-hot Y (N, C).

    ``batch_size=None`` means full-batch gradient descent (one step per epoch);
    otherwise the data are reshuffled each epoch with ``rng`` and cut into
    mini-batches. ``validation=(X_val, Y_val)`` adds val_loss/val_acc per epoch.
    ``verbose`` prints a line every ``print_every`` epochs (default: about 10
    lines per run); ``callback(epoch, history)`` runs after each epoch.

    Extras (notebook 10): ``l2`` adds ``l2 * W`` to the gradient of every weight matrix (not the
    biases), the gradient of the penalty ``l2/2 * sum(W**2)``; the reported loss leaves the penalty
    out. ``lr_schedule(epoch)`` sets ``optimizer.lr`` at the start of each epoch (1-based), e.g.
    ``nnlib.optim.cosine_schedule``. ``augment(X_batch, rng)`` transforms each training batch,
    e.g. ``nnlib.data.random_shift``.

    If the loss becomes NaN or infinite, training stops: the parameters are put
    back as they were at the start of that epoch and ``TrainingDiverged`` is
    raised, carrying the history so far.
    """
    X, Y = _targets(model, X, Y, "X")
    if validation is not None:
        X_val, Y_val = _targets(model, *validation, "X_val")
    if not (isinstance(epochs, (int, np.integer)) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if batch_size is not None and not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer or None (full batch), got {batch_size!r}")
    rng = as_rng(rng)
    full_batch = batch_size is None or batch_size >= len(X)
    print_every = print_every or max(1, epochs // 10)
    history = History()
    params = model.params
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    for epoch in range(1, epochs + 1):
        if lr_schedule is not None:
            optimizer.lr = float(lr_schedule(epoch))
        snapshot = {k: v.copy() for k, v in params.items()}
        start = time.perf_counter()
        loss_sum = correct = 0.0
        batches = [(X, Y)] if full_batch else minibatches(X, Y, batch_size, rng)
        for step, (Xb, Yb) in enumerate(batches, start=1):
            if augment is not None:
                Xb = augment(Xb, rng)
            with np.errstate(over="ignore", invalid="ignore"):   # divergence is caught just below
                loss, grads, out = model.loss_and_grads(Xb, Yb)
            if not np.isfinite(loss):
                for k, v in snapshot.items():
                    params[k][...] = v
                raise TrainingDiverged(
                    f"loss became {loss} at epoch {epoch}, step {step}: training stopped and the parameters "
                    f"were restored to the start of epoch {epoch}. Try a smaller learning rate "
                    f"(it was {optimizer.lr}) or check the inputs for NaN.", history)
            if l2:
                grads = {k: g + l2 * params[k] if k.startswith("W") else g for k, g in grads.items()}
            optimizer.step(params, grads)
            loss_sum += loss * len(Xb)
            correct += float((out.argmax(axis=1) == Yb.argmax(axis=1)).sum())
        history.seconds.append(time.perf_counter() - start)
        history.loss.append(loss_sum / len(X))
        history.train_acc.append(correct / len(X))
        line = f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {history.loss[-1]:.4f}  train acc {history.train_acc[-1]:.2%}"
        if validation is not None:
            val_loss, val_acc = evaluate(model, X_val, Y_val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            line += f"  val loss {val_loss:.4f}  val acc {val_acc:.2%}"
        if verbose and (epoch % print_every == 0 or epoch in (1, epochs)):
            print(line, flush=True)
        if callback is not None:
            callback(epoch, history)
    return history
