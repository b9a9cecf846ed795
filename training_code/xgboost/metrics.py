"""The metric lines the XGBoost train.py prints, and the regexes SageMaker uses to pick them up.

train.py prints one line per boosting round and one at the end, e.g.

    [round 12] validation-logloss=0.1215 validation-auc=0.9874
    [final] best_iteration=41 validation-logloss=0.0951 validation-auc=0.9921

SageMaker applies each `Regex` of METRIC_DEFINITIONS to the job's log and records the first
group as the metric `Name` (CloudWatch `/aws/sagemaker/TrainingJobs`, HPO objective, pipeline
properties). The last value of each is the final model's (the `[final]` line, measured on the
model truncated at the best iteration). Which metrics appear depends on the problem type:

  binary      validation:logloss, validation:auc (the tuning objective)
  multiclass  validation:mlogloss, validation:merror and validation:accuracy (1 - merror,
              the tuning objective)
  regression  validation:rmse (the tuning objective), validation:mae

plus any other `eval_metric` named in the hyperparameters. `train:*` metrics appear only with
the hyperparameter `eval_train=true`. The training stack reads this list (standard library
only: it is loaded on its own, outside the job) into the pipeline definition; the local runner
parses logs with the same list.
"""

from __future__ import annotations

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# What a line may carry per data set: the SageMaker name is `<data set>:<metric>`, the key on
# the line `<data set>-<metric>` (XGBoost's own names, plus accuracy derived from merror).
_METRICS = ("auc", "logloss", "accuracy", "merror", "mlogloss", "rmse", "mae", "aucpr", "error")

METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": f"{data}:{metric}", "Regex": rf"{data}-{metric}={_NUMBER}"}
    for data in ("validation", "train")
    for metric in _METRICS
]


def format_line(tag: str, values: dict[str, float]) -> str:
    """`[tag] key=value ...` with keys like `validation-auc` (dataset-metric)."""
    return f"[{tag}] " + " ".join(f"{key}={value:.6g}" for key, value in values.items())
