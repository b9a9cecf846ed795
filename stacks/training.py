"""A model's training stack: its pipelines and registry group, what starts them, who hears of it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from ground.config import ModelDeployment
from ground.naming import monitor_rule_name, new_data_rule_name
from ml_constructs.pipeline.training_definition import INPUT_DATA_PARAMETER
from ml_constructs.platform_role import PlatformRole
from ml_constructs.retrain_guard import RetrainGuard
from ml_constructs.role_target import RoleTarget
from ml_constructs.training_pipeline import TrainingPipeline
from stacks.data import DataStack
from stacks.network import NetworkStack

EVENTS = iam.ServicePrincipal("events.amazonaws.com")
PIPELINE_STATES = ["Failed", "Stopped", "Succeeded"]


class TrainingStack(Stack):
    """`.pipeline_names` (training first), `.model_package_group_name`, and
    `.pipeline_definition` (the training pipeline's dict)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: ModelDeployment,
        network: NetworkStack,
        data: DataStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.deployment = deployment
        self.pipeline = TrainingPipeline(
            self,
            "TrainingPipeline",
            deployment=deployment,
            key=data.data_key,
            network=network.job_network,
            raw_bucket=data.raw_bucket,
            artifacts_bucket=data.artifacts_bucket,
        )
        self.add_stack_dependency(data, "the pipeline names the data stack's buckets")
        self.pipeline_name = self.pipeline.pipeline_name
        self.pipeline_names = list(self.pipeline.pipelines)
        self.model_package_group_name = self.pipeline.model_package_group_name
        self.pipeline_definition = self.pipeline.pipeline_definition
        self._add_triggers(data)
        self._add_alerts(data)

    def _add_triggers(self, data: DataStack) -> None:
        """What starts the training pipeline (the tuning one when `training.tuning.enabled`).

        A schedule starts it directly. New raw data and monitoring violations are signals
        that retrain it through the guard (at most `guard.max_runs` per `guard.window_hours`),
        on the raw data it was defined with.
        """
        triggers = self.deployment.training.triggers
        started = self.pipeline.triggered
        prefix = self.deployment.prefix
        if triggers.schedule:
            role = PlatformRole(
                self,
                "TriggerRole",
                role_name=f"{prefix}-training-trigger",
                assumed_by=EVENTS,
                description="EventBridge: starts the training pipeline on its schedule",
            )
            role.allow(["sagemaker:StartPipelineExecution"], [started.pipeline_arn])
            events.Rule(
                self,
                "ScheduleTrigger",
                description=f"Starts {started.pipeline_name} on its schedule",
                schedule=events.Schedule.expression(triggers.schedule),
                targets=[RoleTarget(started.pipeline_arn, role.immutable)],
            )
        signals = []
        if triggers.on_new_data:
            signals.append(self._new_data_rule())
        if triggers.on_drift:
            # Rules of the monitoring stack, by name: the guard counts their matches.
            signals += [
                monitor_rule_name(prefix, kind, "violations")
                for kind in self.deployment.monitor_kinds()
            ]
        if signals:
            self.retrain_guard = RetrainGuard(
                self,
                "RetrainGuard",
                prefix=prefix,
                signal_rules=signals,
                config=triggers.guard,
                pipeline_arn=started.pipeline_arn,
                parameters={INPUT_DATA_PARAMETER: self.pipeline.raw_data_uri},
                topic=data.alerts_topic,
            )

    def _new_data_rule(self) -> str:
        """A signal rule on objects created under the model's raw prefix (the data stack turns
        EventBridge notifications on for the raw bucket); no target: the guard counts it."""
        name = new_data_rule_name(self.deployment.prefix)
        events.Rule(
            self,
            "NewRawData",
            rule_name=name,
            description=f"New raw data of {self.deployment.name}: a retraining signal",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.pipeline.raw_bucket_name]},
                    "object": {"key": [{"prefix": self.pipeline.raw_prefix}]},
                },
            ),
        )
        return name

    def _add_alerts(self, data: DataStack) -> None:
        """Pipeline executions ending, and failed jobs of this pipeline, go to the alerts topic."""
        role = PlatformRole(
            self,
            "AlertsRole",
            role_name=f"{self.deployment.prefix}-training-alerts",
            assumed_by=EVENTS,
            description="EventBridge: publishes training pipeline events to the alerts topic",
        )
        role.allow(["sns:Publish"], [data.alerts_topic.topic_arn])
        role.allow(["kms:GenerateDataKey", "kms:Decrypt"], [data.alerts_key.key_arn])
        target = RoleTarget(data.alerts_topic.topic_arn, role.immutable)
        pipeline = self.pipeline
        rules = {
            "PipelineExecutionAlert": events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                detail={
                    "pipelineArn": [p.pipeline_arn for p in pipeline.pipelines.values()],
                    "currentPipelineExecutionStatus": PIPELINE_STATES,
                },
            ),
            "TrainingJobFailedAlert": events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Training Job State Change"],
                detail={
                    "TrainingJobStatus": ["Failed"],
                    "RoleArn": [pipeline.training_role.role_arn],
                },
            ),
            "ProcessingJobFailedAlert": events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={
                    "ProcessingJobStatus": ["Failed"],
                    "RoleArn": [pipeline.processing_role.role_arn],
                },
            ),
        }
        for name, pattern in rules.items():
            events.Rule(
                self,
                name,
                description=f"{self.deployment.prefix} pipelines: {name} to the alerts topic",
                event_pattern=pattern,
                targets=[target],
            )
