"""Issue 9: one layer contract for every layer, proven by BatchNorm and by a layer written here."""

import numpy as np
import pytest

import nnlib
from nnlib.gradcheck import gradcheck_layer, gradcheck_model
from nnlib.layers import LAYER_TYPES, BatchNorm, Dropout, Layer, Linear, Model, ReLU, Sigmoid, SoftmaxCrossEntropy

TOL = 1e-7


class Scale(Layer):
    """A layer written only against the contract: out = X * s, with one trained vector s."""

    def __init__(self, n, dtype=np.float32):
        super().__init__()
        self.n_in = n
        self.params = {"s": np.full(n, 0.5, dtype)}
        self.seen_training = []

    def spec(self):
        return {"type": "Scale", "n": self.n_in}

    def forward(self, X, training=False):
        self.seen_training.append(training)
        return X * self.params["s"], X

    def backward(self, dout, cache, need_dX=True):
        self.grads = {"s": (dout * cache).sum(axis=0)}
        return dout * self.params["s"] if need_dX else None


def _blobs(rng, n=300, d=20, c=4):
    y = rng.integers(0, c, n)
    centres = rng.normal(size=(c, d)) * 2
    X = (centres[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, y


def test_a_new_layer_is_one_class(rng, tmp_path, monkeypatch):
    scale = Scale(8)
    model = Model([Linear(4, 8), scale, ReLU(), Linear(8, 2), SoftmaxCrossEntropy()])
    assert list(model.params) == ["W1", "b1", "s2", "W3", "b3"]
    assert model.sizes == [4, 8, 2]
    X, y = rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 2, 40)
    s0 = model.params["s2"].copy()
    model.loss_and_grads(X, y)
    assert scale.seen_training[-1] is True  # training reaches every layer
    model.predict(X)
    assert scale.seen_training[-1] is False
    nnlib.fit(model, X, y, nnlib.SGD(0.5), epochs=2, batch_size=8, verbose=False)
    assert not np.array_equal(model.params["s2"], s0)  # its gradient reached the optimiser
    monkeypatch.setitem(LAYER_TYPES, "Scale", Scale)  # ... and, registered, it saves and loads
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "scale.npz"))
    np.testing.assert_array_equal(loaded.params["s2"], model.params["s2"])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    errors = gradcheck_model(
        Model(
            [
                Linear(4, 3, dtype=np.float64),
                Scale(3, np.float64),
                Linear(3, 2, dtype=np.float64),
                SoftmaxCrossEntropy(),
            ]
        ),
        X.astype(np.float64),
        nnlib.one_hot(y, 2, np.float64),
    )
    assert set(errors) == {"W1", "b1", "s2", "W3", "b3"} and max(errors.values()) < TOL, errors


def test_first_layer_with_parameters_skips_dX(rng):
    calls = []

    class Spy(Linear):
        def backward(self, dZ, cache, need_dX=True):
            calls.append(need_dX)
            dX = super().backward(dZ, cache, need_dX)
            assert (dX is None) == (not need_dX)
            return dX

    model = Model([Dropout(0.2), Spy(4, 5), ReLU(), Spy(5, 3), SoftmaxCrossEntropy()])
    model.loss_and_grads(rng.normal(size=(6, 4)).astype(np.float32), rng.integers(0, 3, 6))
    assert calls == [True, False]


def test_params_is_a_live_read_only_mapping(rng):
    model = nnlib.mlp([4, 3, 2], rng=0)
    with pytest.raises(TypeError, match=r"read-only.*\[\.\.\.\] = new_values.*set_params"):
        model.params["W1"] = np.zeros((4, 3), np.float32)
    with pytest.raises(TypeError, match="read-only"):
        del model.params["b1"]
    model.params["W1"][...] = 1  # in place: reaches the model
    assert (model.layers[0].params["W"] == 1).all()
    opt = nnlib.SGD(0.1)
    grads = {k: np.ones_like(v) for k, v in model.params.items()}
    opt.step(model.params, grads)
    np.testing.assert_allclose(model.layers[0].params["W"], 0.9)
    model.params["W1"] -= 0.5  # an in-place operator, as the notebooks' optimisers write it
    np.testing.assert_allclose(model.layers[0].params["W"], 0.4)
    with pytest.raises(TypeError, match="read-only"):
        model.params["W1"] = model.params["W1"] - 0.5  # a new array: would not reach the model


