"""The benchmark script runs (on a tiny fake data set: speed goals live in the script, not in tests)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nnlib

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("train_mlp", ROOT / "benchmarks" / "train_mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_mnist():
    rng = np.random.default_rng(0)
    return nnlib.data.MNIST(
        rng.random((300, 784), dtype=np.float32),
        rng.integers(0, 10, 300),
        rng.random((50, 784), dtype=np.float32),
        rng.integers(0, 10, 50),
    )


def test_floor_does_the_epochs_matrix_products(bench, tiny_mnist, monkeypatch):
    shapes = []
    real = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b, out: shapes.append((a.shape, b.shape)) or real(a, b, out=out))
    epoch, describe = bench.floor_trainer(tiny_mnist, 0)
    epoch()
    # 300 rows: batches of 128, 128 and 44; per batch 4 forward, 4 dW, 3 dX (none for the first layer)
    assert len(shapes) == 3 * 11
    last = shapes[-11:]
    assert last[:4] == [((44, 784), (784, 200)), ((44, 200), (200, 100)), ((44, 100), (100, 25)), ((44, 25), (25, 10))]
    assert ((784, 44), (44, 200)) in last and ((44, 200), (200, 784)) not in last
    flops = sum(
        2 * b * m * n * (3 if i else 2)
        for b in (128, 128, 44)
        for i, (m, n) in enumerate(zip(bench.SIZES[:-1], bench.SIZES[1:]))
    )
    assert describe() == f"{flops / 1e9:.2f} GFLOP per epoch"


def test_environment_line(bench):
    line = bench.environment()
    assert f"NumPy {np.__version__}" in line and "CPUs:" in line


def test_threads_option_sets_the_blas_thread_count(bench):
    lib, before = bench._blas_threads()
    if before is None:
        pytest.skip(f"{lib}: its thread count cannot be asked")
    other = 1 if before != 1 else 2
    try:
        assert f"({other} threads)" in bench.environment(threads=other)
        assert bench._blas_threads()[1] == other
    finally:
        bench._blas_threads(set_to=before)
    assert bench._blas_threads()[1] == before


def test_bare_numpy_does_nnlibs_arithmetic(bench, tiny_mnist):
    """The hand-written loop is the same training as nnlib.fit: the same parameters after two epochs."""
    epoch, describe = bench.bare_trainer(tiny_mnist, 3)
    epoch()
    epoch()
    model = nnlib.mlp(bench.SIZES, init="he", rng=3)
    nnlib.fit(
        model,
        tiny_mnist.X_train,
        tiny_mnist.y_train,
        nnlib.Momentum(bench.LR, bench.BETA, form="ema"),
        epochs=2,
        batch_size=bench.BATCH,
        rng=np.random.default_rng(3),
        verbose=False,
    )
    assert list(model.params) == ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
    for (name, expected), got in zip(model.params.items(), epoch.params):
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert (
        describe() == f"test accuracy {nnlib.accuracy(model.predict_proba(tiny_mnist.X_test), tiny_mnist.y_test):.2%}"
    )


@pytest.mark.parametrize("part", ["gather", "elementwise", "optimiser"])
def test_bare_numpy_without_a_part_trains_differently(bench, tiny_mnist, part):
    """--parts times bare NumPy without one part: each variant really leaves something out."""
    full, _ = bench.bare_trainer(tiny_mnist, 0)
    without, _ = bench.bare_trainer(tiny_mnist, 0, leave_out=part)
    W1 = without.params[0].copy()  # the initial weights
    full()
    without()
    assert not np.array_equal(without.params[0], full.params[0])
    assert np.array_equal(without.params[0], W1) == (part == "optimiser")
    with pytest.raises(ValueError, match="leave_out"):
        bench.bare_trainer(tiny_mnist, 0, leave_out="softmax")


def test_cnn_benchmark_smoke_mode(bench, capsys):
    """benchmarks/train_cnn.py --smoke: the lesson's CNN in nnlib, the floor and (if installed) PyTorch, on fake data."""
    spec = importlib.util.spec_from_file_location("train_cnn", ROOT / "benchmarks" / "train_cnn.py")
    cnn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cnn)
    _, before = bench._blas_threads()
    try:
        med = cnn.main(["--smoke", "--epochs", "1", "--threads", "1"])
        out = capsys.readouterr().out
        cnn.main(["--smoke", "--epochs", "1", "--no-torch", "--channels", "4", "6", "--kernel", "5"])
        other = capsys.readouterr().out
        cnn.main(["--smoke", "--epochs", "1", "--no-torch", "--channels", "8", "16", "--hidden", "0"])
        review = capsys.readouterr().out
    finally:
        if before is not None:
            bench._blas_threads(set_to=before)
    assert "NumPy" in out and "300 training images" in out
    assert "Conv2D(in_channels=1, out_channels=16" in out and "Linear(n_in=1568, n_out=128" in out  # the lesson's
    assert "Linear(n_in=128, n_out=10" in out
    assert "Conv2D(in_channels=4, out_channels=6, kernel_size=5" in other and "Linear(n_in=294, n_out=128" in other
    assert "nnlib / floor" in out and "GFLOP per epoch" in out and "test accuracy" in out
    assert "Linear(n_in=784, n_out=10" in review and "n_out=128" not in review  # --hidden 0: the review's network
    assert {"nnlib", "floor"} <= set(med) and all(t > 0 for t in med.values())
    if "torch" in med:  # the same network, parameter for parameter
        assert "nnlib / PyTorch" in out

        nn_shapes = [tuple(p.shape) for p in cnn.cnn().params.values()]
        torch_shapes = [tuple(p.shape) for p in cnn.torch_cnn().parameters()]
        assert [s if len(s) != 2 else s[::-1] for s in nn_shapes] == torch_shapes  # Linear: (in, out) vs (out, in)
    else:
        assert "PyTorch is not installed" in out
    assert "PyTorch left out" in other and "kernel_size=5" in other and "Linear(n_in=294" in other
