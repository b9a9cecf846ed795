"""Monitoring stack: Model Monitor on the endpoint's captured requests, and the dashboard.

It deploys after the serving stack: a monitoring schedule needs its endpoint to exist.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from constructs import Construct

from ground.config import ConfigError, EnvironmentConfig
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
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        serving: ServingStack,
        pipeline_names: list[str],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.add_stack_dependency(serving)
        monitor_config = config.monitoring.model_monitor
        outcomes = {}
        if monitor_config.enabled:
            monitor = DataQualityMonitor(
                self,
                "DataQuality",
                prefix=config.prefix,
                endpoint_name=serving.endpoint_name,
                config=monitor_config,
                baseline=self._baseline(config),
                artifacts_bucket=data.artifacts_bucket,
                key=data.data_key,
                network=network.job_network,
                topic=data.alerts_topic,
            )
            outcomes = monitor.outcomes
        scaling = config.serving.autoscaling
        capacity = None
        if not config.serving.is_serverless:
            capacity = Capacity(
                scaling.min_capacity, scaling.max_capacity, scaling.target_invocations_per_instance
            )
        ServingDashboard(
            self,
            "Dashboard",
            dashboard_name=config.prefix,
            metrics=EndpointMetrics(
                serving.endpoint_name, serving.variant_name, Duration.minutes(1)
            ),
            capacity=capacity,
            pipeline_names=pipeline_names,
            monitor_outcomes=outcomes,
            alarm_names=[*serving.alarms.names, *outcomes],
        )

    @staticmethod
    def _baseline(config: EnvironmentConfig) -> Baseline:
        """The pinned package's baseline, unless model_monitor.baseline_uri names another.

        Synth may not look the package up, so the baseline comes with the pin: promotion
        copies the package's DriftCheckBaselines into `serving.model.baseline_uri`.
        """
        where = "monitoring.model_monitor"
        if config.serving.is_serverless:
            raise ConfigError(
                f"{config.name}: {where}.enabled: serverless endpoints capture no data to "
                "monitor; set it to false or serve from an instance variant"
            )
        override = config.monitoring.model_monitor.baseline_uri
        field = f"{where}.baseline_uri" if override else "serving.model.baseline_uri"
        pin = config.serving.model
        uri = override or (pin.baseline_uri if pin else None)
        if not uri:
            raise ConfigError(
                f"{config.name}: {field}: the pin names no data-quality baseline, and Model "
                "Monitor needs one; pin with `sagestack promote` (it copies the package's "
                "DriftCheckBaselines), set it to the baseline/ folder of the model's training "
                f"run, or set {where}.enabled to false"
            )
        try:
            return Baseline.parse(uri)
        except ValueError as error:
            raise ConfigError(f"{config.name}: {field}: {error}") from None
