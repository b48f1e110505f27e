"""nnlib.metrics: bad arguments are refused up front with a message that says what to pass instead."""

import numpy as np
import pytest

import nnlib


@pytest.mark.parametrize("C", [np.ones((3, 4)), np.ones(3), np.ones((2, 2, 2))])
def test_per_class_accuracy_needs_a_square_confusion_matrix(C):
    with pytest.raises(ValueError, match=r"square confusion matrix.*confusion_matrix\(y_true, y_pred\)"):
        nnlib.per_class_accuracy(C)


def test_per_class_accuracy_of_a_square_matrix():
    np.testing.assert_allclose(nnlib.per_class_accuracy([[2, 0], [1, 3]]), [1, 0.75])
    np.testing.assert_allclose(nnlib.per_class_accuracy(np.zeros((2, 2), int)), [0, 0])  # no examples: 0, not nan


@pytest.mark.parametrize("k", ["3", -1, 0, 2.0, True, None])
def test_most_confident_mistakes_needs_a_positive_whole_k(k):
    P = nnlib.softmax(np.random.default_rng(1).normal(size=(6, 3)))
    with pytest.raises(ValueError, match=r"k must be a positive integer, got"):
        nnlib.most_confident_mistakes(P, np.zeros(6, int), k=k)


def test_most_confident_mistakes_takes_numpy_integers():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    np.testing.assert_array_equal(nnlib.most_confident_mistakes(P, [1, 1, 0], k=np.int64(1)), [0])


@pytest.mark.parametrize(
    "P, y, message",
    [
        (np.array(3), np.array([3]), "got shapes \\(\\) and \\(1,\\)"),
        (np.zeros((0, 3)), np.zeros(0, int), "no examples"),
        (np.eye(3), np.eye(4)[:3], "3 classes but the one-hot targets 4"),
        (np.eye(3), np.array([[0], [1], [2]]), "pass y.ravel\\(\\)"),
    ],
)
def test_accuracy_refuses_what_it_cannot_score(P, y, message):
    with pytest.raises(ValueError, match=message):
        nnlib.accuracy(P, y)


def test_a_column_of_labels_gets_the_ravel_hint_not_argmax():
    with pytest.raises(ValueError, match="a column of labels\\? pass y.ravel\\(\\)"):
        nnlib.confusion_matrix(np.array([[1], [2]]), np.array([1, 2]))
