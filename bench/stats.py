"""Percentiles of timed samples (nearest rank: a value that was actually observed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import mean
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile: the smallest sample with at least p % of the samples
    at or below it (of 100 samples, p99 is the 99th smallest; of 50, the largest)."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ms: Sequence[float]) -> dict[str, Any]:
    """p50, p99, mean, min and max of timings in milliseconds, with the samples in order."""
    return {
        "count": len(samples_ms),
        "p50_ms": percentile(samples_ms, 50),
        "p99_ms": percentile(samples_ms, 99),
        "mean_ms": mean(samples_ms),
        "min_ms": min(samples_ms),
        "max_ms": max(samples_ms),
        "samples_ms": [round(s, 3) for s in samples_ms],
    }
