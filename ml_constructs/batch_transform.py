"""Batch inference: a SageMaker Pipeline of one Transform step on the pinned model.

Input is CSV in the serving format (features only, one row per line, no header) under the
model's `batch/<model>/input/`; each execution writes the model's CSV answers (one line per
row) under `batch/<model>/predictions/<execution id>/`. The model runs in the VPC with network
isolation (that is the model's setting); the transform encrypts its volumes and output with
the platform key.
The pipeline starts on demand (StartPipelineExecution) or on the configured schedule.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground.config.serving import BatchTransformConfig
from ground.pipeline.definition import PipelineDefinition
from ground.pipeline.expressions import EXECUTION_ID, Parameter, Value, join
from ground.pipeline.steps import TransformStep
from ml_constructs.acknowledgments import TRANSFORM_JOB_NAMES, acknowledge
from ml_constructs.iam_grants import allow_key_grants, explicit_bucket_name, nag_id
from ml_constructs.pinned_model import BATCH_INPUT, BATCH_OUTPUT, PinnedModel
from ml_constructs.platform_role import PlatformRole
from ml_constructs.role_target import RoleTarget
from ml_constructs.sagemaker_pipeline import SageMakerPipeline

STEP_NAME = "BatchTransform"


def batch_transform_definition(
    *,
    model_name: Value,
    bucket_name: str,
    batch_prefix: str,
    key_arn: str,
    config: BatchTransformConfig,
) -> dict:
    """The pipeline definition; each execution may override input, output and compute."""
    folder = f"s3://{bucket_name}/{batch_prefix}"
    input_uri = Parameter("InputDataUrl", "String", folder + BATCH_INPUT)
    output_uri = Parameter("OutputDataUrl", "String", folder + BATCH_OUTPUT)
    instance_type = Parameter("InstanceType", "String", config.instance_type)
    instance_count = Parameter("InstanceCount", "Integer", config.instance_count)
    step = TransformStep(
        name=STEP_NAME,
        model_name=model_name,
        input_uri=input_uri.ref,
        output_uri=join(output_uri.ref, EXECUTION_ID),
        instance_type=instance_type.ref,
        instance_count=instance_count.ref,
        kms_key_id=key_arn,
        max_payload_mb=config.max_payload_mb,
    )
    parameters = (input_uri, output_uri, instance_type, instance_count)
    return PipelineDefinition(parameters, (step,)).to_dict()


class BatchTransformPipeline(Construct):
    """`<prefix>-batch-transform`, its role, and its schedule when the config sets one."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        batch_prefix: str,
        model: PinnedModel,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        config: BatchTransformConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        if not model.isolated:
            raise ValueError("batch transform needs a model in the VPC with network isolation")
        stack = Stack.of(self)
        self.pipeline_name = f"{prefix}-batch-transform"
        self.pipeline_arn = stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name
        )
        self.definition = batch_transform_definition(
            model_name=model.model_name,
            bucket_name=explicit_bucket_name(artifacts_bucket),
            batch_prefix=batch_prefix,
            key_arn=key.key_arn,
            config=config,
        )
        role = self._pipeline_role(prefix, key)
        pipeline = SageMakerPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            description="Batch inference with the pinned model, CSV in and out",
            definition=self.definition,
            role=role.role,
            role_policy=role.policy,
        )
        if config.schedule:
            self._schedule(prefix, config.schedule, pipeline.resource)

    def _pipeline_role(self, prefix: str, key: kms.IKey) -> PlatformRole:
        stack = Stack.of(self)
        role = PlatformRole(
            self,
            "Role",
            role_name=f"{prefix}-batch-transform",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker Pipelines: runs the batch transform of the pinned model",
        )
        jobs = stack.format_arn(service="sagemaker", resource="transform-job", resource_name="*")
        role.allow(
            [
                "sagemaker:CreateTransformJob",
                "sagemaker:DescribeTransformJob",
                "sagemaker:StopTransformJob",
                "sagemaker:AddTags",
            ],
            [jobs],
            sid="RunTransformJobs",
        )
        acknowledge(role.policy, TRANSFORM_JOB_NAMES, f"Resource::{nag_id(stack, jobs)}")
        role.allow(["kms:DescribeKey"], [key.key_arn], sid="CheckPlatformKey")
        allow_key_grants(role, key.key_arn)
        return role

    def _schedule(self, prefix: str, expression: str, pipeline: sagemaker.CfnPipeline) -> None:
        role = PlatformRole(
            self,
            "ScheduleRole",
            role_name=f"{prefix}-batch-schedule",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge: starts the batch transform pipeline on its schedule",
        )
        role.allow(["sagemaker:StartPipelineExecution"], [self.pipeline_arn])
        rule = events.Rule(
            self,
            "Schedule",
            description=f"Starts {self.pipeline_name} with its default parameters",
            schedule=events.Schedule.expression(expression),
            targets=[RoleTarget(self.pipeline_arn, role.immutable)],
        )
        rule.node.add_dependency(pipeline)
