"""Benchmark: nnlib's training speed and accuracy on the course's headline network.

784-200-100-25-10 ReLU/softmax, He init, mini-batch 128, lr 0.5, EMA momentum
0.9, 20 epochs on the full 60k training set; prints seconds per epoch and test
accuracy. With ``--torch`` (PyTorch must be installed; it is not a dependency)
the same model and schedule also run in PyTorch on the CPU, epochs of the two
alternating in one process, and the time ratio is printed.

    python benchmarks/train_mlp.py [--epochs 20] [--torch]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import nnlib

SIZES = [784, 200, 100, 25, 10]
LR, BETA, BATCH = 0.5, 0.9, 128


def nnlib_trainer(data, seed):
    model = nnlib.mlp(SIZES, init="he", rng=seed)
    opt = nnlib.Momentum(LR, BETA, form="ema")
    rng = np.random.default_rng(seed)

    def epoch():
        nnlib.fit(model, data.X_train, data.y_train, opt, epochs=1, batch_size=BATCH, rng=rng, verbose=False)

    return epoch, lambda: nnlib.accuracy(model.predict_proba(data.X_test), data.y_test)


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
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()

    def test_acc():
        with torch.no_grad():
            return float((model(Xte).argmax(1) == yte).float().mean())

    return epoch, test_acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--torch", action="store_true", help="also time PyTorch (CPU) on the same schedule")
    args = ap.parse_args()

    data = nnlib.load_mnist()
    runs = {"nnlib": nnlib_trainer(data, args.seed)}
    if args.torch:
        import torch

        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        runs["torch"] = torch_trainer(data, args.seed)
    print(f"NumPy {np.__version__}; {SIZES}, batch {BATCH}, lr {LR}, EMA momentum {BETA}, {args.epochs} epochs")
    times = {name: [] for name in runs}
    for _ in range(args.epochs):
        for name, (epoch, _) in runs.items():   # alternate, so both see the same machine load
            t0 = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - t0)
    for name, (_, test_acc) in runs.items():
        t = times[name]
        print(f"{name:>6}: {statistics.median(t):.3f} s/epoch (median; mean {statistics.mean(t):.3f}), "
              f"total {sum(t):.1f} s, test accuracy {test_acc():.2%}")
    if args.torch:
        ratio = statistics.median(times["torch"]) / statistics.median(times["nnlib"])
        print(f"speed ratio (torch time / nnlib time, > 1 means nnlib is faster): {ratio:.2f}")


if __name__ == "__main__":
    main()
