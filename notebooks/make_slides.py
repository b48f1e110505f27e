"""Give the course notebooks slide metadata, and build reveal.js slides from them.

    python notebooks/make_slides.py                  # stamp every notebooks/NN_topic.ipynb (only what differs)
    python notebooks/make_slides.py --check          # change nothing; exit 1 if a notebook's slide types are not current
    python notebooks/make_slides.py --build slides   # write slides/NN_topic.slides.html for every notebook
    python notebooks/make_slides.py --build slides 03 04   # ... for some of them

Stamping sets ``cell.metadata["slideshow"] = {"slide_type": ...}`` in every cell and touches nothing else: the file
is read and written as JSON in the form nbformat and Jupyter write it, so the only lines that change are those of
that key (a notebook not in that form is refused rather than reformatted). Running it again changes nothing.

The rule, from the cell's kind, tags and place only (so a notebook edited later is stamped the same way):

- ``slide`` (a new slide, left to right): the title cell (the first cell) and every markdown cell that holds a
  ``## `` heading: one slide per numbered section, "Check your understanding", "Exercises", "Summary" (a cell
  that ends one section with a paragraph and then opens the next goes with the next);
- ``skip`` (left out of the slides): the setup cell (the first code cell, which installs nnlib on Colab), every
  cell tagged ``solution``, and every cell from a "## Solutions" heading to the next ``## `` heading: the slides
  are shown in class, the solutions are not;
- ``subslide`` (a new slide below its section's, top to bottom): every other markdown cell (a ``### `` heading,
  a paragraph of explanation, a question with its folded answer), and a code cell that follows another code
  cell, so that a run of code cells (a piece, its check, a plot) is spread over a few slides instead of one
  long one;
- ``-`` (on the slide above it): a code cell that follows a markdown cell, shown with the text that introduces it.

So a section reads as its heading slide and one slide per paragraph of text or extra code cell, and long
slides scroll (``--build`` turns reveal.js's scrolling on).

``--build OUTDIR`` converts the stamped notebooks (stamped in memory: the files are not written) with
nbconvert's slides exporter, without executing them: the stored outputs are shown, and so is the code, since
the course is about the code. The HTML loads reveal.js from a CDN when it is opened; building needs no network.
Open ``OUTDIR/NN_topic.slides.html`` in a browser (arrows move, ``Esc`` shows the overview, ``s`` the notes).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLIDE, SUBSLIDE, SAME, SKIP = "slide", "subslide", "-", "skip"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _sections(cell) -> list[str]:
    """The titles of the ``## `` headings in a markdown cell, in order, outside code blocks."""
    if cell.get("cell_type") != "markdown":
        return []
    titles, fenced = [], False
    for line in _source(cell).split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            titles.append(line[3:].strip())
    return titles


def is_setup_cell(cell) -> bool:
    """The setup cell: every notebook's first code cell (it sets the notebook up for Colab and Kaggle)."""
    return cell.get("cell_type") == "code" and "Colab" in _source(cell)


def slide_types(cells) -> list[str]:
    """The slide type of every cell, by the rule in this module's docstring."""
    types, previous, in_solutions, seen_code = [], None, False, False
    for index, cell in enumerate(cells):
        kind, sections = cell.get("cell_type"), _sections(cell)
        if sections:
            in_solutions = sections[-1].lower().startswith("solution")
        if (
            in_solutions
            or "solution" in cell.get("metadata", {}).get("tags", [])
            or (kind == "code" and not seen_code and is_setup_cell(cell))
        ):
            kind_of = SKIP
        elif index == 0 or sections:
            kind_of = SLIDE
        elif kind == "markdown":
            kind_of = SUBSLIDE
        elif previous == "code":
            kind_of = SUBSLIDE
        else:
            kind_of = SAME
        seen_code = seen_code or kind == "code"
        if kind_of != SKIP:
            previous = kind
        types.append(kind_of)
    return types


def stamp(nb: dict) -> tuple[dict, int]:
    """(a copy of the notebook JSON with every cell's slide type set, how many cells changed)."""
    nb = copy.deepcopy(nb)
    changed = 0
    for cell, kind in zip(nb["cells"], slide_types(nb["cells"])):
        wanted = {"slide_type": kind}
        metadata = cell.setdefault("metadata", {})
        if metadata.get("slideshow") != wanted:
            metadata["slideshow"] = wanted
            changed += 1
    return nb, changed


def dumps(nb: dict) -> str:
    """JSON text as nbformat and Jupyter write a notebook."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def stamped_text(text: str, name: str = "notebook") -> tuple[str, int]:
    """(the notebook's text with current slide metadata, how many cells changed); refuses a non-canonical text."""
    nb = json.loads(text)
    if dumps(nb) != text:
        raise ValueError(
            f"{name} is not stored as nbformat writes it; open and save it in Jupyter (or run "
            "notebooks/execute.py) first, so that stamping changes only the slide metadata"
        )
    new, changed = stamp(nb)
    return dumps(new), changed


def course_notebooks(folder: Path = HERE, names=()) -> list[Path]:
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in names)]
        if not paths:
            raise SystemExit(f"no notebook in {folder} starts with {', '.join(names)}")
    return paths


def stale(paths) -> list[Path]:
    """The notebooks whose slide metadata is not what ``stamp`` would write."""
    return [p for p in paths if stamp(json.loads(p.read_text(encoding="utf-8")))[1]]


def build(paths, out_dir: Path) -> list[Path]:
    """Write OUT_DIR/NN_topic.slides.html for every notebook (stamped in memory, not executed)."""
    import nbformat
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.reveal_scroll = True  # a long slide scrolls instead of being cut off
    exporter = SlidesExporter(config=config)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = nbformat.reads(dumps(stamp(json.loads(path.read_text(encoding="utf-8")))[0]), as_version=4)
        html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        target = out_dir / f"{path.stem}.slides.html"
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written


def main(argv=None, folder: Path = HERE) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("names", nargs="*", help="notebook numbers or names (default: all), e.g. 03 04")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook is not stamped")
    what.add_argument("--build", metavar="OUTDIR", type=Path, help="write reveal.js slides into OUTDIR (no stamping)")
    args = parser.parse_args(argv)
    paths = course_notebooks(folder, args.names)
    if args.check:
        old = stale(paths)
        if old:
            print(f"slide metadata out of date: {', '.join(p.name for p in old)}; run python notebooks/make_slides.py")
            return 1
        print(f"slide metadata is current in {len(paths)} notebook(s)")
        return 0
    if args.build:
        for target in build(paths, args.build):
            print(target)
        return 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new, changed = stamped_text(text, path.name)
        if new != text:
            path.write_text(new, encoding="utf-8")
        print(f"{path.name}: {changed} cell(s) stamped" if changed else f"{path.name}: current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
