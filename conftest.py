"""Project-wide pytest configuration, loaded by every `pytest` run in this repository.

A regression run is strict: `nnlib.expect_*` raises ExpectationFailed when a measured result leaves its
band, so `pytest --nbval` (and CI) fails the cell. The notebooks' kernels inherit this environment
variable from pytest. Run by hand, the same notebook only warns (see nnlib/expect.py).
"""
import os


def pytest_configure(config):
    os.environ.setdefault("NNLIB_STRICT_CHECKS", "1")
