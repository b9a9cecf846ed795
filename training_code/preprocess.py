"""Prepare raw CSV for training: a SageMaker processing job on the scikit-learn 1.9-0 image.

Reads every `*.csv` directly in /opt/ml/processing/input (subdirectories such as the `code/`
input are ignored), validates it against the schema given as arguments, encodes it and writes
seeded train / validation / test splits (stratified by class for classification) plus a
data-quality baseline:

  /opt/ml/processing/train/train.csv            target first, then features, header row
  /opt/ml/processing/validation/validation.csv
  /opt/ml/processing/test/test.csv
  /opt/ml/processing/baseline/statistics.json   Model Monitor statistics of the features
  /opt/ml/processing/baseline/constraints.json  Model Monitor constraints of the features
  /opt/ml/processing/baseline/preprocessing.json  problem type, feature order, category codes,
                                                  class names
  preprocessing.json is also written beside train.csv and validation.csv: the training job
  reads the class names from it (the loaders read only .csv and .parquet files).

The target (--problem-type):
  binary      0/1, 1 meaning --positive-class (required unless the values are 0 and 1)
  multiclass  codes 0..K-1 of the class values in sorted order (numerically when every value
              is a number, else as text); `classes` in preprocessing.json names them by code
  regression  the value as a float

Missing values: rows without a target are dropped; feature columns missing in more than
--max-missing-fraction of rows are dropped; remaining gaps stay empty (NaN), which XGBoost
routes natively, so the endpoint accepts the same gaps. Categorical columns become integer
codes (most frequent category first; unseen or missing categories become NaN): the endpoint
takes features in the written order, already encoded (codes in preprocessing.json).
Bad data ends the job with a reason in /opt/ml/output/message and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from common import (
    PREPROCESSING_FILE,
    PROCESSING_FAILURE_FILE,
    JobArgumentParser,
    JobError,
    opt_ml,
    run_job,
)
from problems import BINARY, CLASSIFICATION, MULTICLASS, PROBLEM_TYPES
from sklearn.model_selection import train_test_split

SPLITS = ("train", "validation", "test")
# Model Monitor's analyzer (Deequ) summarises each numeric column with a KLL quantile sketch of
# size k = 2048 and shrinking factor c = 0.64, materialised in 10 buckets (developer guide,
# "Schema for Statistics (statistics.json file)").
KLL_BUCKETS = 10
KLL_K = 2048
KLL_C = 0.64
# XGBoost rejects these characters in feature names.
_BAD_NAME_CHARS = re.compile(r"[\[\]<,]")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=opt_ml("processing", "input"))
    parser.add_argument("--output-dir", type=Path, default=opt_ml("processing"))
    parser.add_argument("--target-column", default="target")
    parser.add_argument("--problem-type", choices=PROBLEM_TYPES, default=BINARY)
    parser.add_argument(
        "--positive-class",
        help="binary: the target value that means 1, required unless the target is 0/1",
    )
    parser.add_argument("--numeric-columns", type=_names, default=None, help="a,b,c (checked)")
    parser.add_argument(
        "--categorical-columns", type=_names, default=None, help="a,b,c (others: numeric)"
    )
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--max-missing-fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 0 < args.validation_fraction + args.test_fraction < 1:
        raise JobError("--validation-fraction plus --test-fraction must lie between 0 and 1")
    if args.positive_class is not None and args.problem_type != BINARY:
        raise JobError(f"--positive-class applies to binary problems, not {args.problem_type}")
    return args


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def read_raw(input_dir: Path) -> pd.DataFrame:
    files = sorted(input_dir.glob("*.csv")) if input_dir.is_dir() else []
    if not files:
        raise JobError(f"no .csv files in {input_dir}; give the raw data as the processing input")
    frames = []
    for path in files:
        try:
            frames.append(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise JobError(f"cannot parse {path.name} as CSV: {error}") from error
    headers = {tuple(frame.columns) for frame in frames}
    if len(headers) > 1:
        raise JobError(f"the input CSV files have different headers: {sorted(headers)[:2]}")
    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        raise JobError(f"the CSV files in {input_dir} hold no rows")
    return data


class Target:
    """The encoded target column and what it means: class names by code (classification)."""

    def __init__(self, data: pd.DataFrame, classes: list[str], positive: str | None) -> None:
        self.data = data
        self.classes = classes
        self.positive = positive


def encode_target(
    data: pd.DataFrame, target: str, positive: str | None, problem_type: str = BINARY
) -> Target:
    if target not in data.columns:
        raise JobError(
            f"target column '{target}' is not in the data (columns: "
            f"{', '.join(data.columns[:20])}); set --target-column"
        )
    data = data[data[target].notna()]
    if data.empty:
        raise JobError(f"every row lacks a value in the target column '{target}'")
    if problem_type == BINARY:
        return _binary_target(data, target, positive)
    if problem_type == MULTICLASS:
        return _multiclass_target(data, target)
    values = pd.to_numeric(data[target], errors="coerce")
    bad = data[target][values.isna() | ~np.isfinite(values.fillna(0))]
    if len(bad):
        raise JobError(
            f"target column '{target}' of a regression must hold numbers; {len(bad)} rows hold "
            f"e.g. {bad.unique()[:3].tolist()}"
        )
    return Target(data.assign(**{target: values.astype(float)}), [], None)


def _binary_target(data: pd.DataFrame, target: str, positive: str | None) -> Target:
    classes = sorted(data[target].unique())
    if len(classes) != 2:
        raise JobError(
            f"target column '{target}' has {len(classes)} classes ({classes[:5]}); "
            "a binary classifier needs exactly 2 (use --problem-type multiclass for more)"
        )
    if positive is None:
        if set(classes) != {"0", "1"}:
            raise JobError(
                f"target column '{target}' holds {classes}; give --positive-class (one of them)"
            )
        positive = "1"
    if positive not in classes:
        raise JobError(f"--positive-class '{positive}' is not a target value ({classes})")
    negative = next(value for value in classes if value != positive)
    encoded = data.assign(**{target: (data[target] == positive).astype(np.int8)})
    return Target(encoded, [negative, positive], positive)


def _multiclass_target(data: pd.DataFrame, target: str) -> Target:
    values = data[target].unique().tolist()
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.notna().all():  # numeric classes in numeric order: 2 before 10
        classes = [value for _, value in sorted(zip(numbers, values, strict=True))]
    else:
        classes = sorted(values)
    if len(classes) < 2:
        raise JobError(f"target column '{target}' holds one class ({classes}); it needs two")
    codes = {value: code for code, value in enumerate(classes)}
    return Target(data.assign(**{target: data[target].map(codes).astype(np.int16)}), classes, None)


def encode_features(
    data: pd.DataFrame, target: str, args: argparse.Namespace
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Numeric columns to float, categorical ones to codes; returns (features, categories)."""
    features = data.drop(columns=[target])
    declared = (args.numeric_columns or []) + (args.categorical_columns or [])
    unknown = [name for name in declared if name not in features.columns]
    if unknown:
        raise JobError(f"columns named in the arguments are not in the data: {unknown}")
    sparse = features.columns[features.isna().mean() > args.max_missing_fraction]
    if len(sparse):
        print(
            f"dropping columns missing in over {args.max_missing_fraction:.0%} of rows: "
            f"{list(sparse)}",
            flush=True,
        )
        features = features.drop(columns=sparse)
    categorical = set(args.categorical_columns or [])
    if args.categorical_columns is None:
        numeric = pd.DataFrame(
            {name: pd.to_numeric(col, errors="coerce") for name, col in features.items()}
        )
        categorical = {
            name
            for name in features.columns
            if (numeric[name].isna() & features[name].notna()).any()
            and name not in (args.numeric_columns or [])
        }
    encoded, categories = {}, {}
    for name, column in features.items():
        if name in categorical:
            order = column.value_counts().index.tolist()
            categories[name] = order
            encoded[name] = column.map({value: i for i, value in enumerate(order)}).astype(float)
        else:
            encoded[name] = _numeric(str(name), column)
    frame = pd.DataFrame(encoded, index=features.index)
    return frame.rename(columns=lambda n: _BAD_NAME_CHARS.sub("_", str(n))), {
        _BAD_NAME_CHARS.sub("_", str(n)): v for n, v in categories.items()
    }


