"""nnlib.checks for notebook 01: check_loss_and_grad and check_gd_step pass the right answer and name each typical
mistake in their hint; a stub is reported as not implemented yet."""

import numpy as np

from nnlib import checks

from checking import fails, passes, stub  # tests/checking.py


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def make_loss_and_grad(
    sign=1.0,
    loss_sum=False,
    grad_N=True,
    dw_per_example=False,
    transposed=False,
    db_sum=False,
    squared_error_loss=False,
    squared_error_grad=False,
    eps=1e-7,
    clip=True,
    float64_eps=None,
):
    """The right loss_and_grad, or one with a single typical mistake switched on."""

    def loss_and_grad(w, b, X, y):
        N = len(X)
        p = _sigmoid(X @ w + b)
        e = eps if float64_eps is None else float64_eps
        pc = np.clip(p, e, 1 - e) if clip else p
        if squared_error_loss:
            loss = np.mean((p - y) ** 2)
        else:
            losses = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
            loss = losses.sum() if loss_sum else losses.mean()
        err = sign * (p - y)
        if squared_error_grad:
            err = err * p * (1 - p)
        dw = (X @ err if transposed else X.T @ err) / (N if grad_N else 1)
        if dw_per_example:
            dw = err / N
        db = err.sum() if db_sum else err.mean()
        return loss, dw, db

    return loss_and_grad


def test_loss_and_grad_passes_the_right_answer(capsys):
    assert passes(capsys, checks.check_loss_and_grad, make_loss_and_grad()).startswith("loss_and_grad: 5 checks passed")


def test_loss_and_grad_passes_logaddexp_and_float64_clipping(capsys):
    def stable(w, b, X, y):  # no clipping at all: the logs from logaddexp
        z = X @ w + b
        loss = np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
        p = _sigmoid(z)
        return loss, X.T @ (p - y) / len(X), np.mean(p - y)

    passes(capsys, checks.check_loss_and_grad, stable)


def test_loss_and_grad_stub(capsys):
    fails_out = checks.check_loss_and_grad(stub)
    assert not fails_out and "not implemented yet" in capsys.readouterr().out


def test_sign_flipped(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(sign=-1.0), hint="not y - p")


def test_one_over_N_missing(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(grad_N=False), hint="dw is 7 times too large")


def test_dw_one_number_per_example(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(dw_per_example=True), hint="one number per example")


def test_X_instead_of_X_transposed(capsys):
    out = fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(transposed=True), hint="X.T @ (p - y) / N")
    assert "your code raised ValueError" in out and "X @ (p - y) works only when N == D" in out


def test_X_instead_of_X_transposed_on_a_square_batch(capsys):
    def square_only(w, b, X, y):
        return make_loss_and_grad(transposed=X.shape[0] == X.shape[1])(w, b, X, y)

    fails(capsys, checks.check_loss_and_grad, square_only, hint="runs only because this X is square")


def test_db_summed(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(db_sum=True), hint="db is 7 times too large")


def test_db_per_example(capsys):
    def db_vector(w, b, X, y):
        loss, dw, _ = make_loss_and_grad()(w, b, X, y)
        return loss, dw, _sigmoid(X @ w + b) - y

    fails(capsys, checks.check_loss_and_grad, db_vector, hint="db has shape (7,), one number per example")


def test_loss_summed_not_mean(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(loss_sum=True), hint="not the sum")


def test_squared_error_loss(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(squared_error_loss=True), hint="the squared error")


def test_squared_error_gradient(capsys):
    fails(
        capsys, checks.check_loss_and_grad, make_loss_and_grad(squared_error_grad=True), hint="extra factor p * (1 - p)"
    )


def test_no_clipping(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(clip=False), hint="clip p to [1e-7, 1 - 1e-7]")


def test_clipping_at_1e_12_fails_in_float32(capsys):
    fails(capsys, checks.check_loss_and_grad, make_loss_and_grad(float64_eps=1e-12), hint="rounds to 1.0 in float32")


def test_wrong_return(capsys):
    fails(
        capsys,
        checks.check_loss_and_grad,
        lambda w, b, X, y: make_loss_and_grad()(w, b, X, y)[:2],
        hint="(loss, dw, db)",
    )


# -- gd_step ----------------------------------------------------------------------------------------


def gd_step(w, b, dw, db, lr):
    return w - lr * dw, b - lr * db


def test_gd_step_passes_the_right_answer(capsys):
    assert passes(capsys, checks.check_gd_step, gd_step).startswith("gd_step: 3 checks passed")


def test_gd_step_stub(capsys):
    assert not checks.check_gd_step(stub) and "not implemented yet" in capsys.readouterr().out


def test_plus_instead_of_minus(capsys):
    fails(capsys, checks.check_gd_step, lambda w, b, dw, db, lr: (w + lr * dw, b + lr * db), hint="uphill")


def test_lr_forgotten(capsys):
    fails(capsys, checks.check_gd_step, lambda w, b, dw, db, lr: (w - dw, b - db), hint="forgets the learning rate")


def test_lr_squared(capsys):
    fails(
        capsys,
        checks.check_gd_step,
        lambda w, b, dw, db, lr: (w - lr * lr * dw, b - lr * lr * db),
        hint="multiplies by lr twice",
    )


def test_modified_in_place(capsys):
    def in_place(w, b, dw, db, lr):
        w -= lr * dw
        return w, b - lr * db

    fails(capsys, checks.check_gd_step, in_place, hint="changed the caller's w in place")


def test_dw_modified_in_place(capsys):
    def scales_dw(w, b, dw, db, lr):
        dw *= lr
        return w - dw, b - lr * db

    fails(capsys, checks.check_gd_step, scales_dw, hint="changed dw in place")


def test_b_not_updated(capsys):
    fails(capsys, checks.check_gd_step, lambda w, b, dw, db, lr: (w - lr * dw, b), hint="b is not updated")


def test_fixed_lr(capsys):
    fails(
        capsys, checks.check_gd_step, lambda w, b, dw, db, lr: (w - 0.1 * dw, b - 0.1 * db), hint="use the lr passed in"
    )


def test_no_return(capsys):
    fails(capsys, checks.check_gd_step, lambda w, b, dw, db, lr: None, hint="forget the return")
