"""Pinned bits: the numerical environment that decides the last bits of a float32 matrix product, and the
sha256 of arrays that pins them.

Pinned sha256 sums of trained parameters (tests/test_fit_pinned.py, tests/test_model_pinned.py) hold only
where they were recorded: another numpy build, OpenBLAS version, kernel or thread count adds the products in another order.
Elsewhere those tests skip, saying so; the rest of the suite checks the same code machine-independently
(against hand-written loops and numerical gradients).
"""

import hashlib

import numpy as np


def signature() -> str:
    """'numpy 2.4.6 | openblas 0.3.29 Haswell, 1 thread', or 'numpy ... | BLAS unknown' without threadpoolctl."""
    try:
        import threadpoolctl

        blas = next(
            (
                f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}, "
                f"{i.get('num_threads')} thread{'s' if i.get('num_threads') != 1 else ''}"
                for i in threadpoolctl.threadpool_info()
                if i.get("user_api") == "blas"
            ),
            "no BLAS found",
        )
    except ImportError:
        blas = "BLAS unknown (no threadpoolctl)"
    return f"numpy {np.__version__} | {blas}"


def skip_unless(recorded: str):
    import pytest

    here = signature()
    return pytest.mark.skipif(
        here != recorded, reason=f"pinned bits were recorded under {recorded!r}; this run has {here!r}"
    )


def sha256(arrays, names: bool = True) -> str:
    """sha256 of the arrays of a dict in key order; ``names=True`` hashes each key with its array."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        if names:
            h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()
