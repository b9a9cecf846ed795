"""What the CDK CLI's diff says happens to each resource: replaced, deleted or orphaned.

The CLI knows from the CloudFormation resource specification which property changes replace
a resource, and follows a replacement through the references to it: a VPC with a new CIDR
replaces every subnet, route table and security group whose `VpcId` refers to it, although
their own templates do not change. It prints that impact after the resource's logical id:

    [~] AWS::EC2::SecurityGroup network/EndpointSecurityGroup EndpointSecurityGroupF840B798 replace
"""

from __future__ import annotations

import re
from typing import Literal, cast

Impact = Literal["replace", "may be replaced", "destroy", "orphan"]
# A resource line: mark, type, optional construct path (may hold spaces), logical id, impact.
RESOURCE_LINE = re.compile(
    r"^\[[-+~]\] \S+::\S+ (?:.* )?(?P<logical_id>[A-Za-z0-9]+) "
    r"(?P<impact>may be replaced|replace|destroy|orphan)$"
)


def resource_impacts(cdk_diff: str) -> dict[str, Impact]:
    """Logical id → impact, for every resource the CLI's diff replaces, deletes or orphans."""
    found: dict[str, Impact] = {}
    for line in cdk_diff.splitlines():
        match = RESOURCE_LINE.match(line)
        if match:
            found[match["logical_id"]] = cast(Impact, match["impact"])
    return found
