"""Aggregation of per-sample metric values: means, percentile-bootstrap CIs, counts.

Paper 001 (sec. 4.2, Table 1) reports per-benchmark accuracy and an average "that scales by the
number of samples in each benchmark", i.e. the mean over all pooled samples; that is the
``overall`` entry here. Confidence intervals are the percentile bootstrap of the mean (Efron &
Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13); the papers report none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["bootstrap_ci", "summarize", "aggregate"]

# Resampled index matrices are built in chunks of at most this many entries (~32 MiB of int64).
_CHUNK_ENTRIES = 1 << 22


def bootstrap_ci(
    per_sample_values: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean: ``(low, high)``.

    Draw ``n_resamples`` samples of size n with replacement (``numpy.random.default_rng(seed)``),
    take each one's mean, and return the (1 - confidence) / 2 and (1 + confidence) / 2
    quantiles of those means (``numpy.quantile``, linear interpolation). Vectorised, in chunks
    so memory stays bounded for large n. Empty input gives (nan, nan); one value v gives (v, v).
    NaN values are not allowed (drop them first).
    """
    values = np.asarray(per_sample_values, dtype=float).reshape(-1)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if np.isnan(values).any():
        raise ValueError("per_sample_values contains NaN")
    n = values.size
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    rows = max(1, _CHUNK_ENTRIES // n)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _clean(x: Any) -> float | None:
    """A record's metric value as a float, or None when absent (None / NaN)."""
    if x is None:
        return None
    v = float(x)  # bools become 0.0 / 1.0
    return None if math.isnan(v) else v


def summarize(
    per_sample_values: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """``{"mean", "ci_low", "ci_high", "n"}`` for one list of values (None / NaN skipped).

    Empty input gives ``mean`` / ``ci_*`` None (JSON null) and ``n`` 0.
    """
    values = [v for v in (_clean(x) for x in per_sample_values) if v is not None]
    if not values:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    low, high = bootstrap_ci(values, n_resamples=n_resamples, confidence=confidence, seed=seed)
    return {"mean": float(np.mean(values)), "ci_low": low, "ci_high": high, "n": len(values)}


def _group_name(key: str | Sequence[str]) -> tuple[str, tuple[str, ...]]:
    keys = (key,) if isinstance(key, str) else tuple(key)
    if not keys:
        raise ValueError("empty grouping")
    return "/".join(keys), keys


def aggregate(
    per_sample_records: Sequence[Mapping[str, Any]],
    metric_names: Sequence[str],
    by: Sequence[str | Sequence[str]] = (),
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Means, bootstrap CIs and counts per metric, over all records and per group.

    ``per_sample_records``: one mapping per sample holding metric values (numbers or bools;
    None / NaN / a missing key mean "not applicable", e.g. N-acc on a targeted sample, and are
    skipped for that metric only) and grouping keys (e.g. ``"benchmark"``, ``"subset"``).
    ``by``: groupings; a string groups by that key, a sequence of keys by their combination
    (named "k1/k2", values joined the same way). Records lacking a grouping key are left out
    of that grouping. Returns plain JSON-serialisable dicts::

        {"n_records": N,
         "settings": {"n_resamples": ..., "confidence": ..., "seed": ...},
         "overall": {"n_records": N, "metrics": {metric: {"mean", "ci_low", "ci_high", "n"}}},
         "groups": {"benchmark": {"VQA-RAD": {"n_records": k, "metrics": {...}}, ...}, ...}}

    ``overall`` pools all samples, so its mean is the sample-weighted average of the group means
    (paper 001's "Avg."). Every CI uses the same ``seed``.
    """
    records = list(per_sample_records)
    kw = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}

    def block(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "n_records": len(rows),
            "metrics": {m: summarize([r.get(m) for r in rows], **kw) for m in metric_names},
        }

    groups: dict[str, dict[str, Any]] = {}
    for key in by:
        name, keys = _group_name(key)
        members: dict[str, list[Mapping[str, Any]]] = {}
        for r in records:
            if all(k in r and r[k] is not None for k in keys):
                members.setdefault("/".join(str(r[k]) for k in keys), []).append(r)
        groups[name] = {value: block(rows) for value, rows in sorted(members.items())}
    return {
        "n_records": len(records),
        "settings": dict(kw),
        "overall": block(records),
        "groups": groups,
    }
