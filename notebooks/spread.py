"""Measure how far the notebooks' checked results move between seeds and between BLAS kernels.

Every measurement a notebook prints (an accuracy after training, a rel_error) is checked by a call of
``nnlib.expect_near`` / ``expect_below`` / ``expect_between`` with a stated band. This script executes
copies of the notebooks (in a temporary folder; the stored notebooks are not touched) once per *seed*
and once per *variant* of the numerical environment, collects every checked value, and prints for each
check the range over seeds beside the range over kernels and the band the notebook states. With
``--write`` it records those ranges in ``notebooks/spread.csv``, the table that
``tests/test_spread_table.py`` compares with the notebooks' bands::

    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/spread.py --write         # everything (about 2 h)
    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/spread.py 06 --seeds 0 1 2 3 4 --variants default --write

**Seeds.** (``--runs variant:seed ...`` names the runs one by one.) Seed ``k`` runs each notebook with every
integer seed in its code shifted by ``k``:
``rng=0`` becomes ``rng=0 + k``, ``seed=1`` becomes ``seed=1 + k``, ``default_rng(0)`` becomes
``default_rng(0 + k)``, and ``rng=seed`` becomes ``rng=seed + k`` (the initial weights, the shuffling, the
validation split and every other draw). Seed 0 is the notebook as stored. Seeds run in the first variant;
the range over seeds covers every run, whatever its variant.

**Variants** (OpenBLAS, which NumPy's wheels use, picks its float32 kernel by CPU type and splits the work
by thread count; both change the order of the additions, so float32 training ends up elsewhere). They run
at seed 0:

- ``default``: this machine as it is;
- ``threads1``: ``OPENBLAS_NUM_THREADS=1``;
- ``sandybridge1``: the Sandybridge kernels with one thread, what CI's second notebook pass runs on a CPU
  without AVX-512;
- ``sandybridge`` (AVX without FMA), ``haswell`` (AVX2 and FMA), ``zen``, ``nehalem`` (SSE only) and
  ``skylakex`` (AVX-512: needs a CPU that has it): OpenBLAS told to use that CPU type's kernels
  (``OPENBLAS_CORETYPE``), standing in for another machine. The script prints the kernel each variant
  really runs (threadpoolctl): in NumPy's OpenBLAS builds ``zen`` runs the Haswell kernels, so on a
  Haswell-class machine it adds nothing to ``default``.

A band must cover every value seen, over seeds and variants, with a margin (the rule is in
``tests/test_spread_table.py``), yet stay narrow enough that a real change (a bug, another learning
rate) fails it. Where a result splits (one seed trains, another does not), no band fits: the notebook
shows the outcome over seeds and checks a claim that holds for all of them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "spread.csv"
VARIANTS = {
    "default": {},
    "threads1": {"OPENBLAS_NUM_THREADS": "1"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "sandybridge1": {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "1"},  # CI's second pass, here
    "zen": {"OPENBLAS_CORETYPE": "Zen"},
    "haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "nehalem": {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"},
    "skylakex": {"OPENBLAS_CORETYPE": "SkylakeX"},
}
ORIGINAL_ENV = dict(os.environ)
COLUMNS = [
    "notebook",
    "label",
    "band",
    "low",
    "high",
    "seeds",
    "seed_low",
    "seed_high",
    "variants",
    "variant_low",
    "variant_high",
]

_SEEDED = [
    (re.compile(r"\b(rng|seed)(\s*=\s*)(\d+)\b"), r"\1\2\3 + {k}"),
    (re.compile(r"\bdefault_rng\((\d+)\)"), r"default_rng(\1 + {k})"),
    (re.compile(r"\brng(\s*=\s*)seed\b"), r"rng\1seed + {k}"),
]


def reseed(source: str, k: int) -> str:
    """``source`` with every integer seed shifted by ``k`` (see the module docstring); k = 0 changes nothing."""
    if k == 0:
        return source
    for pattern, replacement in _SEEDED:
        source = pattern.sub(replacement.replace("{k}", str(k)), source)
    return source


CHECK_LINE = re.compile(r"^(?P<label>.+) (?P<shown>\S+) \((?P<band>expected [^()]*)\): (ok|outside)")


def band_limits(band: str):
    """The band a check line states, as numbers: ``"expected 98.0% ± 0.5"`` -> (0.975, 0.985),
    ``"expected 87% to 91%"`` -> (0.87, 0.91), ``"expected below 1e-06"`` -> (-inf, 1e-06)."""

    def number(text):
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)

    words = band.split()
    if words[1] == "below":
        return -float("inf"), number(words[2])
    if words[2] == "±":
        scale = 100 if words[1].endswith("%") else 1
        centre, tol = number(words[1]), float(words[3]) / scale
        return centre - tol, centre + tol
    if words[2] == "to":
        return number(words[1]), number(words[3])
    raise ValueError(f"not a band: {band!r}")


def stored_checks(path: Path):
    """[(label, band)] of every check line in a notebook's stored outputs, in order."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                found += [(m["label"], m["band"]) for m in map(CHECK_LINE.match, text.splitlines()) if m]
    return found


