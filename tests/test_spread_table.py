"""The notebooks' bands against the table of what was measured (notebooks/spread.csv, made by notebooks/spread.py).

Every check a notebook prints must have a row in the table, measured over at least five seeds and the
kernel variants, and its band must hold every value measured with a margin: a tenth of the band's width
inside each edge (for ``expected below L``: at most half of L). A band that a measurement on another seed
or kernel leaves fails here, before it fails a learner on another machine.
"""

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
import spread  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ROWS = {(r["notebook"], r["label"]): r for r in spread.read_table()} if spread.TABLE.exists() else {}
MIN_SEEDS = 5
VARIANTS = {"default", "sandybridge1"}  # CI's two notebook passes (seeds 2 to 4 ran with one BLAS thread)
MARGIN = 0.1  # of the band's width, inside each edge
BELOW_MARGIN = 0.5  # for "expected below L": measured values at most half of L


def measured(row):
    return [float(row[k]) for k in ("seed_low", "seed_high", "variant_low", "variant_high")]


def fits(low, high, values):
    if math.isinf(low):
        return max(values) <= (high * BELOW_MARGIN if high > 0 else high - abs(high) * BELOW_MARGIN)
    margin = MARGIN * (high - low)
    return low + margin <= min(values) and max(values) <= high - margin


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_band_holds_what_was_measured(path):
    checks = spread.stored_checks(path)
    labels = [label for label, _ in checks]
    assert len(labels) == len(set(labels)), (
        f"two checks share a label: {sorted(l for l in labels if labels.count(l) > 1)}"
    )
    missing, narrow = [], []
    for label, band in checks:
        row = ROWS.get((path.stem, label))
        if row is None:
            missing.append(label)
            continue
        low, high = spread.band_limits(band)
        if not fits(low, high, measured(row)):
            narrow.append(
                f"{label}: band {band}, measured {row['seed_low']}..{row['seed_high']} over seeds "
                f"{row['seeds']}, {row['variant_low']}..{row['variant_high']} over {row['variants']}"
            )
    assert not missing, (
        f"not in notebooks/spread.csv (run `python notebooks/spread.py {path.stem[:2]} --write`): {missing}"
    )
    assert not narrow, "bands that do not hold what was measured, with the margin:\n" + "\n".join(narrow)


def test_the_table_is_committed():
    assert spread.TABLE.exists(), "notebooks/spread.csv is missing: run `python notebooks/spread.py --write`"


def test_every_row_covers_five_seeds_and_the_kernels():
    for (notebook, label), row in ROWS.items():
        seeds, variants = row["seeds"].split(), set(row["variants"].split())
        assert len(seeds) >= MIN_SEEDS, f"{notebook} / {label}: measured over seeds {seeds} only"
        assert VARIANTS <= variants, f"{notebook} / {label}: measured under {sorted(variants)} only"


def test_no_row_outlives_its_check():
    current = {(p.stem, label) for p in NOTEBOOKS for label, _ in spread.stored_checks(p)}
    stale = sorted(set(ROWS) - current)
    assert not stale, f"rows of checks no notebook prints any more (remove them, or re-run spread.py): {stale}"


@pytest.mark.parametrize(
    "band, limits",
    [
        ("expected 98.0% ± 0.5", (0.975, 0.985)),
        ("expected 0.39 ± 0.02", (0.37, 0.41)),
        ("expected 87% to 91%", (0.87, 0.91)),
        ("expected 0.05 to 0.2", (0.05, 0.2)),
        ("expected below 1e-06", (-math.inf, 1e-6)),
        ("expected below 30%", (-math.inf, 0.3)),
    ],
)
def test_bands_are_read_as_printed(band, limits):
    assert spread.band_limits(band) == pytest.approx(limits)


def test_the_margin_rule():
    assert fits(0.97, 0.99, [0.975, 0.985])
    assert not fits(0.97, 0.99, [0.971, 0.98])  # inside the band, but too close to its edge
    assert fits(-math.inf, 1e-6, [1e-9, 4e-7]) and not fits(-math.inf, 1e-6, [6e-7])


def test_check_lines_are_parsed_with_labels_that_hold_parentheses():
    m = spread.CHECK_LINE.match("sigmoid  rel_error(analytic, numerical) 2.6e-08 (expected below 1e-06): ok")
    assert m["label"] == "sigmoid  rel_error(analytic, numerical)" and m["band"] == "expected below 1e-06"


def test_reseeding_shifts_every_seed_and_nothing_else():
    source = (
        "m = nnlib.mlp(SIZES, rng=0)\nrng = np.random.default_rng(2)\ndef f(seed=1): pass\n"
        "model = nnlib.mlp(s, rng=seed)\nopt = make(rng, lr=0.1)"
    )
    assert spread.reseed(source, 3) == (
        "m = nnlib.mlp(SIZES, rng=0 + 3)\nrng = np.random.default_rng(2 + 3)\ndef f(seed=1 + 3): pass\n"
        "model = nnlib.mlp(s, rng=seed + 3)\nopt = make(rng, lr=0.1)"
    )
    assert spread.reseed(source, 0) == source
