import numpy as np
import pytest

from nnlib.optim import SGD, Adam, AdamW, Momentum, RMSProp


def _p():
    return {"W1": np.array([1.0, -2.0])}


G = {"W1": np.array([0.5, 1.0])}


def test_sgd():
    p = _p()
    SGD(0.1).step(p, G)
    np.testing.assert_allclose(p["W1"], [0.95, -2.1])


def test_momentum_ema_two_steps_by_hand():
    p, opt = _p(), Momentum(0.5, beta=0.9, form="ema")
    opt.step(p, G)  # v = 0.1 g = [0.05, 0.1]; p -= 0.5 v
    np.testing.assert_allclose(p["W1"], [0.975, -2.05])
    opt.step(p, G)  # v = 0.9 [0.05, 0.1] + 0.1 g = [0.095, 0.19]
    np.testing.assert_allclose(p["W1"], [0.975 - 0.0475, -2.05 - 0.095])


def test_momentum_classical_two_steps_by_hand():
    p, opt = _p(), Momentum(0.1, beta=0.9, form="classical")
    opt.step(p, G)  # v = g
    opt.step(p, G)  # v = 1.9 g
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
    Adam(0.01, eps=1e-12).step(p, G)  # bias correction makes m_hat = g, s_hat = g^2
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


# ---- Issue 9: trajectories computed independently, hyper-parameters checked, state saved ----------


def _grads(steps=6, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(3, 2)) * rng.choice([1e-3, 1.0, 30.0]) for _ in range(steps)]


def test_adam_trajectory_matches_plain_formulas():
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-6  # not the defaults, so every term shows
    p, opt = {"W1": np.ones((3, 2))}, Adam(lr, b1, b2, eps)
    w, m, s = np.ones((3, 2)), np.zeros((3, 2)), np.zeros((3, 2))
    for t, g in enumerate(_grads(), start=1):
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * g**2
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
        opt.step(p, {"W1": g})
        np.testing.assert_allclose(p["W1"], w, rtol=1e-12, atol=1e-15)
    assert opt.t == 6


