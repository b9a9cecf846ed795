"""Evaluating definition expressions and conditions against an execution.

`Get` reads parameters, execution variables and step properties (paths such as
`Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`); `Std:Join` and
`Std:JsonGet` are the pipeline's functions. Anything else that looks like an expression is
an error that names it, never a silent literal.

The same evaluation serves a running execution (every value real) and a planned one, checked
before anything runs: there `ExecutionState.pending` says what a property of a step that has
not run stands for (an `Unknown` of the right type), and a `Std:Join` or `Std:JsonGet` over
unknown parts is itself unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ground.contract.unknown import Unknown

FUNCTIONS = ("Std:Join", "Std:JsonGet")
COMPARISONS = {
    "Equals": lambda left, right: left == right,
    "GreaterThan": lambda left, right: left > right,
    "GreaterThanOrEqualTo": lambda left, right: left >= right,
    "LessThan": lambda left, right: left < right,
    "LessThanOrEqualTo": lambda left, right: left <= right,
}
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")
_SEGMENT = re.compile(r"([A-Za-z0-9_:-]+)|\['([^']*)'\]|\[(\d+)\]|\.")


class ExpressionError(Exception):
    """An expression cannot be evaluated; the message names the expression and why."""


@dataclass
class ExecutionState:
    """What expressions can read: parameters, execution variables, step properties, files.

    `pending`, when set, gives the stand-in for a property of a step that has not run (its
    argument is the whole `Steps....` path); without it such a read is an error.
    """

    parameters: dict[str, object]
    execution: dict[str, object]
    steps: dict[str, dict] = field(default_factory=dict)
    property_files: dict[tuple[str, str], object] = field(default_factory=dict)
    pending: Callable[[str], object] | None = None


def path_segments(path: str) -> list[str | int]:
    """`A.B['c'][0]` -> ["A", "B", "c", 0]."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if not match:
            raise ExpressionError(f"cannot parse path {path!r} at {path[position:]!r}")
        name, key, index = match.groups()
        if index is not None:
            segments.append(int(index))
        elif (name or key) is not None:
            segments.append(name if name is not None else key)
        position = match.end()
    return segments


def _walk(value: Any, segments: list[str | int], where: str) -> Any:
    for depth, segment in enumerate(segments):
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            done = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in segments[:depth])
            raise ExpressionError(
                f"{where}: nothing at {segment!r} after {done or 'the root'}"
            ) from None
    return value


def lookup(path: str, state: ExecutionState) -> Any:
    root, _, rest = path.partition(".")
    if root == "Parameters":
        if rest not in state.parameters:
            raise ExpressionError(f"Get {path}: no such parameter")
        return state.parameters[rest]
    if root == "Execution":
        if rest not in state.execution:
            raise ExpressionError(f"Get {path}: no such execution variable")
        return state.execution[rest]
    if root == "Steps":
        segments = path_segments(rest)
        step = segments[0]
        if step not in state.steps and state.pending is not None:
            return state.pending(path)
        if step not in state.steps:
            raise ExpressionError(f"Get {path}: step {step!r} has not run (or does not exist)")
        return _walk(state.steps[step], segments[1:], f"Get {path}")
    raise ExpressionError(f"Get {path}: a path starts with Parameters, Execution or Steps")


def text(value: object) -> str:
    """How a value reads inside `Std:Join` (booleans as the service writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def evaluate(value: Any, state: ExecutionState) -> Any:
    """`value` with every expression inside replaced by its result."""
    if isinstance(value, list):
        return [evaluate(item, state) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        return lookup(value["Get"], state)
    if set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        parts = [evaluate(v, state) for v in join["Values"]]
        if any(isinstance(part, Unknown) for part in parts):
            return Unknown("string", "Std:Join of run-time values")
        return join.get("On", "").join(text(part) for part in parts)
    if set(value) == {"Std:JsonGet"}:
        return _json_get(value["Std:JsonGet"], state)
    unknown = [key for key in value if key.startswith("Std:")]
    if unknown:
        raise ExpressionError(f"unknown expression {unknown[0]} (known: {', '.join(FUNCTIONS)})")
    return {key: evaluate(item, state) for key, item in value.items()}


def _json_get(argument: dict, state: ExecutionState) -> Any:
    reference = argument["PropertyFile"]
    path = reference["Get"] if isinstance(reference, dict) else str(reference)
    segments = path_segments(path.removeprefix("Steps."))
    if len(segments) != 3 or segments[1] != "PropertyFiles":
        raise ExpressionError(f"Std:JsonGet: {path!r} is not Steps.<step>.PropertyFiles.<name>")
    key = (str(segments[0]), str(segments[2]))
    if key not in state.property_files and state.pending is not None:
        return Unknown("any", f"Std:JsonGet {argument['Path']} in {path}")
    if key not in state.property_files:
        raise ExpressionError(f"Std:JsonGet: property file {path} was not produced")
    where = f"Std:JsonGet {argument['Path']} in {path}"
    return _walk(state.property_files[key], path_segments(argument["Path"]), where)


def holds(condition: dict, state: ExecutionState) -> bool:
    """Whether one condition of a Condition step holds."""
    kind = condition.get("Type")
    if kind in COMPARISONS:
        left = evaluate(condition["LeftValue"], state)
        right = evaluate(condition["RightValue"], state)
        try:
            return bool(COMPARISONS[kind](left, right))
        except TypeError:
            raise ExpressionError(f"{kind}: cannot compare {left!r} with {right!r}") from None
    if kind == "In":
        return evaluate(condition["QueryValue"], state) in evaluate(condition["Values"], state)
    if kind == "Not":
        return not holds(condition["Expression"], state)
    if kind == "Or":
        return any(holds(item, state) for item in condition["Conditions"])
    raise ExpressionError(f"unknown condition type {kind!r} (known: {', '.join(CONDITION_TYPES)})")


def expression_problems(value: object, where: str) -> Iterator[str]:
    """Unknown `Std:` functions anywhere inside a value (checked before anything runs)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("Std:") and key not in FUNCTIONS:
                yield f"{where}: unknown expression {key} (known: {', '.join(FUNCTIONS)})"
            yield from expression_problems(item, where)
    elif isinstance(value, list):
        for item in value:
            yield from expression_problems(item, where)


def condition_problems(conditions: list[dict], where: str) -> Iterator[str]:
    for condition in conditions:
        kind = condition.get("Type")
        if kind not in CONDITION_TYPES:
            yield f"{where}: unknown condition type {kind!r} (known: {', '.join(CONDITION_TYPES)})"
        elif kind == "Not":
            yield from condition_problems([condition["Expression"]], where)
        elif kind == "Or":
            yield from condition_problems(condition["Conditions"], where)
