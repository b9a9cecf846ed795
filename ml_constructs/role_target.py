"""An EventBridge target invoked through a given role, with no grants made on its behalf.

The stock targets grant permissions themselves: inline policies on the role, or statements
added to a topic or key policy that another stack owns. Here the caller states every
permission on a PlatformRole, so this target only wires the ARN and the role. It serves a
SageMaker pipeline (started with its default parameters) as well as an SNS topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import interfaces

if TYPE_CHECKING:  # type checkers see the interface as a base; jsii needs a plain class
    _Target = events.IRuleTarget
else:
    _Target = object


@jsii.implements(events.IRuleTarget)
class RoleTarget(_Target):
    def __init__(self, arn: str, role: iam.IRole) -> None:
        self._arn = arn
        self._role = role

    def bind(
        self, _rule: interfaces.aws_events.IRuleRef, _id: str | None = None
    ) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._arn, role=self._role)
