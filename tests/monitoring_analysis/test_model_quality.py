"""Model quality from captured answers merged with ground truth: the metrics equal evaluate.py's
on the same rows, the merge follows inference ids then event ids, thresholds are violated as
the constraints' operators say."""

from __future__ import annotations

import json

import numpy as np
import pytest
from evaluate import binary_scores, multiclass_scores, quality_constraints, regression_scores
from hypothesis import given, settings
from hypothesis import strategies as st

from sagestack.monitoring import (
    analyze_model_quality,
    decode_outputs,
    merge,
    read_capture,
    read_ground_truth,
)
from sagestack.monitoring.payloads import Prediction
from tests.monitoring_analysis.records import capture_line, ground_truth_line

CLASSES = ["class_0", "class_1", "class_2"]


def _g7(values: np.ndarray) -> np.ndarray:
    """Values as a CSV answer carries them (7 significant digits)."""
    return np.asarray([float(f"{v:.7g}") for v in values.ravel()]).reshape(values.shape)


def _answer(problem_type: str, scores: np.ndarray, as_json: bool) -> tuple[str, str]:
    """A one-row answer as serving.py writes it: (body, content type)."""
    if problem_type == "binary":
        p = float(scores)
        if as_json:
            return json.dumps(
                {"predictions": [{"probability": p, "label": int(p >= 0.5)}]}
            ), "application/json"
        return f"{p:.7g},{int(p >= 0.5)}\n", "text/csv"
    if problem_type == "multiclass":
        label = CLASSES[int(np.argmax(scores))]
        if as_json:
            probabilities = dict(zip(CLASSES, map(float, scores), strict=True))
            return json.dumps(
                {"predictions": [{"label": label, "probabilities": probabilities}]}
            ), "application/json"
        return label + "".join(f",{p:.7g}" for p in scores) + "\n", "text/csv"
    if as_json:
        return json.dumps({"predictions": [{"value": float(scores)}]}), "application/json"
    return f"{float(scores):.7g}\n", "text/csv"


def _monitored(problem_type: str, y: np.ndarray, scores: np.ndarray, constraints=None):
    """Capture (half CSV, half JSON answers, every third with an inference id) and ground truth
    of the rows, through the whole reading path, then the analysis."""
    captures, truths = [], []
    for index, (label, score) in enumerate(zip(y, scores, strict=True)):
        body, content_type = _answer(problem_type, score, as_json=index % 2 == 0)
        inference_id = f"inf-{index}" if index % 3 == 0 else None
        captures.append(
            capture_line(
                "1,2", body, f"ev-{index}", inference_id=inference_id, answer_type=content_type
            )
        )
        truth = CLASSES[int(label)] if problem_type == "multiclass" else f"{label:g}"
        truths.append(ground_truth_line(inference_id or f"ev-{index}", truth))
    predictions, rejected = decode_outputs(read_capture([("c", "\n".join(captures))]), problem_type)
    merged = merge(predictions, read_ground_truth([("g", "\n".join(truths))]), problem_type)
    assert rejected == [] and merged.rejected == [] and len(merged.rows) == len(y)
    return analyze_model_quality(merged.rows, problem_type, constraints)


def _values(statistics: dict, layout: str) -> dict[str, float]:
    return {
        name: metric["value"]
        for name, metric in statistics[layout].items()
        if isinstance(metric, dict) and "value" in metric
    }


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(20, 260))
def test_binary_metrics_equal_evaluate_pys(seed: int, rows: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, rows - 2)]
    p = _g7(np.clip(0.6 * y + rng.normal(0.2, 0.25, rows), 0, 1))
    statistics, violations = _monitored("binary", y, p)
    expected = binary_scores(y, p, 0.5)
    assert _values(statistics, "binary_classification_metrics") == pytest.approx(expected)
    matrix = statistics["binary_classification_metrics"]["confusion_matrix"]
    assert matrix["1"]["1"] == int(((p >= 0.5) & (y == 1)).sum())
    assert statistics["dataset"] == {"item_count": rows} and violations == {"violations": []}


