"""nnlib.drawing: a drawing becomes the network's input as MNIST's digits were made.

The main check turns MNIST test digits back into drawings as a person makes them on the pad's canvas
(several times larger, a pen without grey levels, anywhere on the canvas, thicker or thinner strokes) and
asks to_mnist to recover the originals: close pixel for pixel, and read as well by a trained network.
"""

import numpy as np
import pytest

import nnlib
from checking import small_cnn  # tests/checking.py
from nnlib.drawing import as_model_input, box_matrix, read_image, render_strokes, saliency, to_mnist
from nnlib.widgets import png_bytes

CANVAS = 280


def _disc_offsets(r):
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dy * dy + dx * dx <= r * r]


def _morph(ink, r):
    """Binary dilation (r > 0) or erosion (r < 0) by a disc of radius |r| pixels, by shifting: plain NumPy."""
    if r == 0:
        return ink
    a = abs(r)
    pad = np.pad(ink if r > 0 else ~ink, a)
    out = np.zeros_like(pad)
    for dy, dx in _disc_offsets(a):
        out[a:-a, a:-a] |= pad[a + dy : pad.shape[0] - a + dy, a + dx : pad.shape[1] - a + dx]
    out = out[a:-a, a:-a]
    return out if r > 0 else ~out


def as_drawn(x, rng, scale, stroke=0):
    """MNIST digit x (784,) as a person draws it on a CANVAS x CANVAS pad: scaled up ``scale`` times, drawn
    with a pen (ink or no ink), ``stroke`` pixels thicker (> 0) or thinner (< 0), at a random place."""
    big = np.kron(x.reshape(28, 28), np.ones((scale, scale), np.float32)) > 0.5
    big = _morph(big, stroke)
    rows, cols = np.flatnonzero(big.any(1)), np.flatnonzero(big.any(0))
    big = big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    top = rng.integers(0, CANVAS - big.shape[0] + 1)
    left = rng.integers(0, CANVAS - big.shape[1] + 1)
    canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
    return canvas


# How each kind of drawing is made: (scale, stroke change in canvas pixels).
KINDS = {"scaled": (6, 0), "thicker": (6, 3), "thinner": (8, -1), "large": (9, 0)}
# The closeness each must reach (mean over 300 test digits, measured: see test_drawings_come_back_close):
# correlation with the original, and mean absolute pixel difference.
# Measured: scaled 0.914 / 0.035, thicker 0.886 / 0.052, thinner 0.906 / 0.035, large 0.915 / 0.035; a box placed
# by its middle instead of its centre of mass gives 0.61 / 0.091, a stretched box 0.63 / 0.119, black on white
# -0.91 / 0.958 (test_the_closeness_check_catches_a_wrong_preprocessing).
CLOSE = {"scaled": (0.90, 0.045), "thicker": (0.87, 0.065), "thinner": (0.88, 0.05), "large": (0.90, 0.045)}


def _closeness(fn, X, rng, kind):
    scale, stroke = KINDS[kind]
    corr, mad = [], []
    for x in X:
        y = fn(as_drawn(x, rng, scale, stroke))
        corr.append(np.corrcoef(x, y)[0, 1])
        mad.append(np.abs(x - y).mean())
    return float(np.mean(corr)), float(np.mean(mad))


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist.X_test[:300], mnist.y_test[:300]


@pytest.mark.parametrize("kind", list(KINDS))
def test_drawings_come_back_close(digits, kind):
    X, _ = digits
    corr, mad = _closeness(to_mnist, X, np.random.default_rng(0), kind)
    print(f"{kind}: correlation {corr:.3f}, mean |difference| {mad:.4f}")
    min_corr, max_mad = CLOSE[kind]
    assert corr >= min_corr and mad <= max_mad, f"{kind}: correlation {corr:.3f}, mean |difference| {mad:.4f}"


