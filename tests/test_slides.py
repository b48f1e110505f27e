"""The slide maker (notebooks/make_slides.py): its rule, on a small notebook made here and on copies of the
course's notebooks; that it touches only the slide metadata; that nbconvert builds reveal.js slides from it;
and that the course notebooks carry current slide metadata (fix: ``python notebooks/make_slides.py``)."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_slides", ROOT / "notebooks" / "make_slides.py")
make_slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_slides)

COURSE = make_slides.course_notebooks()
FIX = "run `python notebooks/make_slides.py`, then `python notebooks/make_student.py` (the student copies keep cell metadata)"

SOLUTION = {"tags": ["solution"], "jupyter": {"source_hidden": True}}
# (cell, the slide type the rule gives it)
CELLS = [
    (new_markdown_cell("# 99 · A tiny notebook\n\n**Goals.** After this notebook you can stamp slides."), "slide"),
    (new_code_cell("# Setup (run first). On Colab, Kaggle or anywhere else it installs nnlib."), "skip"),
    (new_code_cell("import numpy as np"), "-"),
    (new_markdown_cell("## 1. The first section\n\nSome text."), "slide"),
    (new_code_cell("def f(x):\n    return 2 * x", metadata={"tags": ["nbval-ignore-output"]}), "-"),
    (new_code_cell("print(f(1))"), "subslide"),
    (new_markdown_cell("### A subsection"), "subslide"),
    (new_code_cell("shown_code_cell = f(2)"), "-"),
    (new_markdown_cell("A paragraph that closes section 1.\n\n## 2. The second section\n\nMore text."), "slide"),
    (new_markdown_cell("Text with code in it:\n\n```python\n## not a heading\n```"), "subslide"),
    (new_markdown_cell("## Check your understanding"), "slide"),
    (new_markdown_cell("**Q1.** Why?\n\n<details><summary>Answer</summary>\n\nBecause.\n\n</details>"), "subslide"),
    (new_markdown_cell("## Exercises\n\n1. Compute f(3)."), "slide"),
    (new_markdown_cell("## Solutions", metadata={"tags": ["solution"]}), "skip"),
    (
        new_markdown_cell(
            "<details><summary>Solution 1</summary>SECRET-SOLUTION-TEXT</details>", metadata=dict(SOLUTION)
        ),
        "skip",
    ),
    (new_code_cell("# Solution 1\nprint('SECRET-SOLUTION-CODE')", metadata=dict(SOLUTION)), "skip"),
    (new_markdown_cell("An untagged note among the solutions: SECRET-NOTE"), "skip"),
    (new_markdown_cell("## Summary\n\n- f doubles."), "slide"),
    (new_code_cell("print('after the summary')"), "-"),
]


def small_notebook():
    nb = new_notebook(
        cells=[cell for cell, _ in CELLS],
        metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    )
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"c{number:02d}"
    return nb


def write(nb, path: Path) -> Path:
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path


def without_slides(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("slideshow", None)
    return nb


def types(path: Path) -> list:
    return [c["metadata"].get("slideshow", {}).get("slide_type") for c in json.loads(path.read_text())["cells"]]


def count_sections(html: str) -> int:
    return len(re.findall(r"<section\b", html))


def test_the_rule_on_a_small_notebook(tmp_path):
    path = write(small_notebook(), tmp_path / "99_tiny.ipynb")
    assert make_slides.main([], folder=tmp_path) == 0
    assert types(path) == [kind for _, kind in CELLS]


def test_stamping_changes_only_the_slide_metadata_and_is_idempotent(tmp_path):
    path = write(small_notebook(), tmp_path / "99_tiny.ipynb")
    before = path.read_text(encoding="utf-8")
    assert make_slides.main(["--check"], folder=tmp_path) == 1
    make_slides.main([], folder=tmp_path)
    once = path.read_text(encoding="utf-8")
    assert once != before
    assert without_slides(json.loads(once)) == json.loads(before)  # nothing else changed ...
    assert make_slides.dumps(json.loads(once)) == once  # ... and the file keeps nbformat's layout
    cells = json.loads(once)["cells"]
    assert cells[4]["metadata"]["tags"] == ["nbval-ignore-output"]  # other metadata kept as it was
    assert cells[15]["metadata"]["jupyter"] == {"source_hidden": True}
    make_slides.main([], folder=tmp_path)
    assert path.read_text(encoding="utf-8") == once  # idempotent
    assert make_slides.main(["--check"], folder=tmp_path) == 0
    # a slide type changed by hand is stale again, and stamping puts it back
    nb = json.loads(once)
    nb["cells"][3]["metadata"]["slideshow"] = {"slide_type": "fragment"}
    path.write_text(make_slides.dumps(nb), encoding="utf-8")
    assert make_slides.main(["--check"], folder=tmp_path) == 1
    make_slides.main([], folder=tmp_path)
    assert path.read_text(encoding="utf-8") == once


def test_a_notebook_not_in_nbformat_layout_is_refused_not_reformatted(tmp_path):
    path = tmp_path / "99_tiny.ipynb"
    path.write_text(json.dumps(small_notebook(), indent=2), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="not stored as nbformat writes it"):
        make_slides.main([], folder=tmp_path)
    assert path.read_text(encoding="utf-8") == text


def test_on_copies_of_the_course_notebooks(tmp_path):
    assert len(COURSE) >= 15
    for source in COURSE:
        shutil.copy(source, tmp_path / source.name)
    make_slides.main([], folder=tmp_path)
    for source in COURSE:
        old, new = source.read_text(encoding="utf-8"), (tmp_path / source.name).read_text(encoding="utf-8")
        assert without_slides(json.loads(new)) == without_slides(json.loads(old)), source.name
        assert make_slides.dumps(json.loads(new)) == new
        cells, kinds = json.loads(new)["cells"], types(tmp_path / source.name)
        assert None not in kinds
        assert kinds[0] == "slide" and cells[0]["source"][0].startswith("# ")
        first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
        assert kinds[first_code] == "skip", f"{source.name}: the setup cell is shown"
        for cell, kind in zip(cells, kinds):
            text = "".join(cell["source"])
            if "solution" in cell["metadata"].get("tags", []):
                assert kind == "skip", f"{source.name}: a solution is shown: {text[:60]!r}"
            elif cell["cell_type"] == "markdown" and re.search(r"^## ", text, re.M):
                assert kind == "slide", f"{source.name}: {text[:60]!r} does not start a slide"
        sections = [k for k in kinds if k == "slide"]
        assert len(sections) >= 5, f"{source.name}: only {len(sections)} slides"
    before = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    make_slides.main([], folder=tmp_path)
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == before
    assert make_slides.main(["--check"], folder=tmp_path) == 0


def _expected_sections(kinds):
    """nbconvert opens a <section> per slide and one per vertical slide (a slide is its own first one)."""
    slides, subslides = kinds.count("slide"), kinds.count("subslide")
    return slides + subslides, 2 * slides + subslides


def test_nbconvert_builds_reveal_slides_from_the_stamped_notebook(tmp_path):
    path = write(small_notebook(), tmp_path / "99_tiny.ipynb")
    make_slides.main([], folder=tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "slides",
            str(path),
            "--output-dir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "99_tiny.slides.html").read_text(encoding="utf-8")
    low, high = _expected_sections(types(path))
    assert low <= count_sections(html) <= high, (count_sections(html), low, high)
    assert "reveal" in html.lower() and "Reveal.initialize" in html
    assert "The first section" in html and "shown_code_cell" in html  # text and code are shown
    for secret in ("SECRET-SOLUTION-TEXT", "SECRET-SOLUTION-CODE", "SECRET-NOTE", "Setup (run first)"):
        assert secret not in html, f"{secret} is on a slide"


def test_build_writes_slides_of_a_course_notebook_without_touching_it(tmp_path):
    source = min(COURSE, key=lambda p: p.stat().st_size)  # the smallest, to keep this fast
    shutil.copy(source, tmp_path / source.name)
    text = (tmp_path / source.name).read_text(encoding="utf-8")
    assert make_slides.main(["--build", str(tmp_path / "slides")], folder=tmp_path) == 0
    assert (tmp_path / source.name).read_text(encoding="utf-8") == text  # built from a stamped copy in memory
    html = (tmp_path / "slides" / f"{source.stem}.slides.html").read_text(encoding="utf-8")
    kinds = [k for k in make_slides.slide_types(json.loads(text)["cells"])]
    low, high = _expected_sections(kinds)
    assert low <= count_sections(html) <= high, (count_sections(html), low, high)
    assert "var scroll = true" in html  # long slides scroll
    assert 'id="Solutions"' not in html and "# Solution 1" not in html


def test_course_notebooks_have_current_slide_metadata():
    """Fails when a course notebook was added or edited after stamping: the fix is in FIX."""
    stale = make_slides.stale(COURSE)
    assert not stale, f"slide metadata out of date in {', '.join(p.name for p in stale)}: {FIX}"
