import os

import numpy as np
import pytest

import nnlib


def _real_data_available():
    try:
        nnlib.download.find_or_download("t10k-labels-idx1-ubyte", download=False)
        return True
    except (nnlib.MNISTNotFoundError, nnlib.ChecksumError):
        return False


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, from NNLIB_DATA_DIR or the cache; CI points NNLIB_DATA_DIR at ../shared/data/mnist."""
    if not _real_data_available():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST not found; CI must set {nnlib.download.ENV_VAR} (see .ci/run)")
        pytest.skip(f"MNIST is not on this machine; set {nnlib.download.ENV_VAR} or run once online")
    return nnlib.load_mnist()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def blobs():
    """``blobs(rng, n, classes, sep)``: labelled blobs in 4-D, one per class, ``sep`` apart along every axis,
    float32 features and int labels; any working network learns them."""

    def make(rng, n=200, classes=2, sep=3.0):
        y = rng.integers(0, classes, n)
        X = (rng.normal(size=(n, 4)) + sep * y[:, None]).astype(np.float32)
        return X, y

    return make


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A working folder with no MNIST anywhere nnlib looks: no env override, empty cache, empty cwd."""
    monkeypatch.delenv(nnlib.download.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work" / "sub"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    return tmp_path
