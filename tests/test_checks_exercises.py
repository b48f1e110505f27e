"""nnlib.checks.check_exercise (the exercises at the end of notebooks 00-14): each check passes on the answer the
course notebook holds (its answer cell, run here) and fails on each typical wrong answer with the hint meant for it;
a stub is reported as not implemented yet; every exercise with a check has its answer and check cells in its notebook."""

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import nnlib
from nnlib import checks
from nnlib.checks.exercises import _EXERCISES
from nnlib.gradcheck import rel_error

from checking import fails, passes, stub  # tests/checking.py

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CALL = re.compile(r'nnlib\.checks\.check_exercise\("(\d\d\.\d)", ([\w, ]+)\);?')


def _answers():
    """{exercise: (its answer functions)} from the answer cells of the course notebooks (the cell before each check)."""
    found = {}
    ns = dict(
        np=np,
        nnlib=nnlib,
        rel_error=rel_error,
        sigmoid_grad=nnlib.sigmoid_grad,
        softmax=nnlib.softmax,
        ACTIVATIONS={"relu": (nnlib.relu, nnlib.relu_grad), "sigmoid": (nnlib.sigmoid, nnlib.sigmoid_grad)},
    )
    for path in sorted(NOTEBOOKS.glob("[01][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        if path.name.startswith("04"):  # 04.1 trains with the notebook's gradients (the learner's functions)
            for cell in cells:
                if "def forward_example" in cell.source:
                    exec(cell.source, ns)
                if "def gradients" in cell.source:
                    exec(cell.source[cell.source.index("def gradients") : cell.source.index("def loss")], ns)
        for before, cell in zip(cells, cells[1:]):
            match = CALL.fullmatch(cell.source.strip())
            if match:
                assert match.group(1).startswith(path.name[:2]), (path.name, match.group(1))
                assert "### BEGIN SOLUTION" in before.source and before.cell_type == "code"
                exec(before.source, ns)
                found[match.group(1)] = tuple(ns[name.strip()] for name in match.group(2).split(","))
    return found


ANSWERS = _answers()


def test_every_check_has_its_cells_in_a_notebook():
    assert sorted(ANSWERS) == sorted(_EXERCISES)


@pytest.mark.parametrize("exercise", sorted(_EXERCISES))
def test_passes_on_the_notebook_answer(capsys, exercise):
    out = passes(capsys, checks.check_exercise, exercise, *ANSWERS[exercise])
    assert out.startswith(f"exercise {exercise}: ")


@pytest.mark.parametrize("exercise", sorted(_EXERCISES))
def test_stub(capsys, exercise):
    result = checks.check_exercise(exercise, *[stub] * len(ANSWERS[exercise]))
    out = capsys.readouterr().out
    assert result.passed is False and "not implemented yet" in out and "Traceback" not in out


def test_unknown_exercise():
    with pytest.raises(ValueError, match="no check for exercise"):
        checks.check_exercise("99.9", stub)


def test_strict_raises(capsys):
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check_exercise("02.1", stub, strict=True)


def _onehot(y):
    return nnlib.one_hot(y)


WRONG = [
    ("00.1", lambda X, y: int(np.array([X[y == d].mean() for d in range(10)]).argmin()), "lightest digit"),
    ("00.1", lambda X, y: int(np.array([X[y == d].sum() for d in range(10)]).argmax()), "most ink in total"),
    ("00.2", lambda X: int((np.median(X, axis=0) == 0).sum()), "counted pixel 25"),  # 0 in most images only
    ("00.2", lambda X: int((X == 0).sum()), "counted zero entries"),
    (
        "00.3",
        lambda X, y: np.bincount(nnlib.train_val_split(X, y, val_size=0.2, rng=0)[1], minlength=10),
        "counted the training part",
    ),
    ("00.3", lambda X, y: np.bincount(y, minlength=10)[:9], "must return 10 counts"),
    (
        "01.1",
        lambda x: 2 / np.linalg.eigvalsh(2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1]])).min(),
        "smallest eigenvalue",
    ),
    (
        "01.1",
        lambda x: 2 / np.linalg.eigvalsh(np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1]])).max(),
        "twice too large",
    ),
    ("01.3", lambda n: n, "twice per parameter"),
    ("02.1", lambda Y: Y.argmax(axis=0), "each ROW"),
    ("02.2", lambda y, eps=0.1: nnlib.one_hot(y) * (1 - eps) + eps / 10, "over all ten classes"),
    ("02.2", lambda y, eps=0.1: nnlib.one_hot(y) * (1 - eps) + eps / 9, "sum to 1"),
    ("02.2", lambda y, eps=0.1: nnlib.one_hot(y, dtype=np.float64) * (1 - eps - eps / 9) + eps / 9, "float32"),
    ("02.3", lambda y: (nnlib.one_hot(y, dtype=np.float64).nbytes, y.astype(np.int64).nbytes), "8 bytes per entry"),
    ("02.3", lambda y: nnlib.one_hot(y).nbytes, "must return a pair"),
    ("03.1", lambda: 4.595, "below 0.01"),
    ("03.2", lambda Z: (Z + 5, nnlib.softmax(2 * Z)), "not Z + 5 itself"),
    ("03.2", lambda Z: (nnlib.softmax(Z), 2 * nnlib.softmax(Z)), "logits doubled"),
    (
        "03.3",
        lambda Z, Y: rel_error((nnlib.softmax(Z) - Y) / len(Z), (nnlib.softmax(Z) - Y) / len(Z)),
        "that of a correct gradient",
    ),
    ("03.3", lambda Z, Y: rel_error(nnlib.softmax(Z) - Y, (nnlib.softmax(Z) - Y) / len(Z)), "without the 1/N"),
    ("04.3", lambda A: ((A < 0.01) | (A > 0.99)).sum(), "returned a count"),
    ("04.3", lambda A: ((A <= 0.01) | (A >= 0.99)).mean(), "are not"),
    (
        "05.3",
        lambda s: (sum(a * b for a, b in zip(s[:-1], s[1:])), 2 * sum(a * b for a, b in zip(s[:-1], s[1:]))),
        "first layer",
    ),  # dA for the input too
    ("06.1", lambda X: float(np.sqrt((X.astype(np.float64) ** 2).mean())), "factor 1/2"),
    ("06.1", lambda X: float(np.sqrt(2) * X.std()), "mean of the squares"),
    ("08.1", lambda lr, beta, lam: lr * lam > 2 * (1 + beta), "says the opposite"),
    ("08.2", lambda beta, lam: 2 / lam, "gradient descent's limit"),
    ("08.2", lambda beta, lam: 2 * (1 + beta) / lam, "divide by (1 - beta)"),
    ("09.3", lambda acc: int(np.argmax(acc)), "count from 1"),
    ("09.3", lambda acc: len(acc) - int(np.argmax(acc[::-1])), "keep the first epoch"),
    (
        "10.2",
        lambda C: tuple(int(v) for v in np.unravel_index(np.argmax(C - np.diag(np.diag(C))), C.shape)[::-1]),
        "add C to its transpose",
    ),
    ("10.2", lambda C: (9, 4), "smaller digit first"),
    ("10.2", lambda C: (0, 0), "diagonal"),
    ("11.3", lambda n, p: (n * (1 - p), n * p * (1 - p), 2**n), "variance"),
    ("11.3", lambda n, p: (n * (1 - p), (n * p * (1 - p)) ** 0.5, math.comb(n, n // 2)), "every subset"),
    ("11.3", lambda n, p: (n * p, (n * p * (1 - p)) ** 0.5, 2**n), "on average"),
    (
        "13.2",
        lambda dout, X, g, m, v, eps=1e-5: (
            g * dout / np.sqrt(v + eps) - (g * dout / np.sqrt(v + eps)).mean(0),
            (dout * (X - m) / np.sqrt(v + eps)).sum(0),
            dout.sum(0),
        ),
        "only the direct path",
    ),
    (
        "13.2",
        lambda dout, X, g, m, v, eps=1e-5: (g * dout / np.sqrt(v + eps), (dout * X).sum(0), dout.sum(0)),
        "dgamma differs",
    ),
    (
        "14.3",
        lambda N, C, H, W, F, k, p, s: (
            (N * H * W, C * k * k),
            (F, C * k * k),
            (N * H * W, F),
            N * H * W * C * k * k * F,
        ),
        "the output is",
    ),
    (
        "14.3",
        lambda N, C, H, W, F, k, p, s: (
            (N * ((H + 2 * p - k) // s + 1) * ((W + 2 * p - k) // s + 1), C * k * k),
            (F, C * k * k),
            (N * ((H + 2 * p - k) // s + 1) * ((W + 2 * p - k) // s + 1), F),
            0,
        ),
        "multiply-adds",
    ),
]


@pytest.mark.parametrize("exercise, wrong, hint", WRONG, ids=[f"{e}-{h}" for e, _, h in WRONG])
def test_wrong_answers(capsys, exercise, wrong, hint):
    fails(capsys, checks.check_exercise, exercise, wrong, hint=hint)


def test_00_3_equal_counts(capsys):
    fails(capsys, checks.check_exercise, "00.3", lambda X, y: np.full(10, 17), hint="follow the class sizes")


def test_05_1_wrong_derivative(capsys):
    forward_mixed, backward_mixed = ANSWERS["05.1"]
    acts = {"relu": (nnlib.relu, nnlib.relu_grad), "sigmoid": (nnlib.sigmoid, nnlib.sigmoid_grad)}

    def backward_same_layer(params, cache, Y, hidden):  # layer l - 1's dZ with layer l's activation
        L, N = len(params) // 2, len(Y)
        grads, dZ = {}, (cache[f"A{L}"] - Y) / N
        for l in range(L, 0, -1):
            grads[f"W{l}"], grads[f"b{l}"] = cache[f"A{l - 1}"].T @ dZ, dZ.sum(axis=0)
            if l > 1:
                dZ = (dZ @ params[f"W{l}"].T) * acts[hidden[min(l - 1, len(hidden) - 1)]][1](cache[f"Z{l - 1}"])
        return grads

    fails(capsys, checks.check_exercise, "05.1", forward_mixed, backward_same_layer, hint="hidden[l - 2]")

    def forward_one_activation(params, X, hidden):
        return forward_mixed(params, X, [hidden[0]] * len(hidden))

    fails(capsys, checks.check_exercise, "05.1", forward_one_activation, backward_mixed, hint="layer l uses")


def test_06_3_not_from_zero(capsys):
    def trained_from_he(X, y):
        m = nnlib.mlp([784, 16, 10], rng=0)
        nnlib.fit(m, X, y, nnlib.SGD(0.1), epochs=5, verbose=False)
        return m.params

    fails(capsys, checks.check_exercise, "06.3", trained_from_he, hint="W1, b1, W2 moved")

    def untrained(X, y):
        m = nnlib.mlp([784, 16, 10], rng=0)
        for p in m.params.values():
            p[...] = 0
        return m.params

    fails(capsys, checks.check_exercise, "06.3", untrained, hint="did the model train")


def test_08_3_classical_momentum(capsys):
    def classical(grad_f, w, lr, beta, steps):
        u = np.zeros_like(w)
        for _ in range(steps):
            u = beta * u + grad_f(w)
            w = w - lr * u
        return w

    fails(capsys, checks.check_exercise, "08.3", classical, hint="that is classical momentum")


def test_learner_error_is_reported_not_raised(capsys):
    out = fails(capsys, checks.check_exercise, "02.1", lambda Y: Y.argmax(axis=2), hint="run your function")
    assert "your code raised" in out


def test_is_deterministic(capsys):
    for exercise in _EXERCISES:
        first = passes(capsys, checks.check_exercise, exercise, *ANSWERS[exercise])
        assert passes(capsys, checks.check_exercise, exercise, *ANSWERS[exercise]) == first


def test_04_1_mistakes(capsys):
    (train,) = ANSWERS["04.1"]
    fails(capsys, checks.check_exercise, "04.1", lambda params, X, Y, lr, epochs: params, hint="did not change")
    fails(
        capsys,
        checks.check_exercise,
        "04.1",
        lambda params, X, Y, lr, epochs: train(params, X, Y, lr, 1),
        hint="after ONE epoch",
    )
    fails(
        capsys,
        checks.check_exercise,
        "04.1",
        lambda params, X, Y, lr, epochs: train(params, X, Y, -lr, epochs),
        hint="differ from nnlib.fit",
    )
    fails(
        capsys, checks.check_exercise, "04.1", lambda params, X, Y, lr, epochs: None, hint="must return the parameters"
    )


def _keeper(strict=True, copy=True, first=True):
    def lowest_loss_keeper(model):
        kept = {"loss": np.inf}

        def keep(epoch, history):
            loss = history.val_loss[-1]
            if (loss < kept["loss"] if strict else loss <= kept["loss"]) if first else True:
                kept.update(
                    loss=loss, epoch=epoch, params={k: (v.copy() if copy else v) for k, v in model.params.items()}
                )

        return keep, kept

    return lowest_loss_keeper


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(strict=False), "keep the first"),
        (dict(copy=False), "store copies"),
        (dict(first=False), "kept the last epoch"),
    ],
)
def test_11_2_mistakes(capsys, mistake, hint):
    fails(capsys, checks.check_exercise, "11.2", _keeper(**mistake), hint=hint)


def test_11_2_wrong_return(capsys):
    fails(capsys, checks.check_exercise, "11.2", lambda model: lambda e, h: None, hint="must return a pair")
    fails(
        capsys, checks.check_exercise, "11.2", lambda model: (lambda e, h: None, {}), hint="filled in by the callback"
    )


@pytest.mark.parametrize("value, raises", [("1", True), ("0", False), ("", False)])
def test_nnlib_grading_makes_every_exercise_check_strict(monkeypatch, capsys, value, raises):
    """As tests/test_checks.py does for the other checks (check_exercise takes the exercise first)."""
    monkeypatch.setenv("NNLIB_GRADING", value)
    for exercise, answers in ANSWERS.items():
        stubs = [stub] * len(answers)
        if raises:
            with pytest.raises(AssertionError, match="not implemented yet"):
                checks.check_exercise(exercise, *stubs)
            assert checks.check_exercise(exercise, *answers)  # a right answer passes, strict or not
        else:
            assert not checks.check_exercise(exercise, *stubs)
        assert checks.check_exercise(exercise, *stubs, strict=False).passed is False
