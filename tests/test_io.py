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
    np.savez(
        tmp_path / "evil.npz", __architecture__=np.array(meta), W1=np.array([object()], dtype=object), b1=np.zeros(2)
    )
    with pytest.raises(ValueError, match="pickle"):
        nnlib.load_model(tmp_path / "evil.npz")


def test_float64_round_trips_exactly_and_stays_float64(tmp_path):
    model = nnlib.mlp([6, 5, 3], rng=2, dtype=np.float64, batchnorm=True)
    model.params["W1"][0, 0] = 1 / 3  # not representable in float32
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "f64"))
    assert loaded.dtype == np.float64
    for k, v in {**model.params, **model.state}.items():
        got = {**loaded.params, **loaded.state}[k]
        assert got.dtype == np.float64, k
        np.testing.assert_array_equal(got, v)


@pytest.mark.parametrize("name, bad", [("W3", np.nan), ("b1", np.inf), ("running_var2", -np.inf)])
def test_save_refuses_nan_or_inf_and_keeps_the_old_file(tmp_path, name, bad):
    model = nnlib.mlp([6, 4, 3], rng=0, batchnorm=True)
    path = nnlib.save_model(model, tmp_path / "m.npz")
    before = path.read_bytes()
    {**model.params, **model.state}[name].flat[1] = bad
    with pytest.raises(ValueError, match=rf"{name}\b.*NaN or infinite") as info:
        nnlib.save_model(model, path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    with pytest.raises(ValueError, match=name):
        nnlib.save_model(model, tmp_path / "new.npz")
    assert not (tmp_path / "new.npz").exists()


def test_save_refuses_to_replace_a_read_only_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"keep me")
    path.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only") as info:
        nnlib.save_model(nnlib.mlp([6, 4, 3]), path)
    assert str(path) in str(info.value) and ".part" not in str(info.value)
    assert path.read_bytes() == b"keep me" and path.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = nnlib.save_model(nnlib.mlp([6, 4, 3]), tmp_path / "m.npz")
    path.chmod(0o600)
    nnlib.save_model(nnlib.mlp([6, 4, 3], rng=1), path)
    assert path.stat().st_mode & 0o777 == 0o600
    np.testing.assert_array_equal(nnlib.load_model(path).params["W1"], nnlib.mlp([6, 4, 3], rng=1).params["W1"])


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "runs" / "today" / "m.npz"
    with pytest.raises(FileNotFoundError) as info:
        nnlib.save_model(nnlib.mlp([6, 4, 3]), target)
    message = str(info.value)
    assert str(target) in message and f"{tmp_path / 'runs'} does not exist" in message
    assert ".part" not in message
    assert list(tmp_path.iterdir()) == []


def test_save_errors_name_the_target_not_the_temporary_file(tmp_path):
    (tmp_path / "m.npz").mkdir()  # a folder where the file should go
    with pytest.raises(OSError) as info:
        nnlib.save_model(nnlib.mlp([6, 4, 3]), tmp_path / "m.npz")
    assert str(tmp_path / "m.npz") in str(info.value) and ".part" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
