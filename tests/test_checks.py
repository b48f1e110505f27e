"""nnlib.checks: every check passes on nnlib's own piece and fails, with its intended hint, on typical
wrong versions; a stub that raises NotImplementedError is reported as not implemented yet."""

import functools
import inspect

import numpy as np
import pytest

import nnlib
from nnlib import checks

from checking import fails, passes, stub, verdict  # tests/checking.py


# -- one_hot ----------------------------------------------------------------------------------


def test_one_hot(capsys):
    assert passes(capsys, checks.check_one_hot, nnlib.one_hot).startswith("one_hot: 5 checks passed")
    fails(
        capsys,
        checks.check_one_hot,
        lambda y, num_classes=10: nnlib.one_hot(y, num_classes).T,
        hint="Rows are examples",
    )
    fails(
        capsys,
        checks.check_one_hot,
        lambda y, num_classes=10: np.eye(num_classes)[np.asarray(y)].astype(int),
        hint="return floats",
    )
    fails(
        capsys,
        checks.check_one_hot,
        lambda y, num_classes=10: np.eye(num_classes)[np.asarray(y)],
        hint="A label of -1 silently becomes class 9",
    )
    fails(
        capsys,
        checks.check_one_hot,
        lambda y, num_classes=10: np.eye(num_classes)[(np.asarray(y) + 1) % num_classes],
        hint="row i must have its 1 in column y[i]",
    )

    def off_by_one(y, num_classes=10):
        y = np.asarray(y)
        if np.any(y < 0) or np.any(y > num_classes):  # should be >=: label 10 reaches the indexing
            raise ValueError("label out of range")
        return np.eye(num_classes)[y]

    def scalar_if(y, num_classes=10):
        y = np.asarray(y)
        if y < 0 or y >= num_classes:  # ambiguous for an array of labels
            raise ValueError("label out of range")
        return np.eye(num_classes)[y]

    fails(capsys, checks.check_one_hot, off_by_one, hint="Check y >= num_classes (not y > num_classes)")
    fails(capsys, checks.check_one_hot, scalar_if, hint="np.any(y < 0)")


# -- sigmoid, softmax, cross-entropy --------------------------------------------------------------


def test_sigmoid(capsys):
    passes(capsys, checks.check_sigmoid, nnlib.sigmoid)
    fails(
        capsys,
        checks.check_sigmoid,
        lambda Z: 1 / (1 + np.exp(-np.asarray(Z, dtype=float))),
        hint="np.exp(-z) overflows for z = -1000",
    )
    fails(capsys, checks.check_sigmoid, lambda Z: 1 / (1 + np.exp(np.clip(Z, -500, 500))), hint="with a minus sign")

    def swapped(Z):  # the two stable formulas in the wrong branches: 1 - sigmoid(z) everywhere
        Z = np.asarray(Z, dtype=float)
        E = np.exp(-np.abs(Z))
        return np.where(Z >= 0, E / (1 + E), 1 / (1 + E))

    fails(capsys, checks.check_sigmoid, swapped, hint="1 / (1 + E) is for z >= 0")


def test_softmax(capsys):
    passes(capsys, checks.check_softmax, nnlib.softmax)

    def wrong_axis(Z):
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=0, keepdims=True)

    def overflowing(Z):
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True)

    def plus_epsilon(Z):
        E = np.exp(Z - Z.max(axis=1, keepdims=True) + 1e-5)
        return E / (E.sum(axis=1, keepdims=True) + 1e-2)

    fails(capsys, checks.check_softmax, wrong_axis, hint="your columns do: sum over axis=1")
    fails(capsys, checks.check_softmax, overflowing, hint="subtract each row's maximum first")
    fails(capsys, checks.check_softmax, plus_epsilon, hint="each row of P must sum to 1")

    def global_max(Z):
        E = np.exp(Z - np.max(Z))
        return E / E.sum(axis=1, keepdims=True)

    def column_max(Z):
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    fails(capsys, checks.check_softmax, global_max, hint="maximum of the whole array")
    fails(capsys, checks.check_softmax, column_max, hint="you subtract each column's maximum (axis=0)")


def test_cross_entropy(capsys):
    passes(capsys, checks.check_cross_entropy, nnlib.cross_entropy)
    fails(
        capsys,
        checks.check_cross_entropy,
        lambda P, Y: -np.sum(Y * np.log(np.clip(P, 1e-12, 1))),
        hint="divide by the number of examples N",
    )
    fails(
        capsys,
        checks.check_cross_entropy,
        lambda P, Y: np.sum(Y * np.log(np.clip(P, 1e-12, 1))) / len(P),
        hint="the minus sign",
    )
    fails(
        capsys, checks.check_cross_entropy, lambda P, Y: -np.sum(Y * np.log(P)) / len(P), hint="clip the probabilities"
    )
    fails(
        capsys,
        checks.check_cross_entropy,
        lambda P, Y: -np.mean(Y * np.log(np.clip(P, 1e-12, 1))),
        hint="4 times too small for 4 classes",
    )


