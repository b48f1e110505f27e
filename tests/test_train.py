import numpy as np
import pytest

import nnlib


def test_fit_learns_and_records_history(blobs, rng):
    X, y = blobs(rng)
    model = nnlib.mlp([4, 8, 2], rng=0)
    h = nnlib.fit(model, X, y, nnlib.SGD(0.5), epochs=5, batch_size=32, rng=0, validation=(X, y), verbose=False)
    assert h.epochs == 5 and len(h.val_acc) == len(h.seconds) == 5
    assert h.loss[-1] < h.loss[0] and h.val_acc[-1] > 0.95
    frame = h.to_frame()
    assert list(frame.columns) == ["loss", "train_acc", "val_loss", "val_acc", "seconds"]
    assert frame.index[0] == 1


def test_fit_is_reproducible_and_labels_equal_one_hot(blobs, rng):
    X, y = blobs(rng)
    runs = []
    for targets in (y, nnlib.one_hot(y, 2)):
        model = nnlib.mlp([4, 8, 2], rng=0)
        nnlib.fit(model, X, targets, nnlib.Momentum(0.1), epochs=3, batch_size=16, rng=5, verbose=False)
        runs.append(model.params["W1"].copy())
    np.testing.assert_array_equal(*runs)


def test_full_batch_is_one_step_per_epoch(blobs, rng):
    X, y = blobs(rng, 50)
    model = nnlib.mlp([4, 3, 2], rng=0)
    W0 = model.params["W1"].copy()
    _, grads, _ = model.loss_and_grads(X, nnlib.one_hot(y, 2))
    expected = W0 - 0.1 * grads["W1"]
    nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, verbose=False)
    np.testing.assert_allclose(model.params["W1"], expected, rtol=1e-6)


def test_fit_prints_progress_and_can_be_silenced(blobs, rng, capsys):
    X, y = blobs(rng, 50)
    nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), epochs=20, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 11 and lines[0].startswith("epoch  1/20  loss ")
    nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), epochs=2, verbose=False)
    assert capsys.readouterr().out == ""


def test_nan_loss_stops_with_clear_error_and_restores_params(blobs, rng):
    X, y = blobs(rng, 64)
    model = nnlib.mlp([4, 8, 2], rng=0)
    nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, verbose=False)
    before = {k: v.copy() for k, v in model.params.items()}
    steps = []

    def poison(Xb, r):  # the third batch goes bad after two good steps
        steps.append(1)
        return Xb * np.nan if len(steps) == 3 else Xb.copy()

    with pytest.raises(nnlib.TrainingDiverged, match=r"loss became nan at epoch 1, step 3.*restored") as err:
        nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=3, batch_size=8, rng=0, verbose=False, augment=poison)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)
    assert err.value.history.epochs == 0


def test_exploding_learning_rate_is_caught(blobs, rng):
    X, y = blobs(rng, 64)
    with pytest.raises(nnlib.TrainingDiverged, match="smaller learning rate") as err:
        nnlib.fit(
            nnlib.mlp([4, 64, 64, 2], output="softmax", rng=0), X * 1e3, y, nnlib.SGD(1e6), epochs=50, verbose=False
        )
    assert np.isfinite(err.value.history.loss).all()


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros((4, 5), np.float32), np.zeros(4, int), r"X must have shape \(N, 4\)"),
        (np.zeros((4, 10), np.float32), np.zeros(10, int), r"did you mean X.T"),
        (np.zeros((10, 4), np.float32), np.zeros(9, int), r"N = 10; got shape \(9,"),
        (np.zeros((10, 4), np.uint8), np.zeros(10, int), r"floats"),
        (np.zeros((10, 4), np.float32), np.full(10, 7), r"0\.\.1"),
    ],
)
def test_fit_rejects_bad_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), verbose=False)


def test_fit_rejects_bad_settings(blobs, rng):
    X, y = blobs(rng, 10)
    with pytest.raises(ValueError, match="epochs"):
        nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), batch_size=0)


def test_per_example_network_trains_with_fit(blobs, rng):
    X, y = blobs(rng, 40)
    net = nnlib.PerExampleNetwork([4, 5, 2], rng=0)
    h = nnlib.fit(net, X.astype(np.float64), y, nnlib.SGD(0.8), epochs=30, verbose=False)
    assert h.loss[-1] < h.loss[0]
    assert nnlib.evaluate(net, X.astype(np.float64), y)[1] > 0.9


