"""The check of a training epoch (notebook 07): ``train_epoch(model, X, Y, optimizer, batch_size, rng) -> float``.

The learner's loop runs on a tiny float64 ``nnlib.mlp([4, 3, 10])`` and 10 examples, each its own class, with
column 0 of X naming the row. A ``_Watched`` run records every call of ``model.loss_and_grads`` (the rows it
sees, the loss it returns) and of ``optimizer.step`` (plain SGD underneath). Each case below is one promise:
one step per batch, ceil(N / batch_size) of them with the last batch smaller; every row once per epoch, X and Y
rows together; a new order from ``rng`` every epoch; ``model.params`` changed in place by ``optimizer.step``;
the returned loss the epoch's mean, each batch's loss weighted by its number of rows; and batch_size >= N one
full-batch step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._core import CheckResult, _close, _Fail, _run, _theirs

N, SIZE, LR = 10, 4, 0.5  # 10 rows in batches of 4: batches of 4, 4 and 2 rows
X = np.column_stack([np.arange(N) / 8, np.random.default_rng(9).normal(size=(N, 3))])  # column 0 names the row
Y = np.eye(N)  # and so does its class


def _row_ids(Xb) -> list:
    """The rows of X that the batch ``Xb`` holds, read from its column 0."""
    return np.rint(np.asarray(Xb)[:, 0] * 8).astype(int).tolist()


def _model():
    from ..networks import mlp  # here, not at the top: nnlib imports the checks before its networks

    return mlp([4, 3, N], rng=0, dtype=np.float64)


def _sgd():
    from ..optim import SGD

    return SGD(LR)


class Call(NamedTuple):
    """One call of ``model.loss_and_grads``: the rows of the batch, its loss and gradients, X and Y rows matched."""

    rows: list
    loss: float
    grads: dict
    paired: bool


class Step(NamedTuple):
    """One call of ``optimizer.step``: whether it got the model's own arrays, its gradients, the calls before it."""

    live: bool
    grads: dict
    calls: int


class _Watched:
    """A model whose ``loss_and_grads`` and an optimiser whose ``step`` (plain SGD) record each call."""

    def __init__(self):
        self.model, self._sgd = _model(), _sgd()
        self.own = dict(self.model.params)
        self.calls: list[Call] = []
        self.steps: list[Step] = []
        self.lr, self.loss = LR, None
        real = self.model.loss_and_grads

        def loss_and_grads(Xb, Yb, *args, **kwargs):
            loss, grads, out = real(Xb, Yb, *args, **kwargs)
            rows = _row_ids(Xb)
            paired = np.array_equal(np.asarray(Yb).argmax(axis=1), Y[rows].argmax(axis=1))
            self.calls.append(Call(rows, float(loss), {k: np.array(g) for k, g in grads.items()}, paired))
            return loss, grads, out

        self.model.loss_and_grads = loss_and_grads

    def step(self, params, grads):
        live = all(k in params and params[k] is p for k, p in self.own.items())
        self.steps.append(Step(live, {k: np.array(g) for k, g in grads.items()}, len(self.calls)))
        self._sgd.step(params, grads)

    def rows(self) -> list:
        """Every row the model saw, in order."""
        return [r for call in self.calls for r in call.rows]


def _epoch(train_epoch, batch_size=SIZE, seed=0) -> _Watched:
    """One epoch of the learner's loop on a fresh watched model, its returned loss in ``.loss``."""
    w = _Watched()
    w.loss = train_epoch(w.model, X, Y, w, batch_size, np.random.default_rng(seed))
    return w