# -- backprop -------------------------------------------------------------------------------------


def _forward_example(params, x):
    a1 = nnlib.sigmoid(x @ params["W1"] + params["b1"])
    a2 = nnlib.sigmoid(a1 @ params["W2"] + params["b2"])
    a3 = nnlib.softmax((a2 @ params["W3"] + params["b3"])[None])[0]
    return a3, (x, a1, a2, a3)


def _backward_example(params, cache, y, transpose=False, bias_wrong=False):
    x, a1, a2, a3 = cache
    d3 = a3 - y
    d2 = (params["W3"] @ d3) * a2 * (1 - a2)
    d1 = (params["W2"] @ d2) * a1 * (1 - a1)
    outer = (lambda a, d: np.outer(d, a)) if transpose else np.outer
    return {
        "W1": outer(x, d1),
        "b1": d1 * (x.sum() if bias_wrong else 1),
        "W2": outer(a1, d2),
        "b2": d2,
        "W3": outer(a2, d3),
        "b3": d3,
    }


def test_backward_example(capsys):
    passes(capsys, checks.check_backward_example, _forward_example, _backward_example)
    fails(
        capsys,
        checks.check_backward_example,
        _forward_example,
        lambda p, c, y: _backward_example(p, c, y, transpose=True),
        hint="np.outer(a_prev, delta)",
    )
    fails(
        capsys,
        checks.check_backward_example,
        _forward_example,
        lambda p, c, y: _backward_example(p, c, y, bias_wrong=True),
        hint="a bias's input is 1",
    )
    fails(
        capsys,
        checks.check_backward_example,
        _forward_example,
        lambda p, c, y: {k: v for k, v in _backward_example(p, c, y).items() if k != "b2"},
        hint="lack ['b2']",
    )

    def column_convention(params, cache, y):  # Nielsen's W.T @ delta on our (n_in, n_out) weights
        x, a1, a2, a3 = cache
        d3 = a3 - y
        d2 = (params["W3"].T @ d3) * a2 * (1 - a2)
        d1 = (params["W2"].T @ d2) * a1 * (1 - a1)
        return {"W1": np.outer(x, d1), "b1": d1, "W2": np.outer(a1, d2), "b2": d2, "W3": np.outer(a2, d3), "b3": d3}

    fails(capsys, checks.check_backward_example, _forward_example, column_convention, hint="not W.T @ delta")


def test_a_strict_check_raises_with_its_hint_and_a_passing_one_returns_true(capsys, monkeypatch):
    monkeypatch.delenv("NNLIB_GRADING", raising=False)
    wrong = lambda Z: np.exp(Z) / np.exp(Z).sum()  # noqa: E731 (sums over everything)
    assert not checks.check_softmax(wrong)  # prints, returns false, goes on
    with pytest.raises(AssertionError, match="Hint: each row of P must sum to 1"):
        checks.check_softmax(wrong, strict=True)
    assert checks.check_softmax(nnlib.softmax, strict=True)
    assert "5 checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("value, raises", [("1", True), ("0", False), ("", False)])
def test_nnlib_grading_makes_every_check_strict_a_stub_included(monkeypatch, capsys, value, raises):
    monkeypatch.setenv("NNLIB_GRADING", value)

    def stub(*args):
        raise NotImplementedError()

    for name in checks.__all__:
        if not name.startswith("check_"):
            continue
        check = getattr(checks, name)
        if name == "check_exercise":  # check_exercise("NN.k", answer): one exercise stands for all
            args = ["02.1", stub]
        else:
            args = [stub] * len(inspect.signature(inspect.unwrap(check)).parameters)
        if raises:
            with pytest.raises(AssertionError, match="not implemented yet|failed on"):
                check(*args)
        else:
            assert not check(*args)
        assert check(*args, strict=False).passed is False


def _forward(params, X, hidden="relu"):
    L = len(params) // 2
    g = nnlib.relu if hidden == "relu" else nnlib.sigmoid
    A, cache = X, {"A0": X}
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        A = nnlib.softmax(Z) if l == L else g(Z)
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return A, cache


def _backward(
    params,
    cache,
    Y,
    hidden="relu",
    per_layer_N=False,
    no_N=False,
    W_for_WT=False,
    relu_at_A=False,
    always_relu=False,
    grad_at_A=False,
):
    L, N = len(params) // 2, len(Y)
    grads = {}
    dZ = (cache[f"A{L}"] - Y) / (1 if no_N else N)
    for l in range(L, 0, -1):
        grads[f"W{l}"] = cache[f"A{l - 1}"].T @ dZ / (N if per_layer_N and l < L else 1)
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            W = params[f"W{l}"]
            dA = dZ @ (W if W_for_WT else W.T)
            if hidden == "sigmoid" and not always_relu:
                at = cache[f"A{l - 1}"] if grad_at_A else cache[f"Z{l - 1}"]
                dZ = dA * nnlib.sigmoid_grad(at)
                continue
            mask = (cache[f"A{l - 1}"] > 0.2) if relu_at_A else (cache[f"Z{l - 1}"] > 0)
            dZ = dA * mask
    return grads


