"""Self-checks for notebook 15's fixes: the pieces of a broken training, each mended by the learner.

Every check runs the learner's fixed piece on small inputs of its own (none needs MNIST) and, when a case fails,
compares the result with the typical wrong versions (the bug the notebook showed among them) to say which one it is.

| check | piece | signature checked |
|---|---|---|
| ``check_fix_scale_pixels`` | 15 | ``scale_pixels(X_raw) -> X``: uint8 pixels 0..255 to float32 in [0, 1], ``X_raw / 255`` |
| ``check_fix_targets`` | 15 | ``to_targets(y) -> Y (N, 10)``: float32 one-hot rows, always 10 columns |
| ``check_fix_softmax`` | 15 | ``softmax(Z) -> P``: each row (one example) sums to 1, no overflow |
| ``check_fix_init`` | 15 | ``init_params(sizes, rng) -> {"W1", "b1", ...}``: He normal weights (n_in, n_out), zero biases, float32 |
| ``check_fix_batches`` | 15 | ``batches(X, Y, batch_size, rng)`` yields ``(X_batch, Y_batch)``, a new random order each epoch |
| ``check_fix_output_grad`` | 15 | ``output_grad(P, Y) -> dZ = (P - Y) / N``, the gradient of the mean loss |
| ``check_fix_dead_units`` | 15 | ``dead_units(A) -> bool (units,)``: True for a unit that is 0 on every example of the batch |
| ``check_fix_best_lr`` | 15 | ``best_lr(sweep_acc) -> lr``: the rate whose lowest validation accuracy over seeds is highest |
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ._core import CheckResult, _draws_from_rng, _Fail, _pair, _run, _theirs, _what

__all__ = [
    "check_fix_scale_pixels",
    "check_fix_targets",
    "check_fix_softmax",
    "check_fix_init",
    "check_fix_batches",
    "check_fix_output_grad",
    "check_fix_dead_units",
    "check_fix_best_lr",
]


def _array(out, name: str, must: str) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise _Fail(f"{name} must return a NumPy array ({must}); yours returned {_what(out)}.")
    return out


# -- unnormalised pixels ---------------------------------------------------------------------------------------


def _raw_pixels(seed=0):
    """uint8 'images' (rows): row 0 reaches 255, row 1 only 200 (so dividing by each image's maximum shows)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(6, 20)).astype(np.uint8)
    X[0, 3] = 255
    X[1] = np.minimum(X[1], 200)
    X[1, 5] = 200
    return X


def check_fix_scale_pixels(scale_pixels) -> CheckResult:
    """``scale_pixels(X_raw) -> X``: uint8 pixels 0..255 (one image per row) to float32 ``X_raw / 255`` in [0, 1],
    the same scaling for every image, X_raw unchanged."""
    scale = _theirs(scale_pixels)

    def run(X=None):
        X = _raw_pixels() if X is None else X
        before = X.copy()
        out = _array(scale(X), "scale_pixels", "the scaled pixels, of X_raw's shape")
        return X, before, out

    def shape():
        X, _, out = run()
        if out.shape != X.shape:
            raise _Fail(
                f"your result has shape {out.shape}; expected X_raw's {X.shape}: scaling changes the values, "
                f"not the shape."
            )

    def unchanged():
        X, before, _ = run()
        if not np.array_equal(X, before):
            raise _Fail("your function changed X_raw itself: return a new array, X_raw.astype(np.float32) / 255.")

    def values():
        X, _, out = run()
        want = X.astype(np.float64) / 255
        got = np.asarray(out, np.float64)
        if np.allclose(got, want, rtol=1e-6, atol=1e-7):
            return
        if np.allclose(got, X):
            raise _Fail(
                f"your pixels still go up to {got.max():g}: they are not scaled. With inputs of up to 255 the "
                f"first loss is far above ln 10 and the ReLUs die; divide by 255."
            )
        if set(np.unique(got)) <= {0.0, 1.0}:
            raise _Fail(
                "your pixels are only 0 and 1: integer division (X_raw // 255) or a threshold. Divide as floats: "
                "X_raw.astype(np.float32) / 255."
            )
        if np.allclose(got, X / 256.0):
            raise _Fail(
                "you divided by 256: the largest pixel value is 255, so divide by 255 (a white pixel becomes 1)."
            )
        if np.allclose(got[1], X[1] / 200.0) and not np.allclose(got[1], want[1]):
            raise _Fail(
                "an image whose brightest pixel is 200 came out with 1 at that pixel: you divided each image "
                "(or the batch) by its own maximum. Divide every image by the same 255, as load_mnist does, "
                "so that a pixel means the same in every image."
            )
        if abs(got.mean()) < 1e-3 and abs(got.std() - 1) < 1e-2:
            raise _Fail(
                "you standardised the pixels (mean 0, std 1). That trains too, but the fix asked for here is "
                "the scaling of load_mnist and the rest of the course: X_raw / 255, in [0, 1]."
            )
        raise _Fail(
            f"each pixel should be X_raw / 255 (255 -> 1.0, 0 -> 0.0); yours range from {got.min():.4g} to "
            f"{got.max():.4g}."
        )

    def dim_batch():
        X = _raw_pixels()[1:3]  # no pixel of this batch reaches 255
        X[1] = np.minimum(X[1], 200)
        _, _, out = run(X)
        got = np.asarray(out, np.float64)
        if np.allclose(got, X / 255.0, rtol=1e-6, atol=1e-7):
            return
        if np.isclose(got.max(), 1.0):
            raise _Fail(
                "for a batch whose brightest pixel is 200 your largest value is 1: you divided by the batch's "
                "(or each image's) own maximum. Divide by the same 255 whatever the batch, as load_mnist does."
            )
        raise _Fail("for a batch without a white pixel your values are not X_raw / 255.")

    def dtype():
        _, _, out = run()
        if out.dtype != np.float32:
            raise _Fail(
                f"your result is {out.dtype}; the network is float32. uint8 / 255 gives float64 in NumPy: "
                f"X_raw.astype(np.float32) / 255."
            )

    return _run(
        "scale_pixels",
        [
            ("returns an array of X_raw's shape", shape),
            ("X_raw is left unchanged", unchanged),
            ("every pixel is divided by 255", values),
            ("a batch without a white pixel: still / 255", dim_batch),
            ("the result is float32", dtype),
        ],
        hint_on_error="run scale_pixels on np.array([[0, 128, 255]], dtype=np.uint8) yourself: the answer is "
        "[[0.0, 0.502, 1.0]] in float32 (X_raw /= 255 cannot work on uint8: return a new array).",
    )


# -- labels not one-hot ----------------------------------------------------------------------------------------


def check_fix_targets(to_targets) -> CheckResult:
    """``to_targets(y) -> Y``: integer labels (N,) to float32 one-hot rows (N, 10), always 10 columns."""
    targets = _theirs(to_targets)

    def run(y):
        y = np.asarray(y, dtype=np.int64)
        before = y.copy()
        out = targets(y)
        if not np.array_equal(y, before):
            raise _Fail("your function changed y itself: return a new array.")
        return y, _array(out, "to_targets", "one-hot rows (N, 10)")

    def shape(y=(3, 0, 9, 1, 9, 4, 2)):
        y, Y = run(y)
        want = (len(y), 10)
        if Y.shape == want:
            return y, Y
        if Y.shape in ((len(y),), (len(y), 1)):
            raise _Fail(
                f"your targets have shape {Y.shape}: the label numbers themselves, the bug of the broken run. "
                f"P is (N, 10), so Y must be too: one row per example with a 1 in the label's column "
                f"(nnlib.one_hot(y), as notebook 02 built it)."
            )
        if Y.shape == want[::-1]:
            raise _Fail(
                f"your targets have shape {Y.shape}, the transpose of {want}: one ROW per example, one column "
                f"per class."
            )
        raise _Fail(f"your targets have shape {Y.shape}; expected {want} (N examples, 10 classes).")

    def rows(y=(3, 0, 9, 1, 9, 4, 2)):
        y, Y = shape(y)
        if np.array_equal(np.asarray(Y, np.float64), np.eye(10)[y]):
            return
        if np.array_equal(np.asarray(Y, np.float64), np.eye(10)[9 - y]):
            raise _Fail("your 1s are in column 9 - label: row i needs its 1 in column y[i] (np.eye(10)[y]).")
        raise _Fail(
            "each row must hold one 1, in the column of its label, and 0 elsewhere: "
            "start from np.zeros((len(y), 10), dtype=np.float32) and set Y[np.arange(len(y)), y] = 1. Print "
            "to_targets(np.array([3, 0])) and look."
        )

    def ten_columns():
        y = np.array([3, 0, 4, 1])  # a batch without 9: still 10 classes
        _, Y = run(y)
        if Y.shape == (4, 10):
            return rows(y)
        if Y.shape == (4, int(y.max()) + 1):
            raise _Fail(
                f"for labels {y.tolist()} your targets have {Y.shape[1]} columns: you took the number of "
                f"classes from y.max() + 1. A subset without a 9 would then give P (N, 10) and Y (N, 5); "
                f"there are always 10 digits: num_classes=10."
            )
        raise _Fail(f"for labels {y.tolist()} your targets have shape {Y.shape}; expected (4, 10).")

    def dtype():
        _, Y = run([3, 0, 9])
        if Y.dtype != np.float32:
            raise _Fail(
                f"your targets are {Y.dtype}; make them float32 like the network, or P - Y turns into "
                f"{np.result_type(np.float32, Y.dtype)}: start from np.zeros((len(y), 10), dtype=np.float32), or add "
                f".astype(np.float32)."
            )

    return _run(
        "to_targets",
        [
            ("one row of 10 per label", shape),
            ("a single 1, in the label's column", rows),
            ("always 10 columns, even without a 9 in the batch", ten_columns),
            ("float32", dtype),
        ],
        hint_on_error="run to_targets(np.array([3, 0, 9])) yourself: it should give a (3, 10) array of 0s with one 1 "
        "per row, in columns 3, 0 and 9.",
    )


# -- softmax over the wrong axis ----------------------------------------------------------------------------


def _softmax_ref(Z):
    Z = np.asarray(Z, np.float64)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def check_fix_softmax(softmax) -> CheckResult:
    """``softmax(Z) -> P``, row-wise on logits (N, C): one row per example, each row sums to 1; no overflow for
    logits of 1000; Z unchanged."""
    soft = _theirs(softmax)
    Z = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32) * 3

    def run(Z):
        before = Z.copy()
        P = _array(soft(Z), "softmax", "probabilities of Z's shape")
        if not np.array_equal(Z, before):
            raise _Fail("your softmax changed Z itself (Z -= ... or np.exp(Z, out=Z)): return a new array.")
        if P.shape != Z.shape:
            raise _Fail(
                f"your result has shape {P.shape}; expected Z's shape {Z.shape}: keepdims=True in the max "
                f"and the sum keeps one value per row, shaped (N, 1), so that it broadcasts."
            )
        return np.asarray(P, np.float64)

    def rows():
        P = run(Z)
        if np.allclose(P.sum(axis=1), 1, atol=1e-5):
            return P
        if np.allclose(P.sum(axis=0), 1, atol=1e-5):
            raise _Fail(
                "your columns sum to 1, not your rows: that is the broken softmax, normalised over the batch "
                "(axis=0). One row is one example: take the max and the sum over axis=1, keepdims=True."
            )
        raise _Fail(f"each row of P must sum to 1; yours sum to {np.round(P.sum(axis=1), 4).tolist()}.")

    def one_row():
        P = run(Z[:1])
        if np.allclose(P, _softmax_ref(Z[:1]), rtol=1e-5, atol=1e-6):
            return
        if np.allclose(P, 1):
            raise _Fail(
                "for a batch of one example every probability is 1: you normalised over the batch (axis=0), "
                "where each column holds only that one value. Sum over axis=1."
            )
        raise _Fail("for a batch of one example your probabilities differ from the softmax of that row.")

    def values():
        P = rows()
        if not np.allclose(P, _softmax_ref(Z), rtol=1e-5, atol=1e-6):
            raise _Fail(
                f"your rows sum to 1 but differ from exp(Z) / (the row's sum of exp(Z)) (largest difference "
                f"{np.abs(P - _softmax_ref(Z)).max():.2g})."
            )

    def large():
        Zl = np.array([[1000.0, 999.0, 0.0], [-1000.0, -999.0, -1001.0]], np.float32)
        with warnings.catch_warnings():  # an overflow is told apart below, with its own hint
            warnings.simplefilter("ignore", RuntimeWarning)
            P = run(Zl)
        finite = np.isfinite(P).all(axis=1)
        if not finite[0]:
            raise _Fail(
                "for logits of 1000 your probabilities are nan or inf: np.exp(1000) overflows. Subtract each "
                "row's maximum first, Z - Z.max(axis=1, keepdims=True); the result does not change."
            )
        if not finite[1] or not np.allclose(P, _softmax_ref(Zl), rtol=1e-5, atol=1e-6):
            raise _Fail(
                "for a row of logits near -1000 in a batch whose largest logit is 1000 your probabilities are "
                "nan or wrong: subtract each row's OWN maximum (Z.max(axis=1, keepdims=True)), not the "
                "maximum of the whole batch, or that row's exponentials all underflow to 0."
            )

    def dtype():
        out = _array(soft(Z), "softmax", "probabilities of Z's shape")
        if out.dtype != np.float32:
            raise _Fail(f"for float32 logits your result is {out.dtype}: keep the logits' dtype.")

    return _run(
        "softmax",
        [
            ("returns P of Z's shape, each row summing to 1", rows),
            ("a batch of one example", one_row),
            ("P = exp(Z) / row sums", values),
            ("logits of 1000 do not overflow", large),
            ("float32 in, float32 out", dtype),
        ],
        hint_on_error="a ValueError about shapes usually means a sum without keepdims=True: "
        "E / E.sum(axis=1, keepdims=True).",
    )


