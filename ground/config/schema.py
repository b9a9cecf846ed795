"""The environment schema: one validated object per `config/<env>.yaml`."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Annotated, Literal

import boto3
from pydantic import AfterValidator, EmailStr, Field, field_validator

from ground.config.base import Section
from ground.config.monitoring import MonitoringConfig
from ground.config.serving import ServingConfig
from ground.config.training import TrainingConfig
from ground.naming import endpoint_name

InterfaceEndpoint = Literal[
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "monitoring",
    "sts",
    "kms",
    "sns",
    "events",
]

DEFAULT_INTERFACE_ENDPOINTS: tuple[InterfaceEndpoint, ...] = (
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "monitoring",
    "sts",
    "kms",
)


@cache
def known_regions() -> frozenset[str]:
    """Regions where SageMaker runs, read from the endpoint table botocore ships (no AWS call)."""
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("sagemaker", partition_name=partition))
    return frozenset(regions)


def _twelve_digits(value: str) -> str:
    if not (len(value) == 12 and value.isdigit()):
        raise ValueError(f"'{value}' is not a 12-digit AWS account id (quote it in YAML)")
    return value


def _sagemaker_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"'{value}' is not a region where SageMaker is available")
    return value


AccountId = Annotated[str, AfterValidator(_twelve_digits)]
Region = Annotated[str, AfterValidator(_sagemaker_region)]


class NetworkConfig(Section):
    cidr: str = Field(description="IPv4 CIDR of the VPC, /16 to /24.")
    max_azs: int = Field(ge=1, le=6, description="How many availability zones the VPC spans.")
    interface_endpoints: list[InterfaceEndpoint] = Field(
        default=list(DEFAULT_INTERFACE_ENDPOINTS),
        description="Interface VPC endpoints to create; S3 always gets a gateway endpoint.",
    )
    flow_log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = 365

    @field_validator("cidr")
    @classmethod
    def _cidr_is_private_block(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"'{value}' is not an IPv4 network in CIDR form ({error})") from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"prefix /{network.prefixlen} is outside /16../24")
        if not network.is_private:
            raise ValueError(f"{value} is not a private address range")
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _no_duplicate_endpoints(cls, value: list[str]) -> list[str]:
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"listed more than once: {', '.join(duplicates)}")
        return value


class DataConfig(Section):
    noncurrent_version_expiration_days: int = Field(default=90, ge=1)
    abort_incomplete_upload_days: int = Field(default=7, ge=1)


class EnvironmentConfig(Section):
    """Everything that differs between dev, staging and prod."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    account: AccountId = Field(description="12-digit AWS account id.")
    region: Region
    removal_policy: Literal["destroy", "retain"] = Field(
        description="What happens to data and keys when the stack is deleted."
    )
    alarm_emails: list[EmailStr] = Field(default_factory=list)
    consumer_accounts: list[AccountId] = Field(
        default_factory=list,
        description="Accounts of the environments promoted to from this one: they may read "
        "its model registry and model artifacts.",
    )
    network: NetworkConfig
    data: DataConfig = DataConfig()
    training: TrainingConfig
    serving: ServingConfig = ServingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()

    @property
    def prefix(self) -> str:
        """Prefix of every physical name in this environment, e.g. `sagestack-dev`."""
        return f"sagestack-{self.name}"

    @property
    def endpoint_name(self) -> str:
        """The real-time endpoint the serving stack deploys (promotion and the demo call it)."""
        instance = self.serving.instance
        return endpoint_name(self.prefix, instance.instance_type if instance else None)

    @property
    def retains_data(self) -> bool:
        return self.removal_policy == "retain"
