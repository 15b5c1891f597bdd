"""Latency percentiles, computed the same way by every benchmark so their figures compare."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the value at or below which `fraction` of the samples fall)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0
