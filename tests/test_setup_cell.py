"""The notebooks' setup cell, the package name, the version and the README's badges agree with the one URL.

`python notebooks/course_url.py` repairs what these tests find out of step.
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nnlib

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("course_url", ROOT / "notebooks" / "course_url.py")
course_url = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course_url)

NOTEBOOKS = course_url.notebooks(ROOT)
URL, VERSION = course_url.read_url(ROOT), course_url.read_version(ROOT)
FIX = "run `python notebooks/course_url.py`"


def _pyproject():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _first_code_cell(path):
    return next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")


def test_url_and_version_are_kept_in_one_place_each():
    project = _pyproject()["project"]
    assert project["urls"]["Repository"] == URL
    assert project["name"] == "nnlib-course"  # `nnlib` on PyPI is an unrelated package
    assert "version" not in project and project["dynamic"] == ["version"]
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nnlib.__version__"}
    assert nnlib.__version__ == VERSION
    assert "nnlib-course[notebooks]" in project["optional-dependencies"]["dev"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", URL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_is_the_canonical_setup_cell(path):
    cell = _first_code_cell(path)
    assert "".join(cell["source"]) == course_url.setup_cell(URL, VERSION), f"{path.name}: {FIX}"
    assert cell["outputs"] == [], "the setup cell's stored output must be empty"


def test_all_first_cells_are_identical():
    assert len({"".join(_first_code_cell(p)["source"]) for p in NOTEBOOKS}) == 1


def test_setup_cell_names_the_release_and_explains_a_placeholder():
    cell = course_url.setup_cell(URL, VERSION)
    assert f'COURSE_REPO = "{URL}"' in cell and f'RELEASE = "v{VERSION}"' in cell
    assert "Colab" in cell and "Kaggle" in cell and "NNLIB_INSTALL_FROM" in cell
    assert "check=True" not in cell  # a failure explains itself, never a CalledProcessError
    if course_url.is_placeholder(URL):
        assert "placeholder" in next(line for line in cell.splitlines() if line.startswith("COURSE_REPO ="))
    assert "placeholder" not in course_url.setup_cell("https://github.com/someone/course", VERSION)


def test_nothing_is_out_of_step():
    assert course_url.planned(ROOT) == {}, FIX


def test_readme_has_a_badge_per_notebook_and_every_badge_agrees_with_the_url():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    owner, repo = URL.split("/")[-2:]
    for path in NOTEBOOKS:
        assert course_url.badges(URL, VERSION, path.name) in readme, f"no badges for {path.name}: {FIX}"
        student = f"student/{path.name}"  # the student copy (For teachers) opens the same way
        assert course_url.badges(URL, VERSION, student) in readme, f"no badges for {student}: {FIX}"
    assert course_url.binder_badge(URL, VERSION) in readme
    for readme_path in course_url.readmes(ROOT):
        text = readme_path.read_text(encoding="utf-8")
        links = re.findall(r"https://colab\.research\.google\.com/github/([^/]+)/([^/]+)/blob/([^/]+)/", text)
        links += re.findall(r"https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/([^/?)]+)", text)
        links += re.findall(r"welcome\?src=https://github\.com/([^/]+)/([^/]+)/blob/([^/]+)/", text)
        links += re.findall(r"git\+https://github\.com/(?!YOU/)([^/]+)/([^/@]+)@(v[\d.]+)", text)
        assert links, readme_path.name
        assert set(links) == {(owner, repo, f"v{VERSION}")}, f"{readme_path.name}: {FIX}"


def _copy_project(tmp_path):
    for rel in [
        "pyproject.toml",
        "nnlib/__init__.py",
        "README.md",
        "CITATION.cff",
        *[f"notebooks/{p.name}" for p in NOTEBOOKS],
    ]:
        if (ROOT / rel).exists():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path


def test_script_repoints_everything_touches_nothing_else_and_is_idempotent(tmp_path):
    root = _copy_project(tmp_path)
    before = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in course_url.notebooks(root)}
    new = "https://github.com/a-teacher/nn-course"
    assert course_url.main(["--url", new + ".git"], root) == 0
    assert course_url.read_url(root) == new
    assert course_url.planned(root) == {}  # a second run changes nothing
    assert course_url.main(["--check"], root) == 0
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert URL not in readme and f"colab.research.google.com/github/a-teacher/nn-course/blob/v{VERSION}/" in readme
    assert f'repository-code: "{new}"' in (root / "CITATION.cff").read_text(encoding="utf-8")
    for path in course_url.notebooks(root):
        after = json.loads(path.read_text(encoding="utf-8"))
        old = before[path.name]
        code = [i for i, c in enumerate(after["cells"]) if c["cell_type"] == "code"]
        assert f'COURSE_REPO = "{new}"' in "".join(after["cells"][code[0]]["source"])
        after["cells"][code[0]]["source"] = old["cells"][code[0]]["source"]
        assert after == old, f"{path.name}: only the first code cell's source may change"
    # A version bump reaches every first cell and badge; --check reports it first.
    init = root / "nnlib" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{VERSION}"', '"9.8.7"'))
    assert course_url.main(["--check"], root) == 1
    course_url.main([], root)
    assert 'RELEASE = "v9.8.7"' in "".join(_first_code_cell(course_url.notebooks(root)[0])["source"])
    assert f"v{VERSION}" not in (root / "README.md").read_text(encoding="utf-8")
    assert 'version: "9.8.7"' in (root / "CITATION.cff").read_text(encoding="utf-8")


def test_setup_cell_does_nothing_where_nnlib_imports():
    """Case (a), the repository's own runs (nbval): no output at all, so stored outputs match on every machine."""
    cell = course_url.setup_cell(URL, VERSION)
    run = subprocess.run(
        [sys.executable, "-c", cell + "\nimport nnlib"],
        cwd=ROOT / "notebooks",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
