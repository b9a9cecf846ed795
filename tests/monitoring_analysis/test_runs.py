"""One run from the files to the report, as `sagestack local monitor run` calls it."""

from __future__ import annotations

from sagestack.monitoring import run_data_quality, run_model_quality
from tests.monitoring_analysis.conftest import Baseline
from tests.monitoring_analysis.records import capture_line, ground_truth_line


def _csv(row) -> str:
    return ",".join(f"{value:.7g}" for value in row)


def test_a_data_quality_run_counts_what_it_read_and_names_the_drift(cancer: Baseline) -> None:
    held_out = cancer.held_out.to_numpy()
    held_out[:, 5] += 3 * cancer.train["_c5"].std()
    two_rows = "\n".join(_csv(row) for row in held_out[:2])
    lines = [capture_line(two_rows, "0.1,0\n0.2,0\n", "pair")]
    lines += [capture_line(_csv(row), "0.1,0", f"e{i}") for i, row in enumerate(held_out[2:])]
    files = [("a.jsonl", "\n".join(lines[:50])), ("b.jsonl", "\n".join([*lines[50:], "oops"]))]
    run = run_data_quality(files, cancer.statistics, cancer.constraints)
    assert (run.requests, run.rows) == (170, 171)
    assert [(r.source, r.reason[:8]) for r in run.rejected] == [("b.jsonl:121", "not JSON")]
    assert [v["feature_name"] for v in run.report.violations["violations"]] == ["_c5"]


def test_no_traffic_is_no_violation(cancer: Baseline) -> None:
    run = run_data_quality([], cancer.statistics, cancer.constraints)
    assert (run.requests, run.rows) == (0, 0)
    assert run.report.violations == {"violations": []}
    assert run.report.statistics["dataset"] == {"item_count": 0}


def test_a_model_quality_run_merges_and_reports() -> None:
    answers = ["class_1,0.1,0.8,0.1", "class_0,0.7,0.2,0.1", "class_2,0.1,0.1,0.8", "x,0.5,0.5"]
    captures = [capture_line("1,2", answer, f"e{i}") for i, answer in enumerate(answers)]
    truths = [
        ground_truth_line(f"e{i}", label)
        for i, label in enumerate(["class_1", "class_2", "class_2", "class_0"])
    ]
    constraints = {
        "version": 0.0,
        "multiclass_classification_constraints": {
            "accuracy": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}
        },
    }
    run = run_model_quality(
        [("c", "\n".join(captures))],
        [("g", "\n".join([*truths, ground_truth_line("late", "class_0")]))],
        "multiclass",
        constraints,
        classes=["class_0", "class_1", "class_2"],
    )
    assert (run.labeled, run.unlabeled, run.unmatched) == (3, 0, 1)
    assert [r.reason for r in run.rejected] == ["the answer does not give 3 class probabilities"]
    metrics = run.report.statistics["multiclass_classification_metrics"]
    assert metrics["accuracy"]["value"] == 2 / 3
    assert metrics["confusion_matrix"]["class_2"] == {"class_0": 1, "class_1": 0, "class_2": 1}
    (violation,) = run.report.violations["violations"]
    assert violation["description"] == "Metric accuracy with 0.666667 was LessThanThreshold 0.9"
