"""A drawing made into the network's input, the way MNIST's digits were made.

MNIST's makers (LeCun, Cortes and Burges) took each handwritten digit, a black-and-white image of any size,
and

1. fitted its bounding box into a 20 x 20 box, keeping its aspect ratio; averaging the pixels each new
   pixel covers gives grey levels at the edges (anti-aliasing);
2. placed that box in a 28 x 28 image so that the digit's centre of mass lands on the centre, pixel (14, 14)
   counted from 0 (measured on MNIST itself: the mean centre of mass of its test digits is (13.99, 14.00)).

:func:`to_mnist` does the same to a drawing of any size (white ink on black, values in [0, 1]);
:func:`render_strokes` draws pen strokes (lists of points, as the drawing canvas sends them) into such an
image; :func:`read_image` turns the bytes of a PNG (a scan, a photo, a drawing) into one; :func:`saliency`
shows which pixels push the network towards a class. Plain NumPy, float32.
"""

from __future__ import annotations

import io
import numbers

import numpy as np

__all__ = ["to_mnist", "render_strokes", "read_image", "saliency", "as_model_input", "box_matrix"]

BOX = 20  # the digit's bounding box is fitted into BOX x BOX pixels ...
SIZE = 28  # ... which sit in a SIZE x SIZE image
CENTRE = 14.0  # ... with the centre of mass at row CENTRE, column CENTRE
INK = 0.5 / 255  # a pixel counts as ink from half a grey level of 255 up


def box_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix R that shrinks (or stretches) n_in pixels to n_out by area averaging.

    Output pixel i covers input positions [i * n_in / n_out, (i + 1) * n_in / n_out); R[i, j] is the part of
    input pixel j [j, j + 1) inside it, divided by the output pixel's width, so each row sums to 1.
    ``R @ image @ R.T`` resizes a square image.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    j = np.arange(n_in)
    overlap = np.minimum(j + 1, edges[1:, None]) - np.maximum(j, edges[:-1, None])
    return np.clip(overlap, 0, None) / (n_in / n_out)


def _as_drawing(image, name: str = "image") -> np.ndarray:
    """``image`` checked and as float64 (H, W) in [0, 1]: floats in [0, 1], uint8 (0-255) or bool."""
    img = np.asarray(image)
    if img.dtype == object or not (np.issubdtype(img.dtype, np.floating) or img.dtype in (np.uint8, np.bool_)):
        raise TypeError(f"{name} must be floats in [0, 1], uint8 (0-255) or bool; got dtype {img.dtype}")
    if img.ndim != 2:
        hint = " (a colour image: pass image.mean(axis=2), or read_image(png_bytes))" if img.ndim == 3 else ""
        raise ValueError(f"{name} must be a 2-D grey-scale drawing (height, width), got shape {img.shape}{hint}")
    if img.size == 0:
        raise ValueError(f"{name} is empty: shape {img.shape}")
    if img.dtype == np.uint8:
        return img / 255.0
    img = img.astype(np.float64)
    if not np.isfinite(img).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if img.min() < -1e-6 or img.max() > 1 + 1e-6:
        raise ValueError(
            f"{name} must have values in [0, 1], got {img.min():.4g} to {img.max():.4g}"
            + (" (divide by 255?)" if img.max() <= 255 else "")
        )
    return np.clip(img, 0, 1)


