"""One training loop for every network in nnlib, and one evaluation.

A model is anything with ``params`` (mapping of arrays, updated in place), ``n_in``/``n_out``,
``check_input(X, name)`` and ``check_targets(Y, n, name)`` (see :mod:`nnlib.inputs`),
``loss_and_grads(X, Y, validate=True)`` returning ``(loss, grads, output)``,
``loss_and_output(X, Y, validate=True)`` returning ``(loss, output)``, and optionally ``state``
(arrays that are not trained but change while training, e.g. batch norm's running statistics).
``Model`` and ``PerExampleNetwork`` are such models.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np

from .init import as_rng
from .inputs import positive_float, positive_int

__all__ = ["History", "TrainingDiverged", "fit", "evaluate"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite. ``history`` holds what was recorded until then."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch record of a training run: lists of equal length, one entry per epoch.

    ``loss`` and ``train_acc`` are means over the epoch's training examples, as they were seen
    during training (each mini-batch's mean loss weighted by its size, so a smaller last batch
    counts less); ``val_*`` are measured after each epoch. ``seconds`` is the wall time of each
    epoch's training steps.
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


def _data(model, X, Y, name="X"):
    """``(X, Y one-hot, y labels)`` checked and cast to the model's dtype."""
    X = model.check_input(X, name)
    Y, y = model.check_targets(Y, len(X), name)
    return X, Y, y


def _accepts_validate(method) -> bool:
    try:
        return "validate" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def evaluate(model, X, Y, batch_size: int = 10000) -> tuple:
    """``(loss, accuracy)`` of ``model`` on X (N, n_in) with labels (N,) or one-hot Y (N, C).

    The loss is the one the model trains on (see :mod:`nnlib.losses`): cross-entropy computed from
    the logits for a softmax model, half the mean squared error otherwise. Rows go through the
    model ``batch_size`` at a time, so a large X needs little memory.
    """
    batch_size = positive_int(batch_size, "batch_size")
    X, Y, y = _data(model, X, Y)
    kw = {"validate": False} if _accepts_validate(model.loss_and_output) else {}
    loss_sum, correct = 0.0, 0
    for i in range(0, len(X), batch_size):
        loss, out = model.loss_and_output(X[i:i + batch_size], Y[i:i + batch_size], **kw)
        loss_sum += loss * len(out)
        correct += int(np.count_nonzero(out.argmax(axis=1) == y[i:i + batch_size]))
    return loss_sum / len(X), correct / len(X)


def _snapshot(params, state, optimizer):
    return ({k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in state.items()},
            optimizer.state_dict() if hasattr(optimizer, "state_dict") else None)


def _restore(snapshot, params, state, optimizer):
    saved_params, saved_state, saved_opt = snapshot
    for k, v in saved_params.items():
        params[k][...] = v
    for k, v in saved_state.items():
        state[k][...] = v
    if saved_opt is not None:
        optimizer.load_state_dict(saved_opt)


def _first_non_finite(params):
    """The name of the first parameter with a NaN or infinite entry, or None."""
    return next((k for k, p in params.items() if not np.isfinite(p).all()), None)


def _diverged(snapshot, model, optimizer, epoch, history, what):
    """Put the model and optimiser back to ``snapshot``, taken at the start of ``epoch``, and raise."""
    _restore(snapshot, model.params, getattr(model, "state", {}), optimizer)
    for values in vars(history).values():    # the history keeps the epochs before the restored one
        del values[epoch - 1:]
    raise TrainingDiverged(
        f"{what}: training stopped and the parameters and optimiser state were restored to the start of epoch "
        f"{epoch}. Try a smaller learning rate (it was {optimizer.lr}) or check the inputs.", history)


