"""Runs a pipeline definition step by step on this machine, as SageMaker Pipelines would.

Before anything runs, the whole definition is checked against the SageMaker contract
(ground.contract: references, property paths, step requests against the service model, the
documented limits) with this run's parameter values, and the step types must be ones this
executor runs. Then steps run one at a time in dependency order; just before a job starts its
request is checked again with every value resolved, as the service would check it. A condition
step adds the steps of the branch it takes. The run ends at the first failed step (or Fail
step), or when nothing is left to run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ground.contract.findings import Finding
from ground.contract.pipeline import ExecutionContext, definition_findings, step_request_findings
from ground.contract.service_model import request_findings
from ground.pipeline.evaluation import ExecutionState, ExpressionError, evaluate, holds
from ground.pipeline.walk import iter_steps, step_dependencies
from sagestack.local.pipeline.jobs import (
    JobContext,
    StepFailed,
    run_processing,
    run_training,
    run_tuning,
)
from sagestack.local.pipeline.registry import ModelRegistry, RegistrationError
from sagestack.local.pipeline.transform import run_transform
from sagestack.storage import Storage

STEP_TYPES = (
    "Processing",
    "Training",
    "Tuning",
    "Transform",
    "Condition",
    "RegisterModel",
    "Fail",
)
PARAMETER_PARSERS: dict[str, Callable[[str], object]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda text: {"true": True, "false": False}[text.strip().lower()],
}


class DefinitionError(Exception):
    """The definition cannot run here; the message lists every problem found."""


@dataclass(frozen=True)
class StepRecord:
    name: str
    kind: str
    status: str
    seconds: float
    detail: str = ""


@dataclass
class ExecutionResult:
    execution_id: str
    status: str = "Executing"
    steps: list[StepRecord] = field(default_factory=list)
    failed_step: str | None = None
    failure_reason: str | None = None
    failure_log: Path | None = None
    model_package_arn: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"


def unsupported_steps(definition: dict) -> list[str]:
    """Steps of a type this executor cannot run (the contract may still accept them)."""
    return [
        f"step {step.get('Name')!r}: step type {step.get('Type')!r} is not supported by the "
        f"local executor (supported: {', '.join(STEP_TYPES)})"
        for step in iter_steps(definition.get("Steps", []))
        if step.get("Type") not in STEP_TYPES
    ]


def start_request_findings(pipeline_name: str, overrides: Mapping[str, str]) -> list[Finding]:
    """What StartPipelineExecution would refuse in these overrides (count and value sizes)."""
    request = {
        "PipelineName": pipeline_name,
        "PipelineParameters": [{"Name": name, "Value": value} for name, value in overrides.items()],
    }
    return request_findings(
        "sagemaker", "StartPipelineExecution", request, f"pipeline {pipeline_name}"
    )


class StepRefused(StepFailed):
    """The step's request breaks the SageMaker contract: the job was never started."""


def resolve_parameters(definition: dict, overrides: Mapping[str, str]) -> dict[str, object]:
    """Defaults of the definition with overrides parsed to each parameter's type."""
    declared = {item["Name"]: item for item in definition.get("Parameters", [])}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DefinitionError(
            f"unknown parameter(s) {', '.join(unknown)}; the definition declares "
            f"{', '.join(sorted(declared))}"
        )
    values: dict[str, object] = {}
    for name, item in declared.items():
        if name not in overrides:
            if "DefaultValue" not in item:
                raise DefinitionError(f"parameter {name} has no default: give it a value")
            values[name] = item["DefaultValue"]
            continue
        try:
            values[name] = PARAMETER_PARSERS[item["Type"]](overrides[name])
        except (ValueError, KeyError):
            raise DefinitionError(
                f"parameter {name}: {overrides[name]!r} is not of type {item['Type']}"
            ) from None
    return values