def _one_step_per_batch(train_epoch):
    w = _epoch(train_epoch)
    n, sizes = len(w.steps), [len(call.rows) for call in w.calls]
    if n == 0:
        raise _Fail(
            "optimizer.step was never called: after each batch's loss_and_grads, call "
            "optimizer.step(model.params, grads), which updates the parameters in place."
        )
    if n == 2 and sorted(sizes) == [4, 4]:
        raise _Fail(
            "2 steps for 10 rows in batches of 4: the last, smaller batch (2 rows) was dropped. Take "
            "a step on every batch that minibatches yields: 4, 4 and then 2 rows."
        )
    if n == 1 and len(w.calls) > 1:
        raise _Fail(
            f"one step for {len(w.calls)} batches: call optimizer.step inside the loop, once per "
            f"batch, not once after it."
        )
    if sizes == [N]:
        raise _Fail(f"one batch of all {N} rows: pass batch_size (here 4) on to minibatches.")
    if len(w.calls) != n:
        raise _Fail(
            f"model.loss_and_grads was called {len(w.calls)} times and optimizer.step {n} times: "
            f"one of each per batch (the loss comes with the gradients)."
        )
    if n != 3 or sorted(sizes) != [2, 4, 4]:
        raise _Fail(
            f"10 rows in batches of 4 take ceil(10 / 4) = 3 steps, on batches of 4, 4 and 2 rows; "
            f"yours took {n} steps, on batches of {sizes} rows."
        )


def _every_row_once(train_epoch):
    w = _epoch(train_epoch)
    seen = sorted(w.rows())
    if seen != list(range(N)):
        missing = sorted(set(range(N)) - set(seen))
        repeated = sorted({r for r in seen if seen.count(r) > 1})
        if missing and repeated:
            raise _Fail(
                f"rows {repeated} were used more than once and rows {missing} never: take every batch "
                f"of the epoch from one call of minibatches(X, Y, batch_size, rng), which uses one "
                f"permutation of the rows."
            )
        if missing:
            raise _Fail(f"rows {missing} were never used in the epoch: loop over all the batches.")
        raise _Fail(
            f"rows {repeated} were used more than once in one epoch: one pass over the batches of "
            f"one minibatches(...) call is one epoch."
        )
    if not all(call.paired for call in w.calls):
        raise _Fail(
            "the rows of Xb and Yb no longer match: take both from the same batch, "
            "for Xb, Yb in minibatches(X, Y, batch_size, rng)."
        )


def _shuffled(train_epoch):
    order = _epoch(train_epoch).rows()
    if order == sorted(order):
        raise _Fail(
            "the rows come in their original order: let minibatches shuffle them, with the rng "
            "you are given, at every epoch."
        )
    if order == _epoch(train_epoch, seed=1).rows():
        raise _Fail("two different rngs gave the same order: pass the rng you are given to minibatches.")
    w, rng = _Watched(), np.random.default_rng(0)
    train_epoch(w.model, X, Y, w, SIZE, rng)
    first = w.rows()
    train_epoch(w.model, X, Y, w, SIZE, rng)
    if w.rows()[N:] == first:
        raise _Fail(
            "two epochs with the same rng saw the rows in the same order: pass that rng itself to "
            "minibatches, so that each epoch draws a new permutation (a fixed seed such as "
            "np.random.default_rng(0) inside train_epoch repeats the order)."
        )


def _replayed(calls) -> dict:
    """The parameters after SGD steps on the batches of ``calls``, one after the other, done by nnlib."""
    model, sgd = _model(), _sgd()
    for call in calls:
        _, grads, _ = model.loss_and_grads(X[call.rows], Y[call.rows])
        sgd.step(model.params, grads)
    return model.params


def _in_place(train_epoch):
    w = _epoch(train_epoch)
    if not all(step.live for step in w.steps):
        raise _Fail(
            "optimizer.step got other arrays than the model's: pass model.params itself, whose "
            "arrays the step changes in place (a copy would leave the model as it was)."
        )
    for step in w.steps:
        last = w.calls[step.calls - 1].grads if step.calls else {}
        if set(step.grads) != set(last) or not all(_close(step.grads[k], last[k], rtol=1e-12, atol=0) for k in last):
            raise _Fail(
                "optimizer.step must get the gradients that model.loss_and_grads has just returned "
                "for this batch, unchanged."
            )
    for k, p in _replayed(w.calls).items():
        if not _close(w.model.params[k], p, rtol=1e-9, atol=1e-12):
            raise _Fail(
                f"after the epoch {k} differs from the same batches stepped one after the other: "
                f"call loss_and_grads on the current parameters, then step, batch after batch."
            )


def _as_loss(got) -> float:
    """The learner's returned loss as a float, or a failed case."""
    if got is None:
        raise _Fail("train_epoch returned None: return the epoch's mean loss, a float.")
    try:
        return float(got)
    except (TypeError, ValueError):
        raise _Fail(
            f"return one number, the epoch's mean loss; yours is {type(got).__name__} {np.shape(got)}."
        ) from None


