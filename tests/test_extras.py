"""Notebook 12's pieces: dropout, L2, learning-rate schedules, shift augmentation."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dropout, Linear, Model, ReLU, SoftmaxCrossEntropy


def test_dropout_train_and_eval(rng):
    layer = Dropout(0.25, rng=0)
    A = np.ones((2000, 50), np.float32)
    out, mask = layer.forward(A, training=True)
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.01 and abs(out.mean() - 1) < 0.02  # expectation kept
    dA = rng.normal(size=A.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dA, mask), dA * mask)
    same, cache = layer.forward(A)  # prediction: identity
    assert same is A and layer.backward(dA, cache) is dA
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_model_with_dropout_gradients_match_numerical_for_a_fixed_mask(rng):
    model = nnlib.mlp([6, 8, 3], rng=0, dtype=np.float64, dropout=0.3)
    assert any(isinstance(layer, Dropout) for layer in model.layers)
    X, Y = rng.normal(size=(5, 6)), nnlib.one_hot(rng.integers(0, 3, 5), 3, dtype=np.float64)
    drop = model.layers[2]
    state = drop.rng.bit_generator.state

    def loss():
        drop.rng.bit_generator.state = state  # the same mask at every evaluation
        return model.loss_and_grads(X, Y)[0]

    loss()
    grads = {k: v.copy() for k, v in model.grads.items()}
    for k, p in model.params.items():
        assert nnlib.rel_error(grads[k], nnlib.numerical_gradient(loss, p)) < 1e-7


def test_dropout_is_off_for_predictions_and_saved_with_the_model(tmp_path):
    model = Model([Linear(4, 8), ReLU(), Dropout(0.5), Linear(8, 2), SoftmaxCrossEntropy()])
    X = np.random.default_rng(0).random((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    loaded = nnlib.load_model(nnlib.save_model(model, tmp_path / "m.npz"))
    assert loaded.spec()[2] == {"type": "Dropout", "p": 0.5}
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_l2_adds_weight_decay_to_weights_only(rng):
    X, y = rng.random((20, 4)).astype(np.float32), rng.integers(0, 2, 20)
    a, b = nnlib.mlp([4, 3, 2], rng=0), nnlib.mlp([4, 3, 2], rng=0)
    _, grads, _ = b.loss_and_grads(X, nnlib.one_hot(y, 2))
    expected = {k: v - 0.1 * (grads[k] + (0.5 * v if k.startswith("W") else 0)) for k, v in b.params.items()}
    nnlib.fit(a, X, y, nnlib.SGD(0.1), epochs=1, l2=0.5, verbose=False)
    for k, v in expected.items():
        np.testing.assert_allclose(a.params[k], v, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="l2"):
        nnlib.fit(a, X, y, nnlib.SGD(0.1), l2=-1)


def test_schedules():
    cos = nnlib.cosine_schedule(1.0, epochs=5)  # falls towards 0, reached one epoch after the last
    np.testing.assert_allclose(
        [cos(e) for e in range(1, 6)], [1.0, 0.9045085, 0.6545085, 0.3454915, 0.0954915], atol=1e-7
    )
    assert min(cos(e) for e in range(1, 6)) > 0  # every epoch trains: fit rejects a rate of 0
    warm = nnlib.cosine_schedule(1.0, epochs=6, warmup=2, final=0.1)
    np.testing.assert_allclose(
        [warm(1), warm(2), warm(3), warm(6)], [1 / 3, 2 / 3, 1.0, 0.1 + 0.45 * (1 + np.cos(0.75 * np.pi))]
    )
    step = nnlib.step_schedule(0.5, every=2)
    np.testing.assert_allclose([step(e) for e in (1, 2, 3, 5)], [0.5, 0.5, 0.05, 0.005])


def test_fit_applies_schedule_and_augmentation(rng):
    X, y = rng.random((16, 4)).astype(np.float32), rng.integers(0, 2, 16)
    seen, lrs = [], []
    opt = nnlib.SGD(1.0)

    def augment(Xb, r):
        seen.append(Xb.shape)
        return Xb + 0

    nnlib.fit(
        nnlib.mlp([4, 3, 2]),
        X,
        y,
        opt,
        epochs=3,
        batch_size=8,
        verbose=False,
        augment=augment,
        lr_schedule=lambda e: 0.1 * e,
        callback=lambda e, h: lrs.append(opt.lr),
    )
    assert seen == [(8, 4)] * 6 and lrs == pytest.approx([0.1, 0.2, 0.3])


def test_random_shift_moves_images_without_changing_them(rng):
    img = np.zeros((28, 28), np.float32)
    img[10:14, 12:15] = rng.random((4, 3))
    X = np.repeat(img.reshape(1, 784), 400, axis=0)
    X0 = X.copy()
    out = nnlib.random_shift(X, rng=0, max_shift=2)
    np.testing.assert_array_equal(X, X0)
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_allclose(out.sum(axis=1), X.sum(axis=1), rtol=1e-6)  # nothing cut off here
    shifts = set()
    for row in out.reshape(-1, 28, 28):
        r, c = np.argwhere(row > 0).min(axis=0)
        shifts.add((r - 10, c - 12))
        np.testing.assert_array_equal(row[r : r + 4, c : c + 3], img[10:14, 12:15])
    assert shifts == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    np.testing.assert_array_equal(out, nnlib.random_shift(X, rng=0, max_shift=2))  # seeded
    with pytest.raises(ValueError, match="784"):
        nnlib.random_shift(np.zeros((2, 10)), rng=0)


def test_random_shift_takes_images_as_well_as_rows():
    X = np.random.default_rng(1).random((6, 784), dtype=np.float32)
    flat = nnlib.random_shift(X, rng=0)
    for shape in ((6, 1, 28, 28), (6, 28, 28)):
        out = nnlib.random_shift(X.reshape(shape), rng=0)
        assert out.shape == shape and out.dtype == X.dtype
        np.testing.assert_array_equal(out.reshape(6, 784), flat)
    with pytest.raises(ValueError, match=r"\(N, 784\) or \(N, 1, 28, 28\)"):
        nnlib.random_shift(np.zeros((2, 1, 14, 56)), rng=0)


def test_random_shift_equals_the_plain_loop_over_images():
    # random_shift picks each image's window out of a strided view in one fancy index; this is the loop it
    # replaces (one image at a time, the same draws of rng), and the two must agree exactly.
    def reference(X, seed, m, side=28):
        dy, dx = np.random.default_rng(seed).integers(-m, m + 1, size=(2, len(X)))
        out = np.zeros((len(X), side, side), X.dtype)
        for n, img in enumerate(X.reshape(-1, side, side)):
            padded = np.pad(img, m)
            out[n] = padded[m - dy[n] : m - dy[n] + side, m - dx[n] : m - dx[n] + side]
        return out.reshape(X.shape)

    X = np.random.default_rng(2).random((300, 784), dtype=np.float32)
    for m in (0, 1, 2, 3):
        for seed in (0, 1, 2):
            out = nnlib.random_shift(X, rng=seed, max_shift=m)
            np.testing.assert_array_equal(out, reference(X, seed, m))
            assert out.flags.writeable and out.flags.c_contiguous and not np.shares_memory(out, X)
