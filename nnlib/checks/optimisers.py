"""Checks of the optimisers a learner writes: momentum (notebook 08) and Adam (10)."""

from __future__ import annotations

import numpy as np

from ._core import CheckResult, _close, _Fail, _run, _yours


def _trajectory(make, steps, shapes=((3, 2), (2,))):
    rng = np.random.default_rng(7)
    params = {f"p{i}": np.ones(s) for i, s in enumerate(shapes)}
    grads = [
        {k: rng.normal(size=v.shape) * rng.choice([1e-3, 1.0, 50.0]) for k, v in params.items()} for _ in range(steps)
    ]
    opt = _yours(make)
    out = []
    for g in grads:
        _yours(lambda: opt.step(params, {k: v.copy() for k, v in g.items()}))
        out.append({k: v.copy() for k, v in params.items()})
    return out, grads


def _in_place(make):
    """One step must change the arrays of ``params`` themselves, not put new arrays into the dict."""
    params = {"p0": np.ones((3, 2)), "p1": np.ones(2)}
    own = dict(params)
    _yours(lambda: make().step(params, {k: np.full(v.shape, 0.5) for k, v in params.items()}))
    for k, array in own.items():
        if params[k] is not array or np.all(array == 1):
            raise _Fail(
                f"the array params[{k!r}] itself must change: update it in place (p -= lr * ..., or "
                f"p[...] = ...). Putting a new array into the dict leaves the model's own arrays as they "
                f"were (and nnlib's model.params is read-only)."
            )


def check_momentum(Momentum) -> CheckResult:
    """``Momentum(lr, beta)`` with ``step(params, grads)`` in place: v = beta v + (1 - beta) g; p -= lr v."""
    lr, beta = 0.1, 0.8

    def reference(grads):
        p, v, out = {k: np.ones(g.shape) for k, g in grads[0].items()}, {}, []
        for g in grads:
            for k in p:
                v[k] = beta * v.get(k, 0) + (1 - beta) * g[k]
                p[k] = p[k] - lr * v[k]
            out.append({k: x.copy() for k, x in p.items()})
        return out

    def first_step():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 1)
        ref = reference(grads)
        for k in ref[0]:
            if _close(got[0][k], 1 - lr * grads[0][k]):
                raise _Fail(
                    "your first step is lr * g: step with v, not with g, and update v first as "
                    "v = beta v + (1 - beta) g from v = 0, so the first step is lr (1 - beta) g (or did you use "
                    "the classical form v = beta v + g?)."
                )
            if _close(got[0][k], np.ones_like(got[0][k])):
                raise _Fail(
                    "your parameters did not move on the first step: update v first, then step with the new "
                    "v (p -= lr * v); stepping with the old v, which starts at 0, moves nothing."
                )
            if not _close(got[0][k], ref[0][k]):
                raise _Fail("after one step p should be p - lr * (1 - beta) * g, since v starts at zero.")

    def remembers():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 6)
        ref = reference(grads)
        for t, (a, b) in enumerate(zip(got, ref), start=1):
            for k in a:
                if not _close(a[k], b[k]):
                    raise _Fail(
                        f"step {t} differs: keep one v per parameter between steps (e.g. a dict keyed like "
                        f"params, in self), and update it as v = beta * v + (1 - beta) * g."
                    )

    def separate():
        got, grads = _trajectory(lambda: Momentum(lr, beta), 3, shapes=((2, 2), (2, 2)))
        ref = reference(grads)
        if not all(_close(got[-1][k], ref[-1][k]) for k in ref[-1]):
            raise _Fail("two parameters of the same shape share one velocity: keep a separate v for each key.")

    def hint_on_error(error):
        if isinstance(error, ValueError) and "broadcast" in str(error):
            return (
                "the parameters have different shapes, so they cannot share one velocity: keep a separate v for "
                "each key, in a dict keyed like params."
            )
        if isinstance(error, KeyError):
            return (
                "v has no entry for a parameter before its first step: start each velocity at zero, "
                "e.g. self.v.get(k, 0) or np.zeros_like(params[k]) the first time."
            )
        if isinstance(error, TypeError) and "NoneType" in str(error):
            return "a velocity is None: start each one at zero (np.zeros_like(params[k]))."
        return ""

    return _run(
        "momentum",
        [
            ("the first step", first_step),
            ("six steps (v is kept)", remembers),
            ("one velocity per parameter", separate),
            ("the parameters change in place", lambda: _in_place(lambda: Momentum(lr, beta))),
        ],
        hint_on_error,
    )


def check_adam(Adam) -> CheckResult:
    """``Adam(lr, beta1, beta2, eps)`` with ``step(params, grads)``: moments, bias correction with t, in place."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8

    def reference(grads, correct=True):
        p, m, s, out = {k: np.ones(g.shape) for k, g in grads[0].items()}, {}, {}, []
        for t, g in enumerate(grads, start=1):
            for k in p:
                m[k] = b1 * m.get(k, 0) + (1 - b1) * g[k]
                s[k] = b2 * s.get(k, 0) + (1 - b2) * g[k] ** 2
                mh, sh = (m[k] / (1 - b1**t), s[k] / (1 - b2**t)) if correct else (m[k], s[k])
                p[k] = p[k] - lr * mh / (np.sqrt(sh) + eps)
            out.append({k: x.copy() for k, x in p.items()})
        return out

    def first_step():
        got, grads = _trajectory(lambda: Adam(lr, b1, b2, eps), 1)
        for k, g in grads[0].items():
            expected = 1 - lr * np.sign(g)
            if _close(got[0][k], 1 + lr * np.sign(g)):
                raise _Fail("your step goes uphill: p -= lr * m_hat / (sqrt(s_hat) + eps).")
            if not _close(got[0][k], expected, rtol=1e-5):
                uncorrected = reference(grads, correct=False)[0][k]
                if _close(got[0][k], uncorrected):
                    raise _Fail(
                        "your first step is about 3 times lr, where Adam's is lr: without bias correction m "
                        "and s start near 0, and s (1 - beta2 = 0.001 of g**2) far more so than m (0.1 of g), "
                        "so m / sqrt(s) is about 0.1 / 0.032. Divide m by (1 - beta1**t) and s by "
                        "(1 - beta2**t), t counted from 1."
                    )
                raise _Fail(
                    "Adam's first step moves every parameter by lr against the sign of its gradient "
                    "(m_hat / sqrt(s_hat) = g / |g|); yours does not."
                )

    def later_steps():
        got, grads = _trajectory(lambda: Adam(lr, b1, b2, eps), 8)
        ref = reference(grads)
        for t, (a, b) in enumerate(zip(got, ref), start=1):
            for k in a:
                if not _close(a[k], b[k], rtol=1e-6):
                    raise _Fail(
                        f"step {t} differs: keep m, s (one per parameter) and the step count t between "
                        f"steps; t grows by one per step() call, and the bias corrections use it."
                    )

    return _run(
        "adam",
        [
            ("the first step (bias correction)", first_step),
            ("eight steps (m, s and t are kept)", later_steps),
            ("the parameters change in place", lambda: _in_place(lambda: Adam(lr, b1, b2, eps))),
        ],
    )
