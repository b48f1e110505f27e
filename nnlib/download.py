"""Finding, downloading and verifying the four MNIST files.

Where nnlib looks, in order:

1. ``data_dir`` if you pass one, else the folder named by the environment
   variable ``NNLIB_DATA_DIR`` (CI sets it to ``../shared/data/mnist``);
2. ``data/`` and ``data/mnist/`` beside the current folder and its parent;
3. anything under ``/kaggle/input`` (Kaggle notebooks);
4. the cache folder ``$XDG_CACHE_HOME/nnlib/mnist`` (default ``~/.cache/nnlib/mnist``).

A folder that cannot be searched (one without permission, say) is skipped, and the
error, if the file is found nowhere, says so.

A file found nowhere is downloaded into the first folder of the list (1 if
set, else 4) from the first mirror that answers. Every file, found or
downloaded, must match the sha256 of its *decompressed* bytes, so a corrupt
or truncated file is an error that names it, never a silently wrong array.
A file is hashed once per process: it is checked again only if its size,
modification time or inode change.

A download goes to a temporary file beside its destination that is checked
before it takes the file's name (:func:`nnlib.files.atomic_write`), so an
interrupted or wrong download leaves nothing behind, not even the folders
made for it (removed again if still empty). A folder that cannot be created
or written is an error that says so before any mirror is asked. Any failure
of one mirror (no answer, a timeout, a server that is not HTTP, an HTTP
error, a truncated or wrong file) moves on to the next; only when every
mirror has failed is :class:`MNISTNotFoundError` raised, naming every place
looked in and every URL tried with the reason it failed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path

from .files import atomic_write

__all__ = [
    "FILES",
    "MIRRORS",
    "ENV_VAR",
    "ChecksumError",
    "MNISTNotFoundError",
    "default_cache_dir",
    "search_dirs",
    "sha256_decompressed",
    "find_or_download",
]

ENV_VAR = "NNLIB_DATA_DIR"

# sha256 of each file after gunzip.
FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# Each mirror serves NAME.gz for every name above.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

TIMEOUT_S = 30


class ChecksumError(ValueError):
    """A data file's decompressed bytes do not have the expected sha256."""


class MNISTNotFoundError(FileNotFoundError):
    """The data could be neither found on disk nor downloaded."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnlib" / "mnist"


def search_dirs(data_dir=None) -> list:
    """The folders searched, in order (see the module docstring)."""
    first = data_dir if data_dir is not None else os.environ.get(ENV_VAR)
    dirs = [Path(first)] if first else []
    for base in (Path.cwd(), Path.cwd().parent):
        dirs += [base / "data", base / "data" / "mnist"]
    return dirs + [Path("/kaggle/input"), default_cache_dir()]


def _candidates(folder: Path, name: str):
    """Paths under ``folder`` that may hold ``name`` (plain or .gz; Kaggle writes 'train-images.idx3-ubyte')."""
    spellings = {name, name.replace("-idx", ".idx")}
    names = [s + ext for s in sorted(spellings) for ext in ("", ".gz")]
    if folder == Path("/kaggle/input"):
        return [p for n in names for p in sorted(folder.glob(f"**/{n}")) if p.is_file()]
    return [folder / n for n in names if (folder / n).is_file()]


_DELETE_IT = "Delete it and run again to download a fresh copy."


def _sha256_of(f, name, hint=_DELETE_IT) -> str:
    """sha256 of the content of the open binary file ``f`` (gunzipped if it is gzip), read from the start.

    A file that cannot be decompressed raises :class:`ChecksumError` naming ``name``, then ``hint``.
    """
    f.seek(0)
    gz = f.read(2) == b"\x1f\x8b"
    f.seek(0)
    digest = hashlib.sha256()
    try:
        reader = gzip.GzipFile(fileobj=f, mode="rb") if gz else f
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise ChecksumError(f"{name} is not a readable {'gzip ' if gz else ''}file ({exc}). {hint}") from exc
    return digest.hexdigest()


def sha256_decompressed(path) -> str:
    """sha256 of a file's content, gunzipped first if it is gzip-compressed."""
    with open(path, "rb") as f:
        return _sha256_of(f, path)


def _mismatch(name, got, expected, hint=_DELETE_IT):
    return ChecksumError(
        f"{name} is corrupt or not the genuine file: the sha256 of its decompressed "
        f"bytes is {got}, expected {expected}. {hint}"
    )


# Files already verified in this process: (resolved path, expected sha256) -> the stat signature
# (size, mtime, ctime, inode) they had when hashed. A file whose signature changed is hashed again.
_VERIFIED: dict = {}


