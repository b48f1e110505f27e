"""load_model and load_params on damaged or tampered files: one clear ValueError naming the file, no
unclosed file, and nothing allocated beyond what the file's own arrays take."""

import gc
import io
import json
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import nnlib
from nnlib.layers import LAYER_TYPES, BatchNorm, Dropout, Layer, Linear, Model, ReLU, Sigmoid, SoftmaxCrossEntropy


def _model():
    return nnlib.mlp([6, 4, 3], rng=0)


def _record(layers):
    return np.array(json.dumps({"format": "nnlib-model-1", "layers": layers}))


def _npz(path, members):
    """A zip of .npy members {name: array, or raw bytes for a hand-made member}."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in members.items():
            if not isinstance(value, bytes):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
                value = buf.getvalue()
            zf.writestr(name + ".npy", value)
    return path


def _good(path):
    model = _model()
    return _npz(path, {"__architecture__": _record(model.spec()), **model.params})


def _refused(path, load=nnlib.load_model):
    """The message of the ValueError that loading ``path`` raises; checks it names the file and leaks nothing."""
    gc.collect()  # files left open by anything before are not this load's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as info:
            load(path) if load is nnlib.load_model else load(_model(), path)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
    assert str(path) in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("load", [nnlib.load_model, nnlib.load_params])
def test_cut_short_empty_or_corrupted_files(tmp_path, load):
    data = _good(tmp_path / "good.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "good.npz") as zf:
        info = zf.getinfo("W1.npy")
    flipped = bytearray(data)
    flipped[info.header_offset + 30 + len("W1.npy") + 150] ^= 0xFF  # a byte of W1's data
    for name, content in [
        ("half", data[: len(data) // 2]),
        ("no_end", data[:-10]),
        ("empty", b""),
        ("crc", bytes(flipped)),
        ("junk", b"not a zip"),
    ]:
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        assert "not a readable nnlib model file" in _refused(path, load), name


def test_missing_file_names_it(tmp_path):
    assert "No such file" in _refused(tmp_path / "nothing.npz")


@pytest.mark.parametrize(
    "layers, words",
    [
        (["ReLU"], "layer 0"),
        ([5], "layer 0"),
        ([{"type": "Linear", "n_in": 6, "n_out": 4}, {"type": "Conv2d"}], "layer 1"),
        ([{"type": 5}], "layer 0"),
        ([{"type": "Linear", "n_in": "6", "n_out": 4}], "n_in"),
        ([{"type": "Linear", "n_in": 6, "n_out": -4}], "n_out"),
        ([{"type": "Linear", "n_in": True, "n_out": 4}], "n_in"),
        ([{"type": "Linear", "n_in": 6}], "n_out"),
        ([{"n_in": 6, "n_out": 4}], "layer 0"),
    ],
)
def test_damaged_architecture_record(tmp_path, layers, words):
    path = _npz(tmp_path / "m.npz", {"__architecture__": _record(layers), **_model().params})
    assert words in _refused(path)


@pytest.mark.parametrize(
    "record",
    [
        np.array("not json"),
        np.array('{"format": "nnlib-model-1"}'),
        np.array('{"format": "x", "layers": []}'),
        np.array("[" * 100000),
        np.zeros(3),
        np.array(["a", "b"]),
    ],
)
def test_not_an_architecture_record(tmp_path, record):
    path = _npz(tmp_path / "m.npz", {"__architecture__": record, **_model().params})
    assert "not an nnlib model file" in _refused(path)


def test_settings_a_layer_refuses_are_a_clear_error(tmp_path):
    spec = _model().spec()
    spec[0]["init"] = "magic"
    path = _npz(tmp_path / "m.npz", {"__architecture__": _record(spec), **_model().params})
    assert "magic" in _refused(path)


def test_arrays_that_do_not_match_the_record(tmp_path):
    model = _model()
    spec, params = model.spec(), dict(model.params)
    cases = {
        "missing": ({k: v for k, v in params.items() if k != "b2"}, "b2"),
        "extra": ({**params, "W3": np.zeros((3, 3), np.float32)}, "W3"),
        "shape": ({**params, "W2": np.zeros((3, 4), np.float32)}, "W2"),
        "ints": ({**params, "b1": np.zeros(4, np.int64)}, "b1"),
        "nan": ({**params, "b1": np.full(4, np.nan, np.float32)}, "b1"),
    }
    for case, (arrays, name) in cases.items():
        path = _npz(tmp_path / f"{case}.npz", {"__architecture__": _record(spec), **arrays})
        assert name in _refused(path), case
        assert name in _refused(path, nnlib.load_params), case


def test_other_members_and_damaged_headers(tmp_path):
    model = _model()
    members = {"__architecture__": _record(model.spec()), **model.params}
    with zipfile.ZipFile(tmp_path / "note.npz", "w") as zf:
        for name, value in members.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value))
            zf.writestr(name + ".npy", buf.getvalue())
        zf.writestr("notes.txt", b"hello")
    assert "notes.txt" in _refused(tmp_path / "note.npz")
    bad_header = _npz(tmp_path / "header.npz", {**members, "W1": b"\x93NUMPY\x01\x00garbage"})
    assert "W1" in _refused(bad_header)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (6, 4)})
    short = _npz(tmp_path / "short.npz", {**members, "W1": buf.getvalue() + b"\0" * 8})
    assert "W1" in _refused(short)


def test_pickled_arrays_are_named(tmp_path):
    model = _model()
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([object()] * 4, dtype=object), allow_pickle=True)
    path = _npz(
        tmp_path / "evil.npz", {"__architecture__": _record(model.spec()), **model.params, "b1": buf.getvalue()}
    )
    message = _refused(path)
    assert "pickle" in message and "b1" in message


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
    except ValueError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_tampered_record_allocates_nothing_before_it_is_refused(tmp_path):
    """n_in = n_out = 4000 in the record, small arrays in the file: refused before a 4000 x 4000 W1 is drawn."""
    spec = [
        {"type": "Linear", "n_in": 4000, "n_out": 4000, "init": "he"},
        {"type": "ReLU"},
        {"type": "Linear", "n_in": 4000, "n_out": 3, "init": "he"},
        {"type": "SoftmaxCrossEntropy"},
    ]
    path = _npz(tmp_path / "m.npz", {"__architecture__": _record(spec), **_model().params})
    assert "W1" in _refused(path)
    assert _peak_bytes(lambda: nnlib.load_model(path)) < 8 * 2**20


def test_a_large_extra_array_is_refused_without_reading_it(tmp_path):
    model = _model()
    np.savez_compressed(
        tmp_path / "m.npz", __architecture__=_record(model.spec()), **model.params, extra=np.zeros(2**24, np.float32)
    )  # 64 MiB, 65 kB on disk
    assert "extra" in _refused(tmp_path / "m.npz")
    assert _peak_bytes(lambda: nnlib.load_model(tmp_path / "m.npz")) < 8 * 2**20


def test_every_layer_type_round_trips(tmp_path):
    """The loader knows every layer type's arrays (nnlib.io checks a file's arrays against them)."""
    layers = [
        Linear(5, 4),
        BatchNorm(4),
        ReLU(),
        Dropout(0.2),
        Linear(4, 4),
        Sigmoid(),
        Linear(4, 3),
        SoftmaxCrossEntropy(),
    ]
    own = {name for name, cls in LAYER_TYPES.items() if cls.__module__ == "nnlib.layers"}
    assert {type(layer).__name__ for layer in layers} | {"MeanSquaredError"} == own, (
        "a new layer type: add it here, so that saving and loading it is tested"
    )
    model = Model(layers, rng=3)
    model.state["running_var2"][...] = 2.5
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "all.npz"))
    assert loaded.spec() == model.spec()
    for k, v in {**model.params, **model.state}.items():
        np.testing.assert_array_equal({**loaded.params, **loaded.state}[k], v)


class Shift(Layer):
    """A layer of one's own: out = X + t, one trained vector t."""

    def __init__(self, n, dtype=np.float32):
        super().__init__()
        self.n_in = n
        self.params = {"t": np.full(n, 0.25, dtype)}

    def spec(self):
        return {"type": "Shift", "n": self.n_in}


