"""Saving a trained model to ``.npz`` with its architecture, and loading it back.

The file holds one array per parameter (``W1``, ``b1``, ...), one per array of
state (batch norm's ``running_mean2``, ...) and the architecture as a JSON string. It is read with ``allow_pickle=False``: a
model file can never run code.

Loading checks the file before it builds anything: the architecture record (known layer types,
sizes that are whole numbers) and the name, shape and dtype of every array, read from the .npy
headers inside the zip without reading the data. A damaged file (cut short, corrupted, tampered
with) is one ValueError that names it, and costs no more memory than its own arrays take.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .files import _write_error, atomic_write
from .inputs import positive_int
from .layers import LAYER_TYPES, Model

__all__ = ["save_model", "load_model", "load_params"]

FORMAT = "nnlib-model-1"
RECORD = "__architecture__"
MAX_RECORD_CHARS = 1_000_000  # a model's architecture record takes a few hundred


def save_model(model: Model, path):
    """Write ``model``'s architecture, parameters and state to ``path`` (.npz), atomically.

    A model with NaN or infinite values is refused (ValueError), and a file already at ``path``
    is kept as it was.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = {**model.params, **model.state}
    for name, value in arrays.items():
        bad = np.size(value) - np.count_nonzero(np.isfinite(value))
        if bad:
            raise ValueError(
                f"model not saved to {path}: {name} contains NaN or infinite values ({bad} of "
                f"{np.size(value)}), so it could never be loaded again; a training run that diverged "
                f"leaves such values (train again with a smaller learning rate). Any file already at "
                f"{path} is unchanged"
            )
    record = {"format": FORMAT, "layers": model.spec()}
    if getattr(model, "input_shape", None) is not None:
        record["input_shape"] = list(model.input_shape)
    meta = json.dumps(record)
    with atomic_write(path) as f:
        try:
            np.savez(f, **{RECORD: np.array(meta)}, **arrays)
        except OSError as exc:  # a full disk, say: name the file, not the temporary one
            raise _write_error(path, exc) from exc
    return path


def _layer_arrays(kind: str, spec: dict) -> dict:
    """``{name: shape}`` of the arrays a layer of type ``kind`` built from ``spec`` holds (params, then state).

    Linear and BatchNorm layers are worked out from the spec, so a damaged record cannot make nnlib
    allocate a huge layer before it is compared with the file; any other type (ReLU, a layer of your
    own: defining a subclass of ``nnlib.layers.Layer`` registers it in LAYER_TYPES) is built to see.
    """
    if kind == "Linear":
        n_in, n_out = positive_int(spec.get("n_in"), "n_in"), positive_int(spec.get("n_out"), "n_out")
        return {"W": (n_in, n_out), "b": (n_out,)}
    if kind == "BatchNorm":
        n = positive_int(spec.get("n"), "n")
        return {"gamma": (n,), "beta": (n,), "running_mean": (n,), "running_var": (n,)}
    layer = LAYER_TYPES[kind].from_spec({k: v for k, v in spec.items() if k != "type"})
    return {k: v.shape for k, v in {**layer.params, **layer.state}.items()}


def _implied(spec: list, path) -> dict:
    """``{array name: shape}`` of the model ``spec`` describes, numbered as ``Model`` numbers them."""
    shapes = {}
    number = 0
    for i, entry in enumerate(spec):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise ValueError(
                f"{path}: layer {i} of the architecture record is {repr(entry)[:80]}, not a "
                f"layer such as {{'type': 'ReLU'}} of a known type {sorted(LAYER_TYPES)}; "
                f"the file is damaged"
            )
        try:
            arrays = _layer_arrays(kind, entry)
        except ValueError as exc:
            raise ValueError(f"{path}: layer {i} ({kind}) of the architecture record is damaged: {exc}") from None
        if arrays:
            number += 1
            shapes.update({k + str(number): shape for k, shape in arrays.items()})
    return shapes


def _headers(zf: zipfile.ZipFile, path) -> dict:
    """``{name: (ZipInfo, shape, dtype)}`` for every array in the file, from its .npy header alone."""
    headers = {}
    for info in zf.infolist():
        name = info.filename[:-4]
        if not info.filename.endswith(".npy") or name in headers:
            raise ValueError(
                f"{path} is not an nnlib model file: it holds {info.filename!r}, which is not one of its arrays"
            )
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"{path}: {name} is encrypted or compressed in a way nnlib does not read")
        with zf.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f".npy format version {version}")
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(f)
            except ValueError as exc:
                raise ValueError(f"{path}: the header of {name} is damaged ({exc})") from None
            if dtype.hasobject:
                raise ValueError(
                    f"{path}: {name} holds Python objects, which only a pickle could load; nnlib "
                    f"never loads pickles (they can run code)"
                )
            data = info.file_size - f.tell()
            if data != math.prod(shape) * dtype.itemsize:
                raise ValueError(
                    f"{path}: {name} should hold {shape} {dtype} but holds {data} bytes of data; the file is damaged"
                )
        headers[name] = (info, shape, dtype)
    return headers


