"""Benchmark: nnlib's convolutional network (notebook 14) against PyTorch on the CPU, and against the floor.

The lesson's CNN, by default: Conv2D(1, 16, 3, padding=1), ReLU, MaxPool2D(2), Conv2D(16, 32, 3, padding=1),
ReLU, MaxPool2D(2), Flatten, Linear(1568, 128), ReLU, Linear(128, 10), softmax cross-entropy; He init,
mini-batch 128, lr 0.5 with EMA momentum 0.9 (the step of classical momentum 0.9 at lr 0.05; the lesson
trains it with Adam at batch 64: the optimiser's share of a step is small either way), on 50,000 training
images (MNIST's training set less 10,000 kept for validation). ``--channels``, ``--kernel`` and ``--hidden``
change the network (``--channels 8 16 --hidden 0`` is the smaller one a review prototyped).

In the same run, epoch by epoch in turn (the order rotating each epoch, so that all share the machine's
conditions; medians are reported, and the ratios of the fastest epochs too: on a shared machine another
process can slow any epoch down, never speed it up, so the fastest epochs are the better estimate of a quiet
machine's times), it times:

- **nnlib**: ``nnlib.fit`` on the model, one epoch per call;
- **PyTorch**: the same network, initialisation, batches and optimiser in PyTorch on the CPU, with as many
  threads as NumPy's BLAS (``torch.set_num_threads``); skipped with a message if PyTorch is not installed
  (it is the yardstick only, never a dependency of nnlib);
- the **floor**: the epoch's matrix products alone, of the shapes nnlib multiplies, on batches already
  in memory, into preallocated outputs: per batch and convolution ``W_row @ cols`` (forward),
  ``d @ cols.T`` (dW) and ``W_row.T @ d`` (dcols, not for the first layer), and each Linear layer's three;
  no im2col, col2im, pooling, ReLU, softmax or optimiser. No NumPy step that computes the convolution
  through im2col can be faster.

It prints seconds per epoch for each, and the ratios nnlib / PyTorch and nnlib / floor. ``--long`` trains
longer instead, with augmentation (``nnlib.random_shift``: each training image moved up to 2 pixels) and the
learning rate on a cosine schedule over ``--epochs``, nnlib and PyTorch alike, within a time limit, and reports
validation and test accuracy. ``--smoke`` runs it all on a small fake data set in a second or two (``tests/test_benchmark.py``).

    python benchmarks/train_cnn.py [--epochs 3] [--threads N] [--no-torch]     # timing
    python benchmarks/train_cnn.py --long [--epochs 15] [--time-limit 600]     # accuracy
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import nnlib
from nnlib.conv import Conv2D, Flatten, MaxPool2D, conv_output_size

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_mlp import _blas_threads, environment  # noqa: E402  (the same environment line as train_mlp's)

CHANNELS, KERNEL, POOL, HIDDEN = (16, 32), 3, 2, 128
LR, BETA, BATCH = 0.5, 0.9, 128
SIDE, CLASSES = 28, 10


# -- the network ------------------------------------------------------------------------------------


def layer_shapes(channels=CHANNELS, kernel=KERNEL, side=SIDE):
    """[(C_in, F, H) of each convolution (H: its input's side)], and the flattened width before the Linear layer."""
    shapes, c, h = [], 1, side
    for f in channels:
        shapes.append((c, f, h))
        c, h = f, conv_output_size(h, kernel, 1, kernel // 2) // POOL
        if h < 1:
            raise ValueError(f"{len(channels)} convolutions with pooling leave no pixels of a {side}x{side} image")
    return shapes, c * h * h


def widths(flat, hidden=HIDDEN):
    """The widths of the Linear layers after Flatten: [flat, hidden, 10], or [flat, 10] without a hidden layer."""
    return [flat, hidden, CLASSES] if hidden else [flat, CLASSES]


def cnn(channels=CHANNELS, kernel=KERNEL, seed=0, hidden=HIDDEN):
    """The lesson's CNN in nnlib: per convolution Conv2D (padding kernel // 2), ReLU, MaxPool2D(2);
    then Flatten, Linear (ReLU, Linear) and softmax cross-entropy."""
    shapes, flat = layer_shapes(channels, kernel)
    layers = []
    for c, f, _ in shapes:
        layers += [Conv2D(c, f, kernel, padding=kernel // 2), nnlib.ReLU(), MaxPool2D(POOL)]
    layers.append(Flatten())
    w = widths(flat, hidden)
    for i in range(len(w) - 1):
        layers += [nnlib.Linear(w[i], w[i + 1])] + ([nnlib.ReLU()] if i < len(w) - 2 else [])
    layers.append(nnlib.SoftmaxCrossEntropy())
    return nnlib.Model(layers, rng=seed, input_shape=(1, SIDE, SIDE))


def torch_cnn(channels=CHANNELS, kernel=KERNEL, seed=0, hidden=HIDDEN):
    import torch

    torch.manual_seed(seed)
    shapes, flat = layer_shapes(channels, kernel)
    layers = []
    for c, f, _ in shapes:
        layers += [torch.nn.Conv2d(c, f, kernel, padding=kernel // 2), torch.nn.ReLU(), torch.nn.MaxPool2d(POOL)]
    layers.append(torch.nn.Flatten())
    w = widths(flat, hidden)
    for i in range(len(w) - 1):
        layers += [torch.nn.Linear(w[i], w[i + 1])] + ([torch.nn.ReLU()] if i < len(w) - 2 else [])
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):  # He normal, fan-in, zero bias: nnlib's "he"
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    return model


# -- the data ---------------------------------------------------------------------------------------


class Data:
    """Images (N, 1, 28, 28) float32 in [0, 1] and int64 labels: train, validation, test."""

    def __init__(self, X_train, y_train, X_val, y_val, X_test, y_test):
        shape = (-1, 1, SIDE, SIDE)
        self.X_train, self.X_val, self.X_test = (
            np.ascontiguousarray(X.reshape(shape), dtype=np.float32) for X in (X_train, X_val, X_test)
        )
        self.y_train, self.y_val, self.y_test = (np.asarray(y, dtype=np.int64) for y in (y_train, y_val, y_test))


def mnist(seed=0):
    X, y, X_test, y_test = nnlib.load_mnist(flatten=False)
    return Data(*nnlib.train_val_split(X, y, val_size=10000, rng=seed), X_test, y_test)


def fake(seed=0, n=300):
    """A small random data set of MNIST's shapes, for ``--smoke``."""
    rng = np.random.default_rng(seed)
    parts = [(rng.random((m, SIDE, SIDE), dtype=np.float32), rng.integers(0, CLASSES, m)) for m in (n, 60, 60)]
    return Data(*[a for part in parts for a in part])


# -- what is timed ------------------------------------------------------------------------------------


def _accuracy_line(predict, data):
    return (
        f"validation accuracy {np.mean(predict(data.X_val) == data.y_val):.2%}, "
        f"test accuracy {np.mean(predict(data.X_test) == data.y_test):.2%}"
    )


def nnlib_trainer(data, seed, channels=CHANNELS, kernel=KERNEL, hidden=HIDDEN, augment=None, lr_at=None):
    """One epoch per call; ``lr_at(epoch)`` (1-based), if given, sets the learning rate of each epoch."""
    model = cnn(channels, kernel, seed, hidden)
    opt = nnlib.Momentum(LR, BETA, form="ema")
    rng = np.random.default_rng(seed)
    done = [0]

    def epoch():
        done[0] += 1
        if lr_at is not None:
            opt.lr = lr_at(done[0])
        nnlib.fit(
            model, data.X_train, data.y_train, opt, epochs=1, batch_size=BATCH, rng=rng, verbose=False, augment=augment
        )

    epoch.model = model
    return epoch, lambda: _accuracy_line(lambda X: model.predict(X, batch_size=1000), data)


def torch_trainer(data, seed, channels=CHANNELS, kernel=KERNEL, hidden=HIDDEN, augment=None, lr_at=None):
    import torch

    model = torch_cnn(channels, kernel, seed, hidden)
    # PyTorch: buf = momentum * buf + (1 - dampening) * g; dampening = beta gives the EMA, started at zero as nnlib's.
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=BETA, dampening=BETA)
    for p in model.parameters():
        opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    done = [0]

    def epoch():
        done[0] += 1
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(done[0])
        for Xb, yb in nnlib.minibatches(data.X_train, data.y_train, BATCH, rng):  # the same batching as fit's
            if augment is not None:
                Xb = augment(Xb, rng)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(torch.from_numpy(Xb)), torch.from_numpy(yb)).backward()
            opt.step()

    def predict(X):
        with torch.no_grad():
            return np.concatenate(
                [model(torch.from_numpy(X[i : i + 1000])).argmax(1).numpy() for i in range(0, len(X), 1000)]
            )

    epoch.model = model
    return epoch, lambda: _accuracy_line(predict, data)


def floor_trainer(data, seed, channels=CHANNELS, kernel=KERNEL, hidden=HIDDEN):
    """One epoch of the matrix products alone (see the module docstring), of the shapes nnlib multiplies."""
    rng = np.random.default_rng(seed)
    shapes, flat = layer_shapes(channels, kernel)
    K = [c * kernel * kernel for c, _, _ in shapes]
    P = [conv_output_size(h, kernel, 1, kernel // 2) ** 2 for _, _, h in shapes]
    W = [rng.standard_normal((f, k), dtype=np.float32) for (_, f, _), k in zip(shapes, K)]
    w = widths(flat, hidden)
    W_lin = [rng.standard_normal((w[i], w[i + 1]), dtype=np.float32) for i in range(len(w) - 1)]
    sizes = sorted({len(xb) for xb, _ in nnlib.minibatches(data.X_train, data.y_train, BATCH, None, shuffle=False)})
    bufs = {}
    for n in sizes:  # 128, and the last batch's size
        bufs[n] = {
            "cols": [rng.random((n, k, p), dtype=np.float32) for k, p in zip(K, P)],
            "out": [np.empty((n, f, p), np.float32) for (_, f, _), p in zip(shapes, P)],
            "d": [rng.standard_normal((n, f, p), dtype=np.float32) for (_, f, _), p in zip(shapes, P)],
            "dWn": [np.empty((n, f, k), np.float32) for (_, f, _), k in zip(shapes, K)],
            "dcols": [np.empty((n, k, p), np.float32) for k, p in zip(K, P)],
            "A": [rng.random((n, k), dtype=np.float32) for k in w],  # each Linear layer's input and output
            "dZ": [rng.standard_normal((n, k), dtype=np.float32) for k in w],
            "dW": [np.empty(Wl.shape, np.float32) for Wl in W_lin],
        }
    n_batches = [len(xb) for xb, _ in nnlib.minibatches(data.X_train, data.y_train, BATCH, None, shuffle=False)]
    flops = sum(
        2
        * n
        * (
            sum(f * k * p * (3 if i else 2) for i, ((_, f, _), k, p) in enumerate(zip(shapes, K, P)))
            + 3 * sum(Wl.size for Wl in W_lin)
        )
        for n in n_batches
    )

    def epoch():
        for n in n_batches:
            b = bufs[n]
            for l in range(len(W)):  # forward: W_row @ cols
                np.matmul(W[l], b["cols"][l], out=b["out"][l])
            for l, Wl in enumerate(W_lin):  # the Linear layers: Z = A @ W
                np.matmul(b["A"][l], Wl, out=b["A"][l + 1])
            for l in range(len(W_lin) - 1, -1, -1):  # backward: each Linear layer's dW and dA
                np.matmul(b["A"][l].T, b["dZ"][l + 1], out=b["dW"][l])
                np.matmul(b["dZ"][l + 1], W_lin[l].T, out=b["dZ"][l])
            for l in range(len(W) - 1, -1, -1):  # then each convolution's dW, and dcols
                np.matmul(b["d"][l], b["cols"][l].transpose(0, 2, 1), out=b["dWn"][l])
                if l:
                    np.matmul(W[l].T, b["d"][l], out=b["dcols"][l])

    return epoch, lambda: f"{flops / 1e9:.2f} GFLOP per epoch"


# -- the report ---------------------------------------------------------------------------------------


def _time(runs, epochs, limit=None):
    """Seconds of each epoch of each run, alternating runs epoch by epoch (the order rotating); stops early
    (after a whole round) once ``limit`` seconds have passed."""
    names = list(runs)
    times = {name: [] for name in names}
    start = time.perf_counter()
    for e in range(epochs):
        for name in names[e % len(names) :] + names[: e % len(names)]:
            t0 = time.perf_counter()
            runs[name][0]()
            times[name].append(time.perf_counter() - t0)
        if limit is not None and time.perf_counter() - start > limit and e + 1 < epochs:
            print(f"time limit of {limit:.0f} s reached after {e + 1} of {epochs} epochs")
            break
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default 3; with --long 15; with --smoke 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads", type=int, default=None, help="BLAS and PyTorch threads (default: the cores this process may use)"
    )
    ap.add_argument(
        "--channels",
        type=int,
        nargs="+",
        default=list(CHANNELS),
        help="output channels of each convolution (default 16 32)",
    )
    ap.add_argument(
        "--hidden", type=int, default=HIDDEN, help="hidden Linear units after Flatten (default 128; 0: none)"
    )
    ap.add_argument("--kernel", type=int, default=KERNEL, help="kernel side, odd (default 3; padding kernel // 2)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument(
        "--long",
        action="store_true",
        help="train longer with augmentation (random shifts) and report accuracy, not the floor",
    )
    ap.add_argument("--time-limit", type=float, default=600.0, help="with --long: stop after this many seconds")
    ap.add_argument("--smoke", action="store_true", help="a small fake data set, to check that the script runs")
    args = ap.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else 15 if args.long else 2 if args.smoke else 3
    if epochs < 1:
        ap.error(f"--epochs must be at least 1, got {epochs}")
    if args.kernel < 1 or args.kernel % 2 == 0:
        ap.error(f"--kernel must be odd (padding kernel // 2 keeps the size), got {args.kernel}")
    if not args.channels or min(args.channels) < 1:
        ap.error(f"--channels must be positive, got {args.channels}")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = args.threads if args.threads is not None else usable
    if threads < 1:
        ap.error(f"--threads must be at least 1, got {threads}")

    print(environment(threads))
    if _blas_threads()[1] is None:
        print(f"(could not set the BLAS thread count; set OPENBLAS_NUM_THREADS={threads} before starting)")
    try:
        layer_shapes(args.channels, args.kernel)
    except ValueError as err:
        ap.error(str(err))
    data = fake(args.seed) if args.smoke else mnist(args.seed)
    augment = (lambda X, rng: nnlib.random_shift(X, rng, max_shift=2)) if args.long else None
    lr_at = nnlib.cosine_schedule(LR, epochs) if args.long else None  # --long: lr falls from LR to 0 over the run
    if args.hidden < 0:
        ap.error(f"--hidden must be 0 or more, got {args.hidden}")
    net = dict(channels=tuple(args.channels), kernel=args.kernel, hidden=args.hidden)
    runs = {"nnlib": nnlib_trainer(data, args.seed, augment=augment, lr_at=lr_at, **net)}
    if args.no_torch:
        print("PyTorch left out (--no-torch)")
    else:
        try:
            import torch
        except ImportError:
            torch = None
            print(
                "PyTorch is not installed, so it is left out (pip install torch==2.13.0, a CPU build; it is not "
                "a dependency of nnlib)"
            )
        if torch is not None:
            torch.set_num_threads(threads)
            print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
            runs["torch"] = torch_trainer(data, args.seed, augment=augment, lr_at=lr_at, **net)
    if not args.long:
        runs["floor"] = floor_trainer(data, args.seed, **net)
    print(f"{runs['nnlib'][0].model!r}")
    print(
        f"batch {BATCH}, lr {LR}, EMA momentum {BETA}, {epochs} epochs, {len(data.X_train)} training images"
        + (", shifted at random by up to 2 pixels, lr on a cosine schedule from 0.5 to 0" if args.long else "")
    )

    times = _time(runs, epochs, args.time_limit if args.long else None)
    med = {name: statistics.median(t) for name, t in times.items()}
    for name in runs:
        t = times[name]
        print(
            f"{name:>6}: {med[name]:.3f} s/epoch (median of {len(t)}; min {min(t):.3f}, max {max(t):.3f}), "
            f"total {sum(t):.1f} s, {runs[name][1]()}"
        )
    t0 = time.perf_counter()
    nnlib.evaluate(runs["nnlib"][0].model, data.X_val, data.y_val)  # chunks of 1,000 rows (10,000: over 10x slower)
    print(f"nnlib.evaluate on the {len(data.X_val):,} validation images: {time.perf_counter() - t0:.2f} s")
    best = {name: min(t) for name, t in times.items()}
    if "torch" in med:
        print(
            f"nnlib / PyTorch (time per epoch, 1.0: as fast; the target is at most 2): "
            f"{med['nnlib'] / med['torch']:.2f}x (medians), {best['nnlib'] / best['torch']:.2f}x (fastest epochs)"
        )
    if "floor" in med:
        print(
            f"nnlib / floor (time per epoch, 1.0 is the floor): {med['nnlib'] / med['floor']:.2f}x (medians), "
            f"{best['nnlib'] / best['floor']:.2f}x (fastest epochs)"
        )
    return med


if __name__ == "__main__":
    main()
