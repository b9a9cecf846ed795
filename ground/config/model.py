"""A model's declaration: `config/models/<name>.yaml`, one file per model.

What the model is (owner team, problem type, family, data, gate, hyperparameters, tuning
ranges) is declared once; how it runs in each environment is that environment's defaults
(`config/<env>.yaml`: training, serving, monitoring) with the model's own overrides, first
model-wide, then per environment under `environments.<env>`. An environment the model does not
list does not host it. Promotion rewrites only `environments.<env>.serving.model`, so review and
promotion stay per model.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ground.config.base import Section
from ground.families import FAMILIES
from ground.problems import PROBLEM_TYPES, ProblemTypeName

MODEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")
# The estimators' own spellings (scikit-learn's `C`, XGBoost's `max_depth`).
HYPERPARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Pipeline parameters the training definitions declare; a hyperparameter's parameter
# (`early_stopping_rounds` -> EarlyStoppingRounds) must not take one of these names.
RESERVED_PARAMETERS = frozenset(
    {
        "InputDataUrl",
        "ProcessingInstanceType",
        "ProcessingInstanceCount",
        "TrainingInstanceType",
        "TrainingInstanceCount",
        "MaxRuntimeSeconds",
        "MaxWaitSeconds",
        "GateThreshold",
    }
)
HyperparameterValue = str | int | float


def parameter_name(hyperparameter: str) -> str:
    """`early_stopping_rounds` -> `EarlyStoppingRounds`: the pipeline parameter setting it."""
    return "".join(part.capitalize() for part in hyperparameter.split("_"))


class DataConfig(Section):
    """Where the model's raw data is and what to predict from it."""

    target: str = Field(default="target", min_length=1, description="The column to predict.")
    positive_class: str | None = Field(
        default=None,
        description="Binary models: the target value that means 1, when the raw target is not "
        "already 0/1 (preprocess.py --positive-class).",
    )
    categorical_columns: list[str] | None = Field(
        default=None, description="Columns to encode as categories (default: inferred)."
    )
    sample_dataset: Literal["breast_cancer", "wine", "diabetes"] | None = Field(
        default=None,
        description="A data set that ships with scikit-learn, which the local tools upload to "
        "the model's raw prefix when it is empty.",
    )


class GateConfig(Section):
    """The metric a trained model must reach to be registered (evaluate.py's report)."""

    metric: str | None = Field(
        default=None, description="A metric of the problem type (default: its usual one)."
    )
    threshold: float = Field(description="At least this (at most, for error metrics).")


class GateOverride(Section):
    """A per-environment change of the gate's threshold."""

    threshold: float


class ParameterRange(Section):
    """A tuning range for one hyperparameter."""

    kind: Literal["continuous", "integer"]
    min: float
    max: float
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _min_below_max(self) -> ParameterRange:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.scaling == "Logarithmic" and self.min <= 0:
            raise ValueError(f"Logarithmic scaling needs min > 0 (got {self.min})")
        if self.kind == "integer" and not (self.min.is_integer() and self.max.is_integer()):
            raise ValueError(f"an integer range needs whole bounds (got {self.min}..{self.max})")
        return self


class EnvironmentOverrides(Section):
    """How the model differs in one environment from that environment's defaults."""

    gate: GateOverride | None = None
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    serving: dict[str, Any] = Field(default_factory=dict)
    monitoring: dict[str, Any] = Field(default_factory=dict)


class ModelConfig(Section):
    """One model of the portfolio."""

    name: str = Field(description="The file's name; lowercase, 2 to 16 characters.")
    team: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$", description="The owning team.")
    description: str = ""
    problem_type: ProblemTypeName
    family: str = Field(description=f"One of: {', '.join(FAMILIES)}.")
    estimator: str | None = Field(
        default=None, description="Families with several learners: which one (e.g. sklearn)."
    )
    data: DataConfig = DataConfig()
    gate: GateConfig
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict)
    tuning_ranges: dict[str, ParameterRange] = Field(default_factory=dict)
    training: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of every environment's training defaults."
    )
    serving: dict[str, Any] = Field(default_factory=dict)
    monitoring: dict[str, Any] = Field(default_factory=dict)
    environments: dict[str, EnvironmentOverrides] = Field(
        description="The environments that host the model, each with its overrides ({} for none)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not MODEL_NAME.match(value):
            raise ValueError(
                f"model name '{value}' must be 2 to 16 characters of a-z, 0-9 and -, starting "
                "with a letter (it becomes part of every physical name, within SageMaker's limits)"
            )
        return value

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value not in FAMILIES:
            raise ValueError(f"family '{value}' is not one of {', '.join(FAMILIES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        family = FAMILIES[self.family]
        if self.problem_type not in family.problem_types:
            raise ValueError(f"family {self.family} does not do {self.problem_type} problems")
        self._check_estimator()
        self._check_gate()
        self._check_hyperparameters(self.hyperparameters)
        for overrides in self.environments.values():
            self._check_hyperparameters(overrides.hyperparameters)
        if self.problem_type != "binary" and self.data.positive_class is not None:
            raise ValueError("data.positive_class is for binary models only")
        untuned = sorted(set(self.tuning_ranges) - set(self.hyperparameters))
        if untuned:
            raise ValueError(
                f"tuning_ranges names {', '.join(untuned)}, which hyperparameters does not "
                "define; add a default value for each tuned hyperparameter"
            )
        return self

    def _check_estimator(self) -> None:
        family = FAMILIES[self.family]
        allowed = family.estimators_for(self.problem_type)
        if family.estimators and self.estimator not in allowed:
            raise ValueError(
                f"estimator '{self.estimator}' is not one the {self.family} family offers for "
                f"{self.problem_type} problems ({', '.join(allowed)})"
            )
        if not family.estimators and self.estimator is not None:
            raise ValueError(f"the {self.family} family takes no estimator; remove it")

    def _check_gate(self) -> None:
        problem = PROBLEM_TYPES[self.problem_type]
        if self.gate.metric is not None and self.gate.metric not in problem.gate_metrics:
            raise ValueError(
                f"gate.metric '{self.gate.metric}' is not a {self.problem_type} metric "
                f"({', '.join(problem.gate_metrics)})"
            )

    @staticmethod
    def _check_hyperparameters(values: dict[str, HyperparameterValue]) -> None:
        for name in values:
            if not HYPERPARAMETER_NAME.match(name):
                raise ValueError(
                    f"hyperparameter name '{name}' must be letters, digits and _ (the "
                    "estimator's own name, e.g. max_depth or C), as "
                    "train.py reads it"
                )
            if parameter_name(name) in RESERVED_PARAMETERS:
                raise ValueError(
                    f"hyperparameter '{name}' would be the pipeline parameter "
                    f"{parameter_name(name)}, which the pipeline already declares; rename it"
                )

    @property
    def gate_metric(self) -> str:
        return self.gate.metric or PROBLEM_TYPES[self.problem_type].default_gate