def test_forward_backward(capsys):
    passes(capsys, checks.check_forward_backward, _forward, _backward)
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,
        lambda p, c, Y, hidden="relu": _backward(p, c, Y, hidden, no_N=True),
        hint="dW should be divided by N",
    )
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,
        lambda p, c, Y, hidden="relu": _backward(p, c, Y, hidden, per_layer_N=True),
        hint="4 times too small",
    )
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,
        lambda p, c, Y, hidden="relu": _backward(p, c, Y, hidden, W_for_WT=True),
        hint="dZ @ W.T (W's transpose)",
    )
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,  # dW = dZ.T @ A_prev: the transpose of W's shape
        lambda p, c, Y, hidden="relu": {k: (v.T if k[0] == "W" else v) for k, v in _backward(p, c, Y, hidden).items()},
        hint="For dW write A_prev.T @ dZ",
    )
    fails(
        capsys,
        checks.check_forward_backward,
        lambda p, X, hidden="relu": (_forward(p, X)[0].T, None),
        _backward,
        hint="Rows are examples",
    )
    # the sigmoid network: ReLU's derivative whatever hidden is, or g' taken at A instead of Z
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,
        lambda p, c, Y, hidden="relu": _backward(p, c, Y, hidden, always_relu=True),
        hint="ACTIVATIONS[hidden][1] (not ReLU's whatever hidden is)",
    )
    fails(
        capsys,
        checks.check_forward_backward,
        _forward,
        lambda p, c, Y, hidden="relu": _backward(p, c, Y, hidden, grad_at_A=True),
        hint="evaluated at the layer's pre-activation Z",
    )


# -- He init --------------------------------------------------------------------------------------


def test_he(capsys):
    passes(capsys, checks.check_he, nnlib.init.he)
    fails(
        capsys,
        checks.check_he,
        lambda n_in, n_out, rng: (rng.standard_normal((n_in, n_out)) * np.sqrt(1 / n_in), np.zeros(n_out)),
        hint="ReLU zeroes about half",
    )
    fails(
        capsys,
        checks.check_he,
        lambda n_in, n_out, rng: (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_out), np.zeros(n_out)),
        hint="not by n_out",
    )
    fails(
        capsys,
        checks.check_he,
        lambda n_in, n_out, rng: (rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in), np.zeros(n_out)),
        hint="one row per input",
    )
    fails(
        capsys,
        checks.check_he,
        lambda n_in, n_out, rng: (
            np.random.default_rng().standard_normal((n_in, n_out)) * np.sqrt(2 / n_in),
            np.zeros(n_out),
        ),
        hint="draw from the rng you are given",
    )


# -- mini-batches ---------------------------------------------------------------------------------


def test_minibatches(capsys):
    passes(capsys, checks.check_minibatches, nnlib.minibatches)

    def drops_last(X, Y, batch_size, rng):
        order = rng.permutation(len(X))
        for i in range(0, len(X) - batch_size + 1, batch_size):
            yield X[order[i : i + batch_size]], Y[order[i : i + batch_size]]

    def unpaired(X, Y, batch_size, rng):
        ox, oy = rng.permutation(len(X)), rng.permutation(len(X))
        for i in range(0, len(X), batch_size):
            yield X[ox[i : i + batch_size]], Y[oy[i : i + batch_size]]

    def unshuffled(X, Y, batch_size, rng):
        for i in range(0, len(X), batch_size):
            yield X[i : i + batch_size], Y[i : i + batch_size]

    def with_replacement(X, Y, batch_size, rng):
        idx = rng.integers(0, len(X), len(X))
        for i in range(0, len(X), batch_size):
            yield X[idx[i : i + batch_size]], Y[idx[i : i + batch_size]]

    fails(capsys, checks.check_minibatches, drops_last, hint="keep the final, smaller batch")
    fails(capsys, checks.check_minibatches, unpaired, hint="shuffle both with the same permutation")
    fails(capsys, checks.check_minibatches, unshuffled, hint="shuffle them with rng.permutation")
    fails(capsys, checks.check_minibatches, with_replacement, hint="exactly once per epoch")

    def global_random(X, Y, batch_size, rng):  # np.random, not the rng given: not reproducible
        order = np.random.permutation(len(X))
        for i in range(0, len(X), batch_size):
            yield X[order[i : i + batch_size]], Y[order[i : i + batch_size]]

    fails(capsys, checks.check_minibatches, global_random, hint="not from np.random")


# -- the training loop (06) -----------------------------------------------------------------------