def _numeric(name: str, column: pd.Series) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = column[values.isna() & column.notna()]
    if len(bad):
        raise JobError(
            f"column '{name}' should be numeric but holds {len(bad)} unparseable values, e.g. "
            f"{bad.unique()[:3].tolist()}; fix the data or list it in --categorical-columns"
        )
    return values.astype(float)


def split(
    frame: pd.DataFrame, target: str, args: argparse.Namespace, classes: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Seeded splits, stratified by class for classification (`classes`: names by code)."""
    held_out = args.validation_fraction + args.test_fraction
    stratified = args.problem_type in CLASSIFICATION
    if stratified:
        counts = frame[target].value_counts()
        smallest = int(counts.min())
        if smallest < 3 or smallest * min(args.validation_fraction, args.test_fraction) < 1:
            rarest = "rarer class"
            if args.problem_type == MULTICLASS:
                code = int(counts.idxmin())
                rarest = f"rarest class ('{classes[code] if classes else code}')"
            raise JobError(
                f"the {rarest} has {smallest} rows: too few for a stratified train / "
                "validation / test split; provide more data"
            )
    elif len(frame) * min(args.validation_fraction, args.test_fraction) < 1:
        raise JobError(f"{len(frame)} rows are too few for a train / validation / test split")
    train, rest = train_test_split(
        frame,
        test_size=held_out,
        stratify=frame[target] if stratified else None,
        random_state=args.seed,
    )
    validation, test = train_test_split(
        rest,
        test_size=args.test_fraction / held_out,
        stratify=rest[target] if stratified else None,
        random_state=args.seed,
    )
    return {"train": train, "validation": validation, "test": test}


def monitor_column_names(names: Iterable[str]) -> list[str]:
    """Model Monitor's names for the columns of a header-less CSV: _c0, _c1, ..."""
    return [f"_c{index}" for index, _ in enumerate(names)]


def kll_sketch(values: np.ndarray, k: int = KLL_K, c: float = KLL_C) -> list[list[float]]:
    """A deterministic KLL sketch of `values`: compactor levels, lowest first.

    Level h holds at most max(2, ceil(k * c ** (top - h))) items; a full level is sorted and
    every other item (alternating the offset per level) moves up one level, each standing for
    twice the weight. Small columns stay exact in level 0.
    """
    levels: list[list[float]] = [[]]
    offsets: list[int] = [0]
    for value in values.astype(float):
        levels[0].append(float(value))
        height = 0
        while height < len(levels) and len(levels[height]) > _capacity(height, len(levels), k, c):
            if height + 1 == len(levels):
                levels.append([])
                offsets.append(0)
            ordered = sorted(levels[height])
            levels[height + 1].extend(ordered[offsets[height] :: 2])
            offsets[height] ^= 1
            levels[height] = []
            height += 1
    return levels


def _capacity(height: int, levels: int, k: int, c: float) -> int:
    return max(2, int(np.ceil(k * c ** (levels - height - 1))))


def statistics(features: pd.DataFrame) -> dict:
    """Model Monitor `statistics.json` (version 0) for numeric features."""
    items = []
    for name, column in features.items():
        present = column.dropna()
        integral = bool(len(present)) and bool((present == present.round()).all())
        stats: dict = {
            "common": {"num_present": len(present), "num_missing": int(column.isna().sum())}
        }
        if len(present):
            counts, edges = np.histogram(present, bins=KLL_BUCKETS)
            stats.update(
                mean=float(present.mean()),
                sum=float(present.sum()),
                std_dev=float(present.std(ddof=0)),
                min=float(present.min()),
                max=float(present.max()),
                distribution={
                    "kll": {
                        "buckets": [
                            {"lower_bound": float(lo), "upper_bound": float(hi), "count": float(n)}
                            for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
                        ],
                        "sketch": {
                            "parameters": {"c": KLL_C, "k": float(KLL_K)},
                            "data": kll_sketch(present.to_numpy()),
                        },
                    }
                },
            )
        items.append(
            {
                "name": name,
                "inferred_type": "Integral" if integral else "Fractional",
                "numerical_statistics": stats,
            }
        )
    return {"version": 0, "dataset": {"item_count": len(features)}, "features": items}


def constraints(stats: dict) -> dict:
    """Model Monitor `constraints.json` (version 0) derived from the statistics."""
    return {
        "version": 0,
        "features": [
            {
                "name": item["name"],
                "inferred_type": item["inferred_type"],
                "completeness": item["numerical_statistics"]["common"]["num_present"]
                / max(1, stats["dataset"]["item_count"]),
                "num_constraints": {
                    "is_non_negative": item["numerical_statistics"].get("min", 0.0) >= 0
                },
            }
            for item in stats["features"]
        ],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 0.1,
            "domain_content_threshold": 0.1,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Robust",
                "categorical_comparison_threshold": 0.1,
                "categorical_drift_method": "LInfinity",
            },
        },
    }


