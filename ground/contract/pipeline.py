"""A pipeline definition checked against the operations its steps call and the documented limits.

Each step type runs one SageMaker operation with the step's `Arguments` as the request
(Processing → CreateProcessingJob, ...); the pipeline names the jobs itself. A step's
properties are the Describe* answer of its job, so every `Get Steps.X....` must name a path that
exists in that answer's shape; its type is the type a placeholder takes when the value is not
known yet.

Checks run in two passes. Before any run (at synth, and when the local executor starts) the
expressions are evaluated with the parameters' values (defaults, or the run's overrides),
representative execution variables, and typed placeholders for step properties. Just before a
step runs, the executor checks its request again with every value resolved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

from ground.contract.findings import Finding, finding
from ground.contract.limits import (
    GUIDE,
    Limit,
    definition_limit_findings,
    request_limit_findings,
)
from ground.contract.service_model import operation_model, request_findings
from ground.contract.unknown import Unknown
from ground.pipeline.definition import SCHEMA_VERSION
from ground.pipeline.evaluation import (
    ExecutionState,
    ExpressionError,
    condition_problems,
    evaluate,
    expression_problems,
    path_segments,
)
from ground.pipeline.walk import iter_steps, reference_problems, references

SERVICE = "sagemaker"
PARAMETER_TYPES: dict[str, type | tuple[type, ...]] = {
    "String": str,
    "Integer": int,
    "Float": (int, float),
    "Boolean": bool,
}
STEP_KEYS = frozenset(
    {
        "Name",
        "Type",
        "Arguments",
        "DependsOn",
        "RetryPolicies",
        "CacheConfig",
        "PropertyFiles",
        "DisplayName",
        "Description",
    }
)
DEFINITION_KEYS = frozenset(
    {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "Steps"}
)
RETRY_POLICY = Limit(
    "retry-policies",
    "retry policies apply to job, model and register steps; ExceptionType is a non-empty list "
    "of Step.SERVICE_FAULT, Step.THROTTLING, SageMaker.JOB_INTERNAL_ERROR, "
    "SageMaker.CAPACITY_ERROR, SageMaker.RESOURCE_LIMIT; IntervalSeconds at most 43200",
    f"{GUIDE}pipelines-retry-policy.html",
)
RETRY_EXCEPTIONS = frozenset(
    {
        "Step.SERVICE_FAULT",
        "Step.THROTTLING",
        "SageMaker.JOB_INTERNAL_ERROR",
        "SageMaker.CAPACITY_ERROR",
        "SageMaker.RESOURCE_LIMIT",
    }
)
MAX_RETRY_INTERVAL_SECONDS = 43200


@dataclass(frozen=True)
class StepContract:
    """The operation a step type calls, the member the pipeline fills (the job's name), and
    the operations whose answers are the step's properties."""

    operation: str
    name_member: str | None
    describe: tuple[str, ...]


STEP_CONTRACTS: dict[str, StepContract] = {
    "Processing": StepContract(
        "CreateProcessingJob", "ProcessingJobName", ("DescribeProcessingJob",)
    ),
    "Training": StepContract("CreateTrainingJob", "TrainingJobName", ("DescribeTrainingJob",)),
    "Tuning": StepContract(
        "CreateHyperParameterTuningJob",
        "HyperParameterTuningJobName",
        ("DescribeHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob"),
    ),
    "Transform": StepContract("CreateTransformJob", "TransformJobName", ("DescribeTransformJob",)),
    "RegisterModel": StepContract("CreateModelPackage", None, ("DescribeModelPackage",)),
    "Model": StepContract("CreateModel", "ModelName", ("DescribeModel",)),
}
# Steps that call no operation: what their properties are.
OWN_PROPERTIES: dict[str, dict[str, str]] = {"Condition": {"Outcome": "boolean"}, "Fail": {}}


@dataclass(frozen=True)
class ExecutionContext:
    """Who runs the definition: execution variables take values of their documented form."""

    pipeline_name: str
    region: str = "us-east-1"
    account: str = "123456789012"
    execution_id: str = "a1b2c3d4e5f6"
    start_time: str = "2020-12-01T00:00:00Z"

    def variables(self) -> dict[str, object]:
        pipeline_arn = (
            f"arn:aws:sagemaker:{self.region}:{self.account}:pipeline/{self.pipeline_name}"
        )
        return {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": f"{pipeline_arn}/execution/{self.execution_id}",
            "PipelineName": self.pipeline_name,
            "PipelineArn": pipeline_arn,
            "StartDateTime": self.start_time,
        }


def _where(context: ExecutionContext, step: str | None = None) -> str:
    base = f"pipeline {context.pipeline_name}"
    return f"{base} step {step!r}" if step else base


# ---- step properties as shapes --------------------------------------------------------------


class PropertyError(ExpressionError):
    """A `Get` names a property the step does not have."""


def _property_kind(step: Mapping[str, Any], segments: list[str | int]) -> str:
    """The botocore type at `segments` of the step's properties; PropertyError when none."""
    kind = step.get("Type", "")
    if kind in OWN_PROPERTIES:
        own = OWN_PROPERTIES[kind]
        if len(segments) == 1 and segments[0] in own:
            return own[str(segments[0])]
        raise PropertyError(f"a {kind} step's properties are {', '.join(own) or 'none'}")
    contract = STEP_CONTRACTS.get(kind)
    if contract is None:
        raise PropertyError(f"step type {kind!r} has no known properties")
    problem = ""
    for describe in contract.describe:
        found = _walk_shape(operation_model(SERVICE, describe).output_shape, segments, step)
        if isinstance(found, Shape):
            return found.type_name
        problem = problem or found
    raise PropertyError(problem)


def _walk_shape(shape: Shape, segments: list[str | int], step: Mapping[str, Any]) -> Shape | str:
    walked: list[str] = []
    for segment in segments:
        where = ".".join(walked) or "the step's properties"
        if shape.type_name == "structure":
            members = shape.members
            if segment not in members:
                return f"{where} has no member {segment!r}"
            shape = members[segment]
        elif shape.type_name == "list":
            if isinstance(segment, str):
                problem = _named_item_problem(step, walked, segment)
                if problem:
                    return problem
            shape = shape.member
        elif shape.type_name == "map":
            shape = shape.value
        else:
            return f"{where} is a {shape.type_name}, it has no {segment!r}"
        walked.append(str(segment))
    return shape


def _named_item_problem(step: Mapping[str, Any], walked: list[str], name: str) -> str | None:
    """`Outputs['train']` must name an item the step's own request declares, when it does."""
    declared: Any = step.get("Arguments", {})
    for part in walked:
        declared = declared.get(part) if isinstance(declared, Mapping) else None
    if not isinstance(declared, list):
        return None
    names = {
        v
        for item in declared
        if isinstance(item, Mapping)
        for k, v in item.items()
        if k.endswith("Name")
    }
    if names and name not in names:
        items = ", ".join(sorted(map(str, names)))
        return f"{'.'.join(walked)} has no item named {name!r} (items: {items})"
    return None


def property_type(steps: Mapping[Any, Mapping[str, Any]], path: str) -> str:
    """The botocore type of `Steps.<name>.<property path>`; ExpressionError when it has none."""
    segments = path_segments(path.removeprefix("Steps."))
    name, rest = str(segments[0]), segments[1:]
    if name not in steps:
        raise ExpressionError(f"Get {path}: no step {name!r}")
    if rest[:1] == ["PropertyFiles"]:
        return "any"
    try:
        return _property_kind(steps[name], rest)
    except PropertyError as error:
        raise PropertyError(f"Get {path}: {error}") from None


def _property_findings(
    definition: Mapping[str, Any], context: ExecutionContext
) -> Iterator[Finding]:
    steps = {step.get("Name"): step for step in iter_steps(definition.get("Steps", []))}
    for step in steps.values():
        own = {
            k: v for k, v in step.get("Arguments", {}).items() if k not in ("IfSteps", "ElseSteps")
        }
        for path in references(own):
            if not path.startswith("Steps."):
                continue
            try:
                property_type(steps, path)
            except ExpressionError as error:
                yield finding(
                    _where(context, step.get("Name")), "property reference", path, str(error)
                )


# ---- the definition's own structure ---------------------------------------------------------


def _structure_findings(
    definition: Mapping[str, Any], context: ExecutionContext
) -> Iterator[Finding]:
    where = _where(context)
    for key in definition:
        if key not in DEFINITION_KEYS:
            yield finding(where, "pipeline definition", key, "is not a definition member")
    if definition.get("Version") != SCHEMA_VERSION:
        yield finding(
            where,
            "pipeline definition",
            "Version",
            f"must be {SCHEMA_VERSION}",
            definition.get("Version"),
        )
    if not definition.get("Steps"):
        yield finding(where, "pipeline definition", "Steps", "a pipeline needs at least one step")
    for parameter in definition.get("Parameters", []):
        yield from _parameter_findings(parameter, where)
    for step in iter_steps(definition.get("Steps", [])):
        yield from _step_structure(step, context)


def _parameter_findings(parameter: Mapping[str, Any], where: str) -> Iterator[Finding]:
    name = parameter.get("Name")
    kind = parameter.get("Type")
    path = f"Parameters.{name}"
    if kind not in PARAMETER_TYPES:
        yield finding(
            where,
            "pipeline definition",
            path,
            f"Type must be one of {', '.join(PARAMETER_TYPES)}",
            kind,
        )
        return
    if "DefaultValue" in parameter:
        default = parameter["DefaultValue"]
        wrong_bool = isinstance(default, bool) and kind != "Boolean"
        if wrong_bool or not isinstance(default, PARAMETER_TYPES[kind]):
            yield finding(
                where, "pipeline definition", path, f"DefaultValue is not a {kind}", default
            )


def _step_structure(step: Mapping[str, Any], context: ExecutionContext) -> Iterator[Finding]:
    name, kind = step.get("Name"), step.get("Type")
    where = _where(context, name)
    for key in step:
        if key not in STEP_KEYS:
            yield finding(where, "pipeline definition", key, "is not a step member")
    if kind not in STEP_CONTRACTS and kind not in OWN_PROPERTIES:
        known = ", ".join([*STEP_CONTRACTS, *OWN_PROPERTIES])
        yield finding(
            where,
            "pipeline definition",
            "Type",
            f"no contract for this step type (known: {known})",
            kind,
        )
    arguments = step.get("Arguments", {})
    for problem in expression_problems(arguments, where):
        yield finding(where, "pipeline definition", "Arguments", problem.removeprefix(f"{where}: "))
    if kind == "Condition":
        if not arguments.get("Conditions"):
            yield finding(
                where,
                "pipeline definition",
                "Arguments.Conditions",
                "a condition step needs conditions",
            )
        for problem in condition_problems(arguments.get("Conditions", []), where):
            yield finding(
                where,
                "pipeline definition",
                "Arguments.Conditions",
                problem.removeprefix(f"{where}: "),
            )
    if kind == "Fail" and "ErrorMessage" not in arguments:
        yield finding(
            where, "pipeline definition", "Arguments.ErrorMessage", "a Fail step needs a message"
        )
    yield from _retry_findings(step, where)


def _retry_findings(step: Mapping[str, Any], where: str) -> Iterator[Finding]:
    policies = step.get("RetryPolicies", [])
    rule = f"[{RETRY_POLICY.key}: {RETRY_POLICY.page}]"
    if policies and step.get("Type") not in STEP_CONTRACTS:
        yield finding(
            where,
            "pipeline definition",
            "RetryPolicies",
            f"a {step.get('Type')} step takes no retry policy {rule}",
        )
    for index, policy in enumerate(policies):
        path = f"RetryPolicies[{index}]"
        exceptions = policy.get("ExceptionType") or []
        unknown = sorted(set(exceptions) - RETRY_EXCEPTIONS)
        if not exceptions or unknown:
            yield finding(
                where,
                "pipeline definition",
                f"{path}.ExceptionType",
                f"unsupported exception types {rule}",
                unknown or exceptions,
            )
        interval = policy.get("IntervalSeconds", 1)
        if not isinstance(interval, int) or not 1 <= interval <= MAX_RETRY_INTERVAL_SECONDS:
            yield finding(
                where,
                "pipeline definition",
                f"{path}.IntervalSeconds",
                f"must be 1..{MAX_RETRY_INTERVAL_SECONDS} {rule}",
                interval,
            )
        attempts = policy.get("MaxAttempts", 1)
        if not isinstance(attempts, int) or attempts < 1:
            yield finding(
                where,
                "pipeline definition",
                f"{path}.MaxAttempts",
                f"must be a positive integer {rule}",
                attempts,
            )


# ---- requests -------------------------------------------------------------------------------


def planned_state(
    definition: Mapping[str, Any],
    context: ExecutionContext,
    parameters: Mapping[str, Any] | None = None,
) -> ExecutionState:
    """An execution before it runs: parameters (defaults unless given), representative
    execution variables, and for every step property a placeholder of its type."""
    steps = {step.get("Name"): step for step in iter_steps(definition.get("Steps", []))}
    if parameters is None:
        parameters = {
            item["Name"]: item["DefaultValue"]
            for item in definition.get("Parameters", [])
            if "DefaultValue" in item
        }

    def pending(path: str) -> Unknown:
        return Unknown(property_type(steps, path), f"Get {path}")

    return ExecutionState(dict(parameters), context.variables(), pending=pending)


def step_request_findings(
    step: Mapping[str, Any], request: Mapping[str, Any], where: str
) -> list[Finding]:
    """What the operation behind `step` would refuse in `request` (its evaluated arguments)."""
    contract = STEP_CONTRACTS.get(step.get("Type", ""))
    if contract is None:
        return []
    filled = frozenset({contract.name_member} if contract.name_member else ())
    found = request_findings(SERVICE, contract.operation, request, where, filled)
    return found + request_limit_findings(contract.operation, request, where)


def _request_findings(
    definition: Mapping[str, Any], context: ExecutionContext, state: ExecutionState
) -> Iterator[Finding]:
    for step in iter_steps(definition.get("Steps", [])):
        if step.get("Type") not in STEP_CONTRACTS:
            continue
        where = _where(context, step.get("Name"))
        try:
            request = evaluate(step.get("Arguments", {}), state)
        except ExpressionError as error:
            yield finding(where, STEP_CONTRACTS[step["Type"]].operation, "Arguments", str(error))
            continue
        yield from step_request_findings(step, request, where)


def definition_findings(
    definition: Mapping[str, Any],
    context: ExecutionContext,
    parameters: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Everything SageMaker would refuse in `definition` before or while running it, found
    without running it. `parameters` are the run's values (the defaults when None)."""
    found = list(_structure_findings(definition, context))
    found += [
        finding(_where(context), "pipeline definition", "references", problem)
        for problem in reference_problems(definition)
    ]
    found += _property_findings(definition, context)
    found += definition_limit_findings(definition, _where(context))
    found += _request_findings(definition, context, planned_state(definition, context, parameters))
    return found
