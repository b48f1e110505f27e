"""nbgrader's settings for grading this course (``pip install "nnlib-course[teacher]"``).

Copy this file into your nbgrader course folder (the folder that holds ``source/``), put a course notebook
(``notebooks/NN_topic.ipynb``, the teacher's edition) under ``source/<assignment>/``, and run nbgrader there:

    nbgrader generate_assignment nn03     # release/nn03/: the pieces blanked, answers and solutions removed
    nbgrader autograde nn03               # grades submitted/<student>/nn03/

- Each piece the learner writes is an autograded answer and the check after it an autograder test (the cell
  metadata notebooks/nbgrader_meta.py stamps). ``NNLIB_GRADING=1`` makes a failed check raise (a stub
  included), so nbgrader scores it 0; the kernels nbgrader starts inherit it from this process.
- The released notebook is the student copy: besides nbgrader's blanking, the exercise solutions (cells
  tagged ``solution``) and the answers to "Check your understanding" are removed, and each question gets an
  empty, manually graded answer cell, exactly as notebooks/make_student.py does.
- The notebooks read MNIST: set ``NNLIB_DATA_DIR`` to a folder holding it (or let nnlib download it).
"""

import importlib.util
import os
import sys
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import NbGraderPreprocessor

c = get_config()  # noqa: F821  (nbgrader's config loader provides it)

# A failed nnlib check raises AssertionError with its hint (nnlib/checks/_core.py): the test cell fails.
os.environ["NNLIB_GRADING"] = "1"

c.CourseDirectory.root = os.getcwd()  # run nbgrader in the course folder (its default, said here)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}  # make_student's stub
c.ClearSolutions.text_stub = "*Your answer:*"
c.ExecutePreprocessor.timeout = 1800  # seconds per cell: notebook 14 trains a CNN for minutes
c.Execute.timeout = 1800


def _make_student():
    """notebooks/make_student.py of the checkout this file or nnlib comes from (None: not a checkout)."""
    places = [Path(__file__).resolve().parents[1]]
    spec = importlib.util.find_spec("nnlib")
    if spec and spec.origin:
        places.append(Path(spec.origin).resolve().parents[1])
    for place in places:
        path = place / "notebooks" / "make_student.py"
        if path.is_file():
            module_spec = importlib.util.spec_from_file_location("make_student", path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            return module
    return None


make_student = _make_student()


class StudentEdition(NbGraderPreprocessor):  # nbgrader's: enabled by default
    """Remove what the learner must not see: the exercise solutions and the folded answers (make_student.py)."""

    def preprocess(self, nb, resources):
        number = Path(resources.get("unique_key", "")).name[:2]  # the notebook's "03"
        cells = [cell for cell in nb.cells if "solution" not in cell.metadata.get("tags", [])]
        nb.cells = make_student.without_answers(cells, number if number.isdigit() else "")
        return nb, resources


if make_student is not None:
    # first, so that nbgrader records the new answer cells in its gradebook (SaveCells)
    defaults = GenerateAssignment.class_traits()["preprocessors"].default()
    c.GenerateAssignment.preprocessors = [StudentEdition, *defaults]
else:
    print(
        "nbgrader_config.py: notebooks/make_student.py not found (nnlib is not a checkout of the course): "
        "the released notebooks keep the exercise solutions and the answers",
        file=sys.stderr,
    )