def test_metrics():
    C = nnlib.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
    np.testing.assert_array_equal(C, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_allclose(nnlib.per_class_accuracy(C), [1, 0.5, 1])
    P = np.array([[0.1, 0.9], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    np.testing.assert_array_equal(nnlib.most_confident_mistakes(P, np.array([0, 0, 0, 1]), k=5), [0, 3, 2])


# ---- Issue 9 -------------------------------------------------------------------------------------


def test_history_weights_batches_by_size_and_counts_accuracy(blobs, rng):
    X, y = blobs(rng, 7)
    model, twin = nnlib.mlp([4, 3, 2], rng=0), nnlib.mlp([4, 3, 2], rng=0)
    h = nnlib.fit(model, X, y, nnlib.SGD(0.3), epochs=1, batch_size=3, rng=11, verbose=False)
    # the same epoch by hand: batches of 3, 3 and 1 in the order fit draws them
    order, opt = np.random.default_rng(11).permutation(7), nnlib.SGD(0.3)
    example_losses, hits, batch_means = [], 0, []
    for idx in (order[:3], order[3:6], order[6:]):
        P = twin.predict_proba(X[idx])  # before this batch's step, as fit sees it
        losses = -np.log(P[np.arange(len(idx)), y[idx]].astype(np.float64))
        example_losses += list(losses)
        batch_means.append(losses.mean())
        hits += int((P.argmax(axis=1) == y[idx]).sum())
        opt.step(twin.params, twin.loss_and_grads(X[idx], y[idx])[1])
    assert h.loss[0] == pytest.approx(np.mean(example_losses), rel=1e-5)
    assert abs(np.mean(batch_means) - np.mean(example_losses)) > 1e-3  # an unweighted mean would differ
    assert h.train_acc[0] == hits / 7
    np.testing.assert_array_equal(model.params["W1"], twin.params["W1"])


def test_divergence_restores_optimiser_and_batchnorm_state(blobs, rng):
    X, y = blobs(rng, 64)
    model = nnlib.mlp([4, 8, 2], rng=0, batchnorm=True)
    opt = nnlib.Momentum(0.1, 0.9)
    saved = {}

    def remember(epoch, history):
        saved["opt"] = opt.state_dict()
        saved["params"] = {k: v.copy() for k, v in model.params.items()}
        saved["state"] = {k: v.copy() for k, v in model.state.items()}

    with pytest.raises(nnlib.TrainingDiverged, match="epoch 2"):
        nnlib.fit(
            model,
            X * 1e3,
            y,
            opt,
            epochs=3,
            batch_size=8,
            verbose=False,
            callback=remember,
            lr_schedule=lambda e: 0.1 if e == 1 else 1e30,
        )
    for k, v in saved["params"].items():
        np.testing.assert_array_equal(model.params[k], v)
    for k, v in saved["state"].items():
        np.testing.assert_array_equal(model.state[k], v)
    for k, v in saved["opt"]["buffers"]["v"].items():
        np.testing.assert_array_equal(opt.state_dict()["buffers"]["v"][k], v)
    # the error's advice works: a smaller rate, fit again, and training goes on from where it was
    opt.lr = 0.05
    h = nnlib.fit(model, X * 1e3, y, opt, epochs=1, batch_size=8, verbose=False)
    assert np.isfinite(h.loss[0]) and h.loss[0] < 10


def test_adam_step_count_is_restored_on_divergence(blobs, rng):
    X, y = blobs(rng, 32)
    opt = nnlib.Adam(1e-3)
    with pytest.raises(nnlib.TrainingDiverged):
        nnlib.fit(
            nnlib.mlp([4, 8, 2], rng=0),
            X * 1e20,
            y,
            opt,
            epochs=2,
            batch_size=8,
            verbose=False,
            lr_schedule=lambda e: 1e-3 if e == 1 else 1e30,
        )
    assert opt.t == 4  # the 4 steps of epoch 1, not more


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf")])
def test_fit_rejects_a_schedule_that_returns_a_bad_rate(blobs, bad, rng):
    X, y = blobs(rng, 16)
    with pytest.raises(ValueError, match=r"lr_schedule\(2\) returned"):
        nnlib.fit(
            nnlib.mlp([4, 3, 2]),
            X,
            y,
            nnlib.SGD(0.1),
            epochs=3,
            verbose=False,
            lr_schedule=lambda e: 0.1 if e == 1 else bad,
        )


def test_fit_leaves_the_callers_arrays_alone(blobs, rng):
    X, y = blobs(rng, 30)
    X0, y0 = X.copy(), y.copy()
    nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.Momentum(0.1), epochs=2, batch_size=7, verbose=False)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def _params(model):
    return {k: v.copy() for k, v in model.params.items()}


def _assert_params(model, saved):
    for k, v in saved.items():
        np.testing.assert_array_equal(model.params[k], v, err_msg=k)


def test_a_diverging_last_step_of_an_epoch_is_undone(blobs, rng):
    # full batch: every step is the last of its epoch, and no loss is computed after it within the epoch
    X, y = blobs(rng)
    model = nnlib.mlp([4, 8, 2], rng=0)
    start = _params(model)
    with pytest.raises(nnlib.TrainingDiverged, match="the last step of epoch 1 left W1 with NaN or infinite entries"):
        nnlib.fit(model, X, y, nnlib.SGD(1e300), epochs=1, verbose=False)
    _assert_params(model, start)
    # mini-batches whose loss stays finite until the epoch's end: the model is finite after the error
    model = nnlib.mlp([4, 8, 2], rng=0)
    with pytest.raises(nnlib.TrainingDiverged) as info:
        nnlib.fit(model, X, y, nnlib.SGD(1e8), epochs=10, verbose=False)
    assert all(np.isfinite(p).all() for p in model.params.values())
    assert np.isfinite(nnlib.evaluate(model, X, y)[0])
    h = info.value.history
    assert len(h.loss) < 10 and len(h.loss) == len(h.train_acc) == len(h.seconds)


def test_a_non_finite_validation_loss_stops_training(blobs, rng):
    X, y = blobs(rng)
    model = nnlib.mlp([4, 8, 2], rng=0)
    start = _params(model)
    X_val = np.full((10, 4), 3e38, np.float32)  # finite inputs whose logits overflow
    with pytest.raises(nnlib.TrainingDiverged, match="validation loss became (inf|nan) after epoch 1"):
        nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=2, batch_size=20, validation=(X_val, y[:10]), verbose=False)
    _assert_params(model, start)


@pytest.mark.parametrize("name", ["callback", "lr_schedule", "augment"])
def test_a_callback_that_is_not_a_function_is_refused_up_front(blobs, rng, name):
    X, y = blobs(rng)
    model = nnlib.mlp([4, 8, 2], rng=0)
    start = _params(model)
    with pytest.raises(TypeError, match=f"{name} must be a function"):
        nnlib.fit(model, X, y, nnlib.SGD(0.1), epochs=1, batch_size=20, verbose=False, **{name: 5})
    _assert_params(model, start)


@pytest.mark.parametrize(
    "augment, message",
    [
        (lambda Xb, rng: Xb[:, :3].copy(), r"it returned \(20, 3\) float32"),
        (lambda Xb, rng: Xb.astype(np.uint8), r"it returned \(20, 4\) uint8"),
        (lambda Xb, rng: Xb.tolist(), "it returned list"),
    ],
)
def test_an_augment_that_changes_the_batch_is_named(blobs, rng, augment, message):
    X, y = blobs(rng)
    with pytest.raises(
        ValueError,
        match="augment\\(X_batch, rng\\) must return an array of the batch's shape and dtype, "
        "\\(20, 4\\) float32; " + message.split("; ")[-1],
    ):
        nnlib.fit(nnlib.mlp([4, 8, 2], rng=0), X, y, nnlib.SGD(0.1), batch_size=20, augment=augment, verbose=False)


def test_an_interrupted_epoch_leaves_no_half_applied_step(blobs, rng, capsys):
    X, y = blobs(rng)
    model, opt = nnlib.mlp([4, 8, 2], rng=0), nnlib.Momentum(0.1)
    nnlib.fit(model, X, y, opt, epochs=1, batch_size=20, verbose=False)
    after_one, opt_after_one = _params(model), opt.state_dict()
    calls = []

    def stop_on_the_fourth_batch(Xb, rng):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return Xb.copy()

    with pytest.raises(KeyboardInterrupt):
        nnlib.fit(model, X, y, opt, epochs=3, batch_size=20, augment=stop_on_the_fourth_batch, verbose=False)
    _assert_params(model, after_one)
    np.testing.assert_array_equal(opt.state_dict()["buffers"]["v"]["W1"], opt_after_one["buffers"]["v"]["W1"])
    assert "interrupted in epoch 1: the parameters and the optimiser's state are back" in capsys.readouterr().out


# ---- fit is the loop of notebook 07, for any per-example shape ----------------------------------


class _Images:
    """A model that takes images (N, 1, 28, 28): nnlib.mlp on the flattened rows, for fit's sake."""

    def __init__(self, sizes, rng=0):
        self.net = nnlib.mlp(sizes, rng=rng)
        self.params, self.n_in, self.n_out = self.net.params, (1, 28, 28), self.net.n_out

    def check_input(self, X, name="X"):
        X = np.asarray(X, dtype=np.float32)
        assert X.shape[1:] == self.n_in, X.shape
        return X

    def check_targets(self, Y, n, name="X"):
        return self.net.check_targets(Y, n, name)

    def loss_and_grads(self, X, Y):
        return self.net.loss_and_grads(X.reshape(len(X), -1), Y)

    def loss_and_output(self, X, Y):
        return self.net.loss_and_output(X.reshape(len(X), -1), Y)


@pytest.mark.parametrize("batch_size, l2", [(64, 0.0), (None, 1e-3)])
def test_fit_trains_on_images_as_it_does_on_flat_rows(batch_size, l2):
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 784), dtype=np.float32), rng.integers(0, 10, 300)
    flat, images = nnlib.mlp([784, 16, 10], rng=0), _Images([784, 16, 10], rng=0)
    runs = [
        nnlib.fit(
            model,
            data,
            y,
            nnlib.Momentum(0.1),
            epochs=2,
            batch_size=batch_size,
            rng=3,
            l2=l2,
            augment=nnlib.random_shift,
            validation=(data[:50], y[:50]),
            verbose=False,
        )
        for model, data in ((flat, X), (images, X.reshape(300, 1, 28, 28)))
    ]
    for key in ("loss", "train_acc", "val_loss", "val_acc"):
        assert getattr(runs[0], key) == getattr(runs[1], key), key
    for k, p in flat.params.items():
        np.testing.assert_array_equal(images.params[k], p, err_msg=k)


