"""Least-privilege roles of the training pipeline: the pipeline itself and its jobs' roles.

Job roles get the buckets, prefixes, asset objects and key they use and nothing else. The
pipeline role may create only jobs that run in the platform VPC with network isolation,
traffic encryption and the platform key: IAM enforces at the API what the definition says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs.acknowledgments import (
    LOG_STREAMS_OF_ONE_GROUP,
    PIPELINE_JOB_NAMES,
    SAGEMAKER_JOB_METRICS,
    acknowledge,
)
from ml_constructs.iam_grants import (
    KEY_USE,
    ObjectAccess,
    allow_key_grants,
    allow_objects,
    allow_vpc,
    nag_id,
)
from ml_constructs.job_network import JobNetwork
from ml_constructs.platform_role import PlatformRole

SAGEMAKER = iam.ServicePrincipal("sagemaker.amazonaws.com")
JobKind = Literal["ProcessingJobs", "TrainingJobs"]


@dataclass(frozen=True)
class JobAccess:
    """What every job role of a pipeline reaches: the key, the network, the code assets."""

    key: kms.IKey
    network: JobNetwork
    asset_objects: Sequence[str]
    assets_key_arn: str | None


def job_role(
    scope: Construct,
    construct_id: str,
    *,
    role_name: str,
    description: str,
    kind: JobKind,
    access: JobAccess,
    objects: Sequence[ObjectAccess],
) -> PlatformRole:
    """The execution role of one kind of SageMaker job (processing or training)."""
    key, network = access.key, access.network
    stack = Stack.of(scope)
    role = PlatformRole(
        scope, construct_id, role_name=role_name, assumed_by=SAGEMAKER, description=description
    )
    log_group = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/sagemaker/{kind}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    streams = f"{log_group}:log-stream:*"
    role.allow(["logs:CreateLogGroup", "logs:DescribeLogStreams"], [log_group], sid="JobLogGroup")
    role.allow(["logs:CreateLogStream", "logs:PutLogEvents"], [streams], sid="JobLogs")
    acknowledge(role.policy, LOG_STREAMS_OF_ONE_GROUP, f"Resource::{nag_id(stack, streams)}")
    role.allow(
        ["cloudwatch:PutMetricData"],
        ["*"],
        {"StringEquals": {"cloudwatch:namespace": f"/aws/sagemaker/{kind}"}},
        sid="JobMetrics",
    )
    acknowledge(role.policy, SAGEMAKER_JOB_METRICS, "Resource::*")
    allow_vpc(role, stack, network)
    role.allow(KEY_USE, [key.key_arn], sid="PlatformKey")
    allow_key_grants(role, key.key_arn)
    allow_objects(role, stack, objects)
    role.allow(["s3:GetObject"], list(access.asset_objects), sid="CodeAssets")
    if access.assets_key_arn:
        role.allow(
            ["kms:Decrypt"],
            [access.assets_key_arn],
            {"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            sid="CodeAssetsKey",
        )
    return role


@dataclass(frozen=True)
class PipelineJobPolicy:
    """What jobs the pipeline role may start: in these subnets and group, with this key."""

    key: kms.IKey
    network: JobNetwork
    job_roles: Sequence[iam.IRole]
    model_package_group: str
    property_files: Sequence[ObjectAccess]


JOB_RESOURCES = {
    "processing-job": ["CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob"],
    "training-job": ["CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob"],
    "hyper-parameter-tuning-job": [
        "CreateHyperParameterTuningJob",
        "DescribeHyperParameterTuningJob",
        "StopHyperParameterTuningJob",
        "ListTrainingJobsForHyperParameterTuningJob",
    ],
}


def pipeline_role(
    scope: Construct, construct_id: str, *, role_name: str, policy: PipelineJobPolicy
) -> PlatformRole:
    """The role SageMaker Pipelines assumes to run the steps of the training pipeline."""
    stack = Stack.of(scope)
    role = PlatformRole(
        scope,
        construct_id,
        role_name=role_name,
        assumed_by=SAGEMAKER,
        description="SageMaker Pipelines: starts the training pipeline's jobs and registers models",
    )
    jobs = {
        kind: stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
        for kind in JOB_RESOURCES
    }
    key_arn = policy.key.key_arn
    role.allow(
        [f"sagemaker:{JOB_RESOURCES[kind][0]}" for kind in JOB_RESOURCES],
        list(jobs.values()),
        {
            "Bool": {
                "sagemaker:NetworkIsolation": "true",
                "sagemaker:InterContainerTrafficEncryption": "true",
            },
            "ArnEquals": {"sagemaker:VolumeKmsKey": key_arn, "sagemaker:OutputKmsKey": key_arn},
            "ForAllValues:StringEquals": {
                "sagemaker:VpcSubnets": policy.network.subnet_ids,
                "sagemaker:VpcSecurityGroupIds": [policy.network.security_group.security_group_id],
            },
            "Null": {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"},
        },
        sid="StartIsolatedEncryptedJobsInPlatformVpc",
    )
    role.allow(
        [
            *sorted({f"sagemaker:{a}" for actions in JOB_RESOURCES.values() for a in actions[1:]}),
            "sagemaker:AddTags",
        ],
        list(jobs.values()),
        sid="FollowAndTagJobs",
    )
    for arn in jobs.values():
        acknowledge(role.policy, PIPELINE_JOB_NAMES, f"Resource::{nag_id(stack, arn)}")
    group = stack.format_arn(
        service="sagemaker",
        resource="model-package-group",
        resource_name=policy.model_package_group,
    )
    versions = stack.format_arn(
        service="sagemaker",
        resource="model-package",
        resource_name=f"{policy.model_package_group}/*",
    )
    role.allow(
        ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
        [group, versions],
        sid="RegisterModels",
    )
    acknowledge(role.policy, PIPELINE_JOB_NAMES, f"Resource::{nag_id(stack, versions)}")
    role.allow(
        ["iam:PassRole"],
        [job.role_arn for job in policy.job_roles],
        {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        sid="PassJobRoles",
    )
    allow_key_grants(role, key_arn, sid=None)
    role.allow(["kms:DescribeKey", "kms:Decrypt"], [key_arn], sid="ReadPropertyFiles")
    allow_objects(role, stack, policy.property_files)
    return role
