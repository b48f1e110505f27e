"""``fit`` gives bit-identical numbers for the same seeds, as the stored outputs of the notebooks need.

The numbers below were first recorded (two BLAS threads) with the code of release 0.2.0 (before ``fit`` was rewritten around
``nnlib.minibatches``): the history of each run (every float exactly) and a sha256 of its final parameters and
state. A change to the shuffle order, the batches, the order of a sum or an optimiser's rounding changes them.
The runs with Adam, AdamW and RMSProp were recorded again when their updates became the formulas of notebook 12
(``m_hat``, ``s_hat``): their last bits moved, nothing else did.
If a change is meant to move them, say so (which notebook outputs change) and record them again with
``python tests/test_fit_pinned.py``. They are now kept as recorded with one BLAS thread
(``OPENBLAS_NUM_THREADS=1 python tests/test_fit_pinned.py``), the environment of ``pytest --nbval``'s workers.
Bits hold only where they were recorded (``RECORDED_ON``: numpy build, OpenBLAS version, kernel and threads, see
``tests/pins.py``); elsewhere these tests skip and say why.
"""

import json
import sys

import numpy as np
import pytest

import nnlib
from nnlib import SGD, Adam, BatchNorm, Dropout, Linear, Model, Momentum, ReLU, SoftmaxCrossEntropy, mlp, random_shift

import pins  # tests/pins.py: where pinned bits hold, and their sha256


def _data():
    rng = np.random.default_rng(123)
    X = rng.random((2000, 784), dtype=np.float32)  # 2000 = 31 * 64 + 16: a smaller last batch
    y = rng.integers(0, 10, 2000)
    X_val = rng.random((300, 784), dtype=np.float32)
    y_val = rng.integers(0, 10, 300)
    return X, y, X_val, y_val


def _layered():
    return Model([Linear(784, 32), BatchNorm(32), ReLU(), Dropout(0.2), Linear(32, 10), SoftmaxCrossEntropy()], rng=0)


RUNS = {
    "sgd_b64_val": dict(opt=lambda: SGD(0.1), batch_size=64, epochs=2),
    "momentum_b64_l2": dict(opt=lambda: Momentum(0.05, 0.9), batch_size=64, epochs=2, l2=1e-3),
    "adam_b64_augment": dict(opt=lambda: Adam(1e-3), batch_size=64, epochs=2, augment=random_shift),
    "sgd_full": dict(opt=lambda: SGD(0.5), batch_size=None, epochs=3),
    "momentum_full_l2": dict(opt=lambda: Momentum(0.3, 0.8, form="classical"), batch_size=None, epochs=3, l2=1e-2),
    "model_bn_dropout_momentum": dict(
        model=_layered, opt=lambda: Momentum(0.05, 0.9), batch_size=128, epochs=2, l2=1e-4, augment=random_shift
    ),
    "adam_b2000_cos": dict(
        opt=lambda: Adam(3e-3), batch_size=5000, epochs=3, lr_schedule=nnlib.cosine_schedule(3e-3, 3)
    ),
    "rmsprop_b64": dict(opt=lambda: nnlib.RMSProp(1e-3), batch_size=64, epochs=2),
    "adamw_b100_cos": dict(
        opt=lambda: nnlib.AdamW(1e-3, weight_decay=0.05),
        batch_size=100,
        epochs=2,
        lr_schedule=nnlib.cosine_schedule(1e-3, 2),
    ),
}


def run(name) -> dict:
    X, y, X_val, y_val = _data()
    settings = dict(RUNS[name])
    model = settings.pop("model", lambda: mlp([784, 30, 10], rng=0))()
    h = nnlib.fit(model, X, y, settings.pop("opt")(), rng=1, validation=(X_val, y_val), verbose=False, **settings)
    return {
        "loss": h.loss,
        "train_acc": h.train_acc,
        "val_loss": h.val_loss,
        "val_acc": h.val_acc,
        "params_sha256": pins.sha256(model.params),
        "state_sha256": pins.sha256(getattr(model, "state", {}), names=False),
    }


