"""Writing a file so that a reader sees either the old file or the whole new one, never half of one.

Used by the MNIST download (``download``) and by ``io.save_model``.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write"]


def _umask() -> int:
    """The process's umask.

    Linux reports it in /proc/self/status; elsewhere the only way to read it is to set it and set
    it back, which for an instant leaves the umask 0 for every thread of the process.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # the brief window is strict rather than open
    os.umask(mask)
    return mask


def _write_error(path: Path, exc: OSError) -> OSError:
    """``exc`` (from creating, filling or renaming the temporary file) reworded to name ``path`` itself."""
    if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
        missing = path.parent
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        why = (
            f"the folder {missing} does not exist; create it first "
            f"(os.makedirs({str(path.parent)!r})) or choose another place"
        )
    else:
        why = exc.strerror or str(exc)
    message = f"cannot write {path}: {why}"
    return type(exc)(exc.errno, message) if exc.errno else type(exc)(message)


@contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path`` for binary writing; on success it replaces ``path``.

    A new file gets the permissions any new file of the user gets (0o666 less the umask), not the
    0o600 of ``tempfile.mkstemp``; a file that is replaced keeps its own. A file that is read-only
    (no write permission bit, or one the user may not write) is never replaced: PermissionError.
    On any error the temporary file is removed and ``path`` is left as it was::

        with atomic_write("model.npz") as f:
            f.write(data)

    The file is opened ``w+b``, so the block may also seek back and read what it wrote, for
    example to check it: an exception raised in the block means ``path`` is never touched.
    The folder of ``path`` must exist. Errors of atomic_write's own (a missing folder, a full
    disk when the file is flushed, a folder where the file should go) name ``path``, never the
    temporary file; an exception raised by the block itself passes unchanged.
    """
    path = Path(path)
    try:
        old = path.stat()
    except OSError:
        old = None
    if old is not None and stat.S_ISREG(old.st_mode):
        if not old.st_mode & 0o222 or not os.access(path, os.W_OK):
            raise PermissionError(
                errno.EACCES,
                f"{path} is read-only, so it was not replaced; make it writable (chmod u+w) or choose another name",
            )
        mode = old.st_mode & 0o777
    else:
        mode = 0o666 & ~_umask()
    tmp, in_block = None, False
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "w+b") as f:  # owns fd from here on, so it is closed on any error
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            in_block = True
            yield f
            in_block = False
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not in_block:
            raise _write_error(path, exc) from exc
        raise