def test_adamw_decays_weights_apart_from_the_gradient_and_leaves_biases():
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.95, 1e-6, 0.1
    p = {"W1": np.ones((3, 2)), "b1": np.ones(2)}
    opt = AdamW(lr, b1, b2, eps, weight_decay=wd)
    w, b = np.ones((3, 2)), np.ones(2)
    mw, sw, mb, sb = np.zeros((3, 2)), np.zeros((3, 2)), np.zeros(2), np.zeros(2)
    for t, g in enumerate(_grads(), start=1):
        w = w * (1 - lr * wd)  # decay first, not divided by sqrt(s_hat)
        mw, sw = b1 * mw + (1 - b1) * g, b2 * sw + (1 - b2) * g**2
        w = w - lr * (mw / (1 - b1**t)) / (np.sqrt(sw / (1 - b2**t)) + eps)
        gb = g[0]
        mb, sb = b1 * mb + (1 - b1) * gb, b2 * sb + (1 - b2) * gb**2
        b = b - lr * (mb / (1 - b1**t)) / (np.sqrt(sb / (1 - b2**t)) + eps)
        opt.step(p, {"W1": g, "b1": gb.copy()})
        np.testing.assert_allclose(p["W1"], w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(p["b1"], b, rtol=1e-12, atol=1e-15)


def test_adamw_with_zero_decay_is_adam_and_a_bad_decay_is_refused():
    pa, pw = {"W1": np.ones((3, 2))}, {"W1": np.ones((3, 2))}
    a, w = Adam(0.01), AdamW(0.01, weight_decay=0.0)
    for g in _grads():
        a.step(pa, {"W1": g})
        w.step(pw, {"W1": g})
    np.testing.assert_array_equal(pa["W1"], pw["W1"])
    for bad in (-0.1, np.nan, np.inf):
        with pytest.raises(ValueError, match="weight_decay"):
            AdamW(weight_decay=bad)


def test_rmsprop_trajectory_matches_plain_formulas():
    lr, rho, eps = 0.01, 0.7, 1e-6
    p, opt = {"W1": np.ones((3, 2))}, RMSProp(lr, rho, eps)
    w, s = np.ones((3, 2)), np.zeros((3, 2))
    for g in _grads():
        s = rho * s + (1 - rho) * g**2
        w = w - lr * g / (np.sqrt(s) + eps)
        opt.step(p, {"W1": g})
        np.testing.assert_allclose(p["W1"], w, rtol=1e-12, atol=1e-15)


def test_momentum_trajectories_and_float32_stays_float32():
    for form in ("ema", "classical"):
        p, opt = {"W1": np.ones((3, 2), np.float32)}, Momentum(0.1, 0.9, form)
        w, v = np.ones((3, 2)), np.zeros((3, 2))
        for g in _grads():
            v = 0.9 * v + ((1 - 0.9) * g if form == "ema" else g)
            w = w - 0.1 * v
            opt.step(p, {"W1": g.astype(np.float32)})
        assert p["W1"].dtype == np.float32
        np.testing.assert_allclose(p["W1"], w, rtol=1e-5)


def test_step_leaves_grads_alone():
    g = {"W1": np.array([0.5, 1.0])}
    for opt in (SGD(0.1), Momentum(0.1), RMSProp(), Adam()):
        opt.step(_p(), g)
        np.testing.assert_array_equal(g["W1"], [0.5, 1.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Adam(beta1=1.0), "beta1"),
        (lambda: Adam(beta2=1.0), "beta2"),
        (lambda: Adam(beta1=-0.1), "beta1"),
        (lambda: Adam(eps=0), "eps"),
        (lambda: RMSProp(rho=1.0), "rho"),
        (lambda: RMSProp(eps=-1e-8), "eps"),
        (lambda: Momentum(0.1, beta=np.nan), "beta"),
        (lambda: SGD(np.inf), "learning rate"),
        (lambda: SGD(np.nan), "learning rate"),
        (lambda: SGD(-0.1), "learning rate"),
        (lambda: SGD("fast"), "learning rate"),
    ],
)
def test_every_hyper_parameter_is_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_setting_a_bad_lr_directly_is_caught():
    opt = Momentum(0.1)
    for bad in (-1, 0, np.nan, np.inf):
        with pytest.raises(ValueError, match="learning rate"):
            opt.lr = bad
    assert opt.lr == 0.1
    opt.lr = 0.05
    assert opt.lr == 0.05


@pytest.mark.parametrize("make", [lambda: Momentum(0.1, 0.9), lambda: RMSProp(0.01), lambda: Adam(0.01)])
def test_state_dict_is_a_deep_copy_that_resumes_exactly(make):
    grads = _grads(8)
    a, pa = make(), {"W1": np.ones((3, 2))}
    for g in grads:
        a.step(pa, {"W1": g})
    b, pb = make(), {"W1": np.ones((3, 2))}
    for g in grads[:4]:
        b.step(pb, {"W1": g})
    saved, p_saved = b.state_dict(), pb["W1"].copy()
    for g in grads[4:6]:  # steps that are then undone
        b.step(pb, {"W1": g * 100})
    b.load_state_dict(saved)
    pb["W1"][...] = p_saved
    for g in grads[4:]:
        b.step(pb, {"W1": g})
    np.testing.assert_array_equal(pa["W1"], pb["W1"])
    if isinstance(b, Adam):
        assert saved["t"] == 4 and b.t == 8
    c = make()  # loading copies: the source stays as it was
    c.load_state_dict(saved)
    c.step({"W1": np.ones((3, 2))}, {"W1": grads[0]})
    again = make()
    again.load_state_dict(saved)
    assert all(
        np.array_equal(x, y)
        for name in saved["buffers"]
        for x, y in zip(saved["buffers"][name].values(), again.state_dict()["buffers"][name].values())
    )


def test_schedule_arguments_are_checked():
    from nnlib.optim import cosine_schedule, step_schedule

    with pytest.raises(ValueError, match="every"):
        step_schedule(0.1, every=0)
    with pytest.raises(ValueError, match="factor"):
        step_schedule(0.1, every=2, factor=0)
    with pytest.raises(ValueError, match="epochs"):
        cosine_schedule(0.1, epochs=0)
    with pytest.raises(ValueError, match="warmup"):
        cosine_schedule(0.1, epochs=3, warmup=3)


