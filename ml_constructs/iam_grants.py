"""The statements every platform role is built from: S3 prefixes, the platform key, the job
network, log groups, and objects other accounts encrypted.

Each helper adds explicit statements to a `PlatformRole`'s managed policy and acknowledges the
findings that scoping cannot remove (a wildcard under one prefix, ENI ids unknown until run
time), so every stack grants the same way. Models and baselines promoted from another
environment live in that environment's artifacts bucket, encrypted with its data key; both are
named by convention, so the grants need no lookup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_s3 as s3

from ml_constructs.acknowledgments import (
    JOB_NETWORK_INTERFACES,
    LOG_STREAMS_OF_ONE_GROUP,
    MODEL_KEY_OF_ANOTHER_ACCOUNT,
    OBJECTS_UNDER_ONE_PREFIX,
    acknowledge,
)
from ml_constructs.job_network import JobNetwork
from ml_constructs.platform_role import PlatformRole

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


def nag_id(stack: Stack, value: str) -> str:
    """How cdk-nag spells a resource string in a finding id (tokens become <...>)."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(nag_part(part) for part in parts)


def nag_part(part: str | dict) -> str:
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


def allow_log_group(role: PlatformRole, log_group_name: str, create: bool) -> None:
    """Write the streams of one log group; `create` lets SageMaker create the group first."""
    stack = Stack.of(role)
    group = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    role.allow([*actions, *(["logs:CreateLogGroup"] * create)], [group, f"{group}:log-stream:*"])
    acknowledge(
        role.policy, LOG_STREAMS_OF_ONE_GROUP, f"Resource::{nag_id(stack, group)}:log-stream:*"
    )


def allow_decrypt_via_s3(role: PlatformRole, account: str) -> None:
    """Decrypt objects another account's artifacts bucket encrypts with its (unknown) key."""
    stack = Stack.of(role)
    if account == stack.account:
        return
    keys = f"arn:{stack.partition}:kms:{stack.region}:{account}:key/*"
    role.allow(
        ["kms:Decrypt"],
        [keys],
        {"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        sid=f"DecryptObjectsOfAccount{account}",
    )
    acknowledge(role.policy, MODEL_KEY_OF_ANOTHER_ACCOUNT, f"Resource::{keys}")
