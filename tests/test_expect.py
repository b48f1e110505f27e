import json
import math
import os

import pytest

import nnlib.expect
from nnlib.expect import ExpectationFailed, expect_below, expect_between, expect_near


def test_near_prints_one_line_and_returns_nothing(capsys):
    # nothing returned: a check at the end of a notebook cell echoes no value under its line
    assert expect_near("test accuracy", 0.9803, 0.980, 0.005, percent=True) is None
    assert expect_below("rel_error", 1e-9, 1e-6) is None
    assert expect_between("x", 0.5, 0, 1) is None
    assert (
        capsys.readouterr().out == "test accuracy 98.03% (expected 98.0% ± 0.5): ok\n"
        "rel_error 1.0e-09 (expected below 1e-06): ok\nx 0.5 (expected 0 to 1): ok\n"
    )


def test_pytest_runs_are_strict():
    # the project's conftest.py makes every pytest run (and the notebooks' kernels it starts) a regression run
    assert os.environ.get("NNLIB_STRICT_CHECKS") == "1"
    assert nnlib.expect.strict()


@pytest.mark.parametrize(
    "check",
    [
        lambda: expect_near("test accuracy", 0.95, 0.980, 0.005, percent=True),
        lambda: expect_between("test accuracy", 0.95, 0.97, 0.99, percent=True),
        lambda: expect_below("test accuracy", 0.95, 0.9, percent=True),
    ],
)
def test_a_learner_is_warned_and_goes_on(check, monkeypatch, capsys):
    monkeypatch.delenv("NNLIB_STRICT_CHECKS", raising=False)
    check()  # no exception: the notebook goes on
    out, err = capsys.readouterr()
    assert out.startswith("test accuracy 95.00% (expected ") and out.endswith("): outside (see the warning below)\n")
    assert "ok" not in out
    assert err.startswith("Warning: test accuracy = 95.00% is outside its band (expected ")
    for reason in ("seed, a setting", "rounds float32 differently", "a bug", "pytest --nbval"):
        assert reason in err
    assert "not float rounding" not in err  # never claims what was not measured


@pytest.mark.parametrize("setting", ["0", "", "yes"])
def test_only_the_value_1_makes_a_run_strict(setting, monkeypatch, capsys):
    monkeypatch.setenv("NNLIB_STRICT_CHECKS", setting)
    expect_near("x", 2.0, 1.0, 0.5)
    assert "outside" in capsys.readouterr().out


def test_a_regression_run_fails_with_the_reasons(capsys):
    with pytest.raises(ExpectationFailed) as info:
        expect_near("test accuracy", 0.95, 0.980, 0.005, percent=True)
    message = str(info.value)
    assert message.startswith("test accuracy 95.00% (expected 98.0% ± 0.5): outside.")
    assert "regression run (NNLIB_STRICT_CHECKS=1" in message and "a seed, a setting" in message


def test_near_plain_numbers(capsys):
    expect_near("loss", 0.38771, 0.39, 0.02)
    assert capsys.readouterr().out == "loss 0.3877 (expected 0.39 ± 0.02): ok\n"


@pytest.mark.parametrize("value", [0.974, 0.986, float("nan"), float("inf")])
def test_near_raises_outside_with_what_was_expected(value, capsys):
    with pytest.raises(ExpectationFailed, match=r"test accuracy .* \(expected 98\.0% ± 0\.5\): outside"):
        expect_near("test accuracy", value, 0.980, 0.005, percent=True)
    assert capsys.readouterr().out == ""  # nothing says "ok" for a failure


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


def test_below_in_percent(capsys):
    expect_below("sorted, not shuffled", 0.154, 0.3, percent=True)
    assert capsys.readouterr().out == "sorted, not shuffled 15.40% (expected below 30%): ok\n"
    with pytest.raises(ExpectationFailed, match="expected below 30%"):
        expect_below("sorted, not shuffled", 0.31, 0.3, percent=True)


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
    assert [(r["low"], r["high"]) for r in rows] == [(0.9, 1.1), (-math.inf, 1.0)]  # the band, as numbers
