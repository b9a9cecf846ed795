"""Model Monitor's analyses on this machine: data capture and ground truth read as SageMaker
writes them, data-quality and model-quality reports in its documented formats.

  capture        data-capture JSON Lines -> records (unreadable lines counted, not raised)
  payloads       captured bodies -> feature rows / predictions, as the endpoint reads and answers
  ground_truth   ground-truth records, merged with predictions by inference or event id
  data_quality   rows against a baseline's statistics.json and constraints.json
  model_quality  labeled predictions -> model-quality metrics and threshold violations
  statistics     statistics.json of a dataset; sketch: KLL sketches and distances
  reports        statistics.json and constraint_violations.json through any writer
  runs           one run from the files to the report (run_data_quality, run_model_quality)

The analyses are pure: the caller reads the files (emulator S3, a folder) and writes the
reports through a writer.
"""

from sagestack.monitoring.capture import Capture, CaptureRecord, Rejection, read_capture
from sagestack.monitoring.data_quality import analyze_data_quality, metrics
from sagestack.monitoring.ground_truth import GroundTruth, Labeled, Merged, merge, read_ground_truth
from sagestack.monitoring.model_quality import analyze_model_quality, constraints_key
from sagestack.monitoring.payloads import Prediction, decode_inputs, decode_outputs
from sagestack.monitoring.reports import Report, folder_writer, write_reports
from sagestack.monitoring.runs import (
    DataQualityRun,
    ModelQualityRun,
    run_data_quality,
    run_model_quality,
)

__all__ = [
    "Capture",
    "CaptureRecord",
    "DataQualityRun",
    "GroundTruth",
    "Labeled",
    "Merged",
    "ModelQualityRun",
    "Prediction",
    "Rejection",
    "Report",
    "analyze_data_quality",
    "analyze_model_quality",
    "constraints_key",
    "decode_inputs",
    "decode_outputs",
    "folder_writer",
    "merge",
    "metrics",
    "read_capture",
    "read_ground_truth",
    "run_data_quality",
    "run_model_quality",
    "write_reports",
]
