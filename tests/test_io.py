import json

import numpy as np
import pytest

import nnlib
from nnlib.layers import Linear, Model, ReLU, Sigmoid


def test_round_trip(tmp_path):
    model = Model([Linear(784, 30), ReLU(), Linear(30, 10), Sigmoid()], rng=4)
    path = nnlib.save_model(model, tmp_path / "digits")
    assert path.name == "digits.npz"
    loaded = nnlib.load_model(path)
    assert loaded.spec() == model.spec()
    for k, v in model.params.items():
        np.testing.assert_array_equal(loaded.params[k], v)
        assert loaded.params[k].dtype == v.dtype
    X = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_load_params_into_same_architecture(tmp_path):
    a, b = nnlib.mlp([6, 4, 3], rng=0), nnlib.mlp([6, 4, 3], rng=1)
    nnlib.save_model(a, tmp_path / "a.npz")
    nnlib.load_params(b, tmp_path / "a.npz")
    np.testing.assert_array_equal(a.params["W2"], b.params["W2"])


def test_wrong_architecture_is_a_clear_error_and_changes_nothing(tmp_path):
    nnlib.save_model(nnlib.mlp([784, 100, 10], rng=0), tmp_path / "m.npz")
    other = nnlib.mlp([784, 200, 10], rng=1)
    before = other.params["W1"].copy()
    with pytest.raises(ValueError, match=r"(?s)another architecture.*Linear\(784, 100\).*Linear\(784, 200\)"):
        nnlib.load_params(other, tmp_path / "m.npz")
    np.testing.assert_array_equal(other.params["W1"], before)


def test_not_a_model_file(tmp_path):
    np.savez(tmp_path / "plain.npz", W1=np.zeros(3))
    with pytest.raises(ValueError, match="not an nnlib model file"):
        nnlib.load_model(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable nnlib model"):
        nnlib.load_model(tmp_path / "junk.npz")


def test_pickles_are_never_loaded(tmp_path):
    meta = json.dumps({"format": "nnlib-model-1", "layers": nnlib.mlp([2, 2]).spec()})
    np.savez(tmp_path / "evil.npz", __architecture__=np.array(meta), W1=np.array([object()], dtype=object),
             b1=np.zeros(2))
    with pytest.raises(ValueError, match="pickle"):
        nnlib.load_model(tmp_path / "evil.npz")
