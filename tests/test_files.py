"""nnlib.files.atomic_write, and checks on the files of the data/download side of the project."""

import ast
import os
from pathlib import Path

import pytest

from nnlib import files
from nnlib.files import atomic_write

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def umask():
    """Set a known umask for the test; restores the old one after."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _leftovers(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_new_file_gets_the_users_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert files._umask() == mask
    with atomic_write(tmp_path / "out.bin") as f:
        f.write(b"data")
    assert (tmp_path / "out.bin").read_bytes() == b"data"
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == mode
    assert os.umask(mask) == mask  # the umask itself is left as it was


def test_success_replaces_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    with atomic_write(path) as f:
        f.write(b"new content")
        assert path.read_bytes() == b"old"  # nothing visible until the block ends
        f.seek(0)
        assert f.read() == b"new content"  # the block may read back what it wrote
    assert path.read_bytes() == b"new content"
    assert _leftovers(tmp_path, {"m.npz"}) == []


@pytest.mark.parametrize("exc", [ValueError("bad data"), KeyboardInterrupt()])
def test_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, exc):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    with pytest.raises(type(exc)):
        with atomic_write(path) as f:
            f.write(b"half of the new")
            raise exc
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path, {"m.npz"}) == []


def test_failed_first_write_creates_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_write(tmp_path / "new.bin") as f:
            f.write(b"x")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_error_that_creates_nothing(tmp_path):
    target = tmp_path / "no" / "such" / "file.bin"
    with pytest.raises(FileNotFoundError) as info:
        with atomic_write(target) as f:
            f.write(b"x")
    assert list(tmp_path.iterdir()) == []
    message = str(info.value)
    assert str(target) in message and f"{tmp_path / 'no'} does not exist" in message and ".part" not in message


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_replacing_keeps_the_permissions_of_the_old_file(tmp_path, umask, mode):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(mode)
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == mode


def test_a_read_only_file_is_not_replaced(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(0o444)  # no write bit: refused even for root, whom os.access lets write
    with pytest.raises(PermissionError, match="read-only") as info:
        with atomic_write(path) as f:
            f.write(b"new")
    assert str(path) in str(info.value)
    assert path.read_bytes() == b"old" and path.stat().st_mode & 0o777 == 0o444
    assert _leftovers(tmp_path, {"m.npz"}) == []


def test_a_file_the_user_may_not_write_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")  # 0o644, but owned by someone else: os.access says no
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if Path(p) == path else real_access(p, m, **kw))
    with pytest.raises(PermissionError, match="read-only"):
        with atomic_write(path) as f:
            f.write(b"new")
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path, {"m.npz"}) == []


def test_errors_name_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    (tmp_path / "m.npz").mkdir()  # os.replace cannot put a file there
    with pytest.raises(IsADirectoryError) as info:
        with atomic_write(tmp_path / "m.npz") as f:
            f.write(b"new")
    assert str(tmp_path / "m.npz") in str(info.value) and ".part" not in str(info.value)
    assert _leftovers(tmp_path, {"m.npz"}) == []

    def no_room(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".x.bin.abc.part"))

    monkeypatch.setattr(files.tempfile, "mkstemp", no_room)  # a folder the user may not write in
    with pytest.raises(PermissionError) as info:
        with atomic_write(tmp_path / "x.bin") as f:
            f.write(b"new")
    assert str(tmp_path / "x.bin") in str(info.value) and ".part" not in str(info.value)


def test_errors_of_the_block_itself_pass_unchanged(tmp_path):
    """An error of the caller's own (a download's ConnectionError) is not reworded as a write error."""
    err = ConnectionError("the connection closed")
    with pytest.raises(ConnectionError) as info:
        with atomic_write(tmp_path / "x.bin"):
            raise err
    assert info.value is err


# -- the project's files -------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["nnlib/data.py", "nnlib/download.py", "nnlib/files.py", "benchmarks/train_mlp.py"])
def test_no_assert_for_validation(rel):
    """python -O strips assert statements, so they must not check anything a user passes."""
    tree = ast.parse((ROOT / rel).read_text(), rel)
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert lines == [], f"{rel}: assert on line(s) {lines}"


def test_license_is_mit_as_pyproject_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 The nnlib course authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
