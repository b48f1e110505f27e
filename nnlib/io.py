"""Saving a trained model to ``.npz`` with its architecture, and loading it back.

The file holds one array per parameter (``W1``, ``b1``, ...), one per array of
state (batch norm's ``running_mean2``, ...) and the architecture as a JSON string. It is read with ``allow_pickle=False``: a
model file can never run code.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .files import atomic_write
from .layers import Model

__all__ = ["save_model", "load_model", "load_params"]

FORMAT = "nnlib-model-1"


def save_model(model: Model, path):
    """Write ``model``'s architecture, parameters and state to ``path`` (.npz), atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = json.dumps({"format": FORMAT, "layers": model.spec()})
    with atomic_write(path) as f:
        np.savez(f, __architecture__=np.array(meta), **model.params, **model.state)
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
        ok = isinstance(meta, dict) and meta.get("format") == FORMAT and isinstance(meta.get("layers"), list)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{path} is not an nnlib model file (no architecture record)")
    return meta["layers"], arrays


def _set_arrays(model: Model, arrays: dict):
    """Params and state from one dict of arrays, all checked before any is copied."""
    state_keys = set(model.state)
    model.set_params({k: v for k, v in arrays.items() if k not in state_keys},
                     {k: v for k, v in arrays.items() if k in state_keys} if state_keys else None)


def load_model(path) -> Model:
    """Rebuild the model saved in ``path``: same layers, same parameters."""
    spec, arrays = _read(path)
    dtypes = {v.dtype for v in arrays.values() if np.issubdtype(v.dtype, np.floating)}
    model = Model.from_spec(spec, dtype=dtypes.pop() if len(dtypes) == 1 else np.float32)
    _set_arrays(model, arrays)
    return model


def load_params(model: Model, path) -> Model:
    """Load the parameters saved in ``path`` into ``model``, which must have the same architecture."""
    spec, arrays = _read(path)
    mine = [{k: v for k, v in s.items() if k != "init"} for s in model.spec()]
    theirs = [{k: v for k, v in s.items() if k != "init"} for s in spec]
    if mine != theirs:
        raise ValueError(f"{path} holds a model of another architecture:\n  saved: {_describe(theirs)}\n"
                         f"  this model: {_describe(mine)}")
    _set_arrays(model, arrays)
    return model


def _describe(spec) -> str:
    """E.g. ``Linear(784, 100) -> ReLU -> BatchNorm(100, 0.9, 1e-05)``."""
    def one(s):
        args = [repr(v) for k, v in s.items() if k not in ("type", "init")]
        return f"{s['type']}({', '.join(args)})" if args else str(s["type"])
    return " -> ".join(one(s) for s in spec)
