"""nnlib.checks' batch-norm checks (notebook 13): each passes on a correct piece (the notebook's solution, written
again here) and fails on each typical wrong version with the hint meant for it; a stub is reported as not
implemented yet; the checks' float64 numerical gradients agree with the analytic ones and with nnlib.BatchNorm."""

import numpy as np
import pytest

import nnlib
from nnlib import checks
from nnlib.checks import batchnorm as bn_checks

from checking import fails, passes, stub  # tests/checking.py


# -- the right answers (as in the notebook), with switches for the typical mistakes ---------------------


def forward(
    X,
    gamma,
    beta,
    eps=1e-5,
    axis=0,
    ddof=0,
    eps_outside=False,
    no_eps=False,
    swap=False,
    divide=True,
    fixed_eps=False,
    keepdims=True,
):
    eps = 1e-5 if fixed_eps else eps
    mu = X.mean(axis=axis, keepdims=keepdims)
    var = X.var(axis=axis, ddof=ddof, keepdims=keepdims)
    sigma = np.sqrt(var) if no_eps else np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    xhat = (X - mu) / sigma if divide else X - mu
    out = beta * xhat + gamma if swap else gamma * xhat + beta
    return out, (xhat, gamma, sigma, np.sqrt(var))


def backward(
    dout,
    cache,
    mean_path=True,
    var_path=True,
    no_eps=False,
    param_axis=0,
    mean_params=False,
    dgamma_plain=False,
    times=1.0,
    keepdims=False,
    gamma_twice=False,
):
    xhat, gamma, sigma, sigma_no_eps = cache
    N = len(dout)
    s = sigma_no_eps if no_eps else sigma
    dxhat = dout * gamma
    bracket = N * dxhat
    if mean_path:
        bracket = bracket - dxhat.sum(axis=0)
    if var_path:
        bracket = bracket - xhat * (dxhat * xhat).sum(axis=0)
    dX = times * bracket / (N * s) * (gamma if gamma_twice else 1)
    reduce = np.mean if mean_params else np.sum
    dgamma = reduce(dout if dgamma_plain else dout * xhat, axis=param_axis, keepdims=keepdims)
    dbeta = reduce(dout, axis=param_axis, keepdims=keepdims)
    return dX, dgamma, dbeta


def test_references_agree_with_numerical_gradients_and_nnlib():
    rng = np.random.default_rng(0)
    for tiny in (False, True):
        X, gamma, beta = bn_checks._case(rng, tiny=tiny)
        dout = rng.normal(size=X.shape)
        num = bn_checks._numerical(X, gamma, beta, dout)
        ana = bn_checks._backward(dout, X, gamma)
        for a, b in zip(ana, num):
            assert bn_checks._error(a, b) < 1e-7  # the check passes below 1e-6
        layer = nnlib.BatchNorm(X.shape[1], dtype=np.float64)
        layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
        out, cache = layer.forward(X, training=True)
        np.testing.assert_allclose(out, bn_checks._forward(X, gamma, beta), rtol=1e-12, atol=1e-12)
        dX = layer.backward(dout, cache)
        np.testing.assert_allclose(dX, ana[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.grads["gamma"], ana[1], rtol=1e-12)
        np.testing.assert_allclose(layer.grads["beta"], ana[2], rtol=1e-12)


# -- forward ------------------------------------------------------------------------------------------------


def test_forward_passes_on_the_solution_and_on_nnlib(capsys):
    assert passes(capsys, checks.check_batchnorm_forward, forward).startswith("batchnorm_forward: 6 checks passed")

    def with_layer(X, gamma, beta, eps=1e-5):
        layer = nnlib.BatchNorm(X.shape[1], eps=eps, dtype=np.float64)
        layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
        return layer.forward(X, training=True)

    passes(capsys, checks.check_batchnorm_forward, with_layer)


def test_forward_stub(capsys):
    out = fails_not_implemented(capsys, checks.check_batchnorm_forward, stub)
    assert "not implemented yet" in out


def fails_not_implemented(capsys, check, *pieces):
    ok = check(*pieces)
    out = capsys.readouterr().out
    assert ok.passed is False and "not implemented yet" in out and "Traceback" not in out, out
    return out


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(axis=1), "axis=1"),
        (dict(ddof=1), "ddof=1"),
        (dict(swap=True), "gamma and beta are swapped"),
        (dict(divide=False), "did not divide by the standard deviation"),
        (dict(eps_outside=True), "eps is outside the square root"),
        (dict(no_eps=True), "your result has no eps"),
        (dict(fixed_eps=True), "use the argument eps"),
    ],
)
def test_forward_mistakes(capsys, mistake, hint):
    fails(
        capsys,
        checks.check_batchnorm_forward,
        lambda X, gamma, beta, eps=1e-5: forward(X, gamma, beta, eps, **mistake),
        hint=hint,
    )