def to_mnist(image, invert: bool = False) -> np.ndarray:
    """A drawing of any size as MNIST's digits are: (784,) float32 in [0, 1], white on black, ready for a model.

    ``image`` (H, W): white (1) ink on black (0), floats in [0, 1], uint8 or bool. ``invert=True`` for dark
    ink on light paper. The ink's bounding box is fitted into 20 x 20 keeping its aspect ratio (each new
    pixel the mean of the pixels it covers), the brightest pixel scaled to 1 as in MNIST, and the box placed
    in 28 x 28 with the centre of mass at pixel (14, 14) (whole-pixel shifts, as MNIST's, so strokes stay
    sharp; the box stays inside the image). A drawing with no ink is a ValueError: draw something first.
    """
    img = _as_drawing(image)
    if invert:
        img = 1 - img
    rows, cols = np.flatnonzero((img > INK).any(axis=1)), np.flatnonzero((img > INK).any(axis=0))
    if len(rows) == 0:
        raise ValueError(
            "the drawing is empty: draw something first"
            + ("" if invert else " (dark ink on light paper? pass invert=True)")
        )
    ink = img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    side = max(h, w)  # the ink sits in the middle of a side x side square
    top, left = (side - h) // 2, (side - w) // 2  # (the shorter side padded: the aspect ratio is kept)
    R = box_matrix(side, BOX)  # the square shrunk to 20 x 20: R @ square @ R.T, with
    box = R[:, top : top + h] @ ink @ R[:, left : left + w].T  # only the columns of R that meet the ink
    box /= box.max()
    r, c = np.indices(box.shape)
    mass = box.sum()
    # whole-pixel offsets that bring the centre of mass to (14, 14); floor(x + 0.5) rounds halves up
    dr = int(np.clip(np.floor(CENTRE - (r * box).sum() / mass + 0.5), 0, SIZE - BOX))
    dc = int(np.clip(np.floor(CENTRE - (c * box).sum() / mass + 0.5), 0, SIZE - BOX))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[dr : dr + BOX, dc : dc + BOX] = box
    return np.clip(out, 0, 1).reshape(SIZE * SIZE)


def _point(p, where: str):
    if (
        not isinstance(p, (list, tuple, np.ndarray))
        or len(p) != 2
        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in p)
    ):
        raise ValueError(f"{where} must be an (x, y) pair of numbers, got {p!r}")
    x, y = float(p[0]), float(p[1])
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"{where} is not finite: {p!r}")
    return x, y


