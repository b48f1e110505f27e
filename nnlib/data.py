"""MNIST as NumPy arrays: IDX files, the Kaggle CSV, splits and mini-batches.

``load_mnist()`` gives ``X_train (60000, 784)``, ``y_train (60000,)``,
``X_test (10000, 784)``, ``y_test (10000,)``: one example per row, pixels
scaled to [0, 1] as float32. Where the files come from is described in
:mod:`nnlib.download`.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .download import find_or_download
from .functional import one_hot as _one_hot
from .init import as_rng

__all__ = [
    "MNIST",
    "read_idx",
    "write_idx",
    "load_mnist",
    "train_val_split",
    "minibatches",
    "read_mnist_csv",
    "random_shift",
]

# IDX type codes -> big-endian NumPy dtypes.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzipped or plain) into an array of the shape its header states.

    IDX: two zero bytes, a type code, the number of dimensions d, then d
    big-endian int32 sizes, then the data, row-major.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: corrupt gzip data ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">i4", ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: header promises shape {shape} ({expected} bytes) but the file has "
            f"{len(raw)} bytes; it is truncated or corrupt"
        )
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array, compress: bool | None = None):
    """Write ``array`` as an IDX file (gzipped if the name ends in .gz or ``compress``)."""
    path, array = Path(path), np.asarray(array)
    code = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}.get(array.dtype)
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    body = (
        bytes([0, 0, code, array.ndim])
        + np.asarray(array.shape, ">i4").tobytes()
        + array.astype(array.dtype.newbyteorder(">")).tobytes()
    )
    if compress or (compress is None and path.suffix == ".gz"):
        body = gzip.compress(body, mtime=0)
    path.write_bytes(body)


class MNIST(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


_RAW_CACHE: dict = {}


def _load_raw(data_dir, download) -> tuple:
    paths = tuple(
        find_or_download(name, data_dir, download)
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    )
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    if key not in _RAW_CACHE:
        _RAW_CACHE.clear()
        _RAW_CACHE[key] = tuple(read_idx(p) for p in paths)
    return _RAW_CACHE[key]


def load_mnist(
    data_dir=None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
    dtype=np.float32,
    download: bool = True,
) -> MNIST:
    """Load MNIST as ``(X_train, y_train, X_test, y_test)`` (a named tuple).

    normalize: pixels / 255 in [0, 1] (else 0..255). flatten: X of shape
    (N, 784) (else (N, 28, 28)). one_hot: labels as (N, 10) one-hot rows of
    ``dtype`` (else int64 labels (N,)). dtype: of the pixels, float32 by
    default; ``normalize=False, dtype=np.uint8`` gives the raw bytes.
    """
    if normalize and not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(
            f"normalize=True needs a float dtype, got {np.dtype(dtype)}; use normalize=False for raw 0..255 values"
        )
    Xtr, ytr, Xte, yte = _load_raw(data_dir, download)

    def images(X):
        X = X.reshape(len(X), -1) if flatten else X
        X = X.astype(dtype)
        if normalize:
            X /= 255
        return X

    def labels(y):
        return _one_hot(y, 10, dtype=dtype) if one_hot else y.astype(np.int64)

    return MNIST(images(Xtr), labels(ytr), images(Xte), labels(yte))


def train_val_split(X, y, val_size=10000, rng=0, shuffle: bool = True):
    """Split off ``val_size`` examples for validation: a number of rows (an int), or a fraction
    strictly between 0 and 1 (a float, e.g. 0.2 for a fifth).

    Returns ``X_train, y_train, X_val, y_val``; with ``shuffle`` the rows are
    drawn at random with ``rng``, else the last rows become the validation set.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    is_count = isinstance(val_size, (int, np.integer)) and not isinstance(val_size, (bool, np.bool_))
    is_fraction = isinstance(val_size, (float, np.floating)) and 0 < val_size < 1
    if not (is_count or is_fraction):
        raise ValueError(
            f"val_size must be a number of rows (an int, such as 10000) or a fraction strictly "
            f"between 0 and 1 (a float, such as 0.2); got {val_size!r}"
        )
    n_val = int(round(val_size * len(X))) if is_fraction else int(val_size)
    if n_val < 1:
        raise ValueError(
            f"val_size={val_size!r} leaves the validation set empty; it needs at least one of the {len(X)} rows"
        )
    if n_val >= len(X):
        raise ValueError(
            f"val_size={val_size!r} leaves no rows for training: X has {len(X)} rows and at "
            f"least one must stay for training"
        )
    order = as_rng(rng).permutation(len(X)) if shuffle else np.arange(len(X))
    tr, val = order[:-n_val], order[-n_val:]
    return X[tr], y[tr], X[val], y[val]


