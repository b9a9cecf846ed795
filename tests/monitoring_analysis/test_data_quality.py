"""The data-quality analysis against baselines preprocess.py writes: no violation on held-out
rows of the training distribution, the planted drift found and named, each documented check,
monitoring_config honoured, statistics in preprocess.py's own layout."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import preprocess
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagestack.monitoring import analyze_data_quality, decode_inputs, metrics, read_capture
from sagestack.monitoring.sketch import KllSketch, linf_distance, robust_distance, significant
from sagestack.monitoring.statistics import profile, statistics
from tests.monitoring_analysis.conftest import Baseline, make_baseline
from tests.monitoring_analysis.records import capture_line


def _rows(frame) -> list[list]:
    return frame.to_numpy().tolist()


def _checks(violations: dict) -> list[tuple[str, str]]:
    return [(v["feature_name"], v["constraint_check_type"]) for v in violations["violations"]]


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes"])
def test_held_out_rows_of_the_training_distribution_violate_nothing(name: str) -> None:
    baseline = make_baseline(name)
    current, violations = analyze_data_quality(
        _rows(baseline.held_out), None, baseline.statistics, baseline.constraints
    )
    assert violations == {"violations": []}
    assert current["dataset"]["item_count"] == len(baseline.held_out)


@pytest.mark.parametrize("precision", [".7g", ".10g"])
def test_requests_written_with_fewer_digits_than_the_baseline_do_not_drift(precision) -> None:
    """diabetes's `sex` holds two scaled values: at 7 digits every request's value differs
    from the baseline's double, which must not read as a distribution moved."""
    baseline = make_baseline("diabetes")
    lines = [
        capture_line(",".join(format(v, precision) for v in row), "1", f"e{i}")
        for i, row in enumerate(baseline.held_out.to_numpy())
    ]
    rows, rejected = decode_inputs(read_capture([("capture.jsonl", "\n".join(lines))]))
    assert not rejected and len(rows) == len(baseline.held_out)
    _, violations = analyze_data_quality(rows, None, baseline.statistics, baseline.constraints)
    assert violations == {"violations": []}


def test_a_feature_moved_three_standard_deviations_is_named(cancer: Baseline) -> None:
    shifted = cancer.held_out.copy()
    shifted["_c7"] += 3 * cancer.train["_c7"].std()
    _, violations = analyze_data_quality(
        _rows(shifted), None, cancer.statistics, cancer.constraints
    )
    assert _checks(violations) == [("_c7", "baseline_drift_check")]
    (violation,) = violations["violations"]
    assert "Baseline drift distance" in violation["description"]
    assert "exceeds threshold 0.1" in violation["description"]


def test_the_statistics_are_preprocess_pys_for_the_same_rows(cancer: Baseline) -> None:
    """Exact while a column holds fewer than k = 2048 values, the KLL sketch included."""
    assert statistics(profile(cancer.train)) == cancer.statistics
    current, _ = analyze_data_quality(
        _rows(cancer.held_out), None, cancer.statistics, cancer.constraints
    )
    assert current == preprocess.statistics(cancer.held_out)


def test_missing_values_below_the_baseline_completeness_are_reported(cancer: Baseline) -> None:
    rows = _rows(cancer.held_out)
    for row in rows[:10]:
        row[4] = None
    _, violations = analyze_data_quality(rows, None, cancer.statistics, cancer.constraints)
    assert _checks(violations) == [("_c4", "completeness_check")]
    assert (
        "expected 100.00% of values present, observed 94.15% (10 of 171 missing)"
        in (violations["violations"][0]["description"])
    )


def test_text_in_a_numeric_feature_beyond_the_threshold_is_a_type_violation(
    cancer: Baseline,
) -> None:
    rows = _rows(cancer.held_out)
    for row in rows[:17]:  # 9.9% of 171 rows: within datatype_check_threshold 0.1
        row[2] = "n/a"
    assert analyze_data_quality(rows, None, cancer.statistics, cancer.constraints)[1] == {
        "violations": []
    }
    rows[17][2] = "n/a"
    _, violations = analyze_data_quality(rows, None, cancer.statistics, cancer.constraints)
    assert _checks(violations) == [("_c2", "data_type_check")]
    assert (
        "expected Fractional values, but 10.53% of present values are String"
        in (violations["violations"][0]["description"])
    )


