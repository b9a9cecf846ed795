"""Grants shared by the serving roles (model, monitoring) beyond what training_roles offers.

Models and baselines promoted from another environment live in that environment's artifacts
bucket, encrypted with its data key. Both are named by convention, so the grants need no lookup.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack

from ml_constructs.acknowledgments import (
    LOG_STREAMS_OF_ONE_GROUP,
    MODEL_KEY_OF_ANOTHER_ACCOUNT,
    acknowledge,
)
from ml_constructs.platform_role import PlatformRole
from ml_constructs.training_roles import nag_id


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
