"""Interactive tools for notebook 10, built from ipywidgets' core widgets (7.x and 8.x), and anywidget for the canvas.

- :class:`TestSetBrowser`: step through the test set, or jump to the next mistake; see the image,
  the ten probabilities as bars, the true label and the prediction.
- :class:`TrainingPlayground`: choose hidden sizes, learning rate, momentum, batch size and epochs;
  train a small model and see its curves.
- :class:`DigitPad`: draw a digit with the mouse, a pen or a finger on a canvas (a small anywidget widget
  of our own, :class:`DrawingCanvas`; its JavaScript is ``nnlib/pad.js``) and see the 28x28 image the
  network receives (preprocessed as MNIST was: :mod:`nnlib.drawing`), its ten probabilities and the pixels
  that speak for its answer. Without anywidget it falls back, saying why, to a grid of toggle cells and an
  upload of a PNG.

Each class keeps its state in plain attributes and its widgets in ``.widget``, so the logic is
tested without a browser; display one with ``display(tool.widget)`` or just ``tool`` as the last
line of a cell.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from .drawing import NO_INPUT_SHAPE, as_model_input, read_image, render_strokes, saliency, to_mnist
from .inputs import as_features, as_labels, positive_int
from .networks import mlp
from .optim import SGD, Momentum
from .train import TrainingDiverged, fit

__all__ = [
    "png_bytes",
    "saliency_png",
    "center_digit",
    "TestSetBrowser",
    "TrainingPlayground",
    "DigitPad",
    "canvas_class",
]


def _w():
    import ipywidgets

    return ipywidgets


def png_bytes(image, scale: int = 4, invert: bool = True) -> bytes:
    """Encode a grey-scale image (H, W) with values in [0, 1] as PNG bytes, each pixel a scale x scale block.

    With ``invert`` ink is dark on white paper, as the digits are usually drawn.
    """
    img = np.clip(np.asarray(image, dtype=np.float64), 0, 1)
    if img.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {img.shape}")
    if invert:
        img = 1 - img
    return _png(np.round(img * 255).astype(np.uint8), scale)


def _png(pixels, scale: int = 1) -> bytes:
    """PNG bytes of uint8 pixels: (H, W) grey or (H, W, 3) colour, each pixel a scale x scale block."""
    pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def saliency_png(g, scale: int = 4) -> bytes:
    """A gradient image (28, 28) as PNG: red where ink raises the score, blue where it lowers it, white at 0."""
    g = np.asarray(g, dtype=np.float64).reshape(28, 28)
    top = np.abs(g).max()
    a = g / top if top > 0 else g
    rgb = np.ones(g.shape + (3,))
    rgb[..., 1] -= np.abs(a)  # green goes for either sign
    rgb[..., 2] -= np.clip(a, 0, None)  # red: positive
    rgb[..., 0] -= np.clip(-a, 0, None)  # blue: negative
    return _png(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), scale)


def center_digit(image) -> np.ndarray:
    """Shift a 28x28 drawing so its centre of mass sits in the middle, as MNIST's digits do."""
    img = np.asarray(image, dtype=np.float32).reshape(28, 28)
    total = img.sum()
    if total == 0:
        return img
    rows, cols = np.indices(img.shape)
    dr = int(round(13.5 - (rows * img).sum() / total))
    dc = int(round(13.5 - (cols * img).sum() / total))
    out = np.zeros_like(img)
    src = img[max(0, -dr) : 28 - max(0, dr), max(0, -dc) : 28 - max(0, dc)]
    out[max(0, dr) : max(0, dr) + src.shape[0], max(0, dc) : max(0, dc) + src.shape[1]] = src
    return out