# Rounded to 7 digits as CSV answers are, the probabilities sum to one within 1e-6.
@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(10, 120))
def test_multiclass_metrics_equal_evaluate_pys(seed: int, rows: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, rows)
    probabilities = _g7(
        rng.dirichlet([1, 1, 1], rows) + np.eye(3)[y] * rng.uniform(0, 1, (rows, 1))
    )
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    probabilities = _g7(probabilities)
    statistics, _ = _monitored("multiclass", y, probabilities)
    layout = statistics["multiclass_classification_metrics"]
    assert _values(statistics, "multiclass_classification_metrics") == pytest.approx(
        multiclass_scores(y, probabilities)
    )
    assert list(layout["confusion_matrix"]) == CLASSES  # by the names the JSON answers give
    assert sum(sum(row.values()) for row in layout["confusion_matrix"].values()) == rows


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(2, 120))
def test_regression_metrics_equal_evaluate_pys(seed: int, rows: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(100, 20, rows), 2)
    predicted = _g7(y + rng.normal(0, 5, rows))
    statistics, _ = _monitored("regression", y, predicted)
    assert _values(statistics, "regression_metrics") == pytest.approx(
        regression_scores(y, predicted)
    )


def test_deviations_follow_the_documented_sampling_from_200_rows() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0, 1, 250)
    rows = [
        _labeled(value, value + noise)
        for value, noise in zip(y, rng.normal(0, 1, 250), strict=True)
    ]
    statistics, _ = analyze_model_quality(rows, "regression", None)
    assert 0 < statistics["regression_metrics"]["rmse"]["standard_deviation"] < 0.2
    small, _ = analyze_model_quality(rows[:199], "regression", None)
    assert small["regression_metrics"]["rmse"]["standard_deviation"] == "NaN"


def _labeled(truth: float, value: float):
    from sagestack.monitoring import Labeled

    return Labeled(Prediction(None, score=value), truth)


def test_merge_prefers_the_inference_id_and_keeps_row_order() -> None:
    capture = read_capture(
        [
            (
                "c",
                "\n".join(
                    [
                        capture_line("1\n2\n", "0.9,1\n0.1,0\n", "ev-a", inference_id="order-1"),
                        capture_line("3", "0.8,1\n", "ev-b"),
                        capture_line("4", "0.3,0\n", "ev-c"),
                        capture_line("5\n6\n", "0.6,1\n0.7,1\n", "ev-d"),
                    ]
                ),
            )
        ]
    )
    truth = read_ground_truth(
        [
            (
                "g",
                "\n".join(
                    [
                        ground_truth_line("order-1", "1\n1"),  # by the caller's inference id
                        ground_truth_line(
                            "ev-a", "0\n0"
                        ),  # the event id of an inference id'd record
                        ground_truth_line("ev-b", "[0]", encoding="JSON"),
                        ground_truth_line("ev-d", "1"),  # one label for two rows
                        ground_truth_line("ev-x", "1"),
                        "{}",
                    ]
                ),
            )
        ]
    )
    merged = merge(decode_outputs(capture, "binary").predictions, truth, "binary")
    assert [(row.prediction.key, row.prediction.row, row.truth) for row in merged.rows] == [
        ("order-1", 0, 1.0),
        ("order-1", 1, 1.0),
        ("ev-b", 0, 0.0),
    ]
    assert merged.unlabeled == 1  # ev-c
    assert merged.unmatched == 2  # ev-a (merged by inference id instead) and ev-x
    assert [(r.source, r.reason) for r in merged.rejected] == [
        ("g:6", "not a ground-truth record: it needs groundTruthData and eventMetadata"),
        ("ev-d", "1 labels for a request of 2 rows"),
    ]


