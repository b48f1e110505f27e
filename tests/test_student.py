"""The student-copy builder (notebooks/make_student.py), on small notebooks made here."""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_student", ROOT / "notebooks" / "make_student.py")
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)

SOFTMAX = '''import numpy as np

def softmax(Z):
    """Row-wise softmax."""
    ### BEGIN SOLUTION
    shifted = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(shifted)
    return E / E.sum(axis=1, keepdims=True)
    ### END SOLUTION'''


def out(text):
    return [new_output("stream", name="stdout", text=text)]


def course_notebook():
    cells = [
        new_markdown_cell("# Softmax"),
        new_code_cell("import nnlib\nprint('data loaded')", outputs=out("data loaded\n"), execution_count=1),
        new_code_cell(SOFTMAX, execution_count=2),
        new_code_cell(
            "nnlib.checks.check_softmax(softmax);", outputs=out("softmax: 5 checks passed\n"), execution_count=3
        ),
        new_code_cell(
            "P = softmax(np.zeros((2, 3)))\nprint(P.sum(axis=1))", outputs=out("[1. 1.]\n"), execution_count=4
        ),
        new_code_cell("total = P.sum()\nprint(total)", outputs=out("2.0\n"), execution_count=5),
        new_code_cell("print(nnlib.softmax(np.zeros((1, 2))))", outputs=out("[[0.5 0.5]]\n"), execution_count=6),
        new_markdown_cell("**Exercise.** Why subtract the maximum?"),
        new_markdown_cell(
            "<details><summary>Solution</summary>exp(1000) overflows.</details>", metadata={"tags": ["solution"]}
        ),
        new_code_cell(
            "print(softmax(np.array([[1000.0, 0.0]])))",
            metadata={"tags": ["solution"]},
            outputs=out("[[1. 0.]]\n"),
            execution_count=7,
        ),
    ]
    return new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )


def test_blank_keeps_the_indentation_and_returns_what_it_removed():
    source, removed = make_student.blank(SOFTMAX)
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in source
    assert "shifted" not in source and "BEGIN" not in source and "END" not in source
    assert '"""Row-wise softmax."""' in source and "def softmax(Z):" in source
    assert removed.splitlines()[0].strip() == "shifted = Z - Z.max(axis=1, keepdims=True)"
    compile(source, "cell", "exec")


