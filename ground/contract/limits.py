"""SageMaker's documented limits that no botocore shape expresses, one table, each with its page.

A shape says a list holds 1 to 100 items; it cannot say that a spot job's wait must cover its
run time, that a condition step may not sit inside another, or that a serverless endpoint
takes no data capture. Those rules live in the developer guide and the API reference prose;
here each is a `Limit` with the page it comes from and a check. Request limits run on every
request the platform builds (pipeline steps, CloudFormation resources), definition limits on
every pipeline definition, and `serverless_findings` across the resources of one environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ground.contract.findings import Finding, finding
from ground.contract.unknown import Unknown
from ground.pipeline.walk import NESTED_STEP_LISTS, iter_steps, referenced_step, references

GUIDE = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
API = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/"


@dataclass(frozen=True)
class Limit:
    """One documented rule: a stable key, the rule in one sentence, and the page."""

    key: str
    rule: str
    page: str


NESTED_CONDITION = Limit(
    "no-nested-condition",
    "Pipelines doesn't support nested condition steps: no Condition step inside the "
    "IfSteps or ElseSteps of another",
    f"{GUIDE}build-and-manage-steps-types.html#step-type-condition",
)
FAIL_STEP_IS_A_LEAF = Limit(
    "fail-step-is-a-leaf",
    "a Fail step cannot be in another step's DependsOn and other steps cannot reference it",
    f"{GUIDE}build-and-manage-steps-types.html#step-type-fail",
)
PROPERTY_FILE_OUTPUT = Limit(
    "property-file-names-an-output",
    "a property file is read from one of its step's processing outputs, named by OutputName",
    f"{GUIDE}build-and-manage-propertyfile.html",
)
STEP_AND_PARAMETER_NAMES = Limit(
    "step-and-parameter-names",
    "step and parameter names are 1 to 64 characters of A-Z, a-z, 0-9, - and _",
    "https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/",
)
SPOT_WAIT_COVERS_RUNTIME = Limit(
    "spot-wait-covers-runtime",
    "managed spot training needs MaxWaitTimeInSeconds, larger than MaxRuntimeInSeconds (the API "
    "reference says 'equal to or greater', the developer guide 'larger': the stricter holds)",
    f"{GUIDE}model-managed-spot-training.html",
)
SPOT_CHECKPOINTS = Limit(
    "spot-checkpoints",
    "managed spot training checkpoints to S3 (CheckpointConfig), so an interrupted job resumes; "
    "without it built-in algorithms are capped at a 3600 s wait",
    f"{GUIDE}model-managed-spot-training.html",
)
LOCAL_STORAGE_KMS = Limit(
    "no-volume-key-on-local-storage",
    "instance types with local NVMe storage encrypt it in hardware: a request for them with a "
    "volume KMS key (VolumeKmsKeyId, or KmsKeyId of an endpoint config) fails",
    f"{API}API_ResourceConfig.html#sagemaker-Type-ResourceConfig-VolumeKmsKeyId",
)
SERVERLESS_EXCLUSIONS = Limit(
    "serverless-exclusions",
    "serverless endpoints support neither VPC configuration, network isolation, data capture, "
    "multiple production variants nor Model Monitor (a KmsKeyId is accepted: it encrypts "
    "SageMaker's copy of the image)",
    f"{GUIDE}serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions",
)
AUTOSCALED_VARIANT_UPDATE = Limit(
    "autoscaled-variant-update",
    "UpdateEndpoint fails when it changes the instance type of, or removes, a variant registered "
    "as an Application Auto Scaling target",
    f"{GUIDE}endpoint-scaling-update.html",
)
HOURLY_MODEL_QUALITY_RUNTIME = Limit(
    "hourly-model-quality-runtime",
    "an hourly model-quality monitoring job's MaxRuntimeInSeconds may not exceed 1800: the "
    "ground-truth merge job and the monitoring job share the hour",
    f"{GUIDE}model-monitor-model-quality-schedule.html",
)
TABLE: tuple[Limit, ...] = (
    NESTED_CONDITION,
    FAIL_STEP_IS_A_LEAF,
    PROPERTY_FILE_OUTPUT,
    STEP_AND_PARAMETER_NAMES,
    SPOT_WAIT_COVERS_RUNTIME,
    SPOT_CHECKPOINTS,
    LOCAL_STORAGE_KMS,
    SERVERLESS_EXCLUSIONS,
    AUTOSCALED_VARIANT_UPDATE,
    HOURLY_MODEL_QUALITY_RUNTIME,
)
HOURLY_CRON = "cron(0 * ? * * *)"
MAX_HOURLY_MODEL_QUALITY_RUNTIME = 1800

# Families whose instances carry NVMe instance storage (EC2 "Instance store volumes"): a `d` in
# the family suffix (c5d, m5d, r5d, m6id, g4dn, p3dn, p4d, ...) or a family that has it always.
_STORAGE_SUFFIX = re.compile(r"^ml\.[a-z]+\d+[a-z]*d[a-z]*\.")
_ALWAYS_LOCAL_STORAGE = re.compile(r"^ml\.(g5|g6|g6e|p5|p5e|p5en|trn1|trn1n)\.")
NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")


def has_local_storage(instance_type: str) -> bool:
    """Whether `ml.<family>.<size>` comes with NVMe instance storage."""
    return bool(_STORAGE_SUFFIX.match(instance_type) or _ALWAYS_LOCAL_STORAGE.match(instance_type))


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _known(value: Any) -> bool:
    return value is not None and not isinstance(value, Unknown)


# ---- request limits: (request) -> (path, detail, value) ------------------------------------

Problem = tuple[str, str, object]


def _spot(job: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[Limit, Problem]]:
    if job.get("EnableManagedSpotTraining") is not True:
        return
    stopping = job.get("StoppingCondition") or {}
    wait = _get(stopping, "MaxWaitTimeInSeconds")
    runtime = _get(stopping, "MaxRuntimeInSeconds")
    where = f"{prefix}StoppingCondition.MaxWaitTimeInSeconds"
    if wait is None:
        yield SPOT_WAIT_COVERS_RUNTIME, (where, "is required with managed spot training", None)
    elif _known(wait) and _known(runtime) and wait <= runtime:
        detail = f"must be larger than MaxRuntimeInSeconds ({runtime})"
        yield SPOT_WAIT_COVERS_RUNTIME, (where, detail, wait)
    if not _get(job, "CheckpointConfig.S3Uri"):
        detail = "is required with managed spot training"
        yield SPOT_CHECKPOINTS, (f"{prefix}CheckpointConfig.S3Uri", detail, None)


def _training(request: Mapping[str, Any]) -> Iterator[tuple[Limit, Problem]]:
    yield from _spot(request)
    yield from _volume_key(request, "ResourceConfig")


def _tuning(request: Mapping[str, Any]) -> Iterator[tuple[Limit, Problem]]:
    definitions = []
    if isinstance(request.get("TrainingJobDefinition"), Mapping):
        definitions.append(("TrainingJobDefinition.", request["TrainingJobDefinition"]))
    for index, item in enumerate(request.get("TrainingJobDefinitions") or []):
        definitions.append((f"TrainingJobDefinitions[{index}].", item))
    for prefix, job in definitions:
        for limit, (path, detail, value) in _spot(job):
            yield limit, (prefix + path, detail, value)
        for limit, (path, detail, value) in _volume_key(job, "ResourceConfig"):
            yield limit, (prefix + path, detail, value)


def _volume_key(
    request: Mapping[str, Any], resources: str, key: str = "VolumeKmsKeyId"
) -> Iterator[tuple[Limit, Problem]]:
    instance_type = _get(request, f"{resources}.InstanceType")
    if _get(request, f"{resources}.{key}") is None or not isinstance(instance_type, str):
        return
    if has_local_storage(instance_type):
        detail = f"cannot be set: {instance_type} has local NVMe storage"
        yield LOCAL_STORAGE_KMS, (f"{resources}.{key}", detail, instance_type)


def _processing(request: Mapping[str, Any]) -> Iterator[tuple[Limit, Problem]]:
    yield from _volume_key(request, "ProcessingResources.ClusterConfig")


def _transform(request: Mapping[str, Any]) -> Iterator[tuple[Limit, Problem]]:
    yield from _volume_key(request, "TransformResources")


def _endpoint_config(request: Mapping[str, Any]) -> Iterator[tuple[Limit, Problem]]:
    variants = request.get("ProductionVariants") or []
    serverless = [v for v in variants if isinstance(v, Mapping) and v.get("ServerlessConfig")]
    if request.get("KmsKeyId") is not None:
        for index, variant in enumerate(variants):
            instance_type = variant.get("InstanceType") if isinstance(variant, Mapping) else None
            if isinstance(instance_type, str) and has_local_storage(instance_type):
                detail = f"cannot be set: variant {index} runs {instance_type}, with local storage"
                yield LOCAL_STORAGE_KMS, ("KmsKeyId", detail, instance_type)
    if serverless and len(variants) > 1:
        detail = "a serverless endpoint has exactly one production variant"
        yield SERVERLESS_EXCLUSIONS, ("ProductionVariants", detail, len(variants))
    if serverless and request.get("DataCaptureConfig") is not None:
        yield (
            SERVERLESS_EXCLUSIONS,
            ("DataCaptureConfig", "serverless endpoints capture no data", None),
        )


REQUEST_LIMITS: dict[str, Callable[[Mapping[str, Any]], Iterator[tuple[Limit, Problem]]]] = {
    "CreateTrainingJob": _training,
    "CreateHyperParameterTuningJob": _tuning,
    "CreateProcessingJob": _processing,
    "CreateTransformJob": _transform,
    "CreateEndpointConfig": _endpoint_config,
}


def request_limit_findings(operation: str, request: Mapping[str, Any], where: str) -> list[Finding]:
    """The documented limits `request` breaks for `operation` (none when it has no limits)."""
    check = REQUEST_LIMITS.get(operation)
    if check is None:
        return []
    found = []
    for limit, (path, detail, value) in check(request):
        rule = f"{detail} [{limit.key}: {limit.page}]"
        args = () if value is None else (value,)
        found.append(finding(where, operation, path, rule, *args))
    return found


# ---- definition limits ----------------------------------------------------------------------


def _limit_finding(where: str, limit: Limit, path: str, detail: str, *value: Any) -> Finding:
    return finding(
        where, "pipeline definition", path, f"{detail} [{limit.key}: {limit.page}]", *value
    )


def definition_limit_findings(definition: Mapping[str, Any], where: str) -> list[Finding]:
    """The documented pipeline limits `definition` breaks."""
    steps = list(iter_steps(definition.get("Steps", [])))
    found = list(_nested_conditions(definition.get("Steps", []), where))
    found += _fail_step_references(steps, where)
    found += _property_file_outputs(steps, where)
    found += _names(definition, steps, where)
    return found


def _nested_conditions(
    steps: list[dict], where: str, inside: str | None = None
) -> Iterator[Finding]:
    for step in steps:
        kind = step.get("Type", "")
        if kind == "Condition" and inside is not None:
            detail = f"condition step {step.get('Name')!r} is nested in condition step {inside!r}"
            yield _limit_finding(where, NESTED_CONDITION, f"Steps.{step.get('Name')}", detail)
        for key in NESTED_STEP_LISTS.get(kind, ()):
            branch = step.get("Arguments", {}).get(key, [])
            yield from _nested_conditions(
                branch, where, step.get("Name") if kind == "Condition" else inside
            )


def _fail_step_references(steps: list[dict], where: str) -> Iterator[Finding]:
    fails = {step.get("Name") for step in steps if step.get("Type") == "Fail"}
    for step in steps:
        name = step.get("Name")
        for dependency in step.get("DependsOn", []):
            if dependency in fails:
                detail = f"step {name!r} depends on Fail step {dependency!r}"
                yield _limit_finding(where, FAIL_STEP_IS_A_LEAF, f"Steps.{name}.DependsOn", detail)
        own = {
            k: v for k, v in step.get("Arguments", {}).items() if k not in ("IfSteps", "ElseSteps")
        }
        for path in references(own):
            if referenced_step(path) in fails:
                detail = f"step {name!r} references Fail step {referenced_step(path)!r}"
                yield _limit_finding(where, FAIL_STEP_IS_A_LEAF, f"Steps.{name}", detail, path)


def _property_file_outputs(steps: list[dict], where: str) -> Iterator[Finding]:
    for step in steps:
        outputs = {
            item.get("OutputName")
            for item in _get(step.get("Arguments", {}), "ProcessingOutputConfig.Outputs") or []
        }
        for item in step.get("PropertyFiles", []):
            if step.get("Type") != "Processing" or item.get("OutputName") not in outputs:
                detail = (
                    f"property file {item.get('PropertyFileName')!r} of step {step.get('Name')!r} "
                    f"names output {item.get('OutputName')!r}, which the step does not write"
                )
                yield _limit_finding(
                    where, PROPERTY_FILE_OUTPUT, f"Steps.{step.get('Name')}", detail
                )


def _names(definition: Mapping[str, Any], steps: list[dict], where: str) -> Iterator[Finding]:
    for step in steps:
        name = step.get("Name")
        if not isinstance(name, str) or not NAME.match(name):
            yield _limit_finding(where, STEP_AND_PARAMETER_NAMES, "Steps", "bad step name", name)
    for parameter in definition.get("Parameters", []):
        name = parameter.get("Name")
        if not isinstance(name, str) or not NAME.match(name):
            yield _limit_finding(
                where, STEP_AND_PARAMETER_NAMES, "Parameters", "bad parameter name", name
            )


# ---- limits across the resources of one environment ----------------------------------------


@dataclass(frozen=True)
class HostedModel:
    """What the serverless check needs to know of a model: is it in a VPC, is it isolated."""

    name: str
    has_vpc: bool
    isolated: bool


def serverless_findings(
    where: str,
    endpoint_name: object,
    config: Mapping[str, Any],
    models: Mapping[str, HostedModel],
    monitored_endpoints: set[str],
) -> list[Finding]:
    """What a serverless endpoint config's variants and endpoint may not have."""
    found = []
    for index, variant in enumerate(config.get("ProductionVariants") or []):
        if not variant.get("ServerlessConfig"):
            continue
        model = models.get(str(variant.get("ModelName")))
        path = f"ProductionVariants[{index}].ModelName"
        if model is not None and model.has_vpc:
            detail = f"model {model.name} has a VpcConfig; serverless endpoints cannot use one"
            found.append(_serverless(where, path, detail))
        if model is not None and model.isolated:
            detail = f"model {model.name} has network isolation; serverless endpoints cannot"
            found.append(_serverless(where, path, detail))
        if isinstance(endpoint_name, str) and endpoint_name in monitored_endpoints:
            detail = f"endpoint {endpoint_name} is serverless and has a Model Monitor schedule"
            found.append(_serverless(where, path, detail))
    return found


