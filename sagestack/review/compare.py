"""Structured comparison of two CloudFormation templates of one stack, resource by resource.

The CDK CLI renders diffs for people; the risk classifier needs data: which resources were
added, removed or modified, and which of their properties changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# What CloudFormation acts on; `Metadata` (construct paths) changes nothing in the account.
COMPARED_ATTRIBUTES = (
    "Type",
    "Properties",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "DependsOn",
    "Condition",
)
OTHER_SECTIONS = ("Parameters", "Conditions", "Mappings", "Outputs", "Rules")
# CDK's usage analytics: not deployed as anything, and `cdk diff` hides it too.
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})

ChangeKind = Literal["added", "removed", "modified"]


@dataclass(frozen=True)
class ResourceChange:
    """One resource that differs; `before`/`after` are its whole template entries."""

    logical_id: str
    kind: ChangeKind
    before: dict | None
    after: dict | None

    @property
    def resource_type(self) -> str:
        return (self.after or self.before or {}).get("Type", "?")

    def location(self, stack: str) -> str:
        """Construct path and logical id, e.g. `dev/data/RawData/Bucket (RawDataBucket46CFA8FB)`."""
        return resource_location(stack, self.logical_id, self.after or self.before or {})

    @property
    def before_properties(self) -> dict:
        return (self.before or {}).get("Properties", {})

    @property
    def after_properties(self) -> dict:
        return (self.after or {}).get("Properties", {})

    @property
    def changed_properties(self) -> list[str]:
        """Top-level properties (and resource attributes) whose value differs."""
        before, after = self.before_properties, self.after_properties
        names = sorted(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
        for attribute in COMPARED_ATTRIBUTES:
            if attribute != "Properties" and _get(self.before, attribute) != _get(
                self.after, attribute
            ):
                names.append(attribute)
        return names


def construct_path(resource: dict) -> str:
    """The construct path of a template entry, e.g. `dev/data/RawData/Bucket` ('' if unknown)."""
    return resource.get("Metadata", {}).get("aws:cdk:path", "").removesuffix("/Resource")


def resource_location(stack: str, logical_id: str, resource: dict) -> str:
    """Construct path (or the stack, without one) and logical id of a template entry."""
    return f"{construct_path(resource) or stack} ({logical_id})"


def _get(resource: dict | None, attribute: str) -> object:
    return (resource or {}).get(attribute)


@dataclass(frozen=True)
class StackDiff:
    """What changes in one stack between two templates (None: the stack does not exist)."""

    display_name: str
    before: dict | None
    after: dict | None
    resources: list[ResourceChange] = field(default_factory=list)
    other_sections: list[str] = field(default_factory=list)

    @property
    def status(self) -> Literal["added", "removed", "modified", "unchanged"]:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "modified" if self.resources or self.other_sections else "unchanged"

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for change in self.resources if change.kind == kind)

    def resource(self, logical_id: str) -> dict:
        """A resource's template entry after the change, or before it when it is removed."""
        return _resources(self.after).get(logical_id) or _resources(self.before).get(logical_id, {})


def _comparable(resource: dict) -> dict:
    return {key: resource.get(key) for key in COMPARED_ATTRIBUTES}


def _resources(template: dict | None) -> dict[str, dict]:
    resources = (template or {}).get("Resources", {})
    return {
        key: value for key, value in resources.items() if value.get("Type") not in IGNORED_TYPES
    }


def compare_templates(display_name: str, before: dict | None, after: dict | None) -> StackDiff:
    """Compare two templates of one stack; either may be None (stack added or removed)."""
    old = _resources(before)
    new = _resources(after)
    changes = []
    for logical_id in sorted(old.keys() | new.keys()):
        if logical_id not in new:
            changes.append(ResourceChange(logical_id, "removed", old[logical_id], None))
        elif logical_id not in old:
            changes.append(ResourceChange(logical_id, "added", None, new[logical_id]))
        elif _comparable(old[logical_id]) != _comparable(new[logical_id]):
            changes.append(ResourceChange(logical_id, "modified", old[logical_id], new[logical_id]))
    sections = [
        name for name in OTHER_SECTIONS if (before or {}).get(name) != (after or {}).get(name)
    ]
    return StackDiff(display_name, before, after, changes, sections)
