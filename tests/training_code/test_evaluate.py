"""evaluate.py under the processing contract: model-quality JSON, figures, HTML, CV, failures.

The other families and problem types: test_families.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from common import JobError
from evaluate import evaluate, load_model, parse_args, quality_constraints

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def evaluation(demo) -> Path:
    """evaluate.py --cv-folds 3 on the demo's model and test split, under the runner."""
    return demo.evaluation_dir


def test_metrics_have_the_model_quality_shape(evaluation: Path) -> None:
    report = json.loads((evaluation / "evaluation.json").read_text())
    metrics = report["binary_classification_metrics"]
    for name in ("accuracy", "precision", "recall", "f1", "auc", "pr_auc", "log_loss"):
        assert set(metrics[name]) == {"value", "standard_deviation"}
    for name in ("accuracy", "precision", "recall", "f1", "auc", "pr_auc"):
        assert 0.85 <= metrics[name]["value"] <= 1.0, name
    assert 0 < metrics["log_loss"]["value"] < 0.5
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == 86  # the test split
    assert matrix["1"]["1"] + matrix["1"]["0"] == 32  # its positives
    roc = metrics["receiver_operating_characteristic_curve"]
    assert roc["false_positive_rates"][0] == 0.0 and roc["true_positive_rates"][-1] == 1.0
    assert len(metrics["precision_recall_curve"]["precisions"]) > 2
    folds = report["cross_validation"]
    assert folds["folds"] == 3 and len(folds["auc"]["per_fold"]) == 3
    assert folds["auc"]["value"] > 0.95


def test_report_shows_curves_and_matrix(evaluation: Path) -> None:
    for name in ("roc_curve.png", "pr_curve.png", "confusion_matrix.png"):
        assert (evaluation / name).read_bytes().startswith(PNG_MAGIC)
    page = (evaluation / "report.html").read_text()
    assert len(re.findall(r'<img alt="[a-z_]+" src="data:image/png;base64,', page)) == 3
    assert "<th>auc</th>" in page and "3-fold CV auc" in page


def test_missing_model_is_a_clear_failure(tmp_path: Path) -> None:
    with pytest.raises(JobError, match=r"no model\.tar\.gz in"):
        load_model(tmp_path, tmp_path / "work")


def test_bad_arguments_are_a_clear_failure() -> None:
    with pytest.raises(JobError, match=r"--cv-folds must be 0 \(none\) or at least 2, got 1"):
        parse_args(["--cv-folds", "1"])
    with pytest.raises(JobError, match=r"--quality-tolerance must be in \[0, 1\), got -0.1"):
        parse_args(["--quality-tolerance", "-0.1"])


def test_the_demo_writes_model_quality_constraints_from_its_test_metrics(evaluation: Path) -> None:
    metrics = json.loads((evaluation / "evaluation.json").read_text())
    auc = metrics["binary_classification_metrics"]["auc"]["value"]
    written = json.loads((evaluation / "model_quality_constraints.json").read_text())
    assert written == quality_constraints("binary", metrics["binary_classification_metrics"], 0.1)
    assert written["binary_classification_constraints"]["auc"] == {
        "threshold": pytest.approx(auc * 0.9),
        "comparison_operator": "LessThanThreshold",
    }


def _layout(**values: float) -> dict:
    return {name: {"value": value, "standard_deviation": 0.0} for name, value in values.items()}


def test_quality_constraints_loosen_each_metric_by_the_tolerance() -> None:
    binary = quality_constraints(
        "binary", _layout(auc=0.9, accuracy=0.8, f1=0.7, precision=0.6, recall=0.5, pr_auc=1), 0.2
    )
    assert binary == {
        "version": 0.0,
        "binary_classification_constraints": {
            name: {
                "threshold": pytest.approx(value * 0.8),
                "comparison_operator": "LessThanThreshold",
            }
            for name, value in {
                "auc": 0.9,
                "accuracy": 0.8,
                "f1": 0.7,
                "precision": 0.6,
                "recall": 0.5,
            }.items()
        },
    }
    multiclass = quality_constraints(
        "multiclass",
        _layout(accuracy=0.9, weighted_f1=0.8, weighted_precision=0.7, weighted_recall=0.6),
        0.1,
    )["multiclass_classification_constraints"]
    assert list(multiclass) == ["accuracy", "weighted_f1", "weighted_precision", "weighted_recall"]
    assert multiclass["weighted_f1"]["threshold"] == pytest.approx(0.72)
    regression = quality_constraints("regression", _layout(mae=2.0, rmse=3.0, r2=-0.5), 0.1)
    assert regression["regression_constraints"] == {
        "mae": {"threshold": pytest.approx(2.2), "comparison_operator": "GreaterThanThreshold"},
        "rmse": {"threshold": pytest.approx(3.3), "comparison_operator": "GreaterThanThreshold"},
        # r2 may fall by a tenth of its size, also when it is negative
        "r2": {"threshold": pytest.approx(-0.55), "comparison_operator": "LessThanThreshold"},
    }


def test_a_model_of_another_problem_type_is_refused(demo, tmp_path: Path) -> None:
    args = parse_args(
        [
            *("--problem-type", "regression"),
            *("--model-dir", str(demo.training.model_artifact.parent)),
            *("--test-dir", str(demo.splits["test"])),
            *("--output-dir", str(tmp_path)),
        ]
    )
    with pytest.raises(JobError, match="the model is a binary model, but the job evaluates"):
        evaluate(args)


def test_an_artifact_without_a_model_is_a_clear_failure(tmp_path: Path) -> None:
    import tarfile

    (tmp_path / "metadata.json").write_text("{}")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "metadata.json", arcname="metadata.json")
    with pytest.raises(JobError, match=r"the model carries no code/inference\.py"):
        load_model(tmp_path, tmp_path / "work")