def _train_epoch(
    model,
    X,
    Y,
    optimizer,
    batch_size,
    rng,
    mean_of_means=False,
    drop_last=False,
    shuffle=True,
    seed=None,
    copy_params=False,
    step_once=False,
):
    if seed is not None:
        rng = np.random.default_rng(seed)  # a fresh generator each epoch: the same order every epoch
    params = {k: v.copy() for k, v in model.params.items()} if copy_params else model.params
    losses, sizes = [], []
    for Xb, Yb in nnlib.minibatches(X, Y, batch_size, rng, shuffle=shuffle):
        if drop_last and len(Xb) < batch_size:
            break
        loss, grads, _ = model.loss_and_grads(Xb, Yb)
        if not step_once:
            optimizer.step(params, grads)
        losses.append(loss)
        sizes.append(len(Xb))
    if step_once:
        optimizer.step(params, grads)
    if mean_of_means:
        return float(np.mean(losses))
    return float(np.dot(losses, sizes)) / sum(sizes)


def _wrong_epoch(**how):
    return lambda model, X, Y, optimizer, batch_size, rng: _train_epoch(model, X, Y, optimizer, batch_size, rng, **how)


def test_train_epoch(capsys):
    assert passes(capsys, checks.check_train_epoch, _train_epoch).startswith("train_epoch: 6 checks passed")
    fails(capsys, checks.check_train_epoch, _wrong_epoch(mean_of_means=True), hint="plain mean of the 3 batch losses")
    fails(
        capsys,
        checks.check_train_epoch,
        _wrong_epoch(drop_last=True),
        hint="the last, smaller batch (2 rows) was dropped",
    )
    fails(capsys, checks.check_train_epoch, _wrong_epoch(shuffle=False), hint="the rows come in their original order")
    fails(capsys, checks.check_train_epoch, _wrong_epoch(seed=0), hint="pass the rng you are given")
    fails(capsys, checks.check_train_epoch, _wrong_epoch(copy_params=True), hint="pass model.params itself")
    fails(capsys, checks.check_train_epoch, _wrong_epoch(step_once=True), hint="inside the loop, once per batch")


def test_train_epoch_stub_and_error(capsys):
    ok, out = verdict(capsys, checks.check_train_epoch, stub)
    assert ok.passed is False and "not implemented yet" in out and "Traceback" not in out

    def unpacks_two(model, X, Y, optimizer, batch_size, rng):
        for Xb, Yb in nnlib.minibatches(X, Y, batch_size, rng):
            loss, grads = model.loss_and_grads(Xb, Yb)

    ok, out = verdict(capsys, checks.check_train_epoch, unpacks_two)
    assert ok.passed is False and "ValueError" in out and "loss_and_grads(Xb, Yb)" in out


# -- optimisers -----------------------------------------------------------------------------------


class _Momentum:
    def __init__(self, lr, beta=0.9, classical=False, shared=False, forget=False):
        self.lr, self.beta, self.v = lr, beta, {}
        self.classical, self.shared, self.forget = classical, shared, forget

    def step(self, params, grads):
        for k in params:
            key = params[k].shape if self.shared else k
            v = 0 if self.forget else self.v.get(key, 0)
            self.v[key] = self.beta * v + (1 if self.classical else 1 - self.beta) * grads[k]
            params[k] -= self.lr * self.v[key]


def test_momentum(capsys):
    passes(capsys, checks.check_momentum, nnlib.Momentum)
    passes(capsys, checks.check_momentum, _Momentum)
    fails(capsys, checks.check_momentum, lambda lr, beta: _Momentum(lr, beta, classical=True), hint="classical form")
    fails(
        capsys,
        checks.check_momentum,
        lambda lr, beta: _Momentum(lr, beta, forget=True),
        hint="keep one v per parameter",
    )
    fails(capsys, checks.check_momentum, lambda lr, beta: _Momentum(lr, beta, shared=True), hint="share one velocity")

    class StepsFirst(_Momentum):  # p -= lr * v with the old v, then v updated: the first step moves nothing
        def step(self, params, grads):
            for k in params:
                params[k] -= self.lr * self.v.get(k, 0)
                self.v[k] = self.beta * self.v.get(k, 0) + (1 - self.beta) * grads[k]

    class WithG(_Momentum):  # v kept, but the step uses g
        def step(self, params, grads):
            for k in params:
                self.v[k] = self.beta * self.v.get(k, 0) + (1 - self.beta) * grads[k]
                params[k] -= self.lr * grads[k]

    class OneV:  # one velocity for all parameters
        def __init__(self, lr, beta):
            self.lr, self.beta, self.v = lr, beta, 0

        def step(self, params, grads):
            for k in params:
                self.v = self.beta * self.v + (1 - self.beta) * grads[k]
                params[k] -= self.lr * self.v

    class NoStart(_Momentum):  # v[k] read before it exists
        def step(self, params, grads):
            for k in params:
                self.v[k] = self.beta * self.v[k] + (1 - self.beta) * grads[k]
                params[k] -= self.lr * self.v[k]

    fails(capsys, checks.check_momentum, StepsFirst, hint="update v first, then step with the new")
    fails(capsys, checks.check_momentum, WithG, hint="step with v, not with g")
    fails(capsys, checks.check_momentum, OneV, hint="cannot share one velocity")
    fails(capsys, checks.check_momentum, NoStart, hint="start each velocity at zero")


