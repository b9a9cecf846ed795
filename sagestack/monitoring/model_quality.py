"""Model-quality analysis: merged predictions and labels against model-quality constraints.

Statistics follow SageMaker's model-quality layouts (developer guide, "Model Quality
Metrics", model-monitor-model-quality-metrics): `binary_classification_metrics`,
`multiclass_classification_metrics` or `regression_metrics`, each metric a {"value",
"standard_deviation"} pair, the deviation measured only from 200 rows on, over 5 random 80%
samples (else "NaN", as the managed container writes it). The metrics are defined as
training_code/evaluate.py defines them (the tests hold them equal):

  binary      accuracy, precision, recall, f1 of the answered labels; auc, pr_auc (average
              precision), log_loss of the probabilities; confusion_matrix {true: {predicted}}
  multiclass  accuracy, weighted_ and macro_ precision / recall / f1 of the most probable
              class, log_loss; confusion_matrix by class name
  regression  mse, rmse, mae, r2

A metric that the rows do not define (auc of one class, r2 of one row) is left out.

Constraints: {"version": 0.0, "<problem>_constraints": {metric: {"threshold",
"comparison_operator"}}} (binary_classification_constraints, ...), as the model-quality
baselining job suggests them. The operator names the violating condition: accuracy
LessThanThreshold 0.8 is violated by an accuracy below 0.8. Each violation is
{"metric_name", "constraint_check_type": the operator, "description"}, as the managed
container reports them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from ground.problems import PROBLEM_TYPES
from sagestack.monitoring.ground_truth import Labeled
from sagestack.monitoring.reports import Report

# comparison_operator: when a metric value violates its threshold.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanOrEqualToThreshold": operator.le,
}
DEVIATION_MIN_ROWS = 200
DEVIATION_SAMPLES = 5
DEVIATION_FRACTION = 0.8


def constraints_key(problem_type: str) -> str:
    """The constraints file's key of a problem type: binary_classification_constraints, ..."""
    return PROBLEM_TYPES[problem_type].layout.removesuffix("_metrics") + "_constraints"


def analyze_model_quality(
    rows: Sequence[Labeled],
    problem_type: str,
    constraints: dict | None,
    classes: Sequence[str] | None = None,
    seed: int = 0,
) -> Report:
    """Statistics of the labeled predictions (ground_truth.merge) and their violations of
    `constraints` (None: no check). `classes` names multiclass codes in the confusion matrix
    (default: the names a JSON answer gave, else the codes)."""
    layout = PROBLEM_TYPES[problem_type].layout
    truth = np.asarray([row.truth for row in rows], dtype=float)
    answers = [row.prediction for row in rows]
    values: dict[str, float] = {}
    body: dict[str, Any] = {}
    if len(rows):
        scores = _SCORERS[problem_type]
        columns = _columns(problem_type, answers)
        values = scores(truth, *columns)
        spread = _deviation(scores, truth, columns, seed)
        body = {
            name: {"value": value, "standard_deviation": spread.get(name, "NaN")}
            for name, value in values.items()
        }
        if problem_type != "regression":
            names = classes or next((a.classes for a in answers if a.classes), None)
            body["confusion_matrix"] = _confusion(truth, columns[0], problem_type, names)
    statistics = {"version": 0.0, "dataset": {"item_count": len(rows)}, layout: body}
    return Report(statistics, {"violations": _violations(values, constraints, problem_type)})


def _columns(problem_type: str, answers: list) -> tuple[np.ndarray, ...]:
    """(predicted labels, scores) arrays of the answers, as the scorer takes them."""
    if problem_type == "binary":
        labels = np.asarray([int(a.label) for a in answers])
        return labels, np.asarray([a.score for a in answers], dtype=float)
    if problem_type == "multiclass":
        probabilities = np.asarray([a.probabilities for a in answers], dtype=float)
        return np.argmax(probabilities, axis=1), probabilities
    values = np.asarray([a.score for a in answers], dtype=float)
    return values, values


