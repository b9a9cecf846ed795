"""CloudFormation's SageMaker resources checked as the requests CloudFormation will send.

CloudFormation creates a SageMaker resource by calling one operation whose members carry the
resource's property names (`AWS::SageMaker::EndpointConfig` → CreateEndpointConfig with
ProductionVariants, DataCaptureConfig, ...). Properties that exist only in CloudFormation are
named per type; a pipeline's definition body is checked as a definition too. Intrinsic
functions are unknown until deploy: they stand in as run-time values (an `Fn::Join` of
literals is joined).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ground.contract.findings import Finding
from ground.contract.limits import (
    HostedModel,
    model_quality_schedule_findings,
    request_limit_findings,
    serverless_findings,
)
from ground.contract.pipeline import ExecutionContext, definition_findings
from ground.contract.service_model import request_findings
from ground.contract.unknown import Unknown

SERVICE = "sagemaker"
TOKEN = "CloudFormation intrinsic"
# Stands for an intrinsic inside a pipeline body's Fn::Join until the JSON is parsed.
_MARKER = "@@cloudformation-token@@"


@dataclass(frozen=True)
class ResourceContract:
    """The operation CloudFormation calls, its name member, and CloudFormation-only properties."""

    operation: str
    name_member: str | None = None
    cloudformation_only: frozenset[str] = field(default_factory=frozenset)


RESOURCE_CONTRACTS: dict[str, ResourceContract] = {
    "AWS::SageMaker::Model": ResourceContract("CreateModel", "ModelName"),
    "AWS::SageMaker::EndpointConfig": ResourceContract(
        "CreateEndpointConfig", "EndpointConfigName"
    ),
    "AWS::SageMaker::Endpoint": ResourceContract(
        "CreateEndpoint",
        "EndpointName",
        frozenset(
            {
                "RetainAllVariantProperties",
                "ExcludeRetainedVariantProperties",
                "RetainDeploymentConfig",
            }
        ),
    ),
    "AWS::SageMaker::DataQualityJobDefinition": ResourceContract(
        "CreateDataQualityJobDefinition", "JobDefinitionName", frozenset({"EndpointName"})
    ),
    "AWS::SageMaker::ModelQualityJobDefinition": ResourceContract(
        "CreateModelQualityJobDefinition", "JobDefinitionName", frozenset({"EndpointName"})
    ),
    "AWS::SageMaker::MonitoringSchedule": ResourceContract(
        "CreateMonitoringSchedule",
        "MonitoringScheduleName",
        frozenset(
            {
                "EndpointName",
                "FailureReason",
                "LastMonitoringExecutionSummary",
                "MonitoringScheduleStatus",
            }
        ),
    ),
    "AWS::SageMaker::ModelPackageGroup": ResourceContract(
        "CreateModelPackageGroup", "ModelPackageGroupName", frozenset({"ModelPackageGroupPolicy"})
    ),
    "AWS::SageMaker::Pipeline": ResourceContract("CreatePipeline", "PipelineName"),
    "AWS::SageMaker::Domain": ResourceContract("CreateDomain", "DomainName"),
    "AWS::SageMaker::UserProfile": ResourceContract("CreateUserProfile", "UserProfileName"),
}
# An endpoint's CloudFormation-only properties are UpdateEndpoint members: checked there.
UPDATE_ENDPOINT_MEMBERS = (
    "RetainAllVariantProperties",
    "ExcludeRetainedVariantProperties",
    "RetainDeploymentConfig",
)


def template_value(value: Any) -> Any:
    """A template value with intrinsics as `Unknown`s (an Fn::Join of literals is joined)."""
    if isinstance(value, list):
        return [template_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            parts = [template_value(part) for part in argument[1]]
            if all(isinstance(part, str) for part in parts):
                return str(argument[0]).join(parts)
            return Unknown("string", TOKEN)
        if key == "Ref" or key.startswith("Fn::"):
            return Unknown("any", f"{TOKEN} {key}")
    return {key: template_value(item) for key, item in value.items()}


def _body_text(body: Any) -> str | None:
    """The definition body as text, intrinsics replaced by a marker; None when unreadable."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and set(body) == {"Fn::Join"}:
        separator, parts = body["Fn::Join"]
        return str(separator).join(part if isinstance(part, str) else _MARKER for part in parts)
    return None


