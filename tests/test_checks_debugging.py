"""nnlib.checks' checks of notebook 15's fixes (nnlib/checks/debugging.py): each passes the notebook's fix (written
again here) and fails the bug the notebook shows, and the other typical wrong fixes, with the hint meant for it; a
stub is reported as not implemented yet; the checks are deterministic."""

import numpy as np
import pytest

import nnlib
from nnlib import checks

from checking import fails, passes, stub  # tests/checking.py


# -- the fixes, as in the notebook ------------------------------------------------------------------------------


def scale_pixels(X_raw):
    return X_raw.astype(np.float32) / 255


def to_targets(y):
    return np.eye(10, dtype=np.float32)[y]


def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def init_params(sizes, rng):
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = (rng.normal(size=(n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32)
        params[f"b{l}"] = np.zeros(n_out, dtype=np.float32)
    return params


def batches(X, Y, batch_size, rng):
    idx = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        take = idx[start : start + batch_size]
        yield X[take], Y[take]


def output_grad(P, Y):
    return (P - Y) / len(P)


def dead_units(A):
    return (A == 0).all(axis=0)


def best_lr(sweep_acc):
    return max(sweep_acc, key=lambda lr: min(sweep_acc[lr]))


FIXES = [
    (checks.check_fix_scale_pixels, scale_pixels, "scale_pixels: 5 checks passed"),
    (checks.check_fix_targets, to_targets, "to_targets: 4 checks passed"),
    (checks.check_fix_softmax, softmax, "softmax: 5 checks passed"),
    (checks.check_fix_init, init_params, "init_params: 6 checks passed"),
    (checks.check_fix_batches, batches, "batches: 6 checks passed"),
    (checks.check_fix_output_grad, output_grad, "output_grad: 3 checks passed"),
    (checks.check_fix_dead_units, dead_units, "dead_units: 3 checks passed"),
    (checks.check_fix_best_lr, best_lr, "best_lr: 4 checks passed"),
]
IDS = [check.__name__ for check, _, _ in FIXES]


@pytest.mark.parametrize("check, fix, line", FIXES, ids=IDS)
def test_passes_on_the_fix(capsys, check, fix, line):
    assert passes(capsys, check, fix).startswith(line)


@pytest.mark.parametrize("check, fix, line", FIXES, ids=IDS)
def test_stub_is_not_implemented_yet(capsys, check, fix, line):
    assert check(stub).passed is False
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Traceback" not in out


@pytest.mark.parametrize("check, fix, line", FIXES, ids=IDS)
def test_strict_raises_on_a_stub(capsys, check, fix, line):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(stub, strict=True)


def test_nnlib_pieces_pass(capsys):
    passes(capsys, checks.check_fix_targets, nnlib.one_hot)
    passes(capsys, checks.check_fix_softmax, nnlib.softmax)
    passes(capsys, checks.check_fix_output_grad, lambda P, Y: nnlib.losses.softmax_cross_entropy_grad(P.copy(), Y))
    passes(capsys, checks.check_fix_batches, nnlib.minibatches)

    def he(sizes, rng):
        params = {}
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{l}"], params[f"b{l}"] = nnlib.init.he(n_in, n_out, rng)
        return params

    passes(capsys, checks.check_fix_init, he)


def test_is_deterministic(capsys):
    bad = lambda X_raw: X_raw / 256.0
    one = fails(capsys, checks.check_fix_scale_pixels, bad, hint="divided by 256")
    assert fails(capsys, checks.check_fix_scale_pixels, bad, hint="divided by 256") == one


# -- unnormalised pixels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, hint",
    [
        (lambda X: X.astype(np.float32), "not scaled"),  # the bug itself
        (lambda X: X / 255, "uint8 / 255 gives float64"),
        (lambda X: (X // 255).astype(np.float32), "integer division"),
        (lambda X: X.astype(np.float32) / 256, "divided by 256"),
        (lambda X: X.astype(np.float32) / X.max(axis=1, keepdims=True), "its own maximum"),
        (lambda X: X.astype(np.float32) / X.max(), "the batch's"),
        (lambda X: ((X - X.mean()) / X.std()).astype(np.float32), "standardised"),
        (lambda X: X.astype(np.float32)[:, :10] / 255, "has shape"),
        (lambda X: [1.0], "must return a NumPy array"),
    ],
)
def test_scale_pixels_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_scale_pixels, bad, hint=hint)


def test_scale_pixels_in_place_on_float_input_is_reported(capsys):
    def in_place(X):
        X = X.astype(np.float32)
        X /= 255
        return X

    passes(capsys, checks.check_fix_scale_pixels, in_place)  # a copy first is fine
    out = fails(capsys, checks.check_fix_scale_pixels, lambda X: np.divide(X, 255, out=X), hint="X_raw /= 255")
    assert "your code raised" in out


# -- labels not one-hot ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, hint",
    [
        (lambda y: y[:, None].astype(np.float32), "the label numbers themselves"),  # the bug itself
        (lambda y: y.astype(np.float32), "the label numbers themselves"),
        (lambda y: np.eye(10, dtype=np.float32)[y].T, "the transpose"),
        (lambda y: np.eye(y.max() + 1, dtype=np.float32)[y], "y.max() + 1"),
        (lambda y: np.eye(10, dtype=np.float32)[9 - y], "column 9 - label"),
        (lambda y: np.eye(10, dtype=np.float32)[(y + 1) % 10], "one 1, in the column of its label"),
        (lambda y: np.eye(10, dtype=np.int64)[y], "float32"),
    ],
)
def test_targets_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_targets, bad, hint=hint)


