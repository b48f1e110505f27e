"""Finding, verifying and downloading the data files, against local servers only (never the internet)."""

import gzip
import hashlib
import http.server
import os
import re
import socket
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import data, download
from nnlib.data import read_idx, write_idx

NAME = "tiny-labels-idx1-ubyte"


@pytest.fixture
def tiny(tmp_path):
    """A small IDX file, gzipped, with the sha256 of its decompressed bytes."""
    labels = np.arange(20, dtype=np.uint8) % 10
    path = tmp_path / "served" / (NAME + ".gz")
    path.parent.mkdir()
    write_idx(path, labels)
    return path, {NAME: hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()}, labels


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve_http(folder):
    handler = partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture
def server(tiny):
    """An HTTP server on 127.0.0.1 serving the folder of the tiny file; yields its base URL."""
    httpd, url = _serve_http(tiny[0].parent)
    yield url
    httpd.shutdown()
    httpd.server_close()


class _RawTCPServer:
    """A TCP server on 127.0.0.1 that answers every connection with ``reply`` (None: says nothing, keeps it open)."""

    def __init__(self, reply):
        self.reply, self.connections, self._open = reply, 0, []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/"

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            if self.reply is None:
                self._open.append(conn)
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)  # the request
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self):
        self._stop.set()
        self._thread.join()
        for conn in self._open:
            conn.close()
        self._sock.close()


@pytest.fixture
def raw_server():
    servers = []
    yield lambda reply: servers.append(_RawTCPServer(reply)) or servers[-1]
    for s in servers:
        s.close()


