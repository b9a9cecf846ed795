"""One monitoring run from the files to the report: what `sagestack local monitor run` calls.

The caller lists and reads the files (the emulator's S3: the capture prefix of the schedule's
window, the ground-truth prefix) and passes them as (name, content) pairs; the run returns the
report to write (reports.write_reports) and what it could not use, to print.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sagestack.monitoring.capture import Rejection, read_capture
from sagestack.monitoring.data_quality import analyze_data_quality
from sagestack.monitoring.ground_truth import merge, read_ground_truth
from sagestack.monitoring.model_quality import analyze_model_quality
from sagestack.monitoring.payloads import decode_inputs, decode_outputs
from sagestack.monitoring.reports import Report

Files = Iterable[tuple[str, bytes | str]]


class DataQualityRun(NamedTuple):
    report: Report
    requests: int  # capture records read
    rows: int  # feature rows analysed
    rejected: list[Rejection]  # unreadable lines and undecodable requests, with reasons


class ModelQualityRun(NamedTuple):
    report: Report
    requests: int  # capture records read
    labeled: int  # predictions merged with their ground truth
    unlabeled: int  # predictions without ground truth (yet)
    unmatched: int  # ground-truth records of no captured prediction
    rejected: list[Rejection]


def run_data_quality(
    capture_files: Files,
    baseline_statistics: dict,
    baseline_constraints: dict,
    feature_names: Sequence[str] | None = None,
) -> DataQualityRun:
    """The captured requests against the baseline (data_quality.analyze_data_quality)."""
    capture = read_capture(capture_files)
    rows, rejected = decode_inputs(capture)
    report = analyze_data_quality(rows, feature_names, baseline_statistics, baseline_constraints)
    return DataQualityRun(report, len(capture.records), len(rows), rejected)


def run_model_quality(
    capture_files: Files,
    ground_truth_files: Files,
    problem_type: str,
    constraints: dict | None,
    classes: Sequence[str] | None = None,
) -> ModelQualityRun:
    """The captured answers merged with ground truth, against the model-quality constraints
    (model_quality.analyze_model_quality)."""
    capture = read_capture(capture_files)
    predictions, rejected = decode_outputs(capture, problem_type)
    merged = merge(predictions, read_ground_truth(ground_truth_files), problem_type, classes)
    report = analyze_model_quality(merged.rows, problem_type, constraints, classes)
    return ModelQualityRun(
        report,
        len(capture.records),
        len(merged.rows),
        merged.unlabeled,
        merged.unmatched,
        rejected + merged.rejected,
    )
