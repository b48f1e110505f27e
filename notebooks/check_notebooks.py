"""Check that every course notebook is stored as one clean run: the rules `pytest` and pre-commit enforce.

    python notebooks/check_notebooks.py                      # every notebook; exit 1 and say what is wrong
    python notebooks/check_notebooks.py notebooks/03_*.ipynb # some

A course notebook (``notebooks/NN_topic.ipynb``) must be

- one top-to-bottom run: its code cells numbered 1, 2, 3, ... (``python notebooks/execute.py`` makes it so);
- free of stored errors, except in a cell tagged ``raises-exception`` (one that shows an error on purpose);
- free of machine paths (``/home/...``, ``/root/...``, ``/tmp/...``, ``/Users/...``) and of memory addresses
  (``<object at 0x7f...>``), which differ on every machine and every run;
- set up for Colab and Kaggle by its first code cell (``python notebooks/course_url.py`` writes it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCAL_PATH = re.compile(r"/(root|home|tmp|Users)/[A-Za-z]")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")


def course_notebooks(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def problems(path: Path) -> list[str]:
    """What is wrong with the stored notebook at ``path`` (an empty list: nothing)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    found = []
    if [c["execution_count"] for c in code] != list(range(1, len(code) + 1)):
        found.append("not one clean run: re-execute with `python notebooks/execute.py`")
    for number, cell in enumerate(code, start=1):
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if errors and "raises-exception" not in cell.get("metadata", {}).get("tags", []):
            found.append(f"code cell {number}: a stored error, {errors[0]['ename']}")
        outputs = json.dumps(cell["outputs"])
        if ADDRESS.search(outputs):
            found.append(f"code cell {number}: an output shows a memory address ({ADDRESS.search(outputs)[0].strip()})")
    if LOCAL_PATH.search(json.dumps(nb)):
        found.append(f"holds a local path: {LOCAL_PATH.search(json.dumps(nb))[0]}...")
    if not code or "Colab" not in "".join(code[0]["source"]):
        found.append("the first code cell must set the notebook up for Colab and Kaggle (notebooks/course_url.py)")
    return found


def main(argv=None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)] or course_notebooks()
    bad = 0
    for path in paths:
        for problem in problems(path):
            print(f"{path.name}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