@pytest.fixture
def bad_http_folder(tiny, tmp_path):
    """A folder served over HTTP whose copy of the file is a truncated gzip."""
    folder = tmp_path / "truncated"
    folder.mkdir()
    (folder / (NAME + ".gz")).write_bytes(tiny[0].read_bytes()[:-12])
    httpd, url = _serve_http(folder)
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def umask():
    """Set a known umask for the test; restores the old one after."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _no_temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part"] == []


# -- files found on disk -------------------------------------------------------------------------


def test_found_file_is_verified(isolated, tiny):
    path, sums, labels = tiny
    got = download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)
    assert got == path
    np.testing.assert_array_equal(read_idx(got), labels)


def test_corrupt_file_raises_checksum_error_naming_it(isolated, tiny):
    path, sums, _ = tiny
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1  # one flipped bit
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(nnlib.ChecksumError, match=rf"{NAME}\.gz is corrupt.*Delete it"):
        download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)
    path.write_bytes(path.read_bytes()[:30])  # truncated gzip
    with pytest.raises(nnlib.ChecksumError, match="not a readable gzip"):
        download.find_or_download(NAME, data_dir=path.parent, download=False, checksums=sums)


def test_gzip_with_damaged_deflate_data_is_a_checksum_error(isolated, tmp_path):
    path = tmp_path / "x.gz"
    body = bytearray(gzip.compress(np.random.default_rng(0).integers(0, 9, 5000).astype(np.uint8).tobytes()))
    body[20:40] = b"\xff" * 20  # garbage inside the deflate stream: zlib.error, not OSError
    path.write_bytes(bytes(body))
    with pytest.raises(nnlib.ChecksumError, match=r"x\.gz is not a readable gzip file"):
        download.verify(path, "0" * 64)


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


# -- downloading ---------------------------------------------------------------------------------


def test_download_from_second_mirror_into_cache(isolated, tiny, server):
    _, sums, labels = tiny
    dead = "http://127.0.0.1:9/"  # nothing listens on the discard port
    got = download.find_or_download(NAME, mirrors=[dead, server], checksums=sums)
    assert got == isolated / "cache" / "nnlib" / "mnist" / (NAME + ".gz")
    np.testing.assert_array_equal(read_idx(got), labels)
    assert [p.name for p in got.parent.iterdir()] == [got.name]  # no temp files left


BAD_MIRRORS = {
    # kind: (how to make the mirror, the exception class named in the error)
    "not HTTP": (lambda raw, trunc: raw(b"SSH-2.0-OpenSSH_9.6\r\n").url, "BadStatusLine"),
    "endless header line": (lambda raw, trunc: raw(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 70000).url, "LineTooLong"),
    "cut-off body": (
        lambda raw, trunc: raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n\x1f\x8b\x08").url,
        "ConnectionError: the connection closed after 3 of the 5000 bytes promised",
    ),
    "silent (timeout)": (lambda raw, trunc: raw(None).url, "TimeoutError|timeout"),
    "URL without scheme": (lambda raw, trunc: "127.0.0.1/mnist/", "ValueError: unknown url type"),
    "truncated gzip": (lambda raw, trunc: trunc, "ChecksumError: the file served is not a readable gzip"),
    "HTTP 404": (lambda raw, trunc: trunc + "missing/", "HTTPError: HTTP Error 404"),
}


@pytest.mark.parametrize("kind", BAD_MIRRORS)
def test_any_failure_of_a_mirror_moves_on_to_the_next(
    isolated, tiny, server, raw_server, bad_http_folder, monkeypatch, kind
):
    monkeypatch.setattr(download, "TIMEOUT_S", 0.5)
    _, sums, labels = tiny
    make, reason = BAD_MIRRORS[kind]
    bad = make(raw_server, bad_http_folder)
    target = isolated / "dl"

    # Alone, the bad mirror fails with a reason that names what went wrong ...
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, data_dir=target, mirrors=[bad], checksums=sums)
    line = [ln for ln in str(err.value).splitlines() if bad + NAME + ".gz" in ln]
    assert len(line) == 1, str(err.value)
    assert re.search(reason, line[0]), line[0]
    assert not target.exists() or list(target.iterdir()) == []

    # ... and before a working one, it is passed over.
    got = download.find_or_download(NAME, data_dir=target, mirrors=[bad, server], checksums=sums)
    assert got == target / (NAME + ".gz")
    np.testing.assert_array_equal(read_idx(got), labels)
    assert [p.name for p in target.iterdir()] == [got.name]


def test_the_non_http_server_was_really_asked(isolated, tiny, server, raw_server):
    _, sums, _ = tiny
    ssh = raw_server(b"SSH-2.0-OpenSSH_9.6\r\n")
    download.find_or_download(NAME, data_dir=isolated / "dl", mirrors=[ssh.url, server], checksums=sums)
    assert ssh.connections == 1


def test_interrupt_is_not_swallowed(isolated, tiny, server, monkeypatch):
    """Only errors move on to the next mirror; Ctrl-C stops, and leaves no temp file."""
    _, sums, _ = tiny

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(download.urllib.request, "urlopen", interrupted)
    target = isolated / "dl"
    target.mkdir()  # the user's folder: it stays
    with pytest.raises(KeyboardInterrupt):
        download.find_or_download(NAME, data_dir=target, mirrors=[server, server], checksums=sums)
    assert list(target.iterdir()) == []


def test_bad_download_leaves_nothing_behind(isolated, tiny, server):
    _, sums, _ = tiny
    wrong = {NAME: "0" * 64}
    target = isolated / "dl"
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, data_dir=target, mirrors=[server], checksums=wrong)
    assert "ChecksumError: the file served is corrupt" in str(err.value)
    assert not target.exists()  # not even the folder it made for the file


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_downloaded_file_gets_the_users_umask(isolated, tiny, server, umask, mask, mode):
    _, sums, _ = tiny
    umask(mask)
    got = download.find_or_download(NAME, data_dir=isolated / "dl", mirrors=[server], checksums=sums)
    assert got.stat().st_mode & 0o777 == mode  # not mkstemp's 0o600


def test_download_uses_the_shared_atomic_write(isolated, tiny, server, monkeypatch):
    _, sums, _ = tiny
    used = []

    def spy(path):
        used.append(path)
        return nnlib.files.atomic_write(path)

    monkeypatch.setattr(download, "atomic_write", spy)
    got = download.find_or_download(NAME, data_dir=isolated / "dl", mirrors=[server], checksums=sums)
    assert used == [got]


def test_offline_error_names_every_place_and_url(isolated, tiny):
    _, sums, _ = tiny
    mirrors = ["http://127.0.0.1:9/a/", "http://127.0.0.1:9/b/"]
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, mirrors=mirrors, checksums=sums)
    msg = str(err.value)
    for place in download.search_dirs():
        assert str(place) in msg
    for m in mirrors:
        assert f"{m}{NAME}.gz: URLError" in msg  # each URL with its reason
    assert download.ENV_VAR in msg and "To fix this" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_load_mnist_offline_error_is_clear(isolated):
    with pytest.raises(nnlib.MNISTNotFoundError, match="downloading was switched off"):
        nnlib.load_mnist(download=False)


# -- each file is hashed once per process --------------------------------------------------------


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """Four small IDX files under the real names, with FILES holding their checksums; caches emptied."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 4, dtype=np.uint8),
    }
    sums = {}
    for name, a in arrays.items():
        write_idx(folder / (name + ".gz"), a)
        sums[name] = hashlib.sha256(gzip.decompress((folder / (name + ".gz")).read_bytes())).hexdigest()
    monkeypatch.setattr(download, "FILES", sums)
    monkeypatch.setattr(download, "_VERIFIED", {})
    monkeypatch.setattr(data, "_RAW_CACHE", {})
    calls = []
    real = download.sha256_decompressed
    monkeypatch.setattr(download, "sha256_decompressed", lambda p: calls.append(p.name) or real(p))
    return folder, arrays, calls