def test_a_momentum_written_as_notebook_08_teaches_trains_a_real_model():
    class MyMomentum:  # the learner's piece: params[k] -= ..., in place
        def __init__(self, lr, beta=0.9):
            self.lr, self.beta, self.v = lr, beta, {}

        def step(self, params, grads):
            for k in params:
                self.v[k] = self.beta * self.v.get(k, 0) + (1 - self.beta) * grads[k]
                params[k] -= self.lr * self.v[k]

    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    mine, theirs = nnlib.mlp([4, 8, 2], rng=0), nnlib.mlp([4, 8, 2], rng=0)
    nnlib.fit(mine, X, y, MyMomentum(0.1), epochs=3, batch_size=16, verbose=False)
    nnlib.fit(theirs, X, y, nnlib.Momentum(0.1, 0.9), epochs=3, batch_size=16, verbose=False)
    for k in theirs.params:
        np.testing.assert_allclose(mine.params[k], theirs.params[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"W2": np.zeros((5, 5))}, "W2: model expects shape"),
        ({"W2": np.full((3, 2), np.nan)}, "W2 contains NaN"),
        ({"W2": np.full((3, 2), "x")}, "W2: cannot use dtype"),
        ({"W2": np.ones((3, 2)) * 1j}, "W2: cannot use dtype"),
        ({"W9": np.ones((3, 2))}, "names differ"),
    ],
)
def test_set_params_is_all_or_nothing(bad, message):
    model = nnlib.mlp([4, 3, 2], rng=0)
    before = {k: v.copy() for k, v in model.params.items()}
    new = {k: v + 1 for k, v in before.items()}
    if "W9" in bad:
        del new["W2"]
    new.update(bad)
    with pytest.raises(ValueError, match=message):
        model.set_params(new)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)  # the good new W1 was not copied either
    model.set_params({k: v + 1 for k, v in before.items()})
    np.testing.assert_array_equal(model.params["W1"], before["W1"] + 1)


def test_reprs_have_no_memory_addresses():
    model = nnlib.mlp([784, 100, 10], dropout=0.5, batchnorm=True)
    for obj in [model, *model.layers, nnlib.Adam(), nnlib.Momentum(0.1), nnlib.RMSProp(), nnlib.SGD(1.0), model.params]:
        assert " at 0x" not in repr(obj), repr(obj)
    assert repr(model).startswith("Model([Linear(n_in=784, n_out=100, init='he'), BatchNorm(n=100, momentum=0.9")
    assert repr(nnlib.Momentum(0.5, 0.9)) == "Momentum(lr=0.5, beta=0.9, form='ema')"


# ---- BatchNorm ----------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(training, rng):
    layer = BatchNorm(5, dtype=np.float64)
    layer.params["gamma"][...] = rng.normal(size=5)
    layer.params["beta"][...] = rng.normal(size=5)
    layer.state["running_mean"][...] = rng.normal(size=5)
    layer.state["running_var"][...] = rng.random(5) + 0.5
    X = rng.normal(size=(7, 5)) * 3 + 1
    state = {k: v.copy() for k, v in layer.state.items()}
    errors = gradcheck_layer(layer, X, rng.normal(size=(7, 5)), training=training)
    assert set(errors) == {"X", "gamma", "beta"} and max(errors.values()) < TOL, errors
    for k, v in state.items():  # the check leaves the running statistics alone
        np.testing.assert_array_equal(layer.state[k], v)


