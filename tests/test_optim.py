import numpy as np
import pytest

from nnlib.optim import SGD, Adam, Momentum, RMSProp


def _p():
    return {"W1": np.array([1.0, -2.0])}


G = {"W1": np.array([0.5, 1.0])}


def test_sgd():
    p = _p()
    SGD(0.1).step(p, G)
    np.testing.assert_allclose(p["W1"], [0.95, -2.1])


def test_momentum_ema_two_steps_by_hand():
    p, opt = _p(), Momentum(0.5, beta=0.9, form="ema")
    opt.step(p, G)     # v = 0.1 g = [0.05, 0.1]; p -= 0.5 v
    np.testing.assert_allclose(p["W1"], [0.975, -2.05])
    opt.step(p, G)     # v = 0.9 [0.05, 0.1] + 0.1 g = [0.095, 0.19]
    np.testing.assert_allclose(p["W1"], [0.975 - 0.0475, -2.05 - 0.095])


def test_momentum_classical_two_steps_by_hand():
    p, opt = _p(), Momentum(0.1, beta=0.9, form="classical")
    opt.step(p, G)     # v = g
    opt.step(p, G)     # v = 1.9 g
    np.testing.assert_allclose(p["W1"], np.array([1.0, -2.0]) - 0.1 * 2.9 * G["W1"])


def test_classical_equals_ema_with_scaled_lr():
    a, b = _p(), _p()
    ema, classical = Momentum(1.0, 0.8, "ema"), Momentum(0.2, 0.8, "classical")
    for g in ([0.5, 1.0], [-1.0, 2.0], [0.3, 0.3]):
        ema.step(a, {"W1": np.array(g)})
        classical.step(b, {"W1": np.array(g)})
    np.testing.assert_allclose(a["W1"], b["W1"])


def test_rmsprop_first_step():
    p = _p()
    RMSProp(0.01, rho=0.9, eps=1e-12).step(p, G)  # s = 0.1 g^2 -> step = lr g / (sqrt(0.1) |g|)
    np.testing.assert_allclose(p["W1"], [1.0 - 0.01 / np.sqrt(0.1), -2.0 - 0.01 / np.sqrt(0.1)])


def test_adam_first_step_is_lr_times_sign():
    p = _p()
    Adam(0.01, eps=1e-12).step(p, G)               # bias correction makes m_hat = g, s_hat = g^2
    np.testing.assert_allclose(p["W1"], [0.99, -2.01])


def test_optimiser_errors():
    with pytest.raises(ValueError, match="positive"):
        SGD(0)
    with pytest.raises(ValueError, match="form"):
        Momentum(0.1, form="nesterov")
    with pytest.raises(ValueError, match="beta"):
        Momentum(0.1, beta=1.0)
    with pytest.raises(ValueError, match="keys"):
        SGD(0.1).step(_p(), {"W2": G["W1"]})
