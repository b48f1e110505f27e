import json
import math

import pytest

from nnlib.expect import ExpectationFailed, expect_below, expect_between, expect_near


def test_near_prints_one_line_and_returns_the_value(capsys):
    assert expect_near("test accuracy", 0.9803, 0.980, 0.005, percent=True) == 0.9803
    assert capsys.readouterr().out == "test accuracy 98.03% (expected 98.0% ± 0.5): ok\n"


def test_near_plain_numbers(capsys):
    expect_near("loss", 0.38771, 0.39, 0.02)
    assert capsys.readouterr().out == "loss 0.3877 (expected 0.39 ± 0.02): ok\n"


@pytest.mark.parametrize("value", [0.974, 0.986, float("nan"), float("inf")])
def test_near_raises_outside_with_what_was_expected(value, capsys):
    with pytest.raises(ExpectationFailed, match=r"test accuracy .* \(expected 98\.0% ± 0\.5\): outside"):
        expect_near("test accuracy", value, 0.980, 0.005, percent=True)
    assert capsys.readouterr().out == ""          # nothing says "ok" for a failure


def test_the_edges_of_the_range_pass():
    expect_near("x", 1.5, 1.0, 0.5)
    expect_near("x", 0.5, 1.0, 0.5)
    with pytest.raises(ExpectationFailed):
        expect_near("x", 1.5001, 1.0, 0.5)


def test_failure_is_an_assertion_error():
    # so a notebook cell that fails its check stops like a failed assert, and nbval reports it
    assert issubclass(ExpectationFailed, AssertionError)


def test_below(capsys):
    expect_below("rel_error dW1", 3.1e-8, 1e-6)
    assert capsys.readouterr().out == "rel_error dW1 3.1e-08 (expected below 1e-06): ok\n"
    for bad in (1e-6, 2e-3, math.nan):
        with pytest.raises(ExpectationFailed, match="rel_error dW1"):
            expect_below("rel_error dW1", bad, 1e-6)


def test_between(capsys):
    expect_between("val acc", 0.8896, 0.87, 0.91, percent=True)
    assert capsys.readouterr().out == "val acc 88.96% (expected 87% to 91%): ok\n"
    with pytest.raises(ExpectationFailed, match="expected 87% to 91%"):
        expect_between("val acc", 0.92, 0.87, 0.91, percent=True)
    with pytest.raises(ValueError):
        expect_between("x", 0.5, 1, 0)


@pytest.mark.parametrize("args", [("a", 1, 1, -0.1), ("a", 1, math.nan, 0.1), ("a", 1, 1, math.inf)])
def test_bad_tolerances_are_rejected(args):
    with pytest.raises(ValueError):
        expect_near(*args)


def test_non_numbers_are_rejected():
    with pytest.raises(TypeError, match="value must be a number"):
        expect_near("a", "98%", 0.98, 0.01)


def test_results_can_be_logged_for_the_spread_script(tmp_path, monkeypatch, capsys):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("NNLIB_EXPECT_LOG", str(log))
    expect_near("a", 1.0, 1.0, 0.1)
    with pytest.raises(ExpectationFailed):
        expect_below("b", 2.0, 1.0)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["label"], r["value"], r["ok"]) for r in rows] == [("a", 1.0, True), ("b", 2.0, False)]
