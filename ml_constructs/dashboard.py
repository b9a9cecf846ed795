"""The environment's CloudWatch dashboard: endpoint, pipelines and Model Monitor on one page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ml_constructs.endpoint_metrics import MICROSECONDS_PER_MS, EndpointMetrics

PIPELINE_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
PIPELINE_OUTCOMES = ("ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed")
WIDTH = 12
HEIGHT = 6


@dataclass(frozen=True)
class Capacity:
    """The autoscaling range drawn on the instance-count graph, and the scaling target."""

    min_instances: int
    max_instances: int
    target_invocations_per_instance: int


class ServingDashboard(Construct):
    """One dashboard per environment; instance panels only when the endpoint has instances."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        metrics: EndpointMetrics,
        capacity: Capacity | None,
        pipeline_names: Sequence[str],
        monitor_outcomes: Mapping[str, cloudwatch.IMetric],
        alarm_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = [
            cloudwatch.Alarm.from_alarm_name(self, f"Alarm{index}", name)
            for index, name in enumerate(alarm_names)
        ]
        rows: list[list[cloudwatch.IWidget]] = [
            [self._invocations(metrics, capacity), self._latency(metrics)],
            [self._errors(metrics), self._pipelines(pipeline_names)],
        ]
        if capacity is not None:
            rows.append([self._instances(metrics, capacity), self._utilization(metrics)])
        last: list[cloudwatch.IWidget] = [
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=WIDTH, height=HEIGHT)
        ]
        if monitor_outcomes:
            title = "Model Monitor jobs with violations, failed jobs"
            last.insert(0, self._graph(title, list(monitor_outcomes.values())))
        rows.append(last)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(6),
            widgets=rows,
        )

    @staticmethod
    def _graph(
        title: str,
        left: Sequence[cloudwatch.IMetric],
        right: Sequence[cloudwatch.IMetric] | None = None,
        annotations: list[cloudwatch.HorizontalAnnotation] | None = None,
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=left,
            right=right,
            left_annotations=annotations,
            width=WIDTH,
            height=HEIGHT,
        )

    def _invocations(
        self, metrics: EndpointMetrics, capacity: Capacity | None
    ) -> cloudwatch.GraphWidget:
        if capacity is None:
            return self._graph("Invocations per minute", [metrics.invocations()])
        target = cloudwatch.HorizontalAnnotation(
            value=capacity.target_invocations_per_instance, label="scaling target"
        )
        return cloudwatch.GraphWidget(
            title="Invocations per minute (total, per instance)",
            left=[metrics.invocations()],
            right=[metrics.invocations_per_instance()],
            right_annotations=[target],
            width=WIDTH,
            height=HEIGHT,
        )

    def _latency(self, metrics: EndpointMetrics) -> cloudwatch.GraphWidget:
        """ModelLatency percentiles and OverheadLatency p99, converted to milliseconds."""
        series = [
            (f"model_{p}", metrics.model_latency(p), f"model {p} (ms)")
            for p in ("p50", "p90", "p99")
        ] + [("overhead_p99", metrics.overhead_latency("p99"), "overhead p99 (ms)")]
        in_ms = [
            cloudwatch.MathExpression(
                expression=f"{name} / {MICROSECONDS_PER_MS}",
                using_metrics={name: metric},
                label=label,
                period=metrics.period,
            )
            for name, metric, label in series
        ]
        return self._graph("Latency (ms)", in_ms)

    def _errors(self, metrics: EndpointMetrics) -> cloudwatch.GraphWidget:
        return self._graph(
            "Errors per minute (4XX rate % on the right)",
            [metrics.errors("4XX"), metrics.errors("5XX")],
            [metrics.error_4xx_rate()],
        )

    def _instances(self, metrics: EndpointMetrics, capacity: Capacity) -> cloudwatch.GraphWidget:
        bounds = [
            cloudwatch.HorizontalAnnotation(value=capacity.min_instances, label="min"),
            cloudwatch.HorizontalAnnotation(value=capacity.max_instances, label="max"),
        ]
        return self._graph("Instances in service", [metrics.instance_count()], annotations=bounds)

    def _utilization(self, metrics: EndpointMetrics) -> cloudwatch.GraphWidget:
        return self._graph(
            "Utilization % (CPU summed over vCPUs)",
            [metrics.utilization(resource) for resource in ("CPU", "Memory", "Disk")],
        )

    def _pipelines(self, pipeline_names: Sequence[str]) -> cloudwatch.GraphWidget:
        series = [
            cloudwatch.Metric(
                namespace=PIPELINE_NAMESPACE,
                metric_name=outcome,
                dimensions_map={"PipelineName": name},
                statistic="Sum",
                period=Duration.hours(1),
                label=f"{name} {outcome.removeprefix('Execution').lower()}",
            )
            for name in pipeline_names
            for outcome in PIPELINE_OUTCOMES
        ]
        return self._graph("Pipeline executions per hour", series)
