"""Layers on arrays of any per-example shape: registration by definition, shapes chained through
``output_shape``, ``need_dX`` only where declared, the model's dtype, and the loss as a layer."""

import numpy as np
import pytest

import nnlib
from nnlib.gradcheck import gradcheck_layer, gradcheck_model
from nnlib.layers import (
    LAYER_TYPES,
    BatchNorm,
    Dropout,
    Layer,
    Linear,
    LossLayer,
    MeanSquaredError,
    Model,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
)

TOL = 1e-7


class Unroll(Layer):
    """(C, H, W) -> (C*H*W,), a flatten written only against the contract, with the two-argument backward."""

    def output_shape(self, in_shape):
        return (int(np.prod(in_shape)),)

    def forward(self, X, training=False):
        return X.reshape(len(X), -1), X.shape

    def backward(self, dout, cache):
        return dout.reshape(cache)


class ChannelScale(Layer):
    """(C, H, W) -> (C, H, W): out = X * s[c], one trained scale per channel; fixes C but not H and W."""

    def __init__(self, channels, dtype=None):
        super().__init__()
        self.channels, self.dtype = channels, dtype
        self.params = {"s": np.linspace(0.5, 1.5, channels).astype(dtype or np.float32)}

    def spec(self):
        return {"type": "ChannelScale", "channels": self.channels}

    def output_shape(self, in_shape):
        if len(in_shape) != 3 or in_shape[0] != self.channels:
            raise ValueError(f"{self!r} takes ({self.channels}, H, W) per example, got {tuple(in_shape)}")
        return tuple(in_shape)

    def forward(self, X, training=False):
        return X * self.params["s"][:, None, None], X

    def backward(self, dout, cache):
        self.grads = {"s": (dout * cache).sum(axis=(0, 2, 3))}
        return dout * self.params["s"][:, None, None]


def _images(rng, n=64):
    y = rng.integers(0, 3, n)
    X = rng.random((n, 2, 5, 5), dtype=np.float32)
    X[np.arange(n), 0, y, y] += 2  # the class is where a bright pixel sits
    return X, y


# ---- 1 (a): registration by definition ------------------------------------------------------------------
def test_defining_a_layer_registers_it_and_redefining_replaces_it():
    assert LAYER_TYPES["Unroll"] is Unroll and LAYER_TYPES["ChannelScale"] is ChannelScale
    for name in ("Linear", "BatchNorm", "SoftmaxCrossEntropy", "MeanSquaredError"):
        assert LAYER_TYPES[name] is getattr(nnlib.layers, name)
    assert "LossLayer" not in LAYER_TYPES and "Layer" not in LAYER_TYPES  # base classes are never built

    class Twice(Layer):
        def forward(self, X, training=False):
            return 2 * X, None

    first = Twice

    class Twice(Layer):  # the same cell run again  # noqa: F811
        def forward(self, X, training=False):
            return 3 * X, None

    try:
        assert LAYER_TYPES["Twice"] is Twice is not first
    finally:
        del LAYER_TYPES["Twice"]


def test_a_layer_of_ones_own_saves_and_loads_without_a_list_to_edit(rng, tmp_path):
    X, y = _images(rng)
    model = Model([ChannelScale(2), Unroll(), Linear(50, 3), SoftmaxCrossEntropy()])
    assert model.input_shape is None  # ChannelScale fixes C only: taken from X
    nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, batch_size=16, verbose=False)
    assert model.input_shape == (2, 5, 5) and model.shapes[-1] == (3,)
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "own.npz"))
    assert loaded.input_shape == (2, 5, 5)  # the file keeps the input shape
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ---- 1 (b, c): shapes chained through output_shape ------------------------------------------------------
def test_linear_declares_its_shapes_and_names_both_on_a_mismatch():
    layer = Linear(6, 4)
    assert layer.output_shape((6,)) == (4,) and layer.input_shape == (6,)
    with pytest.raises(ValueError, match=r"Linear\(n_in=6, n_out=4.*\(6,\).*got \(5,\)"):
        layer.output_shape((5,))
    with pytest.raises(ValueError, match=r"got \(1, 2, 3\).*Flatten"):
        layer.output_shape((1, 2, 3))
    assert ReLU().output_shape((8, 3, 3)) == (8, 3, 3) and Dropout(0.5).output_shape((7,)) == (7,)
    assert BatchNorm(5).output_shape((5,)) == (5,)
    with pytest.raises(ValueError, match=r"BatchNorm.*\(5,\).*got \(4,\)"):
        BatchNorm(5).output_shape((4,))