def test_forward_per_row_without_keepdims_is_told_the_axis(capsys):
    fails(
        capsys,
        checks.check_batchnorm_forward,
        lambda X, gamma, beta, eps=1e-5: forward(X, gamma, beta, eps, axis=1, keepdims=False),
        hint="axis=1",
    )


def test_forward_that_divides_by_zero_is_told_about_eps(capsys):
    """A forward pass that is right wherever a column varies and divides by zero where one does not."""

    def no_eps_for_constants(X, gamma, beta, eps=1e-5):
        var = X.var(axis=0)
        sigma = np.where(var > 0, np.sqrt(var + eps), 0.0)
        return gamma * (X - X.mean(axis=0)) / sigma + beta, None

    fails(capsys, checks.check_batchnorm_forward, no_eps_for_constants, hint="That is what eps is for")


def test_forward_must_return_a_pair(capsys):
    fails(
        capsys,
        checks.check_batchnorm_forward,
        lambda X, gamma, beta, eps=1e-5: forward(X, gamma, beta, eps)[0],
        hint="must return a pair (out, cache)",
    )


# -- backward -----------------------------------------------------------------------------------------------


def test_backward_passes_on_the_solution(capsys):
    out = passes(capsys, checks.check_batchnorm_backward, backward, forward)
    assert out.startswith("batchnorm_backward: 4 checks passed")


def test_backward_stub(capsys):
    fails_not_implemented(capsys, checks.check_batchnorm_backward, stub, forward)


def test_backward_blames_a_wrong_forward_first(capsys):
    fails(
        capsys,
        checks.check_batchnorm_backward,
        backward,
        lambda X, gamma, beta, eps=1e-5: forward(X, gamma, beta, eps, ddof=1),
        hint="make check_batchnorm_forward pass first",
    )


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(mean_path=False, var_path=False), "only the direct term"),
        (dict(var_path=False), "misses the path through the variance"),
        (dict(mean_path=False), "misses the path through the mean"),
        (dict(no_eps=True), "without eps"),
        (dict(param_axis=1), "you summed over axis=1"),
        (dict(mean_params=True), "times too small"),
        (dict(keepdims=True), "without keepdims"),
        (dict(dgamma_plain=True), "dgamma is the sum of dout alone"),
        (dict(times=8.0), "8 times too large"),
        (dict(gamma_twice=True), "gamma twice"),
    ],
)
def test_backward_mistakes(capsys, mistake, hint):
    fails(
        capsys,
        checks.check_batchnorm_backward,
        lambda dout, cache: backward(dout, cache, **mistake),
        forward,
        hint=hint,
    )


def test_backward_without_the_variance_path_passes_with_all_ones_upstream():
    """Why the check uses a random upstream gradient: with dout all ones, the right dX and the one without the
    variance path are both zero."""
    X, gamma, beta = bn_checks._case(np.random.default_rng(3))
    out, cache = forward(X, gamma, beta)
    ones = np.ones_like(X)
    right, wrong = backward(ones, cache)[0], backward(ones, cache, var_path=False)[0]
    assert np.abs(right).max() < 1e-12 and np.abs(wrong).max() < 1e-12
    assert np.abs(bn_checks._numerical(X, gamma, beta, ones)[0]).max() < 1e-8


def test_backward_must_return_three_arrays(capsys):
    fails(
        capsys,
        checks.check_batchnorm_backward,
        lambda dout, cache: backward(dout, cache)[0],
        forward,
        hint="must return three arrays (dX, dgamma, dbeta)",
    )
