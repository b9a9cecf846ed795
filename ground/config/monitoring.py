"""The `monitoring` section: alarm thresholds, dashboard and Model Monitor."""

from __future__ import annotations

from pydantic import Field, model_validator

from ground.config.base import Section
from ground.config.values import MonitoringInstanceType, S3Folder


class AlarmThresholds(Section):
    """Endpoint alarm thresholds, each evaluated per `period_seconds`."""

    model_latency_p99_ms: float = Field(
        default=500, gt=0, description="p99 of ModelLatency (SageMaker reports microseconds)."
    )
    overhead_latency_p99_ms: float = Field(default=100, gt=0)
    error_5xx_count: int = Field(default=1, ge=1, description="5XX answers per period.")
    error_4xx_rate_percent: float = Field(default=5, gt=0, le=100)
    cpu_percent: float = Field(
        default=80,
        gt=0,
        description="CPUUtilization as SageMaker reports it: summed over the instance's vCPUs "
        "(0 to 100 x vCPUs), so 80 on a 2-vCPU ml.m5.large is 40% of the instance.",
    )
    memory_percent: float = Field(default=80, gt=0, le=100)
    disk_percent: float = Field(default=80, gt=0, le=100)
    expect_traffic: bool = Field(
        default=False, description="Alarm when the endpoint gets no invocations for a while."
    )
    no_invocations_minutes: int = Field(default=30, ge=5, le=1440)
    period_seconds: int = Field(default=60, ge=60, le=3600)
    evaluation_periods: int = Field(default=5, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=3, ge=1, le=60)

    @model_validator(mode="after")
    def _consistent(self) -> AlarmThresholds:
        if self.period_seconds % 60:
            raise ValueError(f"period_seconds ({self.period_seconds}) must be a multiple of 60")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) exceeds "
                f"evaluation_periods ({self.evaluation_periods})"
            )
        return self


HOURLY = "cron(0 * ? * * *)"
HOURLY_MODEL_QUALITY_RUNTIME = 1800


class MonitorJobConfig(Section):
    """What every Model Monitor schedule of a model has: when, and on what."""

    enabled: bool = True
    schedule: str = Field(default=HOURLY, pattern=r"^cron\(.+\)$")
    instance_type: MonitoringInstanceType = "ml.m5.large"
    volume_size_gb: int = Field(default=20, ge=1, le=512)
    max_runtime_seconds: int = Field(
        default=1800, ge=60, le=3600, description="At most an hour: the schedule is hourly."
    )


class ModelMonitorConfig(MonitorJobConfig):
    """Data-quality monitoring of the captured requests against the training baseline."""

    baseline_uri: S3Folder | None = Field(
        default=None,
        description="S3 folder holding statistics.json and constraints.json, to monitor "
        "against a baseline other than the pinned model's (serving.model.baseline_uri, which "
        "promotion copies from the package's DriftCheckBaselines).",
    )


class ModelQualityConfig(MonitorJobConfig):
    """Model-quality monitoring: captured predictions merged with ground-truth labels (under
    the model's ground-truth/<model>/ prefix), scored against the thresholds evaluate.py
    derived from the test split (the pinned run's model_quality_constraints.json)."""

    enabled: bool = False
    ground_truth_delay_hours: int = Field(
        default=1,
        ge=0,
        le=24 * 14,
        description="How long after an inference its label may arrive: the monitor looks back "
        "this far (EndTimeOffset).",
    )
    window_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 14,
        description="How many hours of captured predictions each run scores (StartTimeOffset).",
    )

    @model_validator(mode="after")
    def _runtime_fits_an_hourly_run(self) -> ModelQualityConfig:
        # "for an hourly model quality monitoring job, the value of MaxRuntimeInSeconds ...
        # must be no more than 1800": the merge job and the monitoring job share the hour.
        # https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-schedule.html
        if self.schedule == HOURLY and self.max_runtime_seconds > HOURLY_MODEL_QUALITY_RUNTIME:
            raise ValueError(
                f"max_runtime_seconds ({self.max_runtime_seconds}) of an hourly model-quality "
                f"monitor must be at most {HOURLY_MODEL_QUALITY_RUNTIME}: the ground-truth merge "
                "and the analysis share the hour"
            )
        return self

    # A run at T scores [T + StartTimeOffset, T + EndTimeOffset), offsets in ISO 8601 (-PT7H):
    # model-monitor-model-quality-schedule.html ("Model monitor offsets").
    @property
    def start_time_offset(self) -> str:
        return f"-PT{self.window_hours + self.ground_truth_delay_hours}H"

    @property
    def end_time_offset(self) -> str:
        return f"-PT{self.ground_truth_delay_hours}H"


class MonitoringConfig(Section):
    alarms: AlarmThresholds = AlarmThresholds()
    model_monitor: ModelMonitorConfig = ModelMonitorConfig()
    model_quality: ModelQualityConfig = ModelQualityConfig()
