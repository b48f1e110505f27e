"""``Model``'s numbers stay bit-identical to release 0.2.0's (the stored notebook outputs depend on them).

Pinned with the code of release 0.2.0 (before layers chained shapes, the loss joined the layer contract
and the initialisers took shapes): the initial parameters, three ``loss_and_grads`` steps with a plain
``p -= 0.1 * g`` update (no optimiser, so this pins the model alone; ``test_fit_pinned.py`` pins ``fit``),
and an evaluation pass, as sha256 of the arrays and exact floats (tolerance 0).
Pinned first with two BLAS threads; kept as recorded with one (the environment of ``pytest --nbval``'s
workers). Print fresh numbers with ``OPENBLAS_NUM_THREADS=1 python tests/test_model_pinned.py`` if a change is *meant* to move them.
Bits hold only where they were recorded (``RECORDED_ON``: numpy build, OpenBLAS version, kernel and threads, see
``tests/pins.py``); elsewhere these tests skip and say why.
"""

import pprint
import sys

import numpy as np
import pytest

from nnlib import BatchNorm, Dropout, Linear, Model, ReLU, Sigmoid, SoftmaxCrossEntropy, mlp

import pins  # tests/pins.py: where pinned bits hold, and their sha256


def models() -> dict:
    return {
        "mlp": lambda: mlp([784, 30, 10], rng=0),
        "mlp_sigmoid_mse": lambda: mlp([784, 20, 10], hidden="sigmoid", output="sigmoid", rng=1),
        "mlp_f64_bn_do": lambda: mlp([784, 16, 10], rng=2, dtype=np.float64, dropout=0.3, batchnorm=True),
        "bn_dropout": lambda: Model(
            [Linear(784, 32), BatchNorm(32), ReLU(), Dropout(0.2), Linear(32, 10), SoftmaxCrossEntropy()], rng=0
        ),
        "xavier_uniform": lambda: Model(
            [Linear(784, 12, init="xavier"), Sigmoid(), Linear(12, 10, init="uniform", rng=5), SoftmaxCrossEntropy()],
            rng=7,
        ),
    }


def run(name) -> dict:
    rng = np.random.default_rng(42)
    X, y = rng.random((96, 784), dtype=np.float32), rng.integers(0, 10, 96)
    m = models()[name]()
    rec = {"init": pins.sha256(m.params), "losses": [], "grads": []}
    for step in range(3):
        xb, yb = X[step * 32 : (step + 1) * 32], y[step * 32 : (step + 1) * 32]
        loss, g, _ = m.loss_and_grads(xb, yb)
        rec["losses"].append(loss)
        rec["grads"].append(pins.sha256(g))
        for k in m.params:
            m.params[k][...] -= 0.1 * g[k]
    rec["eval_loss"], out = m.loss_and_output(X, y)
    rec["eval_out"], rec["final"] = pins.sha256({"o": out}), pins.sha256({**m.params, **m.state})
    return rec