PINNED = {
    "adam_b2000_cos": {
        "loss": [2.66320751953125, 2.6067900390625, 2.41735107421875],
        "params_sha256": "36d000e64139383d5a41ae5f8f417da6e93a5c40116010ea77879f3cc6ad9ef2",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0945, 0.094, 0.093],
        "val_acc": [0.09333333333333334, 0.09666666666666666, 0.1],
        "val_loss": [2.6389558919270835, 2.4385005696614583, 2.388497314453125],
    },
    "adam_b64_augment": {
        "loss": [2.3398909339904783, 2.3027162055969237],
        "params_sha256": "25b979ee87165ca959e30302e1ae6a1b88bc59341d073b606ca1899c1809779e",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.105, 0.107],
        "val_acc": [0.09, 0.07666666666666666],
        "val_loss": [2.3012459309895834, 2.3029878743489585],
    },
    "adamw_b100_cos": {
        "loss": [2.3540878829956053, 2.2997248306274414],
        "params_sha256": "f7165de3263c86dcb0f715d648740f1949e37d59b1eaf3caa52020fed79bcd6c",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0965, 0.0985],
        "val_acc": [0.10666666666666667, 0.09666666666666666],
        "val_loss": [2.3075274658203124, 2.3149064127604166],
    },
    "model_bn_dropout_momentum": {
        "loss": [2.6902529220581055, 2.5983344802856445],
        "params_sha256": "fa1bd9c19df5b301084483f4fc9791a02a6e7c530d660b41e56d3d043eadbadb",
        "state_sha256": "b5fd89e49a5c68d34c8dae272bbbf17e065e4f1e7e857dfa766c15c09c844f82",
        "train_acc": [0.102, 0.11],
        "val_acc": [0.07333333333333333, 0.07333333333333333],
        "val_loss": [2.659631754557292, 2.626263224283854],
    },
    "momentum_b64_l2": {
        "loss": [2.3659290237426758, 2.300825019836426],
        "params_sha256": "eb60142b64fc072509c87415b80cf79119304f30d06afbbe8b6fb8a46a420813",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0945, 0.117],
        "val_acc": [0.10666666666666667, 0.08333333333333333],
        "val_loss": [2.310827229817708, 2.3098734537760417],
    },
    "momentum_full_l2": {
        "loss": [2.66320751953125, 2.770133544921875, 2.30097021484375],
        "params_sha256": "0ebc2a1a02276c9827183c53239e27c6bf5b67e9084dc427e4a3de49dc8363bf",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0945, 0.094, 0.106],
        "val_acc": [0.09, 0.08666666666666667, 0.07333333333333333],
        "val_loss": [2.8511808268229166, 2.30596435546875, 2.3091617838541665],
    },
    "rmsprop_b64": {
        "loss": [2.3290890769958494, 2.306245147705078],
        "params_sha256": "ea66fcf355a77616c16e87b565084059dbda63a43c5d63291c34c749fd3d821d",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0895, 0.1055],
        "val_acc": [0.09666666666666666, 0.08666666666666667],
        "val_loss": [2.3020556640625, 2.3088311767578125],
    },
    "sgd_b64_val": {
        "loss": [2.323336437225342, 2.302079746246338],
        "params_sha256": "502fd3313930e3acc04cc396ad641ec20cda97363c3e06965236511bf0c7dd70",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.093, 0.103],
        "val_acc": [0.09, 0.07333333333333333],
        "val_loss": [2.303236897786458, 2.3052303059895833],
    },
    "sgd_full": {
        "loss": [2.66320751953125, 3.44897119140625, 2.30181494140625],
        "params_sha256": "56c935032bdb55401c4d2158455cb80fcdbe1fe2925ea4ebfa5bd824da8f8137",
        "state_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "train_acc": [0.0945, 0.094, 0.106],
        "val_acc": [0.09, 0.08666666666666667, 0.09666666666666666],
        "val_loss": [3.5984712727864583, 2.306058146158854, 2.311681925455729],
    },
}


RECORDED_ON = "numpy 2.4.6 | openblas 0.3.31.188.0 Haswell, 1 thread"  # pins.signature() where PINNED was recorded


@pins.skip_unless(RECORDED_ON)
@pytest.mark.parametrize("name", sorted(RUNS))
def test_fit_gives_the_pinned_numbers(name):
    got, pinned = run(name), PINNED[name]
    for key in ("loss", "train_acc", "val_loss", "val_acc"):
        assert np.array_equal(got[key], pinned[key]), (key, got[key], pinned[key])
    assert got["params_sha256"] == pinned["params_sha256"], "the final parameters changed"
    assert got["state_sha256"] == pinned["state_sha256"], "the final state (batch norm's statistics) changed"


if __name__ == "__main__":  # print the numbers to pin, after a change that is meant to move them
    json.dump({name: run(name) for name in RUNS}, sys.stdout, indent=1)
