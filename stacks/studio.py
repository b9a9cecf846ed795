"""The environment's Studio stack: the domain, a default role, and one profile and execution
role per configured user, scoped to the models its team owns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ground.config import EnvironmentConfig, ModelDeployment
from ground.config.studio import DEFAULT_ROLE, granted_models
from ground.layout import MODELS_PREFIX, PIPELINE_PREFIX, raw_data_prefix
from ground.naming import endpoint_name_parameter
from ml_constructs.iam_grants import ObjectAccess, explicit_bucket_name
from ml_constructs.platform_role import PlatformRole
from ml_constructs.studio_domain import StudioDomain
from ml_constructs.studio_roles import (
    ModelGrant,
    StudioScope,
    allow_studio,
    grant_models,
    studio_role,
)
from stacks.data import DataStack
from stacks.network import NetworkStack
from stacks.training import TrainingStack

PERSONA_DESCRIPTIONS = {
    "data-scientist": "explores, trains and invokes its team's models",
    "ml-engineer": "also approves its team's packages and reads their alarms",
}


class StudioStack(Stack):
    """`.domain` (StudioDomain) and `.roles` (profile name -> PlatformRole)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        deployments: Sequence[ModelDeployment],
        training: Mapping[str, TrainingStack],
        data: DataStack,
        network: NetworkStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        studio = config.studio
        prefix = f"{config.prefix}-studio"
        key_arn = data.data_key.key_arn
        self.default_role = studio_role(
            self,
            "DefaultRole",
            role_name=f"{prefix}-{DEFAULT_ROLE}",
            description="Studio users without a profile of their own: the domain only, no data",
        )
        self.domain = StudioDomain(
            self,
            "Studio",
            domain_name=prefix,
            studio=studio,
            network=network.job_network,
            key_arn=key_arn,
            default_role_arn=self.default_role.role_arn,
            retain=config.retains_data,
        )
        domain_scope = StudioScope(
            domain_id=self.domain.domain_id,
            apps=tuple(studio.apps),
            instance_types=tuple(studio.allowed_instance_types),
            key_arn=key_arn,
        )
        allow_studio(self.default_role, domain_scope)
        self.roles: dict[str, PlatformRole] = {}
        for profile in studio.user_profiles:
            role = studio_role(
                self,
                f"Role-{profile.name}",
                role_name=f"{prefix}-{profile.name}",
                description=f"Studio {profile.persona} {profile.name} ({profile.team}): "
                + PERSONA_DESCRIPTIONS[profile.persona],
            )
            allow_studio(role, domain_scope)
            models = [
                _grant(d, training[d.name], data) for d in granted_models(profile, deployments)
            ]
            grant_models(role, models, key_arn, approve=profile.persona == "ml-engineer")
            self.domain.add_profile(profile, role.role_arn)
            self.roles[profile.name] = role
        self.add_stack_dependency(data, "the roles name the data stack's buckets")


def _grant(deployment: ModelDeployment, training: TrainingStack, data: DataStack) -> ModelGrant:
    """What a persona may reach of one model: its raw data, its pipelines' artifacts, its
    pipelines, registry group, endpoint and alarms."""
    raw = explicit_bucket_name(data.raw_bucket)
    artifacts = explicit_bucket_name(data.artifacts_bucket)
    return ModelGrant(
        objects=(
            ObjectAccess(raw, raw_data_prefix(deployment.name)),
            *(
                ObjectAccess(artifacts, f"{MODELS_PREFIX}{name}/")
                for name in training.pipeline_names
            ),
            *(
                ObjectAccess(artifacts, f"{PIPELINE_PREFIX}{name}/")
                for name in training.pipeline_names
            ),
        ),
        pipelines=tuple(training.pipeline_names),
        registry_group=training.model_package_group_name,
        endpoint=deployment.endpoint_name,
        endpoint_parameter=endpoint_name_parameter(deployment.prefix),
        alarm_prefix=f"{deployment.prefix}-endpoint-",
    )