def cpu_has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def kernel(variant: str) -> str:
    """The OpenBLAS kernel NumPy runs under ``variant`` (asked in a fresh process, as threadpoolctl tells it)."""
    import subprocess
    import sys

    code = (
        "import numpy, threadpoolctl; print(next((i.get('architecture') for i in threadpoolctl.threadpool_info() "
        "if i.get('internal_api') == 'openblas'), 'not OpenBLAS'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**ORIGINAL_ENV, **VARIANTS[variant]}, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown (threadpoolctl missing?)"


def run_one(job):
    """Execute one notebook under one (variant, seed); its checked values go to ``log``."""
    import nbformat
    from nbclient import NotebookClient

    path, variant, seed, log, workdir = job
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = reseed(cell.source, seed)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.clear()  # a worker runs many jobs: start afresh
    os.environ.update(ORIGINAL_ENV, **VARIANTS[variant], NNLIB_EXPECT_LOG=str(log))  # the kernel inherits it
    os.environ.pop("NNLIB_STRICT_CHECKS", None)  # warn, go on, and log every check
    NotebookClient(
        nb, timeout=3600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    errors = [
        o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"
    ]
    shutil.rmtree(workdir, ignore_errors=True)
    if not errors:
        log.with_suffix(".done").touch()  # --logdir: a later run with the same folder skips this job
    return f"  {path.stem} / {variant} / seed {seed}: done" + (f" (errors: {errors})" if errors else "")


def collect(logdir: Path, runs):
    """{(notebook, label): {"expected", "low", "high", "seeds": {seed: [v]}, "variants": {name: [v]}}}

    The range over seeds takes every run (a seed under any variant: another kernel acts like another seed);
    the range over variants takes the runs at seed 0."""
    seen = {}
    for notebook, variant, seed, log in runs:
        for line in log.read_text().splitlines() if log.exists() else []:
            row = json.loads(line)
            entry = seen.setdefault(
                (notebook, row["label"]), {"seeds": defaultdict(list), "variants": defaultdict(list)}
            )
            entry.update(expected=row["expected"], low=row["low"], high=row["high"])
            entry["seeds"][seed].append(row["value"])
            if seed == 0:
                entry["variants"][variant].append(row["value"])
    return seen


def _fmt(x):
    return "" if x is None else f"{x:.6g}"


def table_rows(seen):
    rows = []
    for (notebook, label), e in sorted(seen.items()):
        seed_values = [v for vs in e["seeds"].values() for v in vs]
        variant_values = [v for vs in e["variants"].values() for v in vs]
        rows.append(
            {
                "notebook": notebook,
                "label": label,
                "band": e.get("expected", ""),
                "low": _fmt(e.get("low")),
                "high": _fmt(e.get("high")),
                "seeds": " ".join(str(s) for s in sorted(e["seeds"])),
                "seed_low": _fmt(min(seed_values, default=None)),
                "seed_high": _fmt(max(seed_values, default=None)),
                "variants": " ".join(sorted(e["variants"])),
                "variant_low": _fmt(min(variant_values, default=None)),
                "variant_high": _fmt(max(variant_values, default=None)),
            }
        )
    return rows


def read_table(path: Path = TABLE):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_table(rows, notebooks_run, path: Path = TABLE):
    """Replace the rows of the notebooks just measured, keep the others."""
    kept = [r for r in read_table(path) if r["notebook"] not in notebooks_run] if path.exists() else []
    rows = sorted(kept + rows, key=lambda r: (r["notebook"], r["label"]))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebooks whose names start so (default: all)")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["default", "threads1", "sandybridge1"],
        choices=list(VARIANTS),
        help="the first one is also where the seeds run",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--runs",
        nargs="+",
        metavar="VARIANT:SEED",
        help="exactly these runs instead of --variants and --seeds, e.g. default:0 threads1:2",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="notebooks executed at once (each should then have its own core: one BLAS thread)",
    )
    parser.add_argument("--write", action="store_true", help=f"record the ranges in {TABLE.name}")
    parser.add_argument(
        "--logdir",
        type=Path,
        help="keep the raw logs (one JSON line per check) in this folder; "
        "a later run with the same folder re-uses the notebook runs that finished without errors",
    )
    args = parser.parse_args(argv)
    if "skylakex" in args.variants and not cpu_has_avx512():
        parser.error("the skylakex variant needs a CPU with AVX-512 (this one has none)")
    paths = sorted(
        p for p in HERE.glob("[0-9][0-9]_*.ipynb") if not args.prefixes or p.name.startswith(tuple(args.prefixes))
    )
    first = args.variants[0]
    combos = [(first, s) for s in args.seeds] + [(v, 0) for v in args.variants[1:]]
    if args.runs:
        combos = [(r.split(":")[0], int(r.split(":")[1])) for r in args.runs]
        if any(v not in VARIANTS for v, _ in combos):
            parser.error(f"--runs takes VARIANT:SEED with a variant of {list(VARIANTS)}")
    for name in dict.fromkeys(v for v, _ in combos):
        print(
            f"variant {name}: {VARIANTS[name] or 'unchanged environment'}, OpenBLAS kernel {kernel(name)}", flush=True
        )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = args.logdir or Path(tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        jobs = [
            (p, v, s, tmp / f"{p.stem}.{v}.{s}.jsonl", tmp / f"work.{p.stem}.{v}.{s}") for v, s in combos for p in paths
        ]
        print(f"{len(jobs)} notebook runs: " + ", ".join(f"{v} seed {s}" for v, s in combos), flush=True)
        todo = [job for job in jobs if not job[3].with_suffix(".done").exists()]
        for job in todo:
            job[3].unlink(missing_ok=True)  # an unfinished run's partial log
        if len(todo) < len(jobs):
            print(f"{len(jobs) - len(todo)} of them already done in {tmp}", flush=True)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for message in pool.map(run_one, todo):
                print(message, flush=True)
        seen = collect(tmp, [(p.stem, v, s, log) for p, v, s, log, _ in jobs])
    rows = table_rows(seen)
    width = max((len(r["label"]) for r in rows), default=10)
    print(f"\n{'notebook':10} {'check':{width}}  {'seeds':>21}  {'variants':>21}  band")
    for r in rows:
        print(
            f"{r['notebook'][:10]:10} {r['label']:{width}}  {r['seed_low']:>10} {r['seed_high']:>10}  "
            f"{r['variant_low']:>10} {r['variant_high']:>10}  {r['band']}"
        )
    if args.write:
        write_table(rows, {p.stem for p in paths})
        print(f"\nwritten: {TABLE}")


if __name__ == "__main__":
    main()
