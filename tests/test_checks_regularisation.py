"""nnlib.checks.check_dropout (notebook 11): it passes on a correct pair (the notebook's solution, written again here,
and nnlib.Dropout itself) and fails on each typical wrong version with the hint meant for it; a stub is reported as
not implemented yet; the check is deterministic (the same verdict and message twice)."""

import numpy as np
import pytest

import nnlib
from nnlib import checks

from checking import fails, passes, stub  # tests/checking.py


# -- the right answer (as in the notebook), with switches for the typical mistakes ------------------------------


def forward(
    A,
    p,
    rng,
    no_rescale=False,
    keep_p=False,
    times=False,
    by_p=False,
    in_place=False,
    float64=False,
    none_mask=False,
    bool_mask=False,
    global_rng=False,
    cached=[],  # noqa: B006 (on purpose: a wrong dropout that reuses one mask across calls)
):
    u = (
        np.random.random(A.shape)
        if global_rng
        else cached[0]
        if cached and cached[0].shape == A.shape
        else rng.random(A.shape, dtype=np.float32)
    )
    keep = u < p if keep_p else u >= p
    dtype = np.float64 if float64 else A.dtype
    keep = keep.astype(dtype)
    mask = keep if no_rescale else keep * (1 - p) if times else keep / p if by_p else keep / (1 - p)
    if in_place:
        A *= mask
        out = A
    else:
        out = A * mask
    return out, (None if none_mask else keep.astype(bool) if bool_mask else mask)


def backward(dout, mask):
    return dout * mask


def forward_with(**mistake):
    return lambda A, p, rng: forward(A, p, rng, **mistake)


# -- passes ---------------------------------------------------------------------------------------------------


def test_passes_on_the_solution(capsys):
    assert passes(capsys, checks.check_dropout, forward, backward).startswith("dropout: 10 checks passed")


def test_passes_on_nnlib_dropout(capsys):
    def with_layer(A, p, rng):
        return nnlib.Dropout(p, rng=rng).forward(A, training=True) if p else (A * 1, np.ones_like(A))

    def layer_backward(dout, mask):
        return nnlib.Dropout(0.5).backward(dout, mask)

    passes(capsys, checks.check_dropout, with_layer, layer_backward)


def test_matches_nnlib_number_for_number():
    """The notebook's comparison: the solution and nnlib.Dropout, on the same random numbers, agree exactly."""
    A = np.random.default_rng(1).random((4, 6), dtype=np.float32)
    ours, mask = forward(A, 0.5, np.random.default_rng(7))
    theirs, their_mask = nnlib.Dropout(0.5, rng=np.random.default_rng(7)).forward(A, training=True)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(mask, their_mask)


def test_is_deterministic(capsys):
    first = passes(capsys, checks.check_dropout, forward, backward)
    assert passes(capsys, checks.check_dropout, forward, backward) == first
    one = fails(capsys, checks.check_dropout, forward_with(no_rescale=True), backward, hint="not rescaled")
    assert fails(capsys, checks.check_dropout, forward_with(no_rescale=True), backward, hint="not rescaled") == one


def test_stub(capsys):
    assert checks.check_dropout(stub, backward).passed is False
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Traceback" not in out
    assert checks.check_dropout(forward, stub).passed is False
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "Traceback" not in out


# -- forward mistakes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (dict(no_rescale=True), "not rescaled"),  # mean shrinks
        (dict(keep_p=True), "probability of DROPPING"),  # keeps with probability p
        (dict(times=True), "multiplied by (1 - p)"),  # scaling by (1 - p) instead of dividing
        (dict(by_p=True), "divided by p"),
        (dict(in_place=True), "changed A itself"),
        (dict(float64=True), "Your mask is float64"),  # float32 activations turned into float64
        (dict(none_mask=True), "your mask is None"),  # mask not saved
        (dict(bool_mask=True), "holds 0 and 1"),
        (dict(global_rng=True), "seeded alike gave different masks"),
    ],
)
def test_forward_mistakes(capsys, mistake, hint):
    fails(capsys, checks.check_dropout, forward_with(**mistake), backward, hint=hint)


def test_global_seeded_generator_is_caught(capsys):
    def seeded_here(A, p, rng):
        return forward(A, p, np.random.default_rng(0))

    fails(capsys, checks.check_dropout, seeded_here, backward, hint="different seeds gave the same mask")


def test_same_mask_every_call(capsys):
    store = {}

    def cached(A, p, rng):
        if A.shape not in store:
            store[A.shape] = rng.random(A.shape, dtype=np.float32)
        return forward(A, p, rng, cached=[store[A.shape]])

    # the first two calls with fresh generators seeded 5 and 6 already give one mask: caught as not using rng
    fails(capsys, checks.check_dropout, cached, backward, hint="different seeds gave the same mask")


def test_new_mask_per_seed_but_not_per_call(capsys):
    seen = []  # (generator, its one mask): the generators are kept alive, so none is mistaken for another

    def per_generator(A, p, rng):
        mine = [u for g, u in seen if g is rng and u.shape == A.shape]
        if not mine:
            mine = [rng.random(A.shape, dtype=np.float32)]
            seen.append((rng, mine[0]))
        return forward(A, p, rng, cached=mine)

    fails(capsys, checks.check_dropout, per_generator, backward, hint="draw a new mask at every call")


def test_nothing_dropped(capsys):
    fails(
        capsys, checks.check_dropout, lambda A, p, rng: (A * 1, np.ones_like(A)), backward, hint="nothing was dropped"
    )


def test_wrong_return(capsys):
    fails(
        capsys,
        checks.check_dropout,
        lambda A, p, rng: forward(A, p, rng)[0],
        backward,
        hint="must return a pair (out, mask)",
    )


def test_wrong_fraction(capsys):
    fails(capsys, checks.check_dropout, lambda A, p, rng: forward(A, p / 2, rng), backward, hint="should be")


def test_returns_random_numbers_as_mask(capsys):
    def raw(A, p, rng):
        u = rng.random(A.shape, dtype=np.float32)
        return A * (u >= p).astype(A.dtype) / (1 - p), u

    fails(capsys, checks.check_dropout, raw, backward, hint="not the random numbers")


def test_learner_error_is_reported_not_raised(capsys):
    def broken(A, p, rng):
        return A * rng.random(A.shape[::-1]), None

    out = fails(capsys, checks.check_dropout, broken, backward, hint="run dropout_forward")
    assert "your code raised ValueError" in out


# -- backward mistakes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_backward, hint",
    [
        (lambda dout, mask: dout, "must multiply by the mask"),  # not multiplying
        (lambda dout, mask: dout * (mask != 0), "without the 1 / (1 - p)"),
        (
            lambda dout, mask: dout * (np.random.default_rng(99).random(dout.shape) >= 0.3) / 0.7,
            "not a new random one",
        ),  # a new mask drawn
        (lambda dout, mask: dout * mask.astype(np.float64), "keep dout's dtype"),
        (lambda dout, mask: dout * mask * 2, "yours differs"),
        (lambda dout, mask: None, "must return dA"),
    ],
)
def test_backward_mistakes(capsys, bad_backward, hint):
    fails(capsys, checks.check_dropout, forward, bad_backward, hint=hint)


def test_backward_in_place(capsys):
    def in_place(dout, mask):
        dout *= mask
        return dout

    fails(capsys, checks.check_dropout, forward, in_place, hint="changed dout or mask in place")
