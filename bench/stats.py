"""Percentiles and medians of samples (nearest rank: a value that was actually seen)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def ratio(ours: float, reference: float) -> float:
    return round(ours / reference, 2) if reference else float("nan")