def test_batchnorm_forward_uses_batch_then_running_statistics(rng):
    layer = BatchNorm(3, momentum=0.8)
    X = (rng.normal(size=(500, 3)) * [1, 2, 3] + [5, -1, 0]).astype(np.float32)
    out, _ = layer.forward(X, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(layer.state["running_mean"], 0.2 * X.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.state["running_var"], 0.8 + 0.2 * X.var(axis=0), rtol=1e-5)
    out_eval, _ = layer.forward(X[:2], training=False)
    expected = (X[:2] - layer.state["running_mean"]) / np.sqrt(layer.state["running_var"] + 1e-5)
    np.testing.assert_allclose(out_eval, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.0)


def test_model_with_batchnorm_and_dropout_gradients(rng):
    model = nnlib.mlp([6, 7, 5, 3], rng=0, dtype=np.float64, batchnorm=True, dropout=0.3)
    assert list(model.params) == ["W1", "b1", "gamma2", "beta2", "W3", "b3", "gamma4", "beta4", "W5", "b5"]
    assert list(model.state) == ["running_mean2", "running_var2", "running_mean4", "running_var4"]
    assert model.sizes == [6, 7, 5, 3]
    X, Y = rng.normal(size=(9, 6)), nnlib.one_hot(rng.integers(0, 3, 9), 3, dtype=np.float64)
    errors = gradcheck_model(model, X, Y)
    # A bias just before batch norm is subtracted out again with the batch mean: its gradient is
    # exactly 0, and central differences give round-off of ~1e-11 against it. Compare it absolutely.
    assert max(v for k, v in errors.items() if k not in ("b1", "b3")) < TOL, errors
    _, grads, _ = model.loss_and_grads(X, Y)
    assert np.abs(grads["b1"]).max() < 1e-12 and np.abs(grads["b3"]).max() < 1e-12


def test_plain_mlp_keeps_its_names():
    assert list(nnlib.mlp([784, 20, 10, 10]).params) == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_batchnorm_trains_inside_mlp(rng):
    X, y = _blobs(rng, 600)
    model = nnlib.mlp([20, 32, 16, 4], batchnorm=True, rng=0)
    h = nnlib.fit(
        model,
        X[:500],
        y[:500],
        nnlib.Momentum(0.1, 0.9),
        epochs=5,
        batch_size=32,
        rng=0,
        validation=(X[500:], y[500:]),
        verbose=False,
    )
    assert h.val_acc[-1] > 0.9 and h.loss[-1] < h.loss[0]
    assert not np.allclose(model.state["running_mean2"], 0)  # the running statistics followed the batches
    # predictions use the running statistics: a row's output does not depend on its batch
    np.testing.assert_allclose(model.predict_proba(X[:3]), model.predict_proba(X)[:3], rtol=1e-5, atol=1e-7)


def test_batchnorm_save_load_round_trip_is_exact(rng, tmp_path):
    X, y = _blobs(rng, 200)
    model = nnlib.mlp([20, 16, 4], batchnorm=True, rng=0)
    nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=2, batch_size=16, verbose=False)
    path = nnlib.save_model(model, tmp_path / "bn")
    loaded = nnlib.load_model(path)
    assert loaded.spec() == model.spec()
    for k in [*model.params, *model.state]:
        source = model.params if k in model.params else model.state
        target = loaded.params if k in loaded.params else loaded.state
        np.testing.assert_array_equal(target[k], source[k])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    fresh = nnlib.mlp([20, 16, 4], batchnorm=True, rng=5)
    nnlib.load_params(fresh, path)
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))
    with pytest.raises(ValueError, match=r"(?s)another architecture.*BatchNorm\(16"):
        nnlib.load_params(nnlib.mlp([20, 16, 4], rng=0), path)


def test_model_rejects_mixed_dtypes_and_non_layers():
    with pytest.raises(ValueError, match=r"one dtype.*layer 0 \(Linear.*float64.*layer 1 \(BatchNorm.*float32"):
        Model([Linear(4, 3, dtype=np.float64), BatchNorm(3, dtype=np.float32), Linear(3, 2, dtype=np.float64)])
    with pytest.raises(ValueError, match=r"one dtype: dtype=float32.*layer 0 \(Linear"):
        Model([Linear(4, 3, dtype=np.float64), Linear(3, 2)], dtype=np.float32)
    with pytest.raises(TypeError, match="not an nnlib layer"):
        Model([Linear(4, 3), np.tanh])
    with pytest.raises(ValueError, match="do not chain"):
        Model([Linear(4, 3), BatchNorm(4)])
    assert Model([Linear(4, 3), Sigmoid()]).loss_fn is not None
