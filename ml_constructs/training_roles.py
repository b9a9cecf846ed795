"""Least-privilege roles of the training pipeline: the pipeline itself and its jobs' roles.

Job roles get the buckets, prefixes, asset objects and key they use and nothing else. The
pipeline role may create only jobs that run in the platform VPC with network isolation,
traffic encryption and the platform key: IAM enforces at the API what the definition says.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.acknowledgments import (
    JOB_NETWORK_INTERFACES,
    LOG_STREAMS_OF_ONE_GROUP,
    OBJECTS_UNDER_ONE_PREFIX,
    PIPELINE_JOB_NAMES,
    SAGEMAKER_JOB_METRICS,
    acknowledge,
)
from ml_constructs.platform_role import PlatformRole

SAGEMAKER = iam.ServicePrincipal("sagemaker.amazonaws.com")
JobKind = Literal["ProcessingJobs", "TrainingJobs"]
KEY_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
VPC_DESCRIBE = [
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]
ENI_LIFECYCLE = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]


@dataclass(frozen=True)
class JobNetwork:
    vpc: ec2.IVpc
    subnets: Sequence[ec2.ISubnet]
    security_group: ec2.ISecurityGroup

    @property
    def subnet_ids(self) -> list[str]:
        return [subnet.subnet_id for subnet in self.subnets]


@dataclass(frozen=True)
class ObjectAccess:
    """Read and/or write access to the objects under one prefix of one named bucket."""

    bucket_name: str
    prefix: str
    write: bool = False


def explicit_bucket_name(bucket: s3.IBucket) -> str:
    """The literal name a platform bucket was created with (no cross-stack reference).

    Policies and the pipeline definition then name the bucket as written, so cdk-nag findings
    and the local executor see plain text; the stack still depends on the data stack.
    """
    name = getattr(bucket.node.default_child, "bucket_name", None)
    if not isinstance(name, str) or Token.is_unresolved(name):
        raise ValueError(f"bucket {bucket.node.path} has no explicit bucket_name")
    return name


def _ec2_arn(stack: Stack, resource: str) -> str:
    return stack.format_arn(service="ec2", resource=resource)


def job_role(
    scope: Construct,
    construct_id: str,
    *,
    role_name: str,
    description: str,
    kind: JobKind,
    key: kms.IKey,
    network: JobNetwork,
    objects: Sequence[ObjectAccess],
    asset_objects: Sequence[str],
    assets_key_arn: str | None,
) -> PlatformRole:
    """The execution role of one kind of SageMaker job (processing or training)."""
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
    role.allow(["s3:GetObject"], list(asset_objects), sid="CodeAssets")
    if assets_key_arn:
        role.allow(
            ["kms:Decrypt"],
            [assets_key_arn],
            {"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            sid="CodeAssetsKey",
        )
    return role


def nag_id(stack: Stack, value: str) -> str:
    """How cdk-nag spells a resource string in a finding id (tokens become <...>)."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(nag_part(part) for part in parts)


def nag_part(part: object) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    if "Fn::GetAtt" in part:
        return f"<{'.'.join(part['Fn::GetAtt'])}>"
    return json.dumps(part, separators=(",", ":"))


def allow_key_grants(
    role: PlatformRole, key_arn: str, sid: str | None = "PlatformKeyGrantsForSageMaker"
) -> None:
    """kms:CreateGrant on the key, only for grants SageMaker makes for its own resources."""
    role.allow(
        ["kms:CreateGrant"], [key_arn], {"Bool": {"kms:GrantIsForAWSResource": "true"}}, sid=sid
    )


def allow_vpc(role: PlatformRole, stack: Stack, network: JobNetwork) -> None:
    """ENIs in the platform VPC only; Describe calls have no resource-level permissions."""
    role.allow(VPC_DESCRIBE, ["*"], sid="DescribeNetwork")
    vpc_arn = _ec2_arn(stack, f"vpc/{network.vpc.vpc_id}")
    interfaces = _ec2_arn(stack, "network-interface/*")
    role.allow(
        ENI_LIFECYCLE,
        [interfaces],
        {"ArnEquals": {"ec2:Vpc": vpc_arn}},
        sid="JobNetworkInterfaces",
    )
    role.allow(
        ["ec2:CreateNetworkInterface"],
        [
            *(_ec2_arn(stack, f"subnet/{subnet_id}") for subnet_id in network.subnet_ids),
            _ec2_arn(stack, f"security-group/{network.security_group.security_group_id}"),
        ],
        sid="JobSubnetsAndSecurityGroup",
    )
    acknowledge(role.policy, JOB_NETWORK_INTERFACES, "Resource::*")
    acknowledge(role.policy, JOB_NETWORK_INTERFACES, f"Resource::{nag_id(stack, interfaces)}")


def _bucket_arn(stack: Stack, name: str) -> str:
    return f"arn:{stack.partition}:s3:::{name}"


def allow_objects(role: PlatformRole, stack: Stack, objects: Sequence[ObjectAccess]) -> None:
    for access in objects:
        pattern = _bucket_arn(stack, access.bucket_name) + f"/{access.prefix}*"
        actions = ["s3:GetObject", *(["s3:PutObject", "s3:AbortMultipartUpload"] * access.write)]
        role.allow(actions, [pattern])
        acknowledge(role.policy, OBJECTS_UNDER_ONE_PREFIX, f"Resource::{nag_id(stack, pattern)}")
    buckets: dict[str, list[str]] = {}
    for access in objects:
        buckets.setdefault(_bucket_arn(stack, access.bucket_name), []).append(f"{access.prefix}*")
    for bucket_arn, prefixes in buckets.items():
        role.allow(
            ["s3:ListBucket"], [bucket_arn], {"StringLike": {"s3:prefix": sorted(set(prefixes))}}
        )


@dataclass(frozen=True)
class PipelineJobPolicy:
    """What jobs the pipeline role may start: in these subnets and group, with this key."""

    key: kms.IKey
    network: JobNetwork
    job_roles: Sequence[iam.IRole]
    model_package_group: str
    property_files: ObjectAccess


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
    allow_objects(role, stack, [policy.property_files])
    return role
