"""Data for demos, tests and benchmarks, made on this machine (no download).

The bundled data sets ship inside scikit-learn's wheel, shaped like raw data: features in
scikit-learn's order, the target as the LAST column, named `target`:

  breast_cancer  569 rows, 30 features; target `malignant` / `benign` (binary, positive class
                 `malignant`)
  wine           178 rows, 13 features; target `class_0`, `class_1`, `class_2` (multiclass)
  diabetes       442 rows, 10 features (scaled as scikit-learn ships them); target a float
                 (regression: disease progression a year later)

`load(name)` returns one by name (DATASETS describes each). `synthetic()` is a seeded generator
of any size and problem type, with optional categorical columns and missing values, whose
target follows a known noisy rule (learnable, not trivial); its target is the FIRST column,
already encoded as the training channels hold it (0/1, class codes, floats).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "target"
POSITIVE_CLASS = "malignant"


def breast_cancer() -> pd.DataFrame:
    """The bundled breast-cancer data as raw rows: 30 features and a string `target`."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def wine() -> pd.DataFrame:
    """The bundled wine data as raw rows: 13 features and a string `target` (class_0..2)."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def diabetes() -> pd.DataFrame:
    """The bundled diabetes data: 10 scaled features and a float `target`."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[TARGET] = bunch.target.astype(float)
    return frame


@dataclass(frozen=True)
class Dataset:
    """A bundled data set: how to load it and what its target means."""

    name: str
    load: Callable[[], pd.DataFrame]
    problem_type: str  # binary, multiclass or regression (ground.problems)
    positive_class: str | None = None  # binary: the target value that means 1


DATASETS: dict[str, Dataset] = {
    "breast_cancer": Dataset("breast_cancer", breast_cancer, "binary", POSITIVE_CLASS),
    "wine": Dataset("wine", wine, "multiclass"),
    "diabetes": Dataset("diabetes", diabetes, "regression"),
}


def load(name: str) -> pd.DataFrame:
    """A bundled data set by name (breast_cancer, wine, diabetes); KeyError naming the known."""
    if name not in DATASETS:
        raise KeyError(f"no data set '{name}'; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name].load()


def synthetic(
    n_rows: int,
    n_features: int,
    *,
    seed: int = 0,
    n_categorical: int = 0,
    missing_fraction: float = 0.0,
    problem_type: str = "binary",
    n_classes: int = 3,
) -> pd.DataFrame:
    """Seeded rows: `target` first, then `f0..` numeric float32 features and `c0..` string
    categories.

    A score mixes linear terms, an interaction and a threshold on the first features (and a
    per-category shift), so trees beat a linear model. The target is
      binary      0/1, a logistic draw from the score (AUC stays well below 1)
      multiclass  class codes 0..n_classes-1: the score's quantile bin, moved to a random
                  class for about a fifth of the rows
      regression  the score plus Gaussian noise (float32)
    The binary rows are the same as before problem types existed, for any seed.
    """
    if n_features < 2:
        raise ValueError(f"n_features must be at least 2, got {n_features}")
    if problem_type not in ("binary", "multiclass", "regression"):
        raise ValueError(
            f"problem_type must be binary, multiclass or regression, not {problem_type}"
        )
    if problem_type == "multiclass" and n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    weights = rng.normal(0, 1, n_features).astype(np.float32) / np.sqrt(n_features)
    logit = numeric @ weights + 1.5 * numeric[:, 0] * numeric[:, 1] + (numeric[:, 1] > 0.5)
    frame = pd.DataFrame(numeric, columns=[f"f{i}" for i in range(n_features)])
    for index in range(n_categorical):
        codes = rng.integers(0, 4, n_rows)
        logit += np.asarray([-0.8, 0.0, 0.4, 0.9], dtype=np.float32)[codes]
        frame[f"c{index}"] = np.asarray(["red", "green", "blue", "grey"])[codes]
    if missing_fraction:
        holes = rng.random((n_rows, n_features)) < missing_fraction
        frame.iloc[:, :n_features] = frame.iloc[:, :n_features].mask(holes)
    if problem_type == "binary":
        probability = 1 / (1 + np.exp(-(logit - np.median(logit))))
        target = (rng.random(n_rows) < probability).astype(np.int8)
    elif problem_type == "multiclass":
        edges = np.quantile(logit, np.linspace(0, 1, n_classes + 1)[1:-1])
        classes = np.searchsorted(edges, logit).astype(np.int16)
        shuffled = rng.random(n_rows) < 0.2
        classes[shuffled] = rng.integers(0, n_classes, int(shuffled.sum()))
        target = classes
    else:
        target = (logit + rng.normal(0, 0.5, n_rows)).astype(np.float32)
    frame.insert(0, TARGET, target)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a frame as CSV with a header row (pyarrow: fast on millions of rows)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path