def _epoch(model, optimizer, X, Y, y, rng, batch_size, full_batch, kw, decayed, l2, augment, buffers, snapshots,
           epoch, history):
    """One epoch of steps; returns (summed loss, correct predictions, seconds)."""
    params, N = model.params, len(X)
    start = time.perf_counter()
    loss_sum, correct = 0.0, 0
    order = None if full_batch else rng.permutation(N)
    for step, begin in enumerate(range(0, N, N if full_batch else batch_size), start=1):
        if full_batch:
            Xb, Yb, yb = X, Y, y
        else:
            Xbuf, Ybuf, ybuf = buffers
            idx = order[begin:begin + batch_size]
            n = len(idx)
            Xb = np.take(X, idx, axis=0, out=Xbuf[:n], mode="clip")
            Yb = np.take(Y, idx, axis=0, out=Ybuf[:n], mode="clip")
            yb = np.take(y, idx, out=ybuf[:n], mode="clip")
        if augment is not None:
            shape, dtype = Xb.shape, Xb.dtype
            Xb = augment(Xb, rng)
            if not isinstance(Xb, np.ndarray) or Xb.shape != shape or Xb.dtype != dtype:
                got = f"{Xb.shape} {Xb.dtype}" if isinstance(Xb, np.ndarray) else type(Xb).__name__
                raise ValueError(f"augment(X_batch, rng) must return an array of the batch's shape and dtype, "
                                 f"{shape} {dtype}; it returned {got}")
        with np.errstate(over="ignore", invalid="ignore"):   # divergence is caught just below
            loss, grads, out = model.loss_and_grads(Xb, Yb, **kw)
        if not np.isfinite(loss):
            what = f"loss became {loss} at epoch {epoch}, step {step}"
            if step == 1 and len(snapshots) == 2:   # the parameters the last epoch left behind are already ruined
                _diverged(snapshots[0], model, optimizer, epoch - 1, history, what)
            _diverged(snapshots[-1], model, optimizer, epoch, history, what)
        with np.errstate(over="ignore", invalid="ignore"):   # an overflow here shows in the next loss check
            if decayed:
                grads = dict(grads)
                for k in decayed:
                    g = l2 * params[k]
                    g += grads[k]
                    grads[k] = g
            optimizer.step(params, grads)
        loss_sum += loss * len(yb)
        correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
    return loss_sum, correct, time.perf_counter() - start


