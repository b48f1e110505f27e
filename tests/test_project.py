"""Checks on the project itself: environments in step, notebooks stored as one clean run."""

import importlib.util
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
        if name not in ("browser", "teacher", "release"):  # CI's and the teacher's tools: not the learners'
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


_spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "notebooks" / "check_notebooks.py")
check_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_notebooks)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_one_clean_run(path):
    """notebooks/check_notebooks.py (also a pre-commit hook): one run, no stored error, path or address."""
    assert check_notebooks.problems(path) == []


@pytest.mark.parametrize(
    "damage, found",
    [
        (lambda nb: nb["cells"][2].update(execution_count=7), "not one clean run"),
        (
            lambda nb: nb["cells"][2]["outputs"].append(
                {"output_type": "error", "ename": "ValueError", "evalue": "", "traceback": []}
            ),
            "a stored error, ValueError",
        ),
        (
            lambda nb: nb["cells"][2]["outputs"].append(
                {"output_type": "stream", "name": "stdout", "text": "<Model object at 0x7f3a2b1c9d30>"}
            ),
            "memory address",
        ),
        (
            lambda nb: nb["cells"][2]["outputs"].append(
                {"output_type": "stream", "name": "stdout", "text": "/home/ada/mnist"}
            ),
            "local path",
        ),
    ],
)
def test_the_notebook_checker_finds_each_problem(tmp_path, damage, found):
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    nb["cells"] = code[:3]
    for number, cell in enumerate(nb["cells"], start=1):
        cell["execution_count"] = number
    path = tmp_path / "00_x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert check_notebooks.problems(path) == []
    damage(nb)
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert any(found in problem for problem in check_notebooks.problems(path))


def test_every_name_a_module_exports_exists():
    """`from nnlib.losses import *` must not fail: each module's __all__ names only what it defines."""
    import importlib
    import pkgutil

    import nnlib

    modules = ["nnlib", *(f"nnlib.{m.name}" for m in pkgutil.iter_modules(nnlib.__path__))]
    modules += [f"nnlib.checks.{m.name}" for m in pkgutil.iter_modules(nnlib.checks.__path__)]
    for name in modules:
        module = importlib.import_module(name)
        missing = [n for n in getattr(module, "__all__", []) if not hasattr(module, n)]
        assert not missing, f"{name}.__all__ names {missing}, which it does not define"
