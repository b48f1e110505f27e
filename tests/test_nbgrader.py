"""Grading with nbgrader: notebooks/nbgrader_meta.py's metadata and teacher/nbgrader_config.py, a round trip.

A course folder in tmp_path gets the config and notebook 03 (the fastest to run with pieces: about 15 s),
stamped with its metadata. nbgrader releases it, then grades two submissions: the released notebook with the
course's solutions put back into its pieces (every check must get its points) and the released notebook as
handed out (every check must get 0, since NNLIB_GRADING=1 makes a check of a stub raise). The notebook reads
MNIST: the subprocesses inherit NNLIB_DATA_DIR (CI sets it).
"""

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "03_activations_softmax_loss"
ASSIGNMENT = "nn03"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "notebooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nbgrader_meta = _module("nbgrader_meta")
make_student = _module("make_student")


# ---- the metadata (no nbgrader needed) ----------------------------------------------------------------------
def test_every_piece_and_its_check_get_stable_unique_ids_and_points():
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    nbgrader_meta.stamp(nb, "03")
    stamped = [
        (c.metadata["nbgrader"]["grade_id"], c.metadata["nbgrader"].get("points"), c.metadata["nbgrader"])
        for c in nb.cells
        if "nbgrader" in c.metadata
    ]
    assert [(i, p) for i, p, _ in stamped] == [
        ("03-sigmoid", None),
        ("03-sigmoid-check", 1),
        ("03-softmax", None),
        ("03-softmax-check", 1),
        ("03-cross_entropy", None),
        ("03-cross_entropy-check", 1),
        ("03-saturation_point", None),  # the exercises' answers, checked by check_exercise
        ("03-saturation_point-check", 1),
        ("03-shift_and_scale", None),
        ("03-shift_and_scale-check", 1),
        ("03-flipped_rel_error", None),
        ("03-flipped_rel_error-check", 1),
    ]
    for i, cell in enumerate(nb.cells):
        if "nbgrader" in cell.metadata:
            piece = make_student.BEGIN in cell.source
            assert cell.metadata["nbgrader"]["solution"] is piece and cell.metadata["nbgrader"]["grade"] is not piece
            assert cell.metadata["nbgrader"]["locked"] is not piece
            if not piece:
                assert "nnlib.checks.check_" in cell.source and make_student.BEGIN in nb.cells[i - 1].source
    assert not nbgrader_meta.stamp(nb, "03")  # stamping again changes nothing


def test_the_course_notebooks_carry_their_current_metadata():
    """Stamped and committed (python notebooks/nbgrader_meta.py), so nbgrader can run on them as they are."""
    assert nbgrader_meta.main(["--check"]) == 0


def test_a_check_of_two_pieces_counts_each_function_it_tests():
    cells = [
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell(
            "def helper():\n    pass\n\ndef g(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("nnlib.checks.check_pair(f, g)"),
        nbformat.v4.new_code_cell("print('after')", metadata={"nbgrader": {"grade_id": "stale"}}),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nbgrader_meta.stamp(nb, "07")
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells] == ["07-f", "07-g", "07-f-check", None]
    assert nb.cells[2].metadata["nbgrader"]["points"] == 2  # f and g; helper is not tested
    nb.cells.pop(2)  # a piece with no check is an error
    with pytest.raises(ValueError, match="not followed by a check"):
        nbgrader_meta.stamp(nb, "07")


def test_stamping_a_file_changes_only_the_nbgrader_metadata_and_check_mode_reports(tmp_path):
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    shutil.copy(ROOT / "notebooks" / path.name, path)
    for cell in (nb := nbformat.read(path, as_version=4)).cells:  # start from a notebook without metadata
        cell.metadata.pop("nbgrader", None)
    nbformat.write(nb, path)
    before = path.read_text(encoding="utf-8")
    assert nbgrader_meta.main(["--check", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == before  # --check writes nothing
    assert nbgrader_meta.main([str(path)]) == 0
    after = path.read_text(encoding="utf-8")
    assert nbgrader_meta.main(["--check", str(path)]) == 0
    old, new = nbformat.reads(before, as_version=4), nbformat.reads(after, as_version=4)
    assert sum("nbgrader" in c.metadata for c in new.cells) == 12
    for cell in new.cells:
        cell.metadata.pop("nbgrader", None)
    assert new == old  # sources, outputs, ids, other metadata
    # and the text: only the metadata's lines are added, and only an empty "metadata": {} opened up
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert set(removed) <= {'   "metadata": {},'}, removed
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert all(
        any(
            k in line
            for k in (
                '"nbgrader"',
                '"grade',
                '"locked"',
                '"points"',
                '"schema_version"',
                '"solution"',
                '"task"',
                "}",
                '"metadata": {',
            )
        )
        for line in added
    ), added


# ---- the round trip through nbgrader -----------------------------------------------------------------------
def _nbgrader(course: Path, *args: str):
    # nbgrader runs `alembic` from its environment's bin (a virtual environment that is not activated)
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    env.pop("NNLIB_GRADING", None)  # the config must set it, not the test
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[teacher]'")
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "teacher" / "nbgrader_config.py", course / "nbgrader_config.py")
    source = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    nbgrader_meta.stamp(source, "03")
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source, course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)

    # two submissions: the pieces solved (the course's own code put back), and the released notebook untouched
    solved = copy.deepcopy(release)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
    for cell in solved.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = solutions[cell.metadata["nbgrader"]["grade_id"]]
    for student, nb in (("solved", solved), ("untouched", release)):
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    _nbgrader(course, "autograde", ASSIGNMENT, "--create")

    from nbgrader.api import Gradebook

    checks = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]  # {check's id: points}
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("solved", "untouched"):
            for grade_id in checks:
                grade = gradebook.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student)
                scores[student, grade_id] = (grade.score, grade.max_score)
    return {"source": source, "release": release, "checks": checks, "scores": scores}


def test_the_solved_notebook_gets_every_point(graded):
    assert len(graded["checks"]) == 6  # three pieces, three exercises
    for grade_id, points in graded["checks"].items():
        assert graded["scores"]["solved", grade_id] == (points, points), grade_id


def test_the_untouched_student_notebook_gets_zero_for_every_piece(graded):
    for grade_id, points in graded["checks"].items():
        assert graded["scores"]["untouched", grade_id] == (0, points), grade_id


def test_the_released_notebook_is_the_student_copy(graded):
    """nbgrader's release has make_student's stubs, no exercise solutions, no answers, and the answer cells."""
    student, _ = make_student.student_copy(graded["source"], "03")
    release = graded["release"]
    assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in student.cells]
    pieces = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert len(pieces) == 6 and all(make_student.STUB[1] in c.source for c in pieces)
    answers = [
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert answers == ["03-q1", "03-q2", "03-q3", "03-q4"]
    assert "<summary>Answer</summary>" not in nbformat.writes(release)
