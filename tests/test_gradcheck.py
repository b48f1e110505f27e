import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.ones(2), np.ones(3))


def test_numerical_gradient_of_known_function_restores_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda: float((x ** 3).sum()), x)
    assert rel_error(g, 3 * before ** 2) < 1e-9
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))


def test_check_model_fixes_the_dropout_masks():
    import nnlib

    rng = np.random.default_rng(0)
    model = nnlib.mlp([6, 8, 8, 3], rng=0, dtype=np.float64, dropout=0.5)
    X, Y = rng.normal(size=(5, 6)), nnlib.one_hot(rng.integers(0, 3, 5), 3, dtype=np.float64)
    errors = nnlib.check_model(model, X, Y)
    assert max(errors.values()) < 1e-7, errors
    layer = nnlib.Dropout(0.5, rng=1)
    errors = nnlib.check_layer(layer, rng.normal(size=(4, 5)), rng.normal(size=(4, 5)), training=True)
    assert errors["X"] < 1e-7