def _array(zf: zipfile.ZipFile, info) -> np.ndarray:
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _record(zf: zipfile.ZipFile, headers: dict, path) -> dict:
    """The architecture record: ``{"format": ..., "layers": [layer specs], "input_shape": [...] (optional)}``."""
    meta = None
    if RECORD in headers:
        info, shape, dtype = headers[RECORD]
        if shape == () and dtype.kind == "U" and dtype.itemsize <= 4 * MAX_RECORD_CHARS:
            try:
                meta = json.loads(str(_array(zf, info)))
            except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
                pass
    if not (isinstance(meta, dict) and meta.get("format") == FORMAT and isinstance(meta.get("layers"), list)):
        raise ValueError(f"{path} is not an nnlib model file (no architecture record)")
    shape = meta.get("input_shape")
    if shape is not None and not (
        isinstance(shape, list)
        and 0 < len(shape) <= 8
        and all(isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**31 for n in shape)
    ):
        raise ValueError(
            f"{path}: the input shape in its architecture record is {repr(shape)[:80]}, not a list of "
            f"positive whole numbers; the file is damaged"
        )
    return meta


def _read(path):
    """The architecture record and the arrays of ``path``, all checked against each other before any
    array is read: a damaged file costs no more memory than its own arrays take."""
    try:
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
            headers = _headers(zf, path)
            meta = _record(zf, headers, path)
            spec = meta["layers"]
            shapes = _implied(spec, path)
            missing, extra = sorted(set(shapes) - set(headers)), sorted(set(headers) - set(shapes) - {RECORD})
            if missing or extra:
                raise ValueError(
                    f"{path}: its arrays do not match its architecture record (missing: "
                    f"{', '.join(missing) or 'none'}; not expected: {', '.join(extra) or 'none'}); "
                    f"the file is damaged"
                )
            for name, shape in shapes.items():
                _, got, dtype = headers[name]
                if got != shape or dtype.kind != "f":
                    raise ValueError(
                        f"{path}: {name} is {got} {dtype}, but the architecture record says floats "
                        f"of shape {shape}; the file is damaged"
                    )
            arrays = {name: _array(zf, headers[name][0]) for name in shapes}
    except OSError as exc:
        raise ValueError(f"{path} is not a readable nnlib model file ({exc.strerror or exc})") from exc
    except (EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"{path} is not a readable nnlib model file ({exc}): it was cut short or corrupted; save the model again"
        ) from exc
    return meta, arrays


def _set_arrays(model: Model, arrays: dict, path):
    """Params and state from one dict of arrays, all checked before any is copied."""
    state_keys = set(model.state)
    try:
        model.set_params(
            {k: v for k, v in arrays.items() if k not in state_keys},
            {k: v for k, v in arrays.items() if k in state_keys} if state_keys else None,
        )
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_model(path) -> Model:
    """Rebuild the model saved in ``path``: same layers, same parameters."""
    meta, arrays = _read(path)
    dtypes = {v.dtype.newbyteorder("=") for v in arrays.values()}
    try:
        model = Model.from_spec(
            meta["layers"], dtype=dtypes.pop() if len(dtypes) == 1 else np.float32, input_shape=meta.get("input_shape")
        )
    except ValueError as exc:
        raise ValueError(f"{path}: its architecture record does not describe a model: {exc}") from None
    _set_arrays(model, arrays, path)
    return model


def load_params(model: Model, path) -> Model:
    """Load the parameters saved in ``path`` into ``model``, which must have the same architecture."""
    spec, arrays = _read(path)
    spec = spec["layers"]
    mine = [{k: v for k, v in s.items() if k != "init"} for s in model.spec()]
    theirs = [{k: v for k, v in s.items() if k != "init"} for s in spec]
    if mine != theirs:
        raise ValueError(
            f"{path} holds a model of another architecture:\n  saved: {_describe(theirs)}\n"
            f"  this model: {_describe(mine)}"
        )
    _set_arrays(model, arrays, path)
    return model


def _describe(spec) -> str:
    """E.g. ``Linear(784, 100) -> ReLU -> BatchNorm(100, 0.9, 1e-05)``."""

    def one(s):
        args = [repr(v) for k, v in s.items() if k not in ("type", "init")]
        return f"{s['type']}({', '.join(args)})" if args else str(s["type"])

    return " -> ".join(one(s) for s in spec)
