"""Helpers for the tests of nnlib.checks (tests/test_checks.py, tests/test_checks_conv.py): run a check on a
piece and assert its verdict, one line when it passes, the failing case with the intended hint when it fails.
And ``small_cnn``, the convolutional network the drawing and widget tests hand to saliency, the pad and the browser.
"""


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


def small_cnn(input_shape=(1, 28, 28), dtype=None):
    """conv 3x3 (4 filters), ReLU, pool, Linear to 10 classes, on 28x28 digits; ``input_shape=None``: a model that
    has not fixed its input shape yet."""
    import nnlib
    from nnlib import Conv2D, Flatten, MaxPool2D

    layers = [Conv2D(1, 4, 3, padding=1), nnlib.ReLU(), MaxPool2D(2), Flatten(), nnlib.Linear(4 * 14 * 14, 10)]
    return nnlib.Model([*layers, nnlib.SoftmaxCrossEntropy()], rng=0, input_shape=input_shape, dtype=dtype)
