"""Measure how far the notebooks' checked results move between BLAS kernels and thread counts.

Every measurement a notebook prints (an accuracy after training, a rel_error) is checked by a call of
``nnlib.expect_near`` / ``expect_below`` / ``expect_between`` with a stated tolerance. This script
executes the notebooks (copies, in a temporary folder; the stored notebooks are not touched) once per
*variant* of the numerical environment, collects every checked value, and prints for each check the
range of values seen next to what the notebook expects. Use it to set or review a tolerance:

    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/spread.py                 # all notebooks, all variants
    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/spread.py 04 08 --variants default threads1

Variants (OpenBLAS, which NumPy's wheels use, picks its float32 kernel by CPU type and splits work by
thread count; both change the order of the additions, so float32 training ends up elsewhere):

- ``default``: this machine as it is;
- ``threads1``: ``OPENBLAS_NUM_THREADS=1`` (what CI's second notebook pass does);
- ``sandybridge`` (AVX without FMA), ``nehalem`` (SSE only): OpenBLAS told to use an older CPU type's
  kernels (``OPENBLAS_CORETYPE``), standing in for another machine (an x86-64 CPU with AVX2 and FMA uses
  the Haswell kernels by default; one with AVX-512 the SkylakeX ones). Only this maintainer script sets that variable; tests and CI never do.

A tolerance should cover every variant with some room (the notebooks use about twice the largest
deviation seen here or the spread over seeds, whichever is larger), yet stay narrow enough that a real
change (a bug, another learning rate) fails it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
VARIANTS = {
    "default": {},
    "threads1": {"OPENBLAS_NUM_THREADS": "1"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "nehalem": {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"},
}


def run_variant(paths, env: dict, log: Path, workdir: Path):
    """Execute each notebook with ``env`` added to the environment; checked values go to ``log``."""
    saved = {k: os.environ.get(k) for k in [*env, "NNLIB_EXPECT_LOG"]}
    os.environ.update(env, NNLIB_EXPECT_LOG=str(log))      # the kernel inherits this environment
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(workdir)}}).execute()
            print(f"  {path.name} done", flush=True)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebooks whose names start so (default: all)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args(argv)
    paths = sorted(p for p in HERE.glob("[0-9][0-9]_*.ipynb")
                   if not args.prefixes or p.name.startswith(tuple(args.prefixes)))
    seen = defaultdict(dict)       # label -> variant -> [values]
    expected = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            print(f"variant {name}: {VARIANTS[name] or 'unchanged environment'}", flush=True)
            log, work = Path(tmp) / f"{name}.jsonl", Path(tmp) / name
            work.mkdir()
            run_variant(paths, VARIANTS[name], log, work)
            for line in log.read_text().splitlines() if log.exists() else []:
                row = json.loads(line)
                seen[row["label"]].setdefault(name, []).append(row["value"])
                expected[row["label"]] = row["expected"]
            shutil.rmtree(work, ignore_errors=True)
    width = max((len(k) for k in seen), default=10)
    print(f"\n{'check':{width}}  {'lowest':>10} {'highest':>10}  what the notebook expects")
    for label, per_variant in seen.items():
        values = [v for vs in per_variant.values() for v in vs]
        print(f"{label:{width}}  {min(values):10.4g} {max(values):10.4g}  {expected[label]}")


if __name__ == "__main__":
    main()
