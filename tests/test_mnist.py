"""The real data set, read from NNLIB_DATA_DIR (CI: ../shared/data/mnist)."""

import numpy as np
import pytest

import nnlib


def test_shapes_dtypes_and_ranges(mnist):
    Xtr, ytr, Xte, yte = mnist
    assert Xtr.shape == (60000, 784) and Xte.shape == (10000, 784)
    assert Xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert 0.0 == Xtr.min() and Xtr.max() == 1.0
    assert np.bincount(ytr).tolist()[:3] == [5923, 6742, 5958]
    assert ytr[:5].tolist() == [5, 0, 4, 1, 9] and yte[:5].tolist() == [7, 2, 1, 0, 4]


def test_load_options(mnist):
    raw = nnlib.load_mnist(normalize=False, flatten=False, one_hot=True, dtype=np.uint8)
    assert raw.X_train.shape == (60000, 28, 28) and raw.X_train.dtype == np.uint8
    assert raw.y_test.shape == (10000, 10) and raw.y_test.sum() == 10000
    np.testing.assert_allclose(raw.X_test.reshape(10000, -1) / 255, mnist.X_test, rtol=1e-6)
    with pytest.raises(ValueError, match="float dtype"):
        nnlib.load_mnist(dtype=np.uint8)


def test_short_training_beats_90_percent(mnist):
    model = nnlib.mlp([784, 64, 10], rng=0)
    nnlib.fit(
        model, mnist.X_train, mnist.y_train, nnlib.Momentum(0.5, 0.9), epochs=1, batch_size=128, rng=0, verbose=False
    )
    _, acc = nnlib.evaluate(model, mnist.X_test, mnist.y_test)
    assert acc > 0.90