class Executor:
    """One local execution of a definition."""

    def __init__(
        self,
        definition: dict,
        *,
        pipeline_name: str,
        region: str,
        account: str,
        storage: Storage,
        registry: ModelRegistry,
        workdir: Path,
        echo: Callable[[str], None] = print,
    ) -> None:
        execution_id = uuid.uuid4().hex[:12]
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.context = ExecutionContext(pipeline_name, region, account, execution_id, started)
        problems = unsupported_steps(definition)
        problems += map(str, definition_findings(definition, self.context))
        if problems:
            raise DefinitionError("the definition cannot run:\n  " + "\n  ".join(problems))
        self.definition = definition
        self.storage = storage
        self.registry = registry
        self.echo = echo
        self.workdir = Path(workdir).resolve() / execution_id
        self.execution = self.context.variables()
        self.result = ExecutionResult(execution_id)

    def check(self, overrides: Mapping[str, str]) -> dict[str, object]:
        """This run's parameter values; DefinitionError when AWS would refuse the run."""
        parameters = resolve_parameters(self.definition, overrides)
        refused = start_request_findings(self.context.pipeline_name, overrides)
        refused += definition_findings(self.definition, self.context, parameters)
        if refused:
            raise DefinitionError(
                "AWS would refuse this run; nothing was started:\n  "
                + "\n  ".join(map(str, refused))
            )
        return parameters

    def run(self, overrides: Mapping[str, str] | None = None) -> ExecutionResult:
        """Run every step; DefinitionError, before anything runs, when AWS would refuse this run."""
        state = ExecutionState(self.check(overrides or {}), dict(self.execution))
        self.echo(f"execution {self.result.execution_id} of {self.execution['PipelineName']}")
        pending = list(self.definition["Steps"])
        done: set[str] = set()
        while pending:
            ready = next((s for s in pending if step_dependencies(s) <= done), None)
            if ready is None:
                for step in pending:
                    waiting = ", ".join(sorted(step_dependencies(step) - done))
                    self._record(
                        step, "NotRun", 0.0, f"waits for steps that did not run: {waiting}"
                    )
                break
            pending.remove(ready)
            if not self._run_step(ready, state, pending):
                self.result.status = "Failed"
                return self.result
            done.add(ready["Name"])
        self.result.status = "Succeeded"
        return self.result

    def _run_step(self, step: dict, state: ExecutionState, pending: list[dict]) -> bool:
        name, kind = step["Name"], step["Type"]
        self.echo(f"  {name} ({kind}) ...")
        started = time.monotonic()
        try:
            detail = self._execute(step, state, pending)
        except (StepFailed, ExpressionError, RegistrationError) as error:
            self.result.failed_step = name
            self.result.failure_reason = str(error)
            self.result.failure_log = getattr(error, "log", None)
            self._record(step, "Failed", time.monotonic() - started, str(error))
            return False
        self._record(step, "Succeeded", time.monotonic() - started, detail)
        return True

    def _record(self, step: dict, status: str, seconds: float, detail: str) -> None:
        record = StepRecord(step["Name"], step["Type"], status, seconds, detail)
        self.result.steps.append(record)
        suffix = f": {detail}" if detail else ""
        self.echo(f"  {record.name} ({record.kind}) {status} in {seconds:.1f} s{suffix}")

    def _execute(self, step: dict, state: ExecutionState, pending: list[dict]) -> str:
        name, kind = step["Name"], step["Type"]
        if kind == "Condition":
            arguments = step["Arguments"]
            outcome = all(holds(c, state) for c in arguments.get("Conditions", []))
            branch = arguments.get("IfSteps" if outcome else "ElseSteps", [])
            pending[:0] = branch
            state.steps[name] = {"Outcome": outcome}
            return (
                f"{str(outcome).lower()}: next {', '.join(s['Name'] for s in branch) or 'nothing'}"
            )
        if kind == "Fail":
            raise StepFailed(str(evaluate(step["Arguments"].get("ErrorMessage", ""), state)))
        arguments = evaluate(step["Arguments"], state)
        refused = step_request_findings(step, arguments, f"step {name!r}")
        if refused:
            raise StepRefused(
                "AWS would refuse this request; the step did not start:\n  "
                + "\n  ".join(map(str, refused))
            )
        if kind == "RegisterModel":
            arn = self.registry.register(arguments)
            state.steps[name] = {"ModelPackageArn": arn}
            self.result.model_package_arn = arn
            return arn
        context = JobContext(
            self.storage, self.workdir / name, f"{self.result.execution_id}-{name}".lower()
        )
        if kind == "Processing":
            state.steps[name], outputs = run_processing(arguments, context)
            self._read_property_files(step, outputs, state)
            return ""
        if kind == "Training":
            state.steps[name] = run_training(arguments, context)
            return state.steps[name]["ModelArtifacts"]["S3ModelArtifacts"]
        if kind == "Transform":
            state.steps[name] = run_transform(arguments, context, self.registry)
            return state.steps[name]["TransformOutput"]["S3OutputPath"]
        state.steps[name] = run_tuning(arguments, context, self.echo)
        return f"best: {state.steps[name]['BestTrainingJob']['TrainingJobName']}"

    def _read_property_files(
        self, step: dict, outputs: dict[str, Path], state: ExecutionState
    ) -> None:
        for item in step.get("PropertyFiles", []):
            path = outputs.get(item["OutputName"], Path("/nonexistent")) / item["FilePath"]
            if not path.is_file():
                raise StepFailed(
                    f"property file {item['PropertyFileName']}: {item['FilePath']} is missing "
                    f"from output {item['OutputName']!r}"
                )
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as error:
                raise StepFailed(f"property file {item['FilePath']} is not JSON: {error}") from None
            state.property_files[(step["Name"], item["PropertyFileName"])] = content
            self.result.metrics.update(scalar_metrics(content))


def scalar_metrics(report: object, prefix: str = "") -> dict[str, float]:
    """`{"x": {"auc": {"value": 0.9}}}` -> {"auc": 0.9}: the headline numbers of a report."""
    found: dict[str, float] = {}
    if isinstance(report, dict):
        value = report.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool) and prefix:
            found[prefix] = float(value)
        for key, item in report.items():
            if isinstance(item, dict):
                found.update(scalar_metrics(item, key))
    return found
