"""IAM policy documents as sets of single grants, so that widening is a set difference.

A statement allowing actions A1, A2 on resources R1, R2 is four grants (A, R) with the same
effect, principals and conditions. A grant present after a change but not before widens
access; a Deny grant present before but not after widens it too. A changed condition makes
a new grant: it may narrow or widen access, and either way a reviewer should read it. A new
grant that equals an old one once a renamed resource's new name is read as its old name
moved with that resource: it widens nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import product

from sagestack.review.assets import without_asset_hashes

# Properties that attach whole managed policies by ARN (each one adds what it allows).
MANAGED_POLICY_PROPERTIES = ("ManagedPolicyArns",)


def _text(value: object) -> str:
    """A stable rendering of a literal or a CloudFormation intrinsic such as {"Ref": ...}."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True, order=True)
class Grant:
    """One effect for one principal, action and resource, under one set of conditions."""

    effect: str
    principal: str
    action: str
    resource: str
    condition: str
    where: str

    def restored(self, restore: Callable[[str], str]) -> Grant:
        """The grant with `restore` applied to what it names (principal, action, resource,
        condition)."""
        return replace(
            self,
            principal=restore(self.principal),
            action=restore(self.action),
            resource=restore(self.resource),
            condition=restore(self.condition),
        )

    def describe(self) -> str:
        text = f"{self.effect} {self.action} on {self.resource}"
        if self.principal != "(the policy's holder)":
            text += f" to {self.principal}"
        if self.condition:
            text += f" when {self.condition}"
        return text


def _principals(statement: dict) -> list[str]:
    for key in ("Principal", "NotPrincipal"):
        if key not in statement:
            continue
        value = statement[key]
        prefix = "NOT " if key == "NotPrincipal" else ""
        if not isinstance(value, dict) or set(value) == {"Fn::If"}:
            return [prefix + _text(value)]
        return [
            f"{prefix}{kind}:{_text(item)}"
            for kind, items in sorted(value.items())
            for item in _as_list(items)
        ]
    return ["(the policy's holder)"]


def _items(statement: dict, key: str) -> list[str]:
    if key in statement:
        return [_text(item) for item in _as_list(statement[key])]
    negated = f"Not{key}"
    if negated in statement:
        return [f"anything but {_text(statement[negated])}"]
    return ["(unspecified)"]


def statement_grants(statement: dict, where: str) -> Iterator[Grant]:
    """The single grants of one policy statement."""
    condition = _text(statement["Condition"]) if statement.get("Condition") else ""
    for principal, action, resource in product(
        _principals(statement), _items(statement, "Action"), _items(statement, "Resource")
    ):
        yield Grant(statement.get("Effect", "Allow"), principal, action, resource, condition, where)


def _policy_documents(value: object, path: str) -> Iterator[tuple[str, dict]]:
    """Every policy document (a mapping with `Statement`) nested anywhere in `value`."""
    if isinstance(value, dict):
        if "Statement" in value:
            yield path, value
            return
        for key, item in value.items():
            yield from _policy_documents(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _policy_documents(item, path)


def resource_grants(properties: dict) -> set[Grant]:
    """All grants in a resource's properties: inline, managed, key, bucket or trust policies.

    Asset hashes are masked: a grant on the new version of an asset replaces the same grant
    on the old one, and widens nothing.
    """
    properties = without_asset_hashes(properties)
    grants: set[Grant] = set()
    for where, document in _policy_documents(properties, ""):
        for statement in _as_list(document.get("Statement")):
            grants.update(statement_grants(statement, where))
    for name in MANAGED_POLICY_PROPERTIES:
        for arn in _as_list(properties.get(name)):
            grants.add(Grant("Allow", "(the role)", f"managed policy {_text(arn)}", "*", "", name))
    return grants


@dataclass(frozen=True)
class GrantChanges:
    """What a change does to one resource's grants."""

    widened: list[Grant]  # Allows present only after, Denies present only before
    moved: list[Grant]  # new grants that are old ones under a renamed resource's new name


def grant_changes(before: dict, after: dict, restore: Callable[[str], str]) -> GrantChanges:
    """Compare one resource's grants; `restore` turns renamed resources' new names back."""
    old, new = resource_grants(before), resource_grants(after)
    restored = {grant: grant.restored(restore) for grant in new - old}
    moved = {grant for grant, previous in restored.items() if previous in old}
    added_allows = {grant for grant in new - old - moved if grant.effect == "Allow"}
    removed_denies = {
        grant for grant in old - new if grant.effect == "Deny" and grant not in restored.values()
    }
    return GrantChanges(sorted(added_allows | removed_denies), sorted(moved))
