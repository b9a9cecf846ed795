"""The SageMaker Model of the environment's pinned model package version, and its role.

The pin is the only input: the package ARN, and from the package group's name the registering
environment's artifacts bucket, are computed without any lookup. The execution role reads that
model data, writes captured requests and batch predictions, and nothing else.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground import naming
from ground.config import ModelDeployment
from ground.config.serving import ModelPin
from ground.layout import (
    MODELS_PREFIX,
    artifacts_bucket_name,
    batch_prefix,
    data_capture_prefix,
)
from ml_constructs.acknowledgments import SERVERLESS_MODEL_NOT_ISOLATED, checkov_skip
from ml_constructs.iam_grants import (
    KEY_USE,
    ObjectAccess,
    allow_decrypt_via_s3,
    allow_log_group,
    allow_objects,
    allow_vpc,
    explicit_bucket_name,
)
from ml_constructs.job_network import JobNetwork
from ml_constructs.platform_role import PlatformRole

BATCH_INPUT = "input/"
BATCH_OUTPUT = "predictions/"
TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"


class ModelExecutionRole(Construct):
    """`<prefix>-model`: what the endpoint's and batch transform's containers of one model may
    touch: that model's artifacts, capture and batch prefixes, nothing of another model."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: ModelDeployment,
        artifacts_bucket: s3.IBucket,
        data_key: kms.IKey,
        endpoint_log_group: str,
        network: JobNetwork,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        pin = deployment.serving.model
        if pin is None:
            raise ValueError(f"{deployment.prefix}: no pinned model to run")
        self.role = PlatformRole(
            self,
            "Role",
            role_name=f"{deployment.prefix}-model",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Execution role of {deployment.name}'s pinned model: endpoint, batch",
        )
        artifacts = explicit_bucket_name(artifacts_bucket)
        batch = batch_prefix(deployment.name)
        allow_objects(
            self.role,
            stack,
            [
                *self._model_data(deployment, pin),
                ObjectAccess(artifacts, data_capture_prefix(deployment.name), write=True),
                ObjectAccess(artifacts, batch + BATCH_INPUT),
                ObjectAccess(artifacts, batch + BATCH_OUTPUT, write=True),
            ],
        )
        self.role.allow(KEY_USE, [data_key.key_arn], sid="PlatformKey")
        allow_decrypt_via_s3(self.role, pin.source_account(stack.account))
        allow_log_group(self.role, endpoint_log_group, create=False)
        allow_log_group(self.role, TRANSFORM_LOG_GROUP, create=True)
        allow_vpc(self.role, stack, network)

    def _model_data(self, deployment: ModelDeployment, pin: ModelPin) -> list[ObjectAccess]:
        """The package's model data: under models/<the model's pipelines>/ of the artifacts
        bucket of the environment that registered it."""
        stack = Stack.of(self)
        source = deployment.source_environment_prefix()
        account = pin.source_account(stack.account)
        bucket = artifacts_bucket_name(str(source), account, stack.region)
        model_prefix = naming.model_prefix(str(source), deployment.name)
        return [
            ObjectAccess(bucket, f"{MODELS_PREFIX}{naming.pipeline_name(model_prefix, kind)}/")
            for kind in naming.PIPELINE_KINDS
        ]


class PinnedModel(Construct):
    """A Model of the pinned package, in the VPC with network isolation unless serverless.

    Serverless endpoints support neither VPC configuration nor network isolation, so an
    environment that serves serverless gets a model without them (`network=None`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        package_arn: str,
        role: PlatformRole,
        network: JobNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc_config = None
        if network is not None:
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[network.security_group.security_group_id],
                subnets=network.subnet_ids,
            )
        self.resource = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=package_arn
            ),
            enable_network_isolation=network is not None,
            vpc_config=vpc_config,
        )
        # SageMaker checks the role's permissions when it creates the model.
        self.resource.node.add_dependency(role.policy)
        if network is None:
            checkov_skip(self.resource, SERVERLESS_MODEL_NOT_ISOLATED)
        self.model_name = self.resource.attr_model_name
        self.isolated = network is not None