def _binary(y: np.ndarray, labels: np.ndarray, p: np.ndarray) -> dict[str, float]:
    values = {
        "accuracy": skm.accuracy_score(y, labels),
        "precision": skm.precision_score(y, labels, zero_division=0),
        "recall": skm.recall_score(y, labels, zero_division=0),
        "f1": skm.f1_score(y, labels, zero_division=0),
        "log_loss": skm.log_loss(y, p, labels=[0, 1]),
    }
    if len(np.unique(y)) == 2:
        values |= {"auc": skm.roc_auc_score(y, p), "pr_auc": skm.average_precision_score(y, p)}
    return {name: float(value) for name, value in values.items()}


def _multiclass(y: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray) -> dict:
    codes = list(range(probabilities.shape[1]))
    values = {"accuracy": float(skm.accuracy_score(y, predicted))}
    for average in ("weighted", "macro"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y, predicted, labels=codes, average=average, zero_division=0
        )
        values |= {
            f"{average}_precision": float(precision),
            f"{average}_recall": float(recall),
            f"{average}_f1": float(f1),
        }
    values["log_loss"] = float(skm.log_loss(y, np.clip(probabilities, 1e-15, 1), labels=codes))
    return values


def _regression(y: np.ndarray, predicted: np.ndarray, _: np.ndarray) -> dict[str, float]:
    mse = float(skm.mean_squared_error(y, predicted))
    values = {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(skm.mean_absolute_error(y, predicted)),
    }
    if len(y) > 1:
        values["r2"] = float(skm.r2_score(y, predicted))
    return values


_SCORERS: dict[str, Callable[..., dict[str, float]]] = {
    "binary": _binary,
    "multiclass": _multiclass,
    "regression": _regression,
}


def _deviation(
    scores: Callable[..., dict[str, float]],
    y: np.ndarray,
    columns: tuple[np.ndarray, ...],
    seed: int,
) -> dict[str, float]:
    """Each metric's standard deviation over seeded 80% samples (from 200 rows on)."""
    if len(y) < DEVIATION_MIN_ROWS:
        return {}
    rng = np.random.default_rng(seed)
    size = int(len(y) * DEVIATION_FRACTION)
    samples = []
    for _ in range(DEVIATION_SAMPLES):
        index = rng.choice(len(y), size, replace=False)
        samples.append(scores(y[index], *(column[index] for column in columns)))
    names = set.intersection(*(set(sample) for sample in samples))
    return {name: float(np.std([sample[name] for sample in samples])) for name in names}


def _confusion(
    y: np.ndarray, predicted: np.ndarray, problem_type: str, classes: Sequence[str] | None
) -> dict[str, dict[str, int]]:
    """{true class: {predicted class: count}}: binary by 0/1, multiclass by class name."""
    count = 2 if problem_type == "binary" else max(int(y.max()), int(predicted.max())) + 1
    names = [str(code) for code in range(count)]
    if problem_type == "multiclass" and classes:
        names, count = list(classes), len(classes)
    matrix = skm.confusion_matrix(y, predicted, labels=list(range(count)))
    return {
        names[actual]: {names[guess]: int(matrix[actual, guess]) for guess in range(count)}
        for actual in range(count)
    }


def _violations(
    values: dict[str, float], constraints: dict | None, problem_type: str
) -> list[dict[str, str]]:
    found = []
    for metric, constraint in (constraints or {}).get(constraints_key(problem_type), {}).items():
        name = constraint["comparison_operator"]
        if name not in OPERATORS:
            raise ValueError(
                f"constraint {metric}: comparison_operator {name!r} is not one of "
                f"{', '.join(OPERATORS)}"
            )
        threshold = float(constraint["threshold"])
        if metric in values and OPERATORS[name](values[metric], threshold):
            found.append(
                {
                    "metric_name": metric,
                    "constraint_check_type": name,
                    "description": f"Metric {metric} with {values[metric]:.6g} was {name} "
                    f"{threshold:.6g}",
                }
            )
    return found