def test_model_chains_shapes_and_a_mismatch_names_the_layer_its_index_and_the_shapes():
    model = Model([Linear(4, 3), ReLU(), Linear(3, 2), SoftmaxCrossEntropy()])
    assert model.input_shape == (4,) and model.shapes == [(4,), (3,), (3,), (2,), (2,)]
    assert (model.n_in, model.n_out, model.sizes) == (4, 2, [4, 3, 2])
    with pytest.raises(ValueError, match=r"do not chain: layer 2, Linear\(n_in=5.*layer 1, ReLU\(\).*\(3,\)"):
        Model([Linear(4, 3), ReLU(), Linear(5, 2)])
    with pytest.raises(ValueError, match=r"layer 2, Linear\(n_in=49.*\(2, 5, 5\).*Flatten"):
        Model([ChannelScale(2), ReLU(), Linear(49, 3)], input_shape=(2, 5, 5))
    with pytest.raises(ValueError, match=r"layer 0, ChannelScale.*model's input of shape \(3, 5, 5\)"):
        Model([ChannelScale(2), Unroll(), Linear(75, 3)], input_shape=(3, 5, 5))
    with pytest.raises(ValueError, match=r"input_shape=\(5,\) but the first layer, Linear\(n_in=4"):
        Model([Linear(4, 3)], input_shape=(5,))


def test_an_image_model_trains_with_fit_and_checks_its_input(rng):
    X, y = _images(rng, 200)
    model = Model([ChannelScale(2), ReLU(), Unroll(), Linear(50, 3), SoftmaxCrossEntropy()], input_shape=(2, 5, 5))
    assert model.shapes == [(2, 5, 5), (2, 5, 5), (2, 5, 5), (50,), (3,), (3,)] and model.n_out == 3
    h = nnlib.fit(model, X, y, nnlib.Adam(1e-2), epochs=5, batch_size=32, verbose=False)
    assert h.loss[-1] < h.loss[0] and (model.predict(X) == y).mean() > 0.9
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2, 5, 5\), got \(3, 50\).*reshape"):
        model.predict(X.reshape(len(X), -1)[:3])
    with pytest.raises(ValueError, match=r"\(N, 2, 5, 5\), got \(2, 5, 5\).*X\[None\]"):
        model.predict(X[0])
    errors = gradcheck_model(
        Model([ChannelScale(2, np.float64), Unroll(), Linear(50, 3), SoftmaxCrossEntropy()]),
        X[:5].astype(np.float64),
        nnlib.one_hot(y[:5], 3, np.float64),
    )
    assert max(errors.values()) < TOL, errors


def test_a_layer_that_only_sets_its_widths_chains_by_them():
    class Widths(Layer):  # as notebook 10's MyLinear: n_in and n_out, no output_shape
        def __init__(self, n_in, n_out):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.params = {"W": np.ones((n_in, n_out), np.float32)}

    try:
        model = Model([Widths(4, 3), ReLU(), Linear(3, 2), SoftmaxCrossEntropy()])
        assert model.shapes == [(4,), (3,), (3,), (2,), (2,)] and model.sizes == [4, 3, 2]
        with pytest.raises(ValueError, match=r"layer 1, Linear\(n_in=4.*layer 0, Widths.*\(3,\)"):
            Model([Widths(4, 3), Linear(4, 2)])
        with pytest.raises(ValueError, match=r"layer 1, Widths.*\(3,\) per example, got \(2,\)"):
            Model([Linear(4, 2), Widths(3, 3)])
    finally:
        del LAYER_TYPES["Widths"]