def minibatches(X, Y, batch_size: int, rng, shuffle: bool = True):
    """One epoch of mini-batches: an iterator of ``(X_batch, Y_batch)`` that uses every row exactly once.

    X is (N, ...): one example per row, of any shape ((N, 784), or images (N, 1, 28, 28)). ``Y`` may be
    labels (N,) or one-hot rows (N, C): its rows are cut the same way as X's. This is the one place nnlib
    cuts batches: ``fit`` and ``evaluate`` take theirs from here.
    Batches hold ``batch_size`` rows, except the last, which holds the ``N % batch_size`` rows
    left over when ``batch_size`` does not divide N (it is kept, not dropped).

    With ``shuffle`` (the default) each call draws one permutation of the rows from ``rng`` and
    the batches follow it; they are copies. Pass the same ``np.random.Generator`` every epoch to
    get a new order every epoch: an int seed gives a fresh generator, hence the *same* order, on
    every call. With ``shuffle=False`` the batches are consecutive slices (views) in the original
    order and ``rng`` is not used (it may be None).

    Bad arguments raise ``ValueError`` at the call, before any batch is produced.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"X and Y must have one row per example; got shapes {X.shape} and {Y.shape}")
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} rows but Y has {len(Y)}")
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    order = as_rng(rng).permutation(len(X)) if shuffle else None
    return _batches(X, Y, int(batch_size), order)


def _batches(X, Y, batch_size, order):
    """``(X[rows], Y[rows])`` for each run of ``batch_size`` rows, in the order ``order`` (None: as they are)."""
    for start in range(0, len(X), batch_size):
        if order is None:
            yield X[start : start + batch_size], Y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            yield X[idx], Y[idx]


_CSV_FORMAT = (
    "An MNIST CSV (Kaggle's format) has one image per line: a label 0..9 (train.csv; test.csv "
    "has none), then 784 pixels, each a whole number 0..255; a first line of column names "
    "(label, pixel0, ...) is optional."
)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _csv_header(path):
    """What the first line of the CSV is: 'names' (mostly words: label, pixel0, ...), 'numbers' (pandas'
    header 0, 1, 2, ... of an unnamed table) or None (mostly numbers: the first example, not a header)."""
    import pandas as pd

    first = (
        pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, skip_blank_lines=False)
        .iloc[0]
        .str.strip()
        .tolist()
    )
    if sum(bool(text) and not _is_number(text) for text in first) > len(first) / 2:
        return "names"
    return "numbers" if first == [str(i) for i in range(len(first))] else None


def read_mnist_csv(path, normalize: bool = True, dtype=np.float32):
    """Read a Kaggle-style MNIST CSV: an optional ``label`` column, then 784 pixel columns.

    Returns ``(X, y)`` with X (N, 784) and y (N,) int64, or None when the file
    has no label column (Kaggle's test.csv).

    The header line is optional: a first line mostly of numbers is the first example (pandas'
    header 0, 1, 2, ... excepted). Without a header, 785 values per line mean a label, then the pixels.
    Labels must be whole numbers 0..9 and pixels whole numbers 0..255: anything else (an empty
    or missing value, text, 3.7, 300) is a ``ValueError`` naming the file, line and column.
    Blank lines are skipped.
    """
    import pandas as pd

    try:
        header = _csv_header(path)
        df = pd.read_csv(path, header=None if header is None else 0, skip_blank_lines=False)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path} is empty. {_CSV_FORMAT}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path} is not a readable CSV file ({str(exc).strip()}); every line must have as "
            f"many values as the first. {_CSV_FORMAT}"
        ) from exc
    n_cols = df.shape[1]
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the values beyond the header's names an index
        raise ValueError(
            f"{path}: its lines have more values than its header line has names ({n_cols}); "
            f"a comma at the end of each line does that. {_CSV_FORMAT}"
        )
    if header == "names":
        names = [str(c) for c in df.columns]
        has_label = "label" in names
        if n_cols - has_label != 784:
            unnamed = "" if has_label else ", none named 'label'"
            raise ValueError(
                f"{path}: expected 784 pixel columns (plus 'label'), found {n_cols - has_label} in "
                f"its header line{unnamed}. {_CSV_FORMAT}"
            )
    else:
        has_label = n_cols == 785
        names = ["label"] * has_label + [f"pixel{i}" for i in range(n_cols - has_label)]
        if n_cols not in (784, 785):
            raise ValueError(
                f"{path}: expected 784 pixel columns (plus one for the label), found {n_cols} "
                f"values on its first line. {_CSV_FORMAT}"
            )
    has_text = not all(pd.api.types.is_numeric_dtype(column) for _, column in df.items())
    values = (df.apply(pd.to_numeric, errors="coerce") if has_text else df).to_numpy(np.float32)  # text: NaN
    rows = np.flatnonzero(~np.isnan(values).all(axis=1))  # blank lines are skipped
    if len(rows) < len(values):
        values = values[rows]
    label = names.index("label") if has_label else None
    top = np.full(n_cols, 255, np.float32)
    if has_label:
        top[label] = 9
    good = (values >= 0) & (values <= top) & (values == np.round(values))  # NaN fails every test
    if not good.all():
        bad = np.argwhere(~good)
        row, col = rows[bad[0, 0]], bad[0, 1]
        line = row + 1 + (header is not None)
        text = df.iat[row, col]
        if pd.isna(text):
            what = " is empty"
        elif not _is_number(str(text)):
            what = f": {str(text)!r} is not a number"
        else:
            what = f": {text} is not a whole number 0..{9 if col == label else 255}"
        more = f" ({len(bad)} values in the file are bad; this is the first.)" if len(bad) > 1 else ""
        raise ValueError(
            f"{path}: line {line}, column {col + 1} ({names[col]}){what}.{more} "
            f"Correct or delete that line and read the file again. {_CSV_FORMAT}"
        )
    y = values[:, label].astype(np.int64) if has_label else None
    X = np.ascontiguousarray(np.delete(values, label, axis=1) if has_label else values, dtype=dtype)
    if normalize:
        X /= 255
    return X, y


def random_shift(X, rng, max_shift: int = 2, side: int = 28) -> np.ndarray:
    """Shift each image of X by a random whole number of pixels, up to ``max_shift`` in each direction,
    filling with zeros. Returns a new array of X's shape; X is unchanged.

    X holds one image of side*side pixels per row: flat (N, 784) or as images (N, 1, 28, 28) or (N, 28, 28).
    A small shift leaves the digit a digit, so it gives the network "new" training images for free.
    """
    X = np.asarray(X)
    N = len(X)
    if X.ndim < 2 or int(np.prod(X.shape[1:])) != side * side or (X.ndim > 2 and X.shape[-2:] != (side, side)):
        raise ValueError(f"X must have shape (N, {side * side}) or (N, 1, {side}, {side}), got {X.shape}")
    rng = as_rng(rng)
    m = int(max_shift)
    padded = np.zeros((N, side + 2 * m, side + 2 * m), dtype=X.dtype)
    padded[:, m : m + side, m : m + side] = X.reshape(N, side, side)
    dy, dx = rng.integers(-m, m + 1, size=(2, N))
    # Every side x side window of each padded image, as a view (no copy): windows[n, a, b] starts at row a,
    # column b. Image n shifted by (dy, dx) is its window at (m - dy, m - dx); one fancy index copies them all.
    windows = sliding_window_view(padded, (side, side), axis=(1, 2))  # (N, 2m+1, 2m+1, side, side)
    return windows[np.arange(N), m - dy, m - dx].reshape(X.shape)
