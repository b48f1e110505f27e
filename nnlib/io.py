"""Saving a trained model to ``.npz`` with its architecture, and loading it back.

The file holds one array per parameter (``W1``, ``b1``, ...) and the
architecture as a JSON string. It is read with ``allow_pickle=False``: a
model file can never run code.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .layers import Model

__all__ = ["save_model", "load_model", "load_params"]

FORMAT = "nnlib-model-1"


def save_model(model: Model, path):
    """Write ``model``'s architecture and parameters to ``path`` (.npz), atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = json.dumps({"format": FORMAT, "layers": model.spec()})
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __architecture__=np.array(meta), **model.params)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable nnlib model file ({exc})") from exc
    meta = arrays.pop("__architecture__", None)
    try:
        meta = json.loads(str(meta))
        assert meta["format"] == FORMAT
    except Exception:
        raise ValueError(f"{path} is not an nnlib model file (no architecture record)") from None
    return meta["layers"], arrays


def load_model(path) -> Model:
    """Rebuild the model saved in ``path``: same layers, same parameters."""
    spec, arrays = _read(path)
    model = Model.from_spec(spec, dtype=arrays["W1"].dtype if "W1" in arrays else np.float32)
    model.set_params(arrays)
    return model


def load_params(model: Model, path) -> Model:
    """Load the parameters saved in ``path`` into ``model``, which must have the same architecture."""
    spec, arrays = _read(path)
    mine = [{k: v for k, v in s.items() if k != "init"} for s in model.spec()]
    theirs = [{k: v for k, v in s.items() if k != "init"} for s in spec]
    if mine != theirs:
        raise ValueError(f"{path} holds a model of another architecture:\n  saved: {_describe(theirs)}\n"
                         f"  this model: {_describe(mine)}")
    model.set_params(arrays)
    return model


def _describe(spec) -> str:
    return " -> ".join(f"Linear({s['n_in']}, {s['n_out']})" if s["type"] == "Linear" else s["type"] for s in spec)
