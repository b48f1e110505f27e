"""The widgets' logic, driven as a user would (set values, click buttons), without a browser."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import nnlib  # noqa: E402
from nnlib.widgets import DigitPad, TestSetBrowser, TrainingPlayground, center_digit, png_bytes  # noqa: E402


def _data(rng, n=300):
    """Images where the label is the brightest of ten vertical bands: learnable in a few steps."""
    y = rng.integers(0, 10, n)
    X = rng.random((n, 28, 28), dtype=np.float32) * 0.2
    for i, label in enumerate(y):
        X[i, :, 2 + 2 * label : 4 + 2 * label] = 1.0
    return X.reshape(n, 784), y


@pytest.fixture
def trained(rng):
    X, y = _data(rng)
    model = nnlib.mlp([784, 32, 10], rng=0)
    nnlib.fit(model, X, y, nnlib.Momentum(0.5, 0.9), epochs=15, batch_size=32, rng=0, verbose=False)
    return model, X, y


def test_png_bytes_is_a_png_of_the_right_size():
    data = png_bytes(np.eye(28), scale=3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 84 and int.from_bytes(data[20:24], "big") == 84
    with pytest.raises(ValueError, match="2-D"):
        png_bytes(np.zeros(784))


def test_center_digit_moves_mass_to_the_middle():
    img = np.zeros((28, 28), np.float32)
    img[0:4, 0:4] = 1
    out = center_digit(img)
    rows, cols = np.indices(out.shape)
    assert out.sum() == img.sum()
    assert abs((rows * out).sum() / out.sum() - 13.5) <= 0.5 and abs((cols * out).sum() / out.sum() - 13.5) <= 0.5


def test_browser_shows_image_probabilities_and_label(trained):
    model, X, y = trained
    browser = TestSetBrowser(model, X, y)
    assert browser.image.value[:4] == b"\x89PNG"
    assert f"true {y[0]}" in browser.label.value
    np.testing.assert_allclose([b.value for b in browser.bars], model.predict_proba(X[:1])[0], atol=1e-6)
    browser.next_button.click()
    assert browser.index == 1 and browser.index_box.value == 1 and f"true {y[1]}" in browser.label.value
    browser.prev_button.click()
    browser.prev_button.click()
    assert browser.index == len(X) - 1  # wraps around
    browser.index_box.value = 7
    assert browser.index == 7


def test_next_mistake_jumps_to_a_wrong_prediction(trained):
    model, X, y = trained
    y_wrong = y.copy()
    y_wrong[[5, 9]] = (y[[5, 9]] + 1) % 10  # two labels the model must get "wrong"
    browser = TestSetBrowser(model, X, y_wrong)
    browser.mistake_button.click()
    first = browser.index
    assert browser.pred[first] != y_wrong[first] and "crimson" in browser.label.value
    browser.mistake_button.click()
    assert browser.index > first or browser.index == browser.mistakes[0]


def test_browser_with_no_mistakes_says_so(trained):
    model, X, _ = trained
    browser = TestSetBrowser(model, X, model.predict(X))
    browser.next_mistake()
    assert "no mistakes" in browser.label.value


def test_playground_trains_and_plots(rng):
    X, y = _data(rng, 400)
    pg = TrainingPlayground(X[:300], y[:300], X[300:], y[300:])
    pg.hidden.value, pg.epochs.value, pg.batch_size.value = "16", 3, 32
    pg.button.click()
    assert pg.history.epochs == 3 and pg.progress.value == 3
    assert pg.model.sizes == [784, 16, 10]
    assert pg.plot.value[:4] == b"\x89PNG" and pg.plot.layout.display == ""
    assert "validation accuracy" in pg.status.value
    pg.momentum.value, pg.batch_size.value, pg.epochs.value = 0.0, "full", 1
    assert pg.train().epochs == 1


def test_playground_reports_bad_sizes_and_divergence(rng):
    X, y = _data(rng, 100)
    pg = TrainingPlayground(X, y, X, y)
    pg.hidden.value = "10, ten"
    assert pg.train() is None and "whole numbers" in pg.status.value
    pg.hidden.value = "0"
    assert pg.train() is None and "between 1 and 4096" in pg.status.value
    pg.hidden.value, pg.epochs.value, pg.lr.value = "16", 2, 3.0
    pg.data = (X * 1e20, y, X, y)
    h = pg.train()  # epoch 1 leaves the validation loss nan: fit undoes that epoch and stops
    assert h.epochs == 0 and "loss became" in pg.status.value and "crimson" in pg.status.value
    assert pg.plot.layout.display == "none"


def test_digit_pad_predicts_what_is_drawn(trained):
    model, X, y = trained
    pad = DigitPad(model, canvas=False)
    assert "draw a digit" in pad.label.value and not any(b.value for b in pad.bars)
    drawing = np.zeros((14, 14))
    drawing[2:12, 1 + 5] = 1  # a vertical stroke: cells cover 2x2 pixels
    pad.set_drawing(drawing)
    img = pad.image()
    assert img.shape == (28, 28) and 0 < img.max() <= 1
    expected = model.predict_proba(img.reshape(1, 784))[0]
    np.testing.assert_allclose(pad.probs, expected, atol=1e-6)
    assert f"prediction: {expected.argmax()}" in pad.label.value
    pad.cells[0].value = True  # a click updates the prediction
    assert pad.drawing()[0, 0] == 1 and pad.cells[0].button_style == "primary"
    pad.clear_button.click()
    assert pad.drawing().sum() == 0 and "draw a digit" in pad.label.value
    with pytest.raises(ValueError, match="cells"):
        pad.set_drawing(np.zeros(10))


def test_playground_checks_its_data_and_reports_every_failure(rng):
    X, y = _data(rng, 120)
    with pytest.raises(ValueError, match="floats"):
        TrainingPlayground((X * 255).astype(np.uint8), y, X, y)
    with pytest.raises(ValueError, match="X_val contains NaN"):
        TrainingPlayground(X, y, X * np.nan, y)
    with pytest.raises(ValueError, match="labels"):
        TrainingPlayground(X, y + 10, X, y)
    pg = TrainingPlayground(X[:100], y[:100], X[100:], y[100:])
    pg.hidden.value, pg.epochs.value, pg.batch_size.value = "8", 1, 32
    assert pg.train().epochs == 1 and pg.plot.layout.display == "" and pg.plot.value
    pg.hidden.value = "0"  # a failed run clears the last run's curves
    assert pg.train() is None
    assert pg.plot.layout.display == "none" and not pg.plot.value and pg.history is None
    pg.hidden.value = "8"
    pg.data = ((X[:100] * 255).astype(np.uint8), y[:100], X[100:], y[100:])  # an error inside training
    assert pg.train() is None
    assert "floats" in pg.status.value and "training" not in pg.status.value and "crimson" in pg.status.value


def test_browser_rejects_empty_and_one_hot_input(trained):
    model, X, y = trained
    with pytest.raises(ValueError, match="no rows"):
        TestSetBrowser(model, X[:0], y[:0])
    with pytest.raises(ValueError, match=r"not one-hot.*argmax"):
        TestSetBrowser(model, X, nnlib.one_hot(y))
    with pytest.raises(ValueError, match="rows but y has"):
        TestSetBrowser(model, X, y[:-1])


# -- bad arguments are refused up front; the tools keep working after an error --------------------


def _untrained(sizes=(784, 8, 10)):
    return nnlib.mlp(list(sizes), rng=0)


@pytest.mark.parametrize("cells", [0, -14, "14", 14.0, True, None])
def test_digit_pad_needs_a_whole_number_of_cells(cells):
    with pytest.raises(ValueError, match=r"cells must be a positive integer, got"):
        DigitPad(_untrained(), cells=cells, canvas=False)


def test_digit_pad_cells_must_divide_28():
    with pytest.raises(ValueError, match="cells must divide 28, got 5"):
        DigitPad(_untrained(), cells=5)
    assert DigitPad(_untrained(), cells=7, canvas=False).drawing().shape == (7, 7)
    assert DigitPad(_untrained(), cells=7).drawing().shape == (7, 7)


@pytest.mark.parametrize(
    "sizes, match",
    [((100, 8, 10), "784 inputs.*takes 100"), ((784, 8, 11), "10 outputs.*has 11"), ((784, 8, 5), "10 outputs.*has 5")],
)
def test_digit_pad_needs_a_model_of_28x28_images_and_10_digits(sizes, match):
    with pytest.raises(ValueError, match=match):
        DigitPad(_untrained(sizes))


def _browser(model):
    return TestSetBrowser(model, np.zeros((2, 784), np.float32), [0, 1])


@pytest.mark.parametrize("tool", [DigitPad, _browser])
def test_the_tools_need_a_model(tool):
    with pytest.raises(TypeError, match=r"needs a model such as nnlib.mlp\(\[784, 100, 10\]\).*got None"):
        tool(None)


def test_browser_needs_a_model_of_28x28_images(rng):
    X, y = _data(rng, 20)
    with pytest.raises(ValueError, match="784 inputs.*takes 100"):
        TestSetBrowser(_untrained((100, 8, 10)), X[:, :100], y)


def test_browser_says_how_to_pass_labels_of_shape_n_by_1(rng):
    X, y = _data(rng, 20)
    with pytest.raises(ValueError, match=r"shape \(20, 1\).*y.ravel\(\)") as info:
        TestSetBrowser(_untrained(), X, y[:, None])
    assert "argmax" not in str(info.value)


def test_digit_pad_keeps_working_after_an_error_while_setting_the_drawing():
    pad = DigitPad(_untrained(), canvas=False)

    def broken(change):
        raise RuntimeError("an observer failed")

    pad.cells[3].observe(broken, names="value")
    with pytest.raises(RuntimeError, match="an observer failed"):
        pad.set_drawing(np.ones((14, 14)))
    assert pad._hold is False
    pad.cells[3].unobserve(broken, names="value")
    pad.clear()
    assert pad.drawing().sum() == 0 and "draw a digit" in pad.label.value
    pad.cells[100].value = True  # a click updates the prediction again
    assert "prediction:" in pad.label.value and pad.probs.sum() == pytest.approx(1, abs=1e-5)


def test_digit_pad_refuses_a_bad_drawing_without_changing_the_cells():
    class NoTruth:
        def __bool__(self):
            raise TypeError("no truth value")

    pad = DigitPad(_untrained(), canvas=False)
    drawing = np.zeros((14, 14), dtype=object)
    drawing[5, 3:9] = 1
    pad.set_drawing(drawing)
    before, label = pad.drawing().copy(), pad.label.value
    bad = np.zeros((14, 14), dtype=object)
    bad[10, 10] = NoTruth()
    with pytest.raises(TypeError, match="no truth value"):
        pad.set_drawing(bad)
    np.testing.assert_array_equal(pad.drawing(), before)
    assert pad.label.value == label and pad._hold is False


def test_browser_show_agrees_with_its_index_box(rng):
    X, y = _data(rng, 20)
    browser = TestSetBrowser(_untrained(), X, y)
    browser.show(-1)
    assert browser.index == browser.index_box.value == 19 and f"true {y[19]}</b>" in browser.label.value
    browser.show(3)
    assert browser.index == browser.index_box.value == 3 and f"true {y[3]}</b>" in browser.label.value
    for bad in (20, -21):
        with pytest.raises(IndexError, match=r"index must be in -20\.\.19"):
            browser.show(bad)
    assert browser.index == browser.index_box.value == 3


def test_next_mistake_walks_through_every_mistake_in_order(rng):
    X, _ = _data(rng, 20)
    model = _untrained()
    y = model.predict(X)
    y[[4, 11, 15]] = (y[[4, 11, 15]] + 1) % 10  # exactly these three are mistakes
    browser = TestSetBrowser(model, X, y)
    assert browser.mistakes.tolist() == [4, 11, 15]
    seen = []
    for _ in range(4):
        browser.mistake_button.click()
        seen.append(browser.index)
        assert browser.index_box.value == browser.index and "crimson" in browser.label.value
    assert seen == [4, 11, 15, 4]  # and round again
    browser.index_box.value = 12
    browser.mistake_button.click()
    assert browser.index == 15  # the first mistake after the image shown
    browser.index_box.value = 4
    browser.mistake_button.click()
    assert browser.index == 11  # after, not at


# -- the digit pad's canvas (anywidget), and its fallback to the grid ---------------------------------

from checking import small_cnn  # noqa: E402  (tests/checking.py)
from nnlib.drawing import render_strokes, saliency, to_mnist  # noqa: E402
from nnlib.widgets import _uploaded_bytes  # noqa: E402

SEVEN = [[[70, 50], [210, 50], [150, 250]]]  # a 7 in one stroke, canvas pixels


def _canvas_pad(model=None):
    pytest.importorskip("anywidget", reason="anywidget is not installed: the pad is a grid")
    pad = DigitPad(model or _untrained())
    assert pad.mode == "canvas" and pad.reason is None and type(pad.canvas).__name__ == "DrawingCanvas"
    return pad


def test_canvas_pad_predicts_from_the_strokes_the_browser_sends(trained):
    model, _, _ = trained
    pad = _canvas_pad(model)
    assert "draw a digit on the canvas" in pad.label.value and pad.source is None and not pad.cells
    assert pad.canvas.size == 280 and pad.canvas.line_width > 10 and pad.canvas._esm.count("pointerdown") == 1
    pad.canvas.strokes = SEVEN  # what pad.js does on pointerup
    expected = to_mnist(render_strokes(SEVEN, 280, pad.canvas.line_width))
    np.testing.assert_array_equal(pad.image().reshape(-1), expected)
    np.testing.assert_allclose(pad.probs, model.predict_proba(expected[None])[0], atol=1e-6)
    k = int(pad.probs.argmax())
    assert f"prediction: {k}" in pad.label.value and pad.source == "strokes"
    assert pad.preview.value[:4] == b"\x89PNG" and pad.seen.value[:4] == b"\x89PNG"
    np.testing.assert_allclose(pad.gradient, saliency(model, expected)[1])
    assert f"score of {k}" in pad.seen_label.value
    pad.canvas.strokes = SEVEN + [[[140, 150]]]  # a second stroke, a dot
    assert pad.source == "strokes" and len(pad.canvas.strokes) == 2
    pad.clear_button.click()
    assert pad.canvas.strokes == [] and "draw a digit on the canvas" in pad.label.value and pad.gradient is None
    assert not any(b.value for b in pad.bars)


def test_canvas_pad_hides_its_note_once_the_browser_shows_the_canvas():
    pad = _canvas_pad()
    assert "No canvas above?" in pad.note.value and pad.note.layout.display != "none"
    pad.canvas.rendered = True  # what pad.js sends when it has drawn the canvas
    assert pad.note.layout.display == "none"


def test_canvas_pad_keeps_the_grid_api_of_notebook_10():
    """Notebook 10's exercise feeds 14x14 cells to DigitPad(model): a canvas pad gives the grid's image."""
    model = _untrained()
    seven = np.zeros((14, 14), dtype=int)
    seven[2, 3:11] = 1
    for r in range(3, 13):
        seven[r, 10 - (r - 2) // 2] = 1
    pad, grid = _canvas_pad(model), DigitPad(model, canvas=False)
    pad.canvas.strokes = SEVEN
    pad.set_drawing(seven)
    grid.set_drawing(seven)
    assert pad.canvas.strokes == [] and pad.source == "cells"
    np.testing.assert_array_equal(pad.drawing(), seven)
    np.testing.assert_array_equal(pad.image(), grid.image())
    np.testing.assert_allclose(pad.probs, grid.probs)
    pad.set_strokes(SEVEN)  # back to the canvas
    assert pad.source == "strokes" and pad.canvas.strokes == [[[70.0, 50.0], [210.0, 50.0], [150.0, 250.0]]]
    pad.clear()
    assert pad.source is None and pad.drawing().sum() == 0 and pad.canvas.strokes == []


def test_canvas_pad_says_when_the_strokes_miss_the_canvas():
    pad = _canvas_pad()
    pad.canvas.strokes = [[[-100, -100], [-50, -60]]]
    assert "empty" in pad.label.value and "crimson" in pad.label.value and pad.probs.sum() == 0
    with pytest.raises(ValueError, match=r"\(x, y\) pair"):
        pad.set_strokes([[[1, 2, 3]]])


def test_the_pad_falls_back_to_the_grid_when_anywidget_cannot_be_imported(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "anywidget", None)  # `import anywidget` now raises ImportError
    pad = DigitPad(_untrained())
    assert pad.mode == "grid" and pad.canvas is None and len(pad.cells) == 14 * 14
    assert "needs anywidget" in pad.reason and "pip install anywidget" in pad.reason
    assert "because the drawing canvas needs anywidget" in pad.note.value  # shown above the grid
    assert pad.upload is not None and "draw a digit on the grid" in pad.label.value
    with pytest.raises(ImportError, match="needs anywidget"):
        DigitPad(_untrained(), canvas=True)
    assert "as asked (canvas=False)" in DigitPad(_untrained(), canvas=False).note.value


def test_the_pad_refuses_a_bad_canvas_argument():
    with pytest.raises(ValueError, match="canvas must be None"):
        DigitPad(_untrained(), canvas="yes")


def _upload(widget, data, name="digit.png"):
    """Set a FileUpload as the browser does when a user picks a file: ipywidgets 8 sets its value (a tuple of
    dicts), 7 its metadata and data lists and then a counter, from which it makes its value (a dict)."""
    import datetime

    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) >= 8:
        widget.value = (
            {
                "name": name,
                "type": "image/png",
                "size": len(data),
                "content": memoryview(data),
                "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            },
        )
    else:
        widget.metadata = [{"name": name, "type": "image/png", "size": len(data), "lastModified": 0}]
        widget.data = [data]
        widget._counter += 1


def test_uploaded_bytes_reads_both_ipywidgets_formats():
    data = b"\x89PNG-and-more"
    assert _uploaded_bytes(({"content": memoryview(data)},)) == data  # ipywidgets 8
    assert _uploaded_bytes({"a.png": {"metadata": {}, "content": data}}) == data  # ipywidgets 7
    assert _uploaded_bytes(()) is None and _uploaded_bytes({}) is None


def test_grid_pad_reads_an_uploaded_png(trained, mnist):
    model, _, _ = trained
    pad = DigitPad(model, canvas=False)
    x = mnist.X_test[0]
    _upload(pad.upload, png_bytes(x.reshape(28, 28), scale=6, invert=True))  # dark ink on white paper
    assert pad.source == "picture" and "prediction:" in pad.label.value
    assert np.corrcoef(pad.image().reshape(-1), x)[0, 1] > 0.9
    pad.cells[30].value = True  # a click on the grid: back to the cells
    assert pad.source == "cells"
    _upload(pad.upload, b"GIF89a not a png", name="cat.gif")
    assert "could not use the upload: not a PNG" in pad.label.value and "crimson" in pad.label.value
    _upload(pad.upload, png_bytes(np.zeros((28, 28))), name="blank.png")  # white paper, no ink
    assert "could not use the upload: the image is empty" in pad.label.value


def test_set_picture_and_set_strokes_on_the_grid_pad():
    pad = DigitPad(_untrained(), canvas=False)
    pad.set_strokes(SEVEN)
    assert pad.source == "picture" and "prediction:" in pad.label.value
    np.testing.assert_array_equal(pad.image().reshape(-1), to_mnist(render_strokes(SEVEN, 280, 22.0)))
    with pytest.raises(ValueError, match="empty: draw something"):
        pad.set_picture(np.zeros((50, 50)))
    assert pad.source == "picture"  # unchanged by the refused picture
    pad.clear()
    assert pad.source is None and "draw a digit on the grid" in pad.label.value


def test_saliency_png_is_red_for_positive_blue_for_negative_white_at_zero():
    import io

    from matplotlib.image import imread

    from nnlib.widgets import saliency_png

    g = np.zeros((28, 28))
    g[0, 0], g[0, 1] = 2.0, -1.0
    img = imread(io.BytesIO(saliency_png(g, scale=1)), format="png")
    assert img.shape == (28, 28, 3)
    np.testing.assert_allclose(img[0, 0], [1, 0, 0])
    np.testing.assert_allclose(img[0, 1], [0.5, 0.5, 1], atol=0.01)
    np.testing.assert_allclose(img[5, 5], [1, 1, 1])
    assert imread(io.BytesIO(saliency_png(np.zeros(784))), format="png").min() == 1  # no gradient: white


# -- a convolutional network (notebook 14) in the pad and the browser -----------------------------------------


def test_canvas_pad_takes_a_convolutional_network():
    cnn = small_cnn()
    pad = _canvas_pad(cnn)
    pad.canvas.strokes = SEVEN
    expected = to_mnist(render_strokes(SEVEN, 280, pad.canvas.line_width))
    np.testing.assert_allclose(pad.probs, cnn.predict_proba(expected.reshape(1, 1, 28, 28))[0], atol=1e-6)
    k, g = saliency(cnn, expected)
    assert f"prediction: {k}" in pad.label.value and g.shape == (784,)
    np.testing.assert_allclose(pad.gradient, g)


def test_browser_takes_a_convolutional_network_and_images(rng):
    cnn = small_cnn()
    X, y = _data(rng)
    for given in (X, X.reshape(-1, 1, 28, 28), X.reshape(-1, 28, 28)):
        browser = TestSetBrowser(cnn, given, y)
        np.testing.assert_array_equal(browser.pred, cnn.predict(X.reshape(-1, 1, 28, 28)))


def test_a_network_that_does_not_know_its_input_shape_is_told_what_to_do(rng):
    X, y = _data(rng)
    for make in (lambda m: DigitPad(m, canvas=False), lambda m: TestSetBrowser(m, X, y)):
        with pytest.raises(ValueError, match=r"train it first, or build it with input_shape=\(1, 28, 28\)"):
            make(small_cnn(input_shape=None))
