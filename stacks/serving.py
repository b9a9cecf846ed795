"""A model's serving stack: its pinned package behind an endpoint, with alarms, autoscaling, batch.

The endpoint's alarms live here rather than in the monitoring stack: a guarded deployment rolls
back on them, so they must exist before the endpoint that names them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ground.config import ModelDeployment
from ground.layout import batch_prefix, data_capture_prefix
from ground.naming import endpoint_name_parameter
from ml_constructs.batch_transform import BatchTransformPipeline
from ml_constructs.endpoint_alarms import EndpointAlarms
from ml_constructs.endpoint_autoscaling import EndpointAutoscaling
from ml_constructs.endpoint_metrics import EndpointMetrics
from ml_constructs.iam_grants import explicit_bucket_name
from ml_constructs.model_endpoint import DataCapture, Guardrails, ModelEndpoint
from ml_constructs.pinned_model import ModelExecutionRole, PinnedModel
from stacks.data import DataStack
from stacks.network import RETENTION, NetworkStack


class ServingStack(Stack):
    """Model, endpoint config, endpoint, alarms, autoscaling and the batch transform pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: ModelDeployment,
        data: DataStack,
        network: NetworkStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        serving = deployment.serving
        environment = deployment.environment
        pin = serving.model
        variant = serving.serverless or serving.instance
        if pin is None or variant is None:
            raise ValueError(f"{deployment.prefix}: a serving stack needs a pin and a variant")
        self.endpoint_name = deployment.endpoint_name
        self.variant_name = serving.variant_name

        log_group = logs.LogGroup(
            self,
            "EndpointLogs",
            log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            encryption_key=data.logs_key,
            retention=RETENTION[serving.log_retention_days],
            removal_policy=RemovalPolicy.RETAIN
            if environment.retains_data
            else RemovalPolicy.DESTROY,
        )
        job_network = network.job_network
        role = ModelExecutionRole(
            self,
            "ModelRole",
            deployment=deployment,
            artifacts_bucket=data.artifacts_bucket,
            data_key=data.data_key,
            endpoint_log_group=log_group.log_group_name,
            network=job_network,
        ).role
        package_arn = pin.package_arn(self.partition, self.region, self.account)
        self.model = PinnedModel(
            self,
            "Model",
            package_arn=package_arn,
            role=role,
            network=None if serving.is_serverless else job_network,
        )
        # Batch transform always runs in the VPC; a serverless endpoint's model cannot.
        batch_model = self.model
        if not self.model.isolated:
            batch_model = PinnedModel(
                self, "BatchModel", package_arn=package_arn, role=role, network=job_network
            )
        batch = BatchTransformPipeline(
            self,
            "BatchTransform",
            prefix=deployment.prefix,
            batch_prefix=batch_prefix(deployment.name),
            model=batch_model,
            artifacts_bucket=data.artifacts_bucket,
            key=data.data_key,
            config=serving.batch_transform,
        )
        self.batch_pipeline_name = batch.pipeline_name

        thresholds = deployment.monitoring.alarms
        self.alarms = EndpointAlarms(
            self,
            "Alarms",
            prefix=deployment.prefix,
            metrics=EndpointMetrics(
                self.endpoint_name, self.variant_name, Duration.seconds(thresholds.period_seconds)
            ),
            thresholds=thresholds,
            topic=data.alerts_topic,
            has_instances=not serving.is_serverless,
        )
        guardrails = None
        if serving.guardrails.enabled:
            names = [alarm.alarm_name for alarm in self.alarms.rollback]
            guardrails = Guardrails(serving.guardrails, names)
        capture = None
        artifacts = explicit_bucket_name(data.artifacts_bucket)
        if not serving.is_serverless:
            capture = DataCapture(
                percent=serving.data_capture_percent,
                destination=f"s3://{artifacts}/{data_capture_prefix(deployment.name).rstrip('/')}",
                key=data.data_key,
            )
        self.endpoint = ModelEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            model_name=self.model.model_name,
            variant=variant,
            key=data.data_key,
            data_capture=capture,
            guardrails=guardrails,
        )
        self.endpoint.endpoint.node.add_dependency(log_group)
        # The endpoint's name carries its instance type (ground.naming.endpoint_name): clients
        # read the current name here instead of hard-coding it.
        ssm.StringParameter(
            self,
            "EndpointNameParameter",
            parameter_name=endpoint_name_parameter(deployment.prefix),
            string_value=self.endpoint_name,
            description=f"The SageMaker endpoint that serves {deployment.name} in "
            f"{environment.name}",
        )
        if not serving.is_serverless:
            EndpointAutoscaling(
                self,
                "Autoscaling",
                endpoint=self.endpoint.endpoint,
                endpoint_name=self.endpoint_name,
                variant_name=self.variant_name,
                config=serving.autoscaling,
            )
