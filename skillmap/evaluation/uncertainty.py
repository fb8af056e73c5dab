"""How far a benchmark average can be trusted: bootstrap intervals over the items.

The ESCO validation splits hold 61-75 sentences, so one RP@5 moves by 1/61 when a single
sentence changes, and two encoders a few points apart are often the same encoder within
noise. Reports therefore carry a percentile bootstrap interval per metric, and comparisons
of two systems on the same items use a *paired* bootstrap of the per-item differences,
which is much narrower than comparing two separate intervals (both systems find the same
sentences easy or hard).

Resampling is seeded, so a report is reproducible to the digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000


@dataclass(frozen=True)
class Difference:
    """Mean of ``a - b`` over paired items, with its bootstrap interval."""

    mean: float
    low: float
    high: float

    @property
    def clear(self) -> bool:
        """True when the interval excludes 0 (the difference is not noise at this level)."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        """A table cell: ``+0.032 [+0.007, +0.060]*`` (``*`` when :attr:`clear`)."""
        return (f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"
                f"{'*' if self.clear else ''}")


def bootstrap_interval(values: Sequence[float], confidence: float = CONFIDENCE,
                       resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``.

    With fewer than two items, or all items equal, there is nothing to resample and the
    interval is the mean itself (scipy would warn and answer NaN)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values to bootstrap")
    if data.size < 2 or np.all(data == data[0]):
        return float(data.mean()), float(data.mean())
    from scipy.stats import bootstrap

    result = bootstrap((data,), np.mean, vectorized=True, confidence_level=confidence,
                       n_resamples=resamples, method="percentile",
                       rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE,
                      resamples: int = RESAMPLES, seed: int = 0) -> Difference:
    """Mean per-item difference ``a - b`` with a paired bootstrap interval (the bootstrap
    of the per-item differences: items are resampled together, so what both systems share
    cancels)."""
    left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if left.shape != right.shape:
        raise ValueError(f"paired scores differ in length: {left.size} vs {right.size}")
    low, high = bootstrap_interval(left - right, confidence, resamples, seed)
    return Difference(mean=float((left - right).mean()), low=low, high=high)