def render_strokes(strokes, size: int = 280, width: float = 22.0) -> np.ndarray:
    """Pen strokes drawn as white ink on a black ``size`` x ``size`` image: float32 (size, size) in [0, 1].

    ``strokes`` is a list of strokes, each a list of (x, y) points in pixels (x to the right, y down, as the
    canvas sends them); a stroke of one point is a dot. Each segment is a line ``width`` pixels thick with
    round ends: a pixel's ink is how much of it the line covers (1 inside, 0 outside, anti-aliased edge).
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or not 0 < width < 10 * size:
        raise ValueError(f"width must be a positive number of pixels, got {width!r}")
    if not isinstance(strokes, (list, tuple)):
        raise ValueError(f"strokes must be a list of strokes (lists of (x, y) points), got {type(strokes).__name__}")
    img = np.zeros((size, size), dtype=np.float32)
    r = width / 2
    for s, stroke in enumerate(strokes):
        if not isinstance(stroke, (list, tuple)) or len(stroke) == 0:
            raise ValueError(f"stroke {s} must be a non-empty list of (x, y) points, got {stroke!r}")
        pts = [_point(p, f"point {i} of stroke {s}") for i, p in enumerate(stroke)]
        segments = list(zip(pts, pts[1:])) or [(pts[0], pts[0])]
        for (x0, y0), (x1, y1) in segments:
            lo_x, hi_x = int(max(0, np.floor(min(x0, x1) - r - 1))), int(min(size, np.ceil(max(x0, x1) + r + 1)))
            lo_y, hi_y = int(max(0, np.floor(min(y0, y1) - r - 1))), int(min(size, np.ceil(max(y0, y1) + r + 1)))
            if lo_x >= hi_x or lo_y >= hi_y:
                continue  # the segment lies outside the image
            py, px = np.mgrid[lo_y:hi_y, lo_x:hi_x] + 0.5  # pixel centres
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy), 0, 1) if dx or dy else 0.0
            dist = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
            cover = np.clip(r + 0.5 - dist, 0, 1).astype(np.float32)
            np.maximum(img[lo_y:hi_y, lo_x:hi_x], cover, out=img[lo_y:hi_y, lo_x:hi_x])
    return img


def read_image(data) -> np.ndarray:
    """The bytes of a PNG (a drawing, a scan, a photo of a digit) as white ink on black: float32 (H, W) in [0, 1].

    Read by matplotlib. Colour becomes grey; transparent pixels are paper. Dark ink on light paper (the
    border is mostly light) is inverted. The paper's grey level (the median of the border) becomes 0 and the
    darkest ink 1, so a grey photo gives a clean drawing for :func:`to_mnist`.
    """
    from matplotlib.image import imread

    if isinstance(data, memoryview):
        data = data.tobytes()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"read_image needs the file's bytes, got {type(data).__name__}")
    if not bytes(data[:8]) == b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file (save the image as .png)")
    try:
        img = np.asarray(imread(io.BytesIO(bytes(data)), format="png"), dtype=np.float64)
    except Exception as err:  # a truncated or damaged file: say so in one line
        raise ValueError(f"could not read the PNG: {err}") from None
    if img.dtype.kind in "ui" or img.max() > 1:
        img = img / 255.0
    if img.ndim == 3:
        grey = img[..., :3].mean(axis=2) if img.shape[2] >= 3 else img[..., 0]
        if img.shape[2] in (2, 4):  # transparent pixels are paper: white
            alpha = img[..., -1]
            grey = grey * alpha + (1 - alpha)
        img = grey
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    paper = float(np.median(border))
    ink = 1 - img if paper > 0.5 else img
    paper = 1 - paper if paper > 0.5 else paper
    top = ink.max()
    if top - paper < 0.1:
        return np.zeros(img.shape, dtype=np.float32)  # no ink darker (lighter) than the paper
    return np.clip((ink - paper - 0.05) / (top - paper - 0.05), 0, 1).astype(np.float32)


NO_INPUT_SHAPE = (
    "needs a model that knows its input shape: train it first, or build it with input_shape=(1, 28, 28) "
    "(a convolutional network) or (784,)"
)


def as_model_input(model, X) -> np.ndarray:
    """Images X (N, 784), one per row, in the shape ``model`` takes per example: (N, 784) for an MLP,
    (N, 1, 28, 28) for a convolutional network (its ``input_shape``). The values are not changed.

    A ``Model`` that has not fixed its input shape yet (a CNN before training, built without input_shape)
    gets a ValueError that says so, not one about a shape the caller never passed.
    """
    X = np.asarray(X)
    if not hasattr(model, "input_shape"):  # a network of notebook 04 or one of the learner's own: flat rows
        return X.reshape(len(X), -1)
    if model.input_shape is None:
        raise ValueError(f"{type(model).__name__} {NO_INPUT_SHAPE}")
    return X.reshape(len(X), *model.input_shape)


def saliency(model, x) -> tuple:
    """``(k, g)``: the class k the model predicts for one image x (784,) and g (784,), the gradient of k's
    score with respect to every input pixel (backpropagation through the model's layers, down to the input).
    The model may be an MLP or a convolutional network (x goes in as the (1, 28, 28) image it takes).

    The score is the input of the model's loss layer (the logit z_k before a softmax). g > 0 where more ink
    would raise the score: the pixels that speak for k; g < 0 where ink speaks against it.
    """
    if not callable(getattr(model, "input_gradient", None)):
        raise TypeError(
            f"saliency needs an nnlib Model (nnlib.mlp, or nnlib.Model made of layers), got {type(model).__name__}"
        )
    x = as_model_input(model, np.asarray(x, dtype=model.dtype).reshape(1, -1))
    out, caches = model.forward(x)
    k = int(np.argmax(out[0]))
    d = np.zeros((1, model.n_out), dtype=x.dtype)
    d[0, k] = 1.0  # d(score_k) / d(scores)
    return k, np.asarray(model.input_gradient(d, caches), dtype=np.float32).reshape(-1)
