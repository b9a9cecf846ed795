"""Where promotion's AWS calls go: AWS itself, or the embedded emulator.

In AWS each environment has its own account: the previous environment's registry is read
across accounts (its model package group shares it with `consumer_accounts`), and its
endpoint can only be inspected with credentials of its own account. The emulator has one
account for every environment, so there the ARNs of all environments use that account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sagestack.aws_clients import contract_client
from sagestack.local.emulator import EMULATOR_ACCOUNT, Emulator

CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})


@dataclass(frozen=True)
class AwsTarget:
    """AWS through the default credential chain, or the emulator when one is given."""

    emulator: Emulator | None = None

    @property
    def label(self) -> str:
        return f"the emulator at {self.emulator.url}" if self.emulator else "AWS"

    def client(self, service: str, region: str) -> Any:
        if self.emulator is not None:
            return self.emulator.client(service, region)
        return contract_client(service, region, config=CLIENT_CONFIG)

    def account_of(self, configured_account: str) -> str:
        """The account that holds an environment's resources here."""
        return EMULATOR_ACCOUNT if self.emulator is not None else configured_account

    def caller_account(self, region: str) -> tuple[str | None, str]:
        """The credentials' account, or None and the reason it is unknown."""
        try:
            identity = self.client("sts", region).get_caller_identity()
        except (BotoCoreError, ClientError) as error:
            return None, f"cannot learn which account these credentials belong to ({error})"
        return identity["Account"], ""


def partition_of(region: str) -> str:
    """`aws`, `aws-cn` or `aws-us-gov`, from the endpoint table botocore ships."""
    return boto3.session.Session().get_partition_for_region(region)
