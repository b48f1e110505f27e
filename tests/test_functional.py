import numpy as np
import pytest

from nnlib import functional as F
from nnlib.gradcheck import numerical_gradient, rel_error


def test_one_hot_basic():
    Y = F.one_hot([3, 0, 9])
    assert Y.shape == (3, 10) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.argmax(axis=1), [3, 0, 9])
    np.testing.assert_array_equal(Y.sum(axis=1), [1, 1, 1])


def test_one_hot_accepts_whole_floats_and_empty():
    np.testing.assert_array_equal(F.one_hot(np.array([1.0, 2.0]), 3), [[0, 1, 0], [0, 0, 1]])
    assert F.one_hot(np.array([], dtype=int)).shape == (0, 10)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 10], r"0\.\.9.*\[10\].*positions \[1\]"),
        ([-1, 2], r"0\.\.9.*\[-1\]"),
        ([0.5, 1], r"whole numbers.*0\.5"),
        ([[1, 2]], r"shape \(N,\)"),
        (["a", "b"], r"integers"),
        ([True, False], r"integers"),
        ([np.nan], r"whole numbers"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        F.one_hot(np.array(labels))


def test_sigmoid_values_and_extremes():
    np.testing.assert_allclose(F.sigmoid(np.array([0.0, 2.0])), [0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-12)
    with np.errstate(over="raise", invalid="raise"):
        s = F.sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(s, [0.0, 1.0])


def test_activation_derivatives_match_numerical():
    Z = np.random.default_rng(0).normal(size=(4, 5))
    for f, df in [(F.sigmoid, F.sigmoid_grad), (F.relu, F.relu_grad)]:
        num = numerical_gradient(lambda: f(Z).sum(), Z)
        assert rel_error(df(Z), num) < 1e-8


def test_softmax_rows_sum_to_one_and_shift_invariance():
    Z = np.random.default_rng(0).normal(size=(6, 10))
    P = F.softmax(Z)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(F.softmax(Z + 123.0), P, rtol=1e-10)


def test_softmax_large_logits_do_not_overflow():
    Z = np.array([[1000.0, 1000.0, -1000.0], [1e30, 0, 0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        P = F.softmax(Z)
    np.testing.assert_allclose(P, [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])


def test_cross_entropy_values_and_errors():
    Y = F.one_hot([0, 1], 2, dtype=np.float64)
    P = np.array([[0.8, 0.2], [0.4, 0.6]])
    assert F.cross_entropy(P, Y) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert np.isfinite(F.cross_entropy(np.array([[0.0, 1.0]]), Y[:1]))  # confident and wrong: big, finite
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        F.cross_entropy(P, Y[:1])


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(5, 4)) * 3
    Y = F.one_hot(rng.integers(0, 4, 5), 4, dtype=np.float64)
    loss, P, dZ = F.softmax_cross_entropy(Z, Y)
    assert loss == pytest.approx(F.cross_entropy(F.softmax(Z), Y), rel=1e-12)
    num = numerical_gradient(lambda: F.softmax_cross_entropy(Z, Y)[0], Z)
    assert rel_error(dZ, num) < 1e-7
    np.testing.assert_allclose(dZ, (P - Y) / 5, rtol=1e-12)


def test_softmax_cross_entropy_huge_logits_finite():
    Z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    loss, _, _ = F.softmax_cross_entropy(Z, np.eye(2)[[1, 1]])
    assert np.isfinite(loss) and loss == pytest.approx(1e4)


def test_accuracy_accepts_labels_and_one_hot():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert F.accuracy(P, [0, 1, 1]) == pytest.approx(2 / 3)
    assert F.accuracy(P, np.eye(2)[[0, 1, 1]]) == pytest.approx(2 / 3)
    assert F.accuracy(np.array([0, 1, 1]), [0, 1, 1]) == 1.0
    with pytest.raises(ValueError, match="predictions"):
        F.accuracy(P, [0, 1])