def _signature(st: os.stat_result) -> tuple:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def verify(path, expected: str):
    """Raise :class:`ChecksumError` unless ``path``'s decompressed bytes have the sha256 ``expected``.

    A file that passed once in this process is not hashed again while its size, modification
    time and inode stay the same.
    """
    path = Path(path)
    key = (str(path.resolve()), expected)
    sig = _signature(path.stat())  # taken before hashing: a change while hashing shows next time
    if _VERIFIED.get(key) == sig:
        return
    _VERIFIED.pop(key, None)
    got = sha256_decompressed(path)
    if got != expected:
        raise _mismatch(path, got, expected)
    _VERIFIED[key] = sig


def _make_folder(folder: Path) -> list:
    """Create ``folder`` if it is missing and check that a file can be written in it.

    Returns the folders it created, deepest first, for :func:`_remove_empty`. If the folder cannot
    be created or written, removes what it created and raises the ``OSError``.
    """
    created = []
    try:
        created = [p for p in [folder, *folder.parents] if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        _remove_empty(created)
        raise
    return created


def _remove_empty(folders):
    """Remove each of ``folders`` (deepest first) that is empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty, or already gone
            pass


def _download(url: str, dest: Path, expected: str):
    """Fetch url into dest atomically: a temp file in the same folder, checked, then renamed.

    The folder must exist (:func:`_make_folder`)."""
    with atomic_write(dest) as out:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            size = 0
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                out.write(chunk)
                size += len(chunk)
            promised = (resp.headers.get("Content-Length") or "").strip()
            if promised.isdigit() and int(promised) > size:  # read(n) ends quietly on a cut connection
                raise ConnectionError(f"the connection closed after {size} of the {promised} bytes promised")
        out.flush()
        got = _sha256_of(out, "the file served", hint="It was not kept.")
        if got != expected:
            raise _mismatch("the file served", got, expected, hint="It was not kept.")
    _VERIFIED[(str(dest.resolve()), expected)] = _signature(dest.stat())


def find_or_download(name: str, data_dir=None, download: bool = True, mirrors=None, checksums=None) -> Path:
    """Path of the verified file ``name`` (e.g. 'train-images-idx3-ubyte'), downloading it if needed.

    ``mirrors`` and ``checksums`` default to :data:`MIRRORS` and :data:`FILES`.
    """
    checksums = FILES if checksums is None else checksums
    mirrors = MIRRORS if mirrors is None else mirrors
    if name not in checksums:
        raise ValueError(f"unknown file {name!r}; expected one of {sorted(checksums)}")
    dirs = search_dirs(data_dir)
    looked = []
    for folder in dirs:
        try:
            found = _candidates(folder, name)
        except OSError as exc:  # e.g. a folder without search permission: the others may hold the file
            looked.append(f"  {folder} (skipped: it could not be searched: {type(exc).__name__}: {exc})")
            continue
        looked.append(f"  {folder}")
        for path in found:
            verify(path, checksums[name])
            return path
    if data_dir is not None or os.environ.get(ENV_VAR):
        target, source = dirs[0], "data_dir" if data_dir is not None else f"the environment variable {ENV_VAR}"
    else:
        target, source = default_cache_dir(), "the cache folder"
    looked = "\n".join(looked)
    files = ", ".join(n + ".gz" for n in checksums)
    failures = []
    if download:
        try:
            created = _make_folder(target)
        except OSError as exc:
            blocker = next((p for p in [target, *target.parents] if os.path.exists(p)), None)
            why = f"{blocker} is a file, not a folder; " if blocker and not os.path.isdir(blocker) else ""
            raise MNISTNotFoundError(
                f"MNIST file {name!r} was not found, and it cannot be downloaded into {target} ({source}): "
                f"{type(exc).__name__}: {exc}\nLooked in:\n{looked}\n"
                f"To fix this: {why}pass a folder you can write to as data_dir, or set the environment variable "
                f"{ENV_VAR} to one; or get the four files ({files}) from any MNIST mirror, put them in any "
                f"folder and pass that."
            ) from exc
        try:
            for mirror in mirrors:
                url = mirror + name + ".gz"
                try:
                    _download(url, target / (name + ".gz"), checksums[name])
                    return target / (name + ".gz")
                except Exception as exc:  # any failure of one mirror is a reason to try the next
                    failures.append(f"  {url}: {type(exc).__name__}: {exc}")
        finally:
            _remove_empty(created)  # after a download they hold the file, so they stay
    tried = "\n".join(failures) if failures else "  (downloading was switched off)"
    raise MNISTNotFoundError(
        f"MNIST file {name!r} was not found and could not be downloaded.\n"
        f"Looked in:\n{looked}\nTried:\n{tried}\n"
        f"To fix this: connect to the internet and run again, or get the four files "
        f"({files}) from any MNIST mirror, put them in {target} "
        f"(or any folder, and set the environment variable {ENV_VAR} to it)."
    )
