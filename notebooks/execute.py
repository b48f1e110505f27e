"""Execute the course notebooks top to bottom, in place, so their stored outputs are one clean run.

    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/execute.py            # all notebooks
    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/execute.py 03 04      # those whose names start so

Run it after any change to nnlib or to a notebook, and commit the outputs: `pytest --nbval` compares them.

What "passes on any machine" means. nbval compares every stored output with a fresh one, exactly. That
holds for *facts*: shapes, counts, one-hot tables, exact float64 values, error messages. It cannot hold
for *measurements* made in float32 (losses and accuracies after training, rel_errors, timings): their
last digits, and after enough training steps their first ones, depend on the CPU, the BLAS kernel and
the number of threads. So every cell that prints a measurement is tagged `nbval-ignore-output`, and
checks its key results in plain sight with `nnlib.expect_near` / `expect_below` (a tolerance measured
with `notebooks/spread.py`). A regression check on another machine then compares all facts exactly and
every measurement within its tolerance. CI runs the notebooks twice (default threads and
OPENBLAS_NUM_THREADS=1) to prove it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(path: Path, timeout: int = 1200):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(HERE)}}
    )
    client.execute()
    # Live widgets cannot be stored meaningfully: drop their views and saved state (random ids, ~1 MB).
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.get("language_info", {}).pop("version", None)
    nbformat.write(nb, path)


def main(prefixes):
    paths = sorted(p for p in HERE.glob("[0-9][0-9]_*.ipynb") if not prefixes or p.name.startswith(tuple(prefixes)))
    for path in paths:
        start = time.perf_counter()
        execute(path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
