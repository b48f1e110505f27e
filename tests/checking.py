"""Helpers for the tests of nnlib.checks (tests/test_checks.py, tests/test_checks_conv.py): run a check on a
piece and assert its verdict, one line when it passes, the failing case with the intended hint when it fails."""


def verdict(capsys, check, *pieces):
    ok = check(*pieces)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 or "Hint:" in out, out
    return ok, out


def passes(capsys, check, *pieces):
    ok, out = verdict(capsys, check, *pieces)
    assert ok.passed is True, out
    assert "checks passed" in out and "Hint" not in out
    return out


def fails(capsys, check, *pieces, hint):
    ok, out = verdict(capsys, check, *pieces)
    assert ok.passed is False, out
    assert "Hint:" in out and hint in out, out
    assert "Traceback" not in out
    return out


def stub(*args, **kwargs):
    raise NotImplementedError()
