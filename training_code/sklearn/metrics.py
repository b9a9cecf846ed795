"""The metric line the scikit-learn train.py prints, and the regexes SageMaker uses to pick it up.

train.py fits once and prints one line, measured on the validation channel, e.g.

    [final] validation-auc=0.9921 validation-logloss=0.0951 validation-accuracy=0.9647

SageMaker applies each `Regex` of METRIC_DEFINITIONS to the job's log and records the first
group as the metric `Name` (CloudWatch `/aws/sagemaker/TrainingJobs`, HPO objective, pipeline
properties). Which metrics appear depends on the problem type:

  binary      validation:auc (the tuning objective), validation:logloss, validation:accuracy
  multiclass  validation:accuracy (the tuning objective), validation:mlogloss,
              validation:weighted_f1
  regression  validation:rmse (the tuning objective), validation:mae, validation:r2

With the hyperparameter `eval_train=true` the same metrics of the train channel follow as
`train:*`. The training stack reads this list (standard library only: it is loaded on its own,
outside the job) into the pipeline definition; the local runner parses logs with the same list.
"""

from __future__ import annotations

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_METRICS = ("auc", "logloss", "accuracy", "mlogloss", "weighted_f1", "rmse", "mae", "r2")

METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": f"{data}:{metric}", "Regex": rf"{data}-{metric}={_NUMBER}"}
    for data in ("validation", "train")
    for metric in _METRICS
]


def format_line(tag: str, values: dict[str, float]) -> str:
    """`[tag] key=value ...` with keys like `validation-auc` (dataset-metric)."""
    return f"[{tag}] " + " ".join(f"{key}={value:.6g}" for key, value in values.items())
