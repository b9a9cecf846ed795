"""Requests checked against botocore's service model the way the service's front end checks them.

botocore's own `ParamValidator` checks required members, types, lengths and ranges but not the
regex patterns the model records; the service does, with Java regular expressions matched
against the whole value. This validator checks all of them, and unknown members too, and
reports every problem instead of the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import botocore.session
import regex
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from ground.contract.findings import Finding, finding
from ground.contract.unknown import NUMBER_TYPES, Unknown

# Java regex constructs botocore patterns use that Python's `regex` spells differently: a
# supplementary-plane range written as UTF-16 surrogate pairs.
_SURROGATE_RANGE = re.compile(r"\\uD800\\uDC00-\\uDBFF\\uDFFF", re.IGNORECASE)
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (str, datetime, int, float),
    "blob": (bytes, bytearray, str),
    "structure": (dict,),
    "map": (dict,),
    "list": (list, tuple),
}


@cache
def service_model(service: str) -> ServiceModel:
    """The service model botocore ships (no AWS call), e.g. `sagemaker`, `sagemaker-runtime`."""
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


@cache
def compiled_pattern(java_pattern: str) -> regex.Pattern[str]:
    """A model's (Java) pattern compiled for Python's `regex`, which knows `\\p{...}` classes."""
    python = _SURROGATE_RANGE.sub(r"\\U00010000-\\U0010FFFF", java_pattern)
    return regex.compile(python)


def _has_type(value: Any, shape_type: str) -> bool:
    """Whether a JSON value is of the Python type a botocore shape type stands for."""
    if isinstance(value, bool):
        return shape_type == "boolean"
    return isinstance(value, PYTHON_TYPES.get(shape_type, (object,)))


def _kind(value: Any) -> str:
    if isinstance(value, Unknown):
        return f"a run-time {value.type_name}"
    return type(value).__name__


class RequestValidator:
    """Checks a request (a dict of members) for one operation of one service."""

    def __init__(self, service: str, operation: str, where: str) -> None:
        self.operation = operation
        self.where = where
        self.input_shape = operation_model(service, operation).input_shape
        self.findings: list[Finding] = []

    def validate(
        self, request: Mapping[str, Any], filled_by_caller: frozenset[str]
    ) -> list[Finding]:
        """Every finding for `request`; `filled_by_caller` names members someone else sets
        (a pipeline names its jobs itself), which may then be absent."""
        self.findings = []
        if self.input_shape is not None:
            self._structure(self.input_shape, request, "", filled_by_caller)
        return self.findings

    def _report(self, path: str, rule: str, *value: Any) -> None:
        self.findings.append(finding(self.where, self.operation, path, rule, *value))

    def _check(self, shape: Shape, value: Any, path: str) -> None:
        if isinstance(value, Unknown):
            if not value.fits(shape.type_name):
                self._report(path, f"expects a {shape.type_name}, gets {_kind(value)}")
            return
        if not _has_type(value, shape.type_name):
            self._report(path, f"expects a {shape.type_name}, not a {_kind(value)}", value)
            return
        if isinstance(shape, StructureShape):
            self._structure(shape, value, path, frozenset())
        elif shape.type_name == "list":
            self._list(shape, value, path)
        elif shape.type_name == "map":
            self._map(shape, value, path)
        elif shape.type_name == "string":
            self._string(shape, value, path)
        elif shape.type_name in NUMBER_TYPES:
            self._number(shape, value, path)

    def _structure(
        self, shape: StructureShape, value: Mapping[str, Any], path: str, filled: frozenset[str]
    ) -> None:
        members = shape.members
        for name in value:
            if name not in members:
                known = ", ".join(sorted(members)) or "none"
                self._report(_join(path, name), f"is not a member (members: {known})")
        for name in shape.required_members:
            # An idempotency token is filled in by the SDK (or by CloudFormation, Pipelines).
            if members[name].metadata.get("idempotencyToken"):
                continue
            if name not in value and name not in filled:
                self._report(_join(path, name), "is required")
        if shape.metadata.get("union") and len(value) != 1:
            self._report(path, f"is a union: set exactly one member, not {len(value)}")
        for name, item in value.items():
            if name in members:
                self._check(members[name], item, _join(path, name))

    def _list(self, shape: Shape, value: list, path: str) -> None:
        self._length(shape, len(value), path, "length", value)
        for index, item in enumerate(value):
            self._check(shape.member, item, f"{path}[{index}]")

    def _map(self, shape: Shape, value: Mapping, path: str) -> None:
        self._length(shape, len(value), path, "number of entries", value)
        for key, item in value.items():
            self._check(shape.key, key, f"{path} key {key!r}")
            self._check(shape.value, item, f"{path}[{key!r}]")

    def _string(self, shape: Shape, value: str, path: str) -> None:
        if shape.enum and value not in shape.enum:
            self._report(path, f"is not one of the {len(shape.enum)} values the API accepts", value)
            return
        self._length(shape, len(value), path, "length", value)
        pattern = shape.metadata.get("pattern")
        if pattern and compiled_pattern(pattern).fullmatch(value) is None:
            self._report(path, f"does not match the pattern {pattern}", value)

    def _number(self, shape: Shape, value: float, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self._report(path, f"is below the minimum {low}", value)
        if high is not None and value > high:
            self._report(path, f"is above the maximum {high}", value)

    def _length(self, shape: Shape, size: int, path: str, what: str, value: Any) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self._report(path, f"{what} {size} is below the minimum {low}", value)
        if high is not None and size > high:
            self._report(path, f"{what} {size} is above the maximum {high}", value)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def request_findings(
    service: str,
    operation: str,
    request: Mapping[str, Any],
    where: str,
    filled_by_caller: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every way `request` breaks `operation`'s input shape (empty when the service takes it)."""
    return RequestValidator(service, operation, where).validate(request, filled_by_caller)


def member_enum(service: str, operation: str, path: str) -> tuple[str, ...]:
    """The enum of a string member, e.g. ("sagemaker", "CreateTrainingJob",
    "ResourceConfig.InstanceType") -> every instance type a training job accepts."""
    shape: Shape = operation_model(service, operation).input_shape
    for part in path.split("."):
        shape = shape.member if shape.type_name == "list" else shape
        shape = shape.members[part]
    return tuple(shape.enum)