def test_fractions_in_an_integral_feature_are_a_type_violation() -> None:
    wine = make_baseline("wine")  # _c12 (proline) is integral
    assert wine.constraints["features"][12]["inferred_type"] == "Integral"
    rows = _rows(wine.held_out)
    for row in rows:
        row[12] += 0.5
    _, violations = analyze_data_quality(rows, None, wine.statistics, wine.constraints)
    assert ("_c12", "data_type_check") in _checks(violations)


def test_narrower_and_wider_rows_are_missing_and_extra_columns(cancer: Baseline) -> None:
    narrow = [row[:28] for row in _rows(cancer.held_out)]
    _, violations = analyze_data_quality(narrow, None, cancer.statistics, cancer.constraints)
    assert _checks(violations) == [
        ("_c28", "missing_column_check"),
        ("_c29", "missing_column_check"),
    ]
    assert violations["violations"][0]["description"] == (
        "Column _c28 is missing: the baseline has 30 columns, the current data 28."
    )
    wide = [[*row, 1.0] for row in _rows(cancer.held_out)]
    _, violations = analyze_data_quality(wide, None, cancer.statistics, cancer.constraints)
    assert _checks(violations) == [("_c30", "extra_column_check")]


def test_named_columns_are_matched_by_name(cancer: Baseline) -> None:
    frame = cancer.held_out.rename(columns={"_c0": "radius"})
    _, violations = analyze_data_quality(frame, None, cancer.statistics, cancer.constraints)
    assert _checks(violations) == [
        ("_c0", "missing_column_check"),
        ("radius", "extra_column_check"),
    ]


def _configured(baseline: Baseline, **changes) -> dict:
    constraints = copy.deepcopy(baseline.constraints)
    constraints["monitoring_config"].update(changes)
    return constraints


def _shifted(baseline: Baseline) -> list[list]:
    shifted = baseline.held_out.copy()
    shifted["_c7"] += 3 * baseline.train["_c7"].std()
    return _rows(shifted)


def test_monitoring_config_switches_are_honoured(cancer: Baseline) -> None:
    rows = _shifted(cancer)
    off = _configured(cancer, evaluate_constraints="Disabled")
    current, violations = analyze_data_quality(rows, None, cancer.statistics, off)
    assert violations == {"violations": []} and current["features"]
    no_comparison = _configured(
        cancer,
        distribution_constraints={**cancer.constraints["monitoring_config"]["distribution_constraints"],
                                  "perform_comparison": "Disabled"},
    )  # fmt: skip
    assert analyze_data_quality(rows, None, cancer.statistics, no_comparison)[1] == {
        "violations": []
    }
    assert metrics(current, cancer.statistics, _configured(cancer, emit_metrics="Disabled")) == []


def test_the_threshold_and_method_decide_the_drift(cancer: Baseline) -> None:
    """A 0.2 standard deviation shift: its KS distance passes 0.1 with Simple, not Robust."""
    shifted = cancer.held_out.copy()
    shifted["_c7"] += 0.2 * cancer.train["_c7"].std()
    settings_ = cancer.constraints["monitoring_config"]["distribution_constraints"]
    robust = analyze_data_quality(_rows(shifted), None, cancer.statistics, cancer.constraints)[1]
    assert robust == {"violations": []}
    simple = _configured(
        cancer, distribution_constraints={**settings_, "comparison_method": "Simple"}
    )
    found = analyze_data_quality(_rows(shifted), None, cancer.statistics, simple)[1]
    assert ("_c7", "baseline_drift_check") in _checks(found)
    loose = _configured(
        cancer,
        distribution_constraints={**settings_, "comparison_method": "Simple",
                                  "comparison_threshold": 0.9},
    )  # fmt: skip
    assert analyze_data_quality(_rows(shifted), None, cancer.statistics, loose)[1] == {
        "violations": []
    }


