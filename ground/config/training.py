"""The `training` settings of a model in an environment: compute, spot, caching, tuning budget,
triggers and retries. What the model learns (hyperparameters, ranges, gate) is the model's own
declaration (ground/config/model.py)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ground.config.base import Section
from ground.config.values import (
    KmsArn,
    ProcessingInstanceType,
    ScheduleExpression,
    TrainingInstanceType,
)


class TuningSettings(Section):
    """The budget of the model's tuning pipeline (it exists whenever the model gives ranges)."""

    enabled: bool = Field(
        default=False,
        description="The triggers (schedule, new data) start the tuning pipeline instead of the "
        "training one. Both exist whenever the model gives ranges; start either by hand.",
    )
    max_jobs: int = Field(default=12, ge=1, le=500)
    max_parallel_jobs: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="after")
    def _parallel_within_total(self) -> TuningSettings:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(
                f"max_parallel_jobs ({self.max_parallel_jobs}) exceeds max_jobs ({self.max_jobs})"
            )
        return self


MAX_ALARM_PERIOD = 86400


class RetrainGuard(Section):
    """At most `max_runs` retraining runs per `window_hours`, however many signals arrive.

    The signals (new raw data, monitoring violations) are EventBridge rules; an alarm on the
    sum of their MatchedEvents starts the pipeline when it goes into ALARM. An alarm only goes
    into ALARM again after a whole period without signals, so with a period of
    window / max_runs there are at most max_runs starts in any window.
    """

    max_runs: int = Field(default=1, ge=1, le=24)
    window_hours: int = Field(default=24, ge=1, le=24 * 30)

    @model_validator(mode="after")
    def _period_is_an_alarm_period(self) -> RetrainGuard:
        # CloudWatch alarms: a period of 60 s or a multiple of it, and period x evaluation
        # periods at most one day (86,400 s): PutMetricAlarm in the CloudWatch API Reference.
        seconds = self.window_hours * 3600
        if seconds % (60 * self.max_runs) or seconds // self.max_runs > MAX_ALARM_PERIOD:
            raise ValueError(
                f"window_hours / max_runs ({self.window_hours} / {self.max_runs}) must be whole "
                f"minutes and at most 24 hours: it is the period of the guard's alarm"
            )
        return self

    @property
    def period_seconds(self) -> int:
        return self.window_hours * 3600 // self.max_runs


class TriggersConfig(Section):
    """What starts the model's training pipeline (the tuning one when tuning is enabled)."""

    schedule: ScheduleExpression | None = Field(
        default=None,
        description="EventBridge schedule expression, e.g. 'cron(0 3 ? * MON *)'; none when null.",
    )
    on_new_data: bool = Field(
        default=False,
        description="Retrain when new raw data lands in the model's prefix (through the guard).",
    )
    on_drift: bool = Field(
        default=False,
        description="Retrain when a Model Monitor run of the model finds violations (data or "
        "model quality; through the guard).",
    )
    guard: RetrainGuard = RetrainGuard()

    @property
    def guarded(self) -> bool:
        """Do signals (new data, drift) start retraining through the guard?"""
        return self.on_new_data or self.on_drift


class RetryConfig(Section):
    """Step retries for throttling and for capacity errors (spot and on-demand shortages)."""

    max_attempts: int = Field(default=5, ge=1, le=20)
    throttling_interval_seconds: int = Field(default=10, ge=1, le=43200)
    capacity_interval_seconds: int = Field(default=120, ge=1, le=43200)
    backoff_rate: float = Field(default=2.0, ge=1.0)


class TrainingConfig(Section):
    processing_instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    processing_instance_count: int = Field(default=1, ge=1, le=20)
    instance_type: TrainingInstanceType = "ml.m5.xlarge"
    instance_count: int = Field(default=1, ge=1, le=20)
    max_runtime_seconds: int = Field(default=3600, ge=60, le=432000)
    use_spot: bool = Field(
        default=True,
        description="Managed spot training. Fixed per environment, not a pipeline parameter: "
        "SageMaker requires MaxWaitTimeInSeconds with spot and rejects it without, and a "
        "definition cannot drop a field at run time.",
    )
    max_wait_seconds: int = Field(default=7200, ge=60, le=432000)
    cache_steps: bool = False
    cache_expire_after: str = Field(default="P30D", pattern=r"^P(\d+[YMWD])+(T(\d+[HMS])+)?$")
    tuning: TuningSettings = TuningSettings()
    triggers: TriggersConfig = TriggersConfig()
    retry: RetryConfig = RetryConfig()
    assets_key_arn: KmsArn | None = Field(
        default=None,
        description="KMS key of the CDK bootstrap assets bucket when it was bootstrapped with "
        "a customer key; null for the default (the AWS-managed aws/s3 key).",
    )

    @model_validator(mode="after")
    def _spot_waits_longer_than_it_runs(self) -> TrainingConfig:
        # The API reference says "equal to or greater", the developer guide "larger"
        # (model-managed-spot-training.html): the stricter of the two.
        if self.use_spot and self.max_wait_seconds <= self.max_runtime_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be larger than "
                f"max_runtime_seconds ({self.max_runtime_seconds}) when use_spot is on"
            )
        return self
