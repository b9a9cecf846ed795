"""The metric lines train.py prints, and the regexes SageMaker uses to pick them up.

train.py prints one line per boosting round and one at the end, e.g.

    [round 12] validation-logloss=0.1215 validation-auc=0.9874
    [final] best_iteration=41 validation-logloss=0.0951 validation-auc=0.9921

SageMaker applies each `Regex` of METRIC_DEFINITIONS to the job's log and records the first
group as the metric `Name` (CloudWatch `/aws/sagemaker/TrainingJobs`, HPO objective, pipeline
properties). The last value of each is the final model's (the `[final]` line, measured on the
model truncated at the best iteration). `train:*` metrics appear only with the hyperparameter
`eval_train=true`. The training stack imports this list into the pipeline definition; the local
runner parses logs with the same list.
"""

from __future__ import annotations

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

# (SageMaker metric name, key printed on the log line)
_METRICS = (
    ("validation:auc", "validation-auc"),
    ("validation:logloss", "validation-logloss"),
    ("train:auc", "train-auc"),
    ("train:logloss", "train-logloss"),
    ("validation:accuracy", "validation-accuracy"),
    ("validation:rmse", "validation-rmse"),
)

METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": name, "Regex": rf"{key}={_NUMBER}"} for name, key in _METRICS
]


def format_line(tag: str, values: dict[str, float]) -> str:
    """`[tag] key=value ...` with keys like `validation-auc` (dataset-metric)."""
    return f"[{tag}] " + " ".join(f"{key}={value:.6g}" for key, value in values.items())