@pytest.mark.parametrize(
    "bad, message",
    [
        ("### BEGIN SOLUTION\nx = 1", "without ### END"),
        ("x = 1\n### END SOLUTION", "without ### BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_unbalanced_markers_are_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        make_student.blank(bad)


def test_student_copy_blanks_removes_solutions_and_clears_what_depends_on_them():
    nb = course_notebook()
    before = nbformat.writes(nb)
    student, solutions = make_student.student_copy(nb)
    assert nbformat.writes(nb) == before  # the course notebook is untouched
    sources = [c.source for c in student.cells]
    assert not any("Solution" in s or "1000.0" in s for s in sources)  # both solution cells removed
    assert len(student.cells) == len(nb.cells) - 2
    by_start = {c.source.splitlines()[0]: c for c in student.cells if c.cell_type == "code"}
    assert by_start["import nnlib"].outputs  # independent: kept
    assert by_start["print(nnlib.softmax(np.zeros((1, 2))))"].outputs  # uses only nnlib: kept
    for first in (
        "import numpy as np",
        "nnlib.checks.check_softmax(softmax);",
        "P = softmax(np.zeros((2, 3)))",
        "total = P.sum()",
    ):  # the piece, and everything downstream
        assert by_start[first].outputs == [] and by_start[first].execution_count is None, first
    assert any("shifted = Z - Z.max" in s for s in solutions)


def test_no_line_of_a_solution_is_left(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    nbformat.write(course_notebook(), course / "01_softmax.ipynb")
    written = make_student.build(make_student.course_notebooks(course), tmp_path / "student")
    text = written[0].read_text()
    _, solutions = make_student.student_copy(nbformat.read(course / "01_softmax.ipynb", as_version=4))
    for block in solutions:
        for line in block.splitlines():
            if len(line.strip()) > 12:
                assert line.strip() not in text, line
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    # building again writes the same bytes
    first = text
    make_student.build(make_student.course_notebooks(course), tmp_path / "student")
    assert written[0].read_text() == first


def test_a_student_copy_stops_at_its_first_stub_and_the_check_says_not_implemented(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    student, _ = make_student.student_copy(course_notebook())
    client = nbclient.NotebookClient(
        student, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    code = [c for c in student.cells if c.cell_type == "code"]
    check_output = "".join(o.get("text", "") for o in code[2].outputs)
    assert "softmax: not implemented yet" in check_output and "Traceback" not in check_output
    errors = [(i, o.ename) for i, c in enumerate(code) for o in c.outputs if o.output_type == "error"]
    assert errors[0] == (3, "NotImplementedError")  # the first cell that runs the stub


def test_follow_cleans_a_rebound_name_and_taints_a_changed_container():
    depends, tainted = make_student.follow("from nnlib import softmax\nprint(softmax)", {"softmax", "P"})
    assert not depends and tainted == {"P"}  # nnlib's softmax is not the learner's
    depends, tainted = make_student.follow("runs = {}\nfor k in range(2):\n    runs[k] = P * k", {"P"})
    assert depends and tainted == {"P", "runs", "k"}  # runs was filled from P
    depends, tainted = make_student.follow("def f(Z):\n    E = Z\n    return E", {"E"})
    assert not depends and tainted == {"E"}  # a local of f is not the global E
    depends, tainted = make_student.follow("g = f(P)\nt = time.time() - start", {"P"})
    assert depends and tainted == {"P", "g", "t"}  # t timed the learner's code
    depends, tainted = make_student.follow("print({k: 1 for k in range(2)})", {"k"})
    assert not depends and tainted == {"k"}  # nor is a comprehension's variable


QUESTIONS = [
    new_markdown_cell(
        "## Check your understanding\n\nTry to answer each question in a few sentences before you open its answer."
    ),
    new_markdown_cell(
        "**Q1.** Why subtract the row maximum?\n\n<details><summary>Answer</summary>\n\n"
        "Because $e^{1000}$ overflows.\n\n</details>"
    ),
    new_markdown_cell(
        "**Q2.** Why a mean over the batch?\n\n<details><summary>Answer</summary>\n\n"
        "So that the learning rate does not depend on N.\n\n</details>"
    ),
]


def test_a_student_copy_hides_the_answers_and_leaves_an_answer_cell_for_nbgrader(tmp_path):
    course = course_notebook()
    course.cells[6:6] = QUESTIONS  # before the exercise, as in the notebooks
    before = nbformat.writes(course)
    student, _ = make_student.student_copy(course, "03")
    assert nbformat.writes(course) == before  # the teacher's edition keeps its answers
    nbformat.validate(student)
    text = nbformat.writes(student)
    assert "<details><summary>Answer" not in text and "overflows" not in text and "depend on N" not in text
    assert "in a few sentences, in the cell below it." in text  # no answer to open any more
    i = next(k for k, c in enumerate(student.cells) if c.source.startswith("**Q1.**"))
    q1, a1, q2, a2 = student.cells[i : i + 4]
    assert q1.source == "**Q1.** Why subtract the row maximum?" and q2.source == "**Q2.** Why a mean over the batch?"
    for question, answer, n in ((q1, a1, 1), (q2, a2, 2)):
        assert answer.cell_type == "markdown" and answer.source == "*Your answer:*"
        assert answer.id == f"{question.id}-answer"  # stable: a rebuilt copy has the same bytes
        # nbgrader's "manually graded answer"
        assert answer.metadata == {
            "nbgrader": {
                "grade": True,
                "grade_id": f"03-q{n}",
                "locked": False,
                "points": 1,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
        }
    assert make_student.student_copy(course, "03")[0] == student  # the same every time
    # build() numbers the grade ids from the file name
    (tmp_path / "course").mkdir()
    nbformat.write(course, tmp_path / "course" / "07_softmax.ipynb")
    written = make_student.build(make_student.course_notebooks(tmp_path / "course"), tmp_path / "student")
    assert '"grade_id": "07-q2"' in written[0].read_text()


def test_a_student_copy_keeps_the_nbgrader_metadata_of_pieces_and_checks():
    course = course_notebook()
    course.cells[2].metadata["nbgrader"] = {"grade_id": "01-softmax", "solution": True}
    course.cells[3].metadata["nbgrader"] = {"grade_id": "01-softmax-check", "grade": True, "points": 1}
    student, _ = make_student.student_copy(course)
    assert [c.metadata["nbgrader"]["grade_id"] for c in student.cells if "nbgrader" in c.metadata] == [
        "01-softmax",
        "01-softmax-check",
    ]


@pytest.mark.skipif(not (ROOT / "notebooks" / "student").is_dir(), reason="no student copies built yet")
def test_the_committed_student_copies_are_current():
    assert make_student.main(["--check"]) == 0


# ---- the committed student copies (notebooks/student/) ---------------------------------------------------
STUDENT = ROOT / "notebooks" / "student"
COURSE = make_student.course_notebooks()
# The notebooks in which the learner writes a piece (00 and 09 have none: they read data and compare results).
WITH_PIECES = ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15"]
needs_copies = pytest.mark.skipif(not STUDENT.is_dir(), reason="no student copies built yet")


def _student(path):
    return nbformat.read(STUDENT / path.name, as_version=4)


def _is_stub(cell):
    return cell.cell_type == "code" and make_student.STUB[1] in cell.source


def _is_check(cell):
    return cell.cell_type == "code" and "nnlib.checks.check_" in cell.source


@needs_copies
def test_there_is_a_student_copy_of_every_notebook_and_nothing_else():
    assert sorted(p.name for p in STUDENT.glob("*.ipynb")) == [p.name for p in COURSE]


@needs_copies
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_a_student_copy_holds_no_solution(path):
    course = nbformat.read(path, as_version=4)
    student = _student(path)
    _, solutions = make_student.student_copy(course)
    # what the learner may see anyway: every line of the course notebook outside its solutions
    shown = {
        line.strip()
        for cell in course.cells
        if "solution" not in cell.metadata.get("tags", [])
        for line in make_student.blank(cell.source)[0].splitlines()
    }
    text = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
    lines = {line.strip() for line in text.splitlines()}
    for block in solutions:
        for line in block.splitlines():
            line = line.strip()
            if len(line) > 12 and line not in shown:
                assert line not in lines, f"{path.name}: a line of a solution is in the student copy: {line}"


@needs_copies
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_every_piece_has_a_stub_followed_by_its_check(path):
    cells = _student(path).cells
    stubs = [i for i, c in enumerate(cells) if _is_stub(c)]
    assert bool(stubs) == (path.name[:2] in WITH_PIECES)
    for i in stubs:
        later = [c for c in cells[i + 1 :] if c.cell_type == "code"]
        assert later and (_is_check(later[0]) or _is_stub(later[0])), (
            f"{path.name}: the code cell after the stub in cell {i} is not a check"
        )


@pytest.fixture(scope="module")
def kernel():
    """One kernel for every student copy (the copies run one after another in it, each after ``%reset -f``): a
    fresh kernel, NumPy, pandas, matplotlib and MNIST for each copy cost a minute of the run (70 s here)."""
    nbclient = pytest.importorskip("nbclient")
    client = nbclient.NotebookClient(
        new_notebook(),
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(STUDENT)}},
    )
    with client.setup_kernel():
        yield client


@needs_copies
@pytest.mark.parametrize("path", [p for p in COURSE if p.name[:2] in WITH_PIECES], ids=lambda p: p.stem)
def test_a_student_copy_runs_its_setup_then_every_stub_and_check_says_not_implemented(path, kernel):
    """A learner runs the copy from the top. Its cells before the first stub are the course notebook's own (checked
    here), which nbval runs, so only the setup and import cells run again here; from the first stub on, the stubs
    and the checks run, as a learner going through them would: a stub may raise only NotImplementedError, and each
    check must say "not implemented yet", with no traceback. (A stub that defines a function raises only when
    called, inside its check; an exercise's answer is such a stub.) The copy starts from an empty namespace
    (``%reset -f``), so nothing a copy run before defined can stand in for what this one leaves out."""
    nb = _student(path)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = next(n for n, (_, c) in enumerate(code) if _is_stub(c))
    course = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert [c.source for _, c in code[:first]] == course[:first], f"{path.name}: the cells before the first stub differ"
    nb.cells.append(new_code_cell("%reset -f"))
    kernel.nb = nb
    kernel.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    checked = 0
    for n, (index, cell) in enumerate(code):
        if n >= first and not (_is_stub(cell) or _is_check(cell)):
            continue
        if 2 <= n < first:  # beyond the setup cell and the imports: run by nbval in the course notebook
            continue
        kernel.execute_cell(cell, index)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        if _is_check(cell):
            assert not errors and "not implemented yet" in text, f"{path.name}, code cell {n}: {text}{errors}"
            checked += 1
        else:
            assert not errors or (n >= first and errors[0].ename == "NotImplementedError"), (
                f"{path.name}, code cell {n}: {errors[0].ename}: {errors[0].evalue}"
            )
    assert checked >= 1


@needs_copies
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_a_student_copy_has_no_answer_and_a_cell_for_each(path):
    """The course notebook keeps its folded answers; its student copy has an empty answer cell in their place."""
    questions = [
        c
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "markdown" and make_student.QUESTION.match(c.source)
    ]
    assert questions and all("<summary>Answer</summary>" in c.source for c in questions), path.name
    student = _student(path)
    assert "<summary>Answer</summary>" not in nbformat.writes(student), path.name
    answers = [
        c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(f"{path.name[:2]}-q")
    ]
    assert len(answers) == len(questions), path.name