def test_a_trained_network_reads_drawings_as_well_as_the_originals(mnist):
    """Within 2 points of accuracy on 1000 test digits, for each kind of drawing.

    Measured (a 784-100-10 network, 5 epochs on 30000 images, 94.8% on the originals): scaled 94.9%, thicker
    94.4%, thinner (a quarter of a pixel) 93.4%, large 94.8%. Half a pixel thinner costs about 2.3 points: the
    network, not the preprocessing, dislikes thin strokes, so the pad draws with a thick pen.
    """
    model = nnlib.mlp([784, 100, 10], rng=0)
    nnlib.fit(
        model,
        mnist.X_train[:30000],
        mnist.y_train[:30000],
        nnlib.Momentum(0.05, 0.9),
        epochs=5,
        batch_size=32,
        rng=0,
        verbose=False,
    )
    X, y = mnist.X_test[:1000], mnist.y_test[:1000]
    base = (model.predict(X) == y).mean()
    rng = np.random.default_rng(1)
    for kind, (scale, stroke) in KINDS.items():
        drawn = np.array([to_mnist(as_drawn(x, rng, scale, stroke)) for x in X])
        acc = (model.predict(drawn) == y).mean()
        print(f"{kind}: accuracy {acc:.3f} on drawings, {base:.3f} on the originals")
        assert acc >= base - 0.02, f"{kind}: accuracy {acc:.3f} on drawings, {base:.3f} on the originals"


# -- what to_mnist promises, one property at a time ------------------------------------------------


def test_output_is_784_float32_in_0_1_with_the_box_and_centre_of_mnist():
    img = np.zeros((200, 120), np.float32)
    img[20:180, 30:70] = 1  # a tall bar: 160 x 40
    out = to_mnist(img)
    assert out.shape == (784,) and out.dtype == np.float32 and out.min() >= 0 and out.max() == 1
    out = out.reshape(28, 28)
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert len(rows) == 20 and len(cols) in (5, 6)  # the long side fills 20, the aspect ratio kept:
    assert out.sum() == pytest.approx(20 * 5, rel=1e-5)  # 160 x 40 ink -> 20 x 5 (area averaging keeps it)
    r, c = np.indices(out.shape)
    assert abs((r * out).sum() / out.sum() - 14) <= 0.5 and abs((c * out).sum() / out.sum() - 14) <= 0.5


def test_a_thin_pen_still_gives_full_ink():
    """MNIST's brightest pixel is 1 (99% of its test digits reach 0.996): a thin line is scaled up to it."""
    out = to_mnist(render_strokes([[(140, 20), (140, 260)]], width=4))  # 4 of 240 pixels: a fifth of one
    assert out.max() == 1 and np.sort(out)[-20:].min() > 0.5


def test_the_box_average_is_anti_aliased():
    img = np.zeros((30, 30))
    img[:, :15] = 1  # half the box: 15 of 30 columns -> 10 of 20
    img[:, 15] = 0.5
    box = to_mnist(img).reshape(28, 28)
    values = np.unique(np.round(box[box > 0], 4))
    assert 0 < values.min() < 1  # a grey column at the edge, not a hard step


def test_dark_ink_on_light_paper_with_invert():
    img = np.ones((100, 100))
    img[10:90, 45:55] = 0
    np.testing.assert_array_equal(to_mnist(img, invert=True), to_mnist(1 - img))
    with pytest.raises(ValueError, match="invert=True"):
        to_mnist(np.zeros((10, 10)))  # nothing lighter than the paper: the hint says why


def test_uint8_and_bool_drawings():
    img = np.zeros((50, 50), np.uint8)
    img[5:45, 20:30] = 255
    np.testing.assert_allclose(to_mnist(img), to_mnist(img > 0), atol=1e-6)
    np.testing.assert_allclose(to_mnist(img), to_mnist(img / 255.0), atol=1e-6)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((40, 40)), ValueError, "empty: draw something"),
        (np.zeros(784), ValueError, r"2-D.*\(784,\)"),
        (np.zeros((28, 28, 3)), ValueError, r"colour image.*mean\(axis=2\)"),
        (np.zeros((0, 5)), ValueError, "empty: shape"),
        (np.full((10, 10), np.nan), ValueError, "NaN"),
        (np.full((10, 10), 255.0), ValueError, r"\[0, 1\].*divide by 255"),
        (np.full((10, 10), -1.0), ValueError, r"\[0, 1\]"),
        (np.ones((10, 10), dtype=np.int64), TypeError, "dtype int64"),
        (np.array([["a"]]), TypeError, "dtype"),
    ],
)
def test_bad_drawings_are_refused_clearly(bad, error, match):
    with pytest.raises(error, match=match):
        to_mnist(bad)


