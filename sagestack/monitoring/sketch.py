"""KLL quantile sketches as Model Monitor's statistics.json holds them, and the distance
between two distributions that its baseline drift check compares with a threshold.

statistics.json summarises each numeric column with a KLL sketch (developer guide, "Schema for
Statistics (statistics.json file)", model-monitor-interpreting-statistics): `data` lists the
compactor levels, lowest first; an item of level h stands for 2**h values. The baselining
analyzer uses k = 2048 and c = 0.64, and materialises the distribution in 10 buckets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KLL_K = 2048
KLL_C = 0.64
KLL_BUCKETS = 10
# linf_robust subtracts the two-sample Kolmogorov-Smirnov critical value
# c(a) * sqrt((n + m) / (n * m)), c(a) = sqrt(-ln(a / 2) / 2); 1.8 is a ~= 0.003, the
# coefficient of the managed analyzer (Deequ).
ROBUST_KS_COEFFICIENT = 1.8
COMPARED_DIGITS = 6


@dataclass(frozen=True)
class KllSketch:
    """Compactor levels, lowest first (items of level h weigh 2**h)."""

    levels: tuple[tuple[float, ...], ...]
    k: int = KLL_K
    c: float = KLL_C

    @classmethod
    def of(
        cls, values: Sequence[float] | np.ndarray, k: int = KLL_K, c: float = KLL_C
    ) -> KllSketch:
        """The sketch of `values` (batch compaction: exact below k values).

        A level over its capacity max(2, ceil(k * c**(top - h))) is sorted and every other
        item moves up a level (offsets alternating per level); an odd item stays, so the total
        weight is exactly the number of values.
        """
        levels: list[list[float]] = [[float(v) for v in values]]
        offsets = [0]
        height = 0
        while height < len(levels):
            if len(levels[height]) <= _capacity(height, len(levels), k, c):
                height += 1
                continue
            if height + 1 == len(levels):
                levels.append([])
                offsets.append(0)
            ordered = sorted(levels[height])
            kept = ordered[-1:] if len(ordered) % 2 else []
            paired = ordered[: len(ordered) - len(kept)]
            levels[height + 1].extend(paired[offsets[height] :: 2])
            offsets[height] ^= 1
            levels[height] = kept
            height = 0  # a new level lowers every capacity: check again from the bottom
        return cls(tuple(tuple(level) for level in levels), k, c)

    @classmethod
    def from_statistics(cls, distribution: dict) -> KllSketch:
        """The sketch of a statistics.json feature's `numerical_statistics.distribution`."""
        sketch = distribution["kll"]["sketch"]
        parameters = sketch.get("parameters", {})
        return cls(
            tuple(tuple(float(v) for v in level) for level in sketch["data"]),
            int(parameters.get("k", KLL_K)),
            float(parameters.get("c", KLL_C)),
        )

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """(items, weights), items sorted."""
        items = np.asarray([item for level in self.levels for item in level], dtype=float)
        weights = np.asarray(
            [2.0**height for height, level in enumerate(self.levels) for _ in level], dtype=float
        )
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    @property
    def count(self) -> float:
        """How many values the sketch stands for."""
        return float(sum(len(level) * 2**height for height, level in enumerate(self.levels)))

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """P(value <= point) for each point."""
        items, weights = self.weighted()
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        return cumulative[np.searchsorted(items, points, side="right")] / max(self.count, 1.0)

    def as_statistics(self, buckets: int = KLL_BUCKETS) -> dict:
        """statistics.json's `distribution` of the sketch: `buckets` equal-width buckets
        between the smallest and largest item, and the sketch itself."""
        items, weights = self.weighted()
        counts, edges = np.histogram(items, bins=buckets, weights=weights)
        return {
            "kll": {
                "buckets": [
                    {"lower_bound": float(lo), "upper_bound": float(hi), "count": float(n)}
                    for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
                ],
                "sketch": {
                    "parameters": {"c": self.c, "k": float(self.k)},
                    "data": [list(level) for level in self.levels],
                },
            }
        }


def _capacity(height: int, levels: int, k: int, c: float) -> int:
    return max(2, math.ceil(k * c ** (levels - height - 1)))


def linf_distance(baseline: KllSketch, current: KllSketch) -> float:
    """The largest absolute difference between the two cumulative distribution functions
    (the two-sample Kolmogorov-Smirnov statistic of the sketches' weighted items).

    Items are compared at COMPARED_DIGITS significant digits: a value the baseline holds as a
    full double and a client sends as `%.7g` text is one value, else a feature of few distinct
    values (a scaled 0/1 column) would read as drift. Both CDFs are right-continuous steps, so
    the supremum is reached at one of the items.
    """
    before, after = (_rounded(sketch) for sketch in (baseline, current))
    points = np.union1d(before.weighted()[0], after.weighted()[0])
    if not len(points):
        return 0.0
    return float(np.max(np.abs(before.cdf(points) - after.cdf(points))))


def _rounded(sketch: KllSketch) -> KllSketch:
    levels = tuple(tuple(significant(np.asarray(level, dtype=float))) for level in sketch.levels)
    return KllSketch(levels, sketch.k, sketch.c)


def significant(values: np.ndarray, digits: int = COMPARED_DIGITS) -> np.ndarray:
    """`values` rounded to `digits` significant digits (below 1e-300, to zero)."""
    magnitude = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
    magnitude = np.maximum(magnitude, -300)  # the scale below stays a finite double
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(values * scale) / scale


def robust_distance(simple: float, baseline_count: float, current_count: float) -> float:
    """linf_robust: linf_simple less the two-sample KS critical value of the sample sizes,
    at least 0, so that few current values do not read as drift."""
    if baseline_count <= 0 or current_count <= 0:
        return 0.0
    margin = ROBUST_KS_COEFFICIENT * math.sqrt(
        (baseline_count + current_count) / (baseline_count * current_count)
    )
    return max(0.0, simple - margin)


def categorical_distance(baseline: dict[str, float], current: dict[str, float]) -> float:
    """L-infinity distance between two category frequency tables (count per value)."""
    total_b, total_c = sum(baseline.values()) or 1.0, sum(current.values()) or 1.0
    return max(
        (
            abs(baseline.get(v, 0.0) / total_b - current.get(v, 0.0) / total_c)
            for v in {*baseline, *current}
        ),
        default=0.0,
    )
