"""A model's monitoring stack: Model Monitor on its endpoint's captured requests, its dashboard.

It deploys after the serving stack: a monitoring schedule needs its endpoint to exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ground.config import ModelDeployment
from ground.naming import DATA_QUALITY, MODEL_QUALITY
from ml_constructs.dashboard import Capacity, ServingDashboard
from ml_constructs.endpoint_metrics import EndpointMetrics
from ml_constructs.model_monitor import (
    Baseline,
    DataQualityMonitor,
    ModelMonitor,
    ModelQualityMonitor,
    MonitorTarget,
)
from stacks.data import DataStack
from stacks.network import NetworkStack
from stacks.serving import ServingStack


class MonitoringStack(Stack):
    """`<prefix>-data-quality` and `<prefix>-model-quality` schedules (as config enables them)
    with their alarms, and the `<prefix>` dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: ModelDeployment,
        data: DataStack,
        network: NetworkStack,
        serving: ServingStack,
        pipeline_names: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.add_stack_dependency(serving)
        self.monitors = self._monitors(deployment, data, network, serving)
        outcomes: Mapping[str, cloudwatch.IMetric] = {
            name: metric for monitor in self.monitors for name, metric in monitor.outcomes.items()
        }
        scaling = deployment.serving.autoscaling
        capacity = None
        if not deployment.serving.is_serverless:
            capacity = Capacity(
                scaling.min_capacity, scaling.max_capacity, scaling.target_invocations_per_instance
            )
        ServingDashboard(
            self,
            "Dashboard",
            dashboard_name=deployment.prefix,
            metrics=EndpointMetrics(
                serving.endpoint_name, serving.variant_name, Duration.minutes(1)
            ),
            capacity=capacity,
            pipeline_names=pipeline_names,
            monitor_outcomes=outcomes,
            alarm_names=[*serving.alarms.names, *outcomes],
        )

    def _monitors(
        self,
        deployment: ModelDeployment,
        data: DataStack,
        network: NetworkStack,
        serving: ServingStack,
    ) -> list[ModelMonitor]:
        """The schedules of `deployment.monitor_kinds()`."""
        target = MonitorTarget(
            prefix=deployment.prefix,
            model=deployment.name,
            endpoint_name=serving.endpoint_name,
            artifacts_bucket=data.artifacts_bucket,
            key=data.data_key,
            network=network.job_network,
            topic=data.alerts_topic,
        )
        monitors: list[ModelMonitor] = []
        monitoring = deployment.monitoring
        kinds = deployment.monitor_kinds()
        if DATA_QUALITY in kinds:
            monitors.append(
                DataQualityMonitor(
                    self,
                    "DataQuality",
                    target=target,
                    config=monitoring.model_monitor,
                    baseline=Baseline.parse(deployment.monitor_baseline_uri()),
                )
            )
        constraints = deployment.model_quality_constraints_uri()
        if MODEL_QUALITY in kinds and constraints:
            monitors.append(
                ModelQualityMonitor(
                    self,
                    "ModelQuality",
                    target=target,
                    config=monitoring.model_quality,
                    problem=deployment.problem,
                    constraints_uri=constraints,
                )
            )
        return monitors