class _Tool:
    """Shows the tool's ``widget`` when the tool is the last expression of a cell."""

    widget = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _image_model(model, tool: str, n_out=None):
    """``model``, checked: it predicts from 28x28 images (784 inputs) and, with ``n_out``, has that many outputs."""
    if not all(hasattr(model, name) for name in ("predict_proba", "n_in", "n_out")):
        raise TypeError(
            f"{tool} needs a model such as nnlib.mlp([784, 100, 10]) (with predict_proba, n_in and "
            f"n_out); got {model!r}"
        )
    if model.n_in is None:
        raise ValueError(f"{tool} {NO_INPUT_SHAPE}")
    if model.n_in != 784:
        raise ValueError(f"{tool} shows 28x28 images, so the model must take 784 inputs; this one takes {model.n_in}")
    if n_out is not None and model.n_out != n_out:
        raise ValueError(
            f"{tool} shows the digits 0-9, so the model must have {n_out} outputs; this one has {model.n_out}"
        )
    return model


def _bars(n: int = 10):
    w = _w()
    bars = [
        w.FloatProgress(value=0.0, min=0.0, max=1.0, description=str(k), layout=w.Layout(width="260px"))
        for k in range(n)
    ]
    return bars, w.VBox(bars)


def _show_probs(bars, p):
    best = int(np.argmax(p))
    for k, (bar, value) in enumerate(zip(bars, p)):
        bar.value = float(value)
        bar.bar_style = "success" if k == best else ""