PINNED = {
    "bn_dropout": {
        "eval_loss": 2.158388137817383,
        "eval_out": "f860a3642a4c0996edf2f5b8326d462a586e34042233a44c80ae16324b10d0a3",
        "final": "7fd637d048118af12eacdce3ab45765a8c6c627ed4c15bf87445e91d7fdf7e91",
        "grads": [
            "7b1ff4c2c92d2a4bc787d710b1665760a2a53a82189103306fe97d5ab7c90167",
            "af1ff4d25db4a1d4b310d4e66fb0e57958cfbff8bfda62dc3b1608c162dcc992",
            "75edf6d4b78379408c6ca937f58575e2e24f4ecdebbb4cb6474e7316c650f94f",
        ],
        "init": "47a7fce48cc4938bc3e80c9be3eabad10d34ef04218d8b8eb73157d60eeceac4",
        "losses": [2.821465015411377, 2.601208209991455, 2.6957943439483643],
    },
    "linear_W": [0.006350335199385881, -0.04772409051656723, 0.030604617670178413],
    "mlp": {
        "eval_loss": 2.238097826639811,
        "eval_out": "e23ed8f37de7dfc776f65a04806c30609628322b26066a527c47eba4304442e9",
        "final": "dd8f4aa4c923da23adaa455f4570c66bec2e27874ccce3ca63018cdc28df3909",
        "grads": [
            "da7a6331b3691f3eb32bf98885f2352209ec304185dc861360295f8300f734a8",
            "b962386011286fb9a99715b29cb988ac701c5dc1eb4949ad7d183672f0db883f",
            "27817f9060c8afd02022ca0f9702fcbdbab768ad200bd3dd71aecf6eaae7880a",
        ],
        "init": "320b013e1211ad8f8aae9a202f4c2051a9487dd1c143780dee6b1869d502cf3f",
        "losses": [2.6593470573425293, 2.4270215034484863, 2.3570401668548584],
    },
    "mlp_f64_bn_do": {
        "eval_loss": 2.361599103571199,
        "eval_out": "dc4bd4cdecbb8680f8b040d62cf6703697dc84f7f38e68e8f9c049a4b8715c52",
        "final": "e18b4c52c9a0caf4388bc65ef5074ab25697816855b7fd351fb27ff9795acd07",
        "grads": [
            "f8324f8aa8146b1e5333c064271339180bcfc408cd42b06439fb18b8cddd20ee",
            "69d21ccff2b4d051b04a5f2d04f8b14c0997d26ac64d248568f47c82877fae22",
            "86b83e48bcceeed78b0483ca6f0853546302c15c84e4bd4ebd09c76438c83b3f",
        ],
        "init": "7127fac726c5bbd6f82bf98df8dae256c87a86920e22cc27e0f0a83f901a9bbb",
        "losses": [3.373795368984811, 3.009873115431126, 3.0235021690112163],
    },
    "mlp_sigmoid_mse": {
        "eval_loss": 1.0151262283325195,
        "eval_out": "c94a53f82cc7915d50802fb66b9e210a5423344e51af07b9c672ae713d2762f1",
        "final": "987db1e4c6b8f714a03f0f07326d8663c1ae64bfaf9be824a9f138cbc78dbbe7",
        "grads": [
            "ea4259a9da77665887e16d2804911fc3d4dc9739a3c07fb925919bc52d09fd11",
            "4d15e09d7079feed74913db4b10162c918e98abbf763b8b4ea4adaccdad54a8b",
            "531a2c80e52ba3a6bf84b3778fb4f5f66c8f34f05c5afa3febe3a0db572bf1de",
        ],
        "init": "8f8598b53c1be558baa18e9eb8089d2f04becdf8217e19526f548a1e396a8b6b",
        "losses": [1.5970338582992554, 1.2723426818847656, 1.1388134956359863],
    },
    "xavier_uniform": {
        "eval_loss": 2.3289006551106772,
        "eval_out": "d7001560edea069d37acf01f6413cd39f301d012d67a20e67b5d44b5d4abd292",
        "final": "a42e154fc7aacbffd2eb2b32705aa6c29a90f769ea3784ea8c40eceeb3d34cf9",
        "grads": [
            "6eaaa5c6e6b67cc4e0115fd28962aa2f4a207e080018c4b42186b01dfa975e8c",
            "dbb3a900ac6ba94ee2b3839cbe5aececa44b03d09d8873503ba2081f0450977f",
            "547f63835179d27367d0335e4ec63bcb548ff873fff7ce97cbaba29dda28a697",
        ],
        "init": "f9ef4bd3e6ad7be3ce46dd75b049fa03597a6413b4592231b9debaac6e7339ac",
        "losses": [2.5701980590820312, 2.357257843017578, 2.3586673736572266],
    },
}


RECORDED_ON = "numpy 2.4.6 | openblas 0.3.31.188.0 Haswell, 1 thread"  # pins.signature() where PINNED was recorded


@pins.skip_unless(RECORDED_ON)
@pytest.mark.parametrize("name", sorted(models()))
def test_model_numbers_are_bit_identical_to_release_0_2_0(name):
    assert run(name) == PINNED[name]


def test_linear_parameters_for_a_seed_are_those_of_release_0_2_0():
    W = Linear(784, 30, rng=0).params["W"]
    assert [float(W[0, 0]), float(W[783, 29]), float(W[100, 7])] == PINNED["linear_W"]
    assert W.dtype == np.float32 and W.shape == (784, 30)


if __name__ == "__main__":
    pprint.pprint(
        {**{name: run(name) for name in models()}, "linear_W": PINNED["linear_W"]}, width=120, stream=sys.stdout
    )