# -- all-zero initialisation ------------------------------------------------------------------------------

_SIZES = [784, 256, 10]


def check_fix_init(init_params) -> CheckResult:
    """``init_params(sizes, rng) -> params``: ``W{l}`` of shape (n_in, n_out) drawn from N(0, 2 / n_in) (He) with
    the generator ``rng``, ``b{l}`` zeros of shape (n_out,), all float32."""
    init = _theirs(init_params)

    def run(seed=0, sizes=_SIZES, rng=None):
        params = init(list(sizes), np.random.default_rng(seed) if rng is None else rng)
        if not isinstance(params, dict):
            raise _Fail(
                f"init_params must return a dict {{'W1': ..., 'b1': ..., ...}}; yours returned {_what(params)}."
            )
        return params

    def keys():
        params = run()
        want = {f"{p}{l}" for l in range(1, len(_SIZES)) for p in "Wb"}
        if set(params) != want:
            raise _Fail(f"for sizes {_SIZES} the keys must be {sorted(want)}; yours are {sorted(params)}.")
        return params

    def shapes():
        params = keys()
        for l, (n_in, n_out) in enumerate(zip(_SIZES[:-1], _SIZES[1:]), start=1):
            W, b = (_array(params[k], "init_params", "each parameter an array") for k in (f"W{l}", f"b{l}"))
            if W.shape == (n_out, n_in):
                raise _Fail(
                    f"W{l} has shape {W.shape}, the transpose: with examples in rows, Z = X @ W, so W is "
                    f"(n_in, n_out) = {(n_in, n_out)}."
                )
            if W.shape != (n_in, n_out) or b.shape != (n_out,):
                raise _Fail(
                    f"W{l} must have shape {(n_in, n_out)} and b{l} {(n_out,)}; yours are {W.shape} and {b.shape}."
                )
            if W.dtype != np.float32 or b.dtype != np.float32:
                raise _Fail(
                    f"W{l} is {W.dtype} and b{l} {b.dtype}: make both float32 (rng.normal draws float64: "
                    f"add .astype(np.float32))."
                )
        return params

    def not_symmetric():
        params = shapes()
        for l in range(1, len(_SIZES)):
            W = np.asarray(params[f"W{l}"], np.float64)
            if not W.any():
                raise _Fail(
                    f"W{l} is all zeros, the broken initialisation: every hidden unit then computes the same "
                    f"0, ReLU's gradient at 0 is 0, and W1 never changes. Draw random weights: "
                    f"rng.normal(size=(n_in, n_out)) * np.sqrt(2 / n_in)."
                )
            if np.allclose(W, W[:, :1]):
                raise _Fail(
                    f"every column of W{l} is the same: the units of a layer start identical, get identical "
                    f"gradients and stay identical (the symmetry is never broken). Draw every weight at "
                    f"random."
                )

    def biases():
        params = shapes()
        for l in range(1, len(_SIZES)):
            if np.any(params[f"b{l}"] != 0):
                raise _Fail(
                    f"b{l} is not zero: the random weights already break the symmetry, so He initialisation "
                    f"starts the biases at 0 (np.zeros(n_out, np.float32))."
                )

    def scale():
        params = shapes()
        for l, (n_in, n_out) in enumerate(zip(_SIZES[:-1], _SIZES[1:]), start=1):
            W = np.asarray(params[f"W{l}"], np.float64)
            mean, std, want = W.mean(), W.std(), np.sqrt(2 / n_in)
            if W.min() >= 0:
                raise _Fail(
                    f"every weight of W{l} is positive (rng.random?): draw from a normal distribution with "
                    f"mean 0, rng.normal(size=...) * np.sqrt(2 / n_in)."
                )
            if abs(std / want - 1) < 0.1 and abs(mean) < 0.1 * want:
                continue
            for name, value in [
                ("1 (rng.normal without scaling)", 1.0),
                ("uniform(-0.5, 0.5)'s 0.29", np.sqrt(1 / 12)),
                ("np.sqrt(1 / n_in), Xavier's for one fan", np.sqrt(1 / n_in)),
                ("np.sqrt(2 / (n_in + n_out)), Xavier's", np.sqrt(2 / (n_in + n_out))),
                ("np.sqrt(2 / n_out): the fan-out, not the fan-in", np.sqrt(2 / n_out)),
                ("2 / n_in: the variance, not the standard deviation", 2 / n_in),
            ]:
                if abs(std / value - 1) < 0.1:
                    raise _Fail(
                        f"the standard deviation of W{l} is {std:.4f}, about {name}. He initialisation for ReLU "
                        f"layers: std np.sqrt(2 / n_in) = {want:.4f} for n_in = {n_in}."
                    )
            raise _Fail(
                f"the weights of W{l} have mean {mean:.4f} and standard deviation {std:.4f}; He initialisation "
                f"wants mean 0 and std np.sqrt(2 / n_in) = {want:.4f} (n_in = {n_in})."
            )

    def generator():
        _draws_from_rng(lambda rng: run(rng=rng)["W1"], "weights", "the weights (rng.normal)")

    def depth():
        params = run(sizes=[20, 8, 6, 3])
        want = {f"{p}{l}" for l in range(1, 4) for p in "Wb"}
        if set(params) != want:
            raise _Fail(
                f"for sizes [20, 8, 6, 3] the keys must be {sorted(want)}; yours are {sorted(params)}: "
                f"loop over zip(sizes[:-1], sizes[1:]) rather than writing the layers out."
            )

    return _run(
        "init_params",
        [
            ("W{l} (n_in, n_out) and b{l} (n_out,), float32", shapes),
            ("the weights are random: no two units alike", not_symmetric),
            ("the biases start at 0", biases),
            ("W{l} ~ N(0, 2 / n_in)", scale),
            ("the weights come from rng", generator),
            ("any number of layers", depth),
        ],
        hint_on_error="run init_params([4, 3, 2], np.random.default_rng(0)) yourself and print the shapes.",
    )


