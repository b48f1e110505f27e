"""Execute the course notebooks top to bottom, in place, so their stored outputs are one clean run.

    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/execute.py            # all notebooks
    NNLIB_DATA_DIR=../shared/data/mnist python notebooks/execute.py 03 04      # those whose names start so

Run it after any change to nnlib and commit the outputs: `pytest --nbval` compares them.
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
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
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