# -- softmax over the wrong axis -------------------------------------------------------------------------------


def axis0(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize(
    "bad, hint",
    [
        (axis0, "your columns sum to 1"),  # the bug itself
        (lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), "np.exp(1000) overflows"),
        (lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(axis=1, keepdims=True), "OWN maximum"),
        (
            lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True)) / np.exp(Z).sum(axis=1, keepdims=True),
            "each row of P must sum to 1",
        ),
        (
            lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True)) / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(),
            "each row of P must sum to 1",
        ),
        (lambda Z: softmax(Z.astype(np.float64)), "keep the logits' dtype"),
        (lambda Z: softmax(Z).T, "keepdims=True"),
    ],
)
def test_softmax_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_softmax, bad, hint=hint)


def test_softmax_without_keepdims_is_reported(capsys):
    def no_keepdims(Z):
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1)

    out = fails(capsys, checks.check_fix_softmax, no_keepdims, hint="keepdims=True")
    assert "your code raised ValueError" in out


def test_softmax_in_place(capsys):
    def in_place(Z):
        Z -= Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        return Z / Z.sum(axis=1, keepdims=True)

    fails(capsys, checks.check_fix_softmax, in_place, hint="changed Z itself")


def test_softmax_batch_of_one_with_axis_none(capsys):
    fails(
        capsys,
        checks.check_fix_softmax,
        lambda Z: softmax(Z) if len(Z) > 1 else np.ones_like(Z),
        hint="batch of one example",
    )


# -- all-zero initialisation -------------------------------------------------------------------------------


def init_with(W=None, b=None, transpose=False, dtype=np.float32, global_rng=False):
    def init(sizes, rng):
        params = {}
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            draw = np.random.normal if global_rng else rng.normal
            w = W(n_in, n_out, rng) if W else draw(size=(n_in, n_out)) * np.sqrt(2 / n_in)
            params[f"W{l}"] = (w.T if transpose else w).astype(dtype)
            params[f"b{l}"] = (b(n_out, rng) if b else np.zeros(n_out)).astype(dtype)
        return params

    return init