def test_box_matrix_rows_sum_to_one_and_average_areas():
    R = box_matrix(30, 20)
    np.testing.assert_allclose(R.sum(axis=1), 1)
    np.testing.assert_allclose(R[0, :2], [2 / 3, 1 / 3])
    np.testing.assert_allclose(box_matrix(40, 20) @ np.arange(40.0), np.arange(20) * 2 + 0.5)


# -- strokes, PNGs and saliency ----------------------------------------------------------------------


def test_render_strokes_draws_thick_round_lines():
    img = render_strokes([[(40, 140), (240, 140)], [(140, 40)]], size=280, width=21)
    assert img.shape == (280, 280) and img.dtype == np.float32 and img.max() == 1
    assert img[140, 140] == 1 and img[140 + 12, 140] == 0 and img[140 + 9, 140] == 1
    assert img[40, 140] == 1 and img[40, 140 + 12] == 0  # the dot: a disc of diameter 21
    assert img[140 + 10, 140] == 0.5  # an anti-aliased edge: half covered
    assert render_strokes([], size=50).sum() == 0
    assert render_strokes([[(-500, -500), (-400, -400)]], size=50).sum() == 0  # outside the canvas


@pytest.mark.parametrize(
    "strokes, match",
    [
        ([[(1, 2, 3)]], r"point 0 of stroke 0 must be an \(x, y\) pair"),
        ([[]], "stroke 0 must be a non-empty list"),
        ([[(1, float("nan"))]], "not finite"),
        ([[("1", 2)]], r"\(x, y\) pair of numbers"),
        ("abc", "list of strokes"),
    ],
)
def test_render_strokes_refuses_bad_points(strokes, match):
    with pytest.raises(ValueError, match=match):
        render_strokes(strokes)


def test_a_drawn_one_becomes_a_centred_upright_bar():
    out = to_mnist(render_strokes([[(200, 30), (200, 250)]])).reshape(28, 28)
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert (rows[0], rows[-1]) == (5, 24) and 12 <= cols[0] <= cols[-1] <= 16


def test_read_image_reads_dark_ink_on_white_paper(mnist):
    x = mnist.X_test[0]
    data = png_bytes(x.reshape(28, 28), scale=5, invert=True)  # black digit on white, 140 x 140
    img = read_image(data)
    assert img.shape == (140, 140) and img.dtype == np.float32
    assert np.corrcoef(to_mnist(img), x)[0, 1] > 0.9
    assert np.corrcoef(to_mnist(read_image(png_bytes(x.reshape(28, 28), invert=False))), x)[0, 1] > 0.9
    with pytest.raises(ValueError, match="not a PNG"):
        read_image(b"GIF89a....")
    with pytest.raises(ValueError, match="could not read"):
        read_image(data[:60])


# The CNN is float64 throughout: Conv2D takes no float64 input into float32 weights, and the differences need it.
@pytest.mark.parametrize(
    "make", [lambda: nnlib.mlp([784, 16, 10], rng=0), lambda: small_cnn(dtype=np.float64)], ids=["mlp", "cnn"]
)
def test_saliency_is_the_gradient_of_the_predicted_score(rng, make):
    model = make()
    x = rng.random(784).astype(np.float32)
    k, g = saliency(model, x)
    assert k == model.predict(as_model_input(model, x[None]))[0] and g.shape == (784,) and g.dtype == np.float32

    def score(v):  # the logit of class k: the model's layers up to the softmax, in float64
        a = as_model_input(model, v[None].astype(np.float64))
        for layer in model.layers[:-1]:
            a, _ = layer.forward(a)
        return a[0, k]

    for i in rng.choice(784, 5, replace=False):
        e = np.zeros(784)
        e[i] = 1e-3
        assert g[i] == pytest.approx((score(x + e) - score(x - e)) / 2e-3, rel=1e-2, abs=1e-5)
    with pytest.raises(TypeError, match="nnlib Model"):
        saliency(nnlib.PerExampleNetwork((784, 8, 10)), x)