@pytest.mark.parametrize(
    ("problem_type", "label", "classes", "expected"),
    [
        ("binary", "malignant", ["benign", "malignant"], 1.0),
        ("binary", "1.0", [], 1.0),
        ("binary", "2", [], "not a binary class code 0..1"),
        ("multiclass", "class_2", CLASSES, 2.0),
        ("multiclass", "1", [], 1.0),
        ("multiclass", "class_9", CLASSES, "not a multiclass class code 0..2; classes class_0"),
        ("regression", "-1.5e3", [], -1500.0),
        ("regression", "inf", [], "is not a number"),
    ],
)
def test_labels_are_read_per_problem_type(problem_type, label, classes, expected) -> None:
    answers = {
        "binary": "0.5,1",
        "multiclass": "class_0,0.2,0.3,0.5",
        "regression": "1",
    }
    capture = read_capture([("c", capture_line("1", answers[problem_type], "e"))])
    truth = read_ground_truth([("g", ground_truth_line("e", label))])
    merged = merge(decode_outputs(capture, problem_type).predictions, truth, problem_type, classes)
    if isinstance(expected, float):
        assert [row.truth for row in merged.rows] == [expected]
    else:
        assert merged.rows == [] and expected in merged.rejected[0].reason


BINARY_ROWS = [(1, 0.9), (1, 0.8), (0, 0.7), (0, 0.2), (1, 0.4), (0, 0.1)]


def _binary_rows(rows=BINARY_ROWS):
    from sagestack.monitoring import Labeled

    return [Labeled(Prediction(str(int(p >= 0.5)), score=p), float(y)) for y, p in rows]


@pytest.mark.parametrize(
    ("operator", "threshold", "violated"),
    [
        ("LessThanThreshold", 0.7, True),  # accuracy 4/6 below 0.7
        ("LessThanThreshold", 0.6, False),
        ("GreaterThanThreshold", 0.6, True),
        ("GreaterThanOrEqualToThreshold", 2 / 3, True),
        ("LessThanOrEqualToThreshold", 2 / 3, True),
        ("LessThanOrEqualToThreshold", 0.5, False),
    ],
)
def test_each_operator_names_the_violating_side(operator, threshold, violated) -> None:
    constraints = {
        "version": 0.0,
        "binary_classification_constraints": {
            "accuracy": {"threshold": threshold, "comparison_operator": operator}
        },
    }
    _, violations = analyze_model_quality(_binary_rows(), "binary", constraints)
    expected = [
        {
            "metric_name": "accuracy",
            "constraint_check_type": operator,
            "description": f"Metric accuracy with 0.666667 was {operator} {threshold:.6g}",
        }
    ]
    assert violations == {"violations": expected if violated else []}


def test_evaluate_pys_constraints_hold_on_its_rows_and_catch_a_worse_model() -> None:
    statistics, _ = analyze_model_quality(_binary_rows(), "binary", None)
    constraints = quality_constraints("binary", statistics["binary_classification_metrics"], 0.1)
    assert analyze_model_quality(_binary_rows(), "binary", constraints)[1] == {"violations": []}
    worse = [(y, 1 - p) if i < 2 else (y, p) for i, (y, p) in enumerate(BINARY_ROWS)]
    _, violations = analyze_model_quality(_binary_rows(worse), "binary", constraints)
    assert {v["metric_name"] for v in violations["violations"]} == {
        "accuracy",
        "auc",
        "f1",
        "precision",
        "recall",
    }
    assert {v["constraint_check_type"] for v in violations["violations"]} == {"LessThanThreshold"}


def test_undefined_metrics_are_left_out_and_nothing_is_checked_without_rows() -> None:
    one_class = _binary_rows([(1, 0.9), (1, 0.2)])
    statistics, _ = analyze_model_quality(one_class, "binary", None)
    assert "auc" not in statistics["binary_classification_metrics"]
    constraints = {
        "binary_classification_constraints": {
            "auc": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}
        }
    }
    assert analyze_model_quality(one_class, "binary", constraints)[1] == {"violations": []}
    empty, _ = analyze_model_quality([], "regression", None)
    assert empty == {"version": 0.0, "dataset": {"item_count": 0}, "regression_metrics": {}}


def test_an_unknown_operator_is_a_clear_error() -> None:
    constraints = {
        "binary_classification_constraints": {
            "accuracy": {"threshold": 0.5, "comparison_operator": "Below"}
        }
    }
    with pytest.raises(ValueError, match="comparison_operator 'Below' is not one of"):
        analyze_model_quality(_binary_rows(), "binary", constraints)