def test_the_issue_s_convolutional_model_trains_with_fit(rng):
    conv = pytest.importorskip("nnlib.conv")
    X, y = rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    model = nnlib.Model(
        [conv.Conv2D(1, 8, 3, padding=1), ReLU(), conv.MaxPool2D(2), conv.Flatten(), Linear(8 * 14 * 14, 10)]
    )
    h = nnlib.fit(model, X, y, nnlib.Adam(1e-3), batch_size=32, epochs=2, verbose=False)
    assert model.shapes == [(1, 28, 28), (8, 28, 28), (8, 28, 28), (8, 14, 14), (8 * 14 * 14,), (10,)]
    assert np.isfinite(h.loss).all() and h.loss[-1] < h.loss[0]
    with pytest.raises(ValueError, match=r"layer 3, Linear.*layer 2, MaxPool2D.*\(8, 14, 14\).*Flatten"):
        nnlib.Model(
            [conv.Conv2D(1, 8, 3, padding=1), ReLU(), conv.MaxPool2D(2), Linear(8 * 14 * 14, 10)],
            input_shape=(1, 28, 28),
        )


def test_a_model_without_a_fixed_input_shape_takes_it_from_the_first_x(rng):
    model = Model([ReLU(), Linear(4, 2), SoftmaxCrossEntropy()])  # ReLU takes any shape: Linear fixes it
    assert model.input_shape is None and model.n_in is None
    model.predict(rng.random((3, 4)))
    assert model.input_shape == (4,) and model.n_in == 4 and model.sizes == [4, 2]
    other = Model([ReLU(), Linear(4, 2)])
    with pytest.raises(ValueError, match=r"layer 1, Linear\(n_in=4.*\(5,\)"):
        other.predict(rng.random((3, 5)))


# ---- 1 (d): need_dX only where backward declares it ----------------------------------------------------
def test_a_backward_without_need_dX_trains_and_one_with_it_is_told():
    calls = []

    class PlainLinear(Linear):
        def backward(self, dZ, cache):
            calls.append("plain")
            return super().backward(dZ, cache)

    class Keyword(Linear):
        def backward(self, dZ, cache, **kwargs):
            calls.append(kwargs)
            return super().backward(dZ, cache, **kwargs)

    try:
        rng = np.random.default_rng(0)
        X, y = rng.random((40, 4), dtype=np.float32), rng.integers(0, 2, 40)
        model = Model([PlainLinear(4, 3), ReLU(), Keyword(3, 3), ReLU(), PlainLinear(3, 2), SoftmaxCrossEntropy()])
        nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, batch_size=40, verbose=False)
        assert calls == ["plain", {"need_dX": True}, "plain"]
        calls.clear()
        Model([Keyword(4, 2), SoftmaxCrossEntropy()]).loss_and_grads(X, y)
        assert calls == [{"need_dX": False}]
    finally:
        del LAYER_TYPES["PlainLinear"], LAYER_TYPES["Keyword"]


# ---- 3: the model's dtype -------------------------------------------------------------------------------
def test_layers_without_a_dtype_adopt_the_models_and_a_float64_batchnorm_model_gradient_checks(rng):
    model = Model(
        [Linear(6, 5, dtype=np.float64), BatchNorm(5), ReLU(), Linear(5, 3, dtype=np.float64), SoftmaxCrossEntropy()]
    )
    assert model.dtype == np.float64
    assert {v.dtype for v in [*model.params.values(), *model.state.values()]} == {np.dtype(np.float64)}
    X, Y = rng.normal(size=(7, 6)), nnlib.one_hot(rng.integers(0, 3, 7), 3, np.float64)
    errors = gradcheck_model(model, X, Y)
    assert max(v for k, v in errors.items() if k != "b1") < TOL, errors
    assert Model([Linear(6, 5), BatchNorm(5), Linear(5, 3)], dtype=np.float64).params["W1"].dtype == np.float64
    # a Linear layer drawn in the model's dtype: the same numbers as asking for it
    np.testing.assert_array_equal(
        Model([Linear(6, 5)], dtype=np.float64).params["W1"], Model([Linear(6, 5, dtype=np.float64)]).params["W1"]
    )
    assert Model([Linear(6, 5)]).dtype == np.float32
    relu = ReLU()  # a layer without arrays can join models of either dtype
    Model([Linear(6, 5, dtype=np.float64), relu])
    assert relu.dtype is None and Model([Linear(6, 5, dtype=np.float32), relu]).dtype == np.float32