def test_load_mnist_hashes_each_file_once(isolated, fake_mnist):
    folder, arrays, calls = fake_mnist
    first = nnlib.load_mnist(folder)
    assert sorted(calls) == sorted(n + ".gz" for n in arrays)
    calls.clear()
    second = nnlib.load_mnist(folder)
    assert calls == []
    np.testing.assert_array_equal(first.y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(second.X_test, first.X_test)


def test_a_changed_file_is_hashed_again(isolated, fake_mnist):
    folder, arrays, calls = fake_mnist
    nnlib.load_mnist(folder)
    labels = folder / "t10k-labels-idx1-ubyte.gz"

    # Same bytes, a newer modification time: checked again, and still fine.
    st = labels.stat()
    os.utime(labels, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    calls.clear()
    nnlib.load_mnist(folder)
    assert calls == [labels.name]

    # Other bytes of the same size put in its place, with the old times given back: checked again, rejected.
    changed = arrays["t10k-labels-idx1-ubyte"].copy()
    changed[0] = (changed[0] + 1) % 10
    other = folder / "other.gz"
    write_idx(other, changed)
    assert other.stat().st_size == labels.stat().st_size
    st = labels.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, labels)
    calls.clear()
    with pytest.raises(nnlib.ChecksumError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
        nnlib.load_mnist(folder)
    assert calls == [labels.name]
    with pytest.raises(nnlib.ChecksumError):  # a failed file is not remembered as good
        nnlib.load_mnist(folder)


def test_a_downloaded_file_is_not_hashed_again(isolated, tiny, server, monkeypatch):
    _, sums, _ = tiny
    monkeypatch.setattr(download, "_VERIFIED", {})
    calls = []
    monkeypatch.setattr(download, "sha256_decompressed", lambda p: calls.append(p) or "")
    got = download.find_or_download(NAME, data_dir=isolated / "dl", mirrors=[server], checksums=sums)
    assert download.find_or_download(NAME, data_dir=isolated / "dl", mirrors=[], checksums=sums) == got
    assert calls == []


# -- a folder that cannot be searched is skipped ---------------------------------------------------


@pytest.fixture
def unsearchable(monkeypatch):
    """``unsearchable(folder)``: looking at any path inside ``folder`` raises PermissionError, as it does for
    a folder without execute permission (chmod has no such effect for root, who runs the tests in CI)."""
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if any(p in locked for p in Path(os.path.abspath(self)).parents):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    locked = []
    monkeypatch.setattr(Path, "stat", stat)
    return locked.append


def test_an_unsearchable_folder_is_skipped(isolated, tiny, unsearchable):
    path, sums, _ = tiny
    cache = download.default_cache_dir()
    cache.mkdir(parents=True)
    os.replace(path, cache / path.name)
    locked = isolated / "work" / "data"  # data/ beside the parent folder
    locked.mkdir()
    unsearchable(locked)
    assert download.find_or_download(NAME, download=False, checksums=sums) == cache / path.name
    (cache / path.name).unlink()
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, download=False, checksums=sums)
    assert f"  {locked} (skipped: it could not be searched: PermissionError" in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="chmod 000 does not stop root")
