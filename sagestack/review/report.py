"""The review as one markdown document: the risks on top, then what changes per environment.

The first line is a marker, so that the pull-request workflow finds and updates its own
comment instead of adding a new one on every push.
"""

from __future__ import annotations

from collections import Counter

from sagestack.review.engine import Review, StackReview
from sagestack.review.risks import RISK_CATEGORIES, Category, Risk

MARKER = "<!-- sagestack-review -->"
# GitHub rejects comments over 65,536 characters; long diffs are cut to keep the report whole,
# shorter and shorter until the report fits (every stack keeps the start of its diff).
MAX_REPORT_CHARS = 65_536
DIFF_LINE_BUDGETS = (150, 60, 20)
MAX_RESOURCE_LINES = 40
MARK = {"added": "+", "removed": "-", "modified": "~"}
# The table columns naming where a risk is and what it is about, when not resource and type.
COLUMNS = {
    Category.NETWORK_LOST: ("Stack", "Type"),
    Category.ACKNOWLEDGMENT: ("Construct", "Rules"),
}


def checked_classes() -> str:
    """The classes of risk the review looks for, in one line."""
    return "; ".join(category.value for category in RISK_CATEGORIES)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _risk_table(risks: list[Risk]) -> list[str]:
    header, subject = COLUMNS.get(risks[0].category, ("Resource", "Type"))
    lines = [f"| {header} | {subject} | What |", "|---|---|---|"]
    lines += [
        f"| `{_cell(risk.location)}` | {_cell(risk.subject)} | {_cell(risk.detail)} |"
        for risk in risks
    ]
    return lines


def _risks_section(review: Review) -> list[str]:
    lines = ["### Risks a reviewer must see", ""]
    quiet = []
    for category in RISK_CATEGORIES:
        risks = [risk for risk in review.risks if risk.category is category]
        if not risks:
            quiet.append(category.value)
            continue
        lines += [f"#### {category.value} ({len(risks)})", "", *_risk_table(risks), ""]
    if quiet:
        lines += [f"None found: {'; '.join(quiet)}.", ""]
    return lines


def _moved_section(review: Review) -> list[str]:
    """Grants and acknowledgments that follow a renamed resource, counted per holder."""
    moved = Counter(review.moved)
    if not moved:
        return []
    lines = [
        f"### {Category.MOVED.value} ({len(review.moved)})",
        "",
        "Not risks: the same grants and acknowledgments as before, under the new name.",
        "",
    ]
    lines += [
        f"- `{risk.location}`: {count} {risk.subject}(s) {risk.detail}"
        for risk, count in sorted(moved.items(), key=lambda item: item[0].sort_key())
    ]
    return [*lines, ""]


def _resource_lines(stack: StackReview) -> list[str]:
    lines = []
    for change in stack.diff.resources:
        properties = ", ".join(change.changed_properties) if change.kind == "modified" else ""
        suffix = f": {properties}" if properties else ""
        lines.append(
            f"- `{MARK[change.kind]}` `{change.logical_id}` ({change.resource_type}){suffix}"
        )
    if len(lines) > MAX_RESOURCE_LINES:
        hidden = len(lines) - MAX_RESOURCE_LINES
        lines = [*lines[:MAX_RESOURCE_LINES], f"- … and {hidden} more (see the diff below)"]
    if stack.diff.other_sections:
        lines.append(f"- sections changed: {', '.join(stack.diff.other_sections)}")
    return lines


def _cli_block(text: str, max_lines: int, summary: str = "cdk diff") -> list[str]:
    lines = text.splitlines()
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = [
            *lines[:max_lines],
            f"… {hidden} more lines: run `sagestack review` locally for the whole diff",
        ]
    return [f"<details><summary>{summary}</summary>", "", "```", *lines, "```", "", "</details>"]


def _environment_section(review: Review, environment: str, max_lines: int) -> list[str]:
    """The environment's changes, its shared stacks first, then model by model."""
    stacks = review.stacks_of(environment)
    lines = [f"#### {environment}", ""]
    if all(stack.diff.status == "unchanged" for stack in stacks):
        return [*lines, f"No changes in its {_stacks(len(stacks))}.", ""]
    models = sorted({stack.model for stack in stacks if stack.model is not None})
    groups = [("shared stacks", [s for s in stacks if s.model is None])]
    groups += [(f"model `{model}`", [s for s in stacks if s.model == model]) for model in models]
    for title, group in groups:
        if group:
            lines += _group_section(title, group, max_lines)
    return lines


def _stacks(count: int) -> str:
    return f"{count} stack" if count == 1 else f"{count} stacks"


def _group_section(title: str, stacks: list[StackReview], max_lines: int) -> list[str]:
    """One group's stacks: a table and each changed stack's diff, or one line if unchanged."""
    changed = [stack for stack in stacks if stack.diff.status != "unchanged"]
    if not changed:
        return [f"##### {title}: no changes in its {_stacks(len(stacks))}", ""]
    lines = [f"##### {title}", ""]
    lines += ["| Stack | Status | Added | Modified | Removed |", "|---|---|---|---|---|"]
    for stack in stacks:
        diff = stack.diff
        lines.append(
            f"| `{diff.display_name}` | {diff.status} | {diff.count('added')} "
            f"| {diff.count('modified')} | {diff.count('removed')} |"
        )
    lines.append("")
    for stack in changed:
        lines += [f"**`{stack.diff.display_name}`**", "", *_resource_lines(stack), ""]
        lines += [*_cli_block(stack.cdk_diff, max_lines), ""]
    return lines


def render(review: Review, deployed_diff: str | None = None) -> str:
    """The whole report, starting with the sticky-comment marker, within GitHub's limit when
    cutting the diffs can make it fit.

    `deployed_diff`: the CLI's diff of the working tree against the deployed stacks, if any.
    """
    for max_lines in DIFF_LINE_BUDGETS:
        report = _render(review, deployed_diff, max_lines)
        if len(report) < MAX_REPORT_CHARS:
            break
    return report


def _render(review: Review, deployed_diff: str | None, max_lines: int) -> str:
    destructive = review.destructive
    lines = [MARKER, f"## sagestack review: `{review.base_label}` → `{review.head_label}`", ""]
    if destructive:
        lines += [
            f"> **{len(destructive)} destructive change(s)**: stateful or network resources are "
            "replaced or deleted, or stateful resources lose their retention. Merge only if that "
            "is intended, and confirm it with `sagestack review --allow-destructive`.",
            "",
        ]
    else:
        lines += [
            "Nothing destructive: no stateful or network resource is replaced or deleted, and "
            "no retention is weakened.",
            "",
        ]
    lines += [
        f"Checked for: {checked_classes()}. Any other change shows only in the diffs below.",
        "",
    ]
    lines += _risks_section(review)
    lines += _moved_section(review)
    lines += ["### Changes per environment and model", ""]
    for environment in review.environments:
        lines += _environment_section(review, environment, max_lines)
    if deployed_diff is not None:
        lines += ["### Against the deployed stacks", ""]
        lines += _cli_block(deployed_diff, max_lines, "cdk diff against what is deployed now")
    return "\n".join(lines).rstrip() + "\n"
