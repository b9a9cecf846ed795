"""Problem types: what a model predicts, how it is scored, and what its gate reads.

The evaluation report (`evaluation.json`) follows SageMaker's model-quality layouts (developer
guide, "Model quality metrics"): `binary_classification_metrics`,
`multiclass_classification_metrics` or `regression_metrics`, each metric a
`{"value", "standard_deviation"}` pair. A model's gate is one of its problem type's metrics
compared with a threshold; the condition step reads `<layout>.<metric>.value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProblemTypeName = Literal["binary", "multiclass", "regression"]
Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class ProblemType:
    name: ProblemTypeName
    layout: str
    # metric -> whether a larger value is better ("at_least" a threshold) or a smaller one
    gate_metrics: dict[str, Direction]
    default_gate: str
    # The training job's metric a tuning job optimizes, and whether to maximize it.
    objective_metric: str
    maximize: bool
    # Model Monitor's name for the problem type (ModelQualityAppSpecification.ProblemType).
    monitor_name: str

    def gate_path(self, metric: str) -> str:
        return f"{self.layout}.{metric}.value"


PROBLEM_TYPES: dict[str, ProblemType] = {
    "binary": ProblemType(
        name="binary",
        layout="binary_classification_metrics",
        gate_metrics={
            "auc": "at_least",
            "pr_auc": "at_least",
            "accuracy": "at_least",
            "f1": "at_least",
            "precision": "at_least",
            "recall": "at_least",
        },
        default_gate="auc",
        objective_metric="validation:auc",
        maximize=True,
        monitor_name="BinaryClassification",
    ),
    "multiclass": ProblemType(
        name="multiclass",
        layout="multiclass_classification_metrics",
        gate_metrics={
            "accuracy": "at_least",
            "weighted_f1": "at_least",
            "weighted_precision": "at_least",
            "weighted_recall": "at_least",
            "macro_f1": "at_least",
            "macro_precision": "at_least",
            "macro_recall": "at_least",
        },
        default_gate="weighted_f1",
        objective_metric="validation:accuracy",
        maximize=True,
        monitor_name="MulticlassClassification",
    ),
    "regression": ProblemType(
        name="regression",
        layout="regression_metrics",
        gate_metrics={"rmse": "at_most", "mae": "at_most", "mse": "at_most", "r2": "at_least"},
        default_gate="r2",
        objective_metric="validation:rmse",
        maximize=False,
        monitor_name="Regression",
    ),
}
