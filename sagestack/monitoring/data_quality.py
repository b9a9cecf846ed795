"""Data-quality analysis: a dataset against a baseline's statistics.json and constraints.json.

The checks and their settings are those of Model Monitor's prebuilt container (developer guide,
"Schema for Constraints (constraints.json file)", model-monitor-byoc-constraints, and "Schema
for Violations (constraint_violations.json file)", model-monitor-interpreting-violations):

  missing_column_check  a baseline column is absent from the current data
  extra_column_check    the current data has a column the baseline lacks
  completeness_check    a feature's share of present values is below the constraint's
                        `completeness`
  data_type_check       more than `datatype_check_threshold` of a feature's present values are
                        not of the baseline's inferred type (an integer counts as Fractional)
  baseline_drift_check  the distance between the baseline's and the current distribution is
                        above `comparison_threshold` (`categorical_comparison_threshold` for
                        String features)

monitoring_config is honoured as documented: `evaluate_constraints` Disabled reports no
violations; `distribution_constraints.perform_comparison` Disabled skips the drift check;
`emit_metrics` Disabled emits no metrics (metrics()); a feature's `monitoringConfigOverrides`
override the file's settings for that feature.

Where this analyzer differs from the managed one (Deequ on Spark):
- Numeric drift is the L-infinity distance between the CDFs (comparison_threshold's
  definition) taken at every item of both KLL sketches, i.e. the two-sample Kolmogorov-Smirnov
  statistic; it is exact while a column has fewer than k = 2048 values. `Robust` (linf_robust)
  subtracts the KS critical value ROBUST_KS_COEFFICIENT * sqrt((n + m) / (n m)), n and m the
  baseline's and the current column's value counts; `Simple` is the plain distance. Values
  are compared at 6 significant digits (sketch.linf_distance), so that requests written with
  fewer digits than the baseline's doubles do not read as drift.
- String features drift by the L-infinity distance between category frequencies; the
  ChiSquared method and categorical_values_check (domain_content_threshold) are not
  implemented.
- The docs do not define how datatype_check_threshold applies; here it is the share of
  present values allowed to be of another type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sagestack.monitoring.reports import Report
from sagestack.monitoring.sketch import (
    KllSketch,
    categorical_distance,
    linf_distance,
    robust_distance,
)
from sagestack.monitoring.statistics import (
    NUMERIC_TYPES,
    STRING,
    Cell,
    ColumnProfile,
    Dataset,
    category_counts,
    profile,
    statistics,
)

COMPLETENESS_CHECK = "completeness_check"
DATA_TYPE_CHECK = "data_type_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
ENABLED = "Enabled"
# The documented defaults of monitoring_config.
DEFAULT_CONFIG: dict[str, Any] = {
    "evaluate_constraints": ENABLED,
    "emit_metrics": ENABLED,
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": ENABLED,
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def analyze_data_quality(
    rows: Sequence[Sequence[Cell]] | pd.DataFrame,
    feature_names: Sequence[str] | None,
    baseline_statistics: dict,
    baseline_constraints: dict,
) -> Report:
    """The current dataset's statistics and its violations of the baseline constraints.

    `rows` are decoded requests (capture.decode_inputs) or a DataFrame; `feature_names` name
    their columns in order (None: _c0, _c1, ..., the names Model Monitor gives header-less
    CSV, which preprocess.py's baseline uses). No rows, no violations: there is nothing to
    judge (the caller says that no traffic was captured).
    """
    dataset = profile(rows, feature_names)
    current = statistics(dataset)
    file_config = baseline_constraints.get("monitoring_config")
    if _config(file_config)["evaluate_constraints"] != ENABLED or not dataset.rows:
        return Report(current, {"violations": []})
    violations = _column_violations(dataset, baseline_constraints)
    baseline_features = {f["name"]: f for f in baseline_statistics.get("features", [])}
    current_features = {f["name"]: f for f in current["features"]}
    by_name = {column.name: column for column in dataset.columns}
    for constraint in baseline_constraints.get("features", []):
        name = constraint["name"]
        if name not in by_name:
            continue
        feature_config = _config(file_config, constraint.get("monitoringConfigOverrides"))
        violations += _feature_violations(by_name[name], constraint, feature_config)
        drift = _drift_violation(
            name, baseline_features.get(name), current_features[name], feature_config
        )
        violations += [drift] if drift else []
    return Report(current, {"violations": violations})


def _config(*layers: dict | None) -> dict:
    """monitoring_config: the documented defaults, then each layer in turn (the file's
    monitoring_config, a feature's monitoringConfigOverrides)."""
    merged = {**DEFAULT_CONFIG}
    for layer in layers:
        for key, value in (layer or {}).items():
            nested = key == "distribution_constraints"
            merged[key] = {**merged[key], **value} if nested else value
    return merged


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _column_violations(dataset: Dataset, constraints: dict) -> list[dict[str, str]]:
    expected = [feature["name"] for feature in constraints.get("features", [])]
    current = dataset.names
    summary = f"the baseline has {len(expected)} columns, the current data {len(current)}"
    return [
        _violation(name, MISSING_COLUMN_CHECK, f"Column {name} is missing: {summary}.")
        for name in expected
        if name not in current
    ] + [
        _violation(name, EXTRA_COLUMN_CHECK, f"Column {name} is not in the baseline: {summary}.")
        for name in current
        if name not in expected
    ]


def _feature_violations(
    column: ColumnProfile, constraint: dict, config: dict
) -> list[dict[str, str]]:
    found = []
    rows = column.present + column.missing
    required = constraint.get("completeness")
    if required is not None and rows and column.present / rows < float(required):
        found.append(
            _violation(
                column.name,
                COMPLETENESS_CHECK,
                f"Data completeness requirement is not met: expected {float(required):.2%} of "
                f"values present, observed {column.present / rows:.2%} ({column.missing} of "
                f"{rows} missing).",
            )
        )
    expected = constraint.get("inferred_type")
    if expected in (*NUMERIC_TYPES, STRING) and column.present:
        other = 1 - column.conforming(expected) / column.present
        allowed = float(config["datatype_check_threshold"])
        if other > allowed:
            found.append(
                _violation(
                    column.name,
                    DATA_TYPE_CHECK,
                    f"Data type requirement is not met: expected {expected} values, but "
                    f"{other:.2%} of present values are {column.inferred_type} "
                    f"(at most {allowed:.2%} may be another type).",
                )
            )
    return found


def drift_distance(baseline: dict | None, current: dict, config: dict) -> float | None:
    """The configured distance between a feature's baseline and current distribution (their
    statistics.json entries), or None when there is nothing to compare."""
    if baseline is None:
        return None
    kinds = {baseline["inferred_type"], current["inferred_type"]}
    if STRING in kinds:  # text against numbers is the data type check's finding
        return (
            categorical_distance(category_counts(baseline), category_counts(current))
            if kinds == {STRING}
            else None
        )
    before = baseline.get("numerical_statistics", {}).get("distribution")
    after = current["numerical_statistics"].get("distribution")
    if before is None or after is None:
        return None
    old, new = KllSketch.from_statistics(before), KllSketch.from_statistics(after)
    distance = linf_distance(old, new)
    if config["distribution_constraints"]["comparison_method"] == "Robust":
        return robust_distance(distance, old.count, new.count)
    return distance


def _drift_violation(
    name: str, baseline: dict | None, current: dict, config: dict
) -> dict[str, str] | None:
    settings = config["distribution_constraints"]
    if settings["perform_comparison"] != ENABLED:
        return None
    distance = drift_distance(baseline, current, config)
    categorical = current["inferred_type"] == STRING
    threshold = float(
        settings["categorical_comparison_threshold" if categorical else "comparison_threshold"]
    )
    if distance is None or distance <= threshold:
        return None
    method = settings["categorical_drift_method"] if categorical else settings["comparison_method"]
    return _violation(
        name,
        BASELINE_DRIFT_CHECK,
        f"Baseline drift distance {distance:.4f} exceeds threshold {threshold:g}: the "
        f"distribution of {name} moved away from the baseline's (method {method}).",
    )


def metrics(current: dict, baseline_statistics: dict, baseline_constraints: dict) -> list[dict]:
    """The CloudWatch metrics Model Monitor emits for a data-quality run, as PutMetricData
    datums (developer guide, "CloudWatch Metrics", model-monitor-interpreting-cloudwatch):
    feature_data_<name> (numeric features' statistic set), feature_non_null_<name>
    (completeness) and feature_baseline_drift_<name>. Empty when emit_metrics is Disabled."""
    file_config = baseline_constraints.get("monitoring_config")
    if _config(file_config)["emit_metrics"] != ENABLED:
        return []
    baseline = {f["name"]: f for f in baseline_statistics.get("features", [])}
    overrides = {
        f["name"]: f.get("monitoringConfigOverrides")
        for f in baseline_constraints.get("features", [])
    }
    datums: list[dict] = []
    for feature in current["features"]:
        name = feature["name"]
        stats = feature.get("numerical_statistics") or feature["string_statistics"]
        common = stats["common"]
        rows = common["num_present"] + common["num_missing"]
        if "sum" in stats:
            datums.append(
                {
                    "MetricName": f"feature_data_{name}",
                    "StatisticValues": {
                        "SampleCount": float(common["num_present"]),
                        "Sum": stats["sum"],
                        "Minimum": stats["min"],
                        "Maximum": stats["max"],
                    },
                }
            )
        if rows:
            datums.append(
                {"MetricName": f"feature_non_null_{name}", "Value": common["num_present"] / rows}
            )
        distance = drift_distance(
            baseline.get(name), feature, _config(file_config, overrides.get(name))
        )
        if distance is not None:
            datums.append({"MetricName": f"feature_baseline_drift_{name}", "Value": distance})
    return datums
