"""Benchmark: nnlib's training speed and accuracy on the course's headline network, against the floor.

784-200-100-25-10 ReLU/softmax, He init, mini-batch 128, lr 0.5, EMA momentum
0.9, 20 epochs on the full 60k training set; prints seconds per epoch and test
accuracy.

In the same run it times the *floor*: the same epoch's matrix products alone
(per batch and layer the forward ``A @ W``, ``dW = A.T @ dZ`` and ``dX = dZ @ W.T``,
no dX for the first layer as nnlib skips it), float32, batch 128 with the
smaller last batch, on batches already in memory, into preallocated outputs,
with no gathering and no elementwise work. No NumPy training step can be
faster, so "floor ratio" = nnlib's epoch time / the floor's says how much time
goes to everything else (shuffling, activations, softmax, the optimiser, Python).

It also times ``bare``: the same training written by hand in bare NumPy, every array but the batch preallocated
and the optimiser working on one flat array (see ``bare_trainer``). Its time above the floor is what
any NumPy step pays; nnlib's time above bare NumPy's is the cost of its layers, checks and dicts.

With ``--torch`` (PyTorch must be installed; it is not a dependency) the same
model and schedule also run in PyTorch on the CPU, and the time ratio is printed.

All timings alternate epoch by epoch in one process (the order rotating each
epoch), so they share the machine's conditions; medians are reported.

    python benchmarks/train_mlp.py [--epochs 20] [--torch] [--threads N] [--parts]    # --epochs 3 for a quick look
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import sys
import time

import numpy as np

import nnlib

SIZES = [784, 200, 100, 25, 10]
LR, BETA, BATCH = 0.5, 0.9, 128


# -- the environment ------------------------------------------------------------------------------


def _blas_threads(set_to=None):
    """(library, thread count) of the BLAS NumPy loaded, as far as it can be asked; else (name, None).

    With ``set_to``, first sets OpenBLAS's thread count (where the library has the setter).
    """
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if ".so" in line and "/" in line})
    except OSError:
        libs = []
    getters = [
        "openblas_get_num_threads",
        "openblas_get_num_threads64_",
        "scipy_openblas_get_num_threads64_",
        "scipy_openblas_get_num_threads",
        "MKL_Get_Max_Threads",
        "bli_thread_get_num_threads",
    ]
    for lib in libs:
        if not any(k in os.path.basename(lib).lower() for k in ("blas", "mkl", "blis")):
            continue
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        if set_to is not None:
            for name in getters[:4]:
                setter = getattr(handle, name.replace("get", "set"), None)
                if setter is not None:
                    setter(ctypes.c_int(set_to))
                    break
        for name in getters:
            fn = getattr(handle, name, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return os.path.basename(lib), int(fn())
        return os.path.basename(lib), None
    return "unknown BLAS", None


def environment(threads=None) -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    lib, threads = _blas_threads(set_to=threads)
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, {lib} "
        f"({threads if threads is not None else 'unknown'} threads), "
        f"CPUs: {cpus} ({usable} usable by this process), {platform.machine()} {platform.system()}"
        + (f", {env}" if env else "")
    )


# -- what is timed --------------------------------------------------------------------------------


def nnlib_trainer(data, seed):
    model = nnlib.mlp(SIZES, init="he", rng=seed)
    opt = nnlib.Momentum(LR, BETA, form="ema")
    rng = np.random.default_rng(seed)

    def epoch():
        nnlib.fit(model, data.X_train, data.y_train, opt, epochs=1, batch_size=BATCH, rng=rng, verbose=False)

    return epoch, lambda: f"test accuracy {nnlib.accuracy(model.predict_proba(data.X_test), data.y_test):.2%}"


def floor_trainer(data, seed):
    """One epoch of the matrix products alone (see the module docstring)."""
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(data.X_train, dtype=np.float32)
    W = [nnlib.init.he(a, b, rng)[0] for a, b in zip(SIZES[:-1], SIZES[1:])]
    batches = [xb for xb, _ in nnlib.minibatches(X, X, BATCH, None, shuffle=False)]  # contiguous views: no gathering
    bufs = {}
    for b in {len(xb) for xb in batches}:  # 128, and the last batch's size
        bufs[b] = {
            "Z": [np.empty((b, n), np.float32) for n in SIZES[1:]],
            "dW": [np.empty((m, n), np.float32) for m, n in zip(SIZES[:-1], SIZES[1:])],
            "dX": [np.empty((b, m), np.float32) for m in SIZES[:-1]],
            "dZ": (rng.standard_normal((b, SIZES[-1])) * 0.01).astype(np.float32),
        }
    flops = sum(
        2 * len(xb) * m * n * (3 if layer else 2)
        for xb in batches
        for layer, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:]))
    )

    def epoch():
        for xb in batches:
            buf = bufs[len(xb)]
            A = [xb]
            for Wl, Z in zip(W, buf["Z"]):  # forward: X @ W
                np.matmul(A[-1], Wl, out=Z)
                A.append(Z)
            dZ = buf["dZ"]
            for layer in range(len(W) - 1, -1, -1):  # backward: dW = A.T @ dZ, dX = dZ @ W.T
                np.matmul(A[layer].T, dZ, out=buf["dW"][layer])
                if layer:
                    dZ = np.matmul(dZ, W[layer].T, out=buf["dX"][layer])

    return epoch, lambda: f"{flops / 1e9:.2f} GFLOP per epoch"


LEAVE_OUT = ("gather", "elementwise", "optimiser")


def bare_trainer(data, seed, leave_out=None):
    """The same training written by hand in bare NumPy: the best a NumPy step can do, for comparison.

    No layers, no checks, no dicts: every array but the batch preallocated, every operation in place, and the
    parameters (and gradients, and momentum buffers) in one flat array each, so the optimiser is
    five operations per step whatever the depth. It does nnlib's arithmetic operation for
    operation (the same initial weights, shuffling, log-softmax, ``(P - Y) / n`` and EMA momentum),
    so after the same epochs its parameters equal nnlib's exactly (``tests/test_benchmark.py``). Its batches,
    like ``fit``'s, come from ``nnlib.minibatches``.
    What it costs above the floor is what any NumPy step pays: gathering the shuffled batch,
    the elementwise work and the optimiser's passes over memory.

    ``leave_out`` (one of ``LEAVE_OUT``, for ``--parts``) drops one of those to time what it costs:
    "gather" takes the batches in order as contiguous slices, "elementwise" skips the biases, ReLU
    and its mask, "optimiser" skips the update. The result is then no longer the same training.
    """
    if leave_out not in (None, *LEAVE_OUT):
        raise ValueError(f"leave_out must be one of {LEAVE_OUT} or None, got {leave_out!r}")
    elementwise = leave_out != "elementwise"
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(data.X_train, dtype=np.float32)
    y = np.asarray(data.y_train, dtype=np.intp)
    L = len(SIZES) - 1
    shapes = [s for m, n in zip(SIZES[:-1], SIZES[1:]) for s in ((m, n), (n,))]
    starts = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    P, G = np.empty(starts[-1], np.float32), np.empty(starts[-1], np.float32)
    V, T = np.zeros_like(P), np.empty_like(P)
    Ps = [P[a:e].reshape(s) for s, a, e in zip(shapes, starts, starts[1:])]  # W1, b1, W2, ...
    Gs = [G[a:e].reshape(s) for s, a, e in zip(shapes, starts, starts[1:])]
    W, b, dW, db = Ps[0::2], Ps[1::2], Gs[0::2], Gs[1::2]
    init = np.random.default_rng(seed)  # mlp(SIZES, init="he", rng=seed) draws the same
    for l, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        W[l][...], b[l][...] = nnlib.init.init_layer("he", m, n, init)
    bufs = {}

    def buffers(n):  # Z of every layer, dA of every hidden layer
        if n not in bufs:
            bufs[n] = (
                [np.empty((n, k), np.float32) for k in SIZES[1:]],
                [np.empty((n, k), np.float32) for k in SIZES[1:-1]],
                np.arange(n),
            )
        return bufs[n]

    quiet = {"all": "ignore"} if leave_out else {}  # without ReLU, lr 0.5 overflows: times only

    def epoch():
        shuffle = leave_out != "gather"  # without the gather: consecutive slices (views)
        with np.errstate(**quiet):
            for Xb, yb in nnlib.minibatches(X, y, BATCH, rng if shuffle else None, shuffle=shuffle):
                n = len(Xb)
                Z, dA, rows = buffers(n)
                A = [Xb]
                for l in range(L):  # Z = A @ W + b; A = max(Z, 0) in place
                    np.matmul(A[l], W[l], out=Z[l])
                    if elementwise:
                        Z[l] += b[l]
                    if l < L - 1 and elementwise:
                        np.maximum(Z[l], 0, out=Z[l])
                    A.append(Z[l])
                S = Z[-1]  # log-softmax, then P, in place
                S -= S.max(axis=1, keepdims=True)
                S -= np.log(np.exp(S).sum(axis=1, keepdims=True))
                np.exp(S, out=S)
                S[rows, yb] -= 1  # dZ = (P - Y) / n
                S /= n
                d = S
                for l in range(L - 1, -1, -1):
                    np.matmul(A[l].T, d, out=dW[l])
                    np.sum(d, axis=0, out=db[l])
                    if l:
                        d = np.matmul(d, W[l].T, out=dA[l - 1])
                        if elementwise:
                            d *= A[l] > 0
                if leave_out == "optimiser":
                    continue
                np.multiply(V, BETA, out=V)  # EMA momentum on all parameters at once
                np.add(V, np.multiply(G, 1 - BETA, out=T), out=V)
                np.subtract(P, np.multiply(V, LR, out=T), out=P)

    def predict(X):
        A = X
        for l in range(L):
            A = A @ W[l] + b[l]
            A = np.maximum(A, 0) if l < L - 1 else A
        return A.argmax(axis=1)

    epoch.params = Ps  # W1, b1, W2, ..., for the tests
    return epoch, lambda: f"test accuracy {np.mean(predict(data.X_test) == data.y_test):.2%}"


def torch_trainer(data, seed):
    import torch

    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers += [lin] + ([torch.nn.ReLU()] if i < len(SIZES) - 2 else [])
    model = torch.nn.Sequential(*layers)
    # PyTorch: buf = momentum * buf + (1 - dampening) * g; dampening = beta gives the EMA.
    # PyTorch starts the buffer at the first gradient; start it at zero, as nnlib does.
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=BETA, dampening=BETA)
    for p in model.parameters():
        opt.state[p]["momentum_buffer"] = torch.zeros_like(p)
    X, y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    Xte, yte = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()

    def test_acc():
        with torch.no_grad():
            return f"test accuracy {float((model(Xte).argmax(1) == yte).float().mean()):.2%}"

    return epoch, test_acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20, help="epochs to time (default 20; 3 for a quick look)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--torch", action="store_true", help="also time PyTorch (CPU) on the same schedule")
    ap.add_argument(
        "--parts",
        action="store_true",
        help="also time bare NumPy without each of: the gather, the elementwise work, the optimiser",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="set the BLAS (OpenBLAS) and PyTorch thread counts (default: as found)",
    )
    args = ap.parse_args(argv)
    if args.epochs < 1:
        ap.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.threads is not None and args.threads < 1:
        ap.error(f"--threads must be at least 1, got {args.threads}")

    print(environment(args.threads))
    data = nnlib.load_mnist()
    runs = {
        "nnlib": nnlib_trainer(data, args.seed),
        "floor": floor_trainer(data, args.seed),
        "bare": bare_trainer(data, args.seed),
    }
    if args.parts:
        runs.update({f"bare without {part}": bare_trainer(data, args.seed, part) for part in LEAVE_OUT})
    if args.torch:
        try:
            import torch
        except ImportError:
            sys.exit("--torch needs PyTorch, which is not installed (it is not a dependency of nnlib)")
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        runs["torch"] = torch_trainer(data, args.seed)
    print(
        f"{SIZES}, batch {BATCH}, lr {LR}, EMA momentum {BETA}, {args.epochs} epochs, "
        f"{len(data.X_train)} training examples"
    )
    names = list(runs)
    times = {name: [] for name in names}
    for e in range(args.epochs):
        for name in names[e % len(names) :] + names[: e % len(names)]:  # alternate, rotating the order
            t0 = time.perf_counter()
            runs[name][0]()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(t) for name, t in times.items()}
    for name in names:
        t = times[name]
        what = (
            f"{med['bare'] - med[name]:.3f} s/epoch less than bare NumPy"
            if name.startswith("bare without")
            else runs[name][1]()
        )
        print(
            f"{name:>6}: {med[name]:.3f} s/epoch (median; min {min(t):.3f}, max {max(t):.3f}), "
            f"total {sum(t):.1f} s, {what}"
        )
    print(f"floor ratio (nnlib time / matrix products alone, 1.0 is the floor): {med['nnlib'] / med['floor']:.2f}x")
    print(
        f"bare NumPy's floor ratio (the same training by hand in bare NumPy / the floor): "
        f"{med['bare'] / med['floor']:.2f}x; nnlib / bare NumPy: {med['nnlib'] / med['bare']:.2f}x"
    )
    if args.torch:
        ratio = med["torch"] / med["nnlib"]
        print(f"speed ratio (torch time / nnlib time, > 1 means nnlib is faster): {ratio:.2f}")


if __name__ == "__main__":
    main()