def test_fit_takes_its_batches_from_nnlib_minibatches(blobs, rng, monkeypatch):
    X, y = blobs(rng, 50)
    seen = []
    real = nnlib.train.minibatches

    def recording(X, Y, batch_size, rng, shuffle=True):
        seen.append((len(X), batch_size, shuffle))
        return real(X, Y, batch_size, rng, shuffle=shuffle)

    monkeypatch.setattr(nnlib.train, "minibatches", recording)
    nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), epochs=2, batch_size=16, verbose=False)
    assert seen == [(50, 16, True), (50, 16, True)]  # one call per epoch, shuffled
    seen.clear()
    nnlib.fit(nnlib.mlp([4, 3, 2]), X, y, nnlib.SGD(0.1), epochs=1, batch_size=80, verbose=False)
    assert seen == [(50, 50, False)]  # full batch: the rows in their order


def test_an_epoch_is_the_loop_of_notebook_06(blobs, rng):
    X, y = blobs(rng, 45)
    model, twin = nnlib.mlp([4, 5, 2], rng=0), nnlib.mlp([4, 5, 2], rng=0)
    h = nnlib.fit(model, X, y, nnlib.Momentum(0.2), epochs=2, batch_size=8, rng=4, verbose=False)
    opt, gen, Y = nnlib.Momentum(0.2), np.random.default_rng(4), nnlib.one_hot(y, 2)
    for epoch in range(2):
        total = 0.0
        for Xb, Yb in nnlib.minibatches(X, Y, 8, gen):
            loss, grads, _ = twin.loss_and_grads(Xb, Yb)
            opt.step(twin.params, grads)
            total += loss * len(Xb)
        assert h.loss[epoch] == total / len(X)
    for k, p in twin.params.items():
        np.testing.assert_array_equal(model.params[k], p, err_msg=k)
