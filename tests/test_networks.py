import numpy as np
import pytest

import nnlib
from nnlib.networks import PerExampleNetwork, backward_example, forward_example, init_params


def _batch(rng, n=12, d=20, c=5):
    X = rng.random((n, d))
    return X, nnlib.one_hot(rng.integers(0, c, n), c, dtype=np.float64)


def test_per_example_equals_vectorised_to_1e12(rng):
    sizes = [20, 8, 6, 5]
    X, Y = _batch(rng)
    slow = PerExampleNetwork(sizes, rng=7)
    fast = nnlib.mlp(sizes, hidden="sigmoid", init="uniform", rng=7, dtype=np.float64)
    for k, v in slow.params.items():  # same seed, same starting point
        np.testing.assert_array_equal(v, fast.params[k])
    loss_s, grads_s, out_s = slow.loss_and_grads(X, Y)
    loss_f, grads_f, out_f = fast.loss_and_grads(X, Y)
    assert loss_s == pytest.approx(loss_f, rel=1e-12)
    np.testing.assert_allclose(out_s, out_f, rtol=1e-12)
    for k in grads_s:
        np.testing.assert_allclose(grads_s[k], grads_f[k], rtol=1e-10, atol=1e-14)


def test_per_example_gradients_match_numerical(rng):
    X, Y = _batch(rng, n=4, d=6, c=3)
    net = PerExampleNetwork([6, 5, 4, 3], rng=0)
    errors = nnlib.gradcheck_model(net, X, Y)
    # Sigmoid layers shrink the first layer's gradients to ~1e-5, where the ~1e-11 round-off of
    # central differences alone gives relative errors ~1e-6; a wrong gradient gives ~1.
    assert max(errors.values()) < 1e-5, errors
    assert max(v for k, v in errors.items() if k != "W1") < 1e-7, errors


def test_backward_example_uses_outer_products(rng):
    params = init_params([4, 3, 2], rng=0)
    x = rng.random(4)
    a, cache = forward_example(params, x)
    grads = backward_example(params, cache, np.array([1.0, 0.0]))
    np.testing.assert_allclose(grads["W2"], np.outer(cache[2], a - [1.0, 0.0]))
    assert grads["W1"].shape == (4, 3)


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match="hidden"):
        nnlib.mlp([4, 2], hidden="tanh")
    with pytest.raises(ValueError, match="output"):
        nnlib.mlp([4, 2], output="linear")
    with pytest.raises(ValueError, match="at least"):
        nnlib.mlp([4])
    with pytest.raises(ValueError, match="init"):
        nnlib.mlp([4, 2], init="zeros")


def test_init_schemes_scale(rng):
    for scheme, std in [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600))]:
        W, b = nnlib.init.init_layer(scheme, 400, 200, rng)
        assert W.dtype == np.float32 and not b.any()
        assert W.std() == pytest.approx(std, rel=0.02)
    W, b = nnlib.init.uniform(400, 200, rng)
    assert -0.5 <= W.min() and W.max() < 0.5 and b.std() > 0.2
    with pytest.raises(ValueError, match="seed"):
        nnlib.init.as_rng(None)