class _Adam:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, correct=True, fixed_t=False, uphill=False):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.s, self.t = {}, {}, 0
        self.correct, self.fixed_t, self.uphill = correct, fixed_t, uphill

    def step(self, params, grads):
        self.t = 1 if self.fixed_t else self.t + 1
        for k, g in grads.items():
            self.m[k] = self.beta1 * self.m.get(k, 0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0) + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1**self.t) if self.correct else self.m[k]
            s_hat = self.s[k] / (1 - self.beta2**self.t) if self.correct else self.s[k]
            params[k] += (1 if self.uphill else -1) * self.lr * m_hat / (np.sqrt(s_hat) + self.eps)


def test_adam(capsys):
    passes(capsys, checks.check_adam, nnlib.Adam)
    passes(capsys, checks.check_adam, _Adam)
    fails(capsys, checks.check_adam, lambda *a: _Adam(*a, correct=False), hint="without bias correction")
    fails(capsys, checks.check_adam, lambda *a: _Adam(*a, fixed_t=True), hint="the step count t")
    fails(capsys, checks.check_adam, lambda *a: _Adam(*a, uphill=True), hint="uphill")


# -- layers ---------------------------------------------------------------------------------------


class _Linear(nnlib.Linear):
    wrong = None

    def backward(self, dZ, cache, need_dX=True):
        X, W = cache, self.params["W"]
        dW = X.T @ dZ
        if self.wrong == "no_transpose_in_dX":
            return dZ @ W
        self.grads = {
            "W": dZ.T @ X if self.wrong == "dW_transposed" else dW,
            "b": dZ.mean(axis=0) if self.wrong == "db_mean" else dZ.sum(axis=0),
        }
        return dZ @ W.T


def _linear(wrong):
    return type(f"Linear_{wrong}", (_Linear,), {"wrong": wrong})


class _ReLU(nnlib.ReLU):
    def backward(self, dA, cache, need_dX=True):
        return dA * (cache > 1.0)  # the gradient's mask in the wrong place


def test_layer(capsys):
    passes(capsys, checks.check_layer, nnlib.Linear, 5, 3)
    passes(capsys, checks.check_layer, nnlib.ReLU)
    passes(capsys, checks.check_layer, nnlib.Sigmoid)
    fails(capsys, checks.check_layer, _linear("dW_transposed"), 5, 3, hint="A_prev.T @ dZ")
    fails(capsys, checks.check_layer, _linear("db_mean"), 5, 3, hint="summed over the rows")
    fails(
        capsys, checks.check_layer, _linear("no_transpose_in_dX"), 4, 4, hint="you used W where its transpose belongs"
    )
    # not square: dZ @ W fails inside the learner's backward; the hint still names the transpose
    fails(capsys, checks.check_layer, _linear("no_transpose_in_dX"), 5, 3, hint="W where W.T belongs")


def test_a_check_returns_a_result_that_a_notebook_does_not_display(capsys):
    ok = checks.check_softmax(nnlib.softmax)
    assert ok and ok.passed and ok.message == capsys.readouterr().out.strip() == "softmax: 5 checks passed"
    assert repr(ok) == "CheckResult(passed=True)"
    from IPython.core.formatters import DisplayFormatter

    assert DisplayFormatter().format(ok) == ({}, {})  # no Out[...]: with or without `;`, under nbval too
    assert not checks.check_softmax(lambda Z: Z)
    fails(capsys, checks.check_layer, _ReLU, hint="passes where the input Z > 0")


# -- stubs and errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check, pieces",
    [
        (checks.check_one_hot, [stub]),
        (checks.check_sigmoid, [stub]),
        (checks.check_softmax, [stub]),
        (checks.check_cross_entropy, [stub]),
        (checks.check_backward_example, [_forward_example, stub]),
        (checks.check_forward_backward, [stub, stub]),
        (checks.check_he, [stub]),
        (checks.check_minibatches, [stub]),
        (checks.check_momentum, [stub]),
        (checks.check_adam, [stub]),
    ],
)
def test_a_stub_is_not_implemented_yet(capsys, check, pieces):
    ok, out = verdict(capsys, check, *pieces)
    assert ok.passed is False
    assert "not implemented yet" in out and "Traceback" not in out


def test_a_layer_stub_is_not_implemented_yet(capsys):
    class Stub(nnlib.Linear):
        def forward(self, X, training=False):
            raise NotImplementedError()

    ok, out = verdict(capsys, checks.check_layer, Stub, 4, 3)
    assert ok.passed is False and "not implemented yet" in out


