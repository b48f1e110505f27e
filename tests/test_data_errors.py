"""Bad input to read_mnist_csv and train_val_split is a clear error, never silently wrong data."""

import numpy as np
import pytest

from nnlib.data import read_mnist_csv, train_val_split

HEADER = ["label"] + [f"pixel{i}" for i in range(784)]


def _rows(n=3):
    """``n`` good rows as lists of strings: a label, then 784 pixels."""
    pixels = np.random.default_rng(0).integers(0, 256, (n, 784))
    return [[str(lab), *map(str, row)] for lab, row in zip([7, 2, 1, 0, 4][:n], pixels)], pixels


def _write(path, lines):
    path.write_text("".join(",".join(line) + "\n" for line in lines))
    return path


# -- a bad value names the file, the line and the column -------------------------------------------

BAD_CELLS = {
    # what: (column in the row (0 = label), the text put there, what the error must say)
    "empty label": (0, "", "column 1 (label) is empty"),
    "fractional label": (0, "3.7", "column 1 (label): 3.7 is not a whole number 0..9"),
    "label 12": (0, "12", "column 1 (label): 12 is not a whole number 0..9"),
    "label -1": (0, "-1", "column 1 (label): -1 is not a whole number 0..9"),
    "pixel 300": (5, "300", "column 6 (pixel4): 300 is not a whole number 0..255"),
    "pixel -5": (5, "-5", "column 6 (pixel4): -5 is not a whole number 0..255"),
    "pixel 2.5": (5, "2.5", "column 6 (pixel4): 2.5 is not a whole number 0..255"),
    "pixel abc": (10, "abc", "column 11 (pixel9): 'abc' is not a number"),
    "empty pixel": (10, "", "column 11 (pixel9) is empty"),
}


@pytest.mark.parametrize("what", BAD_CELLS)
@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_a_bad_value_names_file_line_and_column(tmp_path, what, header):
    col, text, says = BAD_CELLS[what]
    rows, _ = _rows()
    rows[1][col] = text
    path = _write(tmp_path / "train.csv", ([HEADER] if header else []) + rows)
    with pytest.raises(ValueError) as err:
        read_mnist_csv(path)
    msg = str(err.value)
    assert str(path) in msg and f"line {2 + header}, {says}" in msg, msg


def test_a_short_line_is_an_error_not_nan_pixels(tmp_path):
    rows, _ = _rows()
    rows[2] = rows[2][:-2]  # the last two pixels missing
    path = _write(tmp_path / "train.csv", [HEADER] + rows)
    with pytest.raises(ValueError) as err:
        read_mnist_csv(path)
    msg = str(err.value)
    assert str(path) in msg and "line 4, column 784 (pixel782) is empty" in msg, msg
    assert "2 values in the file are bad" in msg


def test_a_long_line_names_the_file(tmp_path):
    rows, _ = _rows()
    rows[1].append("0")
    path = _write(tmp_path / "train.csv", [HEADER] + rows)
    with pytest.raises(ValueError) as err:
        read_mnist_csv(path)
    assert str(path) in str(err.value) and "line 3" in str(err.value)


def test_blank_lines_are_skipped_and_line_numbers_stay_right(tmp_path):
    rows, pixels = _rows()
    path = tmp_path / "train.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(rows[0]) + "\n\n" + ",".join(rows[1]) + "\n")
    X, y = read_mnist_csv(path, normalize=False)
    assert y.tolist() == [7, 2]
    np.testing.assert_array_equal(X, pixels[:2])
    rows[1][3] = "999"
    path.write_text(",".join(HEADER) + "\n" + ",".join(rows[0]) + "\n\n" + ",".join(rows[1]) + "\n")
    with pytest.raises(ValueError, match="line 4, column 4"):
        read_mnist_csv(path)


# -- a header line is optional ---------------------------------------------------------------------


@pytest.mark.parametrize("label", [True, False], ids=["label", "no label"])
def test_a_file_without_header_keeps_its_first_example(tmp_path, label):
    rows, pixels = _rows()
    lines = rows if label else [r[1:] for r in rows]
    X, y = read_mnist_csv(_write(tmp_path / "train.csv", lines), normalize=False)
    np.testing.assert_array_equal(X, pixels)
    assert X.dtype == np.float32
    assert (y.tolist() if label else y) == ([7, 2, 1] if label else None)


