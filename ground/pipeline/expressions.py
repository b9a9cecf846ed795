"""Pipeline expressions: parameter references, step properties, `Std:Join` and `Std:JsonGet`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# A value in a definition: a literal, or an expression dict such as {"Get": "Parameters.X"}.
Value = Any

ParameterType = Literal["String", "Integer", "Float", "Boolean"]
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "String": str,
    "Integer": int,
    "Float": (int, float),
    "Boolean": bool,
}


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter: a name, a type and the default each execution may override."""

    name: str
    type: ParameterType
    default: str | int | float | bool

    def __post_init__(self) -> None:
        expected = PYTHON_TYPES[self.type]
        wrong_bool = isinstance(self.default, bool) and self.type != "Boolean"
        if wrong_bool or not isinstance(self.default, expected):
            raise TypeError(f"parameter {self.name}: default {self.default!r} is not a {self.type}")

    @property
    def ref(self) -> dict:
        return get(f"Parameters.{self.name}")

    def to_dict(self) -> dict:
        return {"Name": self.name, "Type": self.type, "DefaultValue": self.default}


def get(path: str) -> dict:
    """A property reference: `Parameters.X`, `Steps.Name.Prop...` or `Execution.X`."""
    return {"Get": path}


def step_property(step: str, path: str) -> dict:
    return get(f"Steps.{step}.{path}")


def join(*values: Value, on: str = "") -> dict:
    """`Std:Join`: the values, each turned into a string, joined with `on`."""
    return {"Std:Join": {"On": on, "Values": list(values)}}


def json_get(step: str, property_file: str, path: str) -> dict:
    """`Std:JsonGet`: a value read from a step's property file at a dotted JSON path."""
    return {
        "Std:JsonGet": {
            "PropertyFile": step_property(step, f"PropertyFiles.{property_file}"),
            "Path": path,
        }
    }


EXECUTION_ID = get("Execution.PipelineExecutionId")
EXECUTION_ARN = get("Execution.PipelineExecutionArn")