@pytest.mark.parametrize("make", [lambda: Momentum(0.1, 0.9), lambda: RMSProp(0.01), lambda: Adam(0.01)])
def test_loading_a_state_copies_it_both_ways(make):
    # a shallow load_state_dict would share arrays: steps would change the saved state, and edits of it the optimiser
    a = make()
    a.step({"W1": np.ones((3, 2))}, {"W1": np.full((3, 2), 0.5)})
    saved = a.state_dict()
    pristine = {name: {k: v.copy() for k, v in store.items()} for name, store in saved["buffers"].items()}
    b = make()
    b.load_state_dict(saved)
    b.step({"W1": np.ones((3, 2))}, {"W1": np.full((3, 2), 3.0)})
    for name, store in saved["buffers"].items():
        np.testing.assert_array_equal(store["W1"], pristine[name]["W1"])
    c = make()
    c.load_state_dict(saved)
    for store in saved["buffers"].values():
        store["W1"][...] = 99.0
    for name, store in c.state_dict()["buffers"].items():
        np.testing.assert_array_equal(store["W1"], pristine[name]["W1"])


@pytest.mark.parametrize(
    "opt, attr, bad, message",
    [
        (Momentum(0.1), "form", "typo", "form must be 'ema' or 'classical'"),
        (Momentum(0.1), "beta", 2.0, "beta must be in"),
        (Adam(), "beta1", 1.0, "beta1"),
        (Adam(), "beta2", -0.5, "beta2"),
        (Adam(), "eps", 0, "eps"),
        (RMSProp(), "rho", 1.5, "rho"),
        (AdamW(), "weight_decay", -1, "weight_decay"),
    ],
)
def test_hyper_parameters_set_after_construction_are_checked(opt, attr, bad, message):
    before = getattr(opt, attr)
    with pytest.raises(ValueError, match=message):
        setattr(opt, attr, bad)
    assert getattr(opt, attr) == before


def _stepped(make, shape=(3, 2), key="W1"):
    opt = make()
    opt.step({key: np.ones(shape)}, {key: np.ones(shape)})
    return opt


@pytest.mark.parametrize(
    "state, message",
    [
        ({}, "needs the state_dict\\(\\) of a Momentum, got \"no 'kind'\""),
        (None, "needs the state_dict\\(\\) of a Momentum, got 'NoneType'"),
        (_stepped(Adam).state_dict(), "needs the state_dict\\(\\) of a Momentum, got 'Adam'"),
        ({"kind": "Momentum", "buffers": {"m": {}}}, "buffer names \\['v'\\]"),
        ({"kind": "Momentum", "buffers": {"v": {"W1": [1, 2]}}}, "buffer names"),
    ],
)
def test_another_kind_of_state_is_refused(state, message):
    opt = _stepped(lambda: Momentum(0.1))
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    np.testing.assert_array_equal(opt.state_dict()["buffers"]["v"]["W1"], before["buffers"]["v"]["W1"])


def test_momentum_state_into_adam_and_a_bad_step_count_are_refused():
    with pytest.raises(ValueError, match="of a Adam, got 'Momentum'"):
        Adam().load_state_dict(_stepped(lambda: Momentum(0.1)).state_dict())
    state = _stepped(Adam).state_dict()
    for bad in (-1, 1.5, None, True):
        with pytest.raises(ValueError, match="step count 't'"):
            Adam().load_state_dict({**state, "t": bad})


