"""Review two synthesized assemblies: every stack of every environment, diffed and classified."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ground.naming import model_of_stack_id
from sagestack.assembly import CloudAssembly, StackTemplate, environment_of
from sagestack.cdk_cli import diff_template
from sagestack.review.cli_diff import resource_impacts
from sagestack.review.compare import StackDiff, compare_templates
from sagestack.review.renames import find_renames
from sagestack.review.risks import (
    RISK_CATEGORIES,
    Category,
    Context,
    Risk,
    acknowledgment_risks,
    stack_risks,
)

# The committed platform's order (config/platform.yaml); other environments sort after it.
PROMOTION_ORDER = ("dev", "staging", "prod")


@dataclass(frozen=True)
class StackReview:
    """One stack's structured diff, the CDK CLI's rendering of it, and its risks."""

    diff: StackDiff
    cdk_diff: str
    risks: list[Risk]

    @property
    def environment(self) -> str:
        return environment_of(self.diff.display_name)

    @property
    def model(self) -> str | None:
        """The model whose stack this is; None for the environment's shared stacks."""
        return model_of_stack_id(self.diff.display_name.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Review:
    """What a change does to every stack, and the risks a reviewer must see first."""

    base_label: str
    head_label: str
    stacks: list[StackReview]
    acknowledgments: list[Risk]

    @property
    def findings(self) -> list[Risk]:
        found = [risk for stack in self.stacks for risk in stack.risks] + self.acknowledgments
        return sorted(found, key=Risk.sort_key)

    @property
    def risks(self) -> list[Risk]:
        return [risk for risk in self.findings if risk.category in RISK_CATEGORIES]

    @property
    def moved(self) -> list[Risk]:
        """Grants and acknowledgments that followed a renamed resource: not risks."""
        return [risk for risk in self.findings if risk.category is Category.MOVED]

    @property
    def destructive(self) -> list[Risk]:
        return [risk for risk in self.risks if risk.category.destructive]

    @property
    def environments(self) -> list[str]:
        names = {stack.environment for stack in self.stacks}
        return sorted(names, key=environment_sort_key)

    def stacks_of(self, environment: str) -> list[StackReview]:
        return [stack for stack in self.stacks if stack.environment == environment]


def environment_sort_key(name: str) -> tuple[int, str]:
    """dev, staging, prod first, in promotion order; then the others by name."""
    order = list(PROMOTION_ORDER)
    return (order.index(name) if name in order else len(order), name)


def _cli_diff(diff: StackDiff, head: CloudAssembly, base: StackTemplate | None) -> str:
    """The CDK CLI's diff of a changed stack; a removed stack is not in `head` to diff."""
    if diff.status == "unchanged":
        return ""
    if diff.status == "removed":
        return f"Stack {diff.display_name} is removed: CloudFormation deletes all its resources."
    if base is not None:
        return diff_template(head.directory, diff.display_name, base.template_path)
    with tempfile.TemporaryDirectory(prefix="sagestack-review-") as scratch:
        empty = Path(scratch) / "empty.template.json"
        empty.write_text(json.dumps({}), encoding="utf-8")
        return diff_template(head.directory, diff.display_name, empty)


def _compared(name: str, base: CloudAssembly, head: CloudAssembly) -> tuple[StackDiff, str]:
    """One stack's structured diff and the CLI's diff of it."""
    old, new = base.stacks.get(name), head.stacks.get(name)
    diff = compare_templates(name, old.template() if old else None, new.template() if new else None)
    return diff, _cli_diff(diff, head, old)


def review_assemblies(
    base: CloudAssembly, head: CloudAssembly, base_label: str, head_label: str
) -> Review:
    """Compare every stack present in either assembly; run `cdk diff` on the changed ones.

    Renames are found across all stacks first: a bucket renamed in one stack moves grants in
    another.
    """
    names = sorted(base.stacks.keys() | head.stacks.keys())
    compared = [_compared(name, base, head) for name in names]
    renames = find_renames([diff for diff, _ in compared])
    stacks = [
        StackReview(diff, cli, stack_risks(diff, Context(resource_impacts(cli), renames)))
        for diff, cli in compared
    ]
    stacks.sort(
        key=lambda stack: (environment_sort_key(stack.environment), stack.diff.display_name)
    )
    acknowledgments = acknowledgment_risks(base.acknowledgments(), head.acknowledgments(), renames)
    return Review(base_label, head_label, stacks, acknowledgments)
