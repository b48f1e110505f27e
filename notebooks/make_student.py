"""Build the student copies of the notebooks: the learner's pieces blanked, exercise solutions removed.

    python notebooks/make_student.py            # writes notebooks/student/NN_topic.ipynb for every notebook
    python notebooks/make_student.py --check    # exit 1 if any student copy is not what this script makes

Run it after editing a notebook (and commit what it writes); a test keeps the copies in step.

In the complete notebooks (``notebooks/NN_topic.ipynb``) each piece the learner writes stands between
nbgrader's markers, so a teacher can move to nbgrader or otter-grader later with nothing to redo::

    def softmax(Z):
        ### BEGIN SOLUTION
        shifted = Z - Z.max(axis=1, keepdims=True)
        ...
        ### END SOLUTION

In a student copy:

- the lines between the markers become ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the
  markers' indentation;
- every cell tagged ``solution`` (an exercise's solution, markdown or code) is removed;
- the stored outputs of the cells that depend on a blanked piece are cleared: the cell holding it, and
  every later code cell that reads a name the piece defines, or a name defined or changed from one
  (followed statement by statement through the notebook, see ``follow``); a name rebound from elsewhere
  (``from nnlib import softmax``) is clean again; other outputs (data, pictures that use only nnlib) stay;
- the checks stay: run on a stub, they say "not implemented yet";
- each "Check your understanding" question (``**Q1.** ...``) loses its folded answer (``<details><summary>Answer
  </summary> ... </details>``) and gets an empty markdown cell under it, ``*Your answer:*``, with nbgrader's
  metadata for a manually graded answer (grade id ``NN-qN``, 1 point); the course notebooks keep the answers.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
QUESTION = re.compile(r"\*\*Q(\d+)\.\*\*")  # a question starts "**Q1.**"
ANSWER = re.compile(r"\s*<details><summary>Answer</summary>.*?</details>", re.S)
INTRO = (" before you open its answer.", ", in the cell below it.")  # the section's first line, reworded


def blank(source: str) -> tuple[str, str]:
    """(source with every marked block replaced by the stub, the removed solution code)."""
    out, removed, inside, indent = [], [], False, ""
    for number, line in enumerate(source.splitlines(), start=1):
        mark = line.strip()
        if mark == BEGIN:
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [indent + STUB[0], indent + STUB[1]]
        elif mark == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif inside:
            removed.append(line)
        else:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out), "\n".join(removed)


def _names(tree) -> tuple[set, set]:
    """(names a piece of code reads, names it binds), at any depth; a comprehension's variables are its own."""
    reads, binds, own = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            own |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Name):
            (binds if isinstance(node.ctx, (ast.Store, ast.Del)) else reads).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update((a.asname or a.name).split(".")[0] for a in node.names)
    return reads - own, binds - own


def _parse(source: str):
    # IPython magics and shell escapes are not Python: drop those lines for the name analysis only.
    return ast.parse("\n".join(l for l in source.splitlines() if not re.match(r"\s*[%!]", l)))


def _solution_lines(source: str) -> set:
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
        if inside:
            lines.add(number)
    return lines


def _stored(node) -> set:
    """Names whose contents a statement changes without rebinding them: ``x[i] = ...``, ``x.a += ...``."""
    names = set()
    for sub in ast.walk(node):
        targets = (
            sub.targets
            if isinstance(sub, ast.Assign)
            else [sub.target]
            if isinstance(sub, (ast.AugAssign, ast.AnnAssign))
            else []
        )
        for target in targets:
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
                if isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def follow(source: str, tainted: set, solution_lines=frozenset()) -> tuple[bool, set]:
    """Follow one cell's top-level statements in order: (does the cell depend on a blanked piece, tainted after it).

    A statement depends on a piece if it holds marked lines (``solution_lines``), reads a tainted name, or
    comes after such a statement in the same cell (``t = time.perf_counter() - start`` after the call);
    the names it binds or changes then become tainted. A statement that does not depend on one cleans
    the names it rebinds (``from nnlib import softmax`` after the learner's softmax). Imports never
    depend on the learner's code.
    """
    tainted, depends = set(tainted), False
    for node in _parse(source).body:
        reads, binds = _names(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local = binds | {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            reads, binds = reads - local, {node.name}  # its locals and arguments stay local
        marked = bool(solution_lines & set(range(node.lineno, node.end_lineno + 1)))
        # after a dependent statement, the rest of the cell runs after the learner's code: what it binds may
        # reflect it (a time measured around the call), so it is tainted too
        if not isinstance(node, (ast.Import, ast.ImportFrom)) and (marked or depends or reads & tainted):
            depends = True
            tainted |= binds | _stored(node)
        else:
            tainted -= binds
    return depends, tainted


def answer_cell(question, grade_id: str):
    """The learner's empty answer under a question: for nbgrader, a manually graded answer worth 1 point."""
    cell = nbformat.v4.new_markdown_cell(
        "*Your answer:*",
        metadata={
            "nbgrader": {
                "grade": True,
                "grade_id": grade_id,
                "locked": False,
                "points": 1,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
        },
    )
    if "id" in question:
        cell.id = f"{question.id}-answer"[:64]  # stable, so that a rebuilt copy has the same bytes
    else:
        del cell["id"]  # a notebook older than nbformat 4.5 has no cell ids
    return cell


def without_answers(cells, number: str = "") -> list:
    """``cells`` with each question's folded answer replaced by an empty answer cell (cells are changed in place).

    ``number`` ("03") prefixes the grade ids: ``03-q1``.
    """
    out = []
    for cell in cells:
        out.append(cell)
        if cell.cell_type != "markdown":
            continue
        question = QUESTION.match(cell.source)
        if question and ANSWER.search(cell.source):
            cell.source = ANSWER.sub("", cell.source).rstrip()
            out.append(answer_cell(cell, f"{number}-q{question[1]}" if number else f"q{question[1]}"))
        elif cell.source.startswith("## Check your understanding"):
            cell.source = cell.source.replace(*INTRO)
    return out


def student_copy(nb, number: str = ""):
    """The student version of a notebook (a new object; ``nb`` is not changed); ``number``: its "NN"."""
    nb = copy.deepcopy(nb)
    cells, tainted, solutions = [], set(), []
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            solutions.append(cell.source)
            continue
        if cell.cell_type == "code":
            source, removed = blank(cell.source)
            stubbed = source != cell.source
            if stubbed:
                solutions.append(removed)
            depends, tainted = follow(cell.source, tainted, _solution_lines(cell.source))
            if stubbed or depends:
                cell.source = source
                cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = without_answers(cells, number)
    nb.metadata.pop("widgets", None)
    return nb, solutions


def build(notebooks, out_dir: Path) -> list[Path]:
    out_dir.mkdir(exist_ok=True)
    written = []
    for path in notebooks:
        nb, _ = student_copy(nbformat.read(path, as_version=4), path.name[:2])
        target = out_dir / path.name
        text = nbformat.writes(nb) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def course_notebooks(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the student copies are current")
    args = parser.parse_args(argv)
    out_dir = HERE / "student"
    if args.check:
        stale = []
        for path in course_notebooks():
            nb, _ = student_copy(nbformat.read(path, as_version=4), path.name[:2])
            target = out_dir / path.name
            if not target.exists() or target.read_text(encoding="utf-8") != nbformat.writes(nb) + "\n":
                stale.append(target.name)
        if stale:
            print(f"student copies out of date: {', '.join(stale)}; run python notebooks/make_student.py")
            return 1
        print("student copies are current")
        return 0
    for target in build(course_notebooks(), out_dir):
        print(target.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