def test_an_unsearchable_folder_is_skipped_for_real(isolated, tiny):
    path, sums, _ = tiny
    cache = download.default_cache_dir()
    cache.mkdir(parents=True)
    os.replace(path, cache / path.name)
    locked = isolated / "work" / "data"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert download.find_or_download(NAME, download=False, checksums=sums) == cache / path.name
    finally:
        locked.chmod(0o755)


# -- a failed download leaves no folders behind, and says why it failed ----------------------------

DEAD = ["http://127.0.0.1:9/"]  # nothing listens on the discard port


def test_a_failed_download_removes_the_folders_it_made(isolated, tiny, monkeypatch):
    _, sums, _ = tiny
    monkeypatch.setenv(download.ENV_VAR, str(isolated / "typo" / "mnist" / "data"))
    with pytest.raises(nnlib.MNISTNotFoundError, match="connect to the internet"):
        download.find_or_download(NAME, mirrors=DEAD, checksums=sums)
    assert not (isolated / "typo").exists()

    monkeypatch.delenv(download.ENV_VAR)  # the cache folder
    with pytest.raises(nnlib.MNISTNotFoundError):
        download.find_or_download(NAME, mirrors=DEAD, checksums=sums)
    assert not (isolated / "cache").exists()

    (isolated / "mine").mkdir()  # folders that were there stay
    with pytest.raises(nnlib.MNISTNotFoundError):
        download.find_or_download(NAME, data_dir=isolated / "mine" / "new", mirrors=DEAD, checksums=sums)
    assert (isolated / "mine").is_dir() and list((isolated / "mine").iterdir()) == []


@pytest.mark.parametrize("where", ["the file", "below the file"])
def test_a_file_as_data_dir_is_named_as_the_cause(isolated, tiny, server, where):
    _, sums, _ = tiny
    notes = isolated / "notes.txt"
    notes.write_text("keep me")
    data_dir = notes if where == "the file" else notes / "mnist"
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, data_dir=data_dir, mirrors=[server], checksums=sums)
    msg = str(err.value)
    assert f"cannot be downloaded into {data_dir} (data_dir)" in msg
    assert f"{notes} is a file, not a folder" in msg and "connect to the internet" not in msg
    assert notes.read_text() == "keep me"


def test_a_folder_that_cannot_be_created_is_named_as_the_cause(isolated, tiny, server, monkeypatch):
    """A read-only parent, simulated: mkdir raises PermissionError (for root it would not)."""
    _, sums, _ = tiny

    def mkdir(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setenv(download.ENV_VAR, str(isolated / "ro" / "mnist"))
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, mirrors=[server], checksums=sums)
    msg = str(err.value)
    assert f"cannot be downloaded into {isolated / 'ro' / 'mnist'} (the environment variable" in msg
    assert "PermissionError" in msg and "a folder you can write to" in msg
    assert "connect to the internet" not in msg


def test_a_folder_that_cannot_be_written_is_named_as_the_cause(isolated, tiny, server, monkeypatch):
    """A read-only folder, simulated: creating any file in it raises PermissionError (for root it would not)."""
    _, sums, _ = tiny
    folder = isolated / "ro"
    folder.mkdir()
    real_open = os.open

    def no_files_in_folder(path, *args, **kwargs):
        if folder in (Path(path), Path(path).parent):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_files_in_folder)
    with pytest.raises(nnlib.MNISTNotFoundError) as err:
        download.find_or_download(NAME, data_dir=folder, mirrors=[server], checksums=sums)
    msg = str(err.value)
    assert f"cannot be downloaded into {folder} (data_dir): PermissionError" in msg
    assert "a folder you can write to" in msg and "connect to the internet" not in msg
    assert folder.is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="a read-only folder does not stop root")
def test_a_read_only_parent_is_named_as_the_cause_for_real(isolated, tiny, server):
    _, sums, _ = tiny
    parent = isolated / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(nnlib.MNISTNotFoundError) as err:
            download.find_or_download(NAME, data_dir=parent / "mnist", mirrors=[server], checksums=sums)
    finally:
        parent.chmod(0o755)
    assert "PermissionError" in str(err.value) and "connect to the internet" not in str(err.value)
