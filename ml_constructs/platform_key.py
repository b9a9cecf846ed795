"""Customer-managed KMS keys whose use is limited to the platform's own roles and services."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What the account may do to manage the key; using it to encrypt or decrypt is not among them.
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
KEY_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "kms:CreateGrant",
]

SERVICE_USE_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def platform_role_arn_pattern(stack: Stack, prefix: str) -> str:
    """ARN pattern of every IAM role the platform names `<prefix>-*` in this account."""
    return f"arn:{stack.partition}:iam::{stack.account}:role/{prefix}-*"


class PlatformKey(Construct):
    """A rotating KMS key that only `<prefix>-*` roles and the listed services may use."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        role_prefix: str,
        retain: bool,
        service_statements: Sequence[iam.PolicyStatement] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        account = iam.AccountRootPrincipal()
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="AccountAdministersKey",
                    principals=[account],
                    actions=KEY_ADMIN_ACTIONS,
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="PlatformRolesUseKey",
                    principals=[account],
                    actions=KEY_USE_ACTIONS,
                    resources=["*"],
                    conditions={
                        "ArnLike": {
                            "aws:PrincipalArn": platform_role_arn_pattern(stack, role_prefix)
                        }
                    },
                ),
                *service_statements,
            ]
        )
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            policy=policy,
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )


def service_use_statement(
    sid: str, service: str, conditions: dict | None = None
) -> iam.PolicyStatement:
    """Let an AWS service principal use the key (for example CloudWatch Logs or EventBridge)."""
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        resources=["*"],
        conditions=conditions,
    )
