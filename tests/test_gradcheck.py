import numpy as np
import pytest

import nnlib
from nnlib.gradcheck import numerical_gradient, rel_error


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.ones(2), np.ones(3))


def test_numerical_gradient_of_known_function_restores_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda: float((x**3).sum()), x)
    assert rel_error(g, 3 * before**2) < 1e-9
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))


def test_gradcheck_model_fixes_the_dropout_masks():

    rng = np.random.default_rng(0)
    model = nnlib.mlp([6, 8, 8, 3], rng=0, dtype=np.float64, dropout=0.5)
    X, Y = rng.normal(size=(5, 6)), nnlib.one_hot(rng.integers(0, 3, 5), 3, dtype=np.float64)
    errors = nnlib.gradcheck_model(model, X, Y)
    assert max(errors.values()) < 1e-7, errors
    layer = nnlib.Dropout(0.5, rng=1)
    errors = nnlib.gradcheck_layer(layer, rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), training=True)
    assert errors["X"] < 1e-7


def _wrong_model():
    """A float64 mlp whose loss_and_grads returns twice the true gradients (rel_error 1/3 when checked)."""

    rng = np.random.default_rng(0)
    model = nnlib.mlp([4, 3, 2], rng=0, dtype=np.float64)
    X, Y = rng.normal(size=(5, 4)), nnlib.one_hot(rng.integers(0, 2, 5), 2, dtype=np.float64)
    real = model.loss_and_grads

    def doubled(X, Y):
        loss, grads, out = real(X, Y)
        return loss, {k: 2 * g for k, g in grads.items()}, out

    model.loss_and_grads = doubled
    return model, X, Y


@pytest.mark.parametrize("num_checks", [0, -1, 2.5, "3", True])
def test_gradcheck_model_rejects_a_count_of_checks_that_checks_nothing(num_checks):

    model, X, Y = _wrong_model()
    assert min(nnlib.gradcheck_model(model, X, Y, num_checks=3).values()) > 0.3  # a wrong gradient is caught
    with pytest.raises(ValueError, match=r"num_checks must be a positive integer or None, got"):
        nnlib.gradcheck_model(model, X, Y, num_checks=num_checks)


def test_numerical_gradient_restores_the_input_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f():
        calls.append(x.copy())
        if len(calls) == 4:
            raise RuntimeError("f failed")
        return float(x.sum())

    with pytest.raises(RuntimeError, match="f failed"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_gradcheck_model_restores_the_parameters_when_the_loss_raises():

    model, X, Y = _wrong_model()
    before = {k: v.copy() for k, v in model.params.items()}
    real, calls = model.loss_and_grads, []

    def fails_later(X, Y):
        calls.append(1)
        if len(calls) == 3:  # the second evaluation of the numerical gradient: W1 is nudged
            raise FloatingPointError("overflow")
        return real(X, Y)

    model.loss_and_grads = fails_later
    with pytest.raises(FloatingPointError):
        nnlib.gradcheck_model(model, X, Y)
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_one_name_per_thing():
    # nnlib.gradcheck_layer returns relative errors; nnlib.checks.check_layer prints a learner's verdict
    assert nnlib.gradcheck_layer is nnlib.gradcheck.gradcheck_layer
    assert nnlib.gradcheck_model is nnlib.gradcheck.gradcheck_model
    for old in ("check_layer", "check_model"):
        assert not hasattr(nnlib, old) and not hasattr(nnlib.gradcheck, old)