def test_an_error_in_the_learners_code_is_reported_with_its_case(capsys):
    ok, out = verdict(capsys, checks.check_softmax, lambda Z: Z.nonexistent())
    assert ok.passed is False
    assert 'failed on "shape (N, C)"' in out and "AttributeError" in out


class _CopyingMomentum:
    """Right values, but a new array in the dict each step instead of an in-place update."""

    def __init__(self, lr, beta=0.9):
        self.lr, self.beta, self.v = lr, beta, {}

    def step(self, params, grads):
        for k in params:
            self.v[k] = self.beta * self.v.get(k, 0) + (1 - self.beta) * grads[k]
            params[k] = params[k] - self.lr * self.v[k]


def test_an_optimiser_that_replaces_the_arrays_fails_with_the_in_place_hint(capsys):
    fails(capsys, checks.check_momentum, _CopyingMomentum, hint="update it in place")
    passes(capsys, checks.check_momentum, nnlib.Momentum)
    passes(capsys, checks.check_adam, nnlib.Adam)


# -- every check passes on nnlib's own pieces -----------------------------------------------------

LAYER_ARGS = {
    "Linear": (5, 3),
    "ReLU": (),
    "Sigmoid": (),
    "Dropout": (0.5,),
    "BatchNorm": (5,),
    "SoftmaxCrossEntropy": (),
    "MeanSquaredError": (),
    "Conv2D": (2, 3, 3, 1, 1),
    "MaxPool2D": (2,),
    "Flatten": (),
}  # Conv2D: stride 1, padding 1
LAYER_INPUT_SHAPES = {"Conv2D": (2, 5, 5), "MaxPool2D": (2, 4, 6), "Flatten": (2, 3, 3)}  # else rows of 6


def test_every_layer_nnlib_defines_is_in_the_list_below():
    import nnlib.conv  # noqa: F401  (its layers register themselves when it is imported)
    from nnlib import layers

    # every Layer subclass registers itself (the tests' own wrong versions too): nnlib's are in its modules
    own = {name for name, cls in layers.LAYER_TYPES.items() if cls.__module__.startswith("nnlib.")}
    assert own == set(LAYER_ARGS)


@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_check_layer_passes_every_nnlib_layer(capsys, name):
    import nnlib.conv  # noqa: F401
    from nnlib import layers

    check = functools.partial(checks.check_layer, input_shape=LAYER_INPUT_SHAPES.get(name))
    passes(capsys, check, layers.LAYER_TYPES[name], *LAYER_ARGS[name])
    passes(capsys, check, layers.LAYER_TYPES[name], *LAYER_ARGS[name])  # and again: nothing left over


OWN_PIECES = {
    "check_one_hot": [nnlib.one_hot],
    "check_sigmoid": [nnlib.sigmoid],
    "check_softmax": [nnlib.softmax],
    "check_cross_entropy": [nnlib.cross_entropy],
    "check_backward_example": [nnlib.networks.forward_example, nnlib.networks.backward_example],
    "check_forward_backward": [_forward, _backward],  # nnlib.softmax and ReLU, the layers' formulas
    "check_he": [nnlib.init.he],
    "check_minibatches": [nnlib.minibatches],
    "check_train_epoch": [_train_epoch],  # nnlib.minibatches, loss_and_grads and step
    "check_momentum": [nnlib.Momentum],
    "check_adam": [nnlib.Adam],
}


def test_every_check_passes_nnlibs_own_piece(capsys):
    conv = {"check_conv_forward", "check_im2col", "check_conv_backward", "check_maxpool"}  # tests/test_checks_conv.py
    elsewhere = {  # tested in their own files: tests/test_checks_<part>.py
        *("check_loss_and_grad", "check_gd_step"),  # gradient_descent
        "check_dropout",  # regularisation
        *("check_batchnorm_forward", "check_batchnorm_backward"),  # batchnorm
        *(name for name in checks.__all__ if name.startswith("check_fix_")),  # debugging
        "check_exercise",  # exercises
    }
    assert set(OWN_PIECES) | {"check_layer"} | conv | elsewhere == {
        name for name in checks.__all__ if name.startswith("check_")
    }
    for name, pieces in OWN_PIECES.items():
        passes(capsys, getattr(checks, name), *pieces)


# -- an error in the check's own code is not the learner's ---------------------------------------


def _broken(*args, **kwargs):
    raise ZeroDivisionError("a bug in the check")


