"""Studio execution roles: what every Studio user may do in the domain, and what each persona
may do with the models it is granted.

A `data-scientist` reads its models' raw data and pipeline artifacts, starts and reads their
pipelines, reads their registry groups and invokes their endpoints; an `ml-engineer` may also
approve (or reject) their packages and read their alarms. Every role is denied creating or
changing endpoints and models: those come from the serving stacks, after review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs.acknowledgments import (
    STUDIO_EXECUTIONS_AND_VERSIONS,
    STUDIO_LISTS,
    STUDIO_SPACES_AND_APPS,
    acknowledge,
)
from ml_constructs.iam_grants import ObjectAccess, allow_key_grants, allow_objects, nag_id
from ml_constructs.platform_role import PlatformRole

SAGEMAKER = iam.ServicePrincipal("sagemaker.amazonaws.com")
# How each configured app appears in app ARNs (`app/<domain>/<owner>/<type>/<name>`).
APP_ARN_TYPES = {"jupyterlab": "jupyterlab", "code-editor": "codeeditor", "canvas": "canvas"}
# Endpoints and models come from the serving stacks only, never from a notebook.
DENIED_TO_EVERY_USER = [
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:DeleteEndpoint",
    "sagemaker:CreateModel",
]
# List calls without resource-level permissions (Service Authorization Reference, "Actions
# defined by Amazon SageMaker AI",
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html):
# they return names and states, never data.
LISTS = ["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListModelPackages"]


@dataclass(frozen=True)
class ModelGrant:
    """The names of one model that a Studio persona may reach."""

    objects: tuple[ObjectAccess, ...]
    pipelines: tuple[str, ...]
    registry_group: str
    endpoint: str
    endpoint_parameter: str  # the SSM parameter that publishes the endpoint's current name
    alarm_prefix: str


@dataclass(frozen=True)
class StudioScope:
    """The domain the role works in and its cost guardrails."""

    domain_id: str
    apps: tuple[str, ...]
    instance_types: tuple[str, ...]
    key_arn: str


def _sagemaker_arn(stack: Stack, resource: str, name: str) -> str:
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)


def studio_role(
    scope: Construct, construct_id: str, *, role_name: str, description: str
) -> PlatformRole:
    """A role SageMaker assumes for Studio users; `allow_studio` gives it the domain."""
    return PlatformRole(
        scope, construct_id, role_name=role_name, assumed_by=SAGEMAKER, description=description
    )


def allow_studio(role: PlatformRole, studio: StudioScope) -> None:
    """What every Studio user does in its own domain: spaces, allowed apps, nothing else."""
    stack = Stack.of(role)
    domain = studio.domain_id
    spaces = _sagemaker_arn(stack, "space", f"{domain}/*")
    apps = _sagemaker_arn(stack, "app", f"{domain}/*")
    role.allow(
        ["sagemaker:DescribeDomain"], [_sagemaker_arn(stack, "domain", domain)], sid="Domain"
    )
    role.allow(
        ["sagemaker:DescribeUserProfile"],
        [_sagemaker_arn(stack, "user-profile", f"{domain}/*")],
        sid="Profiles",
    )
    role.allow(
        [
            "sagemaker:CreateSpace",
            "sagemaker:UpdateSpace",
            "sagemaker:DeleteSpace",
            "sagemaker:DescribeSpace",
            "sagemaker:AddTags",
        ],
        [spaces],
        sid="Spaces",
    )
    allowed_apps = [
        _sagemaker_arn(stack, "app", f"{domain}/*/{APP_ARN_TYPES[app]}/*") for app in studio.apps
    ]
    # Instance types are limited by the sagemaker:InstanceTypes condition key of CreateApp,
    # and the app type by the app ARN `app/<domain>/<owner>/<type>/<name>` (same reference).
    role.allow(
        ["sagemaker:CreateApp"],
        allowed_apps,
        {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(studio.instance_types)}},
        sid="AllowedAppsOnAllowedInstances",
    )
    role.allow(
        ["sagemaker:DeleteApp", "sagemaker:DescribeApp", "sagemaker:AddTags"], [apps], sid="Apps"
    )
    role.allow(LISTS, ["*"], sid="Lists")
    # Space volumes are encrypted with the platform key: SageMaker makes grants on it.
    allow_key_grants(role, studio.key_arn)
    role.policy.add_statements(
        iam.PolicyStatement(
            sid="NoEndpointsOutsideTheServingStacks",
            effect=iam.Effect.DENY,
            actions=DENIED_TO_EVERY_USER,
            resources=["*"],
        )
    )
    for pattern in (
        spaces,
        apps,
        *allowed_apps,
        _sagemaker_arn(stack, "user-profile", f"{domain}/*"),
    ):
        acknowledge(role.policy, STUDIO_SPACES_AND_APPS, f"Resource::{nag_id(stack, pattern)}")
    acknowledge(role.policy, STUDIO_LISTS, "Resource::*")


def grant_models(
    role: PlatformRole, models: Sequence[ModelGrant], key_arn: str, approve: bool
) -> None:
    """The persona's statements on its models; `approve` adds package approval and alarms.
    A profile whose team has no model in the environment gets none: the domain only."""
    if not models:
        return
    stack = Stack.of(role)
    allow_objects(role, stack, [access for model in models for access in model.objects])
    role.allow(["kms:Decrypt", "kms:DescribeKey"], [key_arn], sid="ReadPlatformData")
    pipelines = [_sagemaker_arn(stack, "pipeline", n) for m in models for n in m.pipelines]
    executions = [f"{arn}/execution/*" for arn in pipelines]
    groups = [_sagemaker_arn(stack, "model-package-group", m.registry_group) for m in models]
    versions = [_sagemaker_arn(stack, "model-package", f"{m.registry_group}/*") for m in models]
    role.allow(
        [
            "sagemaker:DescribePipeline",
            "sagemaker:StartPipelineExecution",
            "sagemaker:ListPipelineExecutions",
        ],
        pipelines,
        sid="RunOwnPipelines",
    )
    role.allow(
        [
            "sagemaker:DescribePipelineExecution",
            "sagemaker:ListPipelineExecutionSteps",
            "sagemaker:ListPipelineParametersForExecution",
            "sagemaker:DescribePipelineDefinitionForExecution",
            "sagemaker:StopPipelineExecution",
        ],
        executions,
        sid="FollowOwnExecutions",
    )
    role.allow(["sagemaker:DescribeModelPackageGroup"], groups, sid="ReadOwnGroups")
    role.allow(["sagemaker:DescribeModelPackage"], versions, sid="ReadOwnPackages")
    role.allow(
        ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
        [_sagemaker_arn(stack, "endpoint", m.endpoint) for m in models],
        sid="InvokeOwnEndpoints",
    )
    role.allow(
        ["ssm:GetParameter"],
        [
            stack.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=m.endpoint_parameter.lstrip("/"),
            )
            for m in models
        ],
        sid="ReadOwnEndpointNames",
    )
    wildcards = [*executions, *versions]
    if approve:
        alarms = [
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=f"{m.alarm_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for m in models
        ]
        role.allow(["sagemaker:UpdateModelPackage"], versions, sid="ApproveOwnPackages")
        role.allow(
            ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"],
            alarms,
            sid="ReadOwnAlarms",
        )
        wildcards += alarms
    for pattern in wildcards:
        acknowledge(
            role.policy, STUDIO_EXECUTIONS_AND_VERSIONS, f"Resource::{nag_id(stack, pattern)}"
        )
