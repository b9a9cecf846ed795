"""Resources replaced under a new name or logical id, so that what refers to them can follow.

Renaming a bucket replaces it, and every grant and acknowledgment that names the bucket
follows it to the new name. Those are the same permissions on the same resource, not new
ones: read with each renamed resource's new name turned back into its old one, they are
equal to grants that were there before. Two kinds of rename are recognized:

- a resource's own name property, which CloudFormation calls after the resource type
  (`BucketName` of `AWS::S3::Bucket`, `RoleName`, `TableName`...), changed from one literal
  to another. Names appear in ARNs, in any stack;
- a resource removed, and one with the same type and properties added under another logical
  id in the same stack (a construct renamed or moved). Logical ids, and the construct path
  that changed with them, mean something in their own stack only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from sagestack.review.compare import ResourceChange, StackDiff, construct_path


@dataclass(frozen=True)
class Rename:
    """`old` became `new` (a name, logical id or construct path) when `resource` moved."""

    old: str
    new: str
    resource: str
    stack: str | None = None  # None: the name means the same in every stack

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """`new` as a whole token: not inside a longer name or id."""
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(self.new)}(?![A-Za-z0-9])")

    def undo(self, text: str) -> str:
        """`text` with `new` turned back into `old`."""
        return self.pattern.sub(lambda _match: self.old, text)

    def reaches(self, where: str) -> bool:
        """Whether the rename means something at `where`, a stack or a construct path in one."""
        return self.stack is None or where == self.stack or where.startswith(f"{self.stack}/")


@dataclass(frozen=True)
class Renames:
    """Every rename of a change; reads texts as they would have been before it."""

    items: tuple[Rename, ...]

    def involved(self, text: str, where: str) -> list[Rename]:
        """The renames whose new name `text`, found at `where`, mentions."""
        return [item for item in self.items if item.reaches(where) and item.pattern.search(text)]

    def restore(self, text: str, where: str) -> str:
        """`text` with every renamed resource's new name turned back into its old one."""
        for item in self.involved(text, where):
            text = item.undo(text)
        return text

    def twin(self, stack: str, logical_id: str) -> Rename | None:
        """The rename that gave a resource of `stack` its logical id, if any."""
        return next(
            (item for item in self.items if item.stack == stack and item.new == logical_id),
            None,
        )


def _own_name(stack: str, change: ResourceChange) -> Rename | None:
    """The change of a resource's own name property, when both names are literals."""
    name = f"{change.resource_type.rsplit('::', 1)[-1]}Name"
    old, new = change.before_properties.get(name), change.after_properties.get(name)
    if change.kind != "modified" or not isinstance(old, str) or not isinstance(new, str):
        return None
    return Rename(old, new, change.location(stack)) if old != new else None


def _definition(resource: dict | None) -> str:
    """Type and properties of a template entry, as comparable text."""
    return json.dumps({key: (resource or {}).get(key) for key in ("Type", "Properties")})


def _twins(
    removed: list[ResourceChange], added: list[ResourceChange], known: Renames, stack: str
) -> list[tuple[ResourceChange, ResourceChange]]:
    """(removed, added) pairs whose definitions are equal once `known` renames are undone."""
    by_definition = {known.restore(_definition(change.after), stack): change for change in added}
    pairs = []
    for change in removed:
        twin = by_definition.pop(_definition(change.before), None)
        if twin is not None:
            pairs.append((change, twin))
    return pairs


def _moved(stack: str, removed: ResourceChange, added: ResourceChange) -> Iterator[Rename]:
    """A resource under a new logical id: that id, and the construct path if it changed."""
    location = removed.location(stack)
    yield Rename(removed.logical_id, added.logical_id, location, stack)
    old_path, new_path = construct_path(removed.before or {}), construct_path(added.after or {})
    if old_path and new_path and old_path != new_path:
        yield Rename(old_path, new_path, location, stack)


def _new_ids(diff: StackDiff, names: Renames) -> list[Rename]:
    """Logical id renames in one stack. A resource that refers to a renamed one by its logical
    id (a bucket's policy) pairs only once that rename is known, hence the repeated passes."""
    stack = diff.display_name
    removed = [change for change in diff.resources if change.kind == "removed"]
    added = [change for change in diff.resources if change.kind == "added"]
    found: list[Rename] = []
    while pairs := _twins(removed, added, Renames((*names.items, *found)), stack):
        for old, new in pairs:
            removed.remove(old)
            added.remove(new)
            found += _moved(stack, old, new)
    return found


def find_renames(diffs: Sequence[StackDiff]) -> Renames:
    """Every rename in the stacks' diffs."""
    names = tuple(
        rename
        for diff in diffs
        for change in diff.resources
        if (rename := _own_name(diff.display_name, change)) is not None
    )
    ids = [rename for diff in diffs for rename in _new_ids(diff, Renames(names))]
    return Renames((*names, *ids))