def test_a_features_overrides_apply_to_that_feature_only(cancer: Baseline) -> None:
    constraints = copy.deepcopy(cancer.constraints)
    constraints["features"][7]["monitoringConfigOverrides"] = {
        "distribution_constraints": {"comparison_threshold": 0.99}
    }
    shifted = cancer.held_out.copy()
    for name in ("_c7", "_c8"):
        shifted[name] += 3 * cancer.train[name].std()
    _, violations = analyze_data_quality(_rows(shifted), None, cancer.statistics, constraints)
    assert _checks(violations) == [("_c8", "baseline_drift_check")]


def test_metrics_are_the_documented_cloudwatch_names(cancer: Baseline) -> None:
    current, _ = analyze_data_quality(
        _rows(cancer.held_out), None, cancer.statistics, cancer.constraints
    )
    datums = {d["MetricName"]: d for d in metrics(current, cancer.statistics, cancer.constraints)}
    assert len(datums) == 3 * 30
    assert datums["feature_non_null__c0"]["Value"] == 1.0
    assert datums["feature_data__c0"]["StatisticValues"]["SampleCount"] == 171
    assert 0 <= datums["feature_baseline_drift__c0"]["Value"] <= 0.1


def test_text_features_drift_by_category_frequencies() -> None:
    baseline_stats = statistics(profile([["a"], ["a"], ["b"], ["b"]]))
    constraints = {
        "version": 0,
        "features": [{"name": "_c0", "inferred_type": "String", "completeness": 1.0}],
    }
    same = analyze_data_quality([["a"], ["b"]], None, baseline_stats, constraints)[1]
    assert same == {"violations": []}
    moved = analyze_data_quality([["a"], ["c"], ["c"]], None, baseline_stats, constraints)[1]
    assert _checks(moved) == [("_c0", "baseline_drift_check")]


values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=5000)


@settings(max_examples=25, deadline=None)
@given(values=values, k=st.sampled_from([8, 64, 2048]))
def test_a_sketch_weighs_every_value_once_and_keeps_its_quantiles(values, k) -> None:
    sketch = KllSketch.of(values, k=k)
    assert sketch.count == len(values)
    exact = KllSketch.of(values, k=10**6)
    points = np.quantile(values, [0.1, 0.5, 0.9])
    # KLL's rank error shrinks with k; generous bounds for the small sketches
    assert (
        np.max(np.abs(sketch.cdf(points) - exact.cdf(points))) <= {8: 0.5, 64: 0.15, 2048: 0.01}[k]
    )
    assert linf_distance(sketch, sketch) == 0.0


def test_the_distance_is_the_kolmogorov_smirnov_statistic() -> None:
    one, two = KllSketch.of([1, 2, 1, 4, 3, 6]), KllSketch.of([3, 4, 5, 4])
    assert linf_distance(one, two) == pytest.approx(0.5)
    assert robust_distance(0.5, 6, 4) == pytest.approx(max(0.0, 0.5 - 1.8 * (10 / 24) ** 0.5))
    assert robust_distance(0.5, 0, 4) == 0.0


def test_values_are_compared_at_six_significant_digits() -> None:
    values = np.asarray([0.0506801187398187, -1234567.89, 0.0, 1e-300, 5e-324, 1.7e308])
    assert significant(values).tolist() == pytest.approx(
        [0.0506801, -1234570, 0, 1e-300, 0, 1.7e308]
    )
    assert linf_distance(KllSketch.of([0.0506801187398187] * 3), KllSketch.of([0.05068012])) == 0


frames = st.integers(1, 4).flatmap(
    lambda width: st.lists(
        st.lists(
            st.one_of(st.none(), st.integers(-50, 50).map(float), st.floats(-1e3, 1e3)),
            min_size=width,
            max_size=width,
        ),
        min_size=1,
        max_size=60,
    )
)


@settings(max_examples=40, deadline=None)
@given(rows=frames)
def test_the_baselines_own_rows_never_violate_it(rows) -> None:
    frame = pd.DataFrame(rows, dtype=float)
    frame.columns = preprocess.monitor_column_names(frame.columns)
    baseline = preprocess.statistics(frame)
    current, violations = analyze_data_quality(
        rows, None, baseline, preprocess.constraints(baseline)
    )
    assert violations == {"violations": []}
    if frame.notna().any().all():  # preprocess.py calls a column without values Fractional
        assert current == baseline
