"""Reading a definition dict: its steps (nested ones too) and the references they make.

Shared by the definition builder (checked at synth), the invariant checks and the local
executor, so all three agree on what a definition refers to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

NESTED_STEP_LISTS = {"Condition": ("IfSteps", "ElseSteps")}
EXECUTION_VARIABLES = frozenset(
    {"PipelineExecutionId", "PipelineExecutionArn", "PipelineName", "PipelineArn", "StartDateTime"}
)
STEP_PATH = re.compile(r"^Steps\.([A-Za-z0-9_-]+)(?:\.(.*))?$")


def iter_steps(steps: Iterable[dict]) -> Iterator[dict]:
    """Every step, depth first: a condition step, then the steps of its branches."""
    for step in steps:
        yield step
        for key in NESTED_STEP_LISTS.get(step.get("Type", ""), ()):
            yield from iter_steps(step.get("Arguments", {}).get(key, []))


def own_arguments(step: dict) -> dict:
    """A step's arguments without the nested steps of its branches."""
    nested = NESTED_STEP_LISTS.get(step.get("Type", ""), ())
    return {k: v for k, v in step.get("Arguments", {}).items() if k not in nested}


def references(value: object) -> Iterator[str]:
    """Every `Get` path inside a value, in document order."""
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"]
            return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def referenced_step(path: str) -> str | None:
    """`Steps.Train.ModelArtifacts.S3ModelArtifacts` -> `Train`; None for other roots."""
    match = STEP_PATH.match(path)
    return match.group(1) if match else None


def step_dependencies(step: dict) -> set[str]:
    """Steps this one waits for: its `DependsOn` and every step its arguments read."""
    found = set(step.get("DependsOn", []))
    for path in references([own_arguments(step), step.get("PropertyFiles", [])]):
        name = referenced_step(path)
        if name:
            found.add(name)
    return found


def reference_problems(definition: Mapping[str, Any]) -> list[str]:
    """One line per broken reference, duplicate name or unknown dependency (empty when sound)."""
    steps = list(iter_steps(definition.get("Steps", [])))
    names = [step.get("Name") for step in steps]
    problems = [
        f"step name {n!r} is used more than once"
        for n in sorted({n for n in names if names.count(n) > 1}, key=str)
    ]
    by_name = {step.get("Name"): step for step in steps}
    parameters = {item.get("Name") for item in definition.get("Parameters", [])}
    for step in steps:
        where = f"step {step.get('Name')!r}"
        for dependency in step.get("DependsOn", []):
            if dependency not in by_name:
                problems.append(f"{where} depends on {dependency!r}, which is not a step")
        for path in references(own_arguments(step)):
            problem = _path_problem(path, parameters, by_name)
            if problem:
                problems.append(f"{where} references {path}: {problem}")
    return problems


def _path_problem(path: str, parameters: set, steps: Mapping[object, dict]) -> str | None:
    root, _, rest = path.partition(".")
    if root == "Parameters":
        if rest not in parameters:
            return f"no parameter {rest!r} (declared: {', '.join(sorted(parameters)) or 'none'})"
        return None
    if root == "Execution":
        if rest not in EXECUTION_VARIABLES:
            return f"no execution variable {rest!r} ({', '.join(sorted(EXECUTION_VARIABLES))})"
        return None
    if root == "Steps":
        name = referenced_step(path)
        if name not in steps:
            return f"no step {name!r} (steps: {', '.join(sorted(map(str, steps)))})"
        files = {f.get("PropertyFileName") for f in steps[name].get("PropertyFiles", [])}
        prefix = f"Steps.{name}.PropertyFiles."
        if path.startswith(prefix) and path[len(prefix) :] not in files:
            return f"step {name!r} has no property file {path[len(prefix) :]!r}"
        return None
    return "a reference starts with Parameters., Steps. or Execution."
