"""Checks on the project itself: environments in step, notebooks stored as one clean run."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ]", req, maxsplit=1)[0].lower()


def _pyproject():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_deps():
    deps, in_deps = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and re.match(r"^  - [^:]+$", line):
            deps.append(line[4:].strip())
    return deps


def test_environment_yml_matches_pyproject():
    project = _pyproject()["project"]
    wanted = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name not in ("browser", "teacher", "release"):   # CI's and the teacher's tools: not the learners'
            wanted += [r for r in extra if not r.startswith("nnlib")]
    conda = {_name(d): d.replace(" ", "") for d in _conda_deps()}
    for req in wanted:
        assert _name(req) in conda, f"{req} is in pyproject.toml but not in environment.yml"
        assert conda[_name(req)] == req.replace(" ", ""), f"versions differ: {req} vs {conda[_name(req)]}"
    assert "-e ." in (ROOT / "environment.yml").read_text()
    assert project["requires-python"] == ">=3.10" and conda["python"].startswith("python>=3.10")


def test_pytest_config_runs_notebooks_with_nbval():
    cfg = _pyproject()["tool"]["pytest"]["ini_options"]
    assert cfg["testpaths"] == ["tests", "notebooks"]
    assert "--nbval-current-env" in cfg["addopts"] and "--nbval-sanitize-with" in cfg["addopts"]
    assert not any("ipywidgets>=8" in r for r in sum(_pyproject()["project"]["optional-dependencies"].values(), []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_one_clean_run(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), \
        "re-execute with `python notebooks/execute.py`"
    for c in code:
        tags = c.get("metadata", {}).get("tags", [])
        errors = [o for o in c["outputs"] if o["output_type"] == "error"]
        assert not errors or "raises-exception" in tags, f"stored error output: {errors[0]['ename']}"
    assert re.search(r"/(root|home|tmp|Users)/[A-Za-z]", json.dumps(nb)) is None, "an output holds a local path"
    assert "Colab" in "".join(code[0]["source"]), "the first cell must set the notebook up for Colab and Kaggle"
