"""Where SageMaker jobs and models run: the platform VPC's isolated subnets and workloads group.

The network stack builds one `JobNetwork`; every stack that starts jobs or hosts models
receives that object instead of re-selecting subnets itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2


@dataclass(frozen=True)
class JobNetwork:
    vpc: ec2.IVpc
    subnets: Sequence[ec2.ISubnet]
    security_group: ec2.ISecurityGroup

    @property
    def subnet_ids(self) -> list[str]:
        return [subnet.subnet_id for subnet in self.subnets]
