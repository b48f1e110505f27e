"""Stamp nbgrader's cell metadata into the course notebooks: every learner piece, and the check after it.

    python notebooks/nbgrader_meta.py            # writes the metadata into notebooks/NN_topic.ipynb
    python notebooks/nbgrader_meta.py --check    # exit 1 if any notebook lacks its current metadata

Run it after adding, removing or renaming a piece (and commit what it writes); make_student.py copies the
metadata into the student copies, and a teacher can run nbgrader on the course notebooks directly
(teacher/nbgrader_config.py).

- A piece is a code cell holding ``### BEGIN SOLUTION`` / ``### END SOLUTION``: an nbgrader "autograded answer"
  (``solution: true``), which nbgrader blanks into ``# YOUR CODE HERE`` / ``raise NotImplementedError()``.
- Its check is the next code cell that is not a piece, the call ``nnlib.checks.check_*(...)``: an nbgrader
  "autograder test" (``grade: true``, locked), worth one point for each function or class of its pieces that
  the call tests (``check_layer(MyLinear, ...)`` and ``check_layer(MyReLU)``: 2 points). A check may test
  several pieces (two piece cells in a row).
- Grade ids are stable: the notebook's number and the first name the piece defines that its check tests
  (``03-softmax``); the check's is its first piece's id with ``-check`` (``03-softmax-check``).

Only ``cell.metadata["nbgrader"]`` changes: a cell that is neither a piece nor a check loses that key, and
nothing else in the file (sources, outputs, ids, other metadata) is touched.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
BEGIN = "### BEGIN SOLUTION"
CHECK = re.compile(r"\bnnlib\.checks\.check_\w+\(")
SCHEMA = 3  # nbgrader's cell-metadata schema (nbgrader 0.6 and later)


def _defined(source: str) -> list[str]:
    """The functions and classes a cell defines at top level, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _read(source: str) -> set:
    """The names a cell reads (the check's arguments)."""
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def meta(grade_id: str, *, piece: bool, points: int = 0) -> dict:
    """nbgrader's metadata for a piece (an autograded answer) or a check (an autograder test)."""
    if piece:
        return {
            "grade": False,
            "grade_id": grade_id,
            "locked": False,
            "schema_version": SCHEMA,
            "solution": True,
            "task": False,
        }
    return {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": SCHEMA,
        "solution": False,
        "task": False,
    }


def plan(nb, number: str) -> dict:
    """{cell index: its nbgrader metadata} for the pieces and checks of a notebook (``number``: "03")."""
    wanted, pending, ids = {}, [], set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source:
            pending.append(i)
            continue
        if not pending:
            continue
        if not CHECK.search(cell.source):
            raise ValueError(
                f"{number}: the piece in cell {pending[0]} is not followed by a check "
                f"(cell {i} does not call nnlib.checks.check_*)"
            )
        tested, points, first = _read(cell.source), 0, None
        for j in pending:
            names = _defined(nb.cells[j].source)
            used = [n for n in names if n in tested]
            points += len(used)
            grade_id = f"{number}-{(used or names or [f'cell{j}'])[0]}"
            if grade_id in ids:
                raise ValueError(f"{number}: two pieces would get the grade id {grade_id}")
            ids.add(grade_id)
            wanted[j] = meta(grade_id, piece=True)
            first = first or grade_id
        wanted[i] = meta(f"{first}-check", piece=False, points=max(points, 1))
        pending = []
    if pending:
        raise ValueError(f"{number}: the piece in cell {pending[0]} has no check after it")
    return wanted


def stamp(nb, number: str) -> bool:
    """Put the current nbgrader metadata into ``nb`` (in place); True if anything changed."""
    wanted, changed = plan(nb, number), False
    for i, cell in enumerate(nb.cells):
        if i in wanted and cell.metadata.get("nbgrader") != wanted[i]:
            cell.metadata["nbgrader"] = wanted[i]
            changed = True
        elif i not in wanted and "nbgrader" in cell.metadata:
            del cell.metadata["nbgrader"]
            changed = True
    return changed


def _without_nbgrader(text: str) -> dict:
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def stamp_file(path: Path, write: bool = True) -> bool:
    """Stamp one notebook file; True if it lacked its current metadata (written only if ``write``)."""
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    if not stamp(nb, path.name[:2]):
        return False
    if write:
        new = nbformat.writes(nb) + "\n"
        # the promise: nothing but the nbgrader metadata differs
        assert _without_nbgrader(new) == _without_nbgrader(text), f"{path.name}: more than the metadata changed"
        path.write_text(new, encoding="utf-8")
    return True


def course_notebooks(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the metadata is current")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to stamp (default: the course's)")
    args = parser.parse_args(argv)
    stale = [p for p in args.notebooks or course_notebooks() if stamp_file(p, write=not args.check)]
    if args.check:
        if stale:
            print(
                f"nbgrader metadata out of date: {', '.join(p.name for p in stale)}; "
                f"run python notebooks/nbgrader_meta.py"
            )
            return 1
        print("nbgrader metadata is current")
        return 0
    for path in stale:
        print(f"stamped {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
