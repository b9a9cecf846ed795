"""What a contract check reports: one line per problem, naming where, what, why and the value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_VALUE_TEXT = 80


def short(value: object) -> str:
    """A value as a message shows it: repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_TEXT else text[: MAX_VALUE_TEXT - 3] + "..."


@dataclass(frozen=True)
class Finding:
    """One violation: `where` (a step or a resource), the operation or limit, the member path
    inside the request, the rule broken and, when there is one, the offending value."""

    where: str
    operation: str
    path: str
    rule: str
    value: object = field(default=None)
    has_value: bool = field(default=False)

    def __str__(self) -> str:
        location = f"{self.operation} {self.path}" if self.path else self.operation
        got = f" (got {short(self.value)})" if self.has_value else ""
        return f"{self.where}: {location}: {self.rule}{got}"


def finding(where: str, operation: str, path: str, rule: str, *value: object) -> Finding:
    """A Finding; pass the offending value as the last argument when there is one."""
    return Finding(where, operation, path, rule, value[0] if value else None, bool(value))


class ContractError(ValueError):
    """A request or definition that AWS would refuse; the message lists every finding."""

    def __init__(self, subject: str, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        lines = "\n  ".join(str(item) for item in self.findings)
        super().__init__(f"{subject}: AWS would refuse it:\n  {lines}")