class TestSetBrowser(_Tool):
    """Browse ``X`` (N, 784) or images (N, 1, 28, 28) with labels ``y`` (N,) through the eyes of ``model`` (an MLP
    or a convolutional network)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, model, X, y):
        w = _w()
        _image_model(model, "TestSetBrowser")
        X = np.asarray(X)
        if X.ndim > 2 and X.shape[1:] in ((1, 28, 28), (28, 28)):  # images, as a convolutional network takes them
            X = X.reshape(len(X), 784)
        self.X = as_features(X, model.n_in)
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            raise ValueError(f"TestSetBrowser needs labels y (N,), got shape {np.shape(y)}: pass y.ravel()")
        if np.ndim(y) == 2:
            raise ValueError("TestSetBrowser needs labels y (N,), not one-hot rows: pass y.argmax(axis=1)")
        self.y = as_labels(y, model.n_out, name="y")
        if len(self.y) != len(self.X):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)} labels")
        self.P = model.predict_proba(as_model_input(model, self.X))
        self.pred = self.P.argmax(axis=1)
        self.mistakes = np.flatnonzero(self.pred != self.y)
        self.index_box = w.BoundedIntText(value=0, min=0, max=len(self.X) - 1, description="index")
        self.prev_button = w.Button(description="previous", icon="arrow-left")
        self.next_button = w.Button(description="next", icon="arrow-right")
        self.mistake_button = w.Button(description="next mistake", button_style="warning")
        self.image = w.Image(format="png", layout=w.Layout(width="140px", height="140px"))
        self.label = w.HTML()
        self.bars, bar_box = _bars(self.P.shape[1])
        self.index_box.observe(lambda change: self.show(change["new"]), names="value")
        self.prev_button.on_click(lambda _: self.go(self.index - 1))
        self.next_button.on_click(lambda _: self.go(self.index + 1))
        self.mistake_button.on_click(lambda _: self.next_mistake())
        summary = w.HTML(
            f"{len(self.mistakes)} mistakes in {len(self.X)} images "
            f"(accuracy {1 - len(self.mistakes) / len(self.X):.2%})"
        )
        self.widget = w.VBox(
            [
                summary,
                w.HBox([self.index_box, self.prev_button, self.next_button, self.mistake_button]),
                w.HBox([w.VBox([self.image, self.label]), bar_box]),
            ]
        )
        self.index = -1
        self.show(0)

    def go(self, index: int):
        """Show image ``index`` (wrapping around at the ends)."""
        self.index_box.value = int(index) % len(self.X)  # triggers show() if it changed
        self.show(self.index_box.value)

    def show(self, index: int):
        """Show image ``index``; a negative index counts from the end, as in Python (-1 is the last image)."""
        n = len(self.X)
        index = int(index)
        if not -n <= index < n:
            raise IndexError(f"index must be in -{n}..{n - 1} (there are {n} images), got {index}")
        index %= n
        if index == self.index:
            return
        self.index = index
        self.index_box.value = index  # its observer calls show(index) again: nothing to do
        self.image.value = png_bytes(self.X[index].reshape(28, 28))
        ok = self.pred[index] == self.y[index]
        colour = "green" if ok else "crimson"
        self.label.value = (
            f"<b>true {self.y[index]}</b> · <span style='color:{colour}'>predicted "
            f"{self.pred[index]} (p = {self.P[index, self.pred[index]]:.2f})</span>"
        )
        _show_probs(self.bars, self.P[index])

    def next_mistake(self):
        """Jump to the first mistake after the current image (wrapping around)."""
        if len(self.mistakes) == 0:
            self.label.value = "no mistakes: every image is classified correctly"
            return
        later = self.mistakes[self.mistakes > self.index]
        self.go(later[0] if len(later) else self.mistakes[0])


class TrainingPlayground(_Tool):
    """Pick a network and a schedule, train it on (X_train, y_train), and watch the curves."""

    def __init__(self, X_train, y_train, X_val, y_val, seed: int = 0):
        w = _w()
        self.data = self._check(X_train, y_train, X_val, y_val)
        self.seed = seed
        self.hidden = w.Text(value="100, 50", description="hidden sizes")
        self.lr = w.FloatLogSlider(value=0.5, base=10, min=-3, max=0.5, step=0.1, description="learning rate")
        self.momentum = w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum")
        self.batch_size = w.Dropdown(options=[16, 32, 64, 128, 256, 512, "full"], value=128, description="batch size")
        self.epochs = w.IntSlider(value=3, min=1, max=30, description="epochs")
        self.button = w.Button(description="train", button_style="primary", icon="play")
        self.status = w.HTML("set the options and press <b>train</b>")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="epoch")
        self.plot = w.Image(format="png", layout=w.Layout(display="none"))  # shown after training
        self.button.on_click(lambda _: self.train())
        self.history = self.model = None
        self.widget = w.VBox(
            [
                w.HBox(
                    [w.VBox([self.hidden, self.lr, self.momentum]), w.VBox([self.batch_size, self.epochs, self.button])]
                ),
                self.progress,
                self.status,
                self.plot,
            ]
        )

    @staticmethod
    def _check(X_train, y_train, X_val, y_val) -> tuple:
        """The four arrays checked (float pixels, labels 0..9 of matching lengths), or a ValueError."""
        X_train = np.asarray(X_train)
        if X_train.ndim != 2:
            raise ValueError(f"X_train must have shape (N, 784), got {X_train.shape}")
        out = []
        for name, X, y in (("X_train", X_train, y_train), ("X_val", X_val, y_val)):
            X = as_features(X, X_train.shape[1], name=name)
            y = as_labels(y, 10, name=f"labels for {name}")
            if len(y) != len(X):
                raise ValueError(f"{name} has {len(X)} rows but its labels number {len(y)}")
            out += [X, y]
        return tuple(out)

    def sizes(self) -> list:
        """[784, *hidden sizes, 10] from the text box; ValueError with a readable message if malformed."""
        text = self.hidden.value.replace(";", ",").strip()
        try:
            hidden = [int(s) for s in text.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"hidden sizes must be whole numbers separated by commas, got {text!r}") from None
        if any(h < 1 or h > 4096 for h in hidden):
            raise ValueError("each hidden size must be between 1 and 4096")
        return [self.data[0].shape[1], *hidden, 10]

    def train(self):
        """Train with the current settings; returns the History (also in ``self.history``)."""
        X_train, y_train, X_val, y_val = self.data
        self.history = None
        self.plot.layout.display = "none"  # the last run's curves go, whatever happens to this one
        self.plot.value = b""
        self.progress.value = 0
        try:
            sizes = self.sizes()
        except ValueError as err:
            self._error(err)
            return None
        beta = float(self.momentum.value)
        batch = None if self.batch_size.value == "full" else int(self.batch_size.value)
        self.progress.max = self.epochs.value
        self.status.value = f"training {sizes} ..."

        def on_epoch(epoch, history):
            self.progress.value = epoch
            self.status.value = (
                f"epoch {epoch}/{self.epochs.value}: loss {history.loss[-1]:.4f}, "
                f"validation accuracy {history.val_acc[-1]:.2%}"
            )

        try:
            opt = Momentum(self.lr.value, beta) if beta > 0 else SGD(self.lr.value)
            self.model = mlp(sizes, rng=self.seed)
            self.history = fit(
                self.model,
                X_train,
                y_train,
                opt,
                epochs=self.epochs.value,
                batch_size=batch,
                rng=self.seed,
                validation=(X_val, y_val),
                verbose=False,
                callback=on_epoch,
            )
        except TrainingDiverged as err:
            self.history = err.history
            self._error(err)
        except Exception as err:  # anything else: say so in the status line rather than hang on "training ..."
            self._error(f"{type(err).__name__}: {err}")
            return None
        if self.history.epochs:
            self.plot.value = self._curves_png()
            self.plot.layout.display = ""
        return self.history

    def _error(self, err):
        import html

        self.status.value = f"<span style='color:crimson'>{html.escape(str(err))}</span>"

    def _curves_png(self) -> bytes:
        from matplotlib.figure import Figure

        h = self.history
        fig = Figure(figsize=(8, 2.8))
        ax1, ax2 = fig.subplots(1, 2)
        epochs = np.arange(1, h.epochs + 1)
        ax1.plot(epochs, h.loss, marker=".", label="train")
        ax1.plot(epochs, h.val_loss, marker=".", label="validation")
        ax2.plot(epochs, h.train_acc, marker=".", label="train")
        ax2.plot(epochs, h.val_acc, marker=".", label="validation")
        ax1.set(xlabel="epoch", title="loss")
        ax2.set(xlabel="epoch", title="accuracy")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()


# -- the digit pad -------------------------------------------------------------------------------------

CANVAS_SIZE = 280  # the canvas, in pixels: ten times MNIST's 28
PEN_WIDTH = 22.0  # the pen, in canvas pixels: about 2 pixels of MNIST's 20x20 box for a full-height digit
_CANVAS_CLASSES = {}


def canvas_class():
    """The drawing canvas widget class, :class:`DrawingCanvas` (an ``anywidget.AnyWidget``).

    Raises ImportError, saying what to do, where anywidget cannot be imported: :class:`DigitPad` then falls
    back to its grid. The import is tried on every call (a learner may install anywidget meanwhile).
    """
    try:
        import anywidget
        import traitlets
    except ImportError as err:
        raise ImportError(
            f"the drawing canvas needs anywidget, which could not be imported ({err}). "
            f"Install it (pip install anywidget) and restart the kernel"
        ) from err
    cls = _CANVAS_CLASSES.get(id(anywidget))
    if cls is None:
        from pathlib import Path

        class DrawingCanvas(anywidget.AnyWidget):
            """A square canvas to draw on with a mouse, a pen or a finger; ``strokes`` holds what is drawn:
            a list of strokes, each a list of [x, y] points in canvas pixels (x right, y down)."""

            _esm = (Path(__file__).parent / "pad.js").read_text(encoding="utf-8")
            strokes = traitlets.List([]).tag(sync=True)
            size = traitlets.Int(CANVAS_SIZE).tag(sync=True)
            line_width = traitlets.Float(PEN_WIDTH).tag(sync=True)
            rendered = traitlets.Bool(False).tag(sync=True)  # set by the browser once the canvas shows

        cls = _CANVAS_CLASSES[id(anywidget)] = DrawingCanvas
    return cls


def _uploaded_bytes(value):
    """The content of the last file in a FileUpload's value: ipywidgets 8 (a tuple of dicts with 'content')
    or 7 (a dict of file names to dicts with 'content'); None if there is none."""
    files = list(value.values()) if isinstance(value, dict) else list(value or ())
    if not files:
        return None
    content = files[-1]["content"]
    return content.tobytes() if isinstance(content, memoryview) else bytes(content)


class DigitPad(_Tool):
    """Draw a digit and see what the model sees: the 28x28 image it receives, its prediction, the ten
    probabilities, and the pixels that speak for its answer (the gradient of the predicted class's score).

    With ``anywidget`` installed the pad is a canvas to draw on with a mouse, a pen or a finger
    (``canvas=None``, the default, or ``canvas=True``, which raises ImportError without anywidget). Each
    stroke is rendered in Python and made into MNIST's format by :func:`nnlib.drawing.to_mnist`: the
    bounding box fitted into 20x20, centred by its centre of mass in 28x28.

    Without anywidget (or with ``canvas=False``) it is a grid of ``cells x cells`` toggles (14 by default,
    each covering 2x2 pixels), scaled to 28x28, softened like a pen stroke and centred, with a line saying
    why, and an upload of a PNG of a digit (a photo, a scan, a drawing from another program).

    ``model`` is an MLP (784 inputs) or a convolutional network that knows its input shape (1, 28, 28): the
    image goes in in the shape the model takes, and the gradient map is backpropagated through its layers.

    ``set_drawing(cells)`` sets the grid's cells (an (n, n) array; it works on a canvas pad too);
    ``set_strokes(strokes)`` draws strokes as the canvas sends them; ``set_picture(image)`` shows a 2-D
    image of any size (white ink on black in [0, 1]); ``image()`` is what the model receives.
    """

    def __init__(self, model, cells: int = 14, canvas=None):
        cells = positive_int(cells, "cells")
        if 28 % cells:
            raise ValueError(f"cells must divide 28, got {cells}")
        _image_model(model, "DigitPad", n_out=10)
        if canvas not in (None, True, False):
            raise ValueError(
                f"canvas must be None (the canvas where anywidget can be imported, else the grid), "
                f"True or False; got {canvas!r}"
            )
        w = _w()
        self.model, self.n = model, cells
        self.canvas, self.reason = None, None
        if canvas is not False:
            try:
                self.canvas = canvas_class()(size=CANVAS_SIZE, line_width=PEN_WIDTH)
            except ImportError as err:
                if canvas:
                    raise
                self.reason = str(err)
        self.mode = "grid" if self.canvas is None else "canvas"
        self._cells = np.zeros((cells, cells), dtype=np.float32)  # the grid's drawing (kept on a canvas pad too)
        self._picture = None  # set_picture's image, white on black
        self.source = None  # None, "cells", "strokes" or "picture"
        self._hold = False
        self.clear_button = w.Button(description="clear", icon="eraser")
        self.clear_button.on_click(lambda _: self.clear())
        self.preview = w.Image(format="png", layout=w.Layout(width="112px", height="112px"))
        self.seen = w.Image(format="png", layout=w.Layout(width="112px", height="112px"))
        self.seen_label = w.HTML()
        self.label = w.HTML()
        self.bars, bar_box = _bars()
        small = "<div style='font-size:11px;line-height:1.3'>{}</div>"
        column = w.Layout(width="150px")
        right = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox(
                            [w.HTML(small.format("the network's input: 28 x 28, white on black")), self.preview],
                            layout=column,
                        ),
                        w.VBox([w.HTML(small.format("what it looks at")), self.seen], layout=column),
                    ]
                ),
                self.seen_label,
                self.label,
                bar_box,
            ]
        )
        if self.canvas is not None:
            self.cells = []
            self.upload = None
            self.note = w.HTML(
                small.format(
                    "No canvas above? This page cannot show anywidget's widgets yet: install anywidget "
                    "(pip install anywidget), reload the page and run the cell again; or use "
                    "<code>DigitPad(model, canvas=False)</code>, a grid of cells."
                )
            )
            self.canvas.observe(self._on_strokes, names="strokes")
            self.canvas.observe(self._on_rendered, names="rendered")
            self.widget = w.HBox([w.VBox([self.canvas, self.clear_button, self.note]), right])
        else:
            size = f"{int(336 / cells)}px"
            self.cells = [
                w.ToggleButton(value=False, layout=w.Layout(width=size, height=size, padding="0", margin="0"))
                for _ in range(cells * cells)
            ]
            for c in self.cells:
                c.observe(self._on_toggle, names="value")
            grid = w.GridBox(
                self.cells,
                layout=w.Layout(
                    grid_template_columns=f"repeat({cells}, {size})",
                    grid_template_rows=f"repeat({cells}, {size})",
                    grid_gap="0px",
                ),
            )
            self.upload = w.FileUpload(accept=".png,image/png", multiple=False, description="upload a PNG")
            self.upload.observe(self._on_upload, names="value")
            import html

            why = (
                "the grid of cells, as asked (canvas=False)"
                if canvas is False
                else f"the grid of cells, because {html.escape(self.reason)}"
            )
            self.note = w.HTML(small.format(f"Drawing on {why}. Click cells to draw, or upload a PNG of a digit."))
            self.widget = w.VBox([self.note, w.HBox([w.VBox([grid, w.HBox([self.clear_button, self.upload])]), right])])
        self.update()

    # -- what the learner does ---------------------------------------------------------------------------

    def _on_toggle(self, change):
        change["owner"].button_style = "primary" if change["new"] else ""  # ink is dark blue
        if self._hold:
            return
        self._cells = self._read_cells()
        self.source = "cells" if self._cells.any() else None
        self.update()

    def _on_strokes(self, change):
        if self._hold:
            return
        self.source = "strokes" if change["new"] else None
        self.update()

    def _on_rendered(self, change):
        if change["new"]:
            self.note.layout.display = "none"  # the canvas shows: the note about a missing one goes

    def _on_upload(self, change):
        data = _uploaded_bytes(change["new"])
        if data is None:
            return
        try:
            picture = read_image(data)
            if not picture.any():
                raise ValueError("the image is empty (nothing darker, or lighter, than its paper)")
            self.set_picture(picture)
        except (TypeError, ValueError) as err:  # not a PNG, no ink: say so on the pad
            self._error(f"could not use the upload: {err}")

    def _read_cells(self):
        return np.array([c.value for c in self.cells], dtype=np.float32).reshape(self.n, self.n)

    def drawing(self) -> np.ndarray:
        """The grid's cells as an (n, n) array of 0s and 1s (set by clicks on the grid or by set_drawing)."""
        return self._read_cells() if self.cells else self._cells.copy()

    def set_drawing(self, cells):
        """Set every cell of the grid from an (n, n) array of truthy values, updating once at the end.

        On a canvas pad the canvas is cleared and the model sees the cells, as it would on the grid.
        """
        cells = np.asarray(cells).reshape(-1)
        if cells.size != self.n * self.n:
            raise ValueError(f"need {self.n * self.n} cells, got {cells.size}")
        values = [bool(v) for v in cells]  # a value without a truth value fails before any cell changes
        self._hold = True
        try:
            for c, v in zip(self.cells, values):
                c.value = v
            if self.canvas is not None:
                self.canvas.strokes = []
        finally:  # even if a cell's observer raised: the pad must not stay frozen
            self._hold = False
            self._cells = np.array(values, dtype=np.float32).reshape(self.n, self.n)
            self.source = "cells" if any(values) else None
            self.update()

    def set_strokes(self, strokes):
        """Draw ``strokes`` (lists of (x, y) points in canvas pixels, 0 to 280) as the canvas does.

        On a canvas pad they appear on the canvas; on the grid pad they are shown as a picture.
        """
        ink = render_strokes(strokes, CANVAS_SIZE, PEN_WIDTH)  # checks the points
        if self.canvas is None:
            self.set_picture(ink)
            return
        self.canvas.strokes = [[[float(x), float(y)] for x, y in s] for s in strokes]
        if not strokes:  # no change event when it was empty already
            self.source = None
            self.update()

    def set_picture(self, image):
        """Show the model a drawing of any size: (H, W), white ink on black, values in [0, 1] (or uint8).

        Checked first (:func:`nnlib.drawing.to_mnist`): a bad or empty image is an error and changes nothing.
        """
        to_mnist(image)
        self._picture = np.array(image)
        self._hold = True
        try:
            for c in self.cells:
                c.value = False
            if self.canvas is not None:
                self.canvas.strokes = []
        finally:
            self._hold = False
        self._cells[:] = 0
        self.source = "picture"
        self.update()

    def clear(self):
        """Clear the canvas or the grid, and the picture."""
        self._picture = None
        if self.canvas is not None:
            self._hold = True
            try:
                self.canvas.strokes = []
            finally:
                self._hold = False
        self.set_drawing(np.zeros(self.n * self.n))

    # -- what the model sees -----------------------------------------------------------------------------

    def image(self) -> np.ndarray:
        """The drawing as the model sees it: 28x28 float32 in [0, 1] (zeros when nothing is drawn)."""
        if self.source == "strokes":
            return to_mnist(render_strokes(self.canvas.strokes, CANVAS_SIZE, PEN_WIDTH)).reshape(28, 28)
        if self.source == "picture":
            return to_mnist(self._picture).reshape(28, 28)
        k = 28 // self.n
        img = np.kron(self.drawing(), np.ones((k, k), dtype=np.float32))
        padded = np.pad(img, 1)
        soft = sum(
            padded[1 + dr : 29 + dr, 1 + dc : 29 + dc] * wgt
            for dr, dc, wgt in [(0, 0, 1.0), (-1, 0, 0.25), (1, 0, 0.25), (0, -1, 0.25), (0, 1, 0.25)]
        )
        return center_digit(np.clip(soft, 0, 1))

    def _error(self, message):
        import html

        self.label.value = f"<span style='color:crimson'>{html.escape(str(message))}</span>"

    def update(self):
        if self._hold:
            return
        try:
            img = self.image()
        except ValueError as err:  # strokes all outside the canvas, say
            img, problem = np.zeros((28, 28), np.float32), err
        else:
            problem = None
        self.preview.value = png_bytes(img, invert=False)  # as the network receives it: ink is 1, white
        self.gradient = None
        if img.sum() == 0:
            self.probs = np.zeros(10)
            self.label.value = f"draw a digit on the {'canvas' if self.canvas is not None else 'grid'}"
            self.seen.value = saliency_png(np.zeros((28, 28)))
            self.seen_label.value = ""
            if problem is not None:
                self._error(problem)
        else:
            x = img.reshape(1, 784).astype(np.float32)
            self.probs = self.model.predict_proba(as_model_input(self.model, x))[0]
            k = int(self.probs.argmax())
            self.label.value = f"<b>prediction: {k}</b> (p = {self.probs[k]:.2f})"
            if callable(getattr(self.model, "input_gradient", None)):  # an nnlib Model: its gradient map too
                _, self.gradient = saliency(self.model, x[0])
                self.seen.value = saliency_png(self.gradient)
                self.seen_label.value = (
                    f"<span style='font-size:11px'>the gradient of the score of {k}: "
                    f"ink on <span style='color:crimson'>red</span> pixels raises it, on "
                    f"<span style='color:royalblue'>blue</span> ones lowers it</span>"
                )
            else:
                self.seen_label.value = "<span style='font-size:11px'>(only for an nnlib Model)</span>"
        _show_probs(self.bars, self.probs)