def model_quality_schedule_findings(
    where: str, schedule_expression: object, job_definition: Mapping[str, Any]
) -> list[Finding]:
    """An hourly model-quality schedule's job must fit in half the hour."""
    runtime = _get(job_definition, "StoppingCondition.MaxRuntimeInSeconds")
    if schedule_expression != HOURLY_CRON or not _known(runtime):
        return []
    if runtime <= MAX_HOURLY_MODEL_QUALITY_RUNTIME:
        return []
    limit = HOURLY_MODEL_QUALITY_RUNTIME
    rule = f"is above {MAX_HOURLY_MODEL_QUALITY_RUNTIME} for an hourly schedule "
    rule += f"[{limit.key}: {limit.page}]"
    path = "StoppingCondition.MaxRuntimeInSeconds"
    return [finding(where, "CreateModelQualityJobDefinition", path, rule, runtime)]


def _serverless(where: str, path: str, detail: str) -> Finding:
    rule = f"{detail} [{SERVERLESS_EXCLUSIONS.key}: {SERVERLESS_EXCLUSIONS.page}]"
    return finding(where, "CreateEndpointConfig", path, rule)


# ---- limits between two versions of a template (what a deploy would change) ----------------

SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
AUTOSCALED_VARIANT = re.compile(r"^endpoint/(?P<endpoint>[^/]+)/variant/(?P<variant>[^/]+)$")


