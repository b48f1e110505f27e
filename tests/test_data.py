"""IDX files, checksums, the download path (against a local HTTP server) and the offline error."""
import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import download
from nnlib.data import minibatches, read_idx, read_mnist_csv, train_val_split, write_idx

NAME = "tiny-labels-idx1-ubyte"


@pytest.fixture
def tiny(tmp_path):
    """A small IDX file, gzipped, with the sha256 of its decompressed bytes."""
    labels = np.arange(20, dtype=np.uint8) % 10
    path = tmp_path / "served" / (NAME + ".gz")
    path.parent.mkdir()
    write_idx(path, labels)
    return path, {NAME: hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()}, labels


@pytest.fixture
def server(tiny):
    """An HTTP server on 127.0.0.1 serving the folder of the tiny file; yields its base URL."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny[0].parent))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype) if dtype != np.uint8 else \
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / f"a{suffix}", a)
    b = read_idx(tmp_path / f"a{suffix}")
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_idx_bad_magic_and_truncation(tmp_path):
    (tmp_path / "x").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "x")
    write_idx(tmp_path / "y", np.zeros((4, 5), np.uint8))
    data = (tmp_path / "y").read_bytes()
    (tmp_path / "y").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "y")
    (tmp_path / "z.gz").write_bytes(gzip.compress(data)[:-10])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(tmp_path / "z.gz")


def test_found_file_is_verified(isolated, tiny):
    path, sums, labels = tiny
    got = download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)
    assert got == path
    np.testing.assert_array_equal(read_idx(got), labels)


def test_corrupt_file_raises_checksum_error_naming_it(isolated, tiny):
    path, sums, _ = tiny
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1                       # one flipped bit
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(nnlib.ChecksumError, match=rf"{NAME}\.gz is corrupt.*Delete it"):
        download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)
    path.write_bytes(path.read_bytes()[:30])  # truncated gzip
    with pytest.raises(nnlib.ChecksumError, match="not a readable gzip"):
        download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)


def test_env_var_override(isolated, tiny, monkeypatch):
    path, sums, _ = tiny
    monkeypatch.setenv(download.ENV_VAR, str(path.parent))
    assert download.find_or_download(NAME, download=False, checksums=sums) == path


def test_kaggle_spelling_is_found(isolated, tiny):
    path, sums, _ = tiny
    kaggle = path.parent / "tiny-labels.idx1-ubyte"
    kaggle.write_bytes(gzip.decompress(path.read_bytes()))
    path.unlink()
    assert download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums) == kaggle


def test_download_from_second_mirror_into_cache(isolated, tiny, server):
    _, sums, labels = tiny
    dead = "http://127.0.0.1:9/"       # nothing listens on the discard port
    got = download.find_or_download(NAME, mirrors=[dead, server], checksums=sums)
    assert got == isolated / "cache" / "nnlib" / "mnist" / (NAME + ".gz")
    np.testing.assert_array_equal(read_idx(got), labels)
    assert [p.name for p in got.parent.iterdir()] == [got.name]      # no temp files left


def test_bad_download_leaves_nothing_behind(isolated, tiny, server):
    _, sums, _ = tiny
    wrong = {NAME: "0" * 64}
    target = isolated / "dl"
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, data_dir=target, mirrors=[server], checksums=wrong)
    assert "is corrupt" in str(err.value)
    assert list(target.iterdir()) == []


def test_offline_error_names_every_place_and_url(isolated, tiny):
    _, sums, _ = tiny
    mirrors = ["http://127.0.0.1:9/a/", "http://127.0.0.1:9/b/"]
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, mirrors=mirrors, checksums=sums)
    msg = str(err.value)
    for place in download.search_dirs():
        assert str(place) in msg
    for m in mirrors:
        assert m + NAME + ".gz" in msg
    assert download.ENV_VAR in msg and "To fix this" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_load_mnist_offline_error_is_clear(isolated):
    with pytest.raises(nnlib.MNISTNotFoundError, match="downloading was switched off"):
        nnlib.load_mnist(download=False)


def test_train_val_split():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    Xtr, ytr, Xv, yv = train_val_split(X, y, val_size=0.2, rng=0)
    assert len(Xtr) == 40 and len(Xv) == 10
    assert sorted(np.concatenate([ytr, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)
    _, _, _, yv2 = train_val_split(X, y, val_size=10, shuffle=False)
    np.testing.assert_array_equal(yv2, np.arange(40, 50))
    with pytest.raises(ValueError, match="rows"):
        train_val_split(X, y[:3])
    with pytest.raises(ValueError, match="non-empty"):
        train_val_split(X, y, val_size=50)


def test_minibatches_cover_everything_and_reshuffle():
    X, Y = np.arange(10)[:, None], np.arange(10)
    rng = np.random.default_rng(0)
    e1 = [yb for _, yb in minibatches(X, Y, 4, rng)]
    e2 = [yb for _, yb in minibatches(X, Y, 4, rng)]
    assert [len(b) for b in e1] == [4, 4, 2]
    assert sorted(np.concatenate(e1).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(e1), np.concatenate(e2))
    for xb, yb in minibatches(X, Y, 3, rng):
        np.testing.assert_array_equal(xb[:, 0], yb)
    with pytest.raises(ValueError, match="rows"):
        next(minibatches(X, Y[:5], 2, rng))


def test_read_kaggle_csv(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 784))
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [",".join(map(str, [lab, *row])) for lab, row in zip([7, 2, 1], pixels)]
    (tmp_path / "train.csv").write_text("\n".join([header, *rows]) + "\n")
    X, y = read_mnist_csv(tmp_path / "train.csv")
    assert X.shape == (3, 784) and X.dtype == np.float32 and y.tolist() == [7, 2, 1]
    np.testing.assert_allclose(X, pixels / 255, rtol=1e-6)
    (tmp_path / "test.csv").write_text("\n".join([header.split(",", 1)[1], *[r.split(",", 1)[1] for r in rows]]))
    assert read_mnist_csv(tmp_path / "test.csv")[1] is None
    (tmp_path / "bad.csv").write_text("label,a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="784 pixel columns"):
        read_mnist_csv(tmp_path / "bad.csv")