@pytest.mark.parametrize(
    "internal, check, pieces",
    [  # internal: a helper of the module the check lives in
        ("functions._softmax", checks.check_softmax, [nnlib.softmax]),
        ("optimisers._close", checks.check_momentum, [nnlib.Momentum]),
        ("layers.numerical_gradient", checks.check_layer, [nnlib.Linear, 5, 3]),
        (
            "backprop.numerical_gradient",
            checks.check_backward_example,
            [nnlib.networks.forward_example, nnlib.networks.backward_example],
        ),
    ],
)
def test_an_error_in_the_checks_own_code_is_not_blamed_on_the_learner(capsys, monkeypatch, internal, check, pieces):
    monkeypatch.setattr(f"nnlib.checks.{internal}", _broken)
    with pytest.raises(ZeroDivisionError, match="a bug in the check"):
        check(*pieces)
    assert "your code raised" not in capsys.readouterr().out


def _batches_then_error(X, Y, batch_size, rng):
    yield X[:batch_size], Y[:batch_size]
    raise KeyError("in the second batch")


class _StepError(nnlib.Momentum):
    def step(self, params, grads):
        raise KeyError("in step")


class _BackwardError(nnlib.Linear):
    def backward(self, dZ, cache, need_dX=True):
        raise KeyError("in backward")


class _InitError(nnlib.Linear):
    def __init__(self, *args):
        raise KeyError("in __init__")


@pytest.mark.parametrize(
    "check, pieces, where",
    [
        (checks.check_minibatches, [_batches_then_error], "in the second batch"),
        (checks.check_momentum, [_StepError], "in step"),
        (checks.check_adam, [lambda *args: _StepError(0.1)], "in step"),
        (checks.check_layer, [_BackwardError, 5, 3], "in backward"),
        (checks.check_layer, [_InitError, 5, 3], "in __init__"),
        (checks.check_backward_example, [nnlib.networks.forward_example, lambda *args: {}["W1"]], "W1"),
    ],
)
def test_an_error_anywhere_in_the_learners_code_is_reported_as_theirs(capsys, check, pieces, where):
    ok, out = verdict(capsys, check, *pieces)
    assert ok.passed is False and f"your code raised KeyError: '{where}'" in out and "Hint:" in out


@pytest.mark.parametrize(
    "check, pieces, hint",
    [
        (
            checks.check_cross_entropy,
            [lambda P, Y: -np.sum(Y * np.log(P), axis=1)],
            "return one number, the mean over the rows; yours returned an array of shape (5,)",
        ),
        (
            checks.check_backward_example,
            [nnlib.networks.forward_example, lambda params, cache, y: None],
            "backward_example must return a dict of gradients keyed like params; yours returned None",
        ),
        (
            checks.check_backward_example,
            [lambda params, x: nnlib.networks.forward_example(params, x)[0], nnlib.networks.backward_example],
            "forward_example must return a pair (a3, cache); yours returned an array of shape (3,)",
        ),
        (
            checks.check_forward_backward,
            [lambda params, X: _forward(params, X)[0], _backward],
            "forward must return a pair (P, cache); yours returned an array of shape (4, 2)",
        ),
        (
            checks.check_forward_backward,
            [_forward, lambda params, cache, Y: None],
            "backward must return a dict of gradients keyed like params; yours returned None",
        ),
        (
            checks.check_he,
            [lambda n_in, n_out, rng: nnlib.init.he(n_in, n_out, rng)[0]],
            "he must return a pair (W, b); yours returned an array of shape (784, 200)",
        ),
        (
            checks.check_minibatches,
            [lambda X, Y, size, rng: (X[i : i + size] for i in range(0, len(X), size))],
            "minibatches must yield pairs (X_batch, Y_batch); yours yielded an array of shape (4, 2)",
        ),
    ],
)
def test_a_result_of_the_wrong_kind_gets_a_hint_not_a_crash(capsys, check, pieces, hint):
    fails(capsys, check, *pieces, hint=hint)


class _DropoutNoMask(nnlib.Dropout):
    def backward(self, dA, cache, need_dX=True):
        return dA  # forgets the mask


class _BatchNormConstantStats(nnlib.BatchNorm):
    def backward(self, dout, cache, need_dX=True):
        xhat, inv_std, _ = cache
        return super().backward(dout, (xhat, inv_std, False), need_dX)  # as if mu and var were constants


class _SoftmaxCrossEntropyNoN(nnlib.SoftmaxCrossEntropy):
    def loss_grad(self, P, Y, cache):
        return self.loss(P, Y, cache), P - Y  # without the / N


def test_check_layer_still_fails_wrong_random_normalising_and_loss_layers(capsys):
    fails(capsys, checks.check_layer, _DropoutNoMask, 0.5, hint="dX differs from the numerical gradient")
    fails(capsys, checks.check_layer, _BatchNormConstantStats, 5, hint="dX differs from the numerical gradient")
    fails(capsys, checks.check_layer, _SoftmaxCrossEntropyNoN, hint="(P - Y) / N")


# -- check_layer takes layers of any input shape --------------------------------------------------