def _unmarked(value: Any) -> Any:
    if isinstance(value, str) and _MARKER in value:
        return Unknown("string", TOKEN)
    if isinstance(value, list):
        return [_unmarked(item) for item in value]
    if isinstance(value, dict):
        return {key: _unmarked(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class StackResources:
    """The resources of one stack, as `assembly_findings` reads them."""

    stack_name: str
    region: str
    account: str
    resources: Mapping[str, Mapping[str, Any]]


def _resource_findings(
    stack: StackResources, logical_id: str, resource: Mapping[str, Any]
) -> Iterator[Finding]:
    contract = RESOURCE_CONTRACTS.get(resource.get("Type", ""))
    if contract is None:
        return
    where = f"{stack.stack_name}/{logical_id} ({resource['Type']})"
    properties = template_value(resource.get("Properties", {}))
    request = {k: v for k, v in properties.items() if k not in contract.cloudformation_only}
    body = None
    if resource["Type"] == "AWS::SageMaker::Pipeline":
        definition = resource.get("Properties", {}).get("PipelineDefinition", {})
        body = _body_text(definition.get("PipelineDefinitionBody"))
        request["PipelineDefinition"] = body if body is not None else Unknown("string", TOKEN)
        request["ClientRequestToken"] = Unknown("string", "CloudFormation")
    filled = frozenset({contract.name_member} if contract.name_member else ())
    yield from request_findings(SERVICE, contract.operation, request, where, filled)
    yield from request_limit_findings(contract.operation, request, where)
    if resource["Type"] == "AWS::SageMaker::Endpoint":
        update = {k: properties[k] for k in UPDATE_ENDPOINT_MEMBERS if k in properties}
        if update:
            update["EndpointName"] = properties.get("EndpointName", Unknown("string", TOKEN))
            update["EndpointConfigName"] = properties.get(
                "EndpointConfigName", Unknown("string", TOKEN)
            )
            yield from request_findings(SERVICE, "UpdateEndpoint", update, where)
    if body is not None:
        name = properties.get("PipelineName")
        context = ExecutionContext(
            name if isinstance(name, str) else logical_id, stack.region, stack.account
        )
        yield from definition_findings(_unmarked(json.loads(body)), context)


def _models(stacks: list[StackResources]) -> dict[str, dict[str, HostedModel]]:
    """Per stack name, the models an endpoint config of that stack may refer to: by logical
    id (its own stack's: logical ids repeat across the stacks of each model) or by name."""
    named: dict[str, HostedModel] = {}
    by_stack: dict[str, dict[str, HostedModel]] = {}
    for stack in stacks:
        own = by_stack.setdefault(stack.stack_name, {})
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") != "AWS::SageMaker::Model":
                continue
            properties = resource.get("Properties", {})
            model = HostedModel(
                name=f"{stack.stack_name}/{logical_id}",
                has_vpc=properties.get("VpcConfig") is not None,
                isolated=properties.get("EnableNetworkIsolation") is True,
            )
            own[logical_id] = model
            if isinstance(properties.get("ModelName"), str):
                named[properties["ModelName"]] = model
    return {name: {**named, **own} for name, own in by_stack.items()}


def _model_key(reference: Any) -> str:
    """`{"Fn::GetAtt": ["Model", "ModelName"]}` -> `Model`; a literal name stays itself."""
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        return str(reference["Fn::GetAtt"][0])
    return str(reference)


def _referenced_logical_id(value: Any) -> str | None:
    """The logical id a value's first Fn::GetAtt or Ref names (through Fn::Select/Split)."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Ref" in value:
            return str(value["Ref"])
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _referenced_logical_id(item)
            if found is not None:
                return found
    return None


def _monitoring_schedule_findings(stacks: list[StackResources]) -> Iterator[Finding]:
    """Each model-quality schedule against the job definition it runs."""
    for stack in stacks:
        for resource in stack.resources.values():
            if resource.get("Type") != "AWS::SageMaker::MonitoringSchedule":
                continue
            config = resource.get("Properties", {}).get("MonitoringScheduleConfig", {})
            if config.get("MonitoringType") != "ModelQuality":
                continue
            referenced = _referenced_logical_id(config.get("MonitoringJobDefinitionName"))
            definition = stack.resources.get(referenced or "", {})
            where = f"{stack.stack_name}/{referenced} (AWS::SageMaker::ModelQualityJobDefinition)"
            yield from model_quality_schedule_findings(
                where,
                config.get("ScheduleConfig", {}).get("ScheduleExpression"),
                definition.get("Properties", {}),
            )


def _cross_resource_findings(stacks: list[StackResources]) -> Iterator[Finding]:
    yield from _monitoring_schedule_findings(stacks)
    models = _models(stacks)
    monitored = {
        resource.get("Properties", {}).get("EndpointName")
        for stack in stacks
        for resource in stack.resources.values()
        if resource.get("Type") == "AWS::SageMaker::MonitoringSchedule"
    }
    for stack in stacks:
        configs = {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in stack.resources.items()
            if resource.get("Type") == "AWS::SageMaker::EndpointConfig"
        }
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") != "AWS::SageMaker::Endpoint":
                continue
            properties = resource.get("Properties", {})
            config = configs.get(_model_key(properties.get("EndpointConfigName")))
            if config is None:
                continue
            variants = [
                {**variant, "ModelName": _model_key(variant.get("ModelName"))}
                for variant in config.get("ProductionVariants", [])
            ]
            where = f"{stack.stack_name}/{logical_id} (AWS::SageMaker::Endpoint)"
            yield from serverless_findings(
                where,
                properties.get("EndpointName"),
                {"ProductionVariants": variants},
                models[stack.stack_name],
                {name for name in monitored if isinstance(name, str)},
            )


def assembly_findings(stacks: list[StackResources]) -> list[Finding]:
    """Every finding over the SageMaker resources of these stacks (one environment or more)."""
    found = [
        item
        for stack in stacks
        for logical_id, resource in stack.resources.items()
        for item in _resource_findings(stack, logical_id, resource)
    ]
    return found + list(_cross_resource_findings(stacks))