def _summary(frame: pd.DataFrame, target: str, problem_type: str) -> str:
    if problem_type == BINARY:
        return f"{int(frame[target].sum())} positive"
    if problem_type == MULTICLASS:
        counts = frame[target].value_counts().sort_index()
        return "rows per class code " + ", ".join(f"{c}: {n}" for c, n in counts.items())
    return f"target mean {frame[target].mean():.4g}"


def write_outputs(
    splits: dict[str, pd.DataFrame],
    target: Target,
    target_column: str,
    categories: dict[str, list[str]],
    args: argparse.Namespace,
) -> None:
    output_dir = args.output_dir
    for name, frame in splits.items():
        directory = output_dir / name
        directory.mkdir(parents=True, exist_ok=True)
        frame.to_csv(directory / f"{name}.csv", index=False, float_format="%.10g")
        summary = _summary(frame, target_column, args.problem_type)
        print(f"{name}: {len(frame)} rows, {summary}", flush=True)
    features = splits["train"].drop(columns=[target_column])
    # Captured requests are header-less CSV, which Model Monitor reads as columns _c0, _c1...
    # in request order: the baseline must use those names or every run reports violations.
    monitored = features.set_axis(monitor_column_names(features.columns), axis=1)
    stats = statistics(monitored)
    baseline = output_dir / "baseline"
    baseline.mkdir(parents=True, exist_ok=True)
    (baseline / "statistics.json").write_text(json.dumps(stats, indent=1))
    (baseline / "constraints.json").write_text(json.dumps(constraints(stats), indent=1))
    schema = {
        "problem_type": args.problem_type,
        "target_column": target_column,
        "classes": target.classes,
        "positive_class": target.positive,
        "feature_names": list(features.columns),
        "monitor_column_names": dict(zip(monitored.columns, features.columns, strict=True)),
        "categorical_codes": {
            name: {value: code for code, value in enumerate(values)}
            for name, values in categories.items()
        },
    }
    text = json.dumps(schema, indent=1)
    for directory in (baseline, output_dir / "train", output_dir / "validation"):
        (directory / PREPROCESSING_FILE).write_text(text)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    raw = read_raw(args.input_dir)
    target = encode_target(raw, args.target_column, args.positive_class, args.problem_type)
    labeled = target.data
    features, categories = encode_features(labeled, args.target_column, args)
    if features.shape[1] == 0:
        raise JobError("no feature columns are left after dropping sparse columns")
    frame = pd.concat([labeled[[args.target_column]], features], axis=1)
    write_outputs(
        split(frame, args.target_column, args, target.classes),
        target,
        args.target_column,
        categories,
        args,
    )


if __name__ == "__main__":
    run_job(main, PROCESSING_FAILURE_FILE)
