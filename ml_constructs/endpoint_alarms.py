"""The endpoint's alarms, all notifying the environment's alerts topic.

Three of them mean "this deployment is bad" and roll a guarded deployment back: server errors,
a rise in client errors (a model that rejects the requests its predecessor accepted) and model
latency. A composite alarm says "endpoint unhealthy" when any alarm but the client-error rate
fires (client errors alone are usually the caller's mistake).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from ground.config.monitoring import AlarmThresholds
from ml_constructs.endpoint_metrics import MICROSECONDS_PER_MS, EndpointMetrics

ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
BELOW = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD


class EndpointAlarms(Construct):
    """Alarms named `<prefix>-endpoint-<what>`.

    `rollback` lists those guarding deployments, `unhealthy` is the composite alarm and
    `names` every alarm name (literal strings, for panels in other stacks).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        metrics: EndpointMetrics,
        thresholds: AlarmThresholds,
        topic: sns.ITopic,
        has_instances: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = prefix
        self._thresholds = thresholds
        self._notify = actions.SnsAction(topic)
        t = thresholds
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._add(
            "model-latency-p99",
            metrics.model_latency("p99"),
            t.model_latency_p99_ms * MICROSECONDS_PER_MS,
            f"ModelLatency p99 above {t.model_latency_p99_ms} ms (metric in microseconds)",
        )
        self._add(
            "overhead-latency-p99",
            metrics.overhead_latency("p99"),
            t.overhead_latency_p99_ms * MICROSECONDS_PER_MS,
            f"OverheadLatency p99 above {t.overhead_latency_p99_ms} ms (metric in microseconds)",
        )
        self._add(
            "5xx-errors",
            metrics.errors("5XX"),
            t.error_5xx_count - 1,
            f"{t.error_5xx_count} or more 5XX answers per {t.period_seconds} s",
        )
        self._add(
            "4xx-rate",
            metrics.error_4xx_rate(),
            t.error_4xx_rate_percent,
            f"4XX answers above {t.error_4xx_rate_percent}% of invocations",
        )
        if has_instances:  # serverless endpoints publish no instance metrics
            for resource, limit in (
                ("CPU", t.cpu_percent),
                ("Memory", t.memory_percent),
                ("Disk", t.disk_percent),
            ):
                self._add(
                    f"{resource.lower()}-utilization",
                    metrics.utilization(resource),
                    limit,
                    f"{resource}Utilization above {limit}%",
                )
        if t.expect_traffic:
            self._add_no_invocations(metrics)

        self.rollback = [
            self.alarms[name] for name in ("5xx-errors", "4xx-rate", "model-latency-p99")
        ]
        self.unhealthy = cloudwatch.CompositeAlarm(
            self,
            "Unhealthy",
            composite_alarm_name=f"{prefix}-endpoint-unhealthy",
            alarm_description="Endpoint unhealthy: errors, latency, saturation or no traffic",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *(alarm for name, alarm in self.alarms.items() if name != "4xx-rate")
            ),
        )
        self.unhealthy.add_alarm_action(self._notify)
        self.unhealthy.add_ok_action(self._notify)
        self.names = [f"{prefix}-endpoint-{name}" for name in (*self.alarms, "unhealthy")]

    def _add(
        self,
        name: str,
        metric: cloudwatch.Metric | cloudwatch.MathExpression,
        threshold: float,
        description: str,
    ) -> None:
        t = self._thresholds
        self._register(
            name,
            metric.create_alarm(
                self,
                name,
                alarm_name=f"{self._prefix}-endpoint-{name}",
                alarm_description=description,
                threshold=threshold,
                comparison_operator=ABOVE,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints_to_alarm,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        )

    def _add_no_invocations(self, metrics: EndpointMetrics) -> None:
        minutes = self._thresholds.no_invocations_minutes
        metric = metrics.invocations().with_(period=Duration.minutes(minutes))
        self._register(
            "no-invocations",
            metric.create_alarm(
                self,
                "no-invocations",
                alarm_name=f"{self._prefix}-endpoint-no-invocations",
                alarm_description=f"No invocations for {minutes} minutes where traffic is expected",
                threshold=1,
                comparison_operator=BELOW,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
        )

    def _register(self, name: str, alarm: cloudwatch.Alarm) -> None:
        alarm.add_alarm_action(self._notify)
        self.alarms[name] = alarm