def test_a_registered_layer_of_ones_own_saves_and_loads(tmp_path, monkeypatch):
    monkeypatch.setitem(LAYER_TYPES, "Shift", Shift)
    model = Model([Linear(4, 3), Shift(3), Linear(3, 2), SoftmaxCrossEntropy()], rng=1)
    model.params["t2"][...] = [1, 2, 3]
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "shift.npz"))
    np.testing.assert_array_equal(loaded.params["t2"], [1, 2, 3])
    spec = model.spec()
    spec[1]["n"] = 5  # a record that does not match the file's t2
    path = _npz(tmp_path / "bad.npz", {"__architecture__": _record(spec), **model.params})
    assert "t2" in _refused(path)


def test_a_mean_squared_error_layer_and_an_input_shape_round_trip(tmp_path):
    from nnlib.layers import MeanSquaredError

    model = Model([Linear(5, 3), Sigmoid(), MeanSquaredError()], rng=2)
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "mse.npz"))
    assert loaded.spec() == model.spec() and isinstance(loaded.loss_fn, MeanSquaredError)
    assert loaded.input_shape == (5,)
    np.testing.assert_array_equal(loaded.params["W1"], model.params["W1"])


@pytest.mark.parametrize("shape", ["(1, 28, 28)", [0, 28], [1.5], [True], list(range(20))])
def test_a_damaged_input_shape_in_the_record_is_refused(tmp_path, shape):
    model = _model()
    record = np.array(json.dumps({"format": "nnlib-model-1", "layers": model.spec(), "input_shape": shape}))
    path = _npz(tmp_path / "bad.npz", {"__architecture__": record, **model.params})
    assert "input shape" in _refused(path)


def test_an_input_shape_the_layers_cannot_take_is_refused(tmp_path):
    model = _model()
    record = np.array(json.dumps({"format": "nnlib-model-1", "layers": model.spec(), "input_shape": [7]}))
    path = _npz(tmp_path / "bad.npz", {"__architecture__": record, **model.params})
    assert "(7,)" in _refused(path)
