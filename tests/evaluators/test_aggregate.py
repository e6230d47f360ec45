"""Bootstrap CIs and per-benchmark / per-subset aggregation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from medbench.evaluators.metrics import aggregate as agg
from medbench.evaluators.metrics.aggregate import aggregate, bootstrap_ci, summarize


def test_bootstrap_degenerate_cases():
    assert bootstrap_ci([0.7] * 20) == pytest.approx((0.7, 0.7))
    assert bootstrap_ci([3.0]) == (3.0, 3.0)
    low, high = bootstrap_ci([])
    assert math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], confidence=1.0)


def test_bootstrap_two_point_by_hand():
    # Values {0, 1}: a resample's mean is 0, .5 or 1 with probabilities 1/4, 1/2, 1/4, so the
    # 2.5% and 97.5% quantiles of 4000 resample means are 0 and 1.
    assert bootstrap_ci([0.0, 1.0], n_resamples=4000) == (0.0, 1.0)
    # 80% interval: the 10% quantile lies in the lower 25% mass (0), the 90% one in the upper
    # 25% mass (1).
    assert bootstrap_ci([0.0, 1.0], n_resamples=4000, confidence=0.8) == (0.0, 1.0)
    # 40% interval: the 30% / 70% quantiles both fall in the middle 50% mass -> (.5, .5).
    assert bootstrap_ci([0.0, 1.0], n_resamples=4000, confidence=0.4) == (0.5, 0.5)


def test_bootstrap_is_seeded():
    x = np.random.default_rng(0).normal(size=50)
    assert bootstrap_ci(x, seed=1) == bootstrap_ci(x, seed=1)
    assert bootstrap_ci(x, seed=1) != bootstrap_ci(x, seed=2)


def test_bootstrap_agrees_with_scipy_and_normal_theory():
    x = np.random.default_rng(42).normal(loc=1.0, scale=2.0, size=200)
    low, high = bootstrap_ci(x, n_resamples=20000)
    ref = stats.bootstrap(
        (x,), np.mean, n_resamples=20000, method="percentile", random_state=0
    ).confidence_interval
    # Independent resampling streams: agreement up to Monte-Carlo error (~0.01 here).
    assert low == pytest.approx(ref.low, abs=0.03)
    assert high == pytest.approx(ref.high, abs=0.03)
    # Normal theory: mean +- 1.96 * sd / sqrt(n) (plug-in sd, as the bootstrap).
    half = 1.96 * x.std() / math.sqrt(len(x))
    assert low == pytest.approx(x.mean() - half, abs=0.1 * half)
    assert high == pytest.approx(x.mean() + half, abs=0.1 * half)


def test_bootstrap_narrows_with_n():
    rng = np.random.default_rng(3)
    population = rng.binomial(1, 0.6, size=5000).astype(float)
    widths = []
    for n in (20, 80, 320, 1280):
        low, high = bootstrap_ci(population[:n])
        widths.append(high - low)
    # Width shrinks like 1/sqrt(n): each 4x more samples roughly halves it.
    assert all(b < a for a, b in zip(widths, widths[1:], strict=False))
    assert widths[-1] < 0.35 * widths[0]


def test_bootstrap_chunking(monkeypatch):
    x = np.random.default_rng(9).exponential(size=300)
    whole = bootstrap_ci(x, n_resamples=5000)
    monkeypatch.setattr(agg, "_CHUNK_ENTRIES", 1000)  # 3 resamples per chunk
    chunked = bootstrap_ci(x, n_resamples=5000)
    assert chunked == pytest.approx(whole, abs=0.03)
    assert chunked[0] < x.mean() < chunked[1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1, max_size=60),
    st.integers(0, 2**16),
)
def test_ci_contains_the_mean(values, seed):
    low, high = bootstrap_ci(values, n_resamples=300, seed=seed)
    mean = float(np.mean(values))
    tol = 1e-9 * (1 + abs(mean))
    assert low - tol <= mean <= high + tol


# --- aggregate ------------------------------------------------------------------------------

RECORDS = [
    {"benchmark": "VQA-RAD", "subset": "closed", "acc": 1, "n_acc": None},
    {"benchmark": "VQA-RAD", "subset": "closed", "acc": 0, "n_acc": 1.0},
    {"benchmark": "VQA-RAD", "subset": "open", "acc": True, "n_acc": float("nan")},
    {"benchmark": "VQA-RAD", "subset": "open", "acc": 1},
    {"benchmark": "SLAKE", "subset": "closed", "acc": 0, "n_acc": 0.0},
    {"benchmark": "SLAKE", "subset": "closed", "acc": 1},
    {"subset": "closed", "acc": 0},  # no benchmark key
]


def test_aggregate_by_hand():
    result = aggregate(RECORDS, ["acc", "n_acc"], by=["benchmark", ("benchmark", "subset")])
    overall = result["overall"]["metrics"]
    # acc over all 7 records: 1+0+1+1+0+1+0 = 4 -> 4/7
    assert overall["acc"]["mean"] == pytest.approx(4 / 7) and overall["acc"]["n"] == 7
    # n_acc only where given (None / NaN / missing skipped): {1.0, 0.0} -> .5
    assert overall["n_acc"]["mean"] == pytest.approx(0.5) and overall["n_acc"]["n"] == 2
    bench = result["groups"]["benchmark"]
    assert set(bench) == {"VQA-RAD", "SLAKE"}  # the record without a benchmark is left out
    assert bench["VQA-RAD"]["metrics"]["acc"]["mean"] == pytest.approx(3 / 4)
    assert bench["VQA-RAD"]["n_records"] == 4
    assert bench["SLAKE"]["metrics"]["acc"]["mean"] == pytest.approx(1 / 2)
    assert bench["SLAKE"]["metrics"]["n_acc"]["n"] == 1
    combo = result["groups"]["benchmark/subset"]
    assert set(combo) == {"VQA-RAD/closed", "VQA-RAD/open", "SLAKE/closed"}
    assert combo["VQA-RAD/open"]["metrics"]["acc"]["mean"] == 1.0
    # The pooled mean of the two benchmarks is their sample-weighted average:
    # (3/4 * 4 + 1/2 * 2) / 6 = 4/6.
    pooled = aggregate(RECORDS[:6], ["acc"])["overall"]["metrics"]["acc"]["mean"]
    assert pooled == pytest.approx((0.75 * 4 + 0.5 * 2) / 6)
    for block in [overall["acc"], bench["VQA-RAD"]["metrics"]["acc"]]:
        assert block["ci_low"] <= block["mean"] <= block["ci_high"]


def test_aggregate_is_json_serialisable_and_handles_empty_metrics():
    result = aggregate(RECORDS, ["acc", "missing_metric"], by=["subset"])
    text = json.dumps(result, allow_nan=False)  # no NaN / numpy scalars anywhere
    back = json.loads(text)
    assert back["overall"]["metrics"]["missing_metric"] == {
        "mean": None,
        "ci_low": None,
        "ci_high": None,
        "n": 0,
    }
    assert back["settings"] == {"n_resamples": 1000, "confidence": 0.95, "seed": 0}
    assert summarize([]) == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    with pytest.raises(ValueError):
        aggregate(RECORDS, ["acc"], by=[()])