def fit(model, X, Y, optimizer, epochs: int = 1, batch_size: int | None = None, rng=0,
        validation=None, verbose=True, print_every: int | None = None, callback=None,
        l2: float = 0.0, lr_schedule=None, augment=None) -> History:
    """Train ``model`` on X (N, n_in) with labels y (N,) or one-hot Y (N, C).

    ``batch_size=None`` means full-batch gradient descent (one step per epoch);
    otherwise the data are reshuffled each epoch with ``rng`` and cut into
    mini-batches. ``validation=(X_val, Y_val)`` adds val_loss/val_acc per epoch.
    ``verbose`` prints a line every ``print_every`` epochs (default: about 10
    lines per run); ``callback(epoch, history)`` runs after each epoch.
    X and Y are checked once, before the first step (see :mod:`nnlib.inputs`).

    Extras (notebook 10): ``l2`` adds ``l2 * W`` to the gradient of every weight matrix (not the
    biases, nor batch norm's gamma and beta), the gradient of the penalty ``l2/2 * sum(W**2)``; the
    reported loss leaves the penalty out. ``lr_schedule(epoch)`` sets ``optimizer.lr`` at the start of
    each epoch (1-based), e.g. ``nnlib.optim.cosine_schedule``; it must return a positive, finite
    rate. ``augment(X_batch, rng)`` transforms each training batch, e.g. ``nnlib.data.random_shift``;
    it must return a new array (fit reuses the batch's memory for the next batch).

    **Divergence.** If the training loss becomes NaN or infinite, if a step leaves a parameter NaN or
    infinite (checked after each epoch's last step, so also in full-batch training), or if the
    validation loss does, training stops: the parameters, the model's state and the optimiser's state
    (momentum buffers, Adam's step count) are put back as they were at the start of that epoch and
    ``TrainingDiverged`` is raised, carrying the history of the epochs before it. When the loss is
    already non-finite at an epoch's first step, the previous epoch did the damage, and the model goes
    back to the start of that one. Either way the model left behind has finite parameters and a
    finite training loss.

    **Interruption.** A ``KeyboardInterrupt`` (the stop button) in the middle of an epoch puts the
    parameters and both states back as they were at the start of that epoch, so no half-applied step is
    left behind, says so, and is raised again; the history (if you kept a reference through
    ``callback``) holds the epochs that finished.
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size", allow_none=True)
    print_every = positive_int(print_every, "print_every", allow_none=True) or max(1, epochs // 10)
    l2 = positive_float(l2, "l2", allow_zero=True)
    for name, f in (("callback", callback), ("lr_schedule", lr_schedule), ("augment", augment)):
        if f is not None and not callable(f):
            raise TypeError(f"{name} must be a function (or None), got {f!r}")
    X, Y, y = _data(model, X, Y, "X")
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError("validation must be a pair (X_val, y_val)")
        X_val, Y_val, _ = _data(model, *validation, "X_val")
    rng = as_rng(rng)
    N = len(X)
    full_batch = batch_size is None or batch_size >= N
    kw = {"validate": False} if _accepts_validate(model.loss_and_grads) else {}
    history = History()
    params = model.params
    state = getattr(model, "state", {})
    decayed = [k for k, p in params.items() if p.ndim >= 2] if l2 else []
    buffers = None
    if not full_batch:   # each batch is gathered into these buffers: no new arrays per step
        buffers = (np.empty((batch_size, X.shape[1]), X.dtype), np.empty((batch_size, Y.shape[1]), Y.dtype),
                   np.empty(batch_size, y.dtype))
    snapshots = []
    for epoch in range(1, epochs + 1):
        if lr_schedule is not None:
            lr = lr_schedule(epoch)
            try:
                optimizer.lr = positive_float(lr, "learning rate")
            except ValueError:
                raise ValueError(f"lr_schedule({epoch}) returned {lr!r}; a learning rate must be positive "
                                 f"and finite") from None
        snapshots = [*snapshots[-1:], _snapshot(params, state, optimizer)]   # this epoch's start and the last's
        snapshot = snapshots[-1]
        try:
            loss_sum, correct, seconds = _epoch(model, optimizer, X, Y, y, rng, batch_size, full_batch, kw,
                                                decayed, l2, augment, buffers, snapshots, epoch, history)
        except KeyboardInterrupt:
            _restore(snapshot, params, state, optimizer)
            print(f"interrupted in epoch {epoch}: the parameters and the optimiser's state are back as they were "
                  f"at the start of epoch {epoch} ({epoch - 1} epoch(s) finished)", flush=True)
            raise
        bad = _first_non_finite(params)
        if bad is not None:
            _diverged(snapshot, model, optimizer, epoch, history, f"the last step of epoch {epoch} left {bad} "
                      f"with NaN or infinite entries")
        history.seconds.append(seconds)
        history.loss.append(loss_sum / N)
        history.train_acc.append(correct / N)
        line = f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {history.loss[-1]:.4f}  train acc {history.train_acc[-1]:.2%}"
        if validation is not None:
            with np.errstate(over="ignore", invalid="ignore"):   # a non-finite loss is caught just below
                val_loss, val_acc = evaluate(model, X_val, Y_val)
            if not np.isfinite(val_loss):
                _diverged(snapshot, model, optimizer, epoch, history, f"the validation loss became {val_loss} "
                          f"after epoch {epoch}")
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            line += f"  val loss {val_loss:.4f}  val acc {val_acc:.2%}"
        if verbose and (epoch % print_every == 0 or epoch in (1, epochs)):
            print(line, flush=True)
        if callback is not None:
            callback(epoch, history)
    return history
