"""Values that only exist at run time, standing in for themselves while a request is checked.

At synth a step property (`Get Steps.Train.ModelArtifacts.S3ModelArtifacts`), a CloudFormation
token or a `Std:JsonGet` result has no value yet, only a type. The validator checks that the
type fits the member it lands in and leaves lengths, enums and patterns to the run-time pass.
"""

from __future__ import annotations

from dataclasses import dataclass

# botocore shape types, and "any" when nothing is known about the value.
NUMBER_TYPES = frozenset({"integer", "long", "float", "double"})
INTEGER_TYPES = frozenset({"integer", "long"})


@dataclass(frozen=True)
class Unknown:
    """A run-time value of botocore type `type_name`, produced by `origin`."""

    type_name: str
    origin: str

    def fits(self, shape_type: str) -> bool:
        """Whether a value of this type may fill a member of `shape_type`."""
        if "any" in (self.type_name, shape_type) or self.type_name == shape_type:
            return True
        if shape_type in INTEGER_TYPES:
            return self.type_name in INTEGER_TYPES
        if shape_type in NUMBER_TYPES:
            return self.type_name in NUMBER_TYPES
        return False

    def __str__(self) -> str:
        return f"<{self.type_name} from {self.origin}>"
