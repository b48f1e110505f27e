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


# Longest first. With --dist loadscope each notebook and each test module is one unit of work, handed to the next
# free worker in collection order (pyproject.toml turns off xdist's reordering by test count, which sent the
# browser test, few tests but a minute long, last). Starting the long units first keeps every worker busy to the
# end. Measured per unit on one thread (notebooks/execute.py and `pytest --durations`); the rest follow in order.
LONGEST_FIRST = [
    "notebooks/12_",
    "notebooks/09_",
    "notebooks/14_",
    "notebooks/05_",
    "tests/test_browser.py",
    "notebooks/07_",
    "notebooks/08_",
    "tests/test_student.py",
    "notebooks/04_",
    "notebooks/06_",
    "tests/test_colab_install.py",
    "notebooks/13_",
    "tests/test_learner_runs.py",
    "tests/test_nbgrader.py",
]


def pytest_collection_modifyitems(config, items):
    def rank(item):
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # a stable sort: the cells of a notebook and the tests of a module keep their order
