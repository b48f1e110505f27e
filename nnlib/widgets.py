"""Interactive tools for notebook 10, built from ipywidgets' core widgets only (7.x and 8.x).

- :class:`TestSetBrowser`: step through the test set, or jump to the next mistake; see the image,
  the ten probabilities as bars, the true label and the prediction.
- :class:`TrainingPlayground`: choose hidden sizes, learning rate, momentum, batch size and epochs;
  train a small model and see its curves.
- :class:`DigitPad`: draw a digit on a grid of toggle cells and see what the model predicts.

Each class keeps its state in plain attributes and its widgets in ``.widget``, so the logic is
tested without a browser; display one with ``display(tool.widget)`` or just ``tool`` as the last
line of a cell.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from .inputs import as_features, as_labels, positive_int
from .networks import mlp
from .optim import SGD, Momentum
from .train import TrainingDiverged, fit

__all__ = ["png_bytes", "center_digit", "TestSetBrowser", "TrainingPlayground", "DigitPad"]


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
    img = np.kron(np.round(img * 255).astype(np.uint8), np.ones((scale, scale), dtype=np.uint8))
    h, w = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


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
    src = img[max(0, -dr):28 - max(0, dr), max(0, -dc):28 - max(0, dc)]
    out[max(0, dr):max(0, dr) + src.shape[0], max(0, dc):max(0, dc) + src.shape[1]] = src
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
        raise TypeError(f"{tool} needs a model such as nnlib.mlp([784, 100, 10]) (with predict_proba, n_in and "
                        f"n_out); got {model!r}")
    if model.n_in != 784:
        raise ValueError(f"{tool} shows 28x28 images, so the model must take 784 inputs; this one takes {model.n_in}")
    if n_out is not None and model.n_out != n_out:
        raise ValueError(f"{tool} shows the digits 0-9, so the model must have {n_out} outputs; this one has "
                         f"{model.n_out}")
    return model


def _bars(n: int = 10):
    w = _w()
    bars = [w.FloatProgress(value=0.0, min=0.0, max=1.0, description=str(k),
                            layout=w.Layout(width="260px")) for k in range(n)]
    return bars, w.VBox(bars)


def _show_probs(bars, p):
    best = int(np.argmax(p))
    for k, (bar, value) in enumerate(zip(bars, p)):
        bar.value = float(value)
        bar.bar_style = "success" if k == best else ""


class TestSetBrowser(_Tool):
    """Browse ``X`` (N, 784) with labels ``y`` (N,) through the eyes of ``model``."""

    __test__ = False   # not a pytest test class, despite its name

    def __init__(self, model, X, y):
        w = _w()
        _image_model(model, "TestSetBrowser")
        self.X = as_features(X, model.n_in)
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            raise ValueError(f"TestSetBrowser needs labels y (N,), got shape {np.shape(y)}: pass y.ravel()")
        if np.ndim(y) == 2:
            raise ValueError("TestSetBrowser needs labels y (N,), not one-hot rows: pass y.argmax(axis=1)")
        self.y = as_labels(y, model.n_out, name="y")
        if len(self.y) != len(self.X):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)} labels")
        self.P = model.predict_proba(self.X)
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
        summary = w.HTML(f"{len(self.mistakes)} mistakes in {len(self.X)} images "
                         f"(accuracy {1 - len(self.mistakes) / len(self.X):.2%})")
        self.widget = w.VBox([summary, w.HBox([self.index_box, self.prev_button, self.next_button,
                                               self.mistake_button]),
                              w.HBox([w.VBox([self.image, self.label]), bar_box])])
        self.index = -1
        self.show(0)

    def go(self, index: int):
        """Show image ``index`` (wrapping around at the ends)."""
        self.index_box.value = int(index) % len(self.X)   # triggers show() if it changed
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
        self.index_box.value = index                      # its observer calls show(index) again: nothing to do
        self.image.value = png_bytes(self.X[index].reshape(28, 28))
        ok = self.pred[index] == self.y[index]
        colour = "green" if ok else "crimson"
        self.label.value = (f"<b>true {self.y[index]}</b> · <span style='color:{colour}'>predicted "
                            f"{self.pred[index]} (p = {self.P[index, self.pred[index]]:.2f})</span>")
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
        self.plot = w.Image(format="png", layout=w.Layout(display="none"))   # shown after training
        self.button.on_click(lambda _: self.train())
        self.history = self.model = None
        self.widget = w.VBox([w.HBox([w.VBox([self.hidden, self.lr, self.momentum]),
                                      w.VBox([self.batch_size, self.epochs, self.button])]),
                              self.progress, self.status, self.plot])

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
        self.plot.layout.display = "none"          # the last run's curves go, whatever happens to this one
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
            self.status.value = (f"epoch {epoch}/{self.epochs.value}: loss {history.loss[-1]:.4f}, "
                                 f"validation accuracy {history.val_acc[-1]:.2%}")

        try:
            opt = Momentum(self.lr.value, beta) if beta > 0 else SGD(self.lr.value)
            self.model = mlp(sizes, rng=self.seed)
            self.history = fit(self.model, X_train, y_train, opt, epochs=self.epochs.value, batch_size=batch,
                               rng=self.seed, validation=(X_val, y_val), verbose=False, callback=on_epoch)
        except TrainingDiverged as err:
            self.history = err.history
            self._error(err)
        except Exception as err:   # anything else: say so in the status line rather than hang on "training ..."
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


class DigitPad(_Tool):
    """Draw a digit by switching cells of a grid on and off; the model's prediction follows.

    The grid has ``cells x cells`` toggles (14 by default, each covering 2x2 pixels); the drawing is
    scaled to 28x28, softened like a pen stroke and centred, as MNIST's digits are.
    """

    def __init__(self, model, cells: int = 14):
        cells = positive_int(cells, "cells")
        if 28 % cells:
            raise ValueError(f"cells must divide 28, got {cells}")
        _image_model(model, "DigitPad", n_out=10)
        w = _w()
        self.model, self.n = model, cells
        size = f"{int(336 / cells)}px"
        self.cells = [w.ToggleButton(value=False, layout=w.Layout(width=size, height=size, padding="0", margin="0"))
                      for _ in range(cells * cells)]
        for c in self.cells:
            c.observe(self._on_toggle, names="value")
        grid = w.GridBox(self.cells, layout=w.Layout(grid_template_columns=f"repeat({cells}, {size})",
                                                     grid_template_rows=f"repeat({cells}, {size})",
                                                     grid_gap="0px"))
        self.clear_button = w.Button(description="clear", icon="eraser")
        self.clear_button.on_click(lambda _: self.clear())
        self.preview = w.Image(format="png", layout=w.Layout(width="112px", height="112px"))
        self.label = w.HTML()
        self.bars, bar_box = _bars()
        self.widget = w.HBox([grid, w.VBox([self.clear_button, self.preview, self.label, bar_box])])
        self._hold = False
        self.update()

    def _on_toggle(self, change):
        change["owner"].button_style = "primary" if change["new"] else ""   # ink is dark blue
        self.update()

    def drawing(self) -> np.ndarray:
        """The cells as an (n, n) array of 0s and 1s."""
        return np.array([c.value for c in self.cells], dtype=np.float32).reshape(self.n, self.n)

    def image(self) -> np.ndarray:
        """The drawing as the model sees it: 28x28, softened, centred, values in [0, 1]."""
        k = 28 // self.n
        img = np.kron(self.drawing(), np.ones((k, k), dtype=np.float32))
        padded = np.pad(img, 1)
        soft = sum(padded[1 + dr:29 + dr, 1 + dc:29 + dc] * wgt
                   for dr, dc, wgt in [(0, 0, 1.0), (-1, 0, .25), (1, 0, .25), (0, -1, .25), (0, 1, .25)])
        return center_digit(np.clip(soft, 0, 1))

    def set_drawing(self, cells):
        """Set every cell from an (n, n) array of truthy values, updating once at the end."""
        cells = np.asarray(cells).reshape(-1)
        if cells.size != len(self.cells):
            raise ValueError(f"need {len(self.cells)} cells, got {cells.size}")
        values = [bool(v) for v in cells]            # a value without a truth value fails before any cell changes
        self._hold = True
        try:
            for c, v in zip(self.cells, values):
                c.value = v
        finally:                                     # even if a cell's observer raised: the pad must not stay frozen
            self._hold = False
            self.update()

    def clear(self):
        self.set_drawing(np.zeros(len(self.cells)))

    def update(self):
        if self._hold:
            return
        img = self.image()
        self.preview.value = png_bytes(img)
        if img.sum() == 0:
            self.probs = np.zeros(10)
            self.label.value = "draw a digit on the grid"
        else:
            self.probs = self.model.predict_proba(img.reshape(1, 784).astype(np.float32))[0]
            k = int(self.probs.argmax())
            self.label.value = f"<b>prediction: {k}</b> (p = {self.probs[k]:.2f})"
        _show_probs(self.bars, self.probs)
