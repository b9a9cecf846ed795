"""A whole pipeline definition: parameters and steps, checked for broken references."""

from __future__ import annotations

from dataclasses import dataclass

from ground.pipeline.expressions import Parameter
from ground.pipeline.steps import Step
from ground.pipeline.walk import reference_problems

SCHEMA_VERSION = "2020-12-01"


class DefinitionError(ValueError):
    """The definition refers to something it does not declare; the message lists each case."""


@dataclass(frozen=True)
class PipelineDefinition:
    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]

    def to_dict(self) -> dict:
        definition = {
            "Version": SCHEMA_VERSION,
            "Metadata": {},
            "Parameters": [parameter.to_dict() for parameter in self.parameters],
            "Steps": [step.to_dict() for step in self.steps],
        }
        problems = reference_problems(definition)
        if problems:
            raise DefinitionError("pipeline definition is broken:\n  " + "\n  ".join(problems))
        return definition