def _loss_hint(got, losses, sizes) -> str:
    """What the learner's epoch loss ``got`` is, if it is a usual wrong mean of the batch ``losses``."""

    def near(value):
        return np.isclose(got, value, rtol=1e-9, atol=0)

    if near(losses.mean()):
        return (
            f"you returned the plain mean of the {len(losses)} batch losses, so the last batch, with only "
            f"{sizes[-1]} rows, counts as much as one of {SIZE}. Weight each batch's loss by its number of rows: "
            f"the sum of loss * len(Xb), divided by N."
        )
    if near(losses @ sizes):
        return f"divide the sum of loss * len(Xb) by N (the {N} examples), to get a mean per example."
    if near(losses.sum()):
        return (
            "you summed the batch losses, each already a mean over its batch: weight each by its number of "
            "rows and divide by N."
        )
    if near(losses[-1]):
        return (
            "you returned the last batch's loss: return the mean over the whole epoch, each batch's loss "
            "weighted by its number of rows."
        )
    return (
        f"expected {float(losses @ sizes) / N:.6f} (the batch losses weighted by their rows, divided by N = {N}); "
        f"got {got:.6f}. Add up loss * len(Xb) with the loss loss_and_grads returned for each batch."
    )


def _weighted_loss(train_epoch):
    w = _epoch(train_epoch)
    got = _as_loss(w.loss)
    losses = np.array([call.loss for call in w.calls])
    sizes = np.array([len(call.rows) for call in w.calls])
    if not np.isclose(got, float(losses @ sizes) / N, rtol=1e-9, atol=0):
        raise _Fail(_loss_hint(got, losses, sizes))


def _full_batch(train_epoch):
    ref = _model()
    loss, grads, _ = ref.loss_and_grads(X, Y)
    _sgd().step(ref.params, grads)
    for batch_size in (N, N + 6):
        w = _epoch(train_epoch, batch_size)
        if len(w.steps) != 1:
            raise _Fail(
                f"with batch_size={batch_size} >= N = {N} the whole set is one batch: one epoch is "
                f"one step; yours took {len(w.steps)}."
            )
        for k, p in ref.params.items():
            if not _close(w.model.params[k], p, rtol=1e-9, atol=1e-12):
                raise _Fail(
                    f"with batch_size={batch_size} >= N one epoch is one full-batch gradient step, "
                    f"but your {k} differs from it."
                )
        if w.loss is None or not np.isclose(float(w.loss), loss, rtol=1e-9, atol=0):
            raise _Fail(
                f"with batch_size={batch_size} >= N the epoch's loss is the full-batch loss "
                f"{loss:.6f}; yours is {w.loss}."
            )


CASES = [
    ("one step per batch: 10 rows in batches of 4 are 3 steps", _one_step_per_batch),
    ("every row once per epoch, X and Y rows together", _every_row_once),
    ("shuffled with the given rng, a new order every epoch", _shuffled),
    ("model.params changed in place by optimizer.step", _in_place),
    ("the epoch's loss, batch losses weighted by their sizes", _weighted_loss),
    ("batch_size >= N is one full-batch step", _full_batch),
]


def check_train_epoch(train_epoch) -> CheckResult:
    """``train_epoch(model, X, Y, optimizer, batch_size, rng) -> float``: one epoch of mini-batch training.

    Expected: one step per batch, ceil(N / batch_size) of them, the last batch smaller; every row once per
    epoch, in a new order drawn from ``rng``; the parameters of ``model.params`` changed in place by
    ``optimizer.step``; and the returned loss is the epoch's mean, each batch's loss weighted by its number of
    rows. The module's docstring says how the learner's loop is watched.
    """
    train_epoch = _theirs(train_epoch)
    return _run(
        "train_epoch",
        [(what, lambda case=case: case(train_epoch)) for what, case in CASES],
        hint_on_error="call model.loss_and_grads(Xb, Yb) and optimizer.step(model.params, grads) for each "
        "batch of minibatches(X, Y, batch_size, rng); run your loop on a small X yourself.",
    )
