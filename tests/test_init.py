"""Initialisers for a weight array of any shape, with the fan-in (and fan-out) the layer states."""

import numpy as np
import pytest

from nnlib import Linear
from nnlib.init import he, he_normal, init_layer, init_weights, uniform, uniform_array, xavier, xavier_normal


def test_he_normal_scales_by_the_fan_in_for_any_shape():
    W = he_normal((64, 3, 5, 5), 3 * 5 * 5, np.random.default_rng(0))  # a conv weight (F, C, kh, kw)
    assert W.shape == (64, 3, 5, 5) and W.dtype == np.float32
    assert abs(W.std() - np.sqrt(2 / 75)) < 0.02 * np.sqrt(2 / 75)
    W = xavier_normal((40, 30), 40, 30, np.random.default_rng(0), dtype=np.float64)
    assert W.dtype == np.float64 and abs(W.std() - np.sqrt(2 / 70)) < 0.05 * np.sqrt(2 / 70)
    U = uniform_array((3, 4, 5), 0)
    assert U.shape == (3, 4, 5) and U.min() >= -0.5 and U.max() < 0.5


def test_init_weights_gives_a_layers_weights_and_biases():
    W, b = init_weights("he", (8, 3, 3, 3), 0, fan_in=27, fan_out=72, n_bias=8)
    assert W.shape == (8, 3, 3, 3) and b.shape == (8,) and not b.any()
    np.testing.assert_array_equal(W, he_normal((8, 3, 3, 3), 27, 0))
    W, b = init_weights("uniform", (8, 3, 3, 3), 0, fan_in=27, fan_out=72, n_bias=8)
    assert b.shape == (8,) and b.any()  # uniform draws its biases, after the weights
    with pytest.raises(ValueError, match="unknown init scheme 'kaiming'"):
        init_weights("kaiming", (3, 2), 0, fan_in=3, fan_out=2, n_bias=2)
    with pytest.raises(ValueError, match="fan_in must be a positive whole number"):
        init_weights("he", (3, 2), 0, fan_in=0, fan_out=2, n_bias=2)
    with pytest.raises(ValueError, match="weight shape"):
        he_normal((3, -2), 3, 0)


@pytest.mark.parametrize("scheme, fn", [("he", he), ("xavier", xavier), ("uniform", uniform)])
def test_the_2d_teaching_forms_are_the_general_ones(scheme, fn):
    W, b = fn(6, 4, np.random.default_rng(3))
    W2, b2 = init_weights(scheme, (6, 4), np.random.default_rng(3), fan_in=6, fan_out=4, n_bias=4)
    W3, b3 = init_layer(scheme, 6, 4, np.random.default_rng(3))
    for a, c, d in ((W, W2, W3), (b, b2, b3)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)
    assert W.shape == (6, 4) and b.shape == (4,) and W.dtype == np.float32


def test_he_matches_the_formula_of_notebook_05():
    W, b = he(784, 256, np.random.default_rng(0))
    expected = (np.random.default_rng(0).standard_normal((784, 256)) * np.sqrt(2.0 / 784)).astype(np.float32)
    np.testing.assert_array_equal(W, expected)
    np.testing.assert_array_equal(Linear(784, 256, rng=0).params["W"], expected)
