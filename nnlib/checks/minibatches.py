"""The check of mini-batches (notebook 07); the training epoch that uses them is checked in ``train_epoch.py``."""

from __future__ import annotations

import numpy as np

from ._core import CheckResult, _Fail, _pair, _run, _theirs


def check_minibatches(minibatches) -> CheckResult:
    """``minibatches(X, Y, batch_size, rng)``: one shuffled epoch, every row once, X and Y rows together."""
    minibatches = _theirs(minibatches)
    N = 10
    X = np.arange(N * 2, dtype=np.float64).reshape(N, 2)
    Y = np.eye(N)

    def batches(seed, size=4):
        out = []
        for batch in minibatches(X, Y, size, np.random.default_rng(seed)):
            a, b = _pair(batch, "minibatches must yield pairs (X_batch, Y_batch)", "yielded")
            out.append((np.asarray(a), np.asarray(b)))
        return out

    def sizes():
        got = [len(a) for a, _ in batches(0)]
        if got == [4, 4]:
            raise _Fail(
                "the last 2 rows are missing: keep the final, smaller batch (10 rows in batches of 4 are 4, 4 and 2)."
            )
        if got != [4, 4, 2]:
            raise _Fail(f"10 rows in batches of 4 should give batches of 4, 4 and 2 rows; yours have {got}.")

    def every_row_once():
        rows = np.concatenate([a[:, 0] for a, _ in batches(0)]) // 2
        if sorted(rows.tolist()) != list(range(N)):
            raise _Fail(
                "each row must appear exactly once per epoch: index the rows with one permutation "
                "(rng.permutation(N)), not with random draws that can repeat."
            )

    def paired():
        for a, b in batches(0):
            if not np.array_equal(a[:, 0] // 2, b.argmax(axis=1)):
                raise _Fail("X and Y rows no longer match: shuffle both with the same permutation.")

    def shuffled():
        orders = [np.concatenate([a[:, 0] for a, _ in batches(seed)]).tolist() for seed in (0, 1)]
        if orders[0] == sorted(orders[0]):
            raise _Fail("the rows come in their original order: shuffle them with rng.permutation(N) each epoch.")
        if orders[0] == orders[1]:
            raise _Fail("two different rngs gave the same order: draw the permutation from the rng you are given.")
        again = np.concatenate([a[:, 0] for a, _ in batches(0)]).tolist()
        if again != orders[0]:
            raise _Fail(
                "two rngs seeded alike gave different orders, so a run cannot be repeated: draw the "
                "permutation from the rng you are given (rng.permutation(N)), not from np.random."
            )

    return _run(
        "minibatches",
        [
            ("batch sizes 4, 4, 2", sizes),
            ("every row exactly once", every_row_once),
            ("X and Y rows stay together", paired),
            ("shuffled with the given rng", shuffled),
        ],
    )
