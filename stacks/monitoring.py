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
from ml_constructs.dashboard import Capacity, ServingDashboard
from ml_constructs.endpoint_metrics import EndpointMetrics
from ml_constructs.model_monitor import Baseline, DataQualityMonitor
from stacks.data import DataStack
from stacks.network import NetworkStack
from stacks.serving import ServingStack


class MonitoringStack(Stack):
    """`<prefix>-data-quality` schedule with its alarms, and the `<prefix>` dashboard."""

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
        monitor_config = deployment.monitoring.model_monitor
        outcomes: Mapping[str, cloudwatch.IMetric] = {}
        if monitor_config.enabled:
            monitor = DataQualityMonitor(
                self,
                "DataQuality",
                prefix=deployment.prefix,
                model=deployment.name,
                endpoint_name=serving.endpoint_name,
                config=monitor_config,
                baseline=Baseline.parse(deployment.monitor_baseline_uri()),
                artifacts_bucket=data.artifacts_bucket,
                key=data.data_key,
                network=network.job_network,
                topic=data.alerts_topic,
            )
            outcomes = monitor.outcomes
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