# -- no shuffling ---------------------------------------------------------------------------------------------


def check_fix_batches(batches) -> CheckResult:
    """``batches(X, Y, batch_size, rng)`` yields ``(X_batch, Y_batch)``: every row once per call, in a random order
    drawn from ``rng`` (a new one at each call), rows of X and Y kept together, batches of ``batch_size`` but the
    last, X and Y unchanged."""
    gen = _theirs(batches)
    N, B = 50, 8
    X = np.arange(N * 3, dtype=np.float32).reshape(N, 3)  # row i starts with 3 * i
    Y = np.eye(10, dtype=np.float32)[np.arange(N) % 10]

    def epoch(rng):
        Xc, Yc = X.copy(), Y.copy()
        out = []
        for item in gen(Xc, Yc, B, rng):
            Xb, Yb = _pair(item, "each item must be a pair (X_batch, Y_batch)", yours="yielded")
            out.append((np.asarray(Xb), np.asarray(Yb)))
        if not (np.array_equal(Xc, X) and np.array_equal(Yc, Y)):
            raise _Fail(
                "your function changed X or Y (rng.shuffle(X) shuffles the caller's arrays in place, and "
                "separately): index with one permutation instead, X[idx], Y[idx]."
            )
        if not out:
            raise _Fail("your function yielded no batch: yield (X[idx], Y[idx]) for each slice idx of a permutation.")
        return out

    def order(out):
        return np.concatenate([Xb[:, 0] for Xb, _ in out]).astype(np.int64) // 3

    def every_row():
        out = epoch(np.random.default_rng(0))
        rows = order(out)
        if len(rows) == N and len(set(rows.tolist())) == N:
            return out
        if len(set(rows.tolist())) < len(rows):
            raise _Fail(
                f"one epoch gave {len(rows)} rows but only {len(set(rows.tolist()))} different ones: you drew "
                f"with replacement (rng.integers or rng.choice). Use a permutation, idx = rng.permutation(N), "
                f"so every example is used exactly once."
            )
        raise _Fail(
            f"one epoch of {N} rows in batches of {B} gave {len(rows)} rows: the last, smaller batch "
            f"({N % B} rows) must be yielded too: range(0, N, batch_size)."
        )

    def sizes():
        out = every_row()
        got = [len(Xb) for Xb, _ in out]
        want = [B] * (N // B) + [N % B]
        if got != want:
            raise _Fail(f"for {N} rows in batches of {B} your batch sizes are {got}; expected {want}.")

    def pairs():
        for Xb, Yb in every_row():
            i = Xb[:, 0].astype(np.int64) // 3
            if Yb.shape != (len(Xb), 10) or not np.array_equal(Yb, Y[i]):
                raise _Fail(
                    "a batch's rows of Y do not belong to its rows of X: shuffle both with the SAME "
                    "permutation, X[idx] and Y[idx] (not two calls of rng.permutation or rng.shuffle)."
                )

    def shuffled():
        rows = order(every_row())
        if np.array_equal(rows, np.arange(N)):
            raise _Fail(
                "your batches come in the order of the data: that is the broken run. On data sorted by "
                "label, each stretch of steps then sees one digit only. Draw a permutation, "
                "idx = rng.permutation(len(X)), and cut the batches from X[idx], Y[idx]."
            )

    def from_rng():
        _draws_from_rng(lambda rng: order(epoch(rng)), "orders", "the permutation (rng.permutation(N))")

    def each_epoch():
        rng = np.random.default_rng(7)
        if np.array_equal(order(epoch(rng)), order(epoch(rng))):
            raise _Fail(
                "two epochs with the same generator came in the same order: draw a new permutation at each "
                "call, inside the function, not once outside it."
            )

    return _run(
        "batches",
        [
            ("every row once per epoch", every_row),
            ("batches of batch_size, the last one smaller", sizes),
            ("X and Y rows stay together", pairs),
            ("the order is shuffled", shuffled),
            ("the order comes from rng", from_rng),
            ("a new order every epoch", each_epoch),
        ],
        hint_on_error="run list(batches(X, Y, 2, np.random.default_rng(0))) on X = np.arange(10).reshape(5, 2) and "
        "Y = np.arange(5) yourself and look at the pairs.",
    )


# -- a missing 1/N, a sign error -----------------------------------------------------------------------------


def check_fix_output_grad(output_grad) -> CheckResult:
    """``output_grad(P, Y) -> dZ``: the gradient of the MEAN softmax cross-entropy with respect to the logits,
    ``(P - Y) / N`` with N = len(P) of this batch; float32 in, float32 out; P and Y unchanged."""
    grad = _theirs(output_grad)

    def data(N=5, C=4, seed=3, dtype=np.float64):
        rng = np.random.default_rng(seed)
        Z = rng.normal(size=(N, C))
        P = _softmax_ref(Z)
        Y = np.eye(C)[rng.integers(0, C, N)]
        return Z, P.astype(dtype), Y.astype(dtype)

    def numerical(Z, Y, h=1e-6):
        def loss(Z):
            return -np.sum(Y * np.log(_softmax_ref(Z))) / len(Z)

        G = np.zeros_like(Z)
        for idx in np.ndindex(*Z.shape):
            Zp, Zm = Z.copy(), Z.copy()
            Zp[idx] += h
            Zm[idx] -= h
            G[idx] = (loss(Zp) - loss(Zm)) / (2 * h)
        return G

    def run(N=5, C=4, dtype=np.float64):
        Z, P, Y = data(N, C, dtype=dtype)
        before = (P.copy(), Y.copy())
        dZ = _array(grad(P, Y), "output_grad", "dZ, of P's shape")
        if not (np.array_equal(P, before[0]) and np.array_equal(Y, before[1])):
            raise _Fail("your function changed P or Y (P -= Y?): return a new array, (P - Y) / len(P).")
        if dZ.shape != P.shape:
            raise _Fail(f"dZ has shape {dZ.shape}; expected P's {P.shape}.")
        return Z, P, Y, np.asarray(dZ, np.float64)

    def gradient(N=5, C=4):
        Z, P, Y, dZ = run(N, C)
        ref = numerical(Z, Y)
        if np.allclose(dZ, ref, rtol=1e-5, atol=1e-8):
            return
        for factor, hint in [
            (
                N,
                f"your dZ is {N} times the numerical gradient (N = {N}): the missing 1/N of the broken run. The loss "
                f"is the MEAN over the batch, so its gradient is (P - Y) / N: every step was N times too large.",
            ),
            (
                -1,
                "your dZ is minus the numerical gradient: Y - P instead of P - Y. With it every step goes uphill and "
                "the loss grows, the sign error of the broken run. dZ = (P - Y) / N.",
            ),
            (
                -N,
                f"your dZ is -{N} times the numerical gradient: both bugs, the sign (Y - P) and the missing 1/N. "
                f"dZ = (P - Y) / N.",
            ),
            (1 / N, f"your dZ is 1/{N} of the numerical gradient: you divided by N twice."),
            (
                1 / C,
                f"your dZ is 1/{C} of the numerical gradient: you divided by N * C (Y.size or P.size); divide by "
                f"N = len(P) only, the number of examples.",
            ),
            (
                N / C,
                f"your dZ is {N}/{C} of the numerical gradient: you divided by C, the number of classes "
                f"(P.shape[1]); divide by N = len(P), the number of examples.",
            ),
        ]:
            if np.allclose(dZ, ref * factor, rtol=1e-5, atol=1e-8):
                raise _Fail(hint)
        if np.allclose(dZ * 64, ref * N, rtol=1e-5, atol=1e-8):
            raise _Fail(
                f"your dZ is (P - Y) / 64 for a batch of {N}: divide by this batch's size, len(P), not a fixed "
                f"batch size (the last batch of an epoch is smaller)."
            )
        if np.allclose(dZ, P - Y / N, rtol=1e-5, atol=1e-8):
            raise _Fail("your dZ is P - Y / N: / binds before -, so you divided only Y by N. Put P - Y in parentheses.")
        raise _Fail(
            f"dZ differs from the numerical gradient of the mean cross-entropy (relative error "
            f"{np.abs(dZ - ref).max() / max(np.abs(ref).max(), 1e-12):.1e}): the gradient with respect to the "
            f"logits is P - Y, divided by the number of examples, because the loss is a mean."
        )

    def other_sizes():
        gradient(N=1, C=10)
        gradient(N=12, C=3)

    def dtype():
        _, P, Y = data(dtype=np.float32)
        out = grad(P, Y)
        if np.asarray(out).dtype != np.float32:
            raise _Fail(
                f"for float32 P and Y your dZ is {np.asarray(out).dtype}: keep float32 ((P - Y) / len(P) does)."
            )

    return _run(
        "output_grad",
        [
            ("dZ equals the numerical gradient of the mean loss (N = 5)", gradient),
            ("batches of 1 and of 12 examples", other_sizes),
            ("float32 in, float32 out", dtype),
        ],
        hint_on_error="run output_grad on P = np.full((2, 3), 1/3) and Y = np.eye(3)[[0, 2]] yourself: the answer "
        "is (P - Y) / 2.",
    )


# -- a dead ReLU layer --------------------------------------------------------------------------------------


def check_fix_dead_units(dead_units) -> CheckResult:
    """``dead_units(A) -> dead``: for ReLU outputs A (N, units), a boolean array (units,), True for a unit that is 0
    on every example of the batch."""
    dead = _theirs(dead_units)
    A = np.array(
        [
            [0.0, 0.0, 1.5, 0.0, 2.0],
            [0.3, 0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0, 0.0],  # an example on which every unit is 0
            [0.0, 0.0, 0.2, 0.0, 0.5],
        ],
        np.float32,
    )
    want = np.array([False, True, False, True, False])

    def run(A=A):
        before = A.copy()
        out = dead(A)
        if not np.array_equal(A, before):
            raise _Fail("your function changed A: only look at it.")
        return _array(out, "dead_units", "one boolean per unit")

    def shape():
        out = run()
        if out.shape == (A.shape[0],):
            raise _Fail(
                f"your result has one value per example {out.shape}, not one per unit: a unit is a COLUMN of A, "
                f"so reduce over the examples, axis=0."
            )
        if out.shape != (A.shape[1],):
            raise _Fail(f"your result has shape {out.shape}; expected one value per unit, {(A.shape[1],)}.")

    def values():
        out = run()
        got = np.asarray(out)
        if got.dtype == bool and np.array_equal(got, want):
            return
        if np.array_equal(np.asarray(got, np.float64), (A == 0).mean(axis=0)):
            raise _Fail(
                "you returned the fraction of examples on which each unit is 0: a unit is dead only when it is "
                "0 on EVERY example: compare with 0, then ask whether all rows agree, column by column (axis=0); "
                "one boolean per unit."
            )
        if np.array_equal(got, (A == 0).any(axis=0)):
            raise _Fail(
                "your units count as dead when they are 0 on ANY example; a living ReLU unit is 0 on about "
                "half of them. Dead means 0 on every example: all, not any."
            )
        if not got.any():
            raise _Fail(
                "no unit came out dead, but units 1 and 3 are 0 on every example. ReLU outputs are never "
                "negative, so test A == 0 (not A < 0), on every example of a column."
            )
        if got.dtype != bool and np.array_equal(got.astype(bool), want):
            raise _Fail(
                f"the right units, but as {got.dtype}: return booleans (a comparison gives them), so that "
                f"dead.mean() is the fraction and A[:, ~dead] the living units."
            )
        raise _Fail(f"for this A the dead units are {want.tolist()}; yours gave {got.tolist()}.")

    def none_dead():
        out = run(np.ones((3, 4), np.float32))
        if np.asarray(out).any():
            raise _Fail("on A = np.ones((3, 4)) no unit is dead, but yours says some are.")

    return _run(
        "dead_units",
        [
            ("one value per unit", shape),
            ("True exactly for the units that are 0 on every example", values),
            ("no dead unit where every output is positive", none_dead),
        ],
        hint_on_error="run dead_units(np.array([[0., 1.], [0., 0.]])) yourself: the answer is [True, False].",
    )


# -- learning rate too high, too low -------------------------------------------------------------------------


def check_fix_best_lr(best_lr) -> CheckResult:
    """``best_lr(sweep_acc) -> lr``: from ``{lr: [validation accuracy of each seed]}``, the learning rate whose LOWEST
    accuracy over the seeds is the highest (a rate must train on every seed); the dict is left unchanged."""
    pick = _theirs(best_lr)

    def run(sweep):
        before = {k: list(v) for k, v in sweep.items()}
        out = pick(sweep)
        if {k: list(v) for k, v in sweep.items()} != before:
            raise _Fail("your function changed sweep_acc (sorted a list in place?): only read it.")
        if isinstance(out, (bool, np.bool_)) or not isinstance(out, numbers.Real):
            raise _Fail(
                f"best_lr must return a learning rate, one of the keys of sweep_acc; yours returned {_what(out)}."
            )
        if out not in sweep:
            values = [a for accs in sweep.values() for a in accs] + [min(a) for a in sweep.values()]
            if any(np.isclose(out, v) for v in values) or any(np.isclose(out, np.mean(a)) for a in sweep.values()):
                raise _Fail(
                    f"you returned {out:g}, an accuracy: return the learning rate (the dict's key) whose "
                    f"lowest accuracy is the highest."
                )
            raise _Fail(f"you returned {out:g}, which is not one of the learning rates tried ({sorted(sweep)}).")
        return out

    def clear():
        sweep = {0.001: [0.14, 0.11, 0.22], 0.01: [0.64, 0.69, 0.70], 0.1: [0.87, 0.88, 0.88], 3.0: [0.11, 0.10, 0.10]}
        out = run(sweep)
        if out == 0.1:
            return
        if out == 3.0:
            raise _Fail(
                "you chose the highest learning rate, 3.0, where every seed stayed near 10%: compare the "
                "accuracies, not the rates (max over the keys is not the answer)."
            )
        if out == 0.001:
            raise _Fail(
                "you chose the smallest learning rate, where the network hardly learned: compare the "
                "accuracies, not the rates."
            )
        raise _Fail(f"for {sweep} you chose {out}; the rate whose worst seed does best is 0.1.")

    def worst_seed():
        sweep = {0.5: [0.95, 0.96, 0.70], 0.1: [0.86, 0.85, 0.87], 0.01: [0.70, 0.72, 0.71]}
        out = run(sweep)
        if out == 0.1:
            return
        if out == 0.5:
            raise _Fail(
                "for rates whose accuracies over three seeds are 0.5: [0.95, 0.96, 0.70] and 0.1: [0.86, 0.85, "
                "0.87] you chose 0.5: by the mean (0.87 against 0.86) or by the best seed. A rate that "
                "fails on one seed in three is not a fix: choose by the LOWEST accuracy over the seeds, "
                "for each rate take its lowest accuracy over the seeds, then return the rate whose lowest is highest."
            )
        raise _Fail(f"for {sweep} you chose {out}; the rate whose lowest accuracy is highest is 0.1.")

    def arrays():
        sweep = {0.3: np.array([0.80, 0.82]), 0.03: np.array([0.75, 0.77]), 1.0: np.array([0.81, 0.40])}
        out = run(sweep)
        if out != 0.3:
            raise _Fail(
                f"with NumPy arrays of accuracies and the rates in no particular order you chose {out}; "
                f"expected 0.3 (its lowest accuracy, 0.80, is the highest)."
            )

    def smallest_wins():
        sweep = {0.01: [0.91, 0.90], 0.1: [0.85, 0.80], 1.0: [0.10, 0.11]}
        out = run(sweep)
        if out != 0.01:
            raise _Fail(
                f"for {sweep} you chose {out}; expected 0.01, the rate whose lowest accuracy (0.90) is the "
                f"highest. Compare min(sweep_acc[lr]) over the rates."
            )

    return _run(
        "best_lr",
        [
            ("a clear winner", clear),
            ("the smallest rate can be the best", smallest_wins),
            ("a rate that fails on one seed is not chosen", worst_seed),
            ("arrays of accuracies, rates in any order", arrays),
        ],
        hint_on_error="run best_lr({0.1: [0.8, 0.9], 1.0: [0.1, 0.9]}) yourself: the answer is 0.1.",
    )
