"""Model families: the AWS framework container a model trains and serves in, and its code.

A family is one folder under training_code/ (its `train.py`, `inference.py` and `metrics.py`,
bundled with the shared scripts at the top of training_code/) plus one entry here: the
framework and version of the SageMaker SDK's image table, the problem types it supports, and,
for families that wrap several estimators, which ones a model may choose. Adding a family is
one folder and one entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ground.problems import ProblemTypeName


@dataclass(frozen=True)
class Family:
    name: str
    framework: str  # the sagemaker SDK's image table name
    version: str
    problem_types: tuple[ProblemTypeName, ...]
    # estimator -> the problem types it serves; empty when the family has one learner
    estimators: dict[str, tuple[ProblemTypeName, ...]] = field(default_factory=dict)

    def estimators_for(self, problem_type: str) -> list[str]:
        return sorted(name for name, kinds in self.estimators.items() if problem_type in kinds)


FAMILIES: dict[str, Family] = {
    "xgboost": Family(
        name="xgboost",
        framework="xgboost",
        version="3.0-5",
        problem_types=("binary", "multiclass", "regression"),
    ),
    "sklearn": Family(
        name="sklearn",
        framework="sklearn",
        version="1.9-0",
        problem_types=("binary", "multiclass", "regression"),
        estimators={
            "logistic_regression": ("binary", "multiclass"),
            "linear_regression": ("regression",),
            "ridge": ("regression",),
            "random_forest": ("binary", "multiclass", "regression"),
            "hist_gradient_boosting": ("binary", "multiclass", "regression"),
        },
    ),
}
# Data preparation runs in the scikit-learn image whatever the model's family.
PREPARATION_FAMILY = "sklearn"