class _Mix(nnlib.layers.Layer):
    """A 1x1 convolution on images (N, C_in, H, W): out[n, f] = sum_c W[f, c] * X[n, c] + b[f]."""

    def __init__(self, c_in, c_out, size=3, wrong=None):
        super().__init__()
        rng = np.random.default_rng(0)
        self.shape, self.wrong = (c_in, size, size), wrong
        self.params = {"W": rng.normal(size=(c_out, c_in, 1, 1)), "b": np.zeros(c_out)}

    @property
    def input_shape(self):  # the per-example shape it takes, as nnlib's layers say it
        return self.shape

    def forward(self, X, training=False):
        return np.einsum("fc,nchw->nfhw", self.params["W"][:, :, 0, 0], X) + self.params["b"][:, None, None], X

    def backward(self, dout, cache, need_dX=True):
        X, W = cache, self.params["W"][:, :, 0, 0]
        dW = np.einsum("nfhw,nchw->fc", dout, X)[:, :, None, None]
        self.grads = {"W": dW * 2 if self.wrong == "dW" else dW, "b": dout.sum(axis=(0, 2, 3))}
        return np.einsum("fc,nfhw->nchw", W.T if self.wrong == "dX" else W, dout)


class _Flatten(nnlib.layers.Layer):
    def __init__(self, wrong=False):
        super().__init__()
        self.wrong = wrong

    def forward(self, X, training=False):
        return X.reshape(len(X), -1), X.shape

    def backward(self, dout, cache, need_dX=True):
        if self.wrong == "values":
            return dout.reshape(cache)[..., ::-1]
        return dout if self.wrong else dout.reshape(cache)


def test_check_layer_checks_a_layer_on_images_with_a_4d_weight(capsys):
    passes(capsys, checks.check_layer, _Mix, 2, 4)  # W (4, 2, 1, 1): its shape[0] is not the input
    passes(capsys, checks.check_layer, _Mix, 3, 3)
    fails(capsys, checks.check_layer, _Mix, 2, 4, 3, "dW", hint="dW differs from the numerical gradient")
    out = fails(capsys, checks.check_layer, _Mix, 3, 3, 3, "dX", hint="dX differs from the numerical gradient")
    assert "your code raised" not in out and "W.T" not in out  # no hint of a matrix layer's X @ W


def test_check_layer_takes_the_input_shape_of_a_layer_without_parameters(capsys):
    on_images = functools.partial(checks.check_layer, input_shape=(1, 4, 4))
    passes(capsys, on_images, _Flatten)
    passes(capsys, checks.check_layer, _Flatten)  # rows of 6 by default
    out = fails(capsys, on_images, _Flatten, True, hint="dX has shape (4, 16) but X has (4, 1, 4, 4)")
    assert "your code raised" not in out and "W.T" not in out
    out = fails(capsys, on_images, _Flatten, "values", hint="dX differs from the numerical gradient")
    assert "Z > 0" not in out and "W.T" not in out  # a hint for ReLU or Linear would mislead


def test_check_layer_asks_for_n_in_instead_of_guessing_it(capsys):
    class NoWidth:  # a linear layer that does not say its input width
        def __init__(self, n_in, n_out):
            self.params = {"W": np.random.default_rng(0).normal(size=(n_in, n_out)), "b": np.zeros(n_out)}

        def forward(self, X, training=False):
            return X @ self.params["W"] + self.params["b"], X

        def backward(self, dout, X):
            self.grads = {"W": X.T @ dout, "b": dout.sum(axis=0)}
            return dout @ self.params["W"].T

    fails(capsys, checks.check_layer, NoWidth, 5, 3, hint="set self.n_in")
    passes(capsys, functools.partial(checks.check_layer, input_shape=5), NoWidth, 5, 3)
    fails(
        capsys, functools.partial(checks.check_layer, input_shape="5"), NoWidth, 5, 3, hint="a positive int or a tuple"
    )


def _epoch_on_a_copied_rng(model, X, Y, optimizer, batch_size, rng):
    """Draws from a copy of rng: each seed its own order, but every epoch of one rng the same order."""
    import copy

    return _train_epoch(model, X, Y, optimizer, batch_size, copy.deepcopy(rng))


def _epoch_with_stale_gradients(model, X, Y, optimizer, batch_size, rng):
    """Every batch's gradients first, at the parameters the epoch started with, then every step."""
    batches = [(Xb, Yb, *model.loss_and_grads(Xb, Yb)) for Xb, Yb in nnlib.minibatches(X, Y, batch_size, rng)]
    for _, _, _, grads, _ in batches:
        optimizer.step(model.params, grads)
    return float(sum(loss * len(Xb) for Xb, _, loss, _, _ in batches)) / len(X)


def test_train_epoch_needs_a_new_order_each_epoch_and_current_gradients(capsys):
    fails(
        capsys,
        checks.check_train_epoch,
        _epoch_on_a_copied_rng,
        hint="two epochs with the same rng saw the rows in the same order",
    )
    fails(
        capsys,
        checks.check_train_epoch,
        _epoch_with_stale_gradients,
        hint="the gradients that model.loss_and_grads has just returned for this batch",
    )
