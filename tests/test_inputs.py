"""Issue 9: one input check (nnlib.inputs) and one loss (nnlib.losses), everywhere."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Linear, Model, SoftmaxCrossEntropy


def test_float64_one_hot_targets_keep_the_backward_pass_float32(blobs, rng):
    X, y = blobs(rng, 60, classes=3, sep=2.0)
    model = nnlib.mlp([4, 5, 3], rng=0)
    Y64 = np.eye(3)[y]  # float64, as np.eye gives
    loss, grads, out = model.loss_and_grads(X.astype(np.float64), Y64)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    loss32, grads32, _ = model.loss_and_grads(X, y)  # labels or one-hot: the same numbers
    assert loss == loss32
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads32[k])


@pytest.mark.parametrize(
    "Y, message",
    [
        (lambda y: 2 * np.eye(3)[y], "rows summing to 1"),
        (lambda y: -np.eye(3)[y], ">= 0"),
        (lambda y: np.eye(3)[y][:, :2], r"one-hot \(N, 3\)"),
        (lambda y: y + 0.5, "whole numbers"),
        (lambda y: y + 3, r"0\.\.2"),
        (lambda y: np.eye(3, dtype=bool)[y], "numbers"),
    ],
)
def test_bad_targets_are_rejected(blobs, Y, message, rng):
    X, y = blobs(rng, 60, classes=3, sep=2.0)
    model = nnlib.mlp([4, 5, 3], rng=0)
    W1 = model.params["W1"].copy()
    for call in (
        lambda: model.loss_and_grads(X, Y(y)),
        lambda: nnlib.evaluate(model, X, Y(y)),
        lambda: nnlib.fit(model, X, Y(y), nnlib.SGD(0.1), verbose=False),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    np.testing.assert_array_equal(model.params["W1"], W1)


def test_soft_targets_are_accepted(blobs, rng):
    X, y = blobs(rng, 6, classes=3, sep=2.0)
    model = nnlib.mlp([4, 5, 3], rng=0)
    soft = np.full((6, 3), 1 / 3)
    loss, _, out = model.loss_and_grads(X, soft)
    np.testing.assert_allclose(loss, -np.log(out).mean(), rtol=1e-5)


def test_uint8_pixels_are_a_clear_error(rng):
    model = nnlib.mlp([784, 10, 10], rng=0)
    pixels = rng.integers(0, 256, (3, 784)).astype(np.uint8)
    for call in (
        model.predict,
        model.predict_proba,
        lambda X: model.forward(X),
        lambda X: nnlib.evaluate(model, X, [0, 1, 2]),
    ):
        with pytest.raises(ValueError, match=r"floats.*divide by 255"):
            call(pixels)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, X, y: nnlib.fit(m, X[:0], y[:0], nnlib.SGD(0.1), verbose=False), "no rows"),
        (lambda m, X, y: m.predict_proba(X[:0]), "no rows"),
        (lambda m, X, y: nnlib.evaluate(m, X[:0], y[:0]), "no rows"),
        (
            lambda m, X, y: nnlib.fit(m, np.where(X > 3, np.nan, X), y, nnlib.SGD(0.1), verbose=False),
            r"X contains NaN.*rows",
        ),
        (
            lambda m, X, y: nnlib.fit(m, X, y, nnlib.SGD(0.1), validation=(X * np.inf, y), verbose=False),
            "X_val contains NaN or infinite",
        ),
        (lambda m, X, y: m.predict(np.where(X > 3, np.nan, X)), "NaN"),
        (lambda m, X, y: m.predict_proba(X, batch_size=0), "batch_size must be a positive integer"),
        (lambda m, X, y: nnlib.evaluate(m, X, y, batch_size=0), "batch_size must be a positive integer"),
        (lambda m, X, y: nnlib.mlp([4, 0, 3]), r"positive whole number; got 0 at position 1"),
        (lambda m, X, y: nnlib.mlp([4, 2.5, 3]), "positive whole number"),
        (lambda m, X, y: nnlib.PerExampleNetwork([4, 0, 3]), "positive whole number"),
        (lambda m, X, y: nnlib.step_schedule(0.1, every=0), "every must be a positive integer"),
        (lambda m, X, y: nnlib.fit(m, X, y, nnlib.SGD(0.1), epochs=2.0), "epochs"),
        (lambda m, X, y: nnlib.fit(m, X, y, nnlib.SGD(0.1), l2=np.nan), "l2"),
    ],
)
def test_bad_input_is_a_clear_error(blobs, call, message, rng):
    X, y = blobs(rng, 60, classes=3, sep=2.0)
    model = nnlib.mlp([4, 5, 3], rng=0)
    with pytest.raises(ValueError, match=message):
        call(model, X, y)


def test_shape_errors_keep_their_hints():
    model = nnlib.mlp([784, 10, 10])
    with pytest.raises(ValueError, match=r"\(N, 784\).*did you mean X.T"):
        model.predict(np.zeros((784, 5), np.float32))
    net = nnlib.PerExampleNetwork([6, 3, 2])
    with pytest.raises(ValueError, match="did you mean X.T"):
        net.predict(np.zeros((6, 2)))
    with pytest.raises(ValueError, match="floats"):
        net.loss_and_grads(np.zeros((2, 6), np.uint8), [0, 1])


@pytest.mark.parametrize("labels", [[-1, 0], [10, 0], [2.5, 0]])
def test_confusion_matrix_rejects_labels_out_of_range(labels):
    with pytest.raises(ValueError, match=r"0\.\.9|whole numbers"):
        nnlib.confusion_matrix(np.array(labels), np.array([0, 0]))
    with pytest.raises(ValueError, match=r"0\.\.9|whole numbers"):
        nnlib.confusion_matrix(np.array([0, 0]), np.array(labels))


def test_training_and_evaluation_report_the_same_loss():
    # Logits (200, 0) for true class 1: the loss is 200, in training and in evaluation alike.
    model = Model([Linear(2, 2, dtype=np.float64), SoftmaxCrossEntropy()])
    model.set_params({"W1": np.eye(2), "b1": np.zeros(2)})
    X, y = np.array([[200.0, 0.0]]), np.array([1])
    assert model.loss_and_grads(X, y)[0] == pytest.approx(200.0)
    assert nnlib.evaluate(model, X, y) == (pytest.approx(200.0), 0.0)
    h = nnlib.fit(model, X, y, nnlib.SGD(1e-9), epochs=1, verbose=False, validation=(X, y))
    assert h.loss[0] == pytest.approx(200.0) and h.val_loss[0] == pytest.approx(200.0, rel=1e-6)
    assert nnlib.losses.cross_entropy_with_logits(np.array([[200.0, 0.0]]), np.array([[0.0, 1.0]])) == 200.0


def test_evaluate_in_chunks_equals_one_pass_and_matches_training_loss(blobs, rng):
    X, y = blobs(rng, 50, classes=3, sep=2.0)
    for model in (
        nnlib.mlp([4, 5, 3], rng=0),
        nnlib.mlp([4, 5, 3], output="sigmoid", rng=0),
        nnlib.PerExampleNetwork([4, 5, 3], rng=0),
    ):
        whole = nnlib.evaluate(model, X, y)
        chunked = nnlib.evaluate(model, X, y, batch_size=7)
        assert chunked[0] == pytest.approx(whole[0], rel=1e-6) and chunked[1] == whole[1]
        loss, _, out = model.loss_and_grads(X, y)  # no dropout here: the same forward pass
        assert whole[0] == pytest.approx(loss, rel=1e-6)
        assert whole[1] == np.mean(out.argmax(axis=1) == y)


def test_features_of_any_per_example_shape():
    from nnlib.inputs import as_features

    X = np.zeros((5, 1, 28, 28), np.float64)
    out = as_features(X, (1, 28, 28), np.float32)
    assert out.shape == (5, 1, 28, 28) and out.dtype == np.float32
    assert as_features(X, None).shape == (5, 1, 28, 28)  # any shape, examples first
    assert as_features(np.zeros((2, 784)), 784).shape == (2, 784)  # an int is a width, as before
    with pytest.raises(
        ValueError,
        match=r"X must have shape \(N, 1, 28, 28\), got \(5, 784\).*X.reshape\(len\(X\), "
        r"1, 28, 28\)",
    ):
        as_features(np.zeros((5, 784)), (1, 28, 28))
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 28, 28\), got \(2, 1, 27, 28\)$"):
        as_features(np.zeros((2, 1, 27, 28)), (1, 28, 28))
    with pytest.raises(ValueError, match=r"must have shape \(N, 784\), got \(5, 1, 28, 28\).*reshape"):
        as_features(X, (784,))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 28, 28\), got \(1, 28, 28\).*images\[None\]"):
        as_features(np.zeros((1, 28, 28)), (1, 28, 28), name="images")
    with pytest.raises(ValueError, match=r"examples first, shape \(N, \.\.\.\), got \(3,\)"):
        as_features(np.zeros(3), None)
    with pytest.raises(ValueError, match="dtype uint8.*255"):
        as_features(np.zeros((2, 1, 28, 28), np.uint8), (1, 28, 28))
    bad = np.zeros((4, 1, 2, 2))
    bad[2, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values \(1 of them, in rows \[2\]\)"):
        as_features(bad, (1, 2, 2))
    with pytest.raises(ValueError, match="no rows"):
        as_features(np.zeros((0, 1, 2, 2)), (1, 2, 2))


def test_evaluate_and_predict_go_through_the_model_in_chunks_of_1000_rows_by_default():
    # A CNN's im2col columns for 10,000 images take more than a gigabyte: one such chunk took 25 s to evaluate
    # where ten chunks of 1,000 took 1.5 s (notebook 14, 1 thread). The default keeps every chunk small.
    model = nnlib.mlp([4, 3], rng=0)
    seen = []
    original = model._forward

    def recording(X, training=False):
        seen.append(len(X))
        return original(X, training)

    model._forward = recording
    X, y = np.zeros((2500, 4), np.float32), np.zeros(2500, int)
    nnlib.evaluate(model, X, y)
    assert seen and max(seen) == 1000 and sum(seen) == 2500
    seen.clear()
    assert model.predict(X).shape == (2500,) and max(seen) == 1000 and sum(seen) == 2500