@pytest.mark.parametrize(
    "bad, hint",
    [
        (init_with(W=lambda i, o, rng: np.zeros((i, o))), "all zeros"),  # the bug itself
        (init_with(W=lambda i, o, rng: np.full((i, o), 0.01)), "every column"),
        (init_with(W=lambda i, o, rng: np.tile(rng.normal(size=(i, 1)), (1, o)) * np.sqrt(2 / i)), "every column"),
        (init_with(transpose=True), "the transpose"),
        (init_with(dtype=np.float64), "float32"),
        (init_with(b=lambda o, rng: rng.normal(size=o) * 0.1), "is not zero"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o))), "rng.normal without scaling"),
        (init_with(W=lambda i, o, rng: rng.random((i, o)) - 0.5), "uniform(-0.5, 0.5)"),
        (init_with(W=lambda i, o, rng: rng.random((i, o)) * 0.1), "every weight of W1 is positive"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o)) * np.sqrt(1 / i)), "Xavier's for one fan"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o)) * np.sqrt(2 / (i + o))), "Xavier's"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o)) * np.sqrt(2 / o)), "the fan-out"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o)) * (2 / i)), "the variance, not the standard deviation"),
        (init_with(W=lambda i, o, rng: rng.normal(size=(i, o)) * 0.2), "He initialisation wants"),
        (init_with(global_rng=True), "seeded alike gave different weights"),
        (
            init_with(W=lambda i, o, rng: np.random.default_rng(0).normal(size=(i, o)) * np.sqrt(2 / i)),
            "different seeds gave the same weights",
        ),
        (lambda sizes, rng: init_params(sizes, rng).items(), "must return a dict"),
        (lambda sizes, rng: init_params([784, 256, 10], rng), "loop over zip"),
        (lambda sizes, rng: {k: v for k, v in init_params(sizes, rng).items() if k != "b2"}, "the keys must be"),
    ],
)
def test_init_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_init, bad, hint=hint)


# -- no shuffling -------------------------------------------------------------------------------------------


def in_order(X, Y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        yield X[start : start + batch_size], Y[start : start + batch_size]


def with_replacement(X, Y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        take = rng.integers(0, len(X), min(batch_size, len(X) - start))
        yield X[take], Y[take]


def drop_last(X, Y, batch_size, rng):
    idx = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[idx[start : start + batch_size]], Y[idx[start : start + batch_size]]


def two_permutations(X, Y, batch_size, rng):
    ix, iy = rng.permutation(len(X)), rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[ix[start : start + batch_size]], Y[iy[start : start + batch_size]]


def shuffle_in_place(X, Y, batch_size, rng):
    rng.shuffle(X)
    rng.shuffle(Y)
    yield from in_order(X, Y, batch_size, rng)


def global_rng(X, Y, batch_size, rng):
    yield from batches(X, Y, batch_size, np.random.default_rng())


def seeded_inside(X, Y, batch_size, rng):
    yield from batches(X, Y, batch_size, np.random.default_rng(0))


FIXED_ORDER = {}


def once_outside(X, Y, batch_size, rng):  # one permutation per generator, drawn at its first use
    key = id(rng)
    if key not in FIXED_ORDER:
        FIXED_ORDER[key] = (rng, rng.permutation(len(X)))
    idx = FIXED_ORDER[key][1]
    for start in range(0, len(X), batch_size):
        yield X[idx[start : start + batch_size]], Y[idx[start : start + batch_size]]


def uneven(X, Y, batch_size, rng):
    idx = rng.permutation(len(X))
    yield X[idx[:3]], Y[idx[:3]]
    yield from ((X[idx[s : s + batch_size]], Y[idx[s : s + batch_size]]) for s in range(3, len(X), batch_size))


@pytest.mark.parametrize(
    "bad, hint",
    [
        (in_order, "come in the order of the data"),  # the bug itself
        (with_replacement, "with replacement"),
        (drop_last, "the last, smaller batch"),
        (two_permutations, "SAME permutation"),
        (shuffle_in_place, "changed X or Y"),
        (global_rng, "seeded alike gave different orders"),
        (seeded_inside, "different seeds gave the same order"),
        (once_outside, "a new permutation at each call"),
        (uneven, "your batch sizes are"),
        (lambda X, Y, b, rng: iter([X]), "must be a pair"),
        (lambda X, Y, b, rng: iter([]), "yielded no batch"),
    ],
)
def test_batches_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_batches, bad, hint=hint)


def test_batches_error_is_reported(capsys):
    def broken(X, Y, batch_size, rng):
        idx = rng.permutation(len(X) + 1)
        for start in range(0, len(X), batch_size):
            yield X[idx[start : start + batch_size]], Y[idx[start : start + batch_size]]

    out = fails(capsys, checks.check_fix_batches, broken, hint="look at the pairs")
    assert "your code raised IndexError" in out


# -- a missing 1/N, a sign error ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, hint",
    [
        (lambda P, Y: P - Y, "the missing 1/N"),  # the first bug
        (lambda P, Y: (Y - P) / len(P), "Y - P instead of P - Y"),  # the second bug
        (lambda P, Y: Y - P, "both bugs"),
        (lambda P, Y: (P - Y) / len(P) ** 2, "divided by N twice"),
        (lambda P, Y: P - Y / len(P), "/ binds before -"),
        (lambda P, Y: (P - Y) / P.size, "Y.size or P.size"),
        (lambda P, Y: (P - Y) / P.shape[1], "the number of classes"),
        (lambda P, Y: (P - Y) / 64, "not a fixed batch size"),
        (lambda P, Y: (P - Y) / len(P) * P * (1 - P), "differs from the numerical gradient"),
        (lambda P, Y: ((P - Y) / len(P)).astype(np.float64), "keep float32"),
        (lambda P, Y: ((P - Y) / len(P))[:, :2], "expected P's"),
    ],
)
def test_output_grad_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_output_grad, bad, hint=hint)


