"""The `training` section: pipeline, registry, tuning and triggers."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ground.config.base import Section

HYPERPARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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


class TuningConfig(Section):
    """Bayesian hyperparameter tuning; the pipeline offers it whenever ranges are given."""

    enabled: bool = Field(
        default=False,
        description="The triggers (schedule, new data) start the tuning pipeline instead of the "
        "training one. Both exist whenever ranges are given; start either by hand.",
    )
    max_jobs: int = Field(default=12, ge=1, le=500)
    max_parallel_jobs: int = Field(default=3, ge=1, le=100)
    ranges: dict[str, ParameterRange] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _parallel_within_total(self) -> TuningConfig:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(
                f"max_parallel_jobs ({self.max_parallel_jobs}) exceeds max_jobs ({self.max_jobs})"
            )
        if self.enabled and not self.ranges:
            raise ValueError("tuning is enabled but no ranges are given")
        return self


class TriggersConfig(Section):
    schedule: str | None = Field(
        default=None,
        description="EventBridge schedule expression, e.g. 'cron(0 3 ? * MON *)'; none when null.",
        pattern=r"^(cron|rate)\(.+\)$",
    )
    on_new_data: bool = Field(default=False, description="Start the pipeline on new raw data.")


class RetryConfig(Section):
    """Step retries for throttling and for capacity errors (spot and on-demand shortages)."""

    max_attempts: int = Field(default=5, ge=1, le=20)
    throttling_interval_seconds: int = Field(default=10, ge=1)
    capacity_interval_seconds: int = Field(default=120, ge=1)
    backoff_rate: float = Field(default=2.0, ge=1.0)


class TrainingConfig(Section):
    target_column: str = "target"
    positive_class: str | None = Field(
        default=None,
        description="Target value meaning 1 when the raw target is not already 0/1 "
        "(preprocess.py --positive-class).",
    )
    processing_instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.")
    processing_instance_count: int = Field(default=1, ge=1, le=20)
    instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.")
    instance_count: int = Field(default=1, ge=1, le=20)
    max_runtime_seconds: int = Field(default=3600, ge=60, le=432000)
    use_spot: bool = Field(
        default=True,
        description="Managed spot training. Fixed per environment, not a pipeline parameter: "
        "SageMaker requires MaxWaitTimeInSeconds with spot and rejects it without, and a "
        "definition cannot drop a field at run time.",
    )
    max_wait_seconds: int = Field(default=7200, ge=60, le=432000)
    min_roc_auc: float = Field(default=0.9, gt=0, le=1)
    cache_steps: bool = False
    cache_expire_after: str = Field(default="P30D", pattern=r"^P(\d+[YMWD])+(T(\d+[HMS])+)?$")
    hyperparameters: dict[str, str | int | float] = Field(default_factory=dict)
    tuning: TuningConfig = TuningConfig()
    triggers: TriggersConfig = TriggersConfig()
    retry: RetryConfig = RetryConfig()
    assets_key_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:kms:",
        description="KMS key of the CDK bootstrap assets bucket when it was bootstrapped with "
        "a customer key; null for the default (the AWS-managed aws/s3 key).",
    )

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameter_names(cls, value: dict[str, str | int | float]) -> dict:
        for name in value:
            if not HYPERPARAMETER_NAME.match(name):
                raise ValueError(
                    f"hyperparameter name '{name}' must be snake_case (a-z, 0-9, _), as train.py "
                    "reads it"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainingConfig:
        # The API reference says "equal to or greater", the developer guide "larger"
        # (model-managed-spot-training.html): the stricter of the two.
        if self.use_spot and self.max_wait_seconds <= self.max_runtime_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be larger than "
                f"max_runtime_seconds ({self.max_runtime_seconds}) when use_spot is on"
            )
        untuned = sorted(set(self.tuning.ranges) - set(self.hyperparameters))
        if untuned:
            raise ValueError(
                f"tuning.ranges names {', '.join(untuned)}, which hyperparameters does not "
                "define; add a default value for each tuned hyperparameter"
            )
        return self
