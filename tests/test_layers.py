"""Every hand-derived gradient compared with central differences, in float64."""

import numpy as np
import pytest

import nnlib
from nnlib.gradcheck import gradcheck_layer, gradcheck_model
from nnlib.layers import Linear, MeanSquaredError, Model, ReLU, Sigmoid, SoftmaxCrossEntropy

TOL = 1e-7  # stated threshold for float64 central differences with h = 1e-5


@pytest.mark.parametrize(
    "layer", [Linear(5, 3, rng=0, dtype=np.float64), ReLU(), Sigmoid()], ids=["Linear", "ReLU", "Sigmoid"]
)
def test_layer_gradients(layer, rng):
    d_in = 5 if isinstance(layer, Linear) else 3
    X = rng.normal(size=(4, d_in))
    out, _ = layer.forward(X)
    errors = gradcheck_layer(layer, X, rng.normal(size=out.shape))
    assert max(errors.values()) < TOL, errors


def test_backward_does_not_change_its_inputs(rng):
    for layer in (Linear(4, 3, rng=0, dtype=np.float64), ReLU(), Sigmoid()):
        X = rng.normal(size=(5, 4 if isinstance(layer, Linear) else 3))
        X0 = X.copy()
        out, cache = layer.forward(X)
        dout = rng.normal(size=out.shape)
        d0 = dout.copy()
        layer.backward(dout, cache)
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(dout, d0)


def test_softmax_cross_entropy_layer(rng):
    layer = SoftmaxCrossEntropy()
    Z = rng.normal(size=(6, 4))
    Y = nnlib.one_hot(rng.integers(0, 4, 6), 4, dtype=np.float64)
    P, cache = layer.forward(Z)
    loss, dZ = layer.loss_grad(P, Y, cache)
    assert loss == pytest.approx(nnlib.cross_entropy(P, Y), rel=1e-12)

    def loss():
        P, cache = layer.forward(Z)
        return layer.loss_grad(P, Y, cache)[0]

    num = nnlib.numerical_gradient(loss, Z)
    assert nnlib.rel_error(dZ, num) < TOL


def test_mean_squared_error_gradient(rng):
    A, Y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    loss, dA = MeanSquaredError()(A, Y)
    assert loss == pytest.approx(((A - Y) ** 2).sum() / 6)
    assert nnlib.rel_error(dA, nnlib.numerical_gradient(lambda: MeanSquaredError()(A, Y)[0], A)) < TOL


def _model(output):
    last = [SoftmaxCrossEntropy()] if output == "softmax" else [Sigmoid()]
    return Model(
        [
            Linear(6, 5, dtype=np.float64),
            ReLU(),
            Linear(5, 4, dtype=np.float64),
            Sigmoid(),
            Linear(4, 3, dtype=np.float64),
        ]
        + last,
        rng=3,
    )


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_whole_model_gradients(output, rng):
    model = _model(output)
    X = rng.normal(size=(7, 6))
    Y = nnlib.one_hot(rng.integers(0, 3, 7), 3, dtype=np.float64)
    errors = gradcheck_model(model, X, Y)
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < TOL, errors


def test_mlp_gradients_any_depth(rng):
    model = nnlib.mlp([8, 7, 6, 5, 4], rng=0, dtype=np.float64)
    X = rng.normal(size=(10, 8))
    Y = nnlib.one_hot(rng.integers(0, 4, 10), 4, dtype=np.float64)
    errors = gradcheck_model(model, X, Y)
    assert max(errors.values()) < TOL, errors


def test_params_and_grads_have_matching_keys_and_are_live(rng):
    model = nnlib.mlp([4, 3, 2], rng=0)
    _, grads, _ = model.loss_and_grads(rng.normal(size=(2, 4)).astype(np.float32), np.eye(2, dtype=np.float32))
    assert list(grads) == list(model.params) == ["W1", "b1", "W2", "b2"]
    assert all(grads[k].shape == v.shape for k, v in model.params.items())
    model.params["W1"][...] = 0  # the dict holds the model's own arrays
    assert not model.layers[0].params["W"].any()


def test_layers_without_rng_get_distinct_reproducible_weights():
    a = Model([Linear(5, 5), ReLU(), Linear(5, 5), SoftmaxCrossEntropy()])
    b = Model([Linear(5, 5), ReLU(), Linear(5, 5), SoftmaxCrossEntropy()])
    assert not np.array_equal(a.params["W1"], a.params["W2"])
    np.testing.assert_array_equal(a.params["W2"], b.params["W2"])


def test_model_rejects_bad_construction_and_inputs():
    with pytest.raises(ValueError, match="do not chain"):
        Model([Linear(4, 3), Linear(5, 2)])
    with pytest.raises(ValueError, match="last layer"):
        Model([Linear(4, 3), SoftmaxCrossEntropy(), Linear(3, 2)])
    model = nnlib.mlp([784, 10, 10])
    with pytest.raises(ValueError, match=r"\(N, 784\).*did you mean X.T"):
        model.predict(np.zeros((784, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="one-hot"):
        model.loss_and_grads(np.zeros((5, 784), np.float32), np.zeros((5, 9), np.float32))
    with pytest.raises(ValueError, match="shape"):
        model.set_params({**model.params, "W1": np.zeros((3, 3))})


def test_spec_round_trip():
    model = Model([Linear(784, 30), ReLU(), Linear(30, 10), Sigmoid()])
    assert Model.from_spec(model.spec()).spec() == model.spec()
    assert repr(model).startswith("Model([Linear(n_in=784, n_out=30")
    assert model.sizes == [784, 30, 10]