def test_output_grad_in_place(capsys):
    def in_place(P, Y):
        P -= Y
        P /= len(P)
        return P

    fails(capsys, checks.check_fix_output_grad, in_place, hint="changed P or Y")


def test_output_grad_check_agrees_with_nnlib_gradcheck():
    """The check's reference is the gradient of the mean loss: compare (P - Y) / N with nnlib's numerical gradient."""
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(size=(6, 4)), np.eye(4)[rng.integers(0, 4, 6)]
    loss = lambda: nnlib.cross_entropy_with_logits(Z, Y)
    numeric = nnlib.numerical_gradient(loss, Z)
    assert nnlib.rel_error(output_grad(softmax(Z), Y), numeric) < 1e-7


# -- a dead ReLU layer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, hint",
    [
        (lambda A: (A == 0).all(axis=1), "one value per example"),
        (lambda A: (A == 0).mean(axis=0), "the fraction of examples"),
        (lambda A: (A == 0).any(axis=0), "ANY example"),
        (lambda A: (A < 0).all(axis=0), "test A == 0 (not A < 0)"),
        (lambda A: (A == 0).all(axis=0).astype(np.float32), "return booleans"),
        (lambda A: A.sum(axis=0) < 1, "the dead units are"),
        (lambda A: np.array([True]), "expected one value per unit"),
        (lambda A: (A == 0).all(axis=0).tolist(), "must return a NumPy array"),
        (lambda A: np.ones(A.shape[1], bool) if (A > 0).all() else dead_units(A), "no unit is dead"),
    ],
)
def test_dead_units_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_dead_units, bad, hint=hint)


def test_dead_units_in_place(capsys):
    def in_place(A):
        A[A < 0] = 0
        A += 0.0
        A[0, 0] = 1.0
        return (A == 0).all(axis=0)

    fails(capsys, checks.check_fix_dead_units, in_place, hint="changed A")


# -- the learning rate ---------------------------------------------------------------------------------------


def by_mean(sweep_acc):
    return max(sweep_acc, key=lambda lr: np.mean(sweep_acc[lr]))


def sorts_in_place(sweep_acc):
    for accs in sweep_acc.values():
        accs.sort()
    return best_lr(sweep_acc)


@pytest.mark.parametrize(
    "bad, hint",
    [
        (by_mean, "by the mean"),
        (lambda s: max(s, key=lambda lr: max(s[lr])), "LOWEST accuracy"),  # by the best seed
        (lambda s: max(s), "the highest learning rate"),
        (lambda s: min(s), "the smallest learning rate"),
        (lambda s: max(min(a) for a in s.values()), "an accuracy"),
        (lambda s: list(s).index(best_lr(s)), "not one of the learning rates tried"),
        (lambda s: str(best_lr(s)), "must return a learning rate"),
        (lambda s: None, "must return a learning rate"),
        (lambda s: True, "must return a learning rate"),
        (lambda s: sorted(s)[len(s) // 2], "you chose"),
        (
            lambda s: (
                list(s)[int(np.argmax([min(a) for a in s.values()]))]
                if isinstance(next(iter(s.values())), list)
                else 1.0
            ),
            "in no particular order",
        ),
        (sorts_in_place, "changed sweep_acc"),
    ],
)
def test_best_lr_mistakes(capsys, bad, hint):
    fails(capsys, checks.check_fix_best_lr, bad, hint=hint)


def test_best_lr_error_is_reported(capsys):
    out = fails(capsys, checks.check_fix_best_lr, lambda s: s[0], hint="the answer is 0.1")
    assert "your code raised KeyError" in out