def test_another_models_state_is_refused():
    other = _stepped(lambda: Momentum(0.1), shape=(4, 2)).state_dict()
    opt = _stepped(lambda: Momentum(0.1))  # already holds W1 of shape (3, 2)
    with pytest.raises(ValueError, match="shape \\(4, 2\\).*another model"):
        opt.load_state_dict(other)
    fresh = Momentum(0.1)  # a fresh one cannot tell until its next step
    fresh.load_state_dict(other)
    with pytest.raises(ValueError, match="has shape \\(4, 2\\), but the parameter has shape \\(3, 2\\)"):
        fresh.step({"W1": np.ones((3, 2))}, {"W1": np.ones((3, 2))})
    fresh = Momentum(0.1)
    fresh.load_state_dict(_stepped(lambda: Momentum(0.1), key="W9").state_dict())
    p = {"W1": np.ones((3, 2))}
    with pytest.raises(ValueError, match="holds 'v' for \\['W9'\\], but the parameters are \\['W1'\\]"):
        fresh.step(p, {"W1": np.ones((3, 2))})
    np.testing.assert_array_equal(p["W1"], 1.0)  # nothing was changed


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Momentum(0.1), lambda: Adam()])
def test_a_gradient_of_the_wrong_shape_is_named(make):
    opt, p = make(), {"W1": np.ones((3, 2)), "b1": np.zeros(2)}
    with pytest.raises(
        ValueError, match="the gradient for 'b1' has shape \\(3,\\), but the parameter has shape \\(2,\\)"
    ):
        opt.step(p, {"W1": np.ones((3, 2)), "b1": np.ones(3)})
    np.testing.assert_array_equal(p["W1"], 1.0)  # checked before any parameter changes
    assert getattr(opt, "t", 0) == 0


# -- the formulas and their fast forms ------------------------------------------------------------

FORMS = [
    lambda: SGD(0.1),
    lambda: Momentum(0.1, 0.8),
    lambda: Momentum(0.1, 0.8, "classical"),
    lambda: RMSProp(0.01, 0.7, 1e-6),
    lambda: Adam(0.01, 0.8, 0.95, 1e-6),
    lambda: AdamW(0.01, 0.8, 0.95, 1e-6, weight_decay=0.1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", FORMS)
def test_the_fast_form_gives_the_formulas_bits(make, dtype):
    rng = np.random.default_rng(3)
    fast, formula = make(), make()
    p = {"W1": rng.normal(size=(5, 4)).astype(dtype), "b1": rng.normal(size=4).astype(dtype)}
    q = {k: v.copy() for k, v in p.items()}
    for step in range(8):
        scale = [1e-6, 1.0, 300.0][step % 3]
        grads = {k: (rng.normal(size=v.shape) * scale).astype(dtype) for k, v in p.items()}
        fast.step(p, grads)
        formula._count_step()  # what step does, with the formulas themselves
        for k in q:
            formula._update(k, q[k], grads[k])
        for k in p:
            assert p[k].dtype == dtype
            np.testing.assert_array_equal(p[k], q[k], err_msg=f"{type(fast).__name__} {k} step {step + 1}")
    for name, store in fast.state_dict()["buffers"].items():
        for k, a in store.items():
            np.testing.assert_array_equal(a, formula.state_dict()["buffers"][name][k])


def test_adam_is_notebook_10s_formulas_to_the_bit():
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-6
    p, opt = {"W1": np.ones((3, 2), np.float32)}, Adam(lr, b1, b2, eps)
    w, m, s = np.ones((3, 2), np.float32), 0, 0
    for t, g in enumerate(_grads(), start=1):
        g = g.astype(np.float32)
        m = b1 * m + (1 - b1) * g  # as MyAdam in notebook 12 writes them
        s = b2 * s + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        s_hat = s / (1 - b2**t)
        w -= lr * m_hat / (np.sqrt(s_hat) + eps)
        opt.step(p, {"W1": g})
        np.testing.assert_array_equal(p["W1"], w)


def test_momentum_is_notebook_07s_formulas_to_the_bit():
    p, opt = {"W1": np.ones((3, 2), np.float32)}, Momentum(0.1, 0.8)
    w, v = np.ones((3, 2), np.float32), 0
    for g in _grads():
        g = g.astype(np.float32)
        v = 0.8 * v + (1 - 0.8) * g  # as MyMomentum in notebook 08 writes them
        w -= 0.1 * v
        opt.step(p, {"W1": g})
        np.testing.assert_array_equal(p["W1"], w)
