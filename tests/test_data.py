"""IDX files, splits, mini-batches and the Kaggle CSV (downloading and verifying: test_download.py)."""

import gzip

import numpy as np
import pytest

from nnlib.data import minibatches, read_idx, read_mnist_csv, train_val_split, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (
        (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
        if dtype != np.uint8
        else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    )
    write_idx(tmp_path / f"a{suffix}", a)
    b = read_idx(tmp_path / f"a{suffix}")
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_idx_bad_magic_and_truncation(tmp_path):
    (tmp_path / "x").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "x")
    write_idx(tmp_path / "y", np.zeros((4, 5), np.uint8))
    data = (tmp_path / "y").read_bytes()
    (tmp_path / "y").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "y")
    (tmp_path / "z.gz").write_bytes(gzip.compress(data)[:-10])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(tmp_path / "z.gz")


def test_train_val_split():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    Xtr, ytr, Xv, yv = train_val_split(X, y, val_size=0.2, rng=0)
    assert len(Xtr) == 40 and len(Xv) == 10
    assert sorted(np.concatenate([ytr, yv]).tolist()) == list(range(50))
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)
    _, _, _, yv2 = train_val_split(X, y, val_size=10, shuffle=False)
    np.testing.assert_array_equal(yv2, np.arange(40, 50))
    with pytest.raises(ValueError, match="rows"):
        train_val_split(X, y[:3])
    with pytest.raises(ValueError, match="no rows for training"):
        train_val_split(X, y, val_size=50)


def _epoch(X, Y, batch_size, rng, **kw):
    return list(minibatches(X, Y, batch_size, rng, **kw))


@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one-hot"])
def test_minibatches_one_epoch_every_example_once(one_hot):
    N = 10
    X = np.arange(N * 3, dtype=np.float32).reshape(N, 3)  # row i starts with 3 * i
    y = np.arange(N) % 4
    Y = np.eye(4, dtype=np.float32)[y] if one_hot else y
    batches = _epoch(X, Y, 4, np.random.default_rng(0))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]  # the smaller last batch is kept
    rows = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(int) // 3
    assert sorted(rows.tolist()) == list(range(N))  # each example exactly once
    assert rows.tolist() != list(range(N))  # ... in a shuffled order
    for xb, yb in batches:  # X and Y rows stay paired
        assert yb.shape == (len(xb),) + Y.shape[1:] and yb.dtype == Y.dtype
        np.testing.assert_array_equal(yb, Y[(xb[:, 0] // 3).astype(int)])


def test_minibatches_order_comes_from_rng():
    X, Y = np.arange(50)[:, None], np.arange(50)

    def order(rng):
        return np.concatenate([yb for _, yb in minibatches(X, Y, 8, rng)]).tolist()

    gen = np.random.default_rng(3)
    e1, e2 = order(gen), order(gen)
    assert e1 != e2  # one Generator: a new order every epoch
    assert e1 == np.random.default_rng(3).permutation(50).tolist()
    assert order(3) == order(3) == e1  # an int seed: the same order on every call
    ordered = [yb for _, yb in minibatches(X, Y, 8, None, shuffle=False)]
    assert np.concatenate(ordered).tolist() == list(range(50))
    assert [len(b) for b in ordered] == [8] * 6 + [2]
    assert np.shares_memory(ordered[0], Y)  # shuffle=False: views of the data


def test_minibatches_batch_size_at_least_n_gives_one_batch():
    X, Y = np.arange(5)[:, None], np.arange(5)
    for bs in (5, 7):
        ((xb, yb),) = _epoch(X, Y, bs, 0)
        assert sorted(yb.tolist()) == list(range(5))


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(Y=np.arange(5)), "10 rows but Y has 5"),
        (dict(batch_size=0), "positive integer"),
        (dict(batch_size=2.5), "positive integer"),
        (dict(batch_size=True), "positive integer"),
        (dict(rng=None), "seed"),
    ],
)
def test_minibatches_bad_arguments_fail_at_the_call(bad, match):
    kw = dict(X=np.zeros((10, 2)), Y=np.arange(10), batch_size=4, rng=0) | bad
    with pytest.raises(ValueError, match=match):
        minibatches(**kw)  # no next(): the error comes at once


def test_read_kaggle_csv(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 784))
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [",".join(map(str, [lab, *row])) for lab, row in zip([7, 2, 1], pixels)]
    (tmp_path / "train.csv").write_text("\n".join([header, *rows]) + "\n")
    X, y = read_mnist_csv(tmp_path / "train.csv")
    assert X.shape == (3, 784) and X.dtype == np.float32 and y.tolist() == [7, 2, 1]
    np.testing.assert_allclose(X, pixels / 255, rtol=1e-6)
    (tmp_path / "test.csv").write_text("\n".join([header.split(",", 1)[1], *[r.split(",", 1)[1] for r in rows]]))
    assert read_mnist_csv(tmp_path / "test.csv")[1] is None
    (tmp_path / "bad.csv").write_text("label,a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="784 pixel columns"):
        read_mnist_csv(tmp_path / "bad.csv")