def _autoscaled_variants(resources: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(endpoint name, variant name) of every SageMaker variant registered for autoscaling."""
    found = set()
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if (
            resource.get("Type") != SCALABLE_TARGET
            or properties.get("ServiceNamespace") != "sagemaker"
        ):
            continue
        match = AUTOSCALED_VARIANT.match(str(properties.get("ResourceId")))
        if match:
            found.add((match["endpoint"], match["variant"]))
    return found


def _variant_instance_types(resources: Mapping[str, Any]) -> dict[tuple[str, str], object]:
    """(endpoint name, variant name) -> instance type, for every endpoint of a template."""
    found: dict[tuple[str, str], object] = {}
    for resource in resources.values():
        if resource.get("Type") != "AWS::SageMaker::Endpoint":
            continue
        properties = resource.get("Properties", {})
        config_ref = properties.get("EndpointConfigName")
        config_id = (
            config_ref["Fn::GetAtt"][0]
            if isinstance(config_ref, dict) and "Fn::GetAtt" in config_ref
            else None
        )
        config = resources.get(config_id, {}) if config_id else {}
        for variant in config.get("Properties", {}).get("ProductionVariants", []):
            found[(str(properties.get("EndpointName")), str(variant.get("VariantName")))] = (
                variant.get("InstanceType")
            )
    return found


def autoscaled_update_findings(
    before: Mapping[str, Any], after: Mapping[str, Any], where: str
) -> list[Finding]:
    """What deploying `after` over `before` (a stack's resources) would send to UpdateEndpoint
    that AWS refuses: an autoscaled variant whose instance type changes, or which disappears,
    on an endpoint that keeps its name (and so is updated, not replaced)."""
    old, new = _variant_instance_types(before), _variant_instance_types(after)
    kept = {endpoint for endpoint, _ in new} & {endpoint for endpoint, _ in old}
    found = []
    for endpoint, variant in sorted(_autoscaled_variants(before)):
        if endpoint not in kept:
            continue
        rule = f"[{AUTOSCALED_VARIANT_UPDATE.key}: {AUTOSCALED_VARIANT_UPDATE.page}]"
        path = f"endpoint {endpoint} variant {variant}"
        if (endpoint, variant) not in new:
            found.append(
                finding(where, "UpdateEndpoint", path, f"removes an autoscaled variant {rule}")
            )
        elif new[(endpoint, variant)] != old.get((endpoint, variant)):
            changed = new[(endpoint, variant)]
            detail = f"changes the instance type of an autoscaled variant to {changed} {rule}"
            found.append(
                finding(where, "UpdateEndpoint", path, detail, old.get((endpoint, variant)))
            )
    return found
