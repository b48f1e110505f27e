"""Writing a file so that a reader sees either the old file or the whole new one, never half of one.

Used by the MNIST download (``download``) and by ``io.save_model``.
"""
from __future__ import annotations

import os
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
    mask = os.umask(0o077)      # the brief window is strict rather than open
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path`` for binary writing; on success it replaces ``path``.

    The file gets the permissions any new file of the user gets (0o666 less the umask), not the
    0o600 of ``tempfile.mkstemp``. On any error the temporary file is removed and ``path`` is
    left as it was::

        with atomic_write("model.npz") as f:
            f.write(data)

    The file is opened ``w+b``, so the block may also seek back and read what it wrote, for
    example to check it: an exception raised in the block means ``path`` is never touched.
    The folder of ``path`` must exist.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w+b") as f:          # owns fd from here on, so it is closed on any error
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