# -- the tests above catch a wrong preprocessing ------------------------------------------------------


def _mutant(kind):
    """to_mnist made wrong in one way, to show the closeness checks catch it."""

    def no_centre_of_mass(image):  # the box placed in the middle, not by its centre of mass
        out = to_mnist(image).reshape(28, 28)
        rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
        box = out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        moved = np.zeros_like(out)
        top, left = (28 - box.shape[0]) // 2, (28 - box.shape[1]) // 2
        moved[top : top + box.shape[0], left : left + box.shape[1]] = box
        return moved.reshape(784)

    def no_aspect_ratio(image):  # the bounding box stretched to 20 x 20
        img = np.asarray(image, np.float64)
        rows, cols = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
        ink = img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        box = box_matrix(ink.shape[0], 20) @ ink @ box_matrix(ink.shape[1], 20).T
        big = np.zeros((60, 60))
        big[20:40, 20:40] = box
        return to_mnist(big)

    def black_on_white(image):  # the polarity forgotten
        return 1 - to_mnist(image)

    return {
        "no centre of mass": no_centre_of_mass,
        "no aspect ratio": no_aspect_ratio,
        "black on white": black_on_white,
    }[kind]


@pytest.mark.parametrize("mutant", ["no centre of mass", "no aspect ratio", "black on white"])
def test_the_closeness_check_catches_a_wrong_preprocessing(digits, mutant):
    X, _ = digits
    corr, mad = _closeness(_mutant(mutant), X, np.random.default_rng(0), "scaled")
    min_corr, max_mad = CLOSE["scaled"]
    print(f"mutant {mutant}: correlation {corr:.3f}, mean |difference| {mad:.4f}")
    assert corr < min_corr or mad > max_mad


def test_saliency_leaves_the_gradients_of_the_last_backward_pass_as_they_were(rng):
    # The pad may draw between a backward pass and the optimiser's step: it must not change what the step uses.
    model = nnlib.Model([nnlib.Linear(784, 16), nnlib.ReLU(), nnlib.Linear(16, 10), nnlib.SoftmaxCrossEntropy()], rng=0)
    X, y = rng.random((5, 784)).astype(np.float32), np.arange(5)
    _, grads, _ = model.loss_and_grads(X, y)
    before = {k: v.copy() for k, v in grads.items()}
    saliency(model, X[0])
    after = model.grads
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


def test_input_gradient_restores_grads_a_layer_writes_into_its_own_dict(rng):
    class InPlace(nnlib.Linear, register=False):  # a learner's layer may fill its grads dict instead of replacing it
        def backward(self, dZ, cache, need_dX=True):
            self.grads["W"], self.grads["b"] = cache.T @ dZ, dZ.sum(axis=0)
            return dZ @ self.params["W"].T

    model = nnlib.Model([InPlace(784, 8), nnlib.ReLU(), nnlib.Linear(8, 10), nnlib.SoftmaxCrossEntropy()], rng=0)
    X, y = rng.random((4, 784)).astype(np.float32), np.arange(4)
    model.loss_and_grads(X, y)
    before = {k: v.copy() for k, v in model.grads.items()}
    k, g = saliency(model, X[0])
    assert g.shape == (784,)
    for key, value in model.grads.items():
        np.testing.assert_array_equal(value, before[key])


def test_saliency_of_a_network_without_its_input_shape_says_what_to_do():
    with pytest.raises(ValueError, match=r"Model needs a model that knows its input shape: train it first"):
        saliency(small_cnn(input_shape=None), np.zeros(784, np.float32))
