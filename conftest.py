"""Project-wide pytest configuration, loaded by every `pytest` run in this repository.

A regression run is strict: `nnlib.expect_*` raises ExpectationFailed when a measured result leaves its
band, so `pytest --nbval` (and CI) fails the cell. The notebooks' kernels inherit this environment
variable from pytest. Run by hand, the same notebook only warns (see nnlib/expect.py).

`pytest --nbval` runs on every core (pytest-xdist, see pyproject.toml): each worker then gets one BLAS thread
(unless OPENBLAS_NUM_THREADS is set already), so that the workers do not fight over the cores. One thread is
one of the environments the bands were measured in (notebooks/spread.py's `threads1`).
"""

import os


def pytest_configure(config):
    os.environ.setdefault("NNLIB_STRICT_CHECKS", "1")
    if os.environ.get("PYTEST_XDIST_WORKER") and "OPENBLAS_NUM_THREADS" not in os.environ:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"  # for the notebooks' kernels and other processes started from here
        try:  # and for this process, whose NumPy a plugin may have loaded already
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass
