"""Self-checks for the exercises at the end of the notebooks: ``check_exercise("02.2", smooth_labels)``.

Each checkable exercise is answered by a function (or two) in the cell under "## Exercises"; the check runs it on
inputs of its own (small, synthetic, seeded) and compares with what nnlib or the formula gives for those inputs, or
tests the claim the exercise asks about (rows sum to 1, values 0.9 and 0.1/9). Nothing is compared with a stored
number that depends on training noise. It prints one line, ``exercise 02.2: 4 checks passed``, or the failed case
and a hint, and returns a ``CheckResult``; a stub gets "not implemented yet".

| exercise | answer checked |
|---|---|
| 00.1 | ``darkest_digit(X, y) -> int``, the label whose images have the highest mean pixel value |
| 00.2 | ``blank_pixels(X) -> int``, the number of pixels that are 0 in every row of X |
| 00.3 | ``validation_counts(X, y) -> (10,)``, images per digit in a 20% validation split |
| 01.1 | ``lr_limit(x) -> float``, ``2 / largest eigenvalue`` of the toy valley's matrix of second derivatives |
| 01.3 | ``loss_evaluations(n_params) -> int``, evaluations of the loss for a central-difference gradient |
| 02.1 | ``labels_from_one_hot(Y) -> y`` |
| 02.2 | ``smooth_labels(y, eps=0.1) -> Y``, label smoothing on one-hot rows |
| 02.3 | ``label_bytes(y) -> (bytes of the float32 one-hot matrix, bytes of the labels as int64)`` |
| 03.1 | ``saturation_point() -> z``, where the sigmoid's derivative falls below 1% of its maximum |
| 03.2 | ``shift_and_scale(Z) -> (softmax(Z + 5), softmax(2 * Z))`` |
| 03.3 | ``flipped_rel_error(Z, Y) -> float``, rel_error of the gradient ``(Y - A) / N`` against a numerical one |
| 04.1 | ``train_per_example(params, X, Y, lr, epochs) -> params``, equal to nnlib.fit's full-batch run |
| 04.3 | ``saturated_fraction(A) -> float``, the fraction of entries below 0.01 or above 0.99 |
| 05.1 | ``forward_mixed(params, X, hidden)``, ``backward_mixed(params, cache, Y, hidden)``, one activation per layer |
| 05.3 | ``multiply_adds(sizes) -> (forward, backward)`` per example |
| 06.1 | ``predicted_std_z1(X) -> float``, the std of Z1 under He init from E[x^2] |
| 06.3 | ``zero_init_params(X, y) -> params`` of ``[784, 16, 10]`` after 5 full-batch steps from all zeros |
| 08.1 | ``ema_diverges(lr, beta, curvature) -> bool``, from the stability limit |
| 08.2 | ``largest_ema_lr(beta, curvature) -> float``, the EMA-momentum limit |
| 08.3 | ``nesterov(grad_f, w, lr, beta, steps) -> w``, classical-form Nesterov momentum |
| 09.3 | ``best_epoch(val_acc) -> int``, the (1-based) epoch of the highest validation accuracy |
| 10.2 | ``most_confused_pair(C) -> (i, j)``, i < j, the largest ``C[i, j] + C[j, i]`` |
| 11.2 | ``lowest_loss_keeper(model) -> (callback, kept)``, early stopping on the validation loss |
| 11.3 | ``dropout_units(n, p) -> (mean, std, thinned networks)`` |
| 13.2 | ``batchnorm_backward_eval(dout, X, gamma, running_mean, running_var, eps=1e-5) -> (dX, dgamma, dbeta)`` |
| 14.3 | ``im2col_sizes(N, C, H, W, F, k, padding, stride) -> (cols shape, W_row shape, product shape, multiply-adds)`` |
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ._core import CheckResult, _Fail, _items, _number, _run, _theirs, _what

__all__ = ["check_exercise"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _int(out, must):
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, np.integer)):
        if isinstance(out, (float, np.floating)) and float(out).is_integer():
            return int(out)
        raise _Fail(f"{must}; yours returned {_what(out)}.")
    return int(out)


# -- 00 ---------------------------------------------------------------------------------------------------------


def _ex_00_1(darkest_digit):
    f = _theirs(darkest_digit)
    rng = _rng(1)

    def data(darkest, n=300):
        y = np.arange(n) % 10
        X = rng.integers(0, 100, size=(n, 20)).astype(np.float32)
        X[y == darkest] += 60  # this digit has the most ink
        return X, y

    def case(darkest):
        X, y = data(darkest)
        got = _int(f(X, y), "darkest_digit must return one label, an int")
        if got != darkest:
            means = np.array([X[y == d].mean() for d in range(10)])
            if got == int(means.argmin()):
                raise _Fail("you returned the lightest digit: take the argmax of the per-digit means, not the argmin.")
            raise _Fail(
                f"on data where digit {darkest} has the highest mean pixel value you returned {got}: "
                f"average all the pixels of each digit's images, X[y == d].mean(), then take the argmax."
            )

    def not_by_total():
        # digit 3 has more images but digit 7 a higher mean: a sum of pixels (not a mean) picks 3
        y = np.array([3] * 50 + [7] * 5 + list(range(10)) * 2)
        X = np.full((len(y), 4), 10.0, np.float32)
        X[y == 7] = 30.0
        got = _int(f(X, y), "darkest_digit must return one label, an int")
        if got == 3:
            raise _Fail(
                "you picked the digit with the most ink in total, which favours the digit with the most images: "
                "take the MEAN over each digit's images."
            )
        if got != 7:
            raise _Fail(f"digit 7's images have the highest mean pixel value; you returned {got}.")

    return [
        ("digit 4 darkest", lambda: case(4)),
        ("digit 0 darkest", lambda: case(0)),
        ("a mean, not a total", not_by_total),
    ]


def _ex_00_2(blank_pixels):
    f = _theirs(blank_pixels)

    def case():
        X = np.zeros((50, 30), np.float32)
        X[:, 5:20] = _rng(2).random((50, 15), dtype=np.float32)
        X[3, 25] = 0.5  # one image has ink in pixel 25 only
        got = _int(f(X), "blank_pixels must return a count, an int")
        if got == 15:
            raise _Fail(
                "you counted pixel 25, blank in all but one image: a pixel counts only if it is 0 in EVERY "
                "image, X.max(axis=0) == 0 (or (X == 0).all(axis=0))."
            )
        if got == 50 * 30 - int((X != 0).sum()):
            raise _Fail(
                "you counted zero entries, not pixels: a pixel is a column; count the columns that are 0 in "
                "every row, (X.max(axis=0) == 0).sum()."
            )
        if got != 14:
            raise _Fail(
                f"14 of these 30 pixels are 0 in every image; you returned {got}. Count the columns whose "
                f"maximum is 0: (X.max(axis=0) == 0).sum()."
            )

    return [("pixels blank in every image", case)]


def _ex_00_3(validation_counts):
    f = _theirs(validation_counts)
    y = np.repeat(np.arange(10), 40 + 10 * np.arange(10))  # 40 zeros ... 130 nines: 850 images
    X = _rng(3).random((len(y), 4), dtype=np.float32)

    def counts():
        out = np.asarray(f(X, y))
        if out.shape != (10,):
            raise _Fail(
                f"validation_counts must return 10 counts, one per digit; yours returned {_what(out)}. "
                f"np.bincount(y_val, minlength=10) gives them."
            )
        return out

    def size():
        out = counts()
        if out.sum() == len(y) - 170:
            raise _Fail(
                "your counts add up to 80% of the images: you counted the training part. train_val_split "
                "returns X_tr, y_tr, X_val, y_val: count y_val."
            )
        if out.sum() != 170:
            raise _Fail(
                f"20% of these {len(y)} images is 170; your counts add up to {out.sum()}. Use "
                f"nnlib.train_val_split(X, y, val_size=0.2, ...)."
            )

    def each():
        out = counts()
        if (out < 0).any() or (out > np.bincount(y)).any():
            raise _Fail(
                "some digit has more validation images than images in all: count the labels of the "
                "validation part, np.bincount(y_val, minlength=10)."
            )
        if np.array_equal(out, np.full(10, 17)):
            raise _Fail(
                "every digit has exactly 17: the split is random over all images, so the counts follow "
                "the class sizes; count the labels you got, np.bincount(y_val, minlength=10)."
            )
        if abs(int(out[9]) - 26) > 12 or abs(int(out[0]) - 8) > 8:
            raise _Fail(
                f"with 40 zeros and 130 nines, a random 20% holds about 8 zeros and 26 nines; yours "
                f"{out[0]} and {out[9]}: count the validation labels per digit."
            )

    return [("10 counts", counts), ("they add up to 20%", size), ("each digit's share", each)]


# -- 01 ---------------------------------------------------------------------------------------------------------


def _ex_01_1(lr_limit):
    f = _theirs(lr_limit)

    def case(x):
        x = np.asarray(x, dtype=np.float64)
        H = 2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
        lam = np.linalg.eigvalsh(H)
        want = 2 / lam.max()
        got = _number(f(x), "lr_limit must return one number, the largest stable learning rate")
        if np.isclose(got, want, rtol=1e-6):
            return
        if np.isclose(got, 2 / lam.min(), rtol=1e-6):
            raise _Fail(
                "you divided by the smallest eigenvalue: the limit is set by the steepest direction, "
                "2 / eigenvalues.max()."
            )
        if np.isclose(got, lam.max(), rtol=1e-6):
            raise _Fail("you returned the largest eigenvalue itself: the limit is 2 / lambda_max.")
        if np.isclose(got, 2 * want, rtol=1e-6):
            raise _Fail(
                "your limit is twice too large: H has the factor 2 in front, "
                "H = 2 * [[mean(x**2), mean(x)], [mean(x), 1]]."
            )
        raise _Fail(
            f"for these points the limit is {want:.6g}; yours is {got:.6g}. Build "
            f"H = 2 * [[mean(x**2), mean(x)], [mean(x), 1]], then 2 / np.linalg.eigvalsh(H).max()."
        )

    return [
        ("the course's five points", lambda: case([0.0, 1.0, 2.0, 3.0, 4.0])),
        ("other points", lambda: case(_rng(4).normal(1, 2, size=7))),
    ]


def _ex_01_3(loss_evaluations):
    f = _theirs(loss_evaluations)

    def case(n):
        got = _int(f(n), "loss_evaluations must return a count, an int")
        if got == n:
            raise _Fail("a central difference evaluates the loss twice per parameter, at +h and at -h.")
        if got != 2 * n:
            raise _Fail(f"for {n} parameters: {got}; two evaluations per parameter make {2 * n}.")

    return [("785 parameters", lambda: case(785)), ("3 parameters", lambda: case(3))]


# -- 02 ---------------------------------------------------------------------------------------------------------


def _ex_02_1(labels_from_one_hot):
    f = _theirs(labels_from_one_hot)

    def case():
        y = _rng(5).integers(0, 10, size=12)
        y[:10] = np.arange(10)[::-1]
        Y = np.eye(10, dtype=np.float32)[y]
        got = np.asarray(f(Y))
        if got.shape == (10,):
            raise _Fail("you returned 10 numbers for 12 rows: take the argmax of each ROW, axis=1.")
        if got.shape != y.shape or not np.array_equal(got, y):
            raise _Fail(f"the labels of these 12 rows are {y.tolist()}; yours {got.tolist()}. Y.argmax(axis=1).")

    return [("12 one-hot rows", case)]


def _ex_02_2(smooth_labels):
    f = _theirs(smooth_labels)
    y = np.array([3, 0, 9, 3, 5])

    def run(eps=0.1):
        Y = np.asarray(f(y, eps))
        if Y.shape != (5, 10):
            raise _Fail(f"for 5 labels the result must have shape (5, 10); yours returned {_what(Y)}.")
        return Y

    def rows():
        Y = run()
        if not np.allclose(Y.sum(axis=1), 1, atol=1e-5):
            s = Y.sum(axis=1)[0]
            raise _Fail(
                f"each row must still sum to 1; yours sum to {s:.4g}. The 1 becomes 1 - eps and each of the "
                f"nine 0s becomes eps / 9: (1 - eps) + 9 * eps / 9 = 1."
            )

    def values(eps=0.1):
        Y = run(eps)
        on = Y[np.arange(5), y]
        off = Y[np.eye(10, dtype=bool)[y] == 0]
        if np.allclose(on, 1 - eps + eps / 10, atol=1e-5):
            raise _Fail(
                "your true class holds 1 - eps + eps/10: that is smoothing over all ten classes (eps / 10 "
                "everywhere); here each 0 becomes eps / 9 and the 1 becomes exactly 1 - eps."
            )
        if not np.allclose(on, 1 - eps, atol=1e-5):
            raise _Fail(f"with eps = {eps} the true class must hold {1 - eps:g}; yours holds {on[0]:.6g}.")
        if not np.allclose(off, eps / 9, atol=1e-6):
            raise _Fail(f"with eps = {eps} every other class must hold eps / 9 = {eps / 9:.6g}; yours {off[0]:.6g}.")

    def dtype():
        Y = run()
        if Y.dtype != np.float32:
            raise _Fail(f"your targets are {Y.dtype}; build them on nnlib.one_hot (float32) so they stay float32.")

    return [
        ("each row sums to 1", rows),
        ("values 0.9 and 0.1 / 9", values),
        ("eps = 0.2 too", lambda: values(0.2)),
        ("float32", dtype),
    ]


def _ex_02_3(label_bytes):
    f = _theirs(label_bytes)

    def case(n):
        y = _rng(6).integers(0, 10, size=n)
        one, lab = _items(f(y), 2, "label_bytes must return a pair (one-hot bytes, label bytes)")
        one, lab = _int(one, "the one-hot bytes must be an int"), _int(lab, "the label bytes must be an int")
        if one == n * 10 * 8:
            raise _Fail(
                "your one-hot matrix is counted at 8 bytes per entry (float64): nnlib.one_hot gives float32, "
                "4 bytes per entry; .nbytes tells."
            )
        if one != n * 10 * 4:
            raise _Fail(f"{n} labels make a ({n}, 10) float32 matrix of {n * 40} bytes; yours {one}.")
        if lab != n * 8:
            raise _Fail(f"{n} int64 labels take {n * 8} bytes (8 each); yours {lab}. y.astype(np.int64).nbytes.")

    return [("60,000 labels", lambda: case(60_000)), ("7 labels", lambda: case(7))]


# -- 03 ---------------------------------------------------------------------------------------------------------


def _ex_03_1(saturation_point):
    f = _theirs(saturation_point)

    def case():
        got = _number(f(), "saturation_point must return one number, z")
        # sigma (1 - sigma) = 1/400: sigma = (1 + sqrt(1 - 4/400)) / 2, z = log(sigma / (1 - sigma))
        s = (1 + math.sqrt(1 - 4 / 400)) / 2
        want = math.log(s / (1 - s))
        if abs(abs(got) - 4.595) < 0.02:
            raise _Fail(
                "you found where sigma'(z) falls below 0.01; the maximum is sigma'(0) = 1/4, so 1% of it is 0.0025."
            )
        if abs(abs(got) - want) > 0.01:
            raise _Fail(
                f"sigma'(z) = sigma(z)(1 - sigma(z)) falls below 1% of 1/4 at |z| of about {want:.2f} on a "
                f"grid; yours {got:.4g}."
            )

    return [("where sigma' < 1% of its maximum", case)]


def _ex_03_2(shift_and_scale):
    from ..functional import softmax

    f = _theirs(shift_and_scale)
    Z = _rng(7).normal(size=(4, 5))

    def run():
        return _items(f(Z), 2, "shift_and_scale must return a pair (softmax(Z + 5), softmax(2 * Z))")

    def shifted():
        P5, _ = run()
        if not (np.shape(P5) == Z.shape and np.allclose(P5, softmax(Z), atol=1e-6)):
            raise _Fail(
                "softmax(Z + 5) must equal softmax(Z): adding a constant to every logit of a row cancels in "
                "the ratio. Return the softmax of Z + 5, not Z + 5 itself."
            )

    def scaled():
        _, P2 = run()
        P = softmax(Z)
        if not (np.shape(P2) == Z.shape and np.allclose(P2, softmax(2 * Z), atol=1e-6)):
            raise _Fail("the second item must be softmax(2 * Z), the logits doubled before the softmax.")
        if not ((P2.max(axis=1) > P.max(axis=1)).all() and (P2.min(axis=1) < P.min(axis=1)).all()):
            raise _Fail("softmax(2 * Z) should be sharper than softmax(Z).")

    return [("adding a constant changes nothing", shifted), ("doubling sharpens", scaled)]


def _ex_03_3(flipped_rel_error):

    f = _theirs(flipped_rel_error)

    def case():
        rng = _rng(8)
        Z = rng.normal(size=(8, 4))
        Y = np.eye(4)[rng.integers(0, 4, size=8)]
        got = _number(f(Z.copy(), Y.copy()), "flipped_rel_error must return one number, the rel_error")
        if got < 1e-4:
            raise _Fail(
                f"your rel_error is {got:.1e}, that of a correct gradient: compare (Y - A) / N, the sign "
                f"flipped, with the numerical gradient."
            )
        N = len(Z)
        if abs(got - (N - 1) / (N + 1)) < 0.01:
            raise _Fail(
                "your rel_error is (N - 1) / (N + 1): that is the gradient without the 1/N; flip the sign "
                "instead, (Y - A) / N."
            )
        if abs(got - 1.0) > 0.01:
            raise _Fail(
                f"a gradient of the wrong sign has a rel_error of 1 with the true one; yours {got:.3g}. "
                f"Compare (Y - softmax(Z)) / N with nnlib.numerical_gradient of the cross-entropy in Z."
            )

    return [("rel_error of the flipped gradient", case)]


# -- 04 ---------------------------------------------------------------------------------------------------------


def _ex_04_1(train_per_example):
    from ..networks import mlp
    from ..optim import SGD
    from ..train import fit

    f = _theirs(train_per_example)
    rng = _rng(15)
    X = rng.random((20, 12))
    y = rng.integers(0, 3, size=20)
    Y = np.eye(3)[y]

    def case(epochs=5, lr=0.8):
        twin = mlp([12, 5, 4, 3], hidden="sigmoid", init="uniform", rng=0, dtype=np.float64)
        start = {k: v.copy() for k, v in twin.params.items()}
        got = f({k: v.copy() for k, v in start.items()}, X.copy(), Y.copy(), lr, epochs)
        if not isinstance(got, Mapping) or set(got) != set(start):
            raise _Fail(
                f"train_per_example must return the parameters, a dict keyed like params; yours returned {_what(got)}."
            )
        fit(twin, X, y, SGD(lr), epochs=epochs, batch_size=None, verbose=False)
        err = max(
            rel_error(np.asarray(got[k], np.float64), twin.params[k]) if np.shape(got[k]) == start[k].shape else np.inf
            for k in start
        )
        if err < 1e-10:
            return
        if all(np.array_equal(got[k], start[k]) for k in start):
            raise _Fail(
                "your parameters did not change: update them, p[k] -= lr * g[k] (in place) or build new "
                "ones, once per epoch, and return them."
            )
        one = mlp([12, 5, 4, 3], hidden="sigmoid", init="uniform", rng=0, dtype=np.float64)
        fit(one, X, y, SGD(lr), epochs=1, batch_size=None, verbose=False)
        if max(rel_error(np.asarray(got[k], np.float64), one.params[k]) for k in start) < 1e-10:
            raise _Fail(
                f"your parameters are those after ONE epoch; run {epochs}: gradients over all the images, "
                f"then one update, each epoch."
            )
        raise _Fail(
            f"after {epochs} epochs your parameters differ from nnlib.fit's full-batch run (largest "
            f"rel_error {err:.1e}): each epoch, g = gradients(params, X, Y) (the MEAN over the images), "
            f"then p[k] -= lr * g[k] for every k. If check_backward_example passed, look at the loop."
        )

    return [("5 epochs at lr 0.8 on 20 images", case), ("2 epochs at lr 0.3", lambda: case(2, 0.3))]


def _ex_04_3(saturated_fraction):
    f = _theirs(saturated_fraction)

    def case():
        A = np.array([[0.005, 0.5, 0.995, 0.01], [0.99, 0.2, 0.999, 0.5]])
        got = _number(f(A), "saturated_fraction must return one number, a fraction")
        if abs(got - 3) < 1e-9:
            raise _Fail("you returned a count; return the fraction, the mean of the boolean array.")
        if abs(got - 3 / 8) > 1e-9:
            raise _Fail(
                f"3 of these 8 activations are below 0.01 or above 0.99 (0.01 and 0.99 themselves are not); "
                f"yours {got:.4g}. ((A < 0.01) | (A > 0.99)).mean()."
            )

    return [("3 of 8 saturated", case)]


# -- 05 ---------------------------------------------------------------------------------------------------------


def _ex_05_1(forward_mixed, backward_mixed):
    from ..functional import relu, relu_grad, sigmoid, sigmoid_grad, softmax
    from ..functional import cross_entropy
    from ..networks import init_params

    fwd, bwd = _theirs(forward_mixed), _theirs(backward_mixed)
    acts = {"relu": (relu, relu_grad), "sigmoid": (sigmoid, sigmoid_grad)}
    rng = _rng(9)
    X = rng.normal(size=(6, 7))
    Y = np.eye(3)[rng.integers(0, 3, size=6)]

    def reference(params, hidden):
        L = len(params) // 2
        A = X
        for l in range(1, L + 1):
            Z = A @ params[f"W{l}"] + params[f"b{l}"]
            A = softmax(Z) if l == L else acts[hidden[l - 1]][0](Z)
        return A

    def case(hidden):
        params = init_params([7, 6, 5, 4, 3], init="he", rng=1, dtype=np.float64)
        params = {k: v + 0.1 * _rng(10).normal(size=v.shape) for k, v in params.items()}  # no bias exactly 0
        out = _items(fwd(params, X, list(hidden)), 2, "forward_mixed must return a pair (A, cache)")
        A, cache = out
        if not (np.shape(A) == (6, 3) and np.allclose(A, reference(params, hidden), rtol=1e-10, atol=1e-12)):
            raise _Fail(
                f"with hidden={hidden} your forward pass gives other probabilities: layer l uses "
                f"hidden[l - 1], and the last layer softmax."
            )
        grads = bwd(params, cache, Y, list(hidden))
        if not isinstance(grads, Mapping):
            raise _Fail(f"backward_mixed must return a dict of gradients; yours returned {_what(grads)}.")
        for k in params:
            num = numerical_gradient(lambda: cross_entropy(reference(params, hidden), Y), params[k])
            if k not in grads or np.shape(grads[k]) != params[k].shape:
                raise _Fail(f"your gradients have no d{k} of {k}'s shape {params[k].shape}.")
            if rel_error(grads[k], num) > 1e-6:
                raise _Fail(
                    f"with hidden={hidden}, d{k} differs from the numerical gradient (rel_error "
                    f"{rel_error(grads[k], num):.1e}): going back from layer l to l - 1, use the derivative "
                    f"of layer l - 1's activation, hidden[l - 2]."
                )

    return [
        ("hidden relu, sigmoid, relu", lambda: case(("relu", "sigmoid", "relu"))),
        ("hidden sigmoid, relu, sigmoid", lambda: case(("sigmoid", "relu", "sigmoid"))),
    ]


def _ex_05_3(multiply_adds):
    f = _theirs(multiply_adds)

    def case(sizes):
        fwd = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        bwd = fwd + sum(a * b for a, b in zip(sizes[1:-1], sizes[2:]))
        got = _items(f(list(sizes)), 2, "multiply_adds must return a pair (forward, backward)")
        got = tuple(_int(g, "each count must be an int") for g in got)
        if got[0] != fwd:
            raise _Fail(
                f"for {list(sizes)} the forward pass takes {fwd:,} multiply-adds per example (n_(l-1) * n_l "
                f"per layer); yours {got[0]:,}."
            )
        if got[1] == 2 * fwd:
            raise _Fail(
                "your backward count includes dA for the first layer: dA_0 = dZ_1 W_1^T is never needed "
                "(nothing comes before the input)."
            )
        if got[1] != bwd:
            raise _Fail(
                f"for {list(sizes)} the backward pass takes {bwd:,} (dW for every layer, dA from layer 2 on); "
                f"yours {got[1]:,}."
            )

    return [
        ("[784, 256, 128, 64, 10]", lambda: case((784, 256, 128, 64, 10))),
        ("[784, 10, 10]", lambda: case((784, 10, 10))),
        ("[5, 3]", lambda: case((5, 3))),
    ]


# -- 06 ---------------------------------------------------------------------------------------------------------


def _ex_06_1(predicted_std_z1):
    f = _theirs(predicted_std_z1)

    def case():
        X = (_rng(11).random((200, 50)) < 0.2) * _rng(12).random((200, 50))
        X = X.astype(np.float32)
        want = math.sqrt(2 * float(np.mean(X.astype(np.float64) ** 2)))
        got = _number(f(X), "predicted_std_z1 must return one number")
        if np.isclose(got, want / math.sqrt(2), rtol=1e-4):
            raise _Fail(
                "you used the factor 1/2 of ReLU inputs: the pixels are not ReLU outputs; "
                "Var(z1) = n * (2 / n) * E[x^2] = 2 E[x^2]."
            )
        if np.isclose(got, math.sqrt(2) * float(X.std()), rtol=1e-4):
            raise _Fail(
                "you used the variance of the pixels; the formula needs E[x^2], the mean of the squares "
                "(the pixels' mean is not 0)."
            )
        if np.isclose(got, want**2, rtol=1e-4):
            raise _Fail("you returned the variance 2 E[x^2]; the standard deviation is its square root.")
        if not np.isclose(got, want, rtol=1e-4):
            raise _Fail(f"for these inputs sqrt(2 E[x^2]) = {want:.5g}; yours {got:.5g}.")

    return [("sqrt(2 E[x^2])", case)]


def _ex_06_3(zero_init_params):
    f = _theirs(zero_init_params)

    def case():
        rng = _rng(13)
        X = rng.random((100, 784), dtype=np.float32)
        y = rng.integers(0, 10, size=100)
        params = f(X, y)
        if not isinstance(params, Mapping) or not {"W1", "b1", "W2", "b2"} <= set(params):
            raise _Fail(
                f"zero_init_params must return the model's params, a dict with W1, b1, W2, b2; yours "
                f"returned {_what(params)}."
            )
        if np.shape(params["W1"]) != (784, 16):
            raise _Fail(f"W1 has shape {np.shape(params['W1'])}; the network is [784, 16, 10].")
        if not np.any(params["b2"]):
            raise _Fail(
                "b2 is still zero: did the model train? Set every parameter to 0 (p[...] = 0), then "
                "nnlib.fit a few steps."
            )
        moved = [k for k in ("W1", "b1", "W2") if np.any(params[k])]
        if moved:
            raise _Fail(
                f"{', '.join(moved)} moved: start from ALL weights and biases at 0 (p[...] = 0 for every "
                f"p in model.params.values()) and a ReLU hidden layer."
            )

    return [("W1, b1, W2 stay 0, b2 learns", case)]


# -- 08 ---------------------------------------------------------------------------------------------------------


def _ex_08_1(ema_diverges):
    f = _theirs(ema_diverges)

    def case():
        for lr, beta, lam in [
            (0.1, 0.5, 100),
            (0.1, 0.9, 100),
            (0.1, 0.99, 100),
            (0.39, 0.9, 100),
            (0.37, 0.9, 100),
            (1.0, 0.0, 3),
            (1.0, 0.0, 1),
        ]:
            want = (1 - beta) * lr * lam > 2 * (1 + beta)
            got = f(lr, beta, lam)
            if not isinstance(got, (bool, np.bool_)):
                raise _Fail(f"ema_diverges must return True or False; yours returned {_what(got)}.")
            if bool(got) != want:
                raise _Fail(
                    f"lr {lr}, beta {beta}, curvature {lam}: the classical step is (1 - beta) * lr = "
                    f"{(1 - beta) * lr:.4g} and the limit (1 - beta) * lr * curvature < 2 (1 + beta) says it "
                    f"{'diverges' if want else 'converges'}; yours says the opposite."
                )

    return [("the stability limit on 7 settings", case)]


def _ex_08_2(largest_ema_lr):
    f = _theirs(largest_ema_lr)

    def case(beta, lam):
        want = 2 * (1 + beta) / ((1 - beta) * lam)
        got = _number(f(beta, lam), "largest_ema_lr must return one number")
        if np.isclose(got, 2 / lam):
            raise _Fail(
                "2 / curvature is gradient descent's limit; momentum's is 2 (1 + beta) / ((1 - beta) curvature)."
            )
        if np.isclose(got, 2 * (1 + beta) / lam):
            raise _Fail(
                "that is the limit of the classical rate; in the EMA form the step is (1 - beta) * lr, "
                "so divide by (1 - beta)."
            )
        if not np.isclose(got, want, rtol=1e-6):
            raise _Fail(
                f"beta {beta}, curvature {lam}: the limit is 2 (1 + beta) / ((1 - beta) curvature) = "
                f"{want:.4g}; yours {got:.4g}."
            )

    return [("beta 0.9, curvature 100", lambda: case(0.9, 100.0)), ("beta 0.5, curvature 4", lambda: case(0.5, 4.0))]


def _ex_08_3(nesterov):
    f = _theirs(nesterov)
    D = np.array([1.0, 100.0])

    def grad_f(w):
        return D * w

    def run(look_ahead=True, lr=0.01, beta=0.9, steps=100):
        w, u = np.array([-9.0, 1.0]), np.zeros(2)
        for _ in range(steps):
            u = beta * u + grad_f(w - lr * beta * u if look_ahead else w)
            w = w - lr * u
        return w

    def case():
        w0 = np.array([-9.0, 1.0])
        got = np.asarray(f(grad_f, w0.copy(), 0.01, 0.9, 100), dtype=np.float64)
        if got.shape != (2,):
            raise _Fail(f"nesterov must return the final w, an array of shape (2,); yours returned {_what(got)}.")
        if np.allclose(got, run(False), rtol=1e-8, atol=1e-12):
            raise _Fail(
                "that is classical momentum: take the gradient at the look-ahead point w - lr * beta * u, not at w."
            )
        if not np.allclose(got, run(), rtol=1e-8, atol=1e-12):
            raise _Fail(
                "your final w differs from Nesterov's: u = beta * u + grad_f(w - lr * beta * u), "
                "then w = w - lr * u, starting from u = 0."
            )

    return [("100 steps on the valley", case)]


# -- 09, 10, 11 ------------------------------------------------------------------------------------------------


def _ex_09_3(best_epoch):
    f = _theirs(best_epoch)

    def case():
        acc = [0.90, 0.95, 0.97, 0.96, 0.97, 0.94]
        got = _int(f(list(acc)), "best_epoch must return an epoch number, an int")
        if got == 2:
            raise _Fail(
                "epochs count from 1 (the callback's epoch): the best accuracy, 0.97, is first reached "
                "after epoch 3; add 1 to the argmax."
            )
        if got == 5:
            raise _Fail(
                "on a tie keep the first epoch that reached the best accuracy (a later one is no better): "
                "update only when strictly greater, or np.argmax."
            )
        if got != 3:
            raise _Fail(f"the highest validation accuracy is after epoch 3; yours {got}.")

    return [("first epoch of the best accuracy", case)]


def _ex_10_2(most_confused_pair):
    f = _theirs(most_confused_pair)

    def case():
        C = np.diag(np.full(10, 900))
        C[4, 9], C[9, 4] = 12, 11  # 4 and 9: 23 in both directions
        C[7, 2], C[2, 7] = 20, 0  # 7 -> 2 is the largest single entry
        C[3, 5], C[5, 3] = 10, 10
        got = _items(f(C.copy()), 2, "most_confused_pair must return a pair (i, j)")
        got = tuple(int(g) for g in got)
        if set(got) == {2, 7}:
            raise _Fail(
                "2 and 7 have the largest single entry, but 4 and 9 are confused more often in both "
                "directions together: add C to its transpose, S = C + C.T."
            )
        if got[0] == got[1]:
            raise _Fail(
                "you picked a diagonal entry, the correct predictions: clear the diagonal first, "
                "np.fill_diagonal(S, 0)."
            )
        if got == (9, 4):
            raise _Fail("return the pair with the smaller digit first, (i, j) with i < j.")
        if got != (4, 9):
            raise _Fail(f"the most confused pair here is (4, 9); yours {got}.")

    return [("both directions together", case)]


def _ex_11_2(lowest_loss_keeper):
    from types import SimpleNamespace

    from ..networks import mlp

    f = _theirs(lowest_loss_keeper)

    def case():
        model = mlp([4, 3, 2], rng=0)
        out = _items(f(model), 2, "lowest_loss_keeper must return a pair (callback, kept)")
        callback, kept = _theirs(out[0]), out[1]
        history = SimpleNamespace(loss=[], train_acc=[], val_loss=[], val_acc=[], seconds=[])
        for epoch, loss in enumerate([0.5, 0.3, 0.4, 0.3, 0.6], start=1):
            for p in model.params.values():
                p[...] = epoch  # as if this epoch's steps had moved every parameter
            for name, value in [
                ("loss", loss),
                ("train_acc", 0.9),
                ("val_loss", loss),
                ("val_acc", 0.9),
                ("seconds", 0.1),
            ]:
                getattr(history, name).append(value)
            callback(epoch, history)
        if not isinstance(kept, Mapping) or "epoch" not in kept or "params" not in kept:
            raise _Fail(
                f"kept must be a dict with 'epoch' and 'params' filled in by the callback; yours is "
                f"{_what(kept) if not isinstance(kept, Mapping) else 'a dict with ' + str(sorted(kept))}."
            )
        got = int(kept["epoch"])
        if got == 4:
            raise _Fail(
                "epochs 2 and 4 tie at the lowest loss: keep the first (a later epoch is no better); update "
                "only when the loss is strictly lower."
            )
        if got == 5:
            raise _Fail("you kept the last epoch: compare history.val_loss[-1] with the lowest loss so far.")
        if got != 2:
            raise _Fail(
                f"the validation losses were 0.5, 0.3, 0.4, 0.3, 0.6: the lowest is after epoch 2; yours {got}."
            )
        W1 = np.asarray(kept["params"]["W1"])
        if np.all(W1 == 5):
            raise _Fail(
                "your kept parameters are the last epoch's: you stored the arrays themselves, which training "
                "goes on changing; store copies, {k: v.copy() for k, v in model.params.items()}."
            )
        if not all(np.all(np.asarray(kept["params"][k]) == 2) for k in model.params):
            raise _Fail(
                "your kept parameters are not those of the epoch you kept: copy model.params when you update "
                "kept['epoch']."
            )

    return [("the epoch of the lowest validation loss, and its parameters", case)]


def _ex_11_3(dropout_units):
    f = _theirs(dropout_units)

    def case(n, p):
        got = _items(f(n, p), 3, "dropout_units must return (mean, std, number of thinned networks)")
        mean, std = (_number(g, "the mean and std must be numbers") for g in got[:2])
        count = got[2]
        q = 1 - p
        if not np.isclose(mean, n * q):
            raise _Fail(f"{n} units each kept with probability 1 - p = {q:g}: on average {n * q:g}; yours {mean:g}.")
        if np.isclose(std, n * q * (1 - q)) and not np.isclose(std, math.sqrt(n * q * (1 - q))):
            raise _Fail("that is the variance n q (1 - q); the standard deviation is its square root.")
        if not np.isclose(std, math.sqrt(n * q * (1 - q))):
            raise _Fail(
                f"the number kept is binomial(n, q): std sqrt(n q (1 - q)) = {math.sqrt(n * q * (1 - q)):g}; "
                f"yours {std:g}."
            )
        try:
            count = int(count)
        except (TypeError, ValueError, OverflowError):
            raise _Fail(f"the number of thinned networks must be a number; yours is {_what(count)}.") from None
        if count == math.comb(n, n // 2):
            raise _Fail("that counts only the networks with exactly half the units; every subset is possible: 2 ** n.")
        if count != 2**n:
            raise _Fail(
                f"each of the {n} units is kept or dropped: 2 ** {n} thinned networks (use Python's int, "
                f"2 ** n, not a float); yours {count}."
            )

    return [("100 units, p = 0.5", lambda: case(100, 0.5)), ("10 units, p = 0.2", lambda: case(10, 0.2))]


# -- 13, 14 ------------------------------------------------------------------------------------------------------


def _ex_13_2(batchnorm_backward_eval):
    from ..layers import BatchNorm

    f = _theirs(batchnorm_backward_eval)

    def case():
        rng = _rng(14)
        layer = BatchNorm(5, dtype=np.float64)
        layer.params["gamma"][...] = rng.normal(size=5)
        layer.state["running_mean"][...] = rng.normal(size=5)
        layer.state["running_var"][...] = rng.uniform(0.5, 2, size=5)
        X, dout = rng.normal(size=(8, 5)), rng.normal(size=(8, 5))
        _, cache = layer.forward(X, training=False)
        dX_ref = layer.backward(dout, cache)
        got = _items(
            f(
                dout.copy(),
                X.copy(),
                layer.params["gamma"].copy(),
                layer.state["running_mean"].copy(),
                layer.state["running_var"].copy(),
            ),
            3,
            "batchnorm_backward_eval must return (dX, dgamma, dbeta)",
        )
        dX, dgamma, dbeta = (np.asarray(g, dtype=np.float64) for g in got)
        if not (dX.shape == dX_ref.shape and np.allclose(dX, dX_ref, rtol=1e-8)):
            raise _Fail(
                "dX differs from nnlib.BatchNorm's in evaluation mode: with fixed statistics only the direct "
                "path is left, dX = gamma * dout / sqrt(running_var + eps), no mean or variance terms."
            )
        if not np.allclose(dgamma, layer.grads["gamma"], rtol=1e-8):
            raise _Fail("dgamma differs: sum over the batch of dout * x_hat, with x_hat from the running statistics.")
        if not np.allclose(dbeta, layer.grads["beta"], rtol=1e-8):
            raise _Fail("dbeta differs: dout.sum(axis=0).")

    return [("against nnlib.BatchNorm, training=False", case)]


def _ex_14_3(im2col_sizes):
    f = _theirs(im2col_sizes)

    def case(N, C, H, W, F, k, pad, stride):
        Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
        rows, cols = N * Ho * Wo, C * k * k
        want = ((rows, cols), (F, cols), (rows, F), rows * cols * F)
        got = _items(
            f(N, C, H, W, F, k, pad, stride),
            4,
            "im2col_sizes must return (cols shape, W_row shape, product shape, multiply-adds)",
        )
        got = (tuple(got[0]), tuple(got[1]), tuple(got[2]), _int(got[3], "the multiply-adds must be an int"))
        for what, g, w in zip(("cols", "W_row", "the product"), got, want):
            if g != w:
                raise _Fail(
                    f"for N={N}, C={C}, {H}x{W}, F={F}, k={k}, padding={pad}, stride={stride} the output is "
                    f"{Ho}x{Wo}; {what} has shape {w}, yours {g}."
                )
        if got[3] != want[3]:
            raise _Fail(
                f"(rows x inner) @ (inner x F) takes rows * inner * F = {want[3]:,} multiply-adds; yours {got[3]:,}."
            )

    return [
        ("Conv2D(16, 32, 3, padding=1) on 64 images of 14x14", lambda: case(64, 16, 14, 14, 32, 3, 1, 1)),
        ("stride 2, no padding", lambda: case(2, 3, 9, 7, 4, 3, 0, 2)),
    ]


_EXERCISES = {
    "00.1": _ex_00_1,
    "00.2": _ex_00_2,
    "00.3": _ex_00_3,
    "01.1": _ex_01_1,
    "01.3": _ex_01_3,
    "02.1": _ex_02_1,
    "02.2": _ex_02_2,
    "02.3": _ex_02_3,
    "03.1": _ex_03_1,
    "03.2": _ex_03_2,
    "03.3": _ex_03_3,
    "04.1": _ex_04_1,
    "04.3": _ex_04_3,
    "05.1": _ex_05_1,
    "05.3": _ex_05_3,
    "06.1": _ex_06_1,
    "06.3": _ex_06_3,
    "08.1": _ex_08_1,
    "08.2": _ex_08_2,
    "08.3": _ex_08_3,
    "09.3": _ex_09_3,
    "10.2": _ex_10_2,
    "11.2": _ex_11_2,
    "11.3": _ex_11_3,
    "13.2": _ex_13_2,
    "14.3": _ex_14_3,
}


def check_exercise(exercise: str, *answers) -> CheckResult:
    """Check the answer to exercise ``exercise`` ("NN.k": notebook NN, exercise k), a function (two for 05.1)."""
    if exercise not in _EXERCISES:
        raise ValueError(f"no check for exercise {exercise!r}; there are checks for {', '.join(_EXERCISES)}")
    return _run(f"exercise {exercise}", _EXERCISES[exercise](*answers))
