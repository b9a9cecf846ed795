"""Problem types as the container scripts see them: names, report layouts, objective metrics.

The repository's ground/problems.py is the source of these facts for the pipelines (gate
metrics, tuning objective); training_code/ imports nothing from the repository, so this file
keeps the part the scripts need, and tests/training_code checks that both agree.

  binary      target 0/1 (1: the positive class); a model scores P(class 1)
  multiclass  target codes 0..K-1 (preprocess.py sorts the class names); a model scores one
              probability per class
  regression  a float target; a model predicts a value

Only the standard library and numpy (imported where used): this module ships in the model's
code/ folder beside serving.py and runs in every image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BINARY = "binary"
MULTICLASS = "multiclass"
REGRESSION = "regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)
CLASSIFICATION = (BINARY, MULTICLASS)

# evaluation.json's top-level key per problem type (SageMaker's model-quality layouts).
LAYOUTS = {
    BINARY: "binary_classification_metrics",
    MULTICLASS: "multiclass_classification_metrics",
    REGRESSION: "regression_metrics",
}
# The training job's metric a tuning job optimizes (printed on train.py's final line), and
# whether larger is better. ground/problems.py holds the same names.
OBJECTIVE_METRICS = {
    BINARY: "validation:auc",
    MULTICLASS: "validation:accuracy",
    REGRESSION: "validation:rmse",
}
MAXIMIZE = {BINARY: True, MULTICLASS: True, REGRESSION: False}


def check_problem_type(name: str) -> str:
    """`name` if it is a problem type; ValueError naming the known ones otherwise."""
    if name not in PROBLEM_TYPES:
        raise ValueError(f"problem type '{name}' is not one of {', '.join(PROBLEM_TYPES)}")
    return name


def objective_key(problem_type: str) -> str:
    """The objective metric as train.py prints it: `validation-auc`, ..."""
    return OBJECTIVE_METRICS[problem_type].replace(":", "-")


def label_problem(
    labels: np.ndarray, problem_type: str, n_classes: int | None = None
) -> str | None:
    """Why `labels` (float) cannot be a target of `problem_type`, or None when they can."""
    import numpy as np

    missing = np.isnan(labels)
    if missing.any():
        return f"holds {int(missing.sum())} missing values; every row needs a target"
    if problem_type == BINARY:
        bad = ~np.isin(labels, (0.0, 1.0))
        if bad.any():
            return f"must hold 0 or 1; found {labels[bad][:5].tolist()}"
    elif problem_type == MULTICLASS:
        limit = n_classes if n_classes is not None else np.inf
        bad = (labels != np.round(labels)) | (labels < 0) | (labels >= limit)
        if bad.any():
            expected = f"0..{n_classes - 1}" if n_classes is not None else "0, 1, 2, ..."
            return f"must hold class codes {expected}; found {labels[bad][:5].tolist()}"
    elif not np.isfinite(labels).all():
        return "holds infinite values"
    return None


def objective_value(problem_type: str, labels: np.ndarray, scores: np.ndarray) -> float:
    """The objective metric of `scores` (P(1), class probabilities or values) against labels:
    ROC-AUC (ties averaged), accuracy, or RMSE. numpy only, for scripts that lack a library
    computing it."""
    import numpy as np

    if problem_type == BINARY:
        return _roc_auc(labels, scores)
    if problem_type == MULTICLASS:
        return float(np.mean(np.argmax(scores, axis=1) == labels))
    return float(np.sqrt(np.mean((np.asarray(scores, np.float64) - labels) ** 2)))


def _roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U over average ranks; NaN when only one class is present."""
    import numpy as np

    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ordered = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # Average ranks over runs of tied scores.
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    average = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
