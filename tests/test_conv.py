"""nnlib.conv: Conv2D, MaxPool2D, Flatten, im2col and col2im.

Forward passes are compared with plain loops written from the formulas; backward passes with numerical
gradients in float64 of ``sum(forward(X) * dout)`` for a random (non-uniform) dout, so that every output's
gradient is weighted differently and a gradient sent to the wrong place cannot cancel out.
"""

import numpy as np
import pytest

import nnlib
from nnlib.conv import Conv2D, Flatten, MaxPool2D, col2im, conv_output_size, im2col, pad_images
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import LAYER_TYPES

from conv_reference import conv_naive  # tests/conv_reference.py: the convolution in loops

TOL = 1e-7  # rel_error of a right gradient in float64 (about 1e-9 here); a wrong one is above 1e-2


# -- references: loops, straight from the formulas ------------------------------------------------------


def maxpool_loops(X, k):
    N, C, H, Wd = X.shape
    out = np.zeros((N, C, H // k, Wd // k))
    for i in range(H // k):
        for j in range(Wd // k):
            out[:, :, i, j] = X[:, :, i * k : i * k + k, j * k : j * k + k].max(axis=(2, 3))
    return out


def grad_errors(layer, X, dout, need_dX=True):
    """rel_error of the layer's dX and of each parameter's gradient against numerical ones."""

    def f():
        return float(np.sum(layer.forward(X, training=True)[0] * dout))

    out, cache = layer.forward(X, training=True)
    dX = layer.backward(dout, cache, need_dX=need_dX)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    errors = {name: rel_error(grads[name], numerical_gradient(f, p)) for name, p in layer.params.items()}
    if need_dX:
        errors["X"] = rel_error(dX, numerical_gradient(f, X))
    return errors


CASES = [  # (N, C, H, W, F, kh, kw, stride, pad): non-square images and kernels, F unlike everything else
    (2, 3, 7, 6, 4, 3, 3, 1, 0),
    (2, 3, 7, 6, 4, 3, 3, 1, 1),
    (2, 3, 7, 6, 4, 3, 3, 2, 0),
    (2, 3, 7, 6, 4, 3, 3, 2, 1),
    (3, 2, 6, 9, 5, 2, 3, 1, 1),
    (2, 2, 8, 7, 3, 3, 2, 2, 1),
    (1, 1, 9, 8, 2, 2, 2, 3, 0),  # stride > kernel: pixels that no window reads
]
IDS = [f"{h}x{w}-k{kh}x{kw}-s{s}-p{p}" for _, _, h, w, _, kh, kw, s, p in CASES]


def conv_case(case, seed=0):
    N, C, H, Wd, F, kh, kw, stride, pad = case
    rng = np.random.default_rng(seed)
    layer = Conv2D(C, F, (kh, kw), stride=stride, padding=pad, rng=seed, dtype=np.float64)
    layer.params["b"][...] = rng.normal(size=F)  # a bias that is not zero
    return layer, rng.normal(size=(N, C, H, Wd)), rng


# -- im2col and col2im ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_im2col_puts_each_window_in_a_column(case):
    N, C, H, Wd, F, kh, kw, s, p = case
    X = np.random.default_rng(1).normal(size=(N, C, H, Wd))
    cols = im2col(X, kh, kw, s, p)
    Ho, Wo = conv_output_size(H, kh, s, p), conv_output_size(Wd, kw, s, p)
    assert cols.shape == (N, C * kh * kw, Ho * Wo)
    Xp = pad_images(X, p)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                window = Xp[n, :, i * s : i * s + kh, j * s : j * s + kw]
                np.testing.assert_array_equal(cols[n, :, i * Wo + j], window.ravel())
    # the other layout, one row per window, is a transpose away (as the docstring says)
    rows = cols.transpose(0, 2, 1).reshape(-1, C * kh * kw)
    last = N * Ho * Wo - 1  # the last example's last window
    np.testing.assert_array_equal(
        rows[last], Xp[-1, :, (Ho - 1) * s : (Ho - 1) * s + kh, (Wo - 1) * s : (Wo - 1) * s + kw].ravel()
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_col2im_is_the_gradient_of_im2col(case):
    """<im2col(X), D> = <X, col2im(D)> for every X and D: col2im is im2col's adjoint, adding where windows overlap."""
    N, C, H, Wd, F, kh, kw, s, p = case
    rng = np.random.default_rng(2)
    X = rng.normal(size=(N, C, H, Wd))
    D = rng.normal(size=im2col(X, kh, kw, s, p).shape)
    dX = col2im(D, X.shape, kh, kw, s, p)
    assert dX.shape == X.shape
    assert np.sum(im2col(X, kh, kw, s, p) * D) == pytest.approx(np.sum(X * dX), rel=1e-12)
    # and each pixel's gradient counts every window that holds it: all-ones D gives the coverage counts
    count = col2im(np.ones_like(D), X.shape, kh, kw, s, p)
    ones = im2col(np.ones_like(X), kh, kw, s, p)
    assert count.sum() == ones.sum()
    if s == 1 and p == 0:
        assert count[0, 0, kh - 1, kw - 1] == kh * kw  # a pixel inside: read by every offset


def test_im2col_refuses_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.zeros((1, 1, 2, 5)), 3, 3)


def test_pad_images_is_np_pad():
    X = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    Xp = pad_images(X, 2)
    np.testing.assert_array_equal(Xp, np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2))))
    assert Xp.dtype == np.float32 and pad_images(X, 0) is X


# -- Conv2D ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_forward_equals_the_loops(case):
    layer, X, _ = conv_case(case)
    out, _ = layer.forward(X)
    expected = conv_naive(X, layer.params["W"], layer.params["b"], layer.stride, layer.padding)
    assert out.shape == expected.shape == (len(X), *layer.output_shape(X.shape[1:]))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_backward_matches_numerical_gradients(case):
    layer, X, rng = conv_case(case)
    dout = rng.normal(size=(len(X), *layer.output_shape(X.shape[1:])))
    errors = grad_errors(layer, X, dout)
    assert set(errors) == {"W", "b", "X"}
    assert max(errors.values()) < TOL, errors


def test_conv_without_dX_returns_none_and_the_same_grads():
    layer, X, rng = conv_case(CASES[3])
    out, cache = layer.forward(X)
    dout = rng.normal(size=out.shape)
    layer.backward(dout, cache)
    full = {k: v.copy() for k, v in layer.grads.items()}
    assert layer.backward(dout, cache, need_dX=False) is None
    for k in full:
        np.testing.assert_array_equal(layer.grads[k], full[k])


def test_conv_forward_float32_and_no_change_to_its_input():
    layer = Conv2D(1, 8, 3, padding=1, rng=0)
    X = np.random.default_rng(0).random((5, 1, 28, 28), dtype=np.float32)
    before = X.copy()
    out, cache = layer.forward(X)
    assert out.dtype == np.float32 and out.shape == (5, 8, 28, 28)
    dX = layer.backward(np.ones_like(out), cache)
    assert dX.dtype == np.float32 and dX.shape == X.shape
    assert layer.grads["W"].dtype == np.float32 and layer.grads["W"].shape == (8, 1, 3, 3)
    np.testing.assert_array_equal(X, before)


def test_conv_init_and_spec():
    layer = Conv2D(8, 16, 3, rng=0)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (16, 8, 3, 3) and b.shape == (16,) and W.dtype == np.float32 and not b.any()
    big = Conv2D(64, 64, 3, rng=0).params["W"]
    assert big.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.02)  # He: fan_in = C*kh*kw
    for cls in (Conv2D, MaxPool2D, Flatten):  # registered by being defined
        assert LAYER_TYPES[cls.__name__] is cls
    for layer in (Conv2D(3, 4, 3, stride=2, padding=1, init="xavier"), Conv2D(3, 4, (2, 3))):
        spec = layer.spec()
        again = Conv2D.from_spec({k: v for k, v in spec.items() if k != "type"})
        assert again.spec() == spec and again.params["W"].shape == layer.params["W"].shape
    assert Conv2D(3, 4, (2, 3)).spec()["kernel_size"] == [2, 3]
    assert Conv2D(3, 4, [3, 3]).spec()["kernel_size"] == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_channels=0, out_channels=4, kernel_size=3), "in_channels"),
        (dict(in_channels=1, out_channels=4, kernel_size=0), "kernel_size"),
        (dict(in_channels=1, out_channels=4, kernel_size=3, stride=0), "stride"),
        (dict(in_channels=1, out_channels=4, kernel_size=3, padding=-1), "padding"),
        (dict(in_channels=1, out_channels=4, kernel_size=3, init="zeros"), "init"),
    ],
)
def test_conv_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_conv_errors_name_the_layer_and_the_shapes():
    layer = Conv2D(3, 4, 3, rng=0)
    with pytest.raises(ValueError, match=r"Conv2D\(in_channels=3.*\(N, 3, H, W\).*\(2, 1, 8, 8\)"):
        layer.forward(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"Conv2D.*\(2, 784\).*reshape"):
        layer.forward(np.zeros((2, 784), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        layer.output_shape((3, 2, 8))
    with pytest.raises(ValueError, match=r"\(3, H, W\).*\(1, 28, 28\)"):
        layer.output_shape((1, 28, 28))
    with pytest.raises(TypeError, match="float32 weights but X is float64"):
        layer.forward(np.zeros((2, 3, 8, 8)))
    with pytest.raises(TypeError, match="float images"):
        layer.forward(np.zeros((2, 3, 8, 8), np.uint8))


# -- MaxPool2D ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, k", [((2, 3, 8, 6), 2), ((2, 3, 7, 6), 2), ((1, 2, 9, 7), 3), ((2, 1, 5, 5), 1)])
def test_maxpool_forward_equals_the_loops(shape, k):
    X = np.random.default_rng(3).normal(size=shape)
    layer = MaxPool2D(k)
    out, _ = layer.forward(X)
    np.testing.assert_array_equal(out, maxpool_loops(X, k))
    assert out.shape == (shape[0], *layer.output_shape(shape[1:]))


@pytest.mark.parametrize("shape, k", [((2, 3, 8, 6), 2), ((2, 3, 7, 6), 2), ((1, 2, 9, 7), 3)])
def test_maxpool_backward_matches_numerical_gradients(shape, k):
    rng = np.random.default_rng(4)
    X = rng.permutation(np.prod(shape)).reshape(shape) * 0.01  # distinct values, 0.01 apart: no kinks within h
    layer = MaxPool2D(k)
    dout = rng.normal(size=(shape[0], *layer.output_shape(shape[1:])))
    errors = grad_errors(layer, X, dout)
    assert errors["X"] < TOL, errors
    dX = layer.backward(dout, layer.forward(X)[1])
    if shape[2] % k:  # floor: the rows left over get no gradient
        assert not dX[:, :, -(shape[2] % k) :].any()


def test_maxpool_ties_go_to_the_first_max_in_row_major_order():
    X = np.array([[[[1.0, 1.0, 0.0, 5.0], [1.0, 1.0, 5.0, 5.0], [2.0, 0.0, 3.0, 3.0], [2.0, 1.0, 0.0, 3.0]]]])
    layer = MaxPool2D(2)
    out, cache = layer.forward(X)
    np.testing.assert_array_equal(out, [[[[1.0, 5.0], [2.0, 3.0]]]])
    dout = np.array([[[[10.0, 20.0], [30.0, 40.0]]]])
    dX = layer.backward(dout, cache)
    np.testing.assert_array_equal(
        dX, [[[[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0], [30.0, 0.0, 40.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    )
    assert dX.sum() == dout.sum()  # each window's gradient goes to one input only
    np.testing.assert_array_equal(layer.backward(dout, cache), dX)  # and the same each time


def test_maxpool_errors_and_spec():
    layer = MaxPool2D(3)
    assert layer.spec() == {"type": "MaxPool2D", "size": 3}
    assert layer.output_shape((4, 7, 9)) == (4, 2, 3)
    with pytest.raises(ValueError, match=r"MaxPool2D\(size=3\).*3x3 window does not fit in a 2x9"):
        layer.output_shape((4, 2, 9))
    with pytest.raises(ValueError, match=r"MaxPool2D.*\(N, C, H, W\).*\(5, 10\)"):
        layer.forward(np.zeros((5, 10)))
    with pytest.raises(ValueError, match="size"):
        MaxPool2D(0)


# -- Flatten --------------------------------------------------------------------------------------------


def test_flatten_forward_and_backward():
    X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    layer = Flatten()
    out, cache = layer.forward(X)
    assert out.shape == (2, 60) and layer.output_shape((3, 4, 5)) == (60,)
    np.testing.assert_array_equal(out[1], X[1].ravel())  # channel, then row, then column
    dX = layer.backward(out * 2, cache)
    np.testing.assert_array_equal(dX, X * 2)
    assert layer.spec() == {"type": "Flatten"}


# -- in a Model ---------------------------------------------------------------------------------------


def small_cnn(dtype=None, rng=0):
    return nnlib.Model(
        [
            Conv2D(1, 4, 3, padding=1),
            nnlib.ReLU(),
            MaxPool2D(2),
            Conv2D(4, 6, 3, stride=2, padding=1),
            nnlib.ReLU(),
            Flatten(),
            nnlib.Linear(6 * 2 * 2, 3),
            nnlib.SoftmaxCrossEntropy(),
        ],
        rng=rng,
        dtype=dtype,
    )


def bars(n, rng, side=8):
    """Images (n, 1, side, side) of one bar, its direction the class: 0 horizontal, 1 vertical, 2 diagonal."""
    y = rng.integers(0, 3, n)
    X = rng.normal(0, 0.1, size=(n, 1, side, side)).astype(np.float32)
    at = rng.integers(1, side - 1, n)
    for i in range(n):
        if y[i] == 0:
            X[i, 0, at[i], :] += 1
        elif y[i] == 1:
            X[i, 0, :, at[i]] += 1
        else:
            X[i, 0][np.eye(side, k=at[i] - side // 2, dtype=bool)] += 1
    return X, y


def test_model_chains_the_shapes_and_names_the_arrays():
    model = small_cnn()
    model.check_input(np.zeros((1, 1, 8, 8), np.float32))
    assert model.shapes == [(1, 8, 8), (4, 8, 8), (4, 8, 8), (4, 4, 4), (6, 2, 2), (6, 2, 2), (24,), (3,), (3,)]
    assert list(model.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    a, b = small_cnn(rng=1), small_cnn(rng=1)
    np.testing.assert_array_equal(a.params["W2"], b.params["W2"])  # drawn from the model's generator
    assert not np.array_equal(a.params["W2"], small_cnn(rng=2).params["W2"])
    with pytest.raises(ValueError, match="Linear.*cannot take|cannot take.*Linear"):
        nnlib.Model([Conv2D(1, 4, 3), Flatten(), nnlib.Linear(10, 3)], input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match="Flatten"):
        nnlib.Model([Conv2D(1, 4, 3), nnlib.Linear(144, 3)], input_shape=(1, 8, 8))


def test_model_gradients_match_numerical_ones():
    """The whole chain, conv -> ReLU -> pool -> strided conv -> ReLU -> flatten -> linear -> loss, in float64."""
    rng = np.random.default_rng(5)
    model = small_cnn(dtype=np.float64)
    X = rng.normal(size=(3, 1, 8, 8))
    y = np.array([0, 2, 1])
    _, grads, _ = model.loss_and_grads(X, y)
    grads = {k: v.copy() for k, v in grads.items()}
    for name, p in model.params.items():
        num = numerical_gradient(lambda: model.loss_and_grads(X, y)[0], p)
        assert rel_error(grads[name], num) < 1e-6, name


def test_a_small_cnn_learns_with_fit():
    rng = np.random.default_rng(6)
    X, y = bars(256, rng)
    model = small_cnn()
    before = nnlib.evaluate(model, X, y)[0]
    history = nnlib.fit(model, X, y, nnlib.Momentum(0.5, 0.9), epochs=8, batch_size=32, rng=0, verbose=False)
    loss, acc = nnlib.evaluate(model, X, y)
    assert history.loss[-1] < history.loss[0] and loss < 0.5 * before, (before, history.loss)
    assert acc > 0.9


def test_save_and_load_a_cnn(tmp_path):
    rng = np.random.default_rng(7)
    X, y = bars(64, rng)
    model = small_cnn()
    nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, batch_size=32, rng=0, verbose=False)
    path = nnlib.save_model(model, tmp_path / "cnn.npz")
    loaded = nnlib.load_model(path)
    assert loaded.spec() == model.spec()
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    for name, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], value)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
