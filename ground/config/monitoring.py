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


class ModelMonitorConfig(Section):
    """Data-quality monitoring of the captured requests against the training baseline."""

    enabled: bool = True
    schedule: str = Field(default="cron(0 * ? * * *)", pattern=r"^cron\(.+\)$")
    instance_type: MonitoringInstanceType = "ml.m5.large"
    volume_size_gb: int = Field(default=20, ge=1, le=512)
    max_runtime_seconds: int = Field(
        default=1800, ge=60, le=3600, description="At most an hour: the schedule is hourly."
    )
    baseline_uri: S3Folder | None = Field(
        default=None,
        description="S3 folder holding statistics.json and constraints.json, to monitor "
        "against a baseline other than the pinned model's (serving.model.baseline_uri, which "
        "promotion copies from the package's DriftCheckBaselines).",
    )


class MonitoringConfig(Section):
    alarms: AlarmThresholds = AlarmThresholds()
    model_monitor: ModelMonitorConfig = ModelMonitorConfig()