def test_a_real_dtype_conflict_is_an_error_naming_both_layers():
    class Stubborn(ChannelScale):
        def set_dtype(self, dtype):
            pass

    try:
        with pytest.raises(ValueError, match=r"one dtype, float32, but \{'s1': 'float64'\}.*set_dtype"):
            stubborn = Stubborn(2)  # asks for no dtype, holds float64
            stubborn.params["s"] = stubborn.params["s"].astype(np.float64)
            Model([stubborn, Unroll(), Linear(50, 3)])
    finally:
        del LAYER_TYPES["Stubborn"]
    with pytest.raises(ValueError, match=r"layer 0 \(Linear.*asks for float64, but layer 2 \(Linear.*float32"):
        Model([Linear(6, 5, dtype=np.float64), ReLU(), Linear(5, 3, dtype=np.float32)])
    with pytest.raises(ValueError, match="float type"):
        Linear(3, 2, dtype=np.int32)


# ---- 4: the loss inside the contract --------------------------------------------------------------------
def test_the_loss_is_a_layer_and_every_model_has_one():
    soft = Model([Linear(4, 3), SoftmaxCrossEntropy()])
    assert isinstance(soft.loss_fn, SoftmaxCrossEntropy) and soft.loss_fn is soft.layers[-1]
    mse = Model([Linear(4, 3), Sigmoid()])
    assert isinstance(mse.loss_fn, MeanSquaredError) and mse.spec() == [
        {"type": "Linear", "n_in": 4, "n_out": 3, "init": "he"},
        {"type": "Sigmoid"},
    ]
    with pytest.raises(ValueError, match="layer 1, SoftmaxCrossEntropy, is a loss layer: it must be the last"):
        Model([Linear(4, 3), SoftmaxCrossEntropy(), Linear(3, 2)])


def test_an_explicit_mse_layer_gives_the_same_numbers_as_the_implicit_one(rng):
    X, y = rng.random((9, 4), dtype=np.float32), rng.integers(0, 3, 9)
    implicit = Model([Linear(4, 3), Sigmoid()], rng=2)
    explicit = Model([Linear(4, 3), Sigmoid(), MeanSquaredError()], rng=2)
    a, b = implicit.loss_and_grads(X, y), explicit.loss_and_grads(X, y)
    assert a[0] == b[0] and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])


def test_softmax_backward_is_the_softmax_jacobian():
    rng = np.random.default_rng(1)
    errors = gradcheck_layer(SoftmaxCrossEntropy(), rng.normal(size=(5, 4)), rng.normal(size=(5, 4)))
    assert max(errors.values()) < TOL, errors


def test_a_loss_layer_of_ones_own_trains():
    class Hinge(LossLayer):
        """Mean multiclass hinge loss on scores S (N, C): sum over wrong classes of max(0, 1 + S_j - S_y) / N."""

        def forward(self, S, training=False):
            return S, None

        def backward(self, dout, cache):
            return dout

        def _margins(self, S, Y):
            correct = (S * Y).sum(axis=1, keepdims=True)
            return np.maximum(0, 1 + S - correct) * (1 - Y)

        def loss(self, S, Y, cache):
            return float(self._margins(S, Y).sum()) / len(S)

        def loss_grad(self, S, Y, cache):
            on = (self._margins(S, Y) > 0).astype(S.dtype)
            dS = on - Y * on.sum(axis=1, keepdims=True)
            return self.loss(S, Y, cache), dS / len(S)

    try:
        rng = np.random.default_rng(3)
        X, y = rng.normal(size=(60, 4)).astype(np.float32), rng.integers(0, 3, 60)
        X[np.arange(60), y] += 3
        model = Model([Linear(4, 3), Hinge()])
        h = nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=10, batch_size=20, verbose=False)
        assert h.loss[-1] < h.loss[0] and (model.predict(X) == y).mean() > 0.9
        errors = gradcheck_model(
            Model([Linear(4, 3, dtype=np.float64), Hinge()], rng=1),
            X[:6].astype(np.float64),
            nnlib.one_hot(y[:6], 3, np.float64),
        )
        assert max(errors.values()) < 1e-6, errors
    finally:
        del LAYER_TYPES["Hinge"]
