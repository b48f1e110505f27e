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
    mask = os.umask(0)
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
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
