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

from .data import minibatches
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
    """``(X, Y one-hot)`` checked and cast to the model's dtype."""
    X = model.check_input(X, name)
    Y, _ = model.check_targets(Y, len(X), name)
    return X, Y


def _accepts_validate(method) -> bool:
    try:
        return "validate" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def evaluate(model, X, Y, batch_size: int = 1000) -> tuple:
    """``(loss, accuracy)`` of ``model`` on X (N, ...) with labels (N,) or one-hot Y (N, C).

    The loss is the one the model trains on (see :mod:`nnlib.losses`): cross-entropy computed from
    the logits for a softmax model, half the mean squared error otherwise. Rows go through the
    model ``batch_size`` at a time, so a large X needs little memory. 1,000 is no slower than larger chunks
    for an MLP, and a convolutional network needs it: its im2col columns for 10,000 images of notebook 14
    would take more than a gigabyte, and one such chunk took 25 s where ten chunks of 1,000 took 1.5 s.
    """
    batch_size = positive_int(batch_size, "batch_size")
    X, Y = _data(model, X, Y)
    kw = {"validate": False} if _accepts_validate(model.loss_and_output) else {}
    loss_sum, correct = 0.0, 0
    for Xb, Yb in minibatches(X, Y, batch_size, rng=None, shuffle=False):
        loss, out = model.loss_and_output(Xb, Yb, **kw)
        loss_sum += loss * len(out)
        correct += _hits(out, Yb)
    return loss_sum / len(X), correct / len(X)


class _Rollback:
    """The divergence guard: the model and optimiser as they were at the start of this epoch and the last,
    to go back to when training diverges or is interrupted.

    ``start(epoch)`` takes a snapshot of the parameters, the model's state (batch norm's running statistics)
    and the optimiser's state (momentum buffers, Adam's step count). ``loss``, ``params`` and ``val_loss``
    check what their names say and, on a NaN or infinity, restore a snapshot, cut the history back to the
    epochs before it and raise ``TrainingDiverged``. ``interrupted()`` restores the start of this epoch.
    """

    def __init__(self, model, optimizer, history):
        self.model, self.optimizer, self.history = model, optimizer, history
        self.snapshots, self.epoch = [], 0

    def start(self, epoch):
        params, state, opt = self.model.params, getattr(self.model, "state", {}), self.optimizer
        snapshot = (
            {k: v.copy() for k, v in params.items()},
            {k: v.copy() for k, v in state.items()},
            opt.state_dict() if hasattr(opt, "state_dict") else None,
        )
        self.snapshots = [*self.snapshots[-1:], snapshot]  # this epoch's start and the last's
        self.epoch = epoch

    def _restore(self, snapshot):
        saved_params, saved_state, saved_opt = snapshot
        for k, v in saved_params.items():
            self.model.params[k][...] = v
        for k, v in saved_state.items():
            self.model.state[k][...] = v
        if saved_opt is not None:
            self.optimizer.load_state_dict(saved_opt)

    def interrupted(self):
        self._restore(self.snapshots[-1])
        print(
            f"interrupted in epoch {self.epoch}: the parameters and the optimiser's state are back as they were "
            f"at the start of epoch {self.epoch} ({self.epoch - 1} epoch(s) finished)",
            flush=True,
        )

    def _diverged(self, what, epochs_back=0):
        """Restore the start of this epoch (or, ``epochs_back=1``, of the last one) and raise."""
        epoch = self.epoch - epochs_back
        self._restore(self.snapshots[-1 - epochs_back])
        for values in vars(self.history).values():  # the history keeps the epochs before the restored one
            del values[epoch - 1 :]
        raise TrainingDiverged(
            f"{what}: training stopped and the parameters and optimiser state were restored to the start of epoch "
            f"{epoch}. Try a smaller learning rate (it was {self.optimizer.lr}) or check the inputs.",
            self.history,
        )

    def loss(self, loss, step):
        if not np.isfinite(loss):
            # at an epoch's first step, the parameters the last epoch left behind are already ruined
            back = 1 if step == 1 and len(self.snapshots) == 2 else 0
            self._diverged(f"loss became {loss} at epoch {self.epoch}, step {step}", back)

    def params(self):
        bad = next((k for k, p in self.model.params.items() if not np.isfinite(p).all()), None)
        if bad is not None:
            self._diverged(f"the last step of epoch {self.epoch} left {bad} with NaN or infinite entries")

    def val_loss(self, val_loss):
        if not np.isfinite(val_loss):
            self._diverged(f"the validation loss became {val_loss} after epoch {self.epoch}")


def _with_l2(grads, params, l2):
    """The gradients plus ``l2 * W`` for every weight matrix (a parameter of 2 or more dimensions): the
    gradient of the penalty ``l2/2 * sum(W**2)``. Biases (and batch norm's gamma and beta) are left alone."""
    if not l2:
        return grads
    return {k: l2 * params[k] + g if params[k].ndim >= 2 else g for k, g in grads.items()}


