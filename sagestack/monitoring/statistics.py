"""Model Monitor statistics.json of a dataset: the layout preprocess.py writes for the baseline.

Layout: developer guide, "Schema for Statistics (statistics.json file)"
(model-monitor-interpreting-statistics). Numeric columns carry `numerical_statistics` (common
counts, mean, sum, std_dev, min, max and a KLL distribution); columns holding text carry
`string_statistics` (distinct count and a categorical distribution).

A column's inferred type follows the analyzer's precedence: String when any present value is
not a number, else Fractional when any number has a fractional part, else Integral (Unknown
when no value is present).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sagestack.monitoring.sketch import KllSketch

# A dataset cell as decoded from a request: a number, text that is not a number, or missing
# (None or NaN). An infinite number counts as text: no statistic can hold it.
Cell = float | int | str | None

INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)


@dataclass(frozen=True)
class ColumnProfile:
    """What the checks need of one column: its numbers, its text values, its gaps."""

    name: str
    numbers: np.ndarray  # the present numeric values
    texts: tuple[str, ...]  # the present values that are not numbers
    missing: int

    @property
    def present(self) -> int:
        return len(self.numbers) + len(self.texts)

    @property
    def integral(self) -> int:
        """How many numbers have no fractional part."""
        return int(np.count_nonzero(self.numbers == np.round(self.numbers)))

    @property
    def inferred_type(self) -> str:
        if self.texts:
            return STRING
        if not len(self.numbers):
            return UNKNOWN
        return INTEGRAL if self.integral == len(self.numbers) else FRACTIONAL

    def conforming(self, expected: str) -> int:
        """How many present values are of the `expected` type (an integer is Fractional too)."""
        if expected == INTEGRAL:
            return self.integral
        if expected == FRACTIONAL:
            return len(self.numbers)
        return self.present


@dataclass(frozen=True)
class Dataset:
    """Profiles of a dataset's columns, in order, and its row count."""

    columns: tuple[ColumnProfile, ...]
    rows: int

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


def monitor_column_names(count: int) -> list[str]:
    """Model Monitor's names for the columns of header-less CSV: _c0, _c1, ..."""
    return [f"_c{index}" for index in range(count)]


def profile(
    rows: Sequence[Sequence[Cell]] | pd.DataFrame, feature_names: Sequence[str] | None = None
) -> Dataset:
    """Profiles of `rows` (or a DataFrame's columns). Column i is named feature_names[i],
    else _c<i>; a row narrower than the widest has missing values at its end."""
    if isinstance(rows, pd.DataFrame):
        names = [str(name) for name in (feature_names or rows.columns)]
        cells = rows.astype(object).where(rows.notna(), None).to_numpy().tolist()
    else:
        names = list(feature_names or [])
        cells = [list(row) for row in rows]
    width = max((len(row) for row in cells), default=len(names))
    names = names[:width] + monitor_column_names(width)[len(names) :]
    columns = []
    for index, name in enumerate(names):
        values = [row[index] if index < len(row) else None for row in cells]
        columns.append(_column(name, values))
    return Dataset(tuple(columns), len(cells))


def _column(name: str, values: list[Cell]) -> ColumnProfile:
    numbers: list[float] = []
    texts: list[str] = []
    missing = 0
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing += 1
        elif (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ):
            numbers.append(float(value))
        else:
            texts.append(str(value))
    return ColumnProfile(name, np.asarray(numbers, dtype=float), tuple(texts), missing)


def statistics(dataset: Dataset) -> dict:
    """statistics.json (version 0) of the dataset."""
    return {
        "version": 0,
        "dataset": {"item_count": dataset.rows},
        "features": [_feature(column) for column in dataset.columns],
    }


def _feature(column: ColumnProfile) -> dict:
    common = {"num_present": column.present, "num_missing": column.missing}
    kind = column.inferred_type
    if kind == STRING:
        counts = Counter(column.texts) + Counter(_text(v) for v in column.numbers)
        return {
            "name": column.name,
            "inferred_type": kind,
            "string_statistics": {
                "common": common,
                "distinct_count": float(len(counts)),
                "distribution": {
                    "categorical": {
                        "buckets": [{"value": v, "count": float(n)} for v, n in counts.items()]
                    }
                },
            },
        }
    stats: dict = {"common": common}
    values = column.numbers
    if len(values):
        stats |= {
            "mean": float(values.mean()),
            "sum": float(values.sum()),
            "std_dev": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
            "distribution": KllSketch.of(values).as_statistics(),
        }
    return {"name": column.name, "inferred_type": kind, "numerical_statistics": stats}


def _text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def category_counts(feature: dict) -> dict[str, float]:
    """A String feature's count per value, from its statistics.json entry."""
    buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
    return {str(bucket["value"]): float(bucket["count"]) for bucket in buckets}
