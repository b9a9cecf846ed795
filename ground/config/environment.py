"""An environment: `config/<env>.yaml`. Its account, region, network and data settings, and the
defaults every model it hosts starts from (training, serving, monitoring).

Production environments (`production: true`) obey four rules that protect what runs there:
they retain data and keys, span at least two availability zones, deploy endpoints with
guardrails, and keep at least two instances per endpoint. Each rule can be waived only by a
named exception with a reason a reviewer can read (`production_exceptions`).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from ground.config.base import Section
from ground.config.monitoring import MonitoringConfig
from ground.config.serving import ServingConfig
from ground.config.studio import StudioConfig
from ground.config.training import TrainingConfig
from ground.config.values import AccountId, Region, kms_arn_region
from ground.layout import bucket_name_problems

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


MIN_PRODUCTION_AZS = 2
MIN_PRODUCTION_INSTANCES = 2


class ProductionExceptions(Section):
    """Named, explicit waivers of the production rules, each with its reason."""

    destroy_data: str | None = Field(
        default=None, min_length=20, description="Why this environment may delete its data."
    )
    single_az: str | None = Field(
        default=None, min_length=20, description="Why one availability zone is enough."
    )
    no_guardrails: str | None = Field(
        default=None, min_length=20, description="Why endpoints may deploy without guardrails."
    )
    single_instance: str | None = Field(
        default=None, min_length=20, description="Why endpoints may run on one instance."
    )


class EnvironmentConfig(Section):
    """Everything that differs between dev, staging and prod, and what their models start from."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    account: AccountId = Field(description="12-digit AWS account id.")
    region: Region
    production: bool = Field(
        default=False, description="Production rules apply (see production_exceptions)."
    )
    production_exceptions: ProductionExceptions = ProductionExceptions()
    removal_policy: Literal["destroy", "retain"] = Field(
        description="What happens to data and keys when the stack is deleted."
    )
    alarm_emails: list[EmailStr] = Field(default_factory=list)
    consumer_accounts: list[AccountId] = Field(
        default_factory=list,
        description="Accounts of the environments promoted to from this one: they may read "
        "its model registries and model artifacts.",
    )
    network: NetworkConfig
    data: DataConfig = DataConfig()
    training: TrainingConfig = Field(
        default=TrainingConfig(), description="Defaults of every model's training here."
    )
    serving: ServingConfig = Field(
        default=ServingConfig(), description="Defaults of every model's endpoint here."
    )
    monitoring: MonitoringConfig = Field(
        default=MonitoringConfig(), description="Defaults of every model's monitoring here."
    )
    studio: StudioConfig = Field(
        default=StudioConfig(), description="The SageMaker Studio domain and its users."
    )

    @model_validator(mode="after")
    def _production_rules(self) -> EnvironmentConfig:
        if self.serving.model is not None:
            raise ValueError(
                "serving.model: pins belong to each model (config/models/<name>.yaml, "
                "environments.<env>.serving.model), not to the environment"
            )
        assets_key = self.training.assets_key_arn
        if assets_key and kms_arn_region(assets_key) != self.region:
            raise ValueError(
                f"training.assets_key_arn is a key of region {kms_arn_region(assets_key)}, "
                f"the environment is in {self.region}; give the bootstrap key of this region"
            )
        too_long = bucket_name_problems(self.prefix, self.account, self.region)
        if too_long:
            raise ValueError(
                f"name: {'; '.join(too_long)} in {self.region}; shorten the environment's name"
            )
        if not self.production:
            return self
        waived = self.production_exceptions
        if self.removal_policy != "retain" and not waived.destroy_data:
            raise ValueError(
                "a production environment retains its data and keys: set removal_policy: "
                "retain, or explain in production_exceptions.destroy_data"
            )
        if self.network.max_azs < MIN_PRODUCTION_AZS and not waived.single_az:
            raise ValueError(
                f"a production environment spans at least {MIN_PRODUCTION_AZS} availability "
                "zones: raise network.max_azs, or explain in production_exceptions.single_az"
            )
        return self

    @property
    def prefix(self) -> str:
        """Prefix of every physical name in this environment, e.g. `sagestack-dev`."""
        return f"sagestack-{self.name}"

    @property
    def retains_data(self) -> bool:
        return self.removal_policy == "retain"