@pytest.mark.parametrize("label", [True, False], ids=["label", "no label"])
def test_pandas_numbered_header_is_a_header(tmp_path, label):
    """``pd.DataFrame(array).to_csv(index=False)`` writes the header 0,1,2,...: not an example."""
    rows, pixels = _rows()
    lines = rows if label else [r[1:] for r in rows]
    numbers = [str(i) for i in range(len(lines[0]))]
    X, y = read_mnist_csv(_write(tmp_path / "train.csv", [numbers] + lines), normalize=False)
    np.testing.assert_array_equal(X, pixels)
    assert (y.tolist() if label else y) == ([7, 2, 1] if label else None)


def test_a_bad_first_line_without_header_is_an_error_not_a_header(tmp_path):
    rows, _ = _rows()
    rows = [r[1:] for r in rows]
    rows[0][0] = "300"
    with pytest.raises(ValueError, match="line 1, column 1 \\(pixel0\\): 300 is not a whole number"):
        read_mnist_csv(_write(tmp_path / "test.csv", rows))


def test_a_word_in_the_first_line_without_header_is_an_error_not_a_header(tmp_path):
    rows, _ = _rows()
    rows = [r[1:] for r in rows]
    rows[0][9] = "abc"
    with pytest.raises(ValueError, match="line 1, column 10 \\(pixel9\\): 'abc' is not a number"):
        read_mnist_csv(_write(tmp_path / "test.csv", rows))


def test_wrong_number_of_columns(tmp_path):
    with pytest.raises(ValueError, match="784 pixel columns"):
        read_mnist_csv(_write(tmp_path / "a.csv", [["1", "2", "3"], ["4", "5", "6"]]))
    with pytest.raises(ValueError, match="784 pixel columns.*none named 'label'"):
        read_mnist_csv(_write(tmp_path / "b.csv", [["digit"] + HEADER[1:], _rows()[0][0]]))


def test_an_empty_file_names_the_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv"):
        read_mnist_csv(tmp_path / "empty.csv")


# -- train_val_split: val_size is a count or a fraction, and leaves both parts non-empty --------------

X50, Y50 = np.arange(100).reshape(50, 2), np.arange(50)


@pytest.mark.parametrize("val_size", [1.0, 2.5, True, False, np.float64(3.0), 0.0, -0.5, "10", None])
def test_val_size_must_be_an_int_or_a_fraction(val_size):
    with pytest.raises(ValueError, match=r"val_size must be a number of rows \(an int"):
        train_val_split(X50, Y50, val_size=val_size)


@pytest.mark.parametrize(
    "val_size, says",
    [
        (0, "validation set empty"),
        (-5, "validation set empty"),
        (0.001, "validation set empty"),
        (50, "no rows for training"),
        (60, "no rows for training"),
        (0.999, "no rows for training"),
    ],
)
def test_val_size_must_leave_both_parts_non_empty(val_size, says):
    with pytest.raises(ValueError, match=f"val_size={val_size!r} leaves (the )?{says}"):
        train_val_split(X50, Y50, val_size=val_size)


@pytest.mark.parametrize("val_size, n", [(1, 1), (49, 49), (np.int64(10), 10), (0.5, 25), (np.float32(0.2), 10)])
def test_val_size_counts_and_fractions(val_size, n):
    Xtr, ytr, Xv, yv = train_val_split(X50, Y50, val_size=val_size)
    assert len(Xv) == len(yv) == n and len(Xtr) == len(ytr) == 50 - n


def test_more_values_than_header_names_is_an_error_not_a_shift(tmp_path):
    """pandas would silently take the first column as an index, so that labels become pixel0."""
    rows, _ = _rows()
    path = tmp_path / "train.csv"
    path.write_text(",".join(HEADER) + "\n" + "".join(",".join(r) + ",\n" for r in rows))
    with pytest.raises(ValueError, match="more values than its header line has names"):
        read_mnist_csv(path)
