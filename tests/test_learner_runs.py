"""A learner who changes a seed is warned and the notebook goes on; `pytest --nbval` with the same change fails.

A notebook with one training check is stored as a clean run at seed 0, then its seed is changed to 1 in
the source (the stored outputs stay those of seed 0), as a learner trying things would. Run by hand (no
NNLIB_STRICT_CHECKS), the check prints a warning and the last cell still runs. Under `pytest --nbval`, with
the project's conftest.py and nothing else setting the variable, the same notebook fails on that check.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient


ROOT = Path(__file__).resolve().parents[1]

TRAIN = """\
import numpy as np
import nnlib
SEED = {seed}
rng = np.random.default_rng(SEED)
X = rng.normal(size=(200, 4)).astype(np.float32)
y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
model = nnlib.mlp([4, 8, 2], rng=SEED)
nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, batch_size=20, rng=SEED, verbose=False)
acc = nnlib.evaluate(model, X, y)[1]
"""


def accuracy(seed):
    scope = {}
    exec(TRAIN.format(seed=seed), scope)
    return scope["acc"]


def notebook(seed, band_centre):
    cells = [
        nbformat.v4.new_code_cell(
            TRAIN.format(seed=seed) + f'nnlib.expect_near("accuracy", acc, {band_centre!r}, 0.0001, percent=True)'
        ),
        nbformat.v4.new_code_cell('print("finished")'),
    ]
    cells[0].metadata["tags"] = ["nbval-ignore-output"]
    return nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )


def execute(nb, workdir, strict):
    env_before = os.environ.pop("NNLIB_STRICT_CHECKS", None)
    if strict:
        os.environ["NNLIB_STRICT_CHECKS"] = "1"
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        os.environ.pop("NNLIB_STRICT_CHECKS", None)
        if env_before is not None:
            os.environ["NNLIB_STRICT_CHECKS"] = env_before
    return nb


def pytest_nbval(path):
    env = {k: v for k, v in os.environ.items() if k != "NNLIB_STRICT_CHECKS"}  # conftest.py alone sets it
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", path.name],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def text_of(cell, stream):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == stream)


@pytest.fixture(scope="module")
def stored_and_changed(tmp_path_factory):
    work = tmp_path_factory.mktemp("learner")
    shutil.copy(ROOT / "conftest.py", work / "conftest.py")  # the project's own, as in the repository
    centre = float(accuracy(0))
    assert abs(accuracy(1) - centre) > 0.001, "seed 1 must move the result out of the narrow band"
    stored = execute(notebook(0, centre), work, strict=False)  # the stored clean run
    changed = notebook(1, centre)
    for mine, theirs in zip(changed.cells, stored.cells):  # the learner edits the source only
        mine.outputs, mine.execution_count = theirs.outputs, theirs.execution_count
    return work, stored, changed


def test_the_stored_run_passes_by_hand_and_under_pytest(stored_and_changed):
    work, stored, _ = stored_and_changed
    assert text_of(stored.cells[0], "stdout").endswith("): ok\n")
    path = work / "stored.ipynb"
    nbformat.write(stored, path)
    result = pytest_nbval(path)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_learner_who_changes_the_seed_is_warned_and_goes_on(stored_and_changed):
    work, _, changed = stored_and_changed
    ran = execute(nbformat.from_dict(changed), work, strict=False)  # no exception: every cell runs
    assert "outside (see the warning below)" in text_of(ran.cells[0], "stdout")
    assert text_of(ran.cells[0], "stderr").startswith("Warning: accuracy = ")
    assert text_of(ran.cells[1], "stdout") == "finished\n"


def test_the_regression_run_with_the_same_change_fails(stored_and_changed):
    work, _, changed = stored_and_changed
    path = work / "changed.ipynb"
    nbformat.write(changed, path)
    result = pytest_nbval(path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "ExpectationFailed" in result.stdout and "accuracy" in result.stdout


def test_without_the_projects_conftest_a_pytest_run_only_warns(stored_and_changed, tmp_path):
    # the strictness comes from conftest.py (nothing else sets it): remove it and the cell passes, with a warning
    _, _, changed = stored_and_changed
    path = tmp_path / "changed.ipynb"
    nbformat.write(changed, path)
    assert not (tmp_path / "conftest.py").exists()
    result = pytest_nbval(path)
    assert result.returncode == 0, result.stdout[-3000:]