def _augmented(augment, Xb, rng):
    """``augment(Xb, rng)``, checked to be an array of the batch's shape and dtype."""
    out = augment(Xb, rng)
    if not isinstance(out, np.ndarray) or out.shape != Xb.shape or out.dtype != Xb.dtype:
        got = f"{out.shape} {out.dtype}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(
            f"augment(X_batch, rng) must return an array of the batch's shape and dtype, "
            f"{Xb.shape} {Xb.dtype}; it returned {got}"
        )
    return out


def _set_lr(optimizer, lr_schedule, epoch):
    lr = lr_schedule(epoch)
    try:
        optimizer.lr = positive_float(lr, "learning rate")
    except ValueError:
        raise ValueError(f"lr_schedule({epoch}) returned {lr!r}; a learning rate must be positive and finite") from None


def _hits(out, Yb) -> int:
    """How many rows of the output ``out`` (n, C) put their largest value on the target's class."""
    return int(np.count_nonzero(out.argmax(axis=1) == Yb.argmax(axis=1)))


def fit(
    model,
    X,
    Y,
    optimizer,
    epochs: int = 1,
    batch_size: int | None = None,
    rng=0,
    validation=None,
    verbose=True,
    print_every: int | None = None,
    callback=None,
    l2: float = 0.0,
    lr_schedule=None,
    augment=None,
) -> History:
    """Train ``model`` on X (N, ...) (one example per row: (N, n_in), or images (N, 1, 28, 28) for a model
    that takes them) with labels y (N,) or one-hot Y (N, C).

    Each epoch is the loop of notebook 07: for each ``(Xb, Yb)`` of ``nnlib.minibatches(X, Y, batch_size, rng)``,
    ``model.loss_and_grads(Xb, Yb)``, then ``optimizer.step(model.params, grads)``.
    ``batch_size=None`` (or ``>= N``) means full-batch gradient descent (one step per epoch, on the rows in
    their order); otherwise the data are reshuffled each epoch with ``rng`` and cut into
    mini-batches. ``validation=(X_val, Y_val)`` adds val_loss/val_acc per epoch.
    ``verbose`` prints a line every ``print_every`` epochs (default: about 10
    lines per run); ``callback(epoch, history)`` runs after each epoch.
    X and Y are checked once, before the first step (see :mod:`nnlib.inputs`).

    Extras (notebook 12): ``l2`` adds ``l2 * W`` to the gradient of every weight matrix (not the
    biases, nor batch norm's gamma and beta), the gradient of the penalty ``l2/2 * sum(W**2)``; the
    reported loss leaves the penalty out. ``lr_schedule(epoch)`` sets ``optimizer.lr`` at the start of
    each epoch (1-based), e.g. ``nnlib.optim.cosine_schedule``; it must return a positive, finite
    rate. ``augment(X_batch, rng)`` transforms each training batch, e.g. ``nnlib.data.random_shift``;
    it must return a new array of the batch's shape and dtype, leaving the batch as it is (in full-batch
    training the batch is X itself).

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
    X, Y = _data(model, X, Y, "X")
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError("validation must be a pair (X_val, y_val)")
        X_val, Y_val = _data(model, *validation, "X_val")
    rng = as_rng(rng)
    N = len(X)
    full_batch = batch_size is None or batch_size >= N
    kw = {"validate": False} if _accepts_validate(model.loss_and_grads) else {}
    history = History()
    guard = _Rollback(model, optimizer, history)
    quiet = {"over": "ignore", "invalid": "ignore"}  # a NaN or overflow is caught by the guard instead

    for epoch in range(1, epochs + 1):
        if lr_schedule is not None:
            _set_lr(optimizer, lr_schedule, epoch)
        guard.start(epoch)
        start, loss_sum, correct = time.perf_counter(), 0.0, 0
        try:
            batches = minibatches(X, Y, N if full_batch else batch_size, rng, shuffle=not full_batch)
            for step, (Xb, Yb) in enumerate(batches, start=1):
                if augment is not None:
                    Xb = _augmented(augment, Xb, rng)
                with np.errstate(**quiet):
                    loss, grads, out = model.loss_and_grads(Xb, Yb, **kw)
                guard.loss(loss, step)
                with np.errstate(**quiet):  # an overflow here shows in the next loss, or in guard.params()
                    optimizer.step(model.params, _with_l2(grads, model.params, l2))
                loss_sum += loss * len(Xb)
                correct += _hits(out, Yb)
        except KeyboardInterrupt:
            guard.interrupted()
            raise
        guard.params()
        history.seconds.append(time.perf_counter() - start)
        history.loss.append(loss_sum / N)
        history.train_acc.append(correct / N)
        line = f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {history.loss[-1]:.4f}  train acc {history.train_acc[-1]:.2%}"
        if validation is not None:
            with np.errstate(**quiet):
                val_loss, val_acc = evaluate(model, X_val, Y_val)
            guard.val_loss(val_loss)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            line += f"  val loss {val_loss:.4f}  val acc {val_acc:.2%}"
        if verbose and (epoch % print_every == 0 or epoch in (1, epochs)):
            print(line, flush=True)
        if callback is not None:
            callback(epoch, history)
    return history
